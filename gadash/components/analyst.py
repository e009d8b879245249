"""The analyst view: its layout factory and the pure rendering of a view's data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
from babel.numbers import get_currency_symbol
from dash import dcc, html

from gadash.components import ids
from gadash.components.cards import (
    FILTER_LABELS,
    create_card,
    create_error,
    create_kpi_tile,
    create_user_badge,
    fetched_clock,
)
from gadash.errors import GadashError
from gadash.figures import (
    TREND_TIME,
    Figure,
    Marker,
    bar_figure,
    donut_figure,
    message_figure,
    trend_figure,
)
from gadash.findings import Changes, Finding, TrendingPage, describe_dimension
from gadash.frames import OTHER_TIP, ReportFrame, is_other
from gadash.insights import Band
from gadash.query import COMPARISONS, DEFAULT_MATCH, MATCHES, PRESETS, Condition, DateRange
from gadash.reports import TREND_PANELS, get_panel
from gadash.service import ViewResult
from gadash.shares import Provider, ShareCounts
from gadash.transforms import (
    channels_table,
    fill_days,
    kpis,
    landing_table,
    pages_table,
    rollup,
    sources_table,
    split_ranges,
)
from gadash.views import GRAINS
from gadash.viewstate import ViewState, filter_params

# No "Share chart" (Plotly's upload to its cloud service) on any toolbar.
GRAPH_CONFIG: Any = {"displaylogo": False, "showSendToCloud": False,
                     "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendChartToCloud"]}

_NUM = {"function": "params.value == null ? '–' : d3.format(',')(params.value)"}
_PCT = {"function": "params.value == null ? '–' : d3.format('.1%')(params.value)"}
# A row the comparison period did not have (GA omits rows without sessions) is new.
_CHANGE = {"function": "params.value == null ? (params.data.isOther ? '–' : 'new') : "
                       "d3.format('+.1%')(params.value)"}
# Click targets look like links; GA's (other) row is no value to filter by.
_LINK_RULES = {"cell-link": "!params.data.isOther", "cell-other": "params.data.isOther"}


def _seconds() -> dict[str, Any]:
    """Seconds shown as h:mm:ss (GA's own format); CSV keeps the seconds."""
    r = "(+d3.format('.0f')(params.value))"
    return {"function": f"params.value == null ? '–' : (({r} - {r} % 3600) / 3600) + ':' + "
                        f"d3.format('02d')((({r} % 3600) - ({r} % 60)) / 60) + ':' + "
                        f"d3.format('02d')({r} % 60)"}


def _duration(field: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "valueFormatter": _seconds(),
            "type": "numericColumn", "headerTooltip": f"{name} (h:mm:ss; seconds in CSV)",
            **extra}


def _num(field: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "valueFormatter": _NUM,
            "type": "numericColumn", **extra}


def _pct(field: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "valueFormatter": _PCT,
            "type": "numericColumn", **extra}


def _link(field: str, name: str, what: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": name, "cellClassRules": _LINK_RULES,
            "tooltipField": "otherTip",
            "headerTooltip": f"Click a {what} to filter the dashboard by it", **extra}


def money_column(field: str, name: str, currency: str) -> dict[str, Any]:
    """A revenue column in the currency GA names for the property."""
    symbol = get_currency_symbol(currency, locale="en") if currency else ""
    locale = ("{decimal: '.', thousands: ',', grouping: [3], currency: "
              f"[{json.dumps(symbol, ensure_ascii=False)}, '']}}")
    return {"field": field, "headerName": name, "type": "numericColumn",
            "headerTooltip": f"In {currency}, the property's currency in GA" if currency else "",
            "valueFormatter": {"function": "params.value == null ? '–' : "
                               f"d3.formatLocale({locale}).format('$,.2f')(params.value)"}}


SOURCE_COLUMNS: list[dict[str, Any]] = [
    _link("sessionSource", "Source", "source", minWidth=170),
    _link("sessionMedium", "Medium", "medium"),
    _link("sessionDefaultChannelGroup", "Channel", "channel", minWidth=140),
    _num("sessions", "Sessions", sort="desc"),
    _num("screenPageViews", "Page views"),
    _duration("averageSessionDuration", "Avg. session duration"),
    _pct("engagementRate", "Engagement rate"),
]
CHANGE_COLUMN = {"field": "sessionsChange", "headerName": "Sessions change",
                 "valueFormatter": _CHANGE, "type": "numericColumn",
                 "headerTooltip": "Against the comparison period, for exactly these rows"}
CHANNEL_COLUMNS: list[dict[str, Any]] = [
    _link("sessionDefaultChannelGroup", "Channel", "channel", minWidth=150),
    _num("sessions", "Sessions", sort="desc"),
    _pct("share", "Share of sessions"),
    _pct("engagementRate", "Engagement rate"),
]
LANDING_COLUMNS: list[dict[str, Any]] = [
    _link("landingPage", "Landing page", "landing page", minWidth=240, flex=2),
    _num("sessions", "Sessions", sort="desc",
         headerTooltip="Sessions that started on this page"),
    _pct("engagementRate", "Engagement rate"),
    _duration("averageSessionDuration", "Avg. session duration"),
]
PAGE_COLUMNS: list[dict[str, Any]] = [
    _link("pagePath", "Page", "page", minWidth=220, flex=2),
    {"field": "pageTitle", "headerName": "Title", "minWidth": 160, "flex": 2,
     "tooltipField": "pageTitle"},
    _num("screenPageViews", "Views", sort="desc"),
    _num("totalUsers", "Users"),
    _duration("engagementPerView", "Avg. engagement / view"),
    _pct("bounceRate", "Bounce rate"),
]
ENTRANCES_COLUMN = _num("entrances", "Entrances",
                        headerTooltip="Sessions that started on this page")
VIEWS_CHANGE_COLUMN = {**CHANGE_COLUMN, "field": "viewsChange", "headerName": "Views change"}


def outcome_columns(frame: Any, currency: str, rate: bool = True) -> list[dict[str, Any]]:
    """Key-event and revenue columns, for a property that has them."""
    cols: list[dict[str, Any]] = []
    if "keyEvents" in frame.columns and frame["keyEvents"].fillna(0).gt(0).any():
        cols.append(_num("keyEvents", "Key events"))
        if rate and "sessionKeyEventRate" in frame.columns:
            cols.append(_pct("sessionKeyEventRate", "Session key event rate"))
    if "totalRevenue" in frame.columns and frame["totalRevenue"].fillna(0).gt(0).any():
        cols.append(money_column("totalRevenue", "Revenue", currency))
    return cols


def share_columns(providers: list[Provider]) -> list[dict[str, Any]]:
    """One column per share provider: its headline count, details or the error on hover."""
    cols = []
    for p in providers:
        field = f"share_{p.name}"
        cols.append({
            "field": field, "headerName": f"{p.short} {p.headline}", "type": "numericColumn",
            "headerTooltip": f"{p.label} {p.headline} for the top pages; hover a cell for more",
            "tooltipField": f"{field}_tip", "minWidth": 84,
            "valueFormatter": {"function": f"params.value == null ? (params.data.{field}_err "
                                           "? '!' : '') : d3.format(',')(params.value)"},
            "cellClassRules": {"share-error": f"params.data.{field}_err"},
        })
    return cols


def share_fields(counts: dict[str, ShareCounts] | None, providers: list[Provider],
                 top: int) -> dict[str, Any]:
    """A row's share cells: headline count, tooltip text, error flag."""
    out: dict[str, Any] = {}
    for p in providers:
        field = f"share_{p.name}"
        c = (counts or {}).get(p.name)
        if c is None:
            out |= {field: None, f"{field}_tip": f"Only the top {top} pages are looked up",
                    f"{field}_err": False}
        elif c.ok:
            out |= {field: c.counts.get(p.headline, 0),
                    f"{field}_tip": f"{p.label}: {p.describe(c.counts)}", f"{field}_err": False}
        else:
            out |= {field: None, f"{field}_tip": f"{p.label}: {c.error}", f"{field}_err": True}
    return out


def create_grid(grid_id: str, columns: list[dict[str, Any]], file_name: str,
                height: str = "460px", paged: bool = True, search: str = "") -> html.Div:
    """A grid in a box of its height (held while the grid's code loads)."""
    # One Tab stop per grid: arrows move between cells, Tab leaves the grid.
    options: dict[str, Any] = {"tooltipShowDelay": 300, "animateRows": False,
                               "tabToNextCell": {"function": "false"},
                               "tabToNextHeader": {"function": "false"}}
    if search:
        options["quickFilterText"] = search
    if paged:
        options |= {"pagination": True, "paginationPageSize": 10,
                    "paginationPageSizeSelector": [10, 25, 50, 100]}
    return html.Div(className="panel-box", style={"height": height}, children=dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=[],
        # CSV holds the values, not their display text: plain numbers, rates as
        # decimals, durations in seconds.
        # Headers wrap rather than cut ("Avg. en…"), so narrow numeric columns fit.
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "flex": 1,
                       "minWidth": 92, "wrapHeaderText": True, "autoHeaderHeight": True,
                       "suppressHeaderFilterButton": True,
                       "useValueFormatterForExport": False},
        dashGridOptions=options,
        csvExportParams={"fileName": file_name},
        style={"height": height},
        className="ag-theme-quartz",
    ))


