"""What to ask for: date ranges, presets, comparison periods, filters, explorations
(any dimensions and metrics a property has), the query."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from gadash.core.catalog import CHOICE_DIMENSIONS, FILTERS, Order, Panel, get_panel
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
    return local_time(zone, now).date()


def local_time(zone: str, now: datetime | None = None) -> datetime:
    """The time it is in a time zone, aware."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone))


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
    """The period to compare with: the same length just before, or a year earlier.
    Raises QueryError for an unknown mode, or a period GA holds no data for."""
    match mode:
        case "none":
            return None
        case "previous":
            end = current.start - timedelta(days=1)
            other = DateRange(end - timedelta(days=current.days - 1), end)
        case "year":
            other = DateRange(_year_earlier(current.start), _year_earlier(current.end))
        case _:
            raise QueryError(f"Unknown comparison {mode!r}; use one of "
                             f"{', '.join(COMPARISONS)}.")
    if other.start < EARLIEST_DATE:
        raise QueryError(
            f"The comparison period would start {other.start:%d %b %Y}, and Google "
            f"Analytics 4 keeps no data before {EARLIEST_DATE:%d %b %Y}. Choose a later "
            "range, or no comparison.")
    return other


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


def cutoff_hour(ranges: tuple[DateRange, ...], today: date, hour: int) -> int | None:
    """Like for like: when a compared period ends today, both periods count only the
    whole hours elapsed today, so each range's last day counts the hours before
    ``hour`` (the comparison's last day the same hours as today). None when nothing is
    cut: no comparison, a period over, or a single day with no whole hour yet (then it
    is not compared)."""
    if len(ranges) < 2 or ranges[0].end < today:
        return None
    if ranges[0].days == 1 and hour == 0:
        return None
    return hour


def cutoff_note(ranges: tuple[DateRange, ...], hour: int) -> str:
    """What a like-for-like comparison counts, e.g. "to 10:00, against the same hours of
    06 Dec 2026"."""
    return f"to {hour:02d}:00, against the same hours of {ranges[1].label()}"


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
    landing: Condition | None = None

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


# ----------------------------------------------------------------- explorations

MAX_DIMENSIONS = 2
MAX_METRICS = 5
TOP_N = (10, 25, 50, 100, 250, 1000)
CHARTS: dict[str, str] = {"auto": "Best fit", "line": "Line", "bar": "Bars",
                          "table": "Table only", "number": "Single number"}
# How a metric filter compares (GA's NumericFilter operations).
METRIC_OPS: dict[str, str] = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "="}
# GA's time dimensions: an exploration by one of them is a series, drawn as a line.
TIME_DIMENSIONS = ("date", "dateHour", "dateHourMinute", "isoYearIsoWeek", "yearWeek",
                   "yearMonth", "year", "isoYear", "yearQuarter", "nthDay", "nthWeek",
                   "nthMonth", "nthYear", "nthHour", "hour", "day", "dayOfWeek", "week",
                   "isoWeek", "month")
EXPLORE_PANEL = "explore"
# The id of a field: GA's API names, custom ones included (``customEvent:author``).
_FIELD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:")


def check_field_name(name: str) -> str:
    """A field's API name as GA spells it, or QueryError."""
    if not name or len(name) > 200 or not set(name) <= _FIELD_CHARS:
        raise QueryError(f"{name[:60]!r} is not a GA dimension or metric name.")
    return name


@dataclass(frozen=True)
class FieldFilter:
    """A condition on any dimension (``eventName``, ``customEvent:author`` ...)."""

    field: str
    condition: Condition

    def describe(self) -> str:
        return f"{self.field} {self.condition.describe()}"


@dataclass(frozen=True)
class MetricFilter:
    """Rows whose metric compares with a number (``sessions > 100``), GA's metricFilter."""

    metric: str
    op: str  # METRIC_OPS
    value: float

    def __post_init__(self) -> None:
        if self.op not in METRIC_OPS:
            raise QueryError(f"Unknown comparison {self.op!r}; use one of {', '.join(METRIC_OPS)}.")

    def describe(self) -> str:
        return f"{self.metric} {METRIC_OPS[self.op]} {self.value:g}"


