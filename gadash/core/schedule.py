"""When a digest is due: daily, weekly on a weekday, or monthly on a day, at a time of
the property's time zone.

A schedule reads and writes as a short phrase, the same in the app, the command and
the database: ``daily 08:00``, ``weekly mon 09:00``, ``monthly 1 07:30`` (a day past
a month's end, such as 31, means the month's last day). Times are wall-clock times of
the zone: a time skipped by a clock change (02:30 on the night clocks go forward an
hour) comes as late as the clock moved (03:30), and a time that happens twice is its
first.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gadash.errors import QueryError

KINDS = ("daily", "weekly", "monthly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PHRASE = re.compile(r"^(daily|weekly|monthly)(?:\s+(\w+))?\s+(\d{1,2}):(\d{2})$")
_LOOK_BACK = 40  # days: a month and a clock change, whatever the kind


@dataclass(frozen=True)
class Schedule:
    """``kind`` daily/weekly/monthly; ``day``: 0-6 (Monday first) for weekly, 1-31 for
    monthly, 0 for daily; ``at``: the time of day in the property's zone."""

    kind: str
    day: int
    at: time

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise QueryError(f"A schedule is daily, weekly or monthly, not {self.kind!r}.")
        if self.kind == "weekly" and not 0 <= self.day <= 6:
            raise QueryError("A weekly schedule names a weekday, Monday (0) to Sunday (6).")
        if self.kind == "monthly" and not 1 <= self.day <= 31:
            raise QueryError(f"A monthly schedule names a day from 1 to 31, not {self.day}.")

    @property
    def phrase(self) -> str:
        """The schedule as kept and typed: ``weekly mon 09:00``."""
        day = "" if self.kind == "daily" else (
            f" {WEEKDAYS[self.day]}" if self.kind == "weekly" else f" {self.day}")
        return f"{self.kind}{day} {self.at:%H:%M}"

    def describe(self) -> str:
        """In words: "Every Monday at 09:00"."""
        if self.kind == "daily":
            return f"Every day at {self.at:%H:%M}"
        if self.kind == "weekly":
            return f"Every {WEEKDAY_NAMES[self.day]} at {self.at:%H:%M}"
        last = " (or the month's last day)" if self.day > 28 else ""
        return f"On day {self.day} of every month{last} at {self.at:%H:%M}"

    def _falls_on(self, day: date) -> bool:
        if self.kind == "daily":
            return True
        if self.kind == "weekly":
            return day.weekday() == self.day
        return day.day == min(self.day, calendar.monthrange(day.year, day.month)[1])

    def _instant(self, day: date, zone: ZoneInfo) -> datetime:
        """The schedule's time on ``day`` in ``zone``, as UTC (see the module's rule for
        skipped and repeated times: fold 0 reads both with the offset before the change)."""
        return datetime.combine(day, self.at, tzinfo=zone).astimezone(UTC)

    def last_due(self, now: datetime, zone: str) -> datetime | None:
        """The latest due instant at or before ``now`` (aware), as UTC."""
        tz = ZoneInfo(zone or "UTC")
        today = now.astimezone(tz).date()
        for back in range(_LOOK_BACK):
            day = today - timedelta(days=back)
            if self._falls_on(day):
                instant = self._instant(day, tz)
                if instant <= now:
                    return instant
        return None

    def next_due(self, now: datetime, zone: str) -> datetime:
        """The first due instant after ``now`` (aware), as UTC."""
        tz = ZoneInfo(zone or "UTC")
        today = now.astimezone(tz).date()
        for ahead in range(_LOOK_BACK):
            day = today + timedelta(days=ahead)
            if self._falls_on(day):
                instant = self._instant(day, tz)
                if instant > now:
                    return instant
        raise AssertionError(f"{self.phrase} is not due within {_LOOK_BACK} days")


def parse_schedule(text: str) -> Schedule:
    """``daily 08:00``, ``weekly mon 09:00`` (or ``weekly monday 09:00``),
    ``monthly 1 07:30``. Raises QueryError saying what is wrong."""
    phrase = " ".join(text.lower().split())
    match = _PHRASE.match(phrase)
    if not match:
        raise QueryError(f"{text!r} is not a schedule such as \"daily 08:00\", "
                         "\"weekly mon 09:00\" or \"monthly 1 07:30\".")
    kind, day_text, hours, minutes = match.groups()
    if int(hours) > 23 or int(minutes) > 59:
        raise QueryError(f"{hours}:{minutes} is not a time of day (00:00 to 23:59).")
    at = time(int(hours), int(minutes))
    if kind == "daily":
        if day_text:
            raise QueryError(f"A daily schedule names no day: \"daily {at:%H:%M}\".")
        return Schedule(kind, 0, at)
    if not day_text:
        what = "a weekday (mon to sun)" if kind == "weekly" else "a day of the month (1 to 31)"
        raise QueryError(f"A {kind} schedule names {what}: \"{kind} "
                         f"{'mon' if kind == 'weekly' else '1'} {at:%H:%M}\".")
    if kind == "weekly":
        names = [w for w in WEEKDAYS if day_text[:3] == w
                 and WEEKDAY_NAMES[WEEKDAYS.index(w)].lower().startswith(day_text)]
        if not names:
            raise QueryError(f"{day_text!r} is not a weekday: mon, tue, wed, thu, fri, sat "
                             "or sun.")
        return Schedule(kind, WEEKDAYS.index(names[0]), at)
    if not day_text.isdigit():
        raise QueryError(f"{day_text!r} is not a day of the month (1 to 31).")
    return Schedule(kind, int(day_text), at)


__all__ = ["KINDS", "WEEKDAYS", "WEEKDAY_NAMES", "Schedule", "parse_schedule"]
