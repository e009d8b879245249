"""Numbers that hold on a large property: paging, (other), top-N comparisons, sampling.

All through Google's client against the stand-in's large property (long history,
cardinality past GA's limits).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from google.analytics.data_v1beta import types as ga

from gadash.core.catalog import OTHER, Order, Panel
from gadash.core.plans import view_query
from gadash.core.query import DateRange, Filters, ReportQuery
from gadash.data.sources.ga4 import GA4Source, _Ask
from gadash.settings import Settings
from tests.conftest import BLOG, LARGE

LONG = DateRange(date(2019, 1, 1), date(2026, 6, 30))  # 2,738 days
BEFORE = DateRange(date(2016, 1, 1), date(2017, 12, 31))  # before the property's history


@pytest.fixture()
def source(settings: Settings):
    # The stand-in makes a property's years before its last 120 days on the first
    # request that needs them (seconds for the large one): paging is tested here, not
    # GA's latency, so the client waits as long as it must.
    src = GA4Source(settings.model_copy(update={"ga_timeout": 30.0}))
    yield src
    src.close()


def test_a_long_daily_trend_is_paged_to_rows_ga_counts(source, standin_clean):
    trend = source.fetch(ReportQuery(LARGE, ("trend",), (LONG,)))["trend"]
    assert LONG.days == 2_738
    assert len(trend.rows) == trend.meta.row_count == 2_738
    assert trend.rows["date"].is_unique and not trend.meta.capped
    assert trend.rows["date"].min() == pd.Timestamp(LONG.start)
    assert trend.rows["date"].max() == pd.Timestamp(LONG.end)

    standin_clean.servicer.calls.clear()
    # Compared with the same period a year earlier (2,738 days too, both with two 29 Feb)
    year = DateRange(date(2018, 1, 1), date(2025, 6, 30))
    both = source.fetch(ReportQuery(LARGE, ("trend",), (LONG, year)))["trend"]
    assert len(both.rows) == both.meta.row_count == 5_476
    # 5,476 rows at 5,000 a page: the first call and one page more
    assert dict(standin_clean.servicer.calls) == {"BatchRunReports": 2}
    per_range = both.rows.groupby("dateRange")["date"].nunique()
    assert per_range.to_dict() == {"current": 2_738, "previous": 2_738}
    assert not both.rows.duplicated(["date", "dateRange"]).any()


def test_paging_stops_at_the_cap_and_says_so(source, standin_clean):
    panel = Panel("trend", "Trend", ("date",), ("sessions",), (Order("date"),), limit=400,
                  cap=1_000)
    query = ReportQuery(LARGE, ("trend",), (LONG,))
    [frame] = source._answer(LARGE, [_Ask.make(query, panel, query.ranges)])
    assert len(frame.rows) == 1_000 and frame.meta.row_count == 2_738
    assert frame.meta.capped
    # pages join in order, each starting at its offset
    assert frame.rows["date"].is_monotonic_increasing and frame.rows["date"].is_unique
    assert standin_clean.servicer.calls["BatchRunReports"] == 2  # first page + 2 more at once


def test_pages_join_to_what_one_big_request_answers(source, ga_client):
    panel = Panel("pages", "Pages", ("pagePath",), ("screenPageViews",),
                  (Order("screenPageViews", desc=True, metric=True), Order("pagePath")),
                  limit=700, cap=3_000)
    rng = DateRange(date(2026, 5, 1), date(2026, 5, 31))
    query = ReportQuery(LARGE, ("pages",), (rng,))
    [paged] = source._answer(LARGE, [_Ask.make(query, panel, query.ranges)])
    whole = ga_client.run_report(ga.RunReportRequest(
        property=LARGE, dimensions=[ga.Dimension(name="pagePath")],
        metrics=[ga.Metric(name="screenPageViews")],
        date_ranges=[ga.DateRange(start_date="2026-05-01", end_date="2026-05-31")],
        order_bys=[ga.OrderBy(metric=ga.OrderBy.MetricOrderBy(metric_name="screenPageViews"),
                              desc=True),
                   ga.OrderBy(dimension=ga.OrderBy.DimensionOrderBy(dimension_name="pagePath"))],
        limit=min(3_000, paged.meta.row_count)))
    assert paged.meta.row_count == whole.row_count > 700
    assert list(paged.rows["pagePath"]) == [r.dimension_values[0].value for r in whole.rows]


def test_other_row_is_marked_and_never_compared(source, standin_clean):
    rng = DateRange(date(2026, 5, 1), date(2026, 5, 31))
    prev = DateRange(date(2026, 4, 1), date(2026, 4, 30))
    pages = source.fetch(ReportQuery(LARGE, ("pages",), (rng, prev)))["pages"]
    assert pages.meta.other_row
    current = pages.rows[pages.rows["dateRange"] == "current"]
    assert OTHER in set(current["pagePath"])  # rare pages folded together, as GA does
    previous = pages.rows[pages.rows["dateRange"] == "previous"]
    assert OTHER not in set(previous["pagePath"])  # no in-list value for it


def test_top_n_comparison_covers_exactly_the_rows_shown(source, standin_clean, ga_client):
    rng = DateRange(date(2026, 5, 1), date(2026, 5, 31))
    prev = DateRange(date(2026, 4, 1), date(2026, 4, 30))
    query = view_query(BLOG, (rng, prev), Filters(), frozenset())
    reports = source.fetch(query)
    # One batch for the view, one for the comparison values of its tables.
    assert dict(standin_clean.servicer.calls) == {"BatchRunReports": 2}
    for panel, key, metric in (("pages", "pagePath", "screenPageViews"),
                               ("landing", "landingPage", "sessions"),
                               ("sources", "sessionSource", "sessions")):
        rows = reports[panel].rows
        current = rows[rows["dateRange"] == "current"]
        previous = rows[rows["dateRange"] == "previous"]
        assert set(previous[key]) <= set(current[key])
        # "Top N of M" counts this period only: what a one-range report says
        alone = ga_client.run_report(ga.RunReportRequest(
            property=BLOG, dimensions=[ga.Dimension(name=key)],
            metrics=[ga.Metric(name=metric)], limit=1,
            date_ranges=[ga.DateRange(start_date=str(rng.start), end_date=str(rng.end))]))
        if panel != "sources":
            assert reports[panel].meta.row_count == alone.row_count
        # each previous value is GA's own for that row in that period
        probe = str(previous.sort_values(metric).iloc[0][key])
        direct = ga_client.run_report(ga.RunReportRequest(
            property=BLOG, dimensions=[ga.Dimension(name=key)],
            metrics=[ga.Metric(name=metric)],
            date_ranges=[ga.DateRange(start_date=str(prev.start), end_date=str(prev.end))],
            dimension_filter=ga.FilterExpression(filter=ga.Filter(
                field_name=key, string_filter=ga.Filter.StringFilter(value=probe)))))
        expected = sum(int(r.metric_values[0].value) for r in direct.rows)
        got = previous[previous[key] == probe][metric].sum()
        assert got == expected or panel == "sources"  # sources: one row per medium
    # channels: their comparison values come from the second call too
    channels = reports["channels"].rows
    assert set(channels["dateRange"]) == {"previous"} and len(channels) >= 5


def test_without_comparison_one_call_and_no_channel_report(source, standin_clean):
    rng = DateRange(date(2026, 5, 1), date(2026, 5, 31))
    reports = source.fetch(view_query(BLOG, (rng,), Filters(), frozenset()))
    assert dict(standin_clean.servicer.calls) == {"BatchRunReports": 1}
    assert "channels" not in reports


def test_missing_totals_are_missing_not_zero(source):
    trend = source.fetch(ReportQuery(LARGE, ("trend",), (LONG, BEFORE)))["trend"]
    ranges = set(trend.totals["dateRange"])
    assert "current" in ranges
    # The comparison range lies before the property's history: no rows, no total.
    assert not (trend.rows["dateRange"] == "previous").any()
    assert "previous" not in ranges