def _grid_tools(grid: str) -> html.Div:  # grid: the suffix of its ids
    return html.Div(className="card-tools", children=[
        dcc.Input(id=ids.quick_filter(grid), type="search", placeholder="Search table…",
                  debounce=True, className="quick-filter"),
        html.Button("Export CSV", id=ids.export(grid), className="btn", n_clicks=0),
    ])


def _graph(graph_id: str, height: str) -> html.Div:
    # The box holds the graph's height before plotly.js has loaded: nothing shifts.
    return html.Div(dcc.Graph(id=graph_id, figure=message_figure("Loading…"),
                              config=GRAPH_CONFIG, style={"height": height}),
                    className="panel-box", style={"height": height})


def _labelled(text: str, control: Any, label_id: str, hidden: bool = False) -> html.Div:
    """A control under a visible label that is also its accessible name (Dash 4's
    dropdown button is not named by a wrapping <label>)."""
    aria: Any = {"aria-labelledby": label_id}
    return html.Div(role="group", **aria, hidden=hidden, className="ctl-label",
                    children=[html.Span(text, id=label_id), control])


def create_controls(properties: list[str]) -> html.Div:
    """The header controls; values are filled from the URL by a callback."""
    return html.Div(className="controls", children=[
        _labelled("Property", dcc.Dropdown(
            id=ids.PROPERTY, options=properties, clearable=False, searchable=False,
            className="ctl ctl-property",
        ), "an-property-label", hidden=len(properties) < 2),
        _labelled("Date range", dcc.Dropdown(
            id=ids.RANGE, clearable=False, searchable=False, className="ctl ctl-range",
            options=[{"label": v, "value": k} for k, v in PRESETS.items()]
            + [{"label": "Custom range", "value": "custom"}],
        ), "an-range-label-text"),
        html.Label(["From – to", dcc.DatePickerRange(
            id=ids.DATES, display_format="YYYY-MM-DD", minimum_nights=0,
            first_day_of_week=1, className="ctl ctl-dates", updatemode="bothdates",
        )], className="ctl-label"),
        _labelled("Compare with", dcc.Dropdown(
            id=ids.COMPARE, clearable=False, searchable=False, className="ctl ctl-compare",
            options=[{"label": v, "value": k} for k, v in COMPARISONS.items()],
        ), "an-compare-label"),
        _labelled("Trend by", dcc.Dropdown(
            id=ids.GRAIN, clearable=False, searchable=False, className="ctl ctl-grain",
            options=[{"label": v, "value": k} for k, v in GRAINS.items()],
        ), "an-grain-label"),
    ])


