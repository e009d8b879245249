"""A trend's buckets against their range, per-day comparisons, and periods of
different lengths (gadash.core.periods)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gadash.core.periods import (
    Bucket,
    bucket,
    compare_buckets,
    latest_today,
    length_note,
    per_day_change,
    wall_clock,
)
from gadash.core.query import DateRange, comparison_range


def test_a_week_cut_by_the_range_is_partial_and_says_which_days():
    rng = DateRange(date(2025, 12, 3), date(2025, 12, 30))  # Wednesday to Tuesday
    first = bucket(date(2025, 12, 1), "isoYearIsoWeek", rng)
    assert (first.first, first.last, first.days, first.of) == (
        date(2025, 12, 3), date(2025, 12, 7), 5, 7)
    assert first.describe() == "partial: 5 of 7 days, 03–07 Dec"
    full = bucket(date(2025, 12, 8), "isoYearIsoWeek", rng)
    assert not full.partial and full.describe() == ""
    last = bucket(date(2025, 12, 29), "isoYearIsoWeek", rng)
    assert last.describe() == "partial: 2 of 7 days, 29–30 Dec"
    # across a month's end
    cut = bucket(date(2025, 12, 29), "isoYearIsoWeek", DateRange(date(2025, 12, 29),
                                                                 date(2026, 1, 2)))
    assert cut.describe() == "partial: 5 of 7 days, 29 Dec–02 Jan"


def test_a_month_counts_its_own_days_february_of_a_leap_year_29():
    rng = DateRange(date(2024, 2, 10), date(2024, 3, 31))
    feb = bucket(date(2024, 2, 1), "yearMonth", rng)
    assert (feb.days, feb.of) == (20, 29) and feb.describe() == "partial: 20 of 29 days, 10–29 Feb"
    assert not bucket(date(2024, 3, 1), "yearMonth", rng).partial


def test_the_bucket_that_holds_the_moment_ga_answered_is_open():
    rng = DateRange(date(2025, 12, 1), date(2025, 12, 3))
    now = datetime(2025, 12, 3, 14, 37)
    assert bucket(date(2025, 12, 3), "date", rng, now).describe() == \
        "partial: today is not over"
    assert not bucket(date(2025, 12, 2), "date", rng, now).partial
    week = bucket(date(2025, 12, 1), "isoYearIsoWeek", rng, now)
    assert week.open and week.describe() == "partial: 3 of 7 days, 01–03 Dec, today is not over"
    assert bucket(datetime(2025, 12, 3, 14), "dateHour", rng, now).describe() == \
        "partial: this hour is not over"
    assert not bucket(datetime(2025, 12, 3, 13), "dateHour", rng, now).partial
    # not knowing when GA answered, nothing is open
    assert not bucket(date(2025, 12, 3), "date", rng).partial


def test_wall_clock_is_the_propertys():
    from datetime import UTC

    assert wall_clock(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), "Asia/Tokyo") == \
        datetime(2026, 7, 2, 8, 30)


def test_a_two_day_week_against_a_three_day_week_compares_per_day():
    # issue 31 #5: 322 against 445 reads as -28%; per day it is 161 against 148
    assert per_day_change(322, 2, 445, 3) == pytest.approx(161 / (445 / 3) - 1)
    assert per_day_change(322, 2, 445, 3) == pytest.approx(0.0854, abs=1e-4)
    this = Bucket(date(2025, 12, 29), date(2025, 12, 30), 2, 7)
    that = Bucket(date(2025, 12, 1), date(2025, 12, 3), 3, 7)
    text = compare_buckets("sessions", 322, this, 445, that)
    assert text == "161 a day against 148 in the comparison's 3 days: +8.5% a day"
    assert "28" not in text
    # users do not add up by day: a user of two days is one user
    assert compare_buckets("totalUsers", 300, this, 400, that).startswith("not compared")
    # as many days: the totals compare as they are
    same = Bucket(date(2025, 12, 1), date(2025, 12, 2), 2, 7)
    assert compare_buckets("sessions", 322, this, 350, same) == "−8.0% on the comparison's 2 days"
    open_week = Bucket(date(2025, 12, 29), date(2025, 12, 30), 2, 7, open=True)
    assert compare_buckets("sessions", 322, open_week, 445, that) == \
        "not compared: not over yet"
    assert compare_buckets("sessions", 322, this, None, None).startswith("not compared")
    assert per_day_change(5, 1, 0, 2) is None


def test_same_period_last_year_over_29_february_says_the_lengths_differ():
    # issue 31 #6: 28 Feb - 1 Mar 2025 (2 days) against the same dates of 2024 (3 days)
    this = DateRange(date(2025, 2, 28), date(2025, 3, 1))
    ranges = (this, comparison_range(this, "year"))
    assert ranges[1] == DateRange(date(2024, 2, 28), date(2024, 3, 1))
    assert length_note(ranges) == ("The comparison has 3 days (with 29 Feb 2024), this "
                                   "period 2: its totals count 1 day more")
    # and the other way: 2024 against 2023
    leap = DateRange(date(2024, 2, 28), date(2024, 3, 1))
    assert length_note((leap, comparison_range(leap, "year"))) == (
        "This period has 3 days (with 29 Feb 2024), the comparison 2: this period's "
        "totals count 1 day more")
    # a year to date over February
    ytd = DateRange(date(2025, 1, 1), date(2025, 3, 10))
    assert length_note((ytd, comparison_range(ytd, "year"))).startswith(
        "The comparison has 70 days (with 29 Feb 2024), this period 69")


@pytest.mark.parametrize("ranges", [
    # starting on 29 February: a year earlier starts on the 28th, as many days
    (DateRange(date(2024, 2, 29), date(2024, 3, 5)),
     DateRange(date(2023, 2, 28), date(2023, 3, 5))),
    # no 29 February on either side
    (DateRange(date(2025, 3, 1), date(2025, 3, 31)),
     DateRange(date(2024, 3, 1), date(2024, 3, 31))),
    (DateRange(date(2025, 3, 1), date(2025, 3, 31)),),  # nothing compared
])
def test_periods_as_long_as_each_other_need_no_note(ranges):
    assert length_note(ranges) == ""


def test_a_difference_that_is_no_leap_day_is_counted_without_naming_days():
    ranges = (DateRange(date(2025, 3, 1), date(2025, 3, 31)),
              DateRange(date(2025, 2, 1), date(2025, 2, 28)))
    assert length_note(ranges) == ("This period has 31 days, the comparison 28: this "
                                   "period's totals count 3 days more")


def test_the_latest_today_is_kiritimatis_so_no_zones_today_is_in_the_future():
    assert latest_today(datetime(2026, 12, 7, 9, 59, tzinfo=UTC)) == date(2026, 12, 7)
    assert latest_today(datetime(2026, 12, 7, 10, 0, tzinfo=UTC)) == date(2026, 12, 8)
    assert latest_today(datetime(2026, 12, 7, 23, 0, tzinfo=UTC)) == date(2026, 12, 8)