@dataclass(frozen=True)
class Exploration:
    """A question of one's own: up to two dimensions and five metrics of the property,
    conditions on any dimension and on metric values, a sort, a top N and a chart."""

    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    where: tuple[FieldFilter, ...] = ()
    having: tuple[MetricFilter, ...] = ()
    sort: str = ""  # a chosen field; "" = time ascending for a series, else first metric
    desc: bool = True
    limit: int = 25
    chart: str = "auto"

    def __post_init__(self) -> None:
        if not self.metrics:
            raise QueryError("Choose at least one metric.")
        if len(self.metrics) > MAX_METRICS:
            raise QueryError(f"At most {MAX_METRICS} metrics at once; "
                             f"{len(self.metrics)} are chosen.")
        if len(self.dimensions) > MAX_DIMENSIONS:
            raise QueryError(f"At most {MAX_DIMENSIONS} dimensions at once; "
                             f"{len(self.dimensions)} are chosen.")
        names = (*self.dimensions, *self.metrics, *(f.field for f in self.where),
                 *(f.metric for f in self.having))
        for name in names:
            check_field_name(name)
        if len(set(self.dimensions)) != len(self.dimensions) \
                or len(set(self.metrics)) != len(self.metrics):
            raise QueryError("A field is chosen twice.")
        if self.sort and self.sort not in (*self.dimensions, *self.metrics):
            raise QueryError(f"Sorting by {self.sort!r}, which is not among the chosen fields.")
        if self.limit not in TOP_N:
            raise QueryError(f"Show the top {', '.join(map(str, TOP_N))} rows, not {self.limit}.")
        if self.chart not in CHARTS:
            raise QueryError(f"Unknown chart {self.chart!r}; use one of {', '.join(CHARTS)}.")

    @property
    def series(self) -> bool:
        """True when the first dimension is time: every bucket is asked, in order."""
        return bool(self.dimensions) and self.dimensions[0] in TIME_DIMENSIONS

    @property
    def drawn_as(self) -> str:
        """The chart that fits: a line for time, bars by a dimension, one number without."""
        if self.chart != "auto":
            return self.chart
        if not self.dimensions:
            return "number"
        return "line" if self.series else "bar"

    @property
    def all_dimensions(self) -> tuple[str, ...]:
        """The dimensions shown and those only filtered on, each once."""
        return tuple(dict.fromkeys((*self.dimensions, *(f.field for f in self.where))))

    @property
    def all_metrics(self) -> tuple[str, ...]:
        """The metrics shown and those only filtered on, each once."""
        return tuple(dict.fromkeys((*self.metrics, *(f.metric for f in self.having))))

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field the exploration names, filters included."""
        return (*self.all_dimensions, *self.all_metrics)

    def panel(self) -> Panel:
        """The report to ask GA: a series pages through every bucket in time order; a
        top N is asked for its N rows (GA adds ``(other)`` past its cardinality limit),
        with the comparison period for exactly those rows."""
        sort = self.sort or (self.dimensions[0] if self.series else self.metrics[0])
        desc = self.desc if self.sort else not self.series
        order = (Order(sort, desc=desc, metric=sort in self.metrics),)
        title = ", ".join(self.metrics) + (f" by {', '.join(self.dimensions)}"
                                           if self.dimensions else "")
        if self.series or not self.dimensions:
            return Panel(EXPLORE_PANEL, title, self.dimensions, self.metrics, order,
                         limit=10_000, cap=50_000 if self.dimensions else 0, totals=True)
        return Panel(EXPLORE_PANEL, title, self.dimensions, self.metrics, order,
                     limit=self.limit, totals=True, keys=self.dimensions, shown=self.limit)


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
    # The question behind the ``explore`` panel, when the query has one.
    explore: Exploration | None = None
    # Like for like (``cutoff_hour``): on each range's last day only the hours before
    # this one count, in every report of the query.
    cutoff: int | None = None
    # Panels asked over one range of their own, whole days (no cutoff), in the same
    # batch call as the others: a digest's daily baseline beside its periods.
    spans: tuple[tuple[str, DateRange], ...] = ()

    def __post_init__(self) -> None:
        if self.cutoff is not None and not 0 <= self.cutoff <= 23:
            raise QueryError(f"An hour of the day is 0 to 23, not {self.cutoff}.")
        if (EXPLORE_PANEL in self.panels) != (self.explore is not None):
            raise QueryError("An exploration is asked as the explore panel.")
        for panel in self.panels:
            self.panel(panel)
        if not self.ranges and any(not self.panel(p).realtime for p in self.panels):
            raise QueryError("A report needs a date range.")
        if not {p for p, _ in self.spans} <= set(self.panels):
            raise QueryError("A span is of a panel of the query.")

    def range_of(self, panel_id: str) -> DateRange | None:
        """The range a panel is asked over on its own (``spans``), or None."""
        return next((r for p, r in self.spans if p == panel_id), None)

    def panel(self, panel_id: str) -> Panel:
        """A panel of this query: the catalog's, or the exploration's. Raises QueryError."""
        if panel_id == EXPLORE_PANEL and self.explore is not None:
            return self.explore.panel()
        return get_panel(panel_id)

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
    if query.explore is not None:  # absent otherwise: the keys of views stay as they were
        payload["explore"] = asdict(query.explore)
    if query.cutoff is not None:
        payload["cutoff"] = query.cutoff
    if query.spans:
        payload["spans"] = [[p, r.to_param()] for p, r in query.spans]
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"report:{digest[:32]}"