# A picker's conditions: "[not.]<match>" (gadash.query.MATCHES).
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
    """One filter's picker: a disclosure button naming the filter, opening a panel
    with the condition, the values GA has for the period (searchable, several at
    once) or a text/pattern, match case, Apply and Clear."""
    label = FILTER_LABELS[name]
    head = f"an-pick-{name}"
    box: Any = {"aria-labelledby": f"{head}-label"}
    data: Any = {"data-filter": name}
    hidden: Any = {"aria-hidden": "true"}
    pressed: Any = {"aria-pressed": "false"}
    return html.Details(id=_pid(ids.PICKER, name), className="picker", **data, children=[
        html.Summary(id=_pid(ids.PICK_OPEN, name), n_clicks=0, className="picker-open",
                     children=[html.Span(label, id=f"{head}-label"),
                               html.Span(className="picker-mark", **hidden)]),
        html.Div(role="group", className="picker-panel", **box, children=[
            _labelled(f"{label}: condition", dcc.Dropdown(
                id=_pid(ids.PICK_COND, name), options=CONDITIONS, clearable=False,
                searchable=False, value=DEFAULT_MATCH.get(name, "is"), className="ctl",
            ), f"{head}-cond"),
            html.Div(id=_pid(ids.PICK_VALUES_BOX, name), children=_labelled(
                f"{label}: values", dcc.Dropdown(
                    id=_pid(ids.PICK_VALUES, name), options=[], multi=True, searchable=True,
                    placeholder="Type to search…", className="ctl ctl-values",
                ), f"{head}-values")),
            html.Div(id=_pid(ids.PICK_TEXT_BOX, name), className="ctl-label", children=[
                html.Label(f"{label}: text or pattern", htmlFor=dom_id(ids.PICK_TEXT, name)),
                dcc.Input(id=_pid(ids.PICK_TEXT, name), type="text", n_submit=0,
                          className="ctl-text", debounce=False),
            ]),
            # A toggle button: Dash 4's checklist nests its checkbox in an option.
            html.Button("Match case", id=_pid(ids.PICK_CASE, name), n_clicks=0,
                        className="picker-case", **pressed),
            html.Div(id=_pid(ids.PICK_NOTE, name), className="picker-note", role="status"),
            html.Div(className="picker-actions", children=[
                html.Button("Apply", id=_pid(ids.PICK_APPLY, name), className="btn btn-primary",
                            n_clicks=0),
                html.Button("Clear", id=_pid(ids.PICK_CLEAR, name), className="btn",
                            n_clicks=0),
            ]),
        ]),
    ])


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


