"""Explore at ``/explore``: any dimensions and metrics of the property, filtered on any
dimension and metric, drawn as it fits, saved as a panel.

As on the analyst view, the URL is the state: one callback keeps the URL, the form
and the state store in step; the answer's callbacks draw whatever state they get.
Before any data is asked, the fields are checked against the property's
GetMetadata and GA's CheckCompatibility: a question GA cannot answer is refused
with GA's reason, and costs no report call.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from gadash.core.explore import (
    BUILTINS,
    MAX_HAVING,
    MAX_WHERE,
    ExploreState,
    exploration_params,
    parse_explore_query,
)
from gadash.core.frames import PropertyFields
from gadash.core.query import MATCHES, Exploration
from gadash.errors import GadashError, QueryError
from gadash.store.panels import delete_panel, panel_state, save_panel, update_panel
from gadash.web.answers import ask, property_fields, today_of
from gadash.web.components.analyst.columns import csv_export_params
from gadash.web.components.analyst.render import range_label
from gadash.web.components.cards import create_error, create_notes
from gadash.web.components.explore import (
    ExIds,
    answer_figure,
    answer_footer,
    columns_of,
    create_grid,
    create_layout,
    describe_filters,
    field_options,
    grid_records,
    number_tiles,
    state_link,
    title_of,
)
from gadash.web.context import actor, get_service, get_store
from gadash.web.figures import message_figure

X = ExIds


def layout(**_query: str) -> Any:
    return create_layout(list(get_service().properties))


dash.register_page(__name__, path="/explore", title="gadash – explore", name="Explore",
                   layout=layout)


def _properties() -> list[str]:
    return list(get_service().properties)


def _panel_id(search: str) -> int | None:
    value = next((v for k, v in reversed(parse_qsl(search.lstrip("?"))) if k == "panel"), "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def state_from_url(search: str) -> tuple[ExploreState, int | None, list[str]]:
    """The state a URL asks for; ``?panel=<n>`` alone opens that saved panel."""
    properties = _properties()
    panel = _panel_id(search)
    keys = {k for k, _ in parse_qsl(search.lstrip("?"))}
    if panel is not None and "metric" not in keys:
        try:
            row = get_store().panels.get(panel)
            if row is None:
                raise QueryError(f"There is no saved panel {panel}: it was deleted.")
            return panel_state(row, properties, today_of(row.property)), panel, []
        except GadashError as exc:
            state, notes = parse_explore_query("", properties, date.today())
            return state, None, [exc.message, *notes]
    head = dict(parse_qsl(search.lstrip("?"))).get("property", "")
    state, notes = parse_explore_query(search, properties, today_of(head or properties[0]))
    return state, panel, notes


def _fields(property_name: str) -> tuple[PropertyFields | None, str]:
    service = get_service()
    try:
        return service.fields(service.property_id(property_name)), ""
    except GadashError as exc:
        return None, f"The property's fields could not be read from GA: {exc.message}"



def _options(fields: PropertyFields | None, chosen: list[str], kind: str
             ) -> list[dict[str, Any]]:
    """A picker's options; chosen names GA does not list stay (the check says why)."""
    listed = field_options(list(fields.dimensions if kind == "dimension" else fields.metrics)) \
        if fields is not None else []
    known = {o["value"] for o in listed}
    return [*({"label": name, "value": name} for name in chosen if name not in known), *listed]


def _text(values: tuple[str, ...]) -> str:
    return ", ".join(values)


def controls_of(state: ExploreState) -> dict[str, Any]:
    """What each control shows for a state."""
    e = state.exploration
    where = [*e.where, *([None] * MAX_WHERE)][:MAX_WHERE]
    having = [*e.having, *([None] * MAX_HAVING)][:MAX_HAVING]
    custom = ".." in state.range
    return {
        "property": state.property, "range": "custom" if custom else state.range,
        "start": state.range.split("..")[0] if custom else None,
        "end": state.range.split("..")[1] if custom else None, "compare": state.compare,
        "dims": list(e.dimensions), "metrics": list(e.metrics),
        "where_field": [f.field if f else None for f in where],
        "where_cond": [("not." if f and f.condition.exclude else "")
                       + (f.condition.match if f else "is") for f in where],
        "where_value": [_text(f.condition.values) if f else "" for f in where],
        "having_field": [h.metric if h else None for h in having],
        "having_op": [h.op if h else "gt" for h in having],
        "having_value": [h.value if h else None for h in having],
        "sort": e.sort or None, "order": "desc" if e.desc else "asc", "top": e.limit,
        "chart": e.chart,
    }


