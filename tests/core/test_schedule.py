"""Digest schedules: phrases, due times in a property's zone, clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from gadash.core.schedule import Schedule, parse_schedule
from gadash.errors import QueryError

BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(("text", "phrase"), [
    ("daily 08:00", "daily 08:00"),
    ("Weekly Monday 9:05", "weekly mon 09:05"),
    ("weekly  sun 23:59", "weekly sun 23:59"),
    ("monthly 31 07:30", "monthly 31 07:30"),
])
def test_phrases_read_and_write_the_same(text, phrase):
    assert parse_schedule(text).phrase == phrase
    assert parse_schedule(phrase).phrase == phrase


@pytest.mark.parametrize(("text", "says"), [
    ("hourly 08:00", "not a schedule"),
    ("daily 24:00", "not a time of day"),
    ("daily mon 08:00", "names no day"),
    ("weekly 08:00", "names a weekday"),
    ("weekly mox 08:00", "not a weekday"),
    ("monthly 0 08:00", "from 1 to 31"),
    ("monthly 32 08:00", "from 1 to 31"),
    ("monthly 08:00", "day of the month"),
])
def test_wrong_phrases_say_what_is_wrong(text, says):
    with pytest.raises(QueryError, match=says):
        parse_schedule(text)


def test_weekly_due_in_the_property_zone():
    s = parse_schedule("weekly mon 09:00")
    now = datetime(2026, 12, 7, 7, 59, tzinfo=UTC)  # Monday 08:59 in Berlin
    assert s.next_due(now, BERLIN) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert s.last_due(now, BERLIN) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert s.last_due(at, BERLIN) == at  # due at the instant itself
    assert s.describe() == "Every Monday at 09:00"


def test_monthly_31_is_the_last_day_of_short_months():
    s = parse_schedule("monthly 31 06:00")
    due = s.next_due(datetime(2027, 2, 1, tzinfo=UTC), "UTC")
    assert due == datetime(2027, 2, 28, 6, 0, tzinfo=UTC)
    assert s.next_due(due, "UTC") == datetime(2027, 3, 31, 6, 0, tzinfo=UTC)


def test_a_time_the_clock_skips_comes_when_the_clock_has_moved():
    # Berlin skips 02:00-03:00 on 28 March 2027: 02:30 comes at 03:30 CEST (01:30 UTC).
    s = Schedule("daily", 0, time(2, 30))
    due = s.next_due(datetime(2027, 3, 27, 12, 0, tzinfo=UTC), BERLIN)
    assert due == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    # The next day is back to 02:30 local (00:30 UTC, summer time).
    assert s.next_due(due, BERLIN) == datetime(2027, 3, 29, 0, 30, tzinfo=UTC)


def test_a_time_that_happens_twice_is_due_once_at_the_first():
    # Berlin's clocks go back at 03:00 on 31 October 2027: 02:30 happens twice.
    s = Schedule("daily", 0, time(2, 30))
    due = s.next_due(datetime(2027, 10, 30, 12, 0, tzinfo=UTC), BERLIN)
    assert due == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert s.next_due(due, BERLIN) == datetime(2027, 11, 1, 1, 30, tzinfo=UTC)


def test_zones_either_side_of_the_date_line():
    s = parse_schedule("daily 00:30")
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    # 02:00 on 8 December in Kiritimati (UTC+14): next 00:30 local is 9 December's.
    assert s.next_due(now, "Pacific/Kiritimati") == datetime(2026, 12, 8, 10, 30, tzinfo=UTC)
    assert s.last_due(now, "Pacific/Kiritimati") == datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    # 02:00 on 7 December in Adak (UTC-10): next 00:30 local is 8 December's.
    assert s.next_due(now, "America/Adak") == datetime(2026, 12, 8, 10, 30, tzinfo=UTC)
