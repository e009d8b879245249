"""The analyst view: its layout factory and the pure rendering of a view's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import dash_ag_grid as dag
import plotly.graph_objects as go
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
from gadash.figures import bar_figure, donut_figure, message_figure, trend_figure
from gadash.query import COMPARISONS, PRESETS, DateRange, ReportQuery
from gadash.service import ViewResult
from gadash.shares import Provider, ShareCounts
from gadash.sources.base import ReportFrame
from gadash.transforms import (
    fill_days,
    kpis,
    pages_table,
    rollup,
    sources_table,
    split_ranges,
)
from gadash.viewstate import ViewState

# Five reports: one batchRunReports call per view.
VIEW_PANELS = ("trend", "sources", "pages", "audience", "landing")
GRAPH_CONFIG: Any = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

_NUM = {"function": "d3.format(',')(params.value)"}
_PCT = {"function": "d3.format('.1%')(params.value)"}
_CHANGE = {"function": "params.value == null ? '' : d3.format('+.1%')(params.value)"}
_LINK = {"cursor": "pointer", "color": "#1a73e8"}

SOURCE_COLUMNS: list[dict[str, Any]] = [
    {"field": "sessionSource", "headerName": "Source", "cellStyle": _LINK, "minWidth": 180,
     "headerTooltip": "Click a source to filter the dashboard by it"},
    {"field": "sessionMedium", "headerName": "Medium", "cellStyle": _LINK,
     "headerTooltip": "Click a medium to filter the dashboard by it"},
    {"field": "sessions", "headerName": "Sessions", "valueFormatter": _NUM,
     "type": "numericColumn", "sort": "desc"},
    {"field": "screenPageViews", "headerName": "Page views", "valueFormatter": _NUM,
     "type": "numericColumn"},
    {"field": "avgSessionDuration", "headerName": "Avg. session duration",
     "type": "rightAligned"},
    {"field": "engagementRate", "headerName": "Engagement rate", "valueFormatter": _PCT,
     "type": "numericColumn"},
]
CHANGE_COLUMN = {"field": "sessionsChange", "headerName": "Sessions change",
                 "valueFormatter": _CHANGE, "type": "numericColumn"}
PAGE_COLUMNS: list[dict[str, Any]] = [
    {"field": "pagePath", "headerName": "Page", "cellStyle": _LINK, "minWidth": 260,
     "headerTooltip": "Click a page to filter the dashboard by it", "flex": 2},
    {"field": "pageTitle", "headerName": "Title", "minWidth": 200, "flex": 2},
    {"field": "screenPageViews", "headerName": "Views", "valueFormatter": _NUM,
     "type": "numericColumn", "sort": "desc"},
    {"field": "totalUsers", "headerName": "Users", "valueFormatter": _NUM,
     "type": "numericColumn"},
    {"field": "engagementPerViewText", "headerName": "Avg. engagement / view",
     "type": "rightAligned"},
    {"field": "bounceRate", "headerName": "Bounce rate", "valueFormatter": _PCT,
     "type": "numericColumn"},
]
ENTRANCES_COLUMN = {"field": "entrances", "headerName": "Entrances", "valueFormatter": _NUM,
                    "type": "numericColumn",
                    "headerTooltip": "Sessions that started on this page"}


def share_columns(providers: list[Provider]) -> list[dict[str, Any]]:
    """One column per share provider: its headline count, details or the error on hover."""
    cols = []
    for p in providers:
        field = f"share_{p.name}"
        cols.append({
            "field": field, "headerName": f"{p.short} {p.headline}", "type": "numericColumn",
            "headerTooltip": f"{p.label} {p.headline} for the top pages; hover a cell for more",
            "tooltipField": f"{field}_tip", "minWidth": 130,
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


def create_grid(grid_id: str, columns: list[dict[str, Any]], file_name: str) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "flex": 1,
                       "minWidth": 110},
        dashGridOptions={"pagination": True, "paginationPageSize": 10,
                         "paginationPageSizeSelector": [10, 25, 50, 100],
                         "tooltipShowDelay": 300, "animateRows": False},
        csvExportParams={"fileName": file_name},
        style={"height": "460px"},
        className="ag-theme-quartz",
    )


def _grid_tools(grid: str) -> html.Div:
    return html.Div(className="card-tools", children=[
        dcc.Input(id=ids.quick_filter(grid), type="search", placeholder="Search table…",
                  debounce=True, className="quick-filter"),
        html.Button("Export CSV", id=ids.export(grid), className="btn", n_clicks=0),
    ])


def _graph(graph_id: str, height: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=message_figure("Loading…"), config=GRAPH_CONFIG,
                     style={"height": height})


def create_controls(properties: list[str]) -> html.Div:
    """The header controls; values are filled from the URL by a callback."""
    return html.Div(className="controls", children=[
        html.Label(["Property", dcc.Dropdown(
            id=ids.PROPERTY, options=properties, clearable=False, searchable=False,
            className="ctl ctl-property",
        )], hidden=len(properties) < 2, className="ctl-label"),
        html.Label(["Date range", dcc.Dropdown(
            id=ids.RANGE, clearable=False, searchable=False, className="ctl ctl-range",
            options=[{"label": v, "value": k} for k, v in PRESETS.items()]
            + [{"label": "Custom range", "value": "custom"}],
        )], className="ctl-label"),
        html.Label(["From – to", dcc.DatePickerRange(
            id=ids.DATES, display_format="YYYY-MM-DD", minimum_nights=0,
            first_day_of_week=1, className="ctl ctl-dates", updatemode="bothdates",
        )], className="ctl-label"),
        html.Label(["Compare with", dcc.Dropdown(
            id=ids.COMPARE, clearable=False, searchable=False, className="ctl ctl-compare",
            options=[{"label": v, "value": k} for k, v in COMPARISONS.items()],
        )], className="ctl-label"),
        html.Label(["Page path contains", html.Div(className="ctl-inline", children=[
            dcc.Input(id=ids.PAGE_INPUT, type="text", placeholder="/blog/", debounce=False,
                      className="ctl ctl-page", n_submit=0),
            html.Button("Filter", id=ids.PAGE_APPLY, className="btn", n_clicks=0),
        ])], className="ctl-label"),
    ])


def create_layout(properties: list[str]) -> html.Div:
    """The analyst page: controls and empty panels. It carries no data."""
    return html.Div(className="page analyst", children=[
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.STATE),
        dcc.Store(id=ids.SHARES),
        html.Header(className="topbar", children=[
            html.Div([html.Span("ga", className="logo-a"), html.Span("dash", className="logo-b")],
                     className="logo"),
            create_controls(properties),
            create_user_badge(),
        ]),
        html.Div(id=ids.NOTES, className="notes"),
        html.Div(className="filterbar", children=[
            html.Span(id=ids.RANGE_LABEL, className="range-label"),
            html.Div(id=ids.CHIPS, className="chips"),
        ]),
        html.Div(id=ids.ERROR),
        dcc.Loading(html.Div(id=ids.KPIS, className="kpis"), type="dot", delay_show=300),
        html.Div(className="grid-2", children=[
            create_card("Sessions and users", _graph(ids.TREND, "340px"), ids.footer("trend"),
                        class_name="span-2"),
            create_card("Sessions by device", _graph(ids.DEVICES, "340px"),
                        ids.footer("devices")),
        ]),
        create_card("How did people find our pages?", create_grid(
            ids.SOURCES, SOURCE_COLUMNS, "traffic-sources.csv"), ids.footer("sources"),
            tools=_grid_tools("sources")),
        create_card("Top pages", create_grid(ids.PAGES, PAGE_COLUMNS, "top-pages.csv"),
                    ids.footer("pages"), tools=_grid_tools("pages")),
        create_card("Sessions by country", _graph(ids.COUNTRIES, "380px"),
                    ids.footer("countries")),
    ])


def view_query(state: ViewState, property_id: str, ranges: tuple[DateRange, ...],
               fields: frozenset[str]) -> ReportQuery:
    """The data query for a view state.

    The trend is hourly for single-day ranges. GA's Data API has no entrances
    metric; where the property offers ``landingPage`` (GetMetadata says), a
    landing-page report supplies entrances for the top pages.
    """
    trend = "trend_hourly" if ranges[0].days == 1 else "trend"
    panels = [trend, *VIEW_PANELS[1:]]
    if "landingPage" not in fields:
        panels.remove("landing")
    return ReportQuery(property_id, tuple(panels), ranges, state.filters)


@dataclass
class Rendered:
    """Everything the data callback writes, in one object."""

    kpis: list[Any]
    trend: go.Figure
    devices: go.Figure
    countries: go.Figure
    sources_rows: list[dict[str, Any]]
    sources_columns: list[dict[str, Any]]
    pages_rows: list[dict[str, Any]]
    pages_columns: list[dict[str, Any]]
    footers: dict[str, Any]
    error: Any


def _footer(report: ReportFrame, extra: list[str] | None = None) -> list[Any]:
    notes = [*report.meta.quality_notes(), *(extra or [])]
    parts: list[Any] = [html.Span(f"Fetched {fetched_clock(report)}", className="fetched")]
    parts += [html.Span(n, className="quality") for n in notes]
    return parts


def _truncation(report: ReportFrame) -> list[str]:
    shown = len(report.rows)
    if report.meta.row_count > shown:
        return [f"Top {shown:,} of {report.meta.row_count:,} rows"]
    return []


def _records(frame: Any) -> list[dict[str, Any]]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def render_error(exc: GadashError) -> Rendered:
    """Every panel says what went wrong; nothing is left blank."""
    fig = message_figure(exc.message if len(exc.message) < 90 else exc.title)
    foot = html.Span(exc.title, className="quality")
    return Rendered(
        kpis=[], trend=fig, devices=fig, countries=fig,
        sources_rows=[], sources_columns=SOURCE_COLUMNS,
        pages_rows=[], pages_columns=PAGE_COLUMNS,
        footers={p: foot for p in ("trend", "devices", "sources", "pages", "countries")},
        error=create_error(exc),
    )


def render_view(result: ViewResult, state: ViewState,
                ranges: tuple[DateRange, ...] = ()) -> Rendered:
    """A view's frames as figures, grid rows and notes (pure); ``ranges`` lets the
    daily trend show days without sessions as zero."""
    reports = result.reports
    trend = reports.get("trend") or reports["trend_hourly"]
    time_col = "date" if trend.panel == "trend" else "dateHour"
    comparing = state.compare != "none"
    tiles = [create_kpi_tile(k, comparing, ids.KPI) for k in kpis(trend)]
    current_total = float(split_ranges(trend.totals)[0]["sessions"].sum())
    empty_note: Any = None
    if current_total == 0 and state.filters.active():
        described = ", ".join(f"{FILTER_LABELS[k].lower()} = {v!r}"
                              for k, v in state.filters.active().items())
        empty_note = html.Div(
            f"No sessions match the filters ({described}) in this period. Check the value "
            "or remove a filter chip.", className="alert alert-note", role="status",
        )
    sources = sources_table(reports["sources"])
    pages = pages_table(reports["pages"], reports.get("landing"))
    countries = rollup(reports["audience"], "country")
    devices = rollup(reports["audience"], "deviceCategory")
    page_cols = [*PAGE_COLUMNS, ENTRANCES_COLUMN] if "entrances" in pages.columns else \
        PAGE_COLUMNS
    footers = {name: _footer(reports[name], _truncation(reports[name]))
               for name in ("sources", "pages")}
    footers["trend"] = _footer(trend)
    footers["countries"] = _footer(reports["audience"], _truncation(reports["audience"]))
    footers["devices"] = _footer(reports["audience"])
    notes = [n for n in (result.stale_note(trend.meta.time_zone), result.cache_note) if n]
    if notes:
        stale = html.Div([html.Div(n) for n in notes], className="alert alert-note",
                         role="status", id="an-stale-note")
        empty_note = [stale, empty_note] if empty_note is not None else stale
    return Rendered(
        kpis=tiles,
        trend=trend_figure(fill_days(trend.rows, ranges), time_col),
        devices=donut_figure(devices, "deviceCategory", "sessions"),
        countries=bar_figure(countries, "country", "sessions", "sessions", top=12),
        sources_rows=_records(sources),
        sources_columns=[*SOURCE_COLUMNS, CHANGE_COLUMN] if comparing else SOURCE_COLUMNS,
        pages_rows=_records(pages),
        pages_columns=page_cols,
        footers=footers,
        error=empty_note,
    )


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
