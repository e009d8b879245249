"""The analyst view's controls: property, range and comparison, filter pickers, saved
views, the note form."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from dash import dcc, html

from gadash.core.frames import is_other
from gadash.core.plans import GRAINS
from gadash.core.query import COMPARISONS, DEFAULT_MATCH, MATCHES, PRESETS, Condition
from gadash.core.urls import ViewState
from gadash.errors import GadashError
from gadash.web.components import ids
from gadash.web.components.cards import (
    FILTER_LABELS,
    labelled,
)


def create_controls(properties: list[str]) -> html.Div:
    """The header controls; values are filled from the URL by a callback."""
    return html.Div(className="controls", children=[
        labelled("Property", dcc.Dropdown(
            id=ids.PROPERTY, options=properties, clearable=False, searchable=False,
            className="ctl ctl-property",
        ), "an-property-label", hidden=len(properties) < 2),
        labelled("Date range", dcc.Dropdown(
            id=ids.RANGE, clearable=False, searchable=False, className="ctl ctl-range",
            options=[{"label": v, "value": k} for k, v in PRESETS.items()]
            + [{"label": "Custom range", "value": "custom"}],
        ), "an-range-label-text"),
        html.Label(["From – to", dcc.DatePickerRange(
            id=ids.DATES, display_format="YYYY-MM-DD", minimum_nights=0,
            first_day_of_week=1, className="ctl ctl-dates", updatemode="bothdates",
        )], className="ctl-label"),
        labelled("Compare with", dcc.Dropdown(
            id=ids.COMPARE, clearable=False, searchable=False, className="ctl ctl-compare",
            options=[{"label": v, "value": k} for k, v in COMPARISONS.items()],
        ), "an-compare-label"),
        labelled("Trend by", dcc.Dropdown(
            id=ids.GRAIN, clearable=False, searchable=False, className="ctl ctl-grain",
            options=[{"label": v, "value": k} for k, v in GRAINS.items()],
        ), "an-grain-label"),
    ])


# A picker's conditions: "[not.]<match>" (gadash.core.query.MATCHES).
CONDITIONS = [
    {"label": "is", "value": "is"},
    {"label": "is not", "value": "not.is"},
    {"label": "contains", "value": "contains"},
    {"label": "does not contain", "value": "not.contains"},
    {"label": "matches regex", "value": "regex"},
    {"label": "does not match regex", "value": "not.regex"},
]


def condition_value(cond: Condition | None, name: str) -> str:
    """The picker's condition control for a filter's condition (or its default)."""
    match = cond.match if cond else DEFAULT_MATCH.get(name, "is")
    return f"not.{match}" if cond and cond.exclude else match


def picked_condition(choice: Any, values: Any, text: Any, case: Any) -> Condition | None:
    """``case``: the Match case toggle's aria-pressed."""
    """The condition a picker's controls describe, or None (no filter). The controls'
    values come from the browser: anything not of their kind counts as nothing."""
    exclude, _, match = (choice if isinstance(choice, str) else "is").rpartition(".")
    if match not in MATCHES:
        return None
    typed = str(text).strip() if isinstance(text, str | int | float) else ""
    picked = tuple(str(v) for v in (values if isinstance(values, list) else []) if v != "") \
        if match == "is" else ((typed,) if typed else ())
    if not picked:
        return None
    return Condition(picked, match, exclude == "not", case == "true")


def _pid(kind: str, name: str) -> dict[str, str]:
    return {"type": kind, "filter": name}


def dom_id(kind: str, name: str) -> str:
    """The element id Dash gives a pattern-matching id (its keys sorted, as JSON)."""
    return json.dumps(_pid(kind, name), sort_keys=True, separators=(",", ":"))


def create_picker(name: str) -> html.Details:
    """One filter's picker: a disclosure button naming the filter and its panel, empty
    until first opened (``create_picker_controls`` fills it then): fourteen dropdowns
    nobody opened cost the page's first render more than anything else in it."""
    label = FILTER_LABELS[name]
    # Three components a picker (the active mark is drawn by gadash.css): every
    # component on the page is checked again at each of the store's updates.
    box: Any = {"aria-label": label}
    data: Any = {"data-filter": name}
    return html.Details(id=_pid(ids.PICKER, name), className="picker", **data, children=[
        html.Summary(label, id=_pid(ids.PICK_OPEN, name), n_clicks=0, className="picker-open"),
        html.Div("Loading…", id=_pid(ids.PICK_PANEL, name), role="group",
                 className="picker-panel", **box),
    ])