def create_changes(changes: Changes | None, comparing: bool, error: str = "") -> list[Any]:
    """"What changed": the headlines, then ranked sentences, each with a button that
    filters the view to its value."""
    if error:
        return [html.P(error, className="alert alert-error", role="alert")]
    if not comparing:
        return [html.P("Compare with the previous period or last year to see what "
                       "changed and why.", className="muted")]
    if changes is None or not changes.headlines:
        return [html.P("No sessions in either period.", className="muted")]
    out: list[Any] = []
    offered: set[tuple[tuple[str, str], ...]] = set()  # one button per filter (ids unique)
    for group in changes.groups:
        out.append(html.P(group.headline, className="change-head"))
        items = []
        for f in group.findings:
            items.append(_change_item(f, button=f.filters not in offered))
            offered.add(f.filters)
        out.append(html.Ol(items, className="changes"))
    return out


def _change_item(f: Finding, button: bool = True) -> html.Li:
    """A sentence, with its Filter button unless the same filter is offered above."""
    control: Any = None
    if f.filters and button:
        what = " and ".join(f"{k} is {v}" for k, v in f.filters)
        aria: Any = {"aria-label": f"Filter the view: {what}"}
        control = html.Button(
            "Filter", id={"type": ids.CHANGE_APPLY, "filter": urlencode(f.filters)},
            className="btn btn-small", title=f"Show only {what}", **aria)
    return html.Li([html.Span(describe_dimension(f.dimension), className="change-dim"),
                    html.Span(f.text, className="change-text"), control], className="change")


