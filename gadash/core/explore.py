"""The Explore page's state and its URL form, and the built-in explorations.

``/explore?property=..&range=..&compare=..&dim=eventName&metric=eventCount
&where.country=Germany&having.eventCount.ge=5&sort=eventCount&order=desc&top=25
&chart=bar`` (README "Explore URLs"). The same query string is what a saved panel
keeps. Parsing never raises: a refused value falls back and leaves a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import parse_qsl, urlencode

from gadash.core.catalog import FILTERS
from gadash.core.query import (
    CHARTS,
    EXPLORE_PANEL,
    MATCHES,
    MAX_DIMENSIONS,
    MAX_FILTER_VALUES,
    MAX_METRICS,
    METRIC_OPS,
    TOP_N,
    Condition,
    DateRange,
    Exploration,
    FieldFilter,
    MetricFilter,
    ReportQuery,
    check_field_name,
    cutoff_hour,
)
from gadash.core.urls import (
    DEFAULT_COMPARE,
    DEFAULT_RANGE,
    MAX_FILTER_LENGTH,
    ViewState,
    parse_filters,
    parse_query_string,
)
from gadash.errors import QueryError

# Version of this URL grammar; a saved panel records the one it was made with.
EXPLORE_GRAMMAR = 1
# Parameters of the exploration itself; property, range, compare as the analyst view's.
EXPLORE_PARAMS = ("dim", "metric", "sort", "order", "top", "chart")
WHERE, HAVING = "where", "having"
MAX_WHERE = 3
MAX_HAVING = 2
# Parameters of the page, not of the question: the saved panel being edited, a
# built-in panel to start from.
PAGE_PARAMS = ("panel", "builtin")


@dataclass(frozen=True)
class Builtin:
    """A panel every GA4 user expects, made of an exploration like any saved one."""

    id: str
    name: str
    exploration: Exploration
    about: str
    ecommerce: bool = False  # only meaningful where the property sells


BUILTINS: dict[str, Builtin] = {b.id: b for b in (
    Builtin("events", "Events", Exploration(
        ("eventName",), ("eventCount", "totalUsers", "keyEvents"), limit=25, chart="bar"),
        "Every event the property collects: how often, by how many users, and which are "
        "key events."),
    Builtin("campaigns", "Campaigns", Exploration(
        ("sessionCampaignName", "sessionSourceMedium"),
        ("sessions", "keyEvents", "totalRevenue"), limit=25, chart="bar"),
        "Sessions by campaign and source / medium (UTM tags), with their key events and "
        "revenue."),
    Builtin("products", "Products", Exploration(
        ("itemName",), ("itemsViewed", "itemsAddedToCart", "itemsPurchased", "itemRevenue"),
        sort="itemRevenue", limit=25, chart="bar"),
        "E-commerce items: viewed, added to cart, purchased, and their revenue.",
        ecommerce=True),
)}
DEFAULT_BUILTIN = "events"


@dataclass(frozen=True)
class ExploreState:
    """Everything picked on the Explore page; the URL holds exactly this."""

    property: str
    range: str = DEFAULT_RANGE
    compare: str = DEFAULT_COMPARE
    exploration: Exploration = BUILTINS[DEFAULT_BUILTIN].exploration

    def view(self) -> ViewState:
        """The period part, as the analyst view's state (same presets and checks)."""
        return ViewState(self.property, self.range, self.compare)

    def ranges(self, today: date) -> tuple[DateRange, ...]:
        """The current range and, if comparing, the comparison one. Raises QueryError."""
        return self.view().ranges(today)

    def query(self, property_id: str, today: date, hour: int | None = None) -> ReportQuery:
        """The report to ask GA; ``hour``: the property's hour now, for a compared period
        that ends today to count the same whole hours in both (``cutoff_hour``).
        Raises QueryError."""
        ranges = self.ranges(today)
        return ReportQuery(property_id, (EXPLORE_PANEL,), ranges, explore=self.exploration,
                           cutoff=None if hour is None else cutoff_hour(ranges, today, hour))

    def to_query_string(self) -> str:
        params = [("property", self.property), ("range", self.range),
                  ("compare", self.compare), *exploration_params(self.exploration)]
        return "?" + urlencode(params)

    def with_exploration(self, exploration: Exploration) -> ExploreState:
        return replace(self, exploration=exploration)


