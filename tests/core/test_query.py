"""Date presets, comparison periods, validation and the property's calendar day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gadash.core.query import (
    DateRange,
    Filters,
    ReportQuery,
    comparison_range,
    local_date,
    preset_range,
    validate_range,
)
from gadash.errors import QueryError


@pytest.mark.parametrize(("preset", "today", "start", "end"), [
    ("today", date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1)),
    ("yesterday", date(2026, 1, 1), date(2025, 12, 31), date(2025, 12, 31)),
    ("last7", date(2026, 1, 3), date(2025, 12, 27), date(2026, 1, 2)),
    ("last28", date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 28)),
    ("last90", date(2026, 3, 31), date(2025, 12, 31), date(2026, 3, 30)),
    ("thismonth", date(2026, 2, 28), date(2026, 2, 1), date(2026, 2, 28)),
    ("lastmonth", date(2026, 1, 15), date(2025, 12, 1), date(2025, 12, 31)),
    ("lastmonth", date(2024, 3, 31), date(2024, 2, 1), date(2024, 2, 29)),
    ("thisyear", date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1)),
    ("thisyear", date(2026, 11, 26), date(2026, 1, 1), date(2026, 11, 26)),
])
def test_presets_across_month_and_year_ends(preset, today, start, end):
    assert preset_range(preset, today) == DateRange(start, end)


def test_last_n_days_excludes_today_and_has_n_days():
    for n in (7, 28, 90):
        rng = preset_range(f"last{n}", date(2026, 3, 2))
        assert rng.days == n and rng.end == date(2026, 3, 1)


def test_comparison_periods():
    rng = DateRange(date(2026, 3, 1), date(2026, 3, 28))
    assert comparison_range(rng, "previous") == DateRange(date(2026, 2, 1), date(2026, 2, 28))
    assert comparison_range(rng, "year") == DateRange(date(2025, 3, 1), date(2025, 3, 28))
    assert comparison_range(rng, "none") is None
    leap = DateRange(date(2024, 2, 29), date(2024, 2, 29))
    assert comparison_range(leap, "year") == DateRange(date(2023, 2, 28), date(2023, 2, 28))
    assert comparison_range(leap, "previous") == DateRange(date(2024, 2, 28), date(2024, 2, 28))
    with pytest.raises(QueryError, match="Unknown comparison"):
        comparison_range(rng, "lastweek")


def test_validation_messages_say_why():
    today = date(2026, 11, 26)
    with pytest.raises(QueryError, match="ends .* before it starts"):
        validate_range(DateRange(date(2026, 5, 2), date(2026, 5, 1)), today)
    with pytest.raises(QueryError, match="starts in the future"):
        validate_range(DateRange(date(2026, 12, 1), date(2026, 12, 2)), today)
    with pytest.raises(QueryError, match="ends in the future"):
        validate_range(DateRange(date(2026, 11, 1), date(2026, 12, 2)), today)
    with pytest.raises(QueryError, match="keeps no data before"):
        validate_range(DateRange(date(2014, 1, 1), date(2016, 1, 1)), today)
    assert validate_range(DateRange(today, today), today).days == 1


@pytest.mark.parametrize(("zone", "utc", "expected"), [
    # 00:30 UTC on the day Europe springs forward: Berlin is already on the 29th,
    # Los Angeles still on the 28th.
    ("Europe/Berlin", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29)),
    ("America/Los_Angeles", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 28)),
    # US fall-back night: 05:30 UTC is 01:30 EDT... then EST; still 1 November.
    ("America/New_York", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), date(2026, 11, 1)),
    ("America/New_York", datetime(2026, 11, 1, 3, 59, tzinfo=UTC), date(2026, 10, 31)),
    ("Pacific/Auckland", datetime(2026, 12, 31, 11, 0, tzinfo=UTC), date(2027, 1, 1)),
])
def test_local_date_is_the_property_day(zone, utc, expected):
    assert local_date(zone, utc) == expected
    # and presets follow the property's day, not the server's
    assert preset_range("today", local_date(zone, utc)).start == expected


def test_cache_key_covers_everything():
    rng = (DateRange(date(2026, 1, 1), date(2026, 1, 28)),)
    base = ReportQuery("properties/1", ("trend",), rng)
    variants = [
        ReportQuery("properties/2", ("trend",), rng),
        ReportQuery("properties/1", ("audience",), rng),
        ReportQuery("properties/1", ("trend",), (DateRange(date(2026, 1, 2), date(2026, 1, 28)),)),
        ReportQuery("properties/1", ("trend",), rng, Filters(country="Germany")),
        ReportQuery("properties/1", ("trend",), rng, Filters(device="Germany")),
    ]
    keys = {q.cache_key() for q in variants}
    assert base.cache_key() not in keys and len(keys) == len(variants)
    assert base.cache_key() == ReportQuery("properties/1", ("trend",), rng).cache_key()


def test_unknown_panel_is_refused():
    with pytest.raises(QueryError, match="Unknown panel"):
        ReportQuery("properties/1", ("weather",), (DateRange(date(2026, 1, 1), date(2026, 1, 2)),))
