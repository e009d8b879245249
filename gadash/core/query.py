"""What to ask for: date ranges, presets, comparison periods, filters, the query."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from gadash.core.catalog import CHOICE_DIMENSIONS, FILTERS, get_panel
from gadash.errors import QueryError

# GA4 holds no data before this day; the Data API refuses earlier start dates.
EARLIEST_DATE = date(2015, 8, 14)

PRESETS: dict[str, str] = {
    "today": "Today",
    "yesterday": "Yesterday",
    "last7": "Last 7 days",
    "last28": "Last 28 days",
    "last90": "Last 90 days",
    "thismonth": "This month",
    "lastmonth": "Last month",
    "thisyear": "This year",
}
COMPARISONS: dict[str, str] = {
    "none": "No comparison",
    "previous": "Previous period",
    "year": "Same period last year",
}


# The names gadash gives its date ranges in GA requests; frames carry them in
# their dateRange column.
RANGE_NAMES = ("current", "previous", "range_2", "range_3")


@dataclass(frozen=True, order=True)
class DateRange:
    """Inclusive range of days in the property's time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        if self.start == self.end:
            return self.start.strftime("%d %b %Y")
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"

    def to_param(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def local_date(zone: str, now: datetime | None = None) -> date:
    """The calendar day it is in a time zone (GA's days are the property's days)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()


def preset_range(preset: str, today: date) -> DateRange:
    """The range a preset id stands for, seen from ``today``. Raises QueryError."""
    yesterday = today - timedelta(days=1)
    match preset:
        case "today":
            return DateRange(today, today)
        case "yesterday":
            return DateRange(yesterday, yesterday)
        case "last7" | "last28" | "last90":
            n = int(preset.removeprefix("last"))
            return DateRange(today - timedelta(days=n), yesterday)
        case "thismonth":
            return DateRange(today.replace(day=1), today)
        case "lastmonth":
            end = today.replace(day=1) - timedelta(days=1)
            return DateRange(end.replace(day=1), end)
        case "thisyear":
            return DateRange(today.replace(month=1, day=1), today)
    raise QueryError(f"Unknown date range {preset!r}; use one of {', '.join(PRESETS)} "
                     "or YYYY-MM-DD..YYYY-MM-DD.")


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def comparison_range(current: DateRange, mode: str) -> DateRange | None:
    """The period to compare with: the same length just before, or a year earlier."""
    match mode:
        case "none":
            return None
        case "previous":
            end = current.start - timedelta(days=1)
            return DateRange(end - timedelta(days=current.days - 1), end)
        case "year":
            return DateRange(_year_earlier(current.start), _year_earlier(current.end))
    raise QueryError(f"Unknown comparison {mode!r}; use one of {', '.join(COMPARISONS)}.")


def validate_range(rng: DateRange, today: date) -> DateRange:
    """Refuse ranges GA cannot answer, with a message that says why."""
    if rng.end < rng.start:
        raise QueryError(
            f"The range ends ({rng.end:%d %b %Y}) before it starts ({rng.start:%d %b %Y})."
        )
    if rng.start > today:
        raise QueryError(
            f"The range starts in the future ({rng.start:%d %b %Y}); today is {today:%d %b %Y}."
        )
    if rng.end > today:
        raise QueryError(f"The range ends in the future ({rng.end:%d %b %Y}); "
                         f"today is {today:%d %b %Y}.")
    if rng.start < EARLIEST_DATE:
        raise QueryError(
            f"Google Analytics 4 keeps no data before {EARLIEST_DATE:%d %b %Y}; "
            f"the range starts {rng.start:%d %b %Y}."
        )
    return rng


# How a filter compares a dimension's value with the analyst's text.
MATCHES: dict[str, str] = {"is": "is", "contains": "contains", "regex": "matches regex"}
MAX_FILTER_VALUES = 50


@dataclass(frozen=True)
class Condition:
    """One filter: the dimension's value is (not) one of ``values``, contains one of
    them, or matches one of them as a regular expression (RE2, anywhere in the value;
    anchor with ^ and $). Text matches ignore case unless ``case`` is set."""

    values: tuple[str, ...]
    match: str = "is"  # MATCHES
    exclude: bool = False
    case: bool = False

    def describe(self) -> str:
        """The condition in words, e.g. 'is not google or bing (match case)'."""
        verb = {"is": ("is", "is not"), "contains": ("contains", "does not contain"),
                "regex": ("matches", "does not match")}[self.match][self.exclude]
        shown = " or ".join(self.values[:3]) + (
            f" or {len(self.values) - 3} more" if len(self.values) > 3 else "")
        return f"{verb} {shown}" + (" (match case)" if self.case else "")


def _condition(value: Condition | str | None, name: str) -> Condition | None:
    if value is None or isinstance(value, Condition):
        return value
    if not value:
        return None
    return Condition((value,), DEFAULT_MATCH.get(name, "is"))


@dataclass(frozen=True)
class Filters:
    """Analyst filters, one condition per dimension, all of which must hold (AND).

    A plain string stands for the dimension's default condition (``page`` contains
    it, the others are it), so ``Filters(country="Germany")`` reads as it says.
    """

    source: Condition | None = None
    medium: Condition | None = None
    country: Condition | None = None
    device: Condition | None = None
    channel: Condition | None = None
    page: Condition | None = None

    def __init__(self, **conditions: Condition | str | None) -> None:
        for f in fields(Filters):
            object.__setattr__(self, f.name, _condition(conditions.pop(f.name, None), f.name))
        if conditions:
            raise TypeError(f"Unknown filter(s): {', '.join(conditions)}")

    def active(self) -> dict[str, Condition]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def without(self, name: str) -> Filters:
        return Filters(**{**self.active(), name: None})

    def with_condition(self, name: str, condition: Condition | None) -> Filters:
        return Filters(**{**self.active(), name: condition})


# filter name -> GA dimension
FILTER_FIELDS: dict[str, str] = CHOICE_DIMENSIONS
# The match a bare ``name=value`` means where it is not "is" (FILTERS).
DEFAULT_MATCH = {f.name: f.match for f in FILTERS.values() if f.match != "is"}
if {f.name for f in fields(Filters)} != set(FILTERS):
    raise AssertionError("Filters' fields must be the catalog's FILTERS")


@dataclass(frozen=True)
class ReportQuery:
    """Everything that decides a view's data: the cache key covers all of it."""

    property_id: str
    panels: tuple[str, ...]
    ranges: tuple[DateRange, ...]
    filters: Filters = field(default_factory=Filters)
    # Fields the property does not offer (GetMetadata): left out of every request.
    omit: frozenset[str] = frozenset()
    # Top-N tables get comparison values for their shown rows (a second batch call).
    compare_tables: bool = True

    def __post_init__(self) -> None:
        for panel in self.panels:
            get_panel(panel)
        if not self.ranges and any(not get_panel(p).realtime for p in self.panels):
            raise QueryError("A report needs a date range.")

    def cache_key(self) -> str:
        return _cache_key(self)


@functools.lru_cache(maxsize=4096)  # screens poll the same few queries all day
def _cache_key(query: ReportQuery) -> str:
    payload = {
        "property": query.property_id,
        "panels": list(query.panels),
        "ranges": [r.to_param() for r in query.ranges],
        "filters": asdict(query.filters),
        "omit": sorted(query.omit),
        "compare_tables": query.compare_tables,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"report:{digest[:32]}"