def create_trending_box(pages: list[TrendingPage], error: str = "",
                        discussion: dict[str, str] | None = None) -> list[Any]:
    """"Trending now": pages read far above their usual rate in the last 30 minutes;
    ``discussion``: path -> "285 HN points · 1,881 Reddit score" where counts exist."""
    if error:
        return [html.P(error, className="alert alert-error", role="alert")]
    if not pages:
        return [html.P("No page is read far above its usual rate right now.",
                       className="muted")]
    return [html.Ol(className="trending", children=[
        html.Li([
            html.Span(p.trend.label(), className="trend-ratio"),
            html.Span(p.title, className="trend-title", title=p.path or p.title),
            html.Span(f"{p.trend.views:,.0f} views in 30 min"
                      + (f" · {', '.join(p.countries)}" if p.countries else "")
                      + (f" · title shared by {len(p.trend.paths)} pages"
                         if p.trend.ambiguous else "")
                      + (f" · {(discussion or {})[p.path]}"
                         if (discussion or {}).get(p.path) else ""), className="trend-sub"),
        ]) for p in pages[:5]])]


def create_layout(properties: list[str]) -> html.Div:
    """The analyst page: controls and empty panels. It carries no data."""
    return html.Div(className="page analyst", children=[
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.STATE),
        dcc.Store(id=ids.SHARES),
        dcc.Store(id=ids.NOTES_VERSION, data=0),
        dcc.Store(id=ids.CLICKED),
        html.Header(className="topbar", children=[
            html.H1([html.Span("ga", className="logo-a"), html.Span("dash", className="logo-b"),
                     html.Span(" – analyst view", className="visually-hidden")],
                    className="logo"),
            create_controls(properties),
            create_user_badge(),
        ]),
        html.Main(className="content", children=[
            html.Div(id=ids.NOTES, className="notes"),
            # Pickers and chips stay in view while scrolling: what is filtered is
            # always on screen.
            html.Div(className="filter-dock", children=[
                create_pickers(),
                html.Div(className="filterbar", children=[
                    html.Span(id=ids.RANGE_LABEL, className="range-label"),
                    html.Div(id=ids.CHIPS, className="chips"),
                    create_saved_views(),
                ]),
            ]),
            html.Div(id=ids.ERROR),
            dcc.Loading(html.Div(id=ids.KPIS, className="kpis"), type="dot", delay_show=300),
            dcc.Interval(id=ids.TRENDING_TICK, interval=60_000),
            html.Div(className="grid-2", children=[
                # Boxes of a fixed height with what they are doing until the answer comes:
                # nothing below moves, and the page's largest text is there from the start.
                create_card("What changed", html.Div(
                    html.P("Working out which sources, channels, landing pages, countries "
                           "and devices explain the change between the two periods…",
                           className="muted"), id=ids.CHANGES, className="changes-box"),
                    ids.footer("changes"), class_name="span-2"),
                create_card("Trending now", html.Div(
                    html.P("Looking for pages read far above their usual rate in the last "
                           "30 minutes…", className="muted"),
                    id=ids.TRENDING, className="trending-box"), ids.footer("trending")),
            ]),
            html.Div(className="grid-2", children=[
                create_card("Sessions and users", [_graph(ids.TREND, "340px"),
                                                   create_note_form()],
                            ids.footer("trend"), class_name="span-2"),
                create_card("Sessions by device", _graph(ids.DEVICES, "340px"),
                            ids.footer("devices")),
            ]),
            html.Div(className="grid-2", children=[
                create_card("Channels", _lazy("channels"), ids.footer("channels"),
                            tools=_grid_tools("channels"), footer=False),
                create_card("New and returning", _lazy("new-returning"),
                            ids.footer("new-returning"), footer=False),
            ]),
            create_card("How did people find our pages?", _lazy("sources"),
                        ids.footer("sources"), tools=_grid_tools("sources"), footer=False),
            create_card("Landing pages", _lazy("landing"), ids.footer("landing"),
                        tools=_grid_tools("landing"), footer=False),
            create_card("Top pages", _lazy("pages"), ids.footer("pages"),
                        tools=_grid_tools("pages"), footer=False),
            create_card("Sessions by country", _lazy("countries"), ids.footer("countries"),
                        footer=False),
        ]),
    ])


