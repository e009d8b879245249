""""What changed" against a GA endpoint where one source grew 10x while every other
doubled: a small GA4 Data API server (gRPC, Google's own messages) answering
batchRunReports from a table of sessions, crossed by the real client; and against the
GA4 stand-in, a dimension of hundreds of values a period (the news site's landing
pages), each value's numbers checked against GA's answer for its period alone."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from dataclasses import replace
from datetime import date, timedelta

import grpc
import pandas as pd
import pytest
from google.analytics.data_v1beta import types as ga
from prometheus_client import REGISTRY

from gadash.core import catalog
from gadash.core.frames import ReportFrame
from gadash.core.insights.findings import changes_by_value, what_changed
from gadash.core.plans import changes_query
from gadash.core.query import DateRange, Filters
from gadash.data.sources.ga4 import GA4Source
from gadash.settings import Settings
from tests.conftest import LARGE, free_port

PROPERTY = "properties/424242"
# (source, medium, channel, landing page, country, device, sessions before)
BEFORE = [
    ("news.ycombinator.com", "referral", "Referral", "/blog/launch", "United States", "desktop",
     400),
    ("news.ycombinator.com", "referral", "Referral", "/blog/launch", "Germany", "desktop", 100),
    ("google", "organic", "Organic Search", "/", "United States", "mobile", 1_500),
    ("google", "organic", "Organic Search", "/docs", "Germany", "desktop", 900),
    ("bing", "organic", "Organic Search", "/docs", "United States", "desktop", 300),
    ("(direct)", "(none)", "Direct", "/", "United States", "desktop", 1_200),
    ("reddit.com", "referral", "Referral", "/blog/launch", "United Kingdom", "mobile", 250),
    ("newsletter", "email", "Email", "/blog/launch", "France", "tablet", 150),
]
FIELDS = {"sessionSource": 0, "sessionMedium": 1, "sessionDefaultChannelGroup": 2,
          "landingPage": 3, "country": 4, "deviceCategory": 5}


def table() -> pd.DataFrame:
    rows = []
    for *dims, before in BEFORE:
        growth = 10 if dims[0] == "news.ycombinator.com" else 2
        rows.append((*dims, "previous", before, before // 50))
        rows.append((*dims, "current", before * growth, before * growth // 50))
    return pd.DataFrame(rows, columns=[*FIELDS, "dateRange", "sessions", "keyEvents"])


class GrowthGA:
    """batchRunReports over the table: grouped by the asked dimensions and date ranges,
    ordered by sessions, limited, with totals per range, as GA answers."""

    def __init__(self) -> None:
        self.data = table()
        self.calls = 0

    def batch(self, request: ga.BatchRunReportsRequest, _ctx: grpc.ServicerContext
              ) -> ga.BatchRunReportsResponse:
        self.calls += 1
        return ga.BatchRunReportsResponse(reports=[self.report(r) for r in request.requests])

    def report(self, request: ga.RunReportRequest) -> ga.RunReportResponse:
        dims = [d.name for d in request.dimensions]
        metrics = [m.name for m in request.metrics]
        names = [r.name for r in request.date_ranges]
        data = self.data[self.data["dateRange"].isin(names)]
        grouped = data.groupby([*dims, "dateRange"], as_index=False)[metrics].sum()
        grouped = grouped.sort_values("sessions", ascending=False).head(request.limit or 10_000)
        response = ga.RunReportResponse(
            dimension_headers=[ga.DimensionHeader(name=n) for n in [*dims, "dateRange"]],
            metric_headers=[ga.MetricHeader(name=m, type_=ga.MetricType.TYPE_INTEGER)
                            for m in metrics],
            row_count=len(grouped),
            metadata=ga.ResponseMetaData(time_zone="UTC", currency_code="USD"))
        for _, row in grouped.iterrows():
            response.rows.append(ga.Row(
                dimension_values=[ga.DimensionValue(value=str(row[d]))
                                  for d in [*dims, "dateRange"]],
                metric_values=[ga.MetricValue(value=str(int(row[m]))) for m in metrics]))
        totals = data.groupby("dateRange")[metrics].sum()
        for name in names:
            response.totals.append(ga.Row(
                dimension_values=[*(ga.DimensionValue(value="RESERVED_TOTAL") for _ in dims),
                                  ga.DimensionValue(value=name)],
                metric_values=[ga.MetricValue(value=str(int(totals.loc[name, m])))
                               for m in metrics]))
        return response


@pytest.fixture()
def growth_ga() -> Iterator[tuple[GrowthGA, str]]:
    servicer = GrowthGA()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "google.analytics.data.v1beta.BetaAnalyticsData",
        {"BatchRunReports": grpc.unary_unary_rpc_method_handler(
            servicer.batch, request_deserializer=ga.BatchRunReportsRequest.deserialize,
            response_serializer=ga.BatchRunReportsResponse.serialize)})])
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


def test_the_source_that_grew_tenfold_is_named_first(growth_ga):
    servicer, endpoint = growth_ga
    source = GA4Source(Settings(ga_endpoint=endpoint, properties={"X": PROPERTY},
                                _env_file=None))
    ranges = (DateRange(date(2026, 11, 1), date(2026, 11, 14)),
              DateRange(date(2026, 10, 18), date(2026, 10, 31)))
    try:
        frames = source.fetch(changes_query(PROPERTY, ranges, Filters(), frozenset()))
    finally:
        source.close()
    assert servicer.calls == 1  # the five dimensions in one batch call
    changes = what_changed(frames)
    sessions = changes.groups[0]
    before = sum(b[-1] for b in BEFORE)
    after = sum(b[-1] * (10 if b[0] == "news.ycombinator.com" else 2) for b in BEFORE)
    assert sessions.headline == (
        f"Sessions +{(after - before) / before:.0%} (+{after - before:,}).")
    first = sessions.findings[0]
    assert (first.dimension, first.value) == ("source", "news.ycombinator.com / referral")
    assert first.text == ("51% of the rise came from news.ycombinator.com / referral (+4,500).")
    assert first.filters == (("source", "news.ycombinator.com"), ("medium", "referral"))
    # Countries and devices carry more sessions, but grew about like everything else.
    assert [f.dimension for f in sessions.findings].index("country") > 0
    assert changes.groups[1].metric == "keyEvents"


# ------------------------------------------------------------ a dimension of many values
# The news site's landing pages: over 400 a fortnight, so both periods pass 500 rows.


def batch_calls() -> float:
    return REGISTRY.get_sample_value(
        "gadash_ga_calls_total", {"method": "BatchRunReports", "outcome": "ok"}) or 0.0


def fortnights(blog_today: date) -> tuple[DateRange, DateRange]:
    end = blog_today - timedelta(days=1)
    return (DateRange(end - timedelta(days=13), end),
            DateRange(end - timedelta(days=27), end - timedelta(days=14)))


def truth(ga_client, period: DateRange) -> dict[str, tuple[float, float]]:
    """Each landing page's sessions and key events in one period, every row, asked alone."""
    response = ga_client.run_report(ga.RunReportRequest(
        property=LARGE, dimensions=[ga.Dimension(name="landingPage")],
        metrics=[ga.Metric(name="sessions"), ga.Metric(name="keyEvents")],
        date_ranges=[ga.DateRange(start_date=period.start.isoformat(),
                                  end_date=period.end.isoformat())], limit=100_000))
    assert response.row_count == len(response.rows)
    return {r.dimension_values[0].value: (float(r.metric_values[0].value),
                                          float(r.metric_values[1].value))
            for r in response.rows}


