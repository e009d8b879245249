"""The analyst view's page: grid and chart boxes, What changed and Trending, panels
mounted when seen."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
from dash import dcc, html

from gadash.core.insights.findings import Changes, Finding, TrendingPage, describe_dimension
from gadash.web.components import ids
from gadash.web.components.analyst.columns import (
    CHANNEL_COLUMNS,
    LANDING_COLUMNS,
    PAGE_COLUMNS,
    SOURCE_COLUMNS,
    csv_export_params,
)
from gadash.web.components.analyst.controls import (
    create_controls,
    create_note_form,
    create_pickers,
    create_saved_views,
)
from gadash.web.components.cards import (
    FILTER_LABELS,
    create_card,
    create_nav,
    create_user_badge,
)
from gadash.web.figures import (
    message_figure,
)

# No "Share chart" (Plotly's upload to its cloud service) on any toolbar.
GRAPH_CONFIG: Any = {"displaylogo": False, "showSendToCloud": False,
                     "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendChartToCloud"]}


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
        csvExportParams=csv_export_params(file_name),
        style={"height": height},
        className="ag-theme-quartz",
    ))


def _grid_tools(grid: str) -> html.Div:  # grid: the suffix of its ids
    return html.Div(className="card-tools", children=[
        dcc.Input(id=ids.quick_filter(grid), type="search", placeholder="Search table…",
                  debounce=True, className="quick-filter"),
        html.Button("Export CSV", id=ids.export(grid), className="btn", n_clicks=0),
    ])


def _graph(graph_id: str, height: str, filter_name: str = "") -> html.Div:
    """A chart in a box of its height (held before plotly.js has loaded: nothing
    shifts); ``filter_name``: clicking a bar filters the view by it, and the keyboard
    gets the same through a button per bar."""
    graph = dcc.Graph(id=graph_id, figure=message_figure("Loading…"), config=GRAPH_CONFIG,
                      style={"height": height})
    keys = [_chart_keys(graph_id, filter_name)] if filter_name else []
    return html.Div([graph, *keys], className="panel-box", style={"height": height})


def _chart_keys(graph_id: str, filter_name: str) -> html.Div:
    """The chart's bars as buttons, for the keyboard (assets/chart-keys.js draws one
    per bar from the graph's data); shown while one of them has focus."""
    label = FILTER_LABELS[filter_name].lower()
    title = f"{graph_id}-keys-label"
    named: Any = {"aria-labelledby": title}
    data: Any = {"data-graph": graph_id, "data-what": label, "data-unit": "sessions"}
    return html.Div(className="chart-keys", role="group", hidden=True, **named, children=[
        html.Span(f"Filter the view by {label}:", id=title, className="chart-keys-label"),
        html.Div(className="chart-keys-list", **data),
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
    if not pages:  # one line: the box takes no more room than that (gadash.css)
        return [html.P("No page is read far above its usual rate right now.",
                       className="muted trending-empty")]
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


_PINNED_NAME: Any = {"aria-labelledby": "an-pinned-title"}
_PINNED_SEEN: Any = {"data-seen": ids.seen("pinned")}  # assets/lazy.js sets it


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
            create_nav("/"),
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
            html.Div(id=ids.KPIS, className="kpis"),
            dcc.Interval(id=ids.TRENDING_TICK, interval=60_000),
            # The trend right under the tiles, as the first screen's chart.
            html.Div(className="grid-2", children=[
                create_card("Sessions and users", [_graph(ids.TREND, "340px"),
                                                   create_note_form()],
                            ids.footer("trend"), class_name="span-2"),
                create_card("Sessions by device", _graph(ids.DEVICES, "340px", "device"),
                            ids.footer("devices")),
            ]),
            html.Div(className="grid-2", children=[
                # Boxes of a fixed height with what they are doing until the answer comes:
                # nothing below moves, and the page's largest text is there from the start.
                create_card("What changed", html.Div(
                    html.P("Working out which sources, channels, landing pages, countries "
                           "and devices explain the change between the two periods…",
                           className="muted"), id=ids.CHANGES, className="changes-box",
                    # Focus lands here when the Filter button pressed is gone (focus.js).
                    tabIndex="-1"),
                    ids.footer("changes"), class_name="span-2"),
                # One line until a page trends (then as tall as What changed beside it:
                # the row keeps its height, nothing below moves).
                create_card("Trending now", html.Div(
                    html.P("Looking for pages read far above their usual rate…",
                           className="muted trending-empty"),
                    id=ids.TRENDING, className="trending-box"), ids.footer("trending"),
                    class_name="trending-card"),
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
            # Panels saved in Explore and pinned to this property, over this period.
            html.Section(className="pinned", **_PINNED_NAME, children=[
                html.H2("Pinned panels", id="an-pinned-title", className="section-title"),
                dcc.Store(id=ids.seen("pinned"), data=False),
                html.Div(id=ids.PINNED, className="lazy", **_PINNED_SEEN,
                         children=html.P("Loading…", className="muted")),
            ]),
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
_CHART_SPECS = {"new-returning": (ids.NEW_RETURNING, "340px", ""),
                "countries": (ids.COUNTRIES, "380px", "country")}


def _height(panel: str) -> str:
    return _GRID_SPECS[panel][3] if panel in _GRID_SPECS else _CHART_SPECS[panel][1]


def _lazy(panel: str) -> list[Any]:
    """A panel's box until it is seen: its height and its footer's (gadash.css),
    saying it is loading (to a screen reader too, which would otherwise find the
    panel empty)."""
    data: Any = {"data-seen": ids.seen(panel)}  # the store assets/lazy.js sets
    if panel in GRIDS:
        data["data-grid"] = "1"  # lazy.js loads AG Grid's code before mounting it
    return [
        dcc.Store(id=ids.seen(panel), data=False),
        html.Div(id=ids.lazy(panel), className="lazy", **data,
                 children=html.Div("Loading…", className="panel-box panel-wait",
                                   style={"height": _height(panel)})),
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