def _names(value: Any) -> list[str]:
    """A multi-select's names (a tampered value that is no list names nothing)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def params_of(values: dict[str, Any], today: date, cased: frozenset[str] = frozenset()
              ) -> str:
    """The query string the controls stand for (parsed, so checked, like any URL);
    ``cased``: dimensions whose condition matches case (the form has no box for it, so
    it is kept from the state)."""
    params: list[tuple[str, str]] = [("property", str(values["property"] or ""))]
    rng = values["range"] or "last28"
    if rng == "custom":
        start = str(values["start"] or values["end"] or today.isoformat())[:10]
        end = str(values["end"] or start)[:10]
        rng = f"{start}..{end}"
    params += [("range", str(rng)), ("compare", str(values["compare"] or "previous"))]
    params += [("dim", d) for d in _names(values["dims"])]
    params += [("metric", m) for m in _names(values["metrics"])]
    for field, cond, text in zip(values["where_field"], values["where_cond"],
                                 values["where_value"], strict=False):
        if not isinstance(field, str) or not field or not isinstance(text, str):
            continue
        cond = cond if isinstance(cond, str) else "is"
        exclude, _, match = cond.rpartition(".")
        words = (["not"] if exclude == "not" else []) + ([match] if match in MATCHES
                                                          and match != "is" else [])
        key = ".".join(["where", field, *words, *(["case"] if field in cased else [])])
        parts = [text] if match == "regex" else [p for p in text.split(",")]
        params += [(key, p.strip()) for p in parts if p.strip()]
    for field, op, number in zip(values["having_field"], values["having_op"],
                                 values["having_value"], strict=False):
        if isinstance(field, str) and field and isinstance(number, int | float) \
                and not isinstance(number, bool):
            params.append((f"having.{field}.{op if isinstance(op, str) else 'gt'}",
                           f"{number:g}"))
    if isinstance(values["sort"], str) and values["sort"]:
        params += [("sort", values["sort"]), ("order", str(values["order"] or "desc"))]
    params += [("top", str(values["top"] or 25)), ("chart", str(values["chart"] or "auto"))]
    return "?" + urlencode(params)


def _changed(new: Any, old: Any) -> Any:
    return no_update if new == old else new


_CONTROLS = [(X.PROPERTY, "property"), (X.RANGE, "range"), (X.START, "start"),
             (X.END, "end"), (X.COMPARE, "compare"), (X.DIMS, "dims"), (X.METRICS, "metrics"),
             (X.SORT, "sort"), (X.ORDER, "order"), (X.TOP, "top"), (X.CHART, "chart")]
_ROWS = [(X.WHERE_FIELD, "where_field"), (X.WHERE_COND, "where_cond"),
         (X.WHERE_VALUE, "where_value"), (X.HAVING_FIELD, "having_field"),
         (X.HAVING_OP, "having_op"), (X.HAVING_VALUE, "having_value")]


# Where sync's outputs are: the rows' values, then the field pickers' options.
_ROW_VALUES = 5 + len(_CONTROLS)
_WHERE_OPTIONS = _ROW_VALUES + len(_ROWS) + 2


@callback(
    Output(X.URL, "search"),
    Output(X.STATE, "data"),
    Output(X.NOTES, "children"),
    Output(X.DATES, "hidden"),
    Output(X.FILTERS, "open"),
    *(Output(cid, "value") for cid, _ in _CONTROLS),
    *(Output({"type": kind, "row": ALL}, "value") for kind, _ in _ROWS),
    Output(X.DIMS, "options"),
    Output(X.METRICS, "options"),
    Output({"type": X.WHERE_FIELD, "row": ALL}, "options"),
    Output({"type": X.HAVING_FIELD, "row": ALL}, "options"),
    Output(X.SORT, "options"),
    *(Output(f"ex-builtin-{b}", "href") for b in BUILTINS),
    Input(X.URL, "search"),
    *(Input(cid, "value") for cid, _ in _CONTROLS),
    *(Input({"type": kind, "row": ALL}, "value") for kind, _ in _ROWS),
    State(X.STATE, "data"),
)
def sync(search: str | None, *rest: Any) -> tuple[Any, ...]:
    """Keep URL, form and state in step after any change of either."""
    store = rest[-1]
    given = dict(zip([name for _, name in _CONTROLS] + [name for _, name in _ROWS],
                     rest[:-1], strict=True))
    trigger = ctx.triggered_id
    from_url = trigger in (None, X.URL) or not isinstance(store, dict)
    before = store.get("property") if isinstance(store, dict) else None
    if from_url:
        state, panel, notes = state_from_url(search or "")
    else:
        panel = store.get("panel") if isinstance(store.get("panel"), int) else None
        prop = given["property"] if given["property"] in _properties() else before
        before_state, _ = parse_explore_query(str(store.get("query") or ""), _properties(),
                                              today_of(str(prop or "")))
        cased = frozenset(f.field for f in before_state.exploration.where if f.condition.case)
        query = params_of({**given, "property": prop}, today_of(str(prop or "")), cased)
        state, notes = parse_explore_query(query, _properties(), today_of(str(prop or "")))
    url = state.to_query_string() + (f"&panel={panel}" if panel is not None else "")
    data = {"query": state.to_query_string(), "panel": panel, "property": state.property}
    shown = controls_of(state)
    new_property = from_url or state.property != before
    fields, problem = _fields(state.property) if new_property else (None, "")
    if problem:
        notes.append(problem)
    e = state.exploration
    sort_options = [{"label": name, "value": name} for name in (*e.dimensions, *e.metrics)]

    def control(name: str) -> Any:  # the form keeps what the user typed meanwhile
        return shown[name] if from_url else _changed(shown[name], given[name])

    def rows(name: str) -> list[Any]:  # as many as the page has (ctx.outputs_list)
        count = len(ctx.outputs_list[_ROW_VALUES + [n for _, n in _ROWS].index(name)])
        return [shown[name][i] if from_url and i < len(shown[name]) else no_update
                for i in range(count)]

    where_opts = _options(fields, [f.field for f in e.where], "dimension")
    having_opts = _options(fields, [h.metric for h in e.having], "metric")
    return (
        _changed(url, search), _changed(data, store), create_notes(notes),
        ".." not in state.range,
        True if e.where or e.having else no_update,
        *(control(name) for _, name in _CONTROLS),
        *(rows(name) for _, name in _ROWS),
        _options(fields, list(e.dimensions), "dimension") if new_property else no_update,
        _options(fields, list(e.metrics), "metric") if new_property else no_update,
        [where_opts if new_property else no_update] * len(ctx.outputs_list[_WHERE_OPTIONS]),
        [having_opts if new_property else no_update] * len(ctx.outputs_list[_WHERE_OPTIONS + 1]),
        sort_options,
        *("/explore?" + urlencode({"property": state.property, "builtin": b}) for b in BUILTINS),
    )


def _state_of(data: Any) -> tuple[ExploreState, int | None]:
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        raise dash.exceptions.PreventUpdate
    state, _ = parse_explore_query(data["query"], _properties(),
                                   today_of(str(data.get("property") or "")))
    panel = data.get("panel")
    return state, panel if isinstance(panel, int) else None


@callback(
    Output(X.TITLE, "children"),
    Output(X.ERROR, "children"),
    Output(X.GRAPH, "figure"),
    Output(X.GRAPH_BOX, "hidden"),
    Output(X.NUMBERS, "children"),
    Output(X.NUMBERS, "hidden"),
    Output(X.FOOTER, "children"),
    Input(X.STATE, "data"),
)
def render(data: Any) -> tuple[Any, ...]:
    """The answer's chart or numbers (the table has its own callback)."""
    state, _ = _state_of(data)
    e = state.exploration
    try:
        answer = ask(state)
    except GadashError as exc:
        fields = property_fields(state.property)
        return (title_of(e, fields), create_error(exc), message_figure(
            "Nothing asked of GA: see the message above" if isinstance(exc, QueryError)
            else exc.title), False, [], True, html.Span(exc.title, className="quality"))
    fields, table = answer.fields, answer.table
    subtitle = describe_filters(e, fields)
    period = range_label(answer.ranges) + (
        "" if answer.cutoff is None else f", both to {answer.cutoff:02d}:00 (like for like)")
    title = [title_of(e, fields), html.Span(f" · {period}", className="muted")]
    if subtitle:
        title.append(html.Span(f" · {subtitle}", className="muted"))
    footer = answer_footer(answer.report, len(table.rows), e)
    stale = answer.result.stale_note(answer.report.meta.time_zone)
    error = html.Div(stale, className="alert alert-note") if stale else None
    currency = answer.currency
    if e.drawn_as == "number":
        return title, error, no_update, True, number_tiles(table, fields, currency), False, \
            footer
    if e.drawn_as == "table":
        return title, error, no_update, True, [], True, footer
    return title, error, answer_figure(table, e, fields), False, [], True, footer