def where_key(f: FieldFilter) -> str:
    """``where.<field>[.not][.<match>][.case]``: a condition on any dimension."""
    c = f.condition
    return ".".join([WHERE, f.field, *(["not"] if c.exclude else []),
                     *([c.match] if c.match != "is" else []), *(["case"] if c.case else [])])


def exploration_params(e: Exploration) -> list[tuple[str, str]]:
    """An exploration as URL parameters (defaults left out, so URLs stay short)."""
    params = [("dim", d) for d in e.dimensions] + [("metric", m) for m in e.metrics]
    params += [(where_key(f), v) for f in e.where for v in f.condition.values]
    params += [(f"{HAVING}.{h.metric}.{h.op}", f"{h.value:g}") for h in e.having]
    if e.sort:
        params.append(("sort", e.sort))
        params.append(("order", "desc" if e.desc else "asc"))
    if e.limit != 25:
        params.append(("top", str(e.limit)))
    if e.chart != "auto":
        params.append(("chart", e.chart))
    return params


def _field(name: str, notes: list[str], what: str) -> str | None:
    try:
        return check_field_name(name)
    except QueryError as exc:
        notes.append(f"Ignored the {what}: {exc.message}")
        return None


def _where(pairs: list[tuple[str, str]], notes: list[str]) -> tuple[FieldFilter, ...]:
    """``where.*`` parameters, and the analyst view's own filters (``source=google``)
    as conditions on their GA dimensions: a link from ``/`` keeps its filters."""
    analyst = parse_filters(pairs, notes)
    found: dict[str, Condition] = {
        FILTERS[name].dimension: cond for name, cond in analyst.active().items()}
    for key, raw in pairs:
        head, _, rest = key.partition(".")
        if head != WHERE:
            continue
        name, *words = rest.split(".")
        matches = [w for w in words if w in MATCHES]
        if (not name or len(matches) > 1 or set(words) - {"not", "case", *MATCHES}
                or len(set(words)) != len(words)):
            notes.append(f"Ignored {key}: write where.<dimension>[.not][.contains|.regex]"
                         "[.case]=<value>.")
            continue
        if _field(name, notes, "filter") is None:
            continue
        value = raw.strip()
        if not value or len(value) > MAX_FILTER_LENGTH or any(ord(c) < 32 for c in value):
            notes.append(f"Ignored the {name} filter: it is not a plausible value.")
            continue
        shape = Condition((), matches[0] if matches else "is", "not" in words, "case" in words)
        have = found.get(name)
        if have is not None and (have.match, have.exclude, have.case) != (
                shape.match, shape.exclude, shape.case):
            notes.append(f"Ignored {key}={value!r}: the {name} filter already has a "
                         "condition (one per dimension).")
            continue
        values = have.values if have else ()
        if len(values) >= MAX_FILTER_VALUES:
            continue
        if name not in found and len(found) >= MAX_WHERE:
            notes.append(f"Ignored the {name} filter: at most {MAX_WHERE} dimension filters.")
            continue
        if value not in values:
            found[name] = replace(shape, values=(*values, value))
    return tuple(FieldFilter(name, cond) for name, cond in found.items())


def _having(pairs: list[tuple[str, str]], notes: list[str]) -> tuple[MetricFilter, ...]:
    out: list[MetricFilter] = []
    for key, raw in pairs:
        head, _, rest = key.partition(".")
        if head != HAVING:
            continue
        metric, _, op = rest.rpartition(".")
        if op not in METRIC_OPS or not metric:
            notes.append(f"Ignored {key}: write having.<metric>.<{'|'.join(METRIC_OPS)}>"
                         "=<number>.")
            continue
        if _field(metric, notes, "metric filter") is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            notes.append(f"Ignored the {metric} filter: {raw[:40]!r} is not a number.")
            continue
        if len(out) >= MAX_HAVING:
            notes.append(f"Ignored the {metric} filter: at most {MAX_HAVING} metric filters.")
            continue
        out.append(MetricFilter(metric, op, value))
    return tuple(out)


