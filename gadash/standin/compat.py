"""Which dimensions and metrics GA refuses to put in one report, and its words for it.

Fields have a scope: item-scoped (``itemName``, ``itemRevenue`` ...: read from the
items of e-commerce events), event-scoped dimensions (``eventName``, ``pagePath``,
``customEvent:`` dimensions ...) and custom event metrics, and the rest (session- and
user-scoped). As in GA:

* an item-scoped dimension goes only with item-scoped metrics (``itemName`` with
  ``sessions`` is refused; so is ``itemName`` with a custom event metric or a key
  event's metric);
* an item-scoped metric does not go with an event-scoped dimension (``itemRevenue``
  with ``eventName`` or ``pagePath``);
* so an item-scoped dimension does not go with an event-scoped one either.

A filter counts like the fields it names. ``conflicts`` says whether two fields may
share a report; ``incompatible`` lists the fields of a property that may not be added
to a request (CheckCompatibility); ``field_to_remove`` names the one RunReport's
refusal tells the caller to remove, in GA's own message (``incompatible_message``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gadash.standin.schema import Dim, Met

# GA's text for a request whose fields do not go together (INVALID_ARGUMENT).
INCOMPATIBLE_MESSAGE = (
    "Please remove {name} to make the request compatible. The request's dimensions & "
    "metrics are incompatible. To learn more, see "
    "https://ga-dev-tools.web.app/ga4/dimensions-metrics-explorer/"
)


@dataclass(frozen=True)
class Field:
    """A dimension or a metric, by what decides what it goes with."""

    name: str
    metric: bool
    scope: str  # "item", "event" or ""

    @classmethod
    def of(cls, spec: Dim | Met) -> Field:
        if isinstance(spec, Met):
            return cls(spec.name, True, spec.scope)
        scope = "item" if spec.item_scope else "event" if spec.event_scope else ""
        return cls(spec.name, False, scope)


def conflicts(a: Field, b: Field) -> bool:
    """Whether GA refuses a report with both ``a`` and ``b``."""
    return _refuses(a, b) or _refuses(b, a)


def _refuses(a: Field, b: Field) -> bool:
    if a.scope != "item":
        return False
    if not a.metric:  # an item dimension: item metrics only, no event dimension
        return (b.metric and b.scope != "item") or (not b.metric and b.scope == "event")
    return not b.metric and b.scope == "event"  # an item metric: no event dimension


def request_fields(dims: Iterable[Dim], metrics: Iterable[Met]) -> list[Field]:
    """The distinct fields of a request, dimensions first, in order."""
    seen: dict[tuple[str, bool], Field] = {}
    specs: list[Dim | Met] = [*dims, *metrics]
    for spec in specs:
        field = Field.of(spec)
        seen.setdefault((field.name, field.metric), field)
    return list(seen.values())


def incompatible(request: Sequence[Field], candidate: Field) -> bool:
    """Whether ``candidate`` (one of the request's fields or another) conflicts with a
    field of the request other than itself."""
    return any(conflicts(candidate, f) for f in request
               if (f.name, f.metric) != (candidate.name, candidate.metric))


def field_to_remove(request: Sequence[Field]) -> str | None:
    """The field GA's refusal names: the one in the most conflicts (the first such, dims
    before metrics), or None when the request is compatible."""
    counts = [sum(conflicts(f, g) for g in request if g is not f) for f in request]
    if not any(counts):
        return None
    return request[counts.index(max(counts))].name


def incompatible_message(name: str) -> str:
    return INCOMPATIBLE_MESSAGE.format(name=name)