@callback(
    Output(X.GRID_BOX, "children"),
    Input(X.GRID_SEEN, "data"),
    prevent_initial_call=True,
)
def mount_grid(seen: Any) -> Any:
    """The table, once its box is in view (AG Grid's code has loaded then)."""
    if not seen:
        raise dash.exceptions.PreventUpdate
    return create_grid([])


@callback(
    Output(X.GRID, "rowData"),
    Output(X.GRID, "columnDefs"),
    Output(X.GRID, "dashGridOptions"),
    Output(X.GRID, "csvExportParams"),
    Output(X.GRID_FOOTER, "children"),
    Input(X.STATE, "data"),
    State(X.GRID, "dashGridOptions"),
)
def grid_data(data: Any, options: Any) -> tuple[Any, ...]:
    """The answer's rows, totals pinned at the bottom (and in the CSV)."""
    state, _ = _state_of(data)
    options = options if isinstance(options, dict) else {}
    try:
        answer = ask(state)
    except GadashError as exc:
        return [], [], {**options, "pinnedBottomRowData": []}, no_update, \
            html.Span(exc.title, className="quality")
    label = "previous period" if state.compare == "previous" else "last year"
    rows, totals = grid_records(answer.table)
    name = "-".join(["gadash", state.property, *state.exploration.dimensions,
                     answer.ranges[0].to_param()]).lower().replace(" ", "-").replace(":", "-")
    footer = ["Totals are GA's, for every row of the period (not only those shown)."]
    return rows, columns_of(answer.table, answer.fields, answer.report.meta.currency, label), \
        {**options, "pinnedBottomRowData": totals}, csv_export_params(f"{name}.csv"), footer