# Panels below the fold are mounted when their box scrolls into view
# (assets/lazy.js sets the box's "seen" store, a callback mounts the panel, and its
# data callback fills it): a first visit builds only what is on screen, as
# Grafana does with its rows. The box holds the panel's height meanwhile.
GRIDS = ("channels", "sources", "landing", "pages")
CHARTS = ("new-returning", "countries")  # charts mounted when seen
LAZY = (*GRIDS, *CHARTS)
_GRID_SPECS: dict[str, tuple[str, list[dict[str, Any]], str, str]] = {
    "channels": (ids.CHANNELS, CHANNEL_COLUMNS, "channels.csv", "340px"),
    "sources": (ids.SOURCES, SOURCE_COLUMNS, "traffic-sources.csv", "460px"),
    "landing": (ids.LANDING, LANDING_COLUMNS, "landing-pages.csv", "460px"),
    "pages": (ids.PAGES, PAGE_COLUMNS, "top-pages.csv", "460px"),
}
_CHART_SPECS = {"new-returning": (ids.NEW_RETURNING, "340px"),
                "countries": (ids.COUNTRIES, "380px")}


def _height(panel: str) -> str:
    return _GRID_SPECS[panel][3] if panel in _GRID_SPECS else _CHART_SPECS[panel][1]


def _lazy(panel: str) -> list[Any]:
    """A panel's box until it is seen: its height, saying it is loading (to a screen
    reader too, which would otherwise find the panel empty), and an empty footer."""
    data: Any = {"data-seen": ids.seen(panel)}  # the store assets/lazy.js sets
    if panel in GRIDS:
        data["data-grid"] = "1"  # lazy.js loads AG Grid's code before mounting it
    return [
        dcc.Store(id=ids.seen(panel), data=False),
        html.Div(id=ids.lazy(panel), className="lazy", **data,
                 children=[html.Div("Loading…", className="panel-box panel-wait",
                                    style={"height": _height(panel)}),
                           html.Footer(className="card-foot")]),
    ]


def mount_panel(panel: str, search: str = "") -> list[Any]:
    """A lazy panel's components, empty: its data callback fills them. ``search``:
    a table's quick-filter text, typed before it mounted."""
    if panel in _GRID_SPECS:
        grid_id, columns, file_name, height = _GRID_SPECS[panel]
        body = create_grid(grid_id, columns, file_name, height=height,
                           paged=panel != "channels", search=search)
    else:
        body = _graph(*_CHART_SPECS[panel])
    return [body, html.Footer(id=ids.footer(panel), className="card-foot")]


FIGURES = ("trend",)  # drawn with the KPIs; every other chart has its own callback


@dataclass
class Rendered:
    """What the view's data callback writes: KPIs, the first charts, notes."""

    kpis: list[Any]
    figures: dict[str, Figure]  # FIGURES
    footers: dict[str, Any]  # FIGURES
    error: Any


@dataclass
class GridPanel:
    """What a table's data callback writes."""

    rows: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    footer: Any


def _footer(report: ReportFrame, extra: list[str] | None = None) -> list[Any]:
    notes = [*report.meta.quality_notes(), *(extra or [])]
    parts: list[Any] = [html.Span(f"Fetched {fetched_clock(report)}", className="fetched")]
    parts += [html.Span(n, className="quality") for n in notes]
    return parts


def _truncation(report: ReportFrame, shown: int | None = None, what: str = "rows"
                ) -> list[str]:
    """A note when a table shows fewer rows than GA has for this period."""
    total = report.meta.row_count
    count = len(split_ranges(report.rows)[0]) if shown is None else shown
    if report.meta.capped:
        return [f"Showing the first {count:,} of {total:,} {what}: gadash fetches at most "
                f"{count:,}"]
    if total > count:
        return [f"Top {count:,} of {total:,} {what}"]
    return []


