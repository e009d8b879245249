"""Both URL grammars: the analyst view's state and its URL form
(``?property=..&range=..``, ``VIEW_GRAMMAR`` in ``gadash.store.team``), and the big
screen's playlist (``/tv?screens=..&rotate=..``: ``TvConfig``, ``TV_PARAMS``,
``TV_GRAMMAR``).

Parsing never raises: a bad or tampered value falls back to its default and
leaves a note the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, parse_qsl, urlencode

from gadash.core.catalog import FILTERS
from gadash.core.plans import GRAINS
from gadash.core.query import (
    COMPARISONS,
    DEFAULT_MATCH,
    MATCHES,
    MAX_FILTER_VALUES,
    PRESETS,
    Condition,
    DateRange,
    Filters,
    comparison_range,
    preset_range,
    validate_range,
)
from gadash.errors import QueryError
from gadash.settings import parse_screens

if TYPE_CHECKING:
    from gadash.settings import Settings

DEFAULT_RANGE = "last28"
DEFAULT_COMPARE = "previous"
DEFAULT_GRAIN = "auto"
FILTER_PARAMS = tuple(FILTERS)
DEVICES = ("desktop", "mobile", "tablet", "smart tv")
MAX_FILTER_LENGTH = 200
_CUSTOM = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class ViewState:
    """Everything the analyst picked; the URL holds exactly this."""

    property: str
    range: str = DEFAULT_RANGE  # preset id or YYYY-MM-DD..YYYY-MM-DD
    compare: str = DEFAULT_COMPARE
    filters: Filters = field(default_factory=Filters)
    grain: str = DEFAULT_GRAIN  # trend grain: auto, day, week, month

    def to_query_string(self) -> str:
        params = [("property", self.property), ("range", self.range),
                  ("compare", self.compare)]
        if self.grain != DEFAULT_GRAIN:
            params.append(("grain", self.grain))
        params += filter_params(self.filters)
        return "?" + urlencode(params)

    def with_filter(self, name: str, value: str | Condition | None) -> ViewState:
        """This state with one filter replaced (a plain value: the filter's default
        match; a value clicked in a table or chart: use Condition((value,)))."""
        return replace(self, filters=self.filters.with_condition(
            name, value if isinstance(value, Condition | None) else
            Condition((value,), DEFAULT_MATCH.get(name, "is"))))

    def without_filter(self, name: str) -> ViewState:
        return replace(self, filters=self.filters.without(name))

    def ranges(self, today: date) -> tuple[DateRange, ...]:
        """The current range and, if comparing, the comparison range. Raises QueryError."""
        current = validate_range(resolve_range(self.range, today), today)
        other = comparison_range(current, self.compare)
        return (current,) if other is None else (current, other)


def resolve_range(value: str, today: date) -> DateRange:
    """A preset id or ``YYYY-MM-DD..YYYY-MM-DD`` as a DateRange. Raises QueryError."""
    m = _CUSTOM.fullmatch(value)
    if m:
        try:
            return DateRange(date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2)))
        except ValueError as exc:
            raise QueryError(f"{value!r} is not a valid date range: {exc}.") from None
    return preset_range(value, today)


def filter_key(name: str, condition: Condition) -> str:
    """The URL parameter a condition travels in: ``<filter>[.not][.<match>][.case]``."""
    key = name + (".not" if condition.exclude else "")
    if condition.match != DEFAULT_MATCH.get(name, "is"):
        key += f".{condition.match}"
    return key + (".case" if condition.case else "")


def filter_params(filters: Filters) -> list[tuple[str, str]]:
    """The filters as URL parameters, one per value."""
    return [(filter_key(name, c), v) for name, c in filters.active().items() for v in c.values]


# Regular expressions go to GA, which speaks RE2: no look-around, no back-references.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]|\\k<")


def _parse_key(key: str) -> tuple[str, Condition] | None:
    """The filter name and an empty condition a parameter name stands for, or None."""
    name, *words = key.split(".")
    if name not in FILTER_PARAMS or len(set(words)) != len(words):
        return None
    matches = [w for w in words if w in MATCHES]
    if len(matches) > 1 or set(words) - {"not", "case", *MATCHES}:
        return None
    match = matches[0] if matches else DEFAULT_MATCH.get(name, "is")
    return name, Condition((), match, "not" in words, "case" in words)


def _check_value(name: str, cond: Condition, value: str) -> str | None:
    """Why a filter value cannot be used, or None."""
    if len(value) > MAX_FILTER_LENGTH or any(ord(c) < 32 for c in value):
        return f"Ignored the {name} filter: it is not a plausible value."
    if name == "device" and cond.match == "is" and value.lower() not in DEVICES:
        return f"Ignored the device filter {value!r}: devices are {', '.join(DEVICES)}."
    if cond.match == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            return f"Ignored the {name} filter: {value!r} is not a regular expression ({exc})."
        if _NOT_RE2.search(value):
            return (f"Ignored the {name} filter: GA's regular expressions (RE2) have no "
                    f"look-around or back-references: {value!r}.")
    return None


def parse_filters(pairs: list[tuple[str, str]], notes: list[str]) -> Filters:
    """Filter parameters (URL grammar 2, see the README) as Filters; a note for each
    value refused. One condition per filter: the first parameter naming it wins."""
    found: dict[str, Condition] = {}
    for key, raw in pairs:
        parsed = _parse_key(key)
        if parsed is None:
            continue
        name, shape = parsed
        value = raw.strip()
        if not value:
            continue
        have = found.get(name)
        if have is not None and (have.match, have.exclude, have.case) != (
                shape.match, shape.exclude, shape.case):
            notes.append(f"Ignored {key}={value!r}: the {name} filter already has a "
                         "condition (one per filter).")
            continue
        problem = _check_value(name, shape, value)
        if problem:
            notes.append(problem)
            continue
        values = have.values if have else ()
        if len(values) >= MAX_FILTER_VALUES:
            note = f"Ignored {name} values past the first {MAX_FILTER_VALUES}."
            if note not in notes:  # said once, however many were dropped
                notes.append(note)
            continue
        if name == "device" and shape.match == "is":
            value = value.lower()
        if value not in values:
            found[name] = replace(shape, values=(*values, value))
    return Filters(**found)


def is_filter_param(key: str) -> bool:
    return _parse_key(key) is not None


# The filters grammar 1 had (a filter added since, such as ``landing``, was an unknown
# parameter then, and is dropped from a grammar-1 query so it still means nothing).
GRAMMAR_1_FILTERS = ("source", "medium", "country", "device", "channel", "page")


def translate_grammar_1(query: str) -> str:
    """A grammar-1 query string in grammar 2: its exact filters matched case, which
    grammar 2 writes as ``<filter>.case``; ``page`` (contains, any case) is unchanged."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    return "?" + urlencode([(f"{k}.case" if k in GRAMMAR_1_FILTERS and k != "page" else k, v)
                            for k, v in pairs
                            if k in GRAMMAR_1_FILTERS or not is_filter_param(k)])


