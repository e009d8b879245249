"""Every component id, in one place; pages and tests import them from here."""

from __future__ import annotations

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
PICK_COND = "an-pick-cond"  # is, is not, contains, ...
PICK_VALUES = "an-pick-values"  # values from GA (is / is not)
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
