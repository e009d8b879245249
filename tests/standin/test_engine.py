"""The stand-in's numbers, through Google's client over gRPC, against plain pandas.

The reference computations below read the raw synthetic sessions and page
views and compute each metric with GA's meaning, independently of the engine.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from google.analytics.data_v1beta import types as ga

from gadash.standin.traffic import COUNTRIES, DEVICES, PAGES, SOURCES, Traffic
from tests.conftest import BLOG, test_properties


@pytest.fixture(scope="module")
def raw(standin, blog_today) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sessions and page views of the blog as plain labelled frames."""
    prop = next(p for p in standin.servicer.properties.values() if p.property_id == BLOG)
    t: Traffic = prop.store.get(blog_today)
    sessions = pd.DataFrame({
        "sid": np.arange(t.session_count),
        "date": [date.fromordinal(int(d)) for d in t.s_day],
        "user": t.s_user,
        "new": t.s_new,
        "source": [SOURCES[i][0] for i in t.s_source],
        "medium": [SOURCES[i][1] for i in t.s_source],
        "country": [COUNTRIES[i][0] for i in t.s_country],
        "device": [DEVICES[i][0] for i in t.s_device],
        "duration": t.s_duration,
        "engaged": t.s_engaged,
        "views": t.s_views,
    })
    views = pd.DataFrame({
        "sid": t.e_session,
        "path": [PAGES[i][0] for i in t.e_page],
        "engagement": t.e_engagement,
    }).merge(sessions, on="sid")
    return sessions, views


def run(client, **kwargs) -> ga.RunReportResponse:
    return client.run_report(ga.RunReportRequest(property=BLOG, **kwargs))


def as_frame(response: ga.RunReportResponse) -> pd.DataFrame:
    dims = [h.name for h in response.dimension_headers]
    mets = [h.name for h in response.metric_headers]
    rows = [
        [d.value for d in r.dimension_values] + [float(m.value) for m in r.metric_values]
        for r in response.rows
    ]
    return pd.DataFrame(rows, columns=dims + mets)