def create_picker_controls(name: str, cond: Condition | None, options: list[dict[str, Any]],
                           note: Any = "") -> list[Any]:
    """A picker's panel, showing the filter's condition ``cond`` (None: no filter): the
    condition, the values GA has for the period (``options``; searchable, several at
    once) or a text/pattern, match case, Apply and Clear; ``note``: about the values."""
    label = FILTER_LABELS[name]
    head = f"an-pick-{name}"
    choice = condition_value(cond, name)
    exact = choice.endswith("is")
    pressed: Any = {"aria-pressed": "true" if cond and cond.case else "false"}
    return [
        labelled(f"{label}: condition", dcc.Dropdown(
            id=_pid(ids.PICK_COND, name), options=CONDITIONS, clearable=False,
            searchable=False, value=choice, className="ctl",
        ), f"{head}-cond"),
        html.Div(id=_pid(ids.PICK_VALUES_BOX, name), hidden=not exact, children=labelled(
            f"{label}: values", dcc.Dropdown(
                id=_pid(ids.PICK_VALUES, name), options=options, multi=True, searchable=True,
                value=list(cond.values) if cond and cond.match == "is" else [],
                placeholder="Type to search…", className="ctl ctl-values",
            ), f"{head}-values")),
        html.Div(id=_pid(ids.PICK_TEXT_BOX, name), className="ctl-label", hidden=exact,
                 children=[
            html.Label(f"{label}: text or pattern", htmlFor=dom_id(ids.PICK_TEXT, name)),
            dcc.Input(id=_pid(ids.PICK_TEXT, name), type="text", n_submit=0,
                      value=cond.values[0] if cond and cond.match != "is" else "",
                      className="ctl-text", debounce=False),
        ]),
        # A toggle button: Dash 4's checklist nests its checkbox in an option.
        html.Button("Match case", id=_pid(ids.PICK_CASE, name), n_clicks=0,
                    className="picker-case", **pressed),
        html.Div(note, id=_pid(ids.PICK_NOTE, name), className="picker-note", role="status"),
        html.Div(className="picker-actions", children=[
            html.Button("Apply", id=_pid(ids.PICK_APPLY, name), className="btn btn-primary",
                        n_clicks=0),
            html.Button("Clear", id=_pid(ids.PICK_CLEAR, name), className="btn", n_clicks=0),
        ]),
    ]


def create_pickers() -> html.Div:
    """A labelled picker for each filter."""
    aria: Any = {"aria-labelledby": "an-pickers-label"}
    return html.Div(className="pickers", role="group", **aria, children=[
        html.Span("Filter by", id="an-pickers-label", className="pickers-label"),
        *(create_picker(name) for name in FILTER_LABELS),
    ])


def choice_options(frame: Any, field: str, metric: str, selected: list[str] | None
                   ) -> list[dict[str, Any]]:
    """A picker's options: GA's values with their count, most first; values already
    picked stay offered; GA's (other) row is no value."""
    options: list[dict[str, Any]] = []
    seen = set()
    if frame is not None and field in frame.columns:
        for value, count in zip(frame[field], frame[metric], strict=True):
            if is_other(value) or value in seen:
                continue
            seen.add(value)
            options.append({"label": f"{value}  ·  {int(count):,}", "value": value,
                            "search": str(value)})
    extra = [{"label": v, "value": v, "search": v} for v in (selected or []) if v not in seen]
    return extra + options


_ARIA_SAVED: Any = {"aria-labelledby": "an-saved-label"}


def create_saved_views() -> html.Div:
    """Open one of the team's saved views, or save this one under a name."""
    return html.Div(className="saved-views", children=[
        html.Div(role="group", **_ARIA_SAVED, children=[
            html.Span("Saved views", id="an-saved-label", className="visually-hidden"),
            dcc.Dropdown(id=ids.SAVED, placeholder="Saved views…", clearable=False,
                         searchable=True, className="ctl ctl-saved"),
        ]),
        html.Label("Name this view", htmlFor=ids.SAVE_NAME, className="visually-hidden"),
        dcc.Input(id=ids.SAVE_NAME, type="text", placeholder="Name this view",
                  maxLength=80, className="ctl-text", debounce=False, n_submit=0),
        html.Button("Save view", id=ids.SAVE, className="btn", n_clicks=0),
        html.A("Manage", href="/views", className="manage-link"),
        html.Span(id=ids.SAVE_STATUS, className="save-status", role="status"),
    ])


def create_note_form() -> html.Details:
    """Mark a day or span of the trend with a short note (an annotation)."""
    return html.Details(className="note-form", children=[
        html.Summary("Add a note to the trend"),
        html.Div(className="note-fields", children=[
            html.Label(["Day or span", dcc.DatePickerRange(
                id=ids.NOTE_DATES, display_format="YYYY-MM-DD", minimum_nights=0,
                first_day_of_week=1, clearable=True, className="ctl-dates",
                start_date_placeholder_text="From", end_date_placeholder_text="To (optional)",
            )]),
            html.Label(["Note", dcc.Input(id=ids.NOTE_TEXT, type="text", maxLength=280,
                                          placeholder="e.g. Newsletter sent",
                                          className="ctl-text note-text", n_submit=0)]),
            html.Button("Add note", id=ids.NOTE_ADD, className="btn", n_clicks=0),
            html.Span(id=ids.NOTE_LINKS, className="note-links"),
            html.Span(id=ids.NOTE_STATUS, className="save-status", role="status"),
        ]),
    ])


def picker_dates(state: ViewState, today: date) -> tuple[str | None, str | None]:
    from gadash.core.urls import resolve_range

    try:
        rng = resolve_range(state.range, today)
    except GadashError:
        return None, None
    return rng.start.isoformat(), rng.end.isoformat()
