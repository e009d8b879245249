"""Like for like: a compared period that is not over counts the same whole hours in
both periods, through the real GA client against the stand-in, checked against GA's own
hourly answers asked directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from google.analytics.data_v1beta import types as ga

from gadash.core.explore import ExploreState
from gadash.core.plans import changes_query, tv_query, view_query
from gadash.core.query import (
    EARLIEST_DATE,
    DateRange,
    Filters,
    comparison_range,
    cutoff_hour,
    cutoff_note,
)
from gadash.core.transforms import kpis
from gadash.data.sources.ga4 import cutoff_filter
from gadash.errors import QueryError
from tests.conftest import BLOG
from tests.data.test_service import service_for

CUT = 12  # any hour: the filter's meaning holds whatever the time of day


def sessions_by_hour(ga_client, rng: DateRange) -> dict[tuple[str, str], float]:
    """GA's own sessions by (date, hour), asked directly."""
    response = ga_client.run_report(ga.RunReportRequest(
        property=BLOG, dimensions=[ga.Dimension(name="date"), ga.Dimension(name="hour")],
        metrics=[ga.Metric(name="sessions")], limit=100_000,
        date_ranges=[ga.DateRange(start_date=str(rng.start), end_date=str(rng.end))]))
    return {(r.dimension_values[0].value, r.dimension_values[1].value):
            float(r.metric_values[0].value) for r in response.rows}


def like_for_like(hours: dict[tuple[str, str], float], rng: DateRange, cut: int) -> float:
    """The range's sessions with its last day counted to ``cut``:00."""
    last = rng.end.strftime("%Y%m%d")
    return sum(v for (day, hour), v in hours.items() if day != last or int(hour) < cut)


def totals(frame, metric="sessions") -> dict[str, float]:
    return {r.dateRange: float(getattr(r, metric)) for r in frame.totals.itertuples()}


@pytest.mark.parametrize("days", [1, 7])
def test_a_partial_period_and_its_comparison_count_the_same_hours(settings, standin_clean,
                                                                 ga_client, blog_today, days):
    current = DateRange(blog_today - timedelta(days=days - 1), blog_today)
    previous = comparison_range(current, "previous")
    ranges = (current, previous)
    with service_for(settings) as service:
        query = view_query(BLOG, ranges, Filters(), frozenset(), cutoff=CUT)
        trend = service.view(query).reports["trend_hourly" if days == 1 else "trend"]
    got = totals(trend)
    assert got["current"] == like_for_like(sessions_by_hour(ga_client, current), current, CUT)
    assert got["previous"] == like_for_like(sessions_by_hour(ga_client, previous), previous,
                                            CUT)
    # Yesterday's hours from noon on are left out: the comparison is not all of it.
    whole = sum(sessions_by_hour(ga_client, previous).values())
    assert got["previous"] < whole


def test_this_year_against_last_year_counts_the_same_hours_of_the_last_day(
        settings, standin_clean, ga_client, blog_today):
    current = DateRange(blog_today - timedelta(days=40), blog_today)
    previous = comparison_range(current, "year")
    with service_for(settings) as service:
        trend = service.view(tv_query(BLOG, (current, previous), frozenset(), cutoff=CUT)
                             ).reports["trend"]
        tiles = {k.metric: k for k in kpis(trend)}
    want = like_for_like(sessions_by_hour(ga_client, previous), previous, CUT)
    assert tiles["sessions"].previous == want
    assert tiles["sessions"].value == like_for_like(sessions_by_hour(ga_client, current),
                                                    current, CUT)


def test_what_changed_counts_the_same_hours_as_the_tiles(settings, standin_clean, ga_client,
                                                        blog_today):
    current = DateRange(blog_today - timedelta(days=2), blog_today)
    ranges = (current, comparison_range(current, "previous"))
    with service_for(settings) as service:
        changes = service.view(changes_query(BLOG, ranges, Filters(), frozenset(), CUT))
        view = service.view(view_query(BLOG, ranges, Filters(), frozenset(), cutoff=CUT))
    assert totals(changes.reports["changes_device"]) == totals(view.reports["trend"])


def test_the_cutoff_rule():
    today = EARLIEST_DATE + timedelta(days=4000)
    day = DateRange(today, today)
    week = DateRange(today - timedelta(days=6), today)
    before = comparison_range(day, "previous")
    assert cutoff_hour((day, before), today, 10) == 10
    assert cutoff_hour((day,), today, 10) is None  # nothing compared
    assert cutoff_hour((day, before), today + timedelta(days=1), 10) is None  # over
    assert cutoff_hour((day, before), today, 0) is None  # no whole hour yet
    assert cutoff_hour((week, comparison_range(week, "previous")), today, 0) == 0
    assert cutoff_note((day, before), 10) == f"to 10:00, against the same hours of " \
        f"{before.label()}"


def test_the_cutoff_filter_leaves_other_days_whole():
    day = DateRange(EARLIEST_DATE + timedelta(days=9), EARLIEST_DATE + timedelta(days=9))
    expr = ga.FilterExpression.pb(cutoff_filter([day], 3))
    other, hours = expr.or_group.expressions
    assert list(other.not_expression.filter.in_list_filter.values) == [
        day.end.strftime("%Y%m%d")]
    assert list(hours.filter.in_list_filter.values) == ["00", "01", "02"]
    # At midnight nothing of the last days counts: only the other days.
    assert ga.FilterExpression.pb(cutoff_filter([day], 0)).HasField("not_expression")


def test_a_comparison_before_ga4_kept_data_is_refused_with_the_reason():
    first = DateRange(EARLIEST_DATE, EARLIEST_DATE + timedelta(days=6))
    with pytest.raises(QueryError, match="keeps no data before 14 Aug 2015"):
        comparison_range(first, "previous")
    with pytest.raises(QueryError, match="keeps no data"):
        comparison_range(DateRange(EARLIEST_DATE + timedelta(days=100),
                                   EARLIEST_DATE + timedelta(days=110)), "year")
    assert comparison_range(DateRange(EARLIEST_DATE + timedelta(days=7),
                                      EARLIEST_DATE + timedelta(days=13)), "previous")


def test_an_exploration_of_a_period_not_over_is_asked_like_for_like(blog_today):
    state = ExploreState("Blog", "thismonth", "previous")
    assert state.query(BLOG, blog_today, CUT).cutoff == CUT
    assert state.query(BLOG, blog_today).cutoff is None  # no hour given: as before
    assert ExploreState("Blog", "last7", "previous").query(BLOG, blog_today, CUT).cutoff is None
    assert ExploreState("Blog", "today", "none").query(BLOG, blog_today, CUT).cutoff is None
