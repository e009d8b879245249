"""What an exploration or a panel answers, for the Explore page, the analyst view's
pinned panels and the TV's panel screens alike.

Before any data is asked, the fields are checked against the property's
GetMetadata and GA's CheckCompatibility (both cached for hours): a question GA
cannot answer is refused with GA's reason and costs no report call. The answer is
the shared cache's (one batched call per refresh, single-flight), so every screen
and page showing one panel costs one GA call per refresh between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gadash.core.explore import BUILTINS, ExploreState
from gadash.core.frames import PropertyFields, ReportFrame, ViewResult
from gadash.core.query import DateRange
from gadash.core.transforms import ExploreTable, explore_table
from gadash.errors import GadashError, QueryError
from gadash.memo import Recent
from gadash.settings import panel_screen_id
from gadash.store.panels import panel_state
from gadash.web.context import get_service, get_store


@dataclass(frozen=True)
class Answer:
    """An exploration's answer: the period, GA's fields, the report and its table."""

    state: ExploreState
    property_id: str
    ranges: tuple[DateRange, ...]
    fields: PropertyFields | None
    result: ViewResult
    report: ReportFrame
    table: ExploreTable
    cutoff: int | None = None  # compared like for like to this hour of the last days

    @property
    def currency(self) -> str:
        return self.report.meta.currency


def today_of(property_name: str) -> date:
    """Today in the property's time zone (the machine's day when GA cannot say)."""
    service = get_service()
    try:
        return service.today(service.property_id(property_name))
    except GadashError:
        return date.today()


def property_fields(property_name: str) -> PropertyFields | None:
    """The property's GetMetadata, or None when GA cannot be asked."""
    service = get_service()
    try:
        return service.fields(service.property_id(property_name))
    except GadashError:
        return None


def ask(state: ExploreState, warm: bool = False) -> Answer:
    """The answer to an exploration. Raises QueryError for a question GA cannot answer
    (nothing asked), other GadashErrors as the data service does. ``warm``: a screen
    polls it, keep it fresh in the background."""
    service = get_service()
    property_id = service.property_id(state.property)
    now = service.now(property_id)
    ranges = state.ranges(now.date())
    reasons = service.incompatible(property_id, state.exploration)
    if reasons:
        raise QueryError(" ".join(reasons))
    query = state.query(property_id, now.date(), now.hour)
    result = service.view(query, warm=warm)
    report = result.reports["explore"]
    e = state.exploration
    table = explore_table(report, e.dimensions, e.metrics, len(ranges) > 1, e.series, ranges)
    return Answer(state, property_id, ranges, property_fields(state.property), result, report,
                  table, query.cutoff)


@dataclass(frozen=True)
class Shown:
    """A panel to show: its number (None for a built-in), its name, its question."""

    id: int | None
    name: str
    state: ExploreState


# Saved panels as screens and pinned cards read them, re-read every 10 s.
_PANELS: Recent[tuple[str, str], Shown] = Recent(10, size=1_000)


def panel_of(screen: str, property_name: str, range_: str = "", compare: str = "") -> Shown:
    """The panel a screen (``panel:12``, ``panel:events``) shows: a saved panel as it
    was saved; a built-in over the playlist's property and period. Raises GadashError."""
    panel = panel_screen_id(screen) or screen
    if panel in BUILTINS:
        b = BUILTINS[panel]
        state = ExploreState(property_name, exploration=b.exploration)
        if range_:
            state = ExploreState(property_name, range_, compare or state.compare, b.exploration)
        return Shown(None, b.name, state)
    if not (panel.isascii() and panel.isdigit()) or len(panel) > 9:
        raise QueryError(f"No panel {panel!r}: a panel screen is panel:<number> or one of "
                         f"{', '.join('panel:' + b for b in BUILTINS)}.")

    def load() -> Shown:
        row = get_store().panels.get(int(panel))
        if row is None:
            raise QueryError(f"Panel {panel} was deleted: take panel:{panel} off this "
                             "playlist.")
        if row.property != property_name:
            raise QueryError(f"Panel {panel} (“{row.name}”) is a panel of {row.property}, "
                             f"not of {property_name}: this playlist cannot show it.")
        return Shown(row.id, row.name, panel_state(row, list(get_service().properties),
                                                   today_of(row.property)))

    return _PANELS.get((panel, property_name), load)


def pinned_panels(property_name: str) -> list[Shown]:
    """The saved panels pinned to a property's analyst view, by name. Raises StoreError."""
    properties = list(get_service().properties)
    out = []
    for row in get_store().panels.list(property_name):
        if row.pinned:
            try:
                out.append(Shown(row.id, row.name, panel_state(
                    row, properties, today_of(row.property))))
            except QueryError:
                continue  # a panel of a grammar this gadash does not know: not pinned here
    return out


__all__ = ["Answer", "Shown", "ask", "panel_of", "pinned_panels", "property_fields",
           "today_of"]