def parse_exploration(pairs: list[tuple[str, str]], notes: list[str]) -> Exploration | None:
    """The exploration the parameters ask for, or None when they name no metric."""
    def listed(name: str, most: int, what: str) -> tuple[str, ...]:
        out: list[str] = []
        for k, raw in pairs:
            if k != name:
                continue
            for part in raw.split(","):
                value = _field(part.strip(), notes, what) if part.strip() else None
                if value and value not in out:
                    out.append(value)
        if len(out) > most:
            notes.append(f"Only the first {most} {what}s are used; {len(out)} were given.")
        return tuple(out[:most])

    def one(name: str) -> str:
        values = [v for k, v in pairs if k == name]
        return values[-1].strip() if values else ""

    dims = listed("dim", MAX_DIMENSIONS, "dimension")
    metrics = listed("metric", MAX_METRICS, "metric")
    if not metrics:
        if dims or any(k in EXPLORE_PARAMS for k, _ in pairs):
            notes.append("Choose at least one metric; showing the Events panel.")
        return None
    sort = one("sort")
    if sort and sort not in (*dims, *metrics):
        notes.append(f"Ignored sort={sort[:60]!r}: sort by one of the chosen fields.")
        sort = ""
    order = one("order") or "desc"
    if order not in ("asc", "desc"):
        notes.append(f"Ignored order={order[:20]!r}: use asc or desc.")
        order = "desc"
    top = one("top") or "25"
    limit = int(top) if top.isascii() and top.isdigit() and int(top) in TOP_N else 25
    if str(limit) != top:
        notes.append(f"Ignored top={top[:20]!r}: show the top {', '.join(map(str, TOP_N))}.")
    chart = one("chart") or "auto"
    if chart not in CHARTS:
        notes.append(f"Ignored chart={chart[:20]!r}: charts are {', '.join(CHARTS)}.")
        chart = "auto"
    where = _where(pairs, notes)
    try:
        return Exploration(dims, metrics, where, _having(pairs, notes), sort,
                           order == "desc", limit, chart)
    except QueryError as exc:  # e.g. a field both a dimension and a metric
        notes.append(f"{exc.message} Showing the Events panel.")
        return None


def parse_explore_query(search: str, properties: list[str], today: date
                        ) -> tuple[ExploreState, list[str]]:
    """The state a URL asks for, and a note for every value that was refused."""
    pairs = parse_qsl(search.lstrip("?"), keep_blank_values=True)
    period = [(k, v) for k, v in pairs if k in ("property", "range", "compare")]
    view, notes = parse_query_string("?" + urlencode(period), properties, today)
    exploration = parse_exploration(pairs, notes)
    builtin = next((v for k, v in reversed(pairs) if k == "builtin"), "")
    if exploration is None and builtin:
        if builtin in BUILTINS:
            exploration = BUILTINS[builtin].exploration
        else:
            notes.append(f"No built-in panel {builtin[:40]!r}; they are {', '.join(BUILTINS)}.")
    known = {"property", "range", "compare", *EXPLORE_PARAMS, *PAGE_PARAMS}
    unknown = sorted({k for k, _ in pairs if k not in known and k.split(".")[0]
                      not in (WHERE, HAVING, *FILTERS)})
    if unknown:
        notes.append(f"Ignored unknown parameter(s): {', '.join(unknown)[:200]}.")
    state = ExploreState(view.property, view.range, view.compare)
    return (state if exploration is None else state.with_exploration(exploration)), notes


def builtin_state(builtin_id: str, property_name: str) -> ExploreState:
    """The Explore page opened on a built-in panel. Raises QueryError."""
    builtin = BUILTINS.get(builtin_id)
    if builtin is None:
        raise QueryError(f"No built-in panel {builtin_id!r}; they are {', '.join(BUILTINS)}.")
    return ExploreState(property_name, exploration=builtin.exploration)


__all__ = ["BUILTINS", "EXPLORE_GRAMMAR", "Builtin", "ExploreState", "builtin_state",
           "exploration_params", "parse_exploration", "parse_explore_query", "where_key"]
