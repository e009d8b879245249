"""The analyst view's state and its URL form (``?property=..&range=..``).

Parsing never raises: a bad or tampered value falls back to its default and
leaves a note the page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import parse_qs, urlencode

from gadash.errors import QueryError
from gadash.query import (
    COMPARISONS,
    PRESETS,
    DateRange,
    Filters,
    comparison_range,
    preset_range,
    validate_range,
)
from gadash.views import GRAINS

DEFAULT_RANGE = "last28"
DEFAULT_COMPARE = "previous"
DEFAULT_GRAIN = "auto"
FILTER_PARAMS = ("source", "medium", "channel", "country", "device", "page")
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
        params = {"property": self.property, "range": self.range, "compare": self.compare}
        if self.grain != DEFAULT_GRAIN:
            params["grain"] = self.grain
        params.update(self.filters.active())
        return "?" + urlencode(params)

    def with_filter(self, name: str, value: str) -> ViewState:
        return replace(self, filters=Filters(**{**self.filters.active(), name: value}))

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


def parse_query_string(search: str, properties: list[str], today: date
                       ) -> tuple[ViewState, list[str]]:
    """The state a URL asks for, and a note for every value that was refused."""
    params = parse_qs(search.lstrip("?"), keep_blank_values=True)
    notes: list[str] = []

    def one(name: str) -> str | None:
        values = params.get(name)
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

    values: dict[str, str] = {}
    for name in FILTER_PARAMS:
        value = one(name)
        if not value:
            continue
        if len(value) > MAX_FILTER_LENGTH or any(ord(c) < 32 for c in value):
            notes.append(f"Ignored the {name} filter: it is not a plausible value.")
            continue
        if name == "device" and value.lower() not in DEVICES:
            notes.append(
                f"Ignored the device filter {value!r}: devices are {', '.join(DEVICES)}."
            )
            continue
        values[name] = value.lower() if name == "device" else value
    unknown = sorted(set(params) - {"property", "range", "compare", "grain", *FILTER_PARAMS})
    if unknown:
        notes.append(f"Ignored unknown parameter(s): {', '.join(unknown)}.")
    return ViewState(prop, rng, compare, Filters(**values), grain), notes
