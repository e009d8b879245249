"""Analyst view at ``/``: date ranges, comparison, filters, charts and tables.

The URL's query string is the single source of truth: one callback keeps the
URL, the controls and the state store in step (Dash allows such a cycle within
one callback); the data callback renders whatever state it is given.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
from dash import (
    ALL,
    MATCH,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    html,
    no_update,
)

from gadash.core.catalog import FILTER_OF_DIMENSION, get_panel
from gadash.core.frames import is_other
from gadash.core.plans import choices_query, trend_panel, view_query
from gadash.core.query import Condition, DateRange, ReportQuery, cutoff_hour, cutoff_note
from gadash.core.urls import FILTER_PARAMS, ViewState, filter_params, parse_query_string
from gadash.errors import GadashError, QueryError, StoreError
from gadash.store.team import add_annotation, save_view, trend_markers, view_url
from gadash.web.answers import ask, pinned_panels
from gadash.web.components import ids
from gadash.web.components.analyst.columns import csv_export_params, share_columns, share_fields
from gadash.web.components.analyst.controls import (
    choice_options,
    condition_value,
    create_picker_controls,
    picked_condition,
    picker_dates,
)
from gadash.web.components.analyst.layout import (
    CHARTS,
    GRIDS,
    LAZY,
    create_changes,
    create_layout,
    create_trending_box,
    mount_panel,
)
from gadash.web.components.analyst.render import (
    FIGURES,
    chart_error,
    export_name,
    grid_error,
    range_label,
    render_chart,
    render_error,
    render_grid,
    render_view,
)
from gadash.web.components.cards import (
    create_chips,
    create_error,
    create_notes,
    fetched_clock,
    share_summary,
)
from gadash.web.components.explore import small_body, state_link
from gadash.web.context import actor, get_service, get_store


def layout(**_query: str) -> Any:
    return create_layout(list(get_service().properties))


dash.register_page(__name__, path="/", title="gadash – analyst view", name="Analyst view",
                   layout=layout)


def _today(property_name: str) -> date:
    service = get_service()
    try:
        return service.today(service.property_id(property_name))
    except GadashError:
        # Without GA we cannot learn the property's zone; the server's date will do
        # for parsing, and the data callback reports the GA error.
        return date.today()


def _state_from_store(data: Any) -> tuple[ViewState, list[str]]:
    """The state in the browser's store, checked like a URL: a tampered store cannot
    reach GA with values a URL could not carry."""
    data = data if isinstance(data, dict) else {}
    filters = data.get("filters")
    # Filters travel as URL parameters: [[key, value], ...] ({key: value} also read).
    pairs = (list(filters.items()) if isinstance(filters, dict) else
             filters if isinstance(filters, list) else [])
    params = [(k, str(data[k])) for k in ("property", "range", "compare", "grain")
              if data.get(k)]
    params += [(str(p[0]), str(p[1])) for p in pairs
               if isinstance(p, list | tuple) and len(p) == 2 and p[1]]
    properties = list(get_service().properties)
    probe = dict(params).get("property", properties[0])
    return parse_query_string("?" + urlencode(params), properties,
                              _today(probe if probe in properties else properties[0]))


# Grid cells that filter the dashboard when clicked: grid -> column -> filter.
def _filters_of(*dimensions: str) -> dict[str, str]:
    return {d: FILTER_OF_DIMENSION[d] for d in dimensions}


CELL_FILTERS: dict[str, dict[str, str]] = {
    ids.SOURCES: _filters_of("sessionSource", "sessionMedium", "sessionDefaultChannelGroup"),
    ids.CHANNELS: _filters_of("sessionDefaultChannelGroup"),
    # A landing page sets the landing filter: the sessions that began there, the row's.
    ids.LANDING: _filters_of("landingPage"),
    ids.PAGES: _filters_of("pagePath"),
}


def next_state(trigger: Any, search: str, store: dict[str, Any] | None,
               values: dict[str, Any], properties: list[str]) -> tuple[ViewState, list[str]]:
    """The state after one user action (pure apart from reading today's date)."""
    if trigger is None or trigger == ids.URL or not store:
        probe, _ = parse_query_string(search, properties, date.today())
        return parse_query_string(search, properties, _today(probe.property))
    state, _ = _state_from_store(store)
    if trigger == ids.PROPERTY and values["property"]:
        state = replace(state, property=values["property"])
    elif trigger == ids.RANGE and values["range"] and values["range"] != "custom":
        state = replace(state, range=values["range"])
    elif trigger == ids.DATES and values["start"] and values["end"]:
        custom = f"{values['start'][:10]}..{values['end'][:10]}"
        picked = replace(state, range=custom)
        try:
            picked.ranges(_today(state.property))
        except GadashError as exc:
            # Keep the view the analyst had; say why the picked range was refused.
            return state, [f"{exc} The view still shows the previous range."]
        state = picked
    elif trigger == ids.COMPARE and values["compare"]:
        state = replace(state, compare=values["compare"])
    elif trigger == ids.GRAIN and values["grain"]:
        state = replace(state, grain=values["grain"])
    elif isinstance(trigger, dict) and trigger.get("type") in (ids.PICK_APPLY, ids.PICK_TEXT):
        name = str(trigger.get("filter"))
        if name in FILTER_PARAMS:
            state = state.with_filter(name, picked_condition(*values["pickers"][name]))
    elif isinstance(trigger, dict) and trigger.get("type") == ids.PICK_CLEAR:
        if trigger.get("filter") in FILTER_PARAMS:
            state = state.without_filter(str(trigger["filter"]))
    elif isinstance(trigger, dict) and trigger.get("type") == ids.CHANGE_APPLY:
        # A "What changed" sentence: its value as exact filters (source and medium).
        for name, value in parse_qsl(str(trigger.get("filter", ""))):
            if name in FILTER_PARAMS and value and not is_other(value):
                state = state.with_filter(name, Condition((value,)))
    elif isinstance(trigger, dict) and trigger.get("type") == ids.CHIP:
        if trigger.get("filter") in FILTER_PARAMS:  # a chip naming no filter changes nothing
            state = state.without_filter(str(trigger["filter"]))
    elif trigger in CELL_FILTERS and values["cells"].get(trigger):
        cell = values["cells"][trigger]
        column = CELL_FILTERS[trigger].get(cell.get("colId"))
        if column and cell.get("value") and not is_other(cell["value"]):
            state = state.with_filter(column, Condition((str(cell["value"]),)))
    elif trigger in (ids.COUNTRIES, ids.DEVICES):
        click = values["country_click" if trigger == ids.COUNTRIES else "device_click"]
        points = (click or {}).get("points") or []
        if points and points[0].get("customdata"):
            name = "country" if trigger == ids.COUNTRIES else "device"
            state = state.with_filter(name, Condition((str(points[0]["customdata"]),)))
    # Round-trip through the URL parser, so every state is one a URL could give.
    return parse_query_string(state.to_query_string(), properties, _today(state.property))


def _points(click: Any) -> bool:
    """Plotly's clickData as the chart sends it: {"points": [{...}, ...]}."""
    return isinstance(click, dict) and isinstance(click.get("points"), list) and all(
        isinstance(p, dict) for p in click["points"])


def _by_filter(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Pattern-matching (ALL) values keyed by their filter name."""
    return {item["id"]["filter"]: item.get("value") for item in items}


# Match case is a toggle button (aria-pressed), flipped in the browser.
clientside_callback(
    """(clicks, pressed) => pressed === 'true' ? 'false' : 'true'""",
    Output({"type": ids.PICK_CASE, "filter": MATCH}, "aria-pressed", allow_duplicate=True),
    Input({"type": ids.PICK_CASE, "filter": MATCH}, "n_clicks"),
    State({"type": ids.PICK_CASE, "filter": MATCH}, "aria-pressed"),
    prevent_initial_call=True,
)


_PICKER_OUT = ((ids.PICK_COND, "value"), (ids.PICK_VALUES, "value"), (ids.PICK_TEXT, "value"),
               (ids.PICK_CASE, "aria-pressed"))


@callback(
    Output(ids.URL, "search"),
    Output(ids.STATE, "data"),
    Output(ids.PROPERTY, "value"),
    Output(ids.RANGE, "value"),
    Output(ids.DATES, "start_date"),
    Output(ids.DATES, "end_date"),
    Output(ids.COMPARE, "value"),
    Output(ids.GRAIN, "value"),
    Output(ids.CHIPS, "children"),
    Output(ids.NOTES, "children"),
    *(Output({"type": t, "filter": ALL}, prop) for t, prop in _PICKER_OUT),
    Output({"type": ids.PICK_VALUES, "filter": ALL}, "options"),
    Output({"type": ids.PICKER, "filter": ALL}, "className"),
    Input(ids.URL, "search"),
    Input(ids.PROPERTY, "value"),
    Input(ids.RANGE, "value"),
    Input(ids.DATES, "start_date"),
    Input(ids.DATES, "end_date"),
    Input(ids.COMPARE, "value"),
    Input(ids.GRAIN, "value"),
    Input({"type": ids.PICK_APPLY, "filter": ALL}, "n_clicks"),
    Input({"type": ids.PICK_CLEAR, "filter": ALL}, "n_clicks"),
    Input({"type": ids.PICK_TEXT, "filter": ALL}, "n_submit"),
    Input({"type": ids.CHIP, "filter": ALL}, "n_clicks"),
    # Clicks in the tables and the countries chart (mounted when seen) come through
    # a store: a panel appearing is no input of this callback, so mounting one never
    # redoes the state (which would drop what the user is doing meanwhile).
    Input(ids.CLICKED, "data"),
    Input(ids.DEVICES, "clickData"),
    Input(ids.SAVED, "value"),
    Input({"type": ids.CHANGE_APPLY, "filter": ALL}, "n_clicks"),
    *(State({"type": t, "filter": ALL}, prop) for t, prop in _PICKER_OUT),
    State(ids.STATE, "data"),
)
def sync_state(search: str | None, prop: str | None, rng: str | None, start: str | None,
               end: str | None, compare: str | None, grain: str | None, _apply: list[int],
               _clear: list[int], _submit: list[int], _chips: list[int], *rest: Any
               ) -> tuple[Any, ...]:
    """Keep URL, controls and state in step after any user action."""
    clicked, device_click, saved, _changes, *_pickers, store = rest
    trigger = ctx.triggered_id
    cells: dict[str, Any] = {}
    country_click = None
    if trigger == ids.CLICKED:  # the store holds what the browser sent: checked here
        source = clicked.get("from") if isinstance(clicked, dict) else None
        value = clicked.get("value") if isinstance(clicked, dict) else None
        if source in CELL_FILTERS and isinstance(value, dict) \
                and isinstance(value.get("colId"), str | None):
            trigger, cells = source, {source: value}
        elif source == ids.COUNTRIES and _points(value):
            trigger, country_click = source, value
        else:
            raise dash.exceptions.PreventUpdate
    notes_before: list[str] = []
    if trigger == ids.SAVED:
        if not saved:
            raise dash.exceptions.PreventUpdate
        # A saved view opens like its URL (its grammar translated), so it is checked
        # like any URL.
        try:
            view = get_store().views.get(str(saved))
            if view is None:
                raise QueryError("That saved view was deleted.")
            search, trigger = view_url(view.query, view.grammar)[1:], ids.URL
        except GadashError as exc:
            notes_before.append(exc.message)
            trigger = None
    if isinstance(trigger, dict) and not ctx.triggered[0].get("value"):
        raise dash.exceptions.PreventUpdate  # chips were (re)drawn, not clicked
    picker_states = [_by_filter(items) for items in ctx.states_list[:len(_PICKER_OUT)]]
    pickers = {name: tuple(p.get(name) for p in picker_states) for name in FILTER_PARAMS}
    values = {"property": prop, "range": rng, "start": start, "end": end,
              "compare": compare, "grain": grain, "pickers": pickers, "cells": cells,
              "country_click": country_click, "device_click": device_click}
    properties = list(get_service().properties)
    state, notes = next_state(trigger, search or "", store, values, properties)
    notes = [*notes_before, *notes]
    today = _today(state.property)
    start_date, end_date = picker_dates(state, today)
    data = {"property": state.property, "range": state.range, "compare": state.compare,
            "grain": state.grain, "filters": filter_params(state.filters)}
    range_value = state.range if ".." not in state.range else "custom"
    active = state.filters.active()
    # The pickers whose controls are mounted (opened once), and every picker.
    order = [item["id"]["filter"] for item in ctx.outputs_list[10]]
    every = [item["id"]["filter"] for item in ctx.outputs_list[10 + len(_PICKER_OUT) + 1]]
    conds = [active.get(name) for name in order]
    # Each picker's condition, values, text and case, as its controls hold them.
    picked: list[list[Any]] = [
        [condition_value(c, n) for c, n in zip(conds, order, strict=True)],
        [list(c.values) if c and c.match == "is" else [] for c in conds],
        [c.values[0] if c and c.match != "is" else "" for c in conds],
        ["true" if c and c.case else "false" for c in conds],
    ]
    # Only what changes is sent: every value sent redraws its control in the browser.
    return (
        _changed(state.to_query_string(), search), _changed(data, store),
        _changed(state.property, prop), _changed(range_value, rng),
        _changed(start_date, start), _changed(end_date, end), _changed(state.compare, compare),
        _changed(state.grain, grain), create_chips(active, ids.CHIP), create_notes(notes),
        *([_changed(v, pickers[n][i]) for v, n in zip(new, order, strict=True)]
          for i, new in enumerate(picked)),
        [[{"label": v, "value": v, "search": v} for v in c.values] if c and c.match == "is"
         else [] for c in conds],
        ["picker active" if active.get(name) else "picker" for name in every],
    )


def _changed(new: Any, old: Any) -> Any:
    """``new``, or no_update when the component holds it already."""
    return no_update if new == old else new


GRID_IDS = {"channels": ids.CHANNELS, "sources": ids.SOURCES, "landing": ids.LANDING,
            "pages": ids.PAGES}
FIGURE_IDS = {"trend": ids.TREND, "devices": ids.DEVICES, "new-returning": ids.NEW_RETURNING,
              "countries": ids.COUNTRIES}


@callback(
    Output(ids.KPIS, "children"),
    *(Output(FIGURE_IDS[f], "figure") for f in FIGURES),
    *(Output(ids.footer(p), "children") for p in FIGURES),
    Output(ids.ERROR, "children"),
    Output(ids.RANGE_LABEL, "children"),
    Input(ids.STATE, "data"),
    Input(ids.NOTES_VERSION, "data"),
)
def render(data: dict[str, Any] | None, _notes: int | None = None) -> tuple[Any, ...]:
    """Fetch the view's data (one batched GA call, cached) and draw the KPIs and the
    trend; every other panel has its own callback (``grid_data``, ``chart_data``)."""
    if not data:
        raise dash.exceptions.PreventUpdate
    state, notes = _state_from_store(data)
    service = get_service()
    label = ""
    try:
        property_id, today, ranges, query = _view_query(state)
        label = range_label(ranges)
        markers, missing = trend_markers(get_store(), state.property, ranges[0].start,
                                         ranges[0].end)
        result = service.view(query)
        trend_notes = [missing] if missing else []
        unusual = []
        if trend_panel(state.grain, ranges[0]) == "trend":  # daily: days can be judged
            try:
                unusual = service.unusual_days(property_id, ranges[0], state.filters)
            except GadashError as exc:
                trend_notes.append(f"Unusual days not marked: {exc.message}")
            if unusual:
                trend_notes.append(
                    f"{len(unusual)} unusual day{'s' * (len(unusual) > 1)} ringed: more than "
                    "3 spreads from the same weekday's median of the 8 weeks before")
        out = render_view(result, state, ranges, markers, trend_notes,
                          partial=ranges[0].end >= today, unusual=unusual,
                          cutoff=query.cutoff)
    except GadashError as exc:
        out = render_error(exc)
    error = [*create_notes(notes), out.error] if notes else out.error
    return (out.kpis, *(out.figures[f] for f in FIGURES),
            *(out.footers[p] for p in FIGURES), error, label)


def _view_query(state: ViewState) -> tuple[str, date, tuple[DateRange, ...], ReportQuery]:
    """The property, its today, the ranges and the view's query for ``state``: the
    KPIs' callback and every panel's ask for the same cached answer."""
    service = get_service()
    property_id = service.property_id(state.property)
    now = service.now(property_id)
    today = now.date()
    ranges = state.ranges(today)
    return property_id, today, ranges, view_query(
        property_id, ranges, state.filters, service.available_fields(property_id), state.grain,
        cutoff_hour(ranges, today, now.hour))


for _panel in LAZY:

    @callback(
        Output(ids.lazy(_panel), "children"),
        Input(ids.seen(_panel), "data"),
        # A table's search box is in its card's header: what was typed before the
        # table mounted filters it from the start.
        *([State(ids.quick_filter(_panel), "value")] if _panel in GRIDS else []),
        prevent_initial_call=True,
    )
    def mount(seen: Any, search: Any = None, _panel: str = _panel) -> Any:
        """The panel's components, once its box has scrolled into view."""
        if not seen:
            raise dash.exceptions.PreventUpdate
        return mount_panel(_panel, search if isinstance(search, str) else "")


for _grid in GRIDS:

    @callback(
        Output(GRID_IDS[_grid], "rowData"),
        Output(GRID_IDS[_grid], "columnDefs"),
        Output(GRID_IDS[_grid], "csvExportParams"),
        Output(ids.footer(_grid), "children"),
        Input(ids.STATE, "data"),
    )
    def grid_data(data: dict[str, Any] | None, _grid: str = _grid) -> tuple[Any, ...]:
        """A table's rows, once mounted and whenever the view changes."""
        if not data:
            raise dash.exceptions.PreventUpdate
        state, _ = _state_from_store(data)
        ranges: tuple[DateRange, ...] = ()
        try:
            _, _, ranges, query = _view_query(state)
            out = render_grid(_grid, get_service().view(query), state)
        except GadashError as exc:
            out = grid_error(_grid, exc)
        return (out.rows, out.columns, csv_export_params(export_name(_grid, state, ranges)),
                out.footer)


# Devices is on screen at first, the others mount when seen; each chart is drawn
# by its own callback, so the browser draws them in separate tasks.
for _chart in ("devices", *CHARTS):

    @callback(
        Output(FIGURE_IDS[_chart], "figure"),
        Output(ids.footer(_chart), "children"),
        Input(ids.STATE, "data"),
    )
    def chart_data(data: dict[str, Any] | None, _chart: str = _chart) -> tuple[Any, Any]:
        """An audience chart, once mounted and whenever the view changes."""
        if not data:
            raise dash.exceptions.PreventUpdate
        try:
            query = _view_query(_state_from_store(data)[0])[3]
            return render_chart(_chart, get_service().view(query))
        except GadashError as exc:
            return chart_error(exc)


@callback(
    Output(ids.CHANGES, "children"),
    Output(ids.footer("changes"), "children"),
    Input(ids.STATE, "data"),
)
def explain(data: dict[str, Any] | None) -> tuple[Any, Any]:
    """"What changed" between the two periods: one more batch call, cached."""
    if not data:
        raise dash.exceptions.PreventUpdate
    state, _ = _state_from_store(data)
    if state.compare == "none":
        return create_changes(None, comparing=False), ""
    service = get_service()
    try:
        property_id = service.property_id(state.property)
        now = service.now(property_id)
        ranges = state.ranges(now.date())
        cutoff = cutoff_hour(ranges, now.date(), now.hour)
        if ranges[0].end >= now.date() and cutoff is None:
            # The same rule as the KPI tiles: a day with no whole hour is not compared.
            return create_changes(None, True, "Today is compared from 01:00, when it has "
                                  "a whole hour to set against the same hour before."), ""
        changes, result = service.changes(property_id, ranges, state.filters, cutoff)
    except GadashError as exc:
        return create_changes(None, True, exc.message), ""
    notes = sorted({n for f in result.reports.values() for n in f.meta.quality_notes()})
    cut = [f for f in result.reports.values() if f.meta.row_count > len(f.rows)]
    if cut:
        notes.append(f"GA has more values than the {min(len(f.rows) for f in cut):,} rows "
                     "fetched: a value listed in one period only counts in the other values")
    rule = ("Each dimension's value with the largest change, ranked by how much it explains "
            "beyond its share of the total")
    like = [f"Like for like: {cutoff_note(ranges, cutoff)}"] if cutoff is not None else []
    return create_changes(changes, True), html.Span(" · ".join([*like, rule, *notes]),
                                                    className="quality")


@callback(
    Output(ids.TRENDING, "children"),
    Output(ids.footer("trending"), "children"),
    Input(ids.STATE, "data"),
    Input(ids.TRENDING_TICK, "n_intervals"),
)
def trending_now(data: dict[str, Any] | None, _tick: int | None) -> tuple[Any, Any]:
    """Pages read far above their usual rate: realtime views against 28 days."""
    if not data:
        raise dash.exceptions.PreventUpdate
    state, _ = _state_from_store(data)
    service = get_service()
    try:
        pages = service.trending(service.property_id(state.property))
    except GadashError as exc:
        return create_trending_box([], exc.message), ""
    counts = service.shares(state.property, [p.path for p in pages[:5] if p.path])
    discussion = {path: share_summary(by_provider, service.providers)
                  for path, by_provider in counts.items()}
    s = service.settings
    return create_trending_box(pages, discussion=discussion), html.Span(
        f"Views in the last 30 minutes, at least {s.trending_min_views} and "
        f"{s.trending_min_ratio:g}x the page's usual 30 minutes over 28 days",
        className="quality")


@callback(
    Output(ids.SAVED, "options"),
    Output(ids.SAVE_STATUS, "children"),
    Output(ids.SAVE_NAME, "value"),
    Input(ids.SAVE, "n_clicks"),
    Input(ids.SAVE_NAME, "n_submit"),
    Input(ids.URL, "pathname"),
    State(ids.SAVE_NAME, "value"),
    State(ids.URL, "search"),
    State(ids.STATE, "data"),
)
def saved_views(_clicks: int, _submit: int, _path: str | None, name: str | None,
                search: str | None, data: dict[str, Any] | None) -> tuple[Any, ...]:
    """List the team's saved views; save this one under a name."""
    status: Any = ""
    keep: Any = no_update
    if ctx.triggered_id in (ids.SAVE, ids.SAVE_NAME):
        state, _ = _state_from_store(data)
        try:
            view = save_view(get_store(), actor(), name or "", state.to_query_string(),
                             state.property)
        except GadashError as exc:
            status = html.Span(exc.message, className="save-error")
        else:
            status = ["Saved: ", html.A(f"/v/{view.slug}", href=f"/v/{view.slug}")]
            keep = ""
    try:
        views = get_store().views.list()
    except StoreError as exc:
        return [], status or html.Span(exc.message, className="save-error"), keep
    options = [{"label": f"{v.name} · {v.property}", "value": v.slug} for v in views]
    return options, status, keep


@callback(
    Output(ids.NOTE_LINKS, "children"),
    Input(ids.STATE, "data"),
)
def note_links(data: dict[str, Any] | None) -> list[Any]:
    """Links to the property's notes, as a page and as CSV."""
    state, _ = _state_from_store(data)
    query = urlencode({"property": state.property})
    return [html.A("All notes", href=f"/annotations?{query}"), " · ",
            html.A("CSV", href=f"/annotations.csv?{query}")]


# Only a click or Enter bumps the notes' version: a view change does not make the
# KPIs' callback (which redraws the trend on a new note) wait for this one.
@callback(
    Output(ids.NOTES_VERSION, "data"),
    Output(ids.NOTE_STATUS, "children"),
    Output(ids.NOTE_TEXT, "value"),
    Input(ids.NOTE_ADD, "n_clicks"),
    Input(ids.NOTE_TEXT, "n_submit"),
    State(ids.STATE, "data"),
    State(ids.NOTE_DATES, "start_date"),
    State(ids.NOTE_DATES, "end_date"),
    State(ids.NOTE_TEXT, "value"),
    State(ids.NOTES_VERSION, "data"),
    prevent_initial_call=True,
)
def add_note(_clicks: int, _submit: int, data: dict[str, Any] | None, start: str | None,
             end: str | None, text: str | None, version: int | None) -> tuple[Any, ...]:
    """Add an annotation to the property's trend (the trend redraws with it)."""
    if ctx.triggered_id not in (ids.NOTE_ADD, ids.NOTE_TEXT):
        raise dash.exceptions.PreventUpdate
    state, _ = _state_from_store(data)
    try:
        first = date.fromisoformat(start[:10] if isinstance(start, str) else "")
        last = date.fromisoformat(end[:10]) if isinstance(end, str) and end else first
    except ValueError:
        return no_update, html.Span("Pick the day (and the last day of a span) first.",
                                    className="save-error"), no_update
    try:
        add_annotation(get_store(), actor(), state.property, first, last,
                       text if isinstance(text, str) else "")
    except GadashError as exc:
        return no_update, html.Span(exc.message, className="save-error"), no_update
    return (version if isinstance(version, int) else 0) + 1, "Note added.", ""


@callback(
    Output(ids.SHARES, "data"),
    Input(ids.PAGES, "rowData"),
    State(ids.STATE, "data"),
    prevent_initial_call=True,
)
def fetch_shares(rows: list[dict[str, Any]] | None, data: dict[str, Any] | None) -> Any:
    """Once the top pages are on screen, look up their share counts (cached per URL).

    The counts go to a store outside the table's loading indicator, and a
    browser-side callback merges them in, so the table never hides meanwhile.
    """
    service = get_service()
    if not rows or not data or not service.providers or any(
            k.startswith("share_") for k in rows[0]):
        raise dash.exceptions.PreventUpdate
    top = service.settings.share_top_pages
    # GA's (other) row is no page: its "URL" is never looked up; a row without a
    # path (a tampered table) neither.
    paged = [r for r in rows if isinstance(r.get("pagePath"), str) and not is_other(
        r["pagePath"])]
    ranked = sorted(paged, key=lambda r: _views(r.get("screenPageViews")), reverse=True)
    state, _ = _state_from_store(data)  # a known property, whatever the store holds
    shares = service.shares(state.property, [r["pagePath"] for r in ranked[:top]])
    if not shares:
        raise dash.exceptions.PreventUpdate
    return {
        "fields": {r["pagePath"]: share_fields(shares.get(r["pagePath"]), service.providers,
                                               top) for r in ranked},
        "columns": share_columns(service.providers),
    }


def _views(value: Any) -> int | float:
    """A row's page views for ranking: a number, or 0 for anything else."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


clientside_callback(
    """(shares, rows, columns) => {
        if (!shares || !rows) { return [window.dash_clientside.no_update,
                                        window.dash_clientside.no_update]; }
        const merged = rows.map(r => Object.assign({}, r, shares.fields[r.pagePath] || {}));
        const known = new Set(columns.map(c => c.field));
        return [merged, columns.concat(shares.columns.filter(c => !known.has(c.field)))];
    }""",
    Output(ids.PAGES, "rowData", allow_duplicate=True),
    Output(ids.PAGES, "columnDefs", allow_duplicate=True),
    Input(ids.SHARES, "data"),
    State(ids.PAGES, "rowData"),
    State(ids.PAGES, "columnDefs"),
    prevent_initial_call=True,
)


def _choices(name: str, data: Any, selected: list[str] | None) -> tuple[Any, Any]:
    """A picker's options and its note: the values GA has for its dimension in the
    current period, under the view's other filters (one report, cached like a view)."""
    state, _ = _state_from_store(data)
    service = get_service()
    try:
        property_id = service.property_id(state.property)
        current = state.ranges(service.today(property_id))[0]
        query = choices_query(property_id, current, state.filters, name,
                              service.available_fields(property_id))
        frame = service.view(query).reports[query.panels[0]]
    except GadashError as exc:
        return no_update, html.Span(exc.message, className="save-error")
    panel = get_panel(query.panels[0])
    field, metric = panel.dimensions[0], panel.metrics[0]
    options = choice_options(frame.rows, field, metric, selected)
    count = len(frame.rows)
    more = f"the first {count:,} of {frame.meta.row_count:,}" if frame.meta.row_count > count \
        else f"{count:,}"
    what = "views" if metric == "screenPageViews" else "sessions"
    return options, (f"Values in GA for {current.label()}: {more}, by {what}. "
                     "Matching ignores case unless Match case is on.")


@callback(
    Output({"type": ids.PICK_PANEL, "filter": MATCH}, "children"),
    Output({"type": ids.PICK_PANEL, "filter": MATCH}, "data-mounted"),
    Input({"type": ids.PICK_OPEN, "filter": MATCH}, "n_clicks"),
    State({"type": ids.PICK_PANEL, "filter": MATCH}, "data-mounted"),
    State(ids.STATE, "data"),
    prevent_initial_call=True,
)
def mount_picker(clicks: int, mounted: Any, data: dict[str, Any] | None) -> tuple[Any, Any]:
    """A picker's controls when it is first opened, showing the view's filter and
    GA's values; later openings refresh the values (``load_choices``)."""
    name = str((ctx.triggered_id or {}).get("filter"))
    if not clicks or mounted or name not in FILTER_PARAMS:
        raise dash.exceptions.PreventUpdate
    state, _ = _state_from_store(data)
    cond = state.filters.active().get(name)
    selected = list(cond.values) if cond and cond.match == "is" else []
    options, note = _choices(name, data, selected) if data else ([], "")
    if options is no_update:
        options = [{"label": v, "value": v, "search": v} for v in selected]
    return create_picker_controls(name, cond, options, note), "1"


@callback(
    Output({"type": ids.PICK_VALUES, "filter": MATCH}, "options", allow_duplicate=True),
    Output({"type": ids.PICK_NOTE, "filter": MATCH}, "children"),
    Input({"type": ids.PICK_OPEN, "filter": MATCH}, "n_clicks"),
    State({"type": ids.PICK_VALUES, "filter": MATCH}, "value"),
    State(ids.STATE, "data"),
    prevent_initial_call=True,
)
def load_choices(clicks: int, selected: list[str] | None, data: dict[str, Any] | None
                 ) -> tuple[Any, Any]:
    """When a picker opens again, offer the values GA has now (the view may have
    changed since). Before its controls are mounted this callback has no output and
    Dash does not call it; ``mount_picker`` loads the first values."""
    name = str((ctx.triggered_id or {}).get("filter"))
    if not clicks or name not in FILTER_PARAMS or not data:
        raise dash.exceptions.PreventUpdate
    return _choices(name, data, selected)


# Show the values list for "is"/"is not", the text box for contains and regex.
clientside_callback(
    """(choice) => {
        const exact = !choice || choice.endsWith('is');
        return [!exact, exact];
    }""",
    Output({"type": ids.PICK_VALUES_BOX, "filter": MATCH}, "hidden"),
    Output({"type": ids.PICK_TEXT_BOX, "filter": MATCH}, "hidden"),
    Input({"type": ids.PICK_COND, "filter": MATCH}, "value"),
)

# Applying or clearing closes the picker and gives focus back to its button.
clientside_callback(
    """(apply, clear, submit) => {
        const name = window.dash_clientside.callback_context.triggered_id.filter;
        const box = document.querySelector(`details.picker[data-filter="${name}"]`);
        if (box && (apply || clear || submit)) {
            box.open = false;
            box.querySelector('summary').focus();
        }
        return window.dash_clientside.no_update;
    }""",
    Output({"type": ids.PICK_NOTE, "filter": MATCH}, "className"),
    Input({"type": ids.PICK_APPLY, "filter": MATCH}, "n_clicks"),
    Input({"type": ids.PICK_CLEAR, "filter": MATCH}, "n_clicks"),
    Input({"type": ids.PICK_TEXT, "filter": MATCH}, "n_submit"),
    prevent_initial_call=True,
)


# A click in a table or the countries chart, relayed to sync_state in the browser
# (no initial call: a panel mounting is no click).
for _source, _prop in (*((grid, "cellClicked") for grid in CELL_FILTERS),
                       (ids.COUNTRIES, "clickData")):
    clientside_callback(
        # A grid may set its props as it mounts: only a value is a click.
        f"(value) => value ? {{from: {json.dumps(_source)}, value: value, at: Date.now()}}"
        " : window.dash_clientside.no_update",
        Output(ids.CLICKED, "data", allow_duplicate=True),
        Input(_source, _prop),
        prevent_initial_call=True,
    )


for _grid in GRID_IDS:

    # Type to filter the table's rows (ag-grid's quick filter), in the browser.
    # Also run as the grid mounts (its output is in the new chunk): text entered
    # while the panel's mount was on its way applies too.
    clientside_callback(
        """(text, options) => ((options || {}).quickFilterText || "") === (text || "")
            ? window.dash_clientside.no_update
            : Object.assign({}, options, {quickFilterText: text || ""})""",
        Output(GRID_IDS[_grid], "dashGridOptions"),
        Input(ids.quick_filter(_grid), "value"),
        State(GRID_IDS[_grid], "dashGridOptions"),
    )

    @callback(
        Output(GRID_IDS[_grid], "exportDataAsCsv"),
        Input(ids.export(_grid), "n_clicks"),
        prevent_initial_call=True,
    )
    def export_csv(_clicks: int) -> bool:
        """Download the table as CSV, sorted and filtered as shown."""
        return True


@callback(
    Output(ids.PINNED, "children"),
    Input(ids.seen("pinned"), "data"),
    Input(ids.STATE, "data"),
    prevent_initial_call=True,
)
def pinned(seen: Any, data: dict[str, Any] | None) -> Any:
    """The property's pinned panels, over this view's period, once scrolled to."""
    if not seen or not data:
        raise dash.exceptions.PreventUpdate
    state, _ = _state_from_store(data)
    try:
        shown = pinned_panels(state.property)
    except StoreError as exc:
        return create_error(exc)
    if not shown:
        return html.P(["No panels pinned to this property: save one in ",
                       html.A("Explore", href="/explore?" + urlencode(
                           {"property": state.property})), " and pin it."], className="muted")
    cards = []
    for panel in shown:
        question = replace(panel.state, range=state.range, compare=state.compare)
        foot: list[Any] = []
        try:
            answer = ask(question)
            body = small_body(answer.table, question.exploration, answer.fields,
                              answer.currency)
            foot.append(html.Span(f"Fetched {fetched_clock(answer.report)}",
                                  className="fetched"))
        except GadashError as exc:
            body = create_error(exc)
        foot.append(html.Span("Over this view's period; its filters do not apply",
                              className="quality"))
        title_id = f"an-pinned-{panel.id}"
        named: Any = {"aria-labelledby": title_id}
        cards.append(html.Section(className="card", **named, children=[
            html.Header(className="card-head", children=[
                html.H3(panel.name, id=title_id),
                html.A("Open in Explore", href=state_link(panel.state, panel.id),
                       className="manage-link")]),
            html.Div(body, className="card-body"),
            html.Footer(foot, className="card-foot")]))
    return html.Div(cards, className="grid-2 pinned-grid")