def _records(frame: Any) -> list[dict[str, Any]]:
    frame = frame.copy()
    if "isOther" in frame.columns:
        frame["otherTip"] = [OTHER_TIP if o else None for o in frame["isOther"]]
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _error_parts(exc: GadashError) -> tuple[Figure, Any]:
    return (message_figure(exc.message if len(exc.message) < 90 else exc.title),
            html.Span(exc.title, className="quality"))


def render_error(exc: GadashError) -> Rendered:
    """Every panel says what went wrong; nothing is left blank."""
    fig, foot = _error_parts(exc)
    return Rendered(kpis=[], figures={f: fig for f in FIGURES},
                    footers={p: foot for p in FIGURES}, error=create_error(exc))


def grid_error(grid: str, exc: GadashError) -> GridPanel:
    """A table with no rows whose footer says why."""
    return GridPanel(rows=[], columns=_GRID_SPECS[grid][1], footer=_error_parts(exc)[1])


def chart_error(exc: GadashError) -> tuple[Figure, Any]:
    """A chart and footer that say what went wrong."""
    return _error_parts(exc)


def _empty_note(trend: ReportFrame, state: ViewState) -> Any:
    current = split_ranges(trend.totals)[0]
    sessions = float(current["sessions"].sum()) if "sessions" in current.columns else 0.0
    if sessions or not state.filters.active():
        return None
    described = "; ".join(f"{FILTER_LABELS[k].lower()} {c.describe()}"
                          for k, c in state.filters.active().items())
    return html.Div(
        f"No sessions match the filters ({described}) in this period. Check the value "
        "or remove a filter chip.", className="alert alert-note", role="status",
    )


def trend_panel_of(reports: dict[str, ReportFrame]) -> ReportFrame:
    """The view's trend report, whatever its grain."""
    return next(reports[p] for p in TREND_PANELS.values() if p in reports)


def render_view(result: ViewResult, state: ViewState,
                ranges: tuple[DateRange, ...] = (), markers: list[Marker] | None = None,
                trend_notes: list[str] | None = None, partial: bool = False,
                unusual: list[Band] | None = None) -> Rendered:
    """A view's KPIs, trend and notes (pure); ``ranges`` lets
    the trend show periods without sessions as zero; ``markers`` are the
    annotations drawn on it; ``partial``: the range ends today, so its totals are
    not compared with whole days (no red arrow for a day that is not over)."""
    reports = result.reports
    trend = trend_panel_of(reports)
    time_col = TREND_TIME[trend.panel]
    comparing = state.compare != "none"
    note = "so far today: not compared" if partial and comparing else ""
    tiles = [create_kpi_tile(k, comparing, ids.KPI, note) for k in kpis(trend)]
    if partial:
        trend_notes = [*(trend_notes or []), "Today is not over, and GA's figures for it "
                       "arrive hours late: they will still grow"]
    figures = {"trend": trend_figure(fill_days(trend.rows, ranges, not trend.meta.capped),
                                     time_col, markers=markers, unusual=unusual)}
    footers = {"trend": _footer(trend, [*_trend_notes(trend), *(trend_notes or [])])}
    notes = [n for n in (result.stale_note(trend.meta.time_zone), result.cache_note) if n]
    error = _empty_note(trend, state)
    if notes:
        stale = html.Div([html.Div(n) for n in notes], className="alert alert-note",
                         role="status", id="an-stale-note")
        error = [stale, error] if error is not None else stale
    return Rendered(kpis=tiles, figures=figures, footers=footers, error=error)


