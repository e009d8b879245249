"""How long periods are: a trend's buckets (hour, day, week, month) against the range
they are cut from, and two compared periods against each other (pure).

A week or month at either end of a range often holds fewer days than a full one (the
range starts mid-week, or ends today), and the bucket that holds the moment GA answered
is not over. Such a bucket is *partial*: drawn apart, never judged, and compared with
the comparison's bucket per day when their lengths differ.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from gadash.core.query import DateRange

# Metrics that add up day by day, so that a bucket's total over its days is a fair
# per-day average; users (and rates) do not: a user of two days is one user.
ADDITIVE = frozenset({"sessions", "screenPageViews", "engagedSessions", "eventCount",
                      "keyEvents", "totalRevenue", "transactions", "newUsers"})


@dataclass(frozen=True)
class Bucket:
    """The days of a range one trend point covers: ``days`` of the ``of`` a full bucket
    has, from ``first`` to ``last``; ``open``: it holds the moment GA answered (today,
    or the current hour), so it is not over."""

    first: date
    last: date
    days: int
    of: int
    open: bool = False
    hourly: bool = False

    @property
    def partial(self) -> bool:
        return self.open or self.days < self.of

    def span(self) -> str:
        """01–03 Dec, 29 Nov–03 Dec, or 03 Dec."""
        if self.first == self.last:
            return f"{self.first:%d %b}"
        if (self.first.year, self.first.month) == (self.last.year, self.last.month):
            return f"{self.first:%d}–{self.last:%d %b}"
        return f"{self.first:%d %b}–{self.last:%d %b}"

    def describe(self) -> str:
        """"partial: 3 of 7 days, 01–03 Dec", with "today is not over" for an open one;
        "" for a full bucket."""
        if not self.partial:
            return ""
        if self.hourly:
            return "partial: this hour is not over"
        if self.of == 1:
            return "partial: today is not over"
        text = f"partial: {self.days} of {self.of} days, {self.span()}"
        return text + ", today is not over" if self.open else text


_LATEST_ZONE = timezone(timedelta(hours=14))  # Kiritimati: the first to reach a day


def latest_today(now: datetime | None = None) -> date:
    """The newest date anywhere on Earth: what "today" is, for checking a range, where
    the property's time zone is not known (the command line, without GA). A range that
    is fine in any property's zone then passes; the app checks it again in the zone."""
    return (now or datetime.now(UTC)).astimezone(_LATEST_ZONE).date()


def wall_clock(moment: datetime, zone: str) -> datetime:
    """An aware moment as the property's wall clock (naive), as GA's days and hours
    are the property's."""
    return moment.astimezone(ZoneInfo(zone or "UTC")).replace(tzinfo=None)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def bucket(start: datetime | date, time_col: str, rng: DateRange,
           now: datetime | None = None) -> Bucket:
    """The bucket of a trend point starting at ``start`` (an hour, a day, the Monday of
    an ISO week, the first of a month) within ``rng``; ``now``: the property's wall
    clock when GA answered (naive), None when not known (then nothing is open)."""
    moment = start if isinstance(start, datetime) else datetime.combine(start, datetime.min.time())
    day = moment.date()
    if time_col == "dateHour":
        hour_open = now is not None and now.replace(minute=0, second=0, microsecond=0) \
            == moment.replace(minute=0, second=0, microsecond=0)
        return Bucket(day, day, 1, 1, hour_open, hourly=True)
    if time_col == "isoYearIsoWeek":
        begin = day - timedelta(days=day.weekday())
        end = begin + timedelta(days=6)
    elif time_col == "yearMonth":
        begin, end = day.replace(day=1), _month_end(day)
    else:
        begin = end = day
    first, last = max(begin, rng.start), min(end, rng.end)
    is_open = now is not None and first <= now.date() <= last
    return Bucket(first, last, (last - first).days + 1, (end - begin).days + 1, is_open)


def per_day_change(now: float, now_days: int, before: float, before_days: int
                   ) -> float | None:
    """The change of the per-day average (0.085: +8.5%); None when the comparison had
    none. 322 in 2 days against 445 in 3 is 161 a day against 148: +8.5%, not −28%."""
    if not before or now_days <= 0 or before_days <= 0:
        return None
    return (now / now_days) / (before / before_days) - 1


def _percent(change: float) -> str:
    text = f"{abs(change) * 100:.1f}%"
    return f"+{text}" if change > 0 else (f"−{text}" if change < 0 else "0.0%")


def _days(n: int) -> str:
    return f"{n:,} day{'s' * (n != 1)}"


def compare_buckets(metric: str, now: float, this: Bucket, before: float | None,
                    that: Bucket | None) -> str:
    """How a partial point compares with the comparison's point at its step, in words:
    totals when both hold as many days, per-day averages when they do not, "not
    compared" when the bucket is not over, the metric does not add up by day, or the
    comparison has no bucket there."""
    if before is None or that is None:
        return "not compared: the comparison has no point here"
    if this.open:
        return "not compared: not over yet"
    if this.days == that.days:
        if not before:
            return "the comparison had none"
        return f"{_percent(now / before - 1)} on the comparison's {_days(that.days)}"
    if metric not in ADDITIVE:
        return f"not compared: {this.days} days against the comparison's {that.days}, " \
               "and this metric does not add up day by day"
    change = per_day_change(now, this.days, before, that.days)
    per_day = f"{now / this.days:,.0f} a day against {before / that.days:,.0f} in the " \
              f"comparison's {_days(that.days)}"
    return per_day + ("" if change is None else f": {_percent(change)} a day")


def _leap_days(rng: DateRange) -> list[date]:
    return [date(y, 2, 29) for y in range(rng.start.year, rng.end.year + 1)
            if calendar.isleap(y) and rng.start <= date(y, 2, 29) <= rng.end]


def length_note(ranges: Sequence[DateRange]) -> str:
    """A plain note when the comparison period is not as long as this one, naming the
    29 February that makes the difference; "" when they are as long, or nothing is
    compared. E.g. "The comparison has 3 days (with 29 Feb 2024), this period 2:
    its totals count 1 day more"."""
    if len(ranges) < 2:
        return ""
    this, that = ranges[0], ranges[1]
    if this.days == that.days:
        return ""
    longer, shorter = (that, this) if that.days > this.days else (this, that)
    gap = longer.days - shorter.days
    # A year's comparison differs by the 29 Februaries one period has and the other not.
    leaps = _leap_days(longer)
    extra = leaps if len(leaps) - len(_leap_days(shorter)) == gap else []
    named = f" (with {', '.join(f'{d:%d %b %Y}' for d in extra)})" if extra else ""
    if longer is that:
        head = f"The comparison has {that.days:,} days{named}, this period {this.days:,}"
        tail = f"its totals count {gap:,} day{'s' * (gap > 1)} more"
    else:
        head = f"This period has {this.days:,} days{named}, the comparison {that.days:,}"
        tail = f"this period's totals count {gap:,} day{'s' * (gap > 1)} more"
    return f"{head}: {tail}"