def landing_changes(settings: Settings, ranges) -> ReportFrame:
    source = GA4Source(settings)
    try:
        return source.fetch(changes_query(LARGE, ranges, Filters(), frozenset()))[
            "changes_landing"]
    finally:
        source.close()


def assert_named_values_are_gas(frame: ReportFrame, now: dict, before: dict) -> int:
    """Every value named has GA's own numbers in both periods; returns how many."""
    named = 0
    for i, metric in enumerate(("sessions", "keyEvents")):
        for c in changes_by_value(frame, "landing", metric):
            if c.is_rest:
                continue
            named += 1
            assert (c.current, c.previous) == (now.get(c.key, (0.0, 0.0))[i],
                                               before.get(c.key, (0.0, 0.0))[i]), c
            if c.status and metric == "sessions":  # no session in a period: not listed
                assert c.key not in (now if c.status == "gone" else before)
    return named


def test_a_dimension_of_hundreds_of_values_a_period_is_read_whole(
        standin_clean, ga_client, blog_today):
    ranges = fortnights(blog_today)
    now, before = truth(ga_client, ranges[0]), truth(ga_client, ranges[1])
    assert len(now) > 250 and len(before) > 250 and len(now) + len(before) > 500
    settings = Settings(ga_endpoint=standin_clean.endpoint, properties={"News": LARGE},
                        _env_file=None)
    calls = batch_calls()
    frame = landing_changes(settings, ranges)
    assert batch_calls() == calls + 1  # still the one batch call of five reports
    assert standin_clean.servicer.calls["BatchRunReports"] == 1
    assert frame.meta.row_count == len(frame.rows)
    assert assert_named_values_are_gas(frame, now, before) == 2 * len(now.keys() | before.keys())
    # A page read in one period only is truly new or gone: GA listed every value.
    gone = [c for c in changes_by_value(frame, "landing", "sessions") if c.status == "gone"]
    assert gone and all(c.key not in now for c in gone)


def test_past_the_cap_a_value_missing_from_a_period_is_not_called_gone(
        standin_clean, ga_client, blog_today, monkeypatch):
    # A page of 200 rows and a cap of 400 against the fortnights' 800-odd rows: the
    # answer is paged (one more call) and still cut, as a big property's would be.
    panel = catalog.PANELS["changes_landing"]
    monkeypatch.setitem(catalog.PANELS, "changes_landing", replace(panel, limit=200, cap=400))
    ranges = fortnights(blog_today)
    now, before = truth(ga_client, ranges[0]), truth(ga_client, ranges[1])
    settings = Settings(ga_endpoint=standin_clean.endpoint, properties={"News": LARGE},
                        _env_file=None)
    frame = landing_changes(settings, ranges)
    assert standin_clean.servicer.calls["BatchRunReports"] == 2  # the first page, then one
    assert len(frame.rows) == 400 < frame.meta.row_count and frame.meta.capped
    current = set(frame.rows[frame.rows["dateRange"] == "current"]["landingPage"])
    previous = set(frame.rows[frame.rows["dateRange"] == "previous"]["landingPage"])
    cut = (current ^ previous) & (now.keys() & before.keys())
    assert cut  # listed in one period, read in both: GA's answer was cut, not the value
    named = assert_named_values_are_gas(frame, now, before)
    assert 0 < named <= 2 * len(current & previous)
    ranked = changes_by_value(frame, "landing", "sessions")
    assert not {c.key for c in ranked} & cut
    assert all(c.status == "" for c in ranked if not c.is_rest)
    # The remainder holds the rest: contributions still add up to the total change.
    total_now, total_before = (sum(v[0] for v in d.values()) for d in (now, before))
    assert sum(c.change for c in ranked) == pytest.approx(total_now - total_before)
    text = " ".join(f.text for f in what_changed({"changes_landing": frame}).findings)
    assert "gone this period" not in text and "new this period" not in text
