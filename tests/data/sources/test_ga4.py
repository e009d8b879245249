"""The GA4 source: the real client against the stand-in over gRPC on loopback."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from gadash.core.catalog import PANELS
from gadash.core.query import Condition, DateRange, Filters, ReportQuery
from gadash.data.sources import create_source
from gadash.data.sources.ga4 import GA4Source
from gadash.errors import (
    InvalidRequestError,
    PermissionDeniedError,
    QuotaExhaustedError,
    SourceUnavailableError,
)
from gadash.settings import Settings
from gadash.standin.server import QuotaLimits, StandinServer
from tests.conftest import BLOG, SHOP, test_properties


@pytest.fixture()
def source(settings: Settings):
    src = create_source(settings)
    yield src
    src.close()


def test_view_panels_go_out_in_batches_of_five(source, standin_clean, past_days):
    panels = ("trend", "sources", "pages", "audience", "landing")
    query = ReportQuery(BLOG, panels, (DateRange(past_days(28), past_days(1)),))
    reports = source.fetch(query)
    assert list(reports) == list(panels)
    assert dict(standin_clean.servicer.calls) == {"BatchRunReports": 1}
    six = ReportQuery(BLOG, (*panels, "trend_week"), query.ranges)  # one over the limit
    source.fetch(six)
    assert standin_clean.servicer.calls["BatchRunReports"] == 3  # 5 + 1


def test_frames_are_typed_and_carry_metadata(source, past_days):
    rng = DateRange(past_days(14), past_days(1))
    prev = DateRange(past_days(28), past_days(15))
    reports = source.fetch(ReportQuery(BLOG, ("trend", "sources", "realtime"), (rng, prev)))
    trend = reports["trend"]
    assert pd.api.types.is_datetime64_any_dtype(trend.rows["date"])
    assert trend.rows["sessions"].dtype == "int64"
    assert trend.rows["averageSessionDuration"].dtype == "float64"
    assert set(trend.rows["dateRange"]) == {"current", "previous"}
    assert len(trend.rows) == 28
    assert trend.rows[trend.rows["dateRange"] == "current"]["date"].min() == pd.Timestamp(rng.start)
    # Totals: one row per range, equal to the daily sums for additive metrics.
    totals = trend.totals.set_index("dateRange")
    daily = trend.rows.groupby("dateRange")["sessions"].sum()
    assert totals.loc["current", "sessions"] == daily["current"]
    assert totals.loc["previous", "sessions"] == daily["previous"]
    meta = trend.meta
    assert meta.time_zone == "America/New_York" and meta.currency == "USD"
    assert meta.property_id == BLOG and not meta.sampled and not meta.thresholded
    assert meta.quota["tokens_per_hour"][0] > 0 and meta.quota["tokens_per_hour"][1] > 0
    assert (datetime.now(UTC) - meta.fetched_at).total_seconds() < 30
    assert meta.row_count == 28
    realtime = reports["realtime"]
    assert realtime.rows["minutesAgo"].dtype == "int64"
    if len(realtime.rows):  # nobody reading (a small site at night): no rows, no totals
        assert realtime.totals["activeUsers"].iloc[0] >= realtime.rows["activeUsers"].max()
    else:
        assert realtime.totals.empty


def test_filters_become_a_dimension_filter(source, past_days):
    rng = (DateRange(past_days(28), past_days(1)),)
    everything = source.fetch(ReportQuery(BLOG, ("audience",), rng))["audience"]
    mobile = source.fetch(ReportQuery(BLOG, ("audience",), rng, Filters(device="mobile")))
    assert set(mobile["audience"].rows["deviceCategory"]) == {"mobile"}
    all_rows = everything.rows.groupby("deviceCategory")["sessions"].sum()
    assert mobile["audience"].rows["sessions"].sum() == all_rows["mobile"]
    blog_pages = source.fetch(ReportQuery(BLOG, ("pages",), rng, Filters(page="/blog/")))
    assert blog_pages["pages"].rows["pagePath"].str.contains("/blog/").all()


def test_every_kind_of_condition_reaches_ga(source, past_days):
    rng = (DateRange(past_days(28), past_days(1)),)

    def sessions(**conditions: Condition) -> dict[str, int]:
        rows = source.fetch(ReportQuery(BLOG, ("audience",), rng, Filters(**conditions))
                            )["audience"].rows
        return rows.groupby("deviceCategory")["sessions"].sum().to_dict()

    every = sessions()
    # Any case unless asked: "MOBILE" is mobile; with Match case it is nothing.
    assert sessions(device=Condition(("MOBILE",))) == {"mobile": every["mobile"]}
    assert sessions(device=Condition(("MOBILE",), case=True)) == {}
    assert sessions(device=Condition(("mobile", "tablet"))) == {
        k: every[k] for k in ("mobile", "tablet")}
    assert sessions(device=Condition(("mobile",), exclude=True)) == {
        k: v for k, v in every.items() if k != "mobile"}
    assert sessions(device=Condition(("^(desk|tab)",), "regex")) == {
        k: every[k] for k in ("desktop", "tablet")}
    assert sessions(device=Condition(("OB", "ABL"), "contains")) == {
        k: every[k] for k in ("mobile", "tablet")}
    pages = source.fetch(ReportQuery(BLOG, ("pages",), rng, Filters(
        page=Condition(("/blog/",), "contains", exclude=True))))["pages"].rows
    assert len(pages) and not pages["pagePath"].str.contains("/blog/").any()


def test_time_zone_and_fields_come_from_ga(source):
    assert source.time_zone(SHOP) == "Europe/Berlin"
    fields = source.available_fields(BLOG)
    assert "landingPage" in fields and "sessions" in fields


def test_permission_denied_names_account_and_property(source, past_days):
    query = ReportQuery("properties/424242", ("audience",),
                        (DateRange(past_days(7), past_days(1)),))
    with pytest.raises(PermissionDeniedError) as err:
        source.fetch(query)
    assert "properties/424242" in err.value.message
    assert "Viewer" in err.value.message


def test_invalid_argument_names_the_field(source, standin_clean):
    from google.analytics.data_v1beta import types as ga

    from gadash.errors import InvalidRequestError as Invalid

    request = ga.RunReportRequest(property=BLOG, metrics=[ga.Metric(name="sessions")],
                                  dimensions=[ga.Dimension(name="nope")],
                                  date_ranges=[ga.DateRange(start_date="7daysAgo",
                                                            end_date="today")])
    with pytest.raises(Invalid) as err:
        source._rpc(source.client.run_report, request, BLOG)
    assert err.value.field == "dimensions[0].name"
    assert "field dimensions[0].name" in err.value.message


def test_unavailable_is_retried_then_reported(settings, standin_clean, past_days):
    standin_clean.servicer.set_fault("UNAVAILABLE", "backend is down")
    source = GA4Source(settings.model_copy(update={"ga_timeout": 1.0}))
    query = ReportQuery(BLOG, ("audience",), (DateRange(past_days(7), past_days(1)),))
    with pytest.raises(SourceUnavailableError) as err:
        source.fetch(query)
    assert standin_clean.servicer.calls["BatchRunReports"] >= 2  # retried with backoff
    assert "did not answer" in err.value.message
    standin_clean.servicer.clear_fault()
    assert "audience" in source.fetch(query)  # and recovers by itself
    source.close()


def test_transient_fault_is_absorbed_by_the_retry(settings, standin_clean, past_days):
    servicer = standin_clean.servicer
    servicer.set_fault("UNAVAILABLE")
    import threading

    threading.Timer(0.3, servicer.clear_fault).start()
    source = GA4Source(settings.model_copy(update={"ga_timeout": 5.0}))
    query = ReportQuery(BLOG, ("audience",), (DateRange(past_days(7), past_days(1)),))
    assert "audience" in source.fetch(query)
    source.close()


def test_quota_exhausted_says_which_quota_and_when(past_days):
    with StandinServer(test_properties(), limits=QuotaLimits(tokens_per_hour=30)) as server:
        source = GA4Source(Settings(ga_endpoint=server.endpoint, properties={"Blog": BLOG},
                                    _env_file=None))
        query = ReportQuery(BLOG, ("audience", "landing"), (DateRange(past_days(7),
                                                                       past_days(1)),))
        first = source.fetch(query)["audience"]
        assert first.meta.quota["tokens_per_hour"][1] < 30
        with pytest.raises(QuotaExhaustedError) as err:
            for _ in range(5):
                source.fetch(query)
        assert err.value.quota == "property tokens per hour"
        assert err.value.resets_at is not None and err.value.resets_at.minute == 0
        assert "resets at" in err.value.message
        source.close()


def test_unknown_filter_field_is_refused_by_ga(settings, past_days):
    # A dimension filter on a field GA does not know never reaches the rows.
    from gadash.core.query import FILTER_FIELDS

    assert set(FILTER_FIELDS) == {"source", "medium", "channel", "country", "device", "page",
                                 "landing"}
    assert all(PANELS[p].limit > 0 for p in PANELS)
    with pytest.raises(InvalidRequestError):
        source = GA4Source(settings)
        from google.analytics.data_v1beta import types as ga

        source._rpc(source.client.run_report, ga.RunReportRequest(
            property=BLOG, metrics=[ga.Metric(name="sessions")],
            date_ranges=[ga.DateRange(start_date="7daysAgo", end_date="today")],
            dimension_filter=ga.FilterExpression(filter=ga.Filter(
                field_name="shoeSize", string_filter=ga.Filter.StringFilter(value="9"))),
        ), BLOG)


def test_data_quality_flags_travel_with_the_frame(past_days):
    props = test_properties()
    props[0].thresholded = True
    props[0].sampling_percent = 25.0
    with StandinServer(props) as server:
        source = GA4Source(Settings(ga_endpoint=server.endpoint, properties={"Blog": BLOG},
                                    _env_file=None))
        query = ReportQuery(BLOG, ("audience",), (DateRange(past_days(7), past_days(1)),))
        meta = source.fetch(query)["audience"].meta
        source.close()
    assert meta.thresholded and meta.sampled and meta.sampling == (("current", 25.0),)
    assert meta.quality_notes() == [
        "Sampled: GA read 25% of events for this period",
        "Thresholded: GA withheld rows to protect user privacy",
    ]