def parse_query_string(search: str, properties: list[str], today: date
                       ) -> tuple[ViewState, list[str]]:
    """The state a URL asks for, and a note for every value that was refused."""
    pairs = parse_qsl(search.lstrip("?"), keep_blank_values=True)
    notes: list[str] = []

    def one(name: str) -> str | None:
        values = [v for k, v in pairs if k == name]
        return values[-1].strip() if values else None

    prop = one("property")
    if prop is None or prop not in properties:
        if prop is not None:
            notes.append(f"Unknown property {prop!r}; showing {properties[0]!r}.")
        prop = properties[0]

    rng = one("range")
    if rng is None or rng == "":
        rng = DEFAULT_RANGE
    else:
        try:
            validate_range(resolve_range(rng, today), today)
        except QueryError as exc:
            notes.append(f"{exc} Showing {PRESETS[DEFAULT_RANGE]} instead.")
            rng = DEFAULT_RANGE

    compare = one("compare")
    if compare is None or compare not in COMPARISONS:
        if compare is not None:
            notes.append(f"Unknown comparison {compare!r}; comparing with the previous period.")
        compare = DEFAULT_COMPARE

    grain = one("grain") or DEFAULT_GRAIN
    if grain not in GRAINS:
        notes.append(f"Unknown grain {grain!r}; use one of {', '.join(GRAINS)}.")
        grain = DEFAULT_GRAIN

    filters = parse_filters(pairs, notes)
    unknown = sorted({k for k, _ in pairs} - {"property", "range", "compare", "grain"}
                     - {k for k, _ in pairs if is_filter_param(k)})
    if unknown:
        notes.append(f"Ignored unknown parameter(s): {', '.join(unknown)}.")
    return ViewState(prop, rng, compare, filters, grain), notes


