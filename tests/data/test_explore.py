"""Explorations: any dimensions and metrics of a property, through the real GA client
against the stand-in, compared with what GA answers to the same request asked directly."""

from __future__ import annotations

import pytest
from google.analytics.data_v1beta import types as ga

from gadash.core.query import (
    EXPLORE_PANEL,
    Condition,
    DateRange,
    Exploration,
    FieldFilter,
    MetricFilter,
    ReportQuery,
)
from gadash.errors import QueryError
from tests.conftest import BLOG
from tests.data.test_service import service_for


def explore_query(exploration: Exploration, *ranges: DateRange) -> ReportQuery:
    return ReportQuery(BLOG, (EXPLORE_PANEL,), ranges, explore=exploration)


def direct(ga_client, rng: DateRange, dims, metrics, **extra) -> dict[tuple[str, ...], list]:
    """GA's own answer to the same question, rows by their dimension values."""
    response = ga_client.run_report(ga.RunReportRequest(
        property=BLOG, dimensions=[ga.Dimension(name=d) for d in dims],
        metrics=[ga.Metric(name=m) for m in metrics], limit=10_000,
        date_ranges=[ga.DateRange(start_date=str(rng.start), end_date=str(rng.end))], **extra))
    return {tuple(v.value for v in r.dimension_values): [float(v.value) for v in r.metric_values]
            for r in response.rows}


def test_events_by_count_with_conditions_are_gas_own_values(settings, standin_clean, ga_client,
                                                             past_days) -> None:
    current, previous = DateRange(past_days(14), past_days(1)), DateRange(past_days(28),
                                                                         past_days(15))
    exploration = Exploration(
        ("eventName",), ("eventCount", "totalUsers"),
        where=(FieldFilter("country", Condition(("Germany", "France", "United States"))),),
        having=(MetricFilter("eventCount", "ge", 5),))
    with service_for(settings) as service:
        assert service.incompatible(BLOG, exploration) == []
        frame = service.view(explore_query(exploration, current, previous)).reports["explore"]
    countries = ga.FilterExpression(filter=ga.Filter(
        field_name="country", in_list_filter=ga.Filter.InListFilter(
            values=["Germany", "France", "United States"])))
    at_least_5 = ga.FilterExpression(filter=ga.Filter(
        field_name="eventCount", numeric_filter=ga.Filter.NumericFilter(
            operation=ga.Filter.NumericFilter.Operation.GREATER_THAN_OR_EQUAL,
            value=ga.NumericValue(double_value=5))))
    want = direct(ga_client, current, ["eventName"], ["eventCount", "totalUsers"],
                  dimension_filter=countries, metric_filter=at_least_5)
    rows = frame.rows[frame.rows["dateRange"] == "current"]
    assert want and {(r.eventName,): [r.eventCount, r.totalUsers]
                     for r in rows.itertuples()} == want
    assert list(rows["eventCount"]) == sorted(rows["eventCount"], reverse=True)
    # The comparison period: the same events, whatever their counts were then.
    before = direct(ga_client, previous, ["eventName"], ["eventCount"],
                    dimension_filter=countries)
    for r in frame.rows[frame.rows["dateRange"] == "previous"].itertuples():
        assert before[(r.eventName,)] == [r.eventCount]
    assert set(frame.rows.loc[frame.rows["dateRange"] == "previous", "eventName"]) <= \
        set(rows["eventName"])
    assert int(frame.totals.loc[frame.totals["dateRange"] == "current", "eventCount"].iloc[0]) \
        >= int(rows["eventCount"].sum())


def test_a_series_has_every_day_in_order(settings, standin_clean, ga_client, past_days) -> None:
    rng = DateRange(past_days(30), past_days(1))
    exploration = Exploration(("date",), ("sessions",))
    assert exploration.drawn_as == "line"
    with service_for(settings) as service:
        frame = service.view(explore_query(exploration, rng)).reports["explore"]
    assert len(frame.rows) == 30 and frame.rows["date"].is_monotonic_increasing
    want = direct(ga_client, rng, ["date"], ["sessions"])
    assert sum(v[0] for v in want.values()) == frame.rows["sessions"].sum()


def test_a_compared_series_asks_each_period_whole_in_one_call(settings, standin_clean,
                                                              ga_client, past_days) -> None:
    current, previous = DateRange(past_days(14), past_days(1)), DateRange(past_days(28),
                                                                         past_days(15))
    # The metric condition chooses this period's days; the comparison has every day.
    exploration = Exploration(("date",), ("sessions",),
                              having=(MetricFilter("sessions", "gt", 10 ** 9),))
    with service_for(settings) as service:
        frame = service.view(explore_query(exploration, current, previous)).reports["explore"]
    rows = frame.rows
    assert (rows["dateRange"] == "current").sum() == 0
    assert (rows["dateRange"] == "previous").sum() == 14
    want = direct(ga_client, previous, ["date"], ["sessions"])
    assert sum(v[0] for v in want.values()) == rows["sessions"].sum()
    assert standin_clean.servicer.calls["BatchRunReports"] == 1


def test_unknown_fields_are_refused_before_any_data_call(settings, standin_clean) -> None:
    exploration = Exploration(("customEvent:nothing_here",), ("sessions",))
    with service_for(settings) as service:
        problems = service.incompatible(BLOG, exploration)
        assert problems == ["This property has no dimension or metric named "
                            "'customEvent:nothing_here'."]
        fine = Exploration(("country",), ("sessions", "keyEvents"))
        assert service.incompatible(BLOG, fine) == []
        assert service.incompatible(BLOG, fine) == []  # cached
    calls = standin_clean.servicer.calls
    assert calls["GetMetadata"] == 1 and calls["CheckCompatibility"] == 1
    assert calls["RunReport"] == 0 and calls["BatchRunReports"] == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dimensions": (), "metrics": ()}, "at least one metric"),
    ({"dimensions": (), "metrics": tuple(f"m{i}" for i in range(6))}, "At most 5 metrics"),
    ({"dimensions": ("a", "b", "c"), "metrics": ("sessions",)}, "At most 2 dimensions"),
    ({"dimensions": ("a b",), "metrics": ("sessions",)}, "is not a GA dimension"),
    ({"dimensions": ("country",), "metrics": ("sessions",), "sort": "city"}, "not among"),
    ({"dimensions": ("country",), "metrics": ("sessions",), "limit": 7}, "top 10, 25"),
    ({"dimensions": ("country",), "metrics": ("sessions", "sessions")}, "chosen twice"),
])
def test_explorations_gas_cannot_answer_are_refused(kwargs, message) -> None:
    with pytest.raises(QueryError, match=message):
        Exploration(**kwargs)


def test_each_exploration_has_its_own_cache_key(past_days) -> None:
    rng = DateRange(past_days(7), past_days(1))
    keys = {explore_query(Exploration(d, m), rng).cache_key()
            for d, m in [(("country",), ("sessions",)), (("city",), ("sessions",)),
                         (("country",), ("totalUsers",))]}
    assert len(keys) == 3
    with pytest.raises(QueryError):
        ReportQuery(BLOG, (EXPLORE_PANEL,), (rng,))  # an explore panel needs its question
