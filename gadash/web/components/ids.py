"""Every component id, in one place; pages and tests import them from here."""

from __future__ import annotations

from typing import Any

# Analyst view ("an-")
URL = "an-url"
PROPERTY = "an-property"
RANGE = "an-range"
DATES = "an-dates"
COMPARE = "an-compare"
GRAIN = "an-grain"
# Filter pickers, pattern-matching types: {"type": PICK_..., "filter": name}
PICKER = "an-picker"  # the <details> of one filter
PICK_OPEN = "an-pick-open"  # its <summary>: opening it loads the values
PICK_PANEL = "an-pick-panel"  # its panel: the controls below, mounted when first opened
PICK_COND = "an-pick-cond"  # is, is not, contains, ...
PICK_VALUES = "an-pick-values"  # values from GA (is / is not)
# Components whose value is a list (multi-selects, checklists): pattern-matching
# types and plain ids (the Explore page's, below).
LIST_VALUES = frozenset({PICK_VALUES, "ex-dims", "ex-metrics"})
PICK_VALUES_BOX = "an-pick-values-box"
PICK_TEXT = "an-pick-text"  # text or pattern (contains / regex)
PICK_TEXT_BOX = "an-pick-text-box"
PICK_CASE = "an-pick-case"
PICK_APPLY = "an-pick-apply"
PICK_CLEAR = "an-pick-clear"
PICK_NOTE = "an-pick-note"
CHIPS = "an-chips"
CHIP = "an-chip"  # pattern-matching type: {"type": CHIP, "filter": name}
STATE = "an-state"
SHARES = "an-shares"  # share counts for the top pages, merged into the grid
NOTES = "an-notes"
ERROR = "an-error"
KPIS = "an-kpis"
KPI = "an-kpi"  # one value per metric: an-kpi-<metric>
KPI_CAPTION = "an-kpi-caption"  # how a partial period is compared
TREND = "an-trend"
DEVICES = "an-devices"
NEW_RETURNING = "an-new-returning"
CHANNELS = "an-channels"
LANDING = "an-landing"
COUNTRIES = "an-countries"
SOURCES = "an-sources"
PAGES = "an-pages"
QUICK_FILTER = "an-quick-filter"  # suffix: -<grid>
CHANGES = "an-changes"  # "What changed" (when comparing)
CHANGE_APPLY = "an-change-apply"  # pattern type: {"type": CHANGE_APPLY, "filter": "k=v&..."}
TRENDING = "an-trending"  # "Trending now"
TRENDING_TICK = "an-trending-tick"
EXPORT = "an-export"  # suffix: -<grid>
FOOTER = "an-footer"  # suffix: -<panel>
# Panels below the fold mount when they scroll into view (assets/lazy.js)
LAZY = "an-lazy"  # suffix: -<panel>: the box its components are mounted in
SEEN = "an-seen"  # suffix: -<panel>: a store set to true once the box was in view
CLICKED = "an-clicked"  # a click in a panel mounted when seen: {"from": id, "value": ...}
RANGE_LABEL = "an-range-label"
PINNED = "an-pinned"  # panels from Explore pinned to the property (mounted when seen)
# Saved views and annotations
SAVED = "an-saved"  # dropdown of the team's saved views
SAVE_NAME = "an-save-name"
SAVE = "an-save"
SAVE_STATUS = "an-save-status"
NOTE_DATES = "an-note-dates"
NOTE_TEXT = "an-note-text"
NOTE_ADD = "an-note-add"
NOTE_STATUS = "an-note-status"
NOTE_LINKS = "an-note-links"
NOTES_VERSION = "an-notes-version"  # bumped when a note is added: the trend redraws


def footer(panel: str) -> str:
    return f"{FOOTER}-{panel}"


def lazy(panel: str) -> str:
    return f"{LAZY}-{panel}"


def seen(panel: str) -> str:
    return f"{SEEN}-{panel}"


def quick_filter(grid: str) -> str:
    return f"{QUICK_FILTER}-{grid}"


def export(grid: str) -> str:
    return f"{EXPORT}-{grid}"


