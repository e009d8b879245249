"""GA's report semantics on the stand-in, through Google's client over gRPC.

Paging, filters, totals, dates in each property's time zone, grouping by value,
keepEmptyRows, currencies, events, what is refused, and what a big property
does: (other), sampling per date range, thresholding, a long history.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pytest
from google.analytics.data_v1beta import types as ga
from google.api_core import exceptions as gexc

from gadash.standin.traffic import EV, local_now
from tests.conftest import BLOG, SHOP, free_port
from tests.processes import popen, stop_group

NEWS = "properties/100000003"
LONG = ("2019-01-01", "2026-06-30")  # 2,738 days


def run(client, prop: str = BLOG, **kwargs) -> ga.RunReportResponse:
    return client.run_report(ga.RunReportRequest(property=prop, **kwargs))


def rows_of(response) -> list[tuple[list[str], list[float]]]:
    return [([d.value for d in r.dimension_values], [float(m.value) for m in r.metric_values])
            for r in response.rows]


def by_first_dim(response, metric: int = 0) -> dict[str, float]:
    return {dims[0]: mets[metric] for dims, mets in rows_of(response)}


def rng(start: str, end: str, name: str = "") -> dict[str, str]:
    return {"start_date": start, "end_date": end, "name": name}


def traffic(standin, prop: str):
    p = standin.servicer.properties[prop]
    return p.store.get(local_now(p.time_zone).date())


# ---------------------------------------------------------------- paging and history

def test_long_history_pages_join_to_row_count(ga_client):
    request = dict(dimensions=[{"name": "date"}], metrics=[{"name": "sessions"}],
                   date_ranges=[rng(*LONG)],
                   order_bys=[{"dimension": {"dimension_name": "date"}}])
    pages = [run(ga_client, NEWS, limit=1000, offset=offset, **request)
             for offset in (0, 1000, 2000)]
    assert [p.row_count for p in pages] == [2_738] * 3
    assert [len(p.rows) for p in pages] == [1000, 1000, 738]
    # Each page starts at its offset: the day after the previous page's last day.
    dates = [date.fromisoformat(dims[0][:4] + "-" + dims[0][4:6] + "-" + dims[0][6:])
             for p in pages for dims, _ in rows_of(p)]
    assert dates[0] == date(2019, 1, 1) and dates[1000] == date(2019, 1, 1) + timedelta(1000)
    assert dates == [date(2019, 1, 1) + timedelta(i) for i in range(2_738)]
    whole = run(ga_client, NEWS, limit=10_000, **request)
    assert [dims for dims, _ in rows_of(whole)] == [
        dims for p in pages for dims, _ in rows_of(p)]


def test_offset_past_the_end_answers_no_rows_but_the_count(ga_client, past_days):
    response = run(ga_client, dimensions=[{"name": "pagePath"}], metrics=[{"name": "sessions"}],
                   date_ranges=[rng("28daysAgo", "yesterday")], offset=5_000)
    assert len(response.rows) == 0 and response.row_count > 20


# ---------------------------------------------------------------- filters and totals

def test_in_list_filter_returns_only_the_listed_values(ga_client):
    everything = by_first_dim(run(
        ga_client, dimensions=[{"name": "country"}], metrics=[{"name": "sessions"}],
        date_ranges=[rng("28daysAgo", "yesterday")]))
    listed = run(ga_client, dimensions=[{"name": "country"}], metrics=[{"name": "sessions"}],
                 date_ranges=[rng("28daysAgo", "yesterday")],
                 dimension_filter={"filter": {"field_name": "country", "in_list_filter": {
                     "values": ["Germany", "France", "Atlantis"]}}})
    got = by_first_dim(listed)
    assert set(got) == {"Germany", "France"}
    assert got == {k: everything[k] for k in ("Germany", "France")}


@pytest.mark.parametrize("prop", [BLOG, SHOP])
def test_totals_equal_the_sum_of_rows_for_additive_metrics(ga_client, prop):
    metrics = ["sessions", "screenPageViews", "eventCount", "keyEvents", "transactions",
               "purchaseRevenue", "userEngagementDuration"]
    response = run(ga_client, prop, dimensions=[{"name": "date"}, {"name": "deviceCategory"}],
                   metrics=[{"name": m} for m in metrics],
                   date_ranges=[rng("30daysAgo", "yesterday")], metric_aggregations=["TOTAL"])
    sums = np.sum([mets for _, mets in rows_of(response)], axis=0)
    total = [float(m.value) for m in response.totals[0].metric_values]
    assert len(response.rows) >= 60
    assert total == pytest.approx(list(sums), rel=1e-9, abs=0.02)
    assert total[0] > 0 and total[3] > 0  # sessions, key events
    assert (total[4] > 0) == (prop == SHOP)  # only the shop sells


def test_events_count_what_happened(ga_client, standin, past_days):
    response = run(ga_client, dimensions=[{"name": "eventName"}],
                   metrics=[{"name": "eventCount"}, {"name": "sessions"}],
                   date_ranges=[rng("14daysAgo", "yesterday")], metric_aggregations=["TOTAL"])
    events = by_first_dim(response)
    overall = run(ga_client, metrics=[{"name": "sessions"}, {"name": "screenPageViews"},
                                      {"name": "newUsers"}, {"name": "keyEvents"},
                                      {"name": "sessionKeyEventRate"}],
                  date_ranges=[rng("14daysAgo", "yesterday")])
    sessions, views, new_users, key_events, key_rate = rows_of(overall)[0][1]
    assert events["page_view"] == views
    assert events["session_start"] == sessions
    assert events["first_visit"] == new_users
    assert events["sign_up"] == key_events > 0
    assert {"scroll", "user_engagement"} <= set(events)
    assert float(response.totals[0].metric_values[0].value) == sum(events.values())
    # The key event rate is the share of sessions with a sign-up, from the raw sessions.
    t = traffic(standin, BLOG)
    days = (t.s_day >= past_days(14).toordinal()) & (t.s_day <= past_days(1).toordinal())
    assert key_rate == pytest.approx((t.s_key[days] > 0).mean())
    assert 0.01 < key_rate < 0.1


def test_metric_filter_on_a_metric_not_requested(ga_client):
    both = run(ga_client, dimensions=[{"name": "date"}],
               metrics=[{"name": "screenPageViews"}, {"name": "sessions"}],
               date_ranges=[rng("60daysAgo", "yesterday")])
    sessions = {dims[0]: mets[1] for dims, mets in rows_of(both)}
    cut = float(np.median(list(sessions.values())))
    response = run(ga_client, dimensions=[{"name": "date"}],
                   metrics=[{"name": "screenPageViews"}],
                   date_ranges=[rng("60daysAgo", "yesterday")],
                   metric_filter={"filter": {"field_name": "sessions", "numeric_filter": {
                       "operation": "GREATER_THAN", "value": {"double_value": cut}}}})
    assert [h.name for h in response.metric_headers] == ["screenPageViews"]
    assert all(len(r.metric_values) == 1 for r in response.rows)
    assert set(by_first_dim(response)) == {d for d, s in sessions.items() if s > cut}
    assert 10 < len(response.rows) < 50


# ---------------------------------------------------------------- dates

def _dates_answered(client, prop: str, zone: str) -> tuple[date, set[tuple[str, str]], str]:
    for _ in range(3):  # a retry if local midnight passes during the call
        today = local_now(zone).date()
        response = run(client, prop, dimensions=[{"name": "date"}],
                       metrics=[{"name": "sessions"}],
                       date_ranges=[rng("3daysAgo", "yesterday", "past"),
                                    rng("today", "today", "today")],
                       keep_empty_rows=True)
        if local_now(zone).date() == today:
            break
    got = {(dims[1], dims[0]) for dims, _ in rows_of(response)}
    return today, got, response.metadata.time_zone


def test_named_and_relative_dates_resolve_in_the_property_time_zone():
    from gadash.standin.server import StandinServer, demo_properties

    # At any moment one of these two zones is on another date than UTC.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        props = demo_properties(sessions_per_day=200, days=20, seed=3, time_zone=zone)
        with StandinServer(props) as server:
            import grpc
            from google.analytics.data_v1beta import BetaAnalyticsDataClient
            from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
                BetaAnalyticsDataGrpcTransport,
            )

            channel = grpc.insecure_channel(server.endpoint)
            client = BetaAnalyticsDataClient(
                transport=BetaAnalyticsDataGrpcTransport(channel=channel))
            try:
                for prop, prop_zone in ((BLOG, zone), (SHOP, "Europe/Berlin")):
                    today, got, answered_zone = _dates_answered(client, prop, prop_zone)
                    assert answered_zone == prop_zone
                    past = {("past", (today - timedelta(n)).strftime("%Y%m%d"))
                            for n in (1, 2, 3)}
                    assert {g for g in got if g[0] == "past"} == past
                    assert {g for g in got if g[0] == "today"} <= {
                        ("today", today.strftime("%Y%m%d"))}
            finally:
                channel.close()


def test_time_dimensions_use_ga_formats(ga_client):
    names = ["date", "yearMonth", "isoYearIsoWeek", "yearWeek", "week", "isoWeek", "month",
             "year", "day", "dayOfWeek", "dayOfWeekName"]
    response = run(ga_client, NEWS, dimensions=[{"name": n} for n in names[:9]],
                   metrics=[{"name": "sessions"}],
                   date_ranges=[rng("2020-12-26", "2021-01-04")])
    got = {dims[0]: dict(zip(names, dims, strict=False)) for dims, _ in rows_of(response)}
    assert len(got) == 10
    # Sunday 3 January 2021: ISO week 53 of 2020; Sunday-based week 02 of 2021.
    assert got["20210103"] == {
        "date": "20210103", "yearMonth": "202101", "isoYearIsoWeek": "202053",
        "yearWeek": "202102", "week": "02", "isoWeek": "53", "month": "01", "year": "2021",
        "day": "03"}
    assert got["20201231"]["yearWeek"] == "202053" and got["20210101"]["week"] == "01"
    assert got["20210104"]["isoYearIsoWeek"] == "202101"
    days = run(ga_client, NEWS, dimensions=[{"name": "dayOfWeek"}, {"name": "dayOfWeekName"},
                                            {"name": "hour"}],
               metrics=[{"name": "sessions"}], date_ranges=[rng("2021-01-03", "2021-01-03")])
    assert {(d[0], d[1]) for d, _ in rows_of(days)} == {("0", "Sunday")}
    assert {d[2] for d, _ in rows_of(days)} <= {f"{h:02d}" for h in range(24)}
    assert len({d[2] for d, _ in rows_of(days)}) > 12


# ---------------------------------------------------------------- grouping, empty rows

def test_rows_are_grouped_by_the_value_answered(ga_client):
    kw = dict(metrics=[{"name": "sessions"}], date_ranges=[rng("28daysAgo", "yesterday")],
              metric_aggregations=["TOTAL"])
    total = None
    for name in ("sessionSource", "sessionMedium", "sessionDefaultChannelGroup", "city"):
        response = run(ga_client, dimensions=[{"name": name}], **kw)
        labels = [dims[0] for dims, _ in rows_of(response)]
        assert len(labels) == len(set(labels)) == response.row_count, name
        assert sum(by_first_dim(response).values()) == float(
            response.totals[0].metric_values[0].value)
        total = total or float(response.totals[0].metric_values[0].value)
        assert float(response.totals[0].metric_values[0].value) == total
    mediums = by_first_dim(run(ga_client, dimensions=[{"name": "sessionMedium"}], **kw))
    assert set(mediums) == {"organic", "(none)", "referral", "email", "cpc", "(not set)"}
    pairs = by_first_dim(run(ga_client, dimensions=[{"name": "sessionSourceMedium"}], **kw))
    sources = by_first_dim(run(ga_client, dimensions=[{"name": "sessionSource"}], **kw))
    assert sources["google"] == pairs["google / organic"] + pairs["google / cpc"]


def test_keep_empty_rows_returns_rows_whose_metrics_are_zero(ga_client):
    kw = dict(dimensions=[{"name": "country"}], metrics=[{"name": "transactions"}],
              date_ranges=[rng("7daysAgo", "yesterday")])
    default = by_first_dim(run(ga_client, SHOP, **kw))
    kept = by_first_dim(run(ga_client, SHOP, keep_empty_rows=True, **kw))
    assert default and all(v > 0 for v in default.values())
    assert {k: v for k, v in kept.items() if v > 0} == default
    assert len(kept) > len(default) and 0 in kept.values()
    # A filter still removes rows, kept or not.
    filtered = run(ga_client, SHOP, keep_empty_rows=True, dimension_filter={"filter": {
        "field_name": "country", "string_filter": {"value": "Nigeria"}}}, **kw)
    assert set(by_first_dim(filtered)) <= {"Nigeria"}
    # The blog sells nothing: no rows at all unless asked for.
    assert run(ga_client, BLOG, **kw).row_count == 0
    assert run(ga_client, BLOG, keep_empty_rows=True, **kw).row_count > 10


# ---------------------------------------------------------------- money

def test_revenue_in_the_property_currency_or_the_one_asked_for(ga_client):
    kw = dict(metrics=[{"name": "purchaseRevenue"}, {"name": "transactions"},
                       {"name": "averagePurchaseRevenue"}],
              date_ranges=[rng("28daysAgo", "yesterday")])
    eur = run(ga_client, SHOP, **kw)
    assert eur.metadata.currency_code == "EUR"
    assert [h.type_ for h in eur.metric_headers][0] == ga.MetricType.TYPE_CURRENCY
    revenue, orders, average = rows_of(eur)[0][1]
    assert orders > 10 and 30 < average < 150  # plausible order values
    assert average == pytest.approx(revenue / orders, abs=0.01)
    usd = run(ga_client, SHOP, currency_code="USD", **kw)
    assert usd.metadata.currency_code == "USD"
    assert rows_of(usd)[0][1][0] == pytest.approx(revenue * 1.08, abs=0.02)
    assert rows_of(usd)[0][1][1] == orders  # counts do not convert
    gbp = run(ga_client, NEWS, metrics=[{"name": "totalRevenue"}, {"name": "transactions"}],
              date_ranges=[rng("365daysAgo", "yesterday")])
    assert gbp.metadata.currency_code == "GBP"
    news_revenue, subscriptions = rows_of(gbp)[0][1]
    assert subscriptions > 5 and 4.99 <= news_revenue / subscriptions <= 99
    with pytest.raises(gexc.InvalidArgument, match="currency"):
        run(ga_client, SHOP, currency_code="XYZ", **kw)


def test_purchases_belong_to_the_sessions_that_made_them(ga_client):
    # The shop's only key event is the purchase: per channel, the two agree.
    response = run(ga_client, SHOP, dimensions=[{"name": "sessionDefaultChannelGroup"}],
                   metrics=[{"name": "keyEvents"}, {"name": "transactions"},
                            {"name": "totalRevenue"}],
                   date_ranges=[rng("28daysAgo", "yesterday")])
    rows = rows_of(response)
    assert len(rows) >= 5
    for (channel,), (key_events, transactions, revenue) in rows:
        assert key_events == transactions, channel
        assert (revenue > 0) == (transactions > 0), channel


# ---------------------------------------------------------------- refusals

def test_unimplemented_features_are_refused_by_name(standin, ga_client):
    base = dict(metrics=[{"name": "sessions"}], date_ranges=[rng("7daysAgo", "yesterday")])
    with pytest.raises(gexc.MethodNotImplemented, match="cohort reports are not implemented"):
        run(ga_client, dimensions=[{"name": "cohort"}], cohort_spec={"cohorts": [{
            "name": "c", "dimension": "firstSessionDate",
            "date_range": rng("2026-01-01", "2026-01-07")}]}, **base)
    with pytest.raises(gexc.MethodNotImplemented, match="comparisons are not implemented"):
        run(ga_client, comparisons=[{"name": "x", "dimension_filter": {"filter": {
            "field_name": "country", "string_filter": {"value": "France"}}}}], **base)
    with pytest.raises(gexc.MethodNotImplemented, match="pivot reports are not implemented"):
        ga_client.run_pivot_report(ga.RunPivotReportRequest(property=BLOG))
    with pytest.raises(gexc.MethodNotImplemented, match="pivot reports are not implemented"):
        ga_client.batch_run_pivot_reports(ga.BatchRunPivotReportsRequest(property=BLOG))

    import grpc
    from google.analytics.data_v1alpha import AlphaAnalyticsDataClient
    from google.analytics.data_v1alpha import types as alpha
    from google.analytics.data_v1alpha.services.alpha_analytics_data.transports import (
        AlphaAnalyticsDataGrpcTransport,
    )

    channel = grpc.insecure_channel(standin.endpoint)
    try:
        client = AlphaAnalyticsDataClient(transport=AlphaAnalyticsDataGrpcTransport(
            channel=channel))
        with pytest.raises(gexc.MethodNotImplemented, match="funnel reports are not impl"):
            client.run_funnel_report(alpha.RunFunnelReportRequest(property=BLOG))
    finally:
        channel.close()
    # An ordinary report still answers.
    assert run(ga_client, **base).row_count == 1


def test_permission_denied_lists_the_properties_served(ga_client):
    with pytest.raises(gexc.PermissionDenied) as err:
        run(ga_client, "properties/424242", metrics=[{"name": "sessions"}],
            date_ranges=[rng("7daysAgo", "yesterday")])
    message = err.value.message
    assert message.startswith("User does not have sufficient permissions for this property.")
    assert ("This stand-in serves properties/100000001 (Demo blog), properties/100000002 "
            "(Demo shop), properties/100000003 (Demo news).") in message


def test_compatibility_and_metadata_describe_the_schema(ga_client):
    answer = ga_client.check_compatibility(ga.CheckCompatibilityRequest(
        property=BLOG, dimensions=[{"name": "eventName"}], metrics=[{"name": "sessions"}]))
    dims = {d.dimension_metadata.api_name: d.compatibility
            for d in answer.dimension_compatibilities}
    assert dims["eventName"] == ga.Compatibility.COMPATIBLE and "minutesAgo" not in dims
    with pytest.raises(gexc.InvalidArgument, match="shoeSize"):
        ga_client.check_compatibility(ga.CheckCompatibilityRequest(
            property=BLOG, dimensions=[{"name": "shoeSize"}]))
    md = ga_client.get_metadata(name=f"{NEWS}/metadata")
    types = {m.api_name: m.type_ for m in md.metrics}
    T = ga.MetricType
    assert types["totalRevenue"] == types["purchaseRevenue"] == T.TYPE_CURRENCY
    assert types["userEngagementDuration"] == T.TYPE_SECONDS
    assert types["engagementRate"] == types["sessionKeyEventRate"] == T.TYPE_FLOAT
    assert types["keyEvents"] == types["transactions"] == T.TYPE_INTEGER
    wanted = {"city", "cityId", "region", "country", "countryId", "continent", "language",
              "browser", "operatingSystem", "platform", "deviceCategory", "eventName",
              "isKeyEvent", "firstUserSource", "firstUserMedium", "firstUserDefaultChannelGroup",
              "sessionDefaultChannelGroup", "sessionCampaignName", "landingPage",
              "landingPagePlusQueryString", "pagePathPlusQueryString", "newVsReturning",
              "hour", "dayOfWeek", "dayOfWeekName", "yearMonth", "year", "month", "week",
              "isoWeek", "isoYearIsoWeek", "yearWeek", "day", "date", "dateHour"}
    assert wanted <= {d.api_name for d in md.dimensions}


# ---------------------------------------------------------------- a big property

def test_values_past_the_cardinality_limit_fold_into_other(ga_client, standin):
    limit = standin.servicer.properties[NEWS].cardinality_limit
    kw = dict(dimensions=[{"name": "pagePath"}], metrics=[{"name": "screenPageViews"}],
              date_ranges=[rng("2026-05-01", "2026-05-31")], metric_aggregations=["TOTAL"])
    response = run(ga_client, NEWS, limit=100_000, **kw)
    assert response.metadata.data_loss_from_other_row
    assert response.row_count == len(response.rows) == limit
    paths = by_first_dim(response)
    assert "(other)" in paths and len(paths) == limit
    # Folding loses rows, not views.
    assert sum(paths.values()) == float(response.totals[0].metric_values[0].value)
    # What GA reads: far more distinct pages than the limit.
    t = traffic(standin, NEWS)
    may = (t.e_day >= date(2026, 5, 1).toordinal()) & (t.e_day <= date(2026, 5, 31).toordinal())
    assert np.unique(t.e_page[may]).size > limit
    # The biggest pages keep their own rows; (other) is one of the biggest rows.
    kept = sorted((v for k, v in paths.items() if k != "(other)"), reverse=True)
    assert paths["(other)"] > kept[len(kept) // 2]
    # A default page of the same report is GA's 10,000-row default or less; paging works.
    second = run(ga_client, NEWS, limit=250, offset=250, **kw)
    assert second.row_count == limit and len(second.rows) == 250
    small = run(ga_client, BLOG, **kw)
    assert not small.metadata.data_loss_from_other_row
    assert "(other)" not in by_first_dim(small)


def test_long_date_ranges_are_sampled_per_range(ga_client, standin):
    prop = standin.servicer.properties[NEWS]
    response = run(ga_client, NEWS, dimensions=[{"name": "date"}],
                   metrics=[{"name": "sessions"}, {"name": "screenPageViews"}],
                   date_ranges=[rng(*LONG, "long"), rng("28daysAgo", "yesterday", "recent")],
                   metric_aggregations=["TOTAL"], limit=10_000)
    long_meta, recent_meta = response.metadata.sampling_metadatas
    assert long_meta.sampling_space_size > prop.sampling_event_limit
    step = math.ceil(long_meta.sampling_space_size / prop.sampling_event_limit)
    assert step >= 2
    assert long_meta.samples_read_count == pytest.approx(
        long_meta.sampling_space_size / step, rel=0.05)
    assert recent_meta.samples_read_count == recent_meta.sampling_space_size > 0
    rows = rows_of(response)
    long_rows = [m for d, m in rows if d[1] == "long"]
    assert len(long_rows) == 2_738
    # Sampled counts are scaled back up, and totals stay the sum of the rows.
    assert all(m[0] % step == 0 for m in long_rows)
    totals = {r.dimension_values[1].value: [float(m.value) for m in r.metric_values]
              for r in response.totals}
    assert totals["long"] == list(np.sum(long_rows, axis=0))
    # ... and near what a full read counts.
    t = traffic(standin, NEWS)
    in_long = (t.s_day >= date(2019, 1, 1).toordinal()) & (
        t.s_day <= date(2026, 6, 30).toordinal())
    assert totals["long"][0] == pytest.approx(in_long.sum(), rel=0.02)
    recent = [m[0] for d, m in rows if d[1] == "recent"]
    assert not all(v % step == 0 for v in recent)  # read in full


def test_user_counts_are_thresholded_on_the_big_property(ga_client):
    kw = dict(dimensions=[{"name": "pagePath"}], date_ranges=[rng("7daysAgo", "yesterday")],
              limit=100_000)
    users = run(ga_client, NEWS, metrics=[{"name": "screenPageViews"}, {"name": "totalUsers"}],
                **kw)
    views = run(ga_client, NEWS, metrics=[{"name": "screenPageViews"}], **kw)
    assert users.metadata.subject_to_thresholding
    assert not views.metadata.subject_to_thresholding
    assert all(m[1] >= 10 for _, m in rows_of(users))
    assert 0 < users.row_count < views.row_count  # small pages withheld
    blog = run(ga_client, BLOG, metrics=[{"name": "totalUsers"}], **kw)
    assert not blog.metadata.subject_to_thresholding


def test_query_strings_and_landing_pages(ga_client):
    kw = dict(metrics=[{"name": "sessions"}], date_ranges=[rng("28daysAgo", "yesterday")],
              limit=100_000)
    plain = by_first_dim(run(ga_client, SHOP, dimensions=[{"name": "landingPage"}], **kw))
    plus = by_first_dim(run(ga_client, SHOP, dimensions=[{"name": "landingPagePlusQueryString"}],
                            **kw))
    assert all("?" not in p for p in plain) and any("?gclid=" in p for p in plus)
    # Each landing page's sessions split over its query strings.
    assert sum(v for k, v in plus.items() if k.split("?")[0] == "/") == plain["/"]
    on_search = {"filter": {"field_name": "pagePath", "string_filter": {"value": "/search/"}}}
    searches = by_first_dim(run(ga_client, SHOP, dimensions=[{"name": "pagePathPlusQueryString"}],
                                dimension_filter=on_search, **kw))
    assert searches and all(re.fullmatch(r"/search/\?q=[a-z+]+", k) for k in searches)
    products = by_first_dim(run(ga_client, SHOP, dimensions=[{"name": "pagePath"}], **kw))
    assert sum(1 for p in products if p.startswith("/products/") and p != "/products/") == 40
    assert {"/cart/", "/checkout/", "/checkout/thank-you/"} <= set(products)


# ---------------------------------------------------------------- the command line

def test_command_line_prints_the_properties_it_serves():
    port = free_port()
    proc = popen([sys.executable, "-m", "gadash.standin", "--port", str(port),
                  "--days", "30", "--sessions-per-day", "50"],
                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().rstrip("\n").split("\t") for _ in range(3)]
    finally:
        stop_group(proc)
    assert lines == [
        ["properties/100000001", "Demo blog", "America/New_York", "USD"],
        ["properties/100000002", "Demo shop", "Europe/Berlin", "EUR"],
        ["properties/100000003", "Demo news", "Europe/London", "GBP"],
    ]


def test_news_history_is_independent_of_days(standin):
    t = traffic(standin, NEWS)
    assert date.fromordinal(t.first_day) == date(2018, 1, 1)
    blog = traffic(standin, BLOG)
    assert t.last_day - t.first_day > 3 * (blog.last_day - blog.first_day)
    assert np.array_equal(t.p_event, np.flatnonzero(t.x_name == EV["purchase"]))
    assert set(np.unique(t.p_value)) == {4.99, 9.99, 49.0, 99.0}
    assert t.s_revenue.sum() == pytest.approx(t.p_value.sum())