@callback(
    Output(X.GRID, "exportDataAsCsv"),
    Input(X.EXPORT, "n_clicks"),
    prevent_initial_call=True,
)
def export_csv(_clicks: int) -> bool:
    """Download the table as CSV (values, not their display text; totals included)."""
    return True


# ------------------------------------------------------------------ panels

@callback(
    Output(X.SAVE_STATUS, "children"),
    Output(X.PANELS_VERSION, "data"),
    Output(X.URL, "search", allow_duplicate=True),
    Input(X.SAVE, "n_clicks"),
    Input(X.SAVE_NEW, "n_clicks"),
    Input(X.SAVE_NAME, "n_submit"),
    State(X.SAVE_NAME, "value"),
    State(X.SAVE_PIN, "value"),
    State(X.STATE, "data"),
    State(X.PANELS_VERSION, "data"),
    prevent_initial_call=True,
)
def save(_save: int, _new: int, _submit: int, name: Any, pin: Any, data: Any,
         version: Any) -> tuple[Any, ...]:
    """Save the exploration as a panel, or save the changes to the panel it opened."""
    if ctx.triggered_id not in (X.SAVE, X.SAVE_NEW, X.SAVE_NAME):
        raise dash.exceptions.PreventUpdate
    state, panel = _state_of(data)
    query = state.to_query_string()
    pinned = pin == "pin"
    text = name if isinstance(name, str) else ""
    bump = (version if isinstance(version, int) else 0) + 1
    db, who, properties = get_store(), actor(), _properties()
    try:
        service = get_service()
        reasons = service.incompatible(service.property_id(state.property), state.exploration)
        if reasons:  # a panel GA cannot answer would only ever show this
            raise QueryError("Not saved: " + " ".join(reasons))
        editing = db.panels.get(panel) if panel is not None else None
        if editing is not None and editing.property == state.property \
                and ctx.triggered_id != X.SAVE_NEW:
            row, links = update_panel(db, who, editing.id, properties,
                                      today_of(state.property), name=text or None,
                                      query=query, pinned=pinned)
            if row is None:
                raise QueryError(f"Panel {panel} was deleted meanwhile; save it as a new one.")
            said: list[Any] = [f"Saved the changes to “{row.name}”."]
            if links:
                said.append(" It is a screen of TV links " + ", ".join(
                    f"“{link.label}”" for link in links) + ": they show the change at their "
                    "next refresh.")
            return said, bump, no_update
        row = save_panel(db, who, text, query, state.property, properties,
                         today_of(state.property), pinned=pinned)
    except GadashError as exc:
        return html.Span(exc.message, className="save-error"), no_update, no_update
    return [f"Saved as panel {row.id}: “{row.name}”. On a TV playlist: ",
            html.Code(f"panel:{row.id}"), "."], bump, query + f"&panel={row.id}"