DEFAULT_TV_RANGE = "last7"


@dataclass(frozen=True)
class TvConfig:
    """What one TV shows and how often it moves and refreshes."""

    property: str
    range: str
    compare: str
    screens: tuple[str, ...]
    rotate: int  # seconds per screen
    refresh: int  # seconds between data refreshes
    realtime: int  # seconds between realtime refreshes
    reload_hours: float  # full page reload, 0 = never

    def to_query_string(self) -> str:
        return "?" + urlencode({
            "property": self.property, "range": self.range, "compare": self.compare,
            "screens": ",".join(self.screens), "rotate": self.rotate, "refresh": self.refresh,
            "realtime": self.realtime, "reload": self.reload_hours,
        })


def _number(params: dict[str, list[str]], name: str, default: float, low: float, high: float,
            notes: list[str], unit: str = "seconds") -> float:
    values = params.get(name)
    if not values:
        return default
    try:
        value = float(values[-1])
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        notes.append(f"{name}={values[-1]!r} ignored: use {low:g} to {high:g} {unit}.")
        return default
    return value


def parse_tv_query(search: str, properties: list[str], today: date | Callable[[str], date],
                   settings: Settings) -> tuple[TvConfig, list[str]]:
    """The TV configuration a URL asks for, and a note for each refused value.
    ``today``: the day it is, or how to learn it in a property's time zone (a range
    is in the future or not by the property's calendar, not the server's)."""
    params = parse_qs(search.lstrip("?"))
    notes: list[str] = []
    prop = params.get("property", [properties[0]])[-1]
    if prop not in properties:
        notes.append(f"Unknown property {prop!r}; showing {properties[0]!r}.")
        prop = properties[0]
    if callable(today):
        today = today(prop)
    rng = params.get("range", [DEFAULT_TV_RANGE])[-1]
    try:
        validate_range(resolve_range(rng, today), today)  # a future or too old range too
    except QueryError as exc:
        notes.append(f"{exc} Showing the last 7 days instead.")
        rng = DEFAULT_TV_RANGE
    compare = params.get("compare", [DEFAULT_COMPARE])[-1]
    if compare not in ("none", "previous", "year"):
        notes.append(f"Unknown comparison {compare!r}.")
        compare = DEFAULT_COMPARE
    screens = parse_screens(settings.tv_screens)
    if "screens" in params:
        try:
            screens = parse_screens(params["screens"][-1])
        except ValueError as exc:
            notes.append(f"screens ignored: {exc}.")
    return TvConfig(
        property=prop, range=rng, compare=compare, screens=screens,
        rotate=int(_number(params, "rotate", settings.tv_rotate, 5, 3600, notes)),
        refresh=int(_number(params, "refresh", settings.tv_refresh, 1, 3600, notes)),
        realtime=int(_number(params, "realtime", settings.tv_realtime_refresh, 1, 3600, notes)),
        reload_hours=_number(params, "reload", settings.tv_reload_hours, 0, 24 * 30, notes,
                             "hours"),
    ), notes


# The version of the /tv URL grammar a link was made with (gadash.core.urls); a
# later change of what parameters mean must not change what an old link shows.
TV_GRAMMAR = 1


# Only the playlist's own parameters are pinned; anything else is dropped.
TV_PARAMS = ("property", "range", "compare", "screens", "rotate", "refresh", "realtime",
             "reload")