class TvIds:
    """Component ids of the TV page."""

    URL = "tv-url"
    CONFIG = "tv-config"
    STATUS = "tv-status"
    RT_STATUS = "tv-rt-status"
    DRAWN = "tv-drawn"  # which trend figure is drawn, so refreshes can patch it
    TODRAW = "tv-todraw"  # the rendering a poll found the screen lacks
    SPARK_DRAWN = "tv-spark-drawn"
    RT_TODRAW = "tv-rt-todraw"  # the realtime rendering a poll found the screen lacks
    REFRESH = "tv-refresh"
    REALTIME_TICK = "tv-realtime-tick"
    ROTATE = "tv-rotate"
    CLOCK_TICK = "tv-clock-tick"
    RELOAD = "tv-reload"
    CLOCK = "tv-clock"
    STALE = "tv-stale"
    SIGNED_OUT = "tv-signed-out"  # filled by assets/auth.js when the server says 401
    TITLE = "tv-title"
    RANGE = "tv-range"
    NOTES = "tv-notes"
    DOTS = "tv-dots"
    TREND = "tv-trend"
    SPARK = "tv-spark"
    ACTIVE = "tv-active-users"
    NOW_PAGES = "tv-now-pages"
    PAGES = "tv-pages"
    SOURCES = "tv-sources"
    CHANNELS = "tv-channels"
    TRENDING = "tv-trending"
    TRENDING_DRAWN = "tv-trending-drawn"
    # Panels from Explore as screens; pattern-matching types: {"type": ..., "panel": screen}
    PANELS = "tv-panels"  # the box their screens are drawn in
    PANEL = "tv-panel"
    PANEL_BODY = "tv-panel-body"
    PANEL_UPDATED = "tv-panel-updated"
    PANELS_DRAWN = "tv-panels-drawn"  # {screen: version drawn}

    @staticmethod
    def screen(name: str) -> str:
        return f"tv-screen-{name}"

    @staticmethod
    def updated(name: str) -> str:
        return f"tv-updated-{name}"

    @staticmethod
    def kpi(metric: str) -> str:
        return f"tv-kpi-{metric}"

    @staticmethod
    def delta(metric: str) -> str:
        return f"tv-delta-{metric}"

    @staticmethod
    def tile(metric: str) -> str:
        return f"tv-tile-{metric}"


class ExIds:
    """Component ids of the Explore page."""

    URL = "ex-url"
    STATE = "ex-state"
    PROPERTY = "ex-property"
    RANGE = "ex-range"
    START = "ex-start"
    END = "ex-end"
    DATES = "ex-dates"  # the box of the two date inputs (custom range)
    COMPARE = "ex-compare"
    DIMS = "ex-dims"
    METRICS = "ex-metrics"
    SORT = "ex-sort"
    ORDER = "ex-order"
    TOP = "ex-top"
    CHART = "ex-chart"
    FILTERS = "ex-filters"  # the <details> of the filter rows
    NOTES = "ex-notes"
    ERROR = "ex-error"
    TITLE = "ex-title"
    GRAPH = "ex-graph"
    GRAPH_BOX = "ex-graph-box"
    NUMBERS = "ex-numbers"
    FOOTER = "ex-footer"
    GRID = "ex-grid"
    GRID_BOX = "ex-grid-box"  # mounted when seen (AG Grid's code loads then)
    GRID_SEEN = "ex-grid-seen"
    GRID_FOOTER = "ex-grid-footer"
    EXPORT = "ex-export"
    SAVE_NAME = "ex-save-name"
    SAVE_PIN = "ex-save-pin"
    SAVE = "ex-save"
    SAVE_NEW = "ex-save-new"
    SAVE_STATUS = "ex-save-status"
    PANELS = "ex-panels"
    PANELS_VERSION = "ex-panels-version"
    # Pattern-matching types: {"type": ..., "row": n}
    WHERE_FIELD = "ex-where-field"
    WHERE_COND = "ex-where-cond"
    WHERE_VALUE = "ex-where-value"
    HAVING_FIELD = "ex-having-field"
    HAVING_OP = "ex-having-op"
    HAVING_VALUE = "ex-having-value"
    PANEL_DELETE = "ex-panel-delete"  # {"type": ..., "panel": id}
    PANEL_PIN = "ex-panel-pin"

    @staticmethod
    def row(kind: str, n: int) -> dict[str, Any]:
        return {"type": kind, "row": n}


if not {ExIds.DIMS, ExIds.METRICS} <= LIST_VALUES:
    raise AssertionError("the Explore page's multi-selects hold lists")