@callback(
    Output(X.PANELS, "children"),
    Output(X.SAVE, "children"),
    Output(X.SAVE_NEW, "hidden"),
    Output(X.SAVE_NAME, "value"),
    Output(X.SAVE_PIN, "value"),
    Input(X.STATE, "data"),
    Input(X.PANELS_VERSION, "data"),
    State(X.SAVE_NAME, "value"),
)
def panels(data: Any, _version: Any, typed: Any) -> tuple[Any, ...]:
    """The property's saved panels: open, pin or unpin, delete."""
    state, panel = _state_of(data)
    try:
        rows = get_store().panels.list(state.property)
    except GadashError as exc:
        return html.Span(exc.message, className="save-error"), "Save panel", True, no_update, \
            no_update
    editing = next((r for r in rows if r.id == panel), None)  # of this property only
    items = []
    for r in rows:
        items.append(html.Li(className="ex-panel", children=[
            html.A(r.name, href=f"/explore?panel={r.id}"),
            html.Span(f" · panel:{r.id} · by {r.created_by}"
                      + (" · pinned to the analyst view" if r.pinned else ""),
                      className="muted"),
            html.Button("Unpin" if r.pinned else "Pin", className="btn btn-small",
                        id={"type": X.PANEL_PIN, "panel": r.id}, n_clicks=0),
            html.Button("Delete", className="btn btn-small",
                        id={"type": X.PANEL_DELETE, "panel": r.id}, n_clicks=0),
        ]))
    listing: Any = [html.H3("Saved panels of this property", className="small-head"),
                    html.Ul(items, className="ex-panel-list")] if items else \
        html.P("No saved panels for this property yet.", className="muted")
    if editing is None:
        return listing, "Save panel", True, no_update, no_update
    return (listing, f"Save changes to “{editing.name}”", False,
            _changed(editing.name, typed) if ctx.triggered_id == X.STATE else no_update,
            "pin" if editing.pinned else "no")


@callback(
    Output(X.SAVE_STATUS, "children", allow_duplicate=True),
    Output(X.PANELS_VERSION, "data", allow_duplicate=True),
    Input({"type": X.PANEL_DELETE, "panel": ALL}, "n_clicks"),
    Input({"type": X.PANEL_PIN, "panel": ALL}, "n_clicks"),
    State(X.PANELS_VERSION, "data"),
    prevent_initial_call=True,
)
def manage(_delete: list[Any], _pin: list[Any], version: Any) -> tuple[Any, ...]:
    """Pin, unpin or delete a panel; a panel on TV links is deleted only on a second
    press, after saying which links show it."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
        raise dash.exceptions.PreventUpdate  # buttons were drawn, not pressed
    panel = trigger.get("panel")
    if not isinstance(panel, int):
        raise dash.exceptions.PreventUpdate
    clicks = ctx.triggered[0]["value"]
    bump = (version if isinstance(version, int) else 0) + 1
    db, who = get_store(), actor()
    try:
        if trigger.get("type") == X.PANEL_PIN:
            row = db.panels.get(panel)
            if row is None:
                raise QueryError(f"Panel {panel} was deleted meanwhile.")
            update_panel(db, who, panel, _properties(), today_of(row.property),
                         pinned=not row.pinned)
            return (f"“{row.name}” is {'no longer ' if row.pinned else ''}pinned to the "
                    "analyst view."), bump
        done, links = delete_panel(db, who, panel,
                                   force=isinstance(clicks, int) and clicks > 1)
    except GadashError as exc:
        return html.Span(exc.message, className="save-error"), no_update
    names = ", ".join(f"“{link.label}”" for link in links)
    if not done and not links:
        return f"There is no panel {panel}: it was deleted already.", bump
    if not done:
        return html.Span(f"Panel {panel} is a screen of TV links {names}. Press Delete again "
                         "to delete it: those screens then say it was deleted.",
                         className="save-error"), no_update
    return f"Deleted panel {panel}." + (f" The screens of TV links {names} now say it was "
                                        "deleted; take it off their playlists."
                                        if links else ""), bump


def explore_url(property_name: str, exploration: Exploration) -> str:
    """The Explore URL of an exploration of a property, over the default period."""
    return "/explore?" + urlencode([("property", property_name),
                                    *exploration_params(exploration)])


__all__ = ["explore_url", "params_of", "state_from_url", "state_link"]