def render_chart(chart: str, result: ViewResult) -> tuple[Figure, Any]:
    """One of the audience charts (devices, new-returning, countries) and its footer."""
    audience = result.reports["audience"]
    if chart == "devices":
        return (donut_figure(rollup(audience, "deviceCategory"), "deviceCategory", "sessions"),
                _footer(audience, _truncation(audience)))
    if chart == "new-returning":
        return (donut_figure(rollup(audience, "newVsReturning"), "newVsReturning", "sessions",
                             clickable=False), _footer(audience))
    return (bar_figure(rollup(audience, "country"), "country", "sessions", "sessions", top=12),
            _footer(audience, _truncation(audience)))


def render_grid(grid: str, result: ViewResult, state: ViewState) -> GridPanel:
    """One table's rows, columns (with the comparison's and outcomes') and footer."""
    reports = result.reports
    currency = trend_panel_of(reports).meta.currency
    change = [CHANGE_COLUMN] if state.compare != "none" else []
    if grid == "sources":
        table = sources_table(reports["sources"], get_panel("sources").shown)
        return GridPanel(_records(table), [*SOURCE_COLUMNS, *change,
                                           *outcome_columns(table, currency)],
                         _footer(reports["sources"], _truncation(
                             reports["sources"], len(table), "source / medium rows")))
    if grid == "channels":
        table = channels_table(reports["sources"], reports.get("channels"))
        return GridPanel(_records(table), [*CHANNEL_COLUMNS, *change,
                                           *outcome_columns(table, currency)],
                         _footer(reports["sources"]))
    if grid == "pages":
        table = pages_table(reports["pages"], reports.get("landing"))
        columns = [*PAGE_COLUMNS,
                   *([ENTRANCES_COLUMN] if "entrances" in table.columns else []),
                   *([VIEWS_CHANGE_COLUMN] if change else []),
                   *outcome_columns(table, currency, rate=False)]
        return GridPanel(_records(table), columns, _footer(reports["pages"], _truncation(
            reports["pages"], what="pages")))
    if "landing" not in reports:
        return GridPanel([], LANDING_COLUMNS, html.Span(
            "This property offers no landing-page dimension", className="quality"))
    table = landing_table(reports["landing"])
    return GridPanel(_records(table), [*LANDING_COLUMNS, *change,
                                       *outcome_columns(table, currency)],
                     _footer(reports["landing"], _truncation(reports["landing"],
                                                             what="landing pages")))


def _trend_notes(trend: ReportFrame) -> list[str]:
    grain = {"isoYearIsoWeek": "week (Monday to Sunday)", "yearMonth": "month"}.get(
        TREND_TIME[trend.panel])
    notes = [f"One point per {grain}; the first and last may be partial"] if grain else []
    if trend.meta.capped:
        notes.append(f"GA has {trend.meta.row_count:,} rows; gadash fetched the first "
                     f"{len(trend.rows):,}")
    return notes


CSV_NAMES = {"channels": "channels", "sources": "traffic-sources", "landing": "landing-pages",
             "pages": "top-pages"}


def export_name(grid: str, state: ViewState, ranges: tuple[DateRange, ...]) -> str:
    """A CSV file name that says what the file holds: the table, property, range,
    comparison and filters, e.g. top-pages_Demo-blog_2026-10-29_2026-11-25_vs_…csv."""
    parts = [CSV_NAMES[grid], state.property]
    if ranges:
        parts += [ranges[0].start.isoformat(), ranges[0].end.isoformat()]
        if len(ranges) > 1:
            parts += ["vs", ranges[1].start.isoformat(), ranges[1].end.isoformat()]
    parts += [f"{k}-{v}" for k, v in filter_params(state.filters)]
    text = "_".join(parts)
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in text)
    return safe[:180] + ".csv"


def range_label(ranges: tuple[DateRange, ...]) -> str:
    text = ranges[0].label()
    if len(ranges) > 1:
        text += f"  vs  {ranges[1].label()}"
    return text


def picker_dates(state: ViewState, today: date) -> tuple[str | None, str | None]:
    from gadash.viewstate import resolve_range

    try:
        rng = resolve_range(state.range, today)
    except GadashError:
        return None, None
    return rng.start.isoformat(), rng.end.isoformat()
