"""The big screen's playlist and timings, from settings and the ``/tv`` URL.

``/tv?screens=overview,realtime&rotate=30&refresh=60&property=Blog&range=last7``
Parsing never raises: a bad value keeps the setting's default and adds a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from gadash.choices import SCREENS, parse_screens
from gadash.errors import QueryError
from gadash.query import validate_range
from gadash.viewstate import DEFAULT_COMPARE, resolve_range

__all__ = ["SCREENS", "TvConfig", "parse_screens", "parse_tv_query"]

if TYPE_CHECKING:
    from gadash.settings import Settings

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


def parse_tv_query(search: str, properties: list[str], today: date, settings: Settings
                   ) -> tuple[TvConfig, list[str]]:
    """The TV configuration a URL asks for, and a note for each refused value."""
    params = parse_qs(search.lstrip("?"))
    notes: list[str] = []
    prop = params.get("property", [properties[0]])[-1]
    if prop not in properties:
        notes.append(f"Unknown property {prop!r}; showing {properties[0]!r}.")
        prop = properties[0]
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
