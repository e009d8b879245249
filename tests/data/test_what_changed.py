""""What changed" against a GA endpoint where one source grew 10x while every other
doubled: a small GA4 Data API server (gRPC, Google's own messages) answering
batchRunReports from a table of sessions, crossed by the real client."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from datetime import date

import grpc
import pandas as pd
import pytest
from google.analytics.data_v1beta import types as ga

from gadash.core.insights.findings import what_changed
from gadash.core.plans import changes_query
from gadash.core.query import DateRange, Filters
from gadash.data.sources.ga4 import GA4Source
from gadash.settings import Settings
from tests.conftest import free_port

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
