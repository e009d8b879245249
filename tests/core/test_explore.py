"""The Explore page's URL grammar and the exploration table (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from gadash.core.explore import (
    BUILTINS,
    ExploreState,
    builtin_state,
    exploration_params,
    parse_explore_query,
)
from gadash.core.frames import ReportFrame, ReportMeta
from gadash.core.query import (
    EXPLORE_PANEL,
    Condition,
    Exploration,
    FieldFilter,
    MetricFilter,
    ReportQuery,
)
from gadash.core.transforms import CHANGE, PREVIOUS, explore_table
from gadash.errors import QueryError

TODAY = date(2026, 12, 7)
PROPS = ["Blog", "Shop"]


def parse(query: str) -> tuple[ExploreState, list[str]]:
    return parse_explore_query(query, PROPS, TODAY)


def test_every_part_of_an_exploration_survives_its_url() -> None:
    state, notes = parse(
        "?property=Shop&range=2026-11-01..2026-11-30&compare=year&dim=customEvent:author"
        "&dim=date&metric=sessions&metric=customEvent:reading_time"
        "&where.eventName=page_view&where.eventName=scroll&where.country.not.contains=ger"
        "&where.pagePath.regex.case=%5E/blog/&having.sessions.ge=10&sort=sessions&order=asc"
        "&top=50&chart=table")
    assert notes == []
    e = state.exploration
    assert (state.property, state.range, state.compare) == ("Shop", "2026-11-01..2026-11-30",
                                                             "year")
    assert e.dimensions == ("customEvent:author", "date")
    assert e.metrics == ("sessions", "customEvent:reading_time")
    assert e.where == (
        FieldFilter("eventName", Condition(("page_view", "scroll"))),
        FieldFilter("country", Condition(("ger",), "contains", exclude=True)),
        FieldFilter("pagePath", Condition(("^/blog/",), "regex", case=True)))
    assert e.having == (MetricFilter("sessions", "ge", 10.0),)
    assert (e.sort, e.desc, e.limit, e.chart) == ("sessions", False, 50, "table")
    again, notes = parse(state.to_query_string())
    assert again == state and notes == []


def test_the_analyst_views_filters_become_conditions_on_their_dimensions() -> None:
    state, notes = parse("?property=Blog&source=google&page=/blog/&metric=sessions")
    assert notes == []
    assert state.exploration.where == (
        FieldFilter("sessionSource", Condition(("google",))),
        FieldFilter("pagePath", Condition(("/blog/",), "contains")))


@pytest.mark.parametrize("query, note", [
    ("?metric=sessions&top=7", "Ignored top='7'"),
    ("?metric=sessions&chart=pie", "Ignored chart='pie'"),
    ("?metric=sessions&sort=country", "Ignored sort='country'"),
    ("?metric=sessions&order=up", "Ignored order='up'"),
    ("?metric=sessions&having.sessions.gt=lots", "'lots' is not a number"),
    ("?metric=sessions&having.sessions.between=1", "Ignored having.sessions.between"),
    ("?metric=sessions&where.country.maybe=x", "Ignored where.country.maybe"),
    ("?metric=sessions&where.bad%20name=x", "is not a GA dimension or metric name"),
    ("?metric=a,b,c,d,e,f", "Only the first 5 metrics"),
    ("?metric=sessions&dim=a&dim=b&dim=c", "Only the first 2 dimensions"),
    ("?dim=country", "Choose at least one metric"),
    ("?metric=sessions&range=2027-01-01..2027-01-05", "in the future"),
    ("?metric=sessions&nonsense=1", "Ignored unknown parameter(s): nonsense"),
    ("?builtin=funnels", "No built-in panel 'funnels'"),
    ("?metric=sessions&top=%C2%B2", "Ignored top='²'"),  # a digit int() does not read
])
def test_a_refused_value_falls_back_and_says_why(query: str, note: str) -> None:
    state, notes = parse(query)
    assert any(note in n for n in notes), notes
    assert state.exploration.metrics  # always something to show


def test_no_question_opens_the_events_panel_and_a_builtin_opens_itself() -> None:
    assert parse("")[0].exploration == BUILTINS["events"].exploration
    state, notes = parse("?property=Shop&builtin=products")
    assert notes == [] and state.exploration == BUILTINS["products"].exploration
    assert builtin_state("campaigns", "Blog").exploration.dimensions == (
        "sessionCampaignName", "sessionSourceMedium")
    with pytest.raises(QueryError):
        builtin_state("nope", "Blog")


def test_defaults_stay_out_of_the_url() -> None:
    assert exploration_params(Exploration((), ("sessions",))) == [("metric", "sessions")]


def test_the_query_asks_the_explore_panel_over_the_period() -> None:
    state, _ = parse("?property=Blog&range=last7&compare=previous&dim=eventName"
                     "&metric=eventCount")
    query = state.query("properties/1", TODAY)
    assert isinstance(query, ReportQuery) and query.panels == (EXPLORE_PANEL,)
    assert query.explore == state.exploration and len(query.ranges) == 2


def _frame(rows: list[dict], totals: list[dict]) -> ReportFrame:
    return ReportFrame(EXPLORE_PANEL, pd.DataFrame(rows),
                       pd.DataFrame(totals) if totals else pd.DataFrame(columns=["dateRange"]),
                       ReportMeta("properties/1", fetched_at=datetime.now(UTC)))


def test_a_table_compares_each_row_with_the_same_rows_comparison_value() -> None:
    report = _frame([
        {"eventName": "page_view", "eventCount": 120, "dateRange": "current"},
        {"eventName": "sign_up", "eventCount": 9, "dateRange": "current"},
        {"eventName": "(other)", "eventCount": 4, "dateRange": "current"},
        {"eventName": "sign_up", "eventCount": 3, "dateRange": "previous"},
        {"eventName": "page_view", "eventCount": 100, "dateRange": "previous"},
    ], [{"eventCount": 140, "dateRange": "current"}, {"eventCount": 110, "dateRange": "previous"}])
    table = explore_table(report, ("eventName",), ("eventCount",), comparing=True, series=False)
    rows = table.rows.set_index("eventName")
    assert rows.loc["page_view", "eventCount" + PREVIOUS] == 100
    assert rows.loc["sign_up", "eventCount" + CHANGE] == pytest.approx(2.0)
    assert rows.loc["(other)", "isOther"] and pd.isna(rows.loc["(other)", "eventCount" + PREVIOUS])
    assert table.totals == {"eventCount": 140} and table.previous_totals == {"eventCount": 110}


def test_a_series_compares_step_by_step_and_a_cycle_value_by_value() -> None:
    day = pd.Timestamp
    report = _frame([
        {"date": day("2026-12-02"), "sessions": 5, "dateRange": "current"},
        {"date": day("2026-12-01"), "sessions": 4, "dateRange": "current"},
        {"date": day("2026-11-29"), "sessions": 2, "dateRange": "previous"},
        {"date": day("2026-11-30"), "sessions": 8, "dateRange": "previous"},
    ], [])
    table = explore_table(report, ("date",), ("sessions",), comparing=True, series=True)
    by_day = dict(zip(table.rows["date"].dt.day, table.rows["sessions" + PREVIOUS], strict=True))
    assert by_day == {1: 2, 2: 8}  # the first day with the first day
    hours = _frame([{"hour": "05", "sessions": 3, "dateRange": "current"},
                    {"hour": "06", "sessions": 1, "dateRange": "previous"},
                    {"hour": "05", "sessions": 6, "dateRange": "previous"}], [])
    table = explore_table(hours, ("hour",), ("sessions",), comparing=True, series=True)
    assert table.rows["sessions" + PREVIOUS].tolist() == [6]


def test_a_series_with_missing_buckets_compares_the_same_day_of_each_period() -> None:
    from gadash.core.query import DateRange

    day = pd.Timestamp
    # GA leaves out days without data: 1 Dec has no row this period, 23 Nov none before.
    report = _frame([
        {"date": day("2026-12-02"), "sessions": 5, "dateRange": "current"},
        {"date": day("2026-12-03"), "sessions": 6, "dateRange": "current"},
        {"date": day("2026-11-24"), "sessions": 8, "dateRange": "previous"},
        {"date": day("2026-11-25"), "sessions": 9, "dateRange": "previous"},
    ], [])
    ranges = (DateRange(date(2026, 12, 1), date(2026, 12, 3)),
              DateRange(date(2026, 11, 23), date(2026, 11, 25)))
    table = explore_table(report, ("date",), ("sessions",), True, True, ranges)
    by_day = dict(zip(table.rows["date"].dt.day, table.rows["sessions" + PREVIOUS], strict=True))
    assert by_day == {2: 8, 3: 9}  # the 2nd day with the 2nd day, not with a rank