def between(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return frame[(frame["date"] >= start) & (frame["date"] <= end)]


def test_sources_with_country_filter_match_pandas(ga_client, raw, past_days):
    sessions, _ = raw
    start, end = past_days(28), past_days(1)
    response = run(
        ga_client,
        dimensions=[{"name": "sessionSource"}, {"name": "sessionMedium"}],
        metrics=[{"name": "sessions"}, {"name": "totalUsers"}, {"name": "screenPageViews"},
                 {"name": "averageSessionDuration"}, {"name": "bounceRate"}],
        date_ranges=[{"start_date": start.isoformat(), "end_date": end.isoformat()}],
        dimension_filter={"filter": {"field_name": "country",
                                     "string_filter": {"value": "Germany"}}},
    )
    got = as_frame(response).set_index(["sessionSource", "sessionMedium"]).sort_index()
    sel = between(sessions, start, end)
    sel = sel[sel["country"] == "Germany"]
    g = sel.groupby(["source", "medium"])
    want = pd.DataFrame({
        "sessions": g.size(),
        "totalUsers": g["user"].nunique(),
        "screenPageViews": g["views"].sum(),
        "averageSessionDuration": g["duration"].mean(),
        "bounceRate": 1 - g["engaged"].mean(),
    }).sort_index()
    want.index.names = got.index.names
    assert len(got) == len(want) > 5
    pd.testing.assert_frame_equal(got, want.astype(float), check_exact=False, rtol=1e-9)
    assert response.row_count == len(want)


def test_page_rows_count_sessions_that_viewed_the_page(ga_client, raw, past_days):
    _, views = raw
    start, end = past_days(7), past_days(1)
    response = run(
        ga_client,
        dimensions=[{"name": "pagePath"}],
        metrics=[{"name": "screenPageViews"}, {"name": "sessions"}, {"name": "totalUsers"},
                 {"name": "userEngagementDuration"}],
        date_ranges=[{"start_date": start.isoformat(), "end_date": end.isoformat()}],
        dimension_filter={"and_group": {"expressions": [
            {"filter": {"field_name": "pagePath",
                        "string_filter": {"match_type": "BEGINS_WITH", "value": "/blog/"}}},
            {"not_expression": {"filter": {"field_name": "deviceCategory",
                                           "in_list_filter": {"values": ["tablet"]}}}},
        ]}},
        order_bys=[{"metric": {"metric_name": "screenPageViews"}, "desc": True}],
        limit=5,
        metric_aggregations=["TOTAL"],
    )
    sel = between(views, start, end)
    sel = sel[sel["path"].str.startswith("/blog/") & (sel["device"] != "tablet")]
    g = sel.groupby("path")
    want = pd.DataFrame({
        "screenPageViews": g.size(),
        "sessions": g["sid"].nunique(),
        "totalUsers": g["user"].nunique(),
        "userEngagementDuration": g["engagement"].sum(),
    }).sort_values("screenPageViews", ascending=False, kind="stable")
    got = as_frame(response).set_index("pagePath")
    assert list(got["screenPageViews"]) == list(want["screenPageViews"].head(5).astype(float))
    for path in got.index:
        for col in ("sessions", "totalUsers"):
            assert got.loc[path, col] == want.loc[path, col]
        assert got.loc[path, "userEngagementDuration"] == pytest.approx(
            want.loc[path, "userEngagementDuration"])
    assert response.row_count == len(want)
    total = response.totals[0]
    assert total.dimension_values[0].value == "RESERVED_TOTAL"
    assert float(total.metric_values[0].value) == len(sel)
    # Sessions total counts each session once, however many pages it viewed.
    assert float(total.metric_values[1].value) == sel["sid"].nunique()


def test_two_date_ranges_add_the_date_range_dimension(ga_client, raw, past_days):
    sessions, _ = raw
    cur = (past_days(14), past_days(1))
    prev = (past_days(28), past_days(15))
    response = run(
        ga_client,
        dimensions=[{"name": "deviceCategory"}],
        metrics=[{"name": "sessions"}, {"name": "engagementRate"}],
        date_ranges=[
            {"start_date": cur[0].isoformat(), "end_date": cur[1].isoformat(), "name": "current"},
            {"start_date": prev[0].isoformat(), "end_date": prev[1].isoformat()},
        ],
        metric_aggregations=["TOTAL", "MAXIMUM", "MINIMUM"],
    )
    assert [h.name for h in response.dimension_headers] == ["deviceCategory", "dateRange"]
    got = as_frame(response).set_index(["deviceCategory", "dateRange"])
    for name, (start, end) in (("current", cur), ("date_range_1", prev)):
        sel = between(sessions, start, end)
        for device, grp in sel.groupby("device"):
            assert got.loc[(device, name), "sessions"] == len(grp)
            assert got.loc[(device, name), "engagementRate"] == pytest.approx(grp["engaged"].mean())
    totals = {r.dimension_values[1].value: float(r.metric_values[0].value) for r in response.totals}
    assert totals == {"current": len(between(sessions, *cur)),
                      "date_range_1": len(between(sessions, *prev))}
    maxima = {r.dimension_values[1].value: float(r.metric_values[0].value)
              for r in response.maximums}
    assert maxima["current"] == got.xs("current", level="dateRange")["sessions"].max()
    assert len(response.minimums) == 2


def test_daily_trend_ordering_offset_and_metric_filter(ga_client, raw, past_days):
    sessions, _ = raw
    start, end = past_days(30), past_days(1)
    response = run(
        ga_client,
        dimensions=[{"name": "date"}],
        metrics=[{"name": "sessions"}, {"name": "newUsers"}],
        date_ranges=[{"start_date": start.isoformat(), "end_date": end.isoformat()}],
        order_bys=[{"dimension": {"dimension_name": "date"}, "desc": True}],
        metric_filter={"filter": {"field_name": "sessions", "numeric_filter": {
            "operation": "GREATER_THAN", "value": {"int64_value": 400}}}},
        offset=2,
        limit=10,
    )
    sel = between(sessions, start, end)
    daily = sel.groupby("date").agg(sessions=("sid", "size"))
    daily["newUsers"] = sel[sel["new"]].groupby("date")["user"].nunique()
    daily = daily[daily["sessions"] > 400].sort_index(ascending=False)
    got = as_frame(response)
    assert response.row_count == len(daily)
    expected = daily.iloc[2:12]
    assert list(got["date"]) == [d.strftime("%Y%m%d") for d in expected.index]
    assert list(got["sessions"]) == list(expected["sessions"].astype(float))
    assert list(got["newUsers"]) == list(expected["newUsers"].astype(float))


def test_unknown_names_and_bad_dates_are_invalid_argument(ga_client):
    from google.api_core import exceptions as gexc

    with pytest.raises(gexc.InvalidArgument) as err:
        run(ga_client, dimensions=[{"name": "pageViewsPerMoon"}], metrics=[{"name": "sessions"}],
            date_ranges=[{"start_date": "7daysAgo", "end_date": "today"}])
    assert "pageViewsPerMoon is not a valid dimension" in err.value.message
    assert err.value.details[0].field_violations[0].field == "dimensions[0].name"
    with pytest.raises(gexc.InvalidArgument, match="after endDate"):
        run(ga_client, metrics=[{"name": "sessions"}],
            date_ranges=[{"start_date": "yesterday", "end_date": "7daysAgo"}])
    with pytest.raises(gexc.InvalidArgument, match="not a valid metric"):
        run(ga_client, metrics=[{"name": "sessions"}, {"name": "bogus"}],
            date_ranges=[{"start_date": "7daysAgo", "end_date": "today"}])


def test_realtime_counts_users_of_the_last_30_minutes(ga_client, standin):
    from gadash.standin.traffic import local_now, local_seconds
    from tests.conftest import skip_without_realtime_readers

    skip_without_realtime_readers(standin)

    prop = standin.servicer.properties[BLOG]
    response = ga_client.run_realtime_report(ga.RunRealtimeReportRequest(
        property=BLOG, dimensions=[{"name": "minutesAgo"}], metrics=[{"name": "activeUsers"}],
        metric_aggregations=["TOTAL"],
    ))
    now = local_now(prop.time_zone)
    t = prop.store.get(now.date())
    secs = local_seconds(now)
    window = (t.e_time > secs - 30 * 60) & (t.e_time <= secs)
    # The server read the clock a moment later; allow a minute's drift at the edges.
    expected = np.unique(t.s_user[t.e_session[window]]).size
    total = float(response.totals[0].metric_values[0].value)
    assert abs(total - expected) <= max(3, expected * 0.1)
    assert all(0 <= int(r.dimension_values[0].value) <= 29 for r in response.rows)


def test_metadata_lists_dimensions_and_metrics(ga_client):
    md = ga_client.get_metadata(name=f"{BLOG}/metadata")
    dims = {d.api_name for d in md.dimensions}
    mets = {m.api_name: m.type_ for m in md.metrics}
    assert {"date", "pagePath", "landingPage", "sessionSource", "country"} <= dims
    assert mets["averageSessionDuration"] == ga.MetricType.TYPE_SECONDS
    assert "minutesAgo" not in dims  # realtime only


def test_traffic_is_deterministic_per_day():
    from gadash.standin.traffic import TrafficProfile, generate

    profile = test_properties()[0].profile
    a = generate(TrafficProfile(profile.sessions_per_day, 40, profile.seed), date(2026, 3, 31))
    b = generate(TrafficProfile(profile.sessions_per_day, 30, profile.seed), date(2026, 3, 31))
    # The last 30 days are the same whether 30 or 40 days were generated.
    tail = a.s_day >= b.first_day
    assert np.array_equal(a.s_user[tail], b.s_user)
    assert np.array_equal(a.s_duration[tail], b.s_duration)
    weekday = a.s_day[a.s_day % 7 == 3]  # ordinal % 7 == 3 is a Wednesday
    weekend = a.s_day[a.s_day % 7 == 6]  # Saturday
    assert len(weekday) > len(weekend)


def test_standalone_server_runs_from_the_command_line(tmp_path):
    import subprocess
    import sys
    import time

    import grpc
    from google.analytics.data_v1beta import BetaAnalyticsDataClient
    from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
        BetaAnalyticsDataGrpcTransport,
    )

    from tests.conftest import free_port
    from tests.processes import popen, stop_group

    port = free_port()
    proc = popen([sys.executable, "-m", "gadash.standin", "--port", str(port),
                  "--days", "40", "--sessions-per-day", "200"],
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=20)
        client = BetaAnalyticsDataClient(transport=BetaAnalyticsDataGrpcTransport(channel=channel))
        deadline = time.monotonic() + 20
        while True:
            try:
                response = client.run_report(ga.RunReportRequest(
                    property=BLOG, metrics=[ga.Metric(name="sessions")],
                    date_ranges=[ga.DateRange(start_date="7daysAgo", end_date="yesterday")]))
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert int(response.rows[0].metric_values[0].value) > 0
        channel.close()
    finally:
        stop_group(proc)
