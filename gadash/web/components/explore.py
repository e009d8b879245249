"""The Explore page's pieces: the question form, the answer (chart, single numbers,
table with totals), the saved panels; and a panel drawn small (analyst view) or
large (TV).

Ids start with ``ex-`` (``ExIds``); the pickers are filled from the property's
GetMetadata by the page's callback.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from gadash.core.explore import BUILTINS, MAX_HAVING, MAX_WHERE, ExploreState
from gadash.core.frames import OTHER_TIP, GAField, PropertyFields, ReportFrame
from gadash.core.query import CHARTS, COMPARISONS, METRIC_OPS, PRESETS, TOP_N, Exploration
from gadash.core.transforms import (
    CHANGE,
    PREVIOUS,
    ExploreTable,
    delta,
    format_duration,
    format_money,
    format_number,
)
from gadash.web.components.analyst.columns import (
    change_column,
    csv_export_params,
    link_column,
    metric_column,
    money_header,
)
from gadash.web.components.analyst.controls import CONDITIONS
from gadash.web.components.analyst.layout import GRAPH_CONFIG
from gadash.web.components.cards import (
    create_card,
    create_nav,
    create_user_badge,
    fetched_clock,
    labelled,
)
from gadash.web.components.ids import ExIds
from gadash.web.figures import LIGHT, Figure, Theme, figure, message_figure

X = ExIds
CHART_ROWS = 25  # bars drawn at most; the table has them all
LINES = 6  # series drawn at most for a second dimension


def field_options(fields: list[GAField]) -> list[dict[str, Any]]:
    """Picker options grouped by GA's category (the category leads each label, so a
    search finds a field by its name, its API name or its category)."""
    ordered = sorted(fields, key=lambda f: (not f.custom, f.category.lower(),
                                            f.ui_name.lower()))
    return [{"label": f"{f.category} › {f.label}", "value": f.api_name,
             "title": f.description or f.label} for f in ordered]


def _where_row(n: int) -> html.Div:
    return html.Div(className="ex-filter-row", children=[
        labelled(f"Dimension filter {n + 1}", dcc.Dropdown(
            id=X.row(X.WHERE_FIELD, n), placeholder="Any dimension…", className="ctl ctl-wide",
            optionHeight=40), f"ex-where-label-{n}"),
        labelled("Condition", dcc.Dropdown(
            id=X.row(X.WHERE_COND, n), options=CONDITIONS, value="is", clearable=False,
            searchable=False, className="ctl"), f"ex-wcond-label-{n}"),
        html.Label(["Value (several: a, b)", dcc.Input(
            id=X.row(X.WHERE_VALUE, n), type="text", debounce=True, maxLength=2000,
            className="ctl-input")], className="ctl-label"),
    ])


def _having_row(n: int) -> html.Div:
    return html.Div(className="ex-filter-row", children=[
        labelled(f"Metric filter {n + 1}", dcc.Dropdown(
            id=X.row(X.HAVING_FIELD, n), placeholder="Any metric…", className="ctl ctl-wide",
            optionHeight=40), f"ex-having-label-{n}"),
        labelled("Is", dcc.Dropdown(
            id=X.row(X.HAVING_OP, n), value="gt", clearable=False, searchable=False,
            className="ctl", options=[{"label": v, "value": k} for k, v in METRIC_OPS.items()]),
            f"ex-hop-label-{n}"),
        html.Label(["Number", dcc.Input(id=X.row(X.HAVING_VALUE, n), type="number",
                                        debounce=True, className="ctl-input")],
                   className="ctl-label"),
    ])


def create_form(properties: list[str]) -> html.Div:
    """The question: what to show, over which period, filtered how, drawn how."""
    return html.Div(className="ex-form", children=[
        html.Div(className="controls", children=[
            labelled("Property", dcc.Dropdown(
                id=X.PROPERTY, options=properties, clearable=False, searchable=False,
                className="ctl ctl-property"), "ex-property-label"),
            labelled("Date range", dcc.Dropdown(
                id=X.RANGE, clearable=False, searchable=False, className="ctl ctl-range",
                options=[{"label": v, "value": k} for k, v in PRESETS.items()]
                + [{"label": "Custom range", "value": "custom"}]), "ex-range-label"),
            html.Div(id=X.DATES, className="ex-dates", hidden=True, children=[
                html.Label(["From", dcc.Input(id=X.START, type="text", debounce=True,
                                              placeholder="YYYY-MM-DD", maxLength=10,
                                              className="ctl-input")], className="ctl-label"),
                html.Label(["To", dcc.Input(id=X.END, type="text", debounce=True,
                                            placeholder="YYYY-MM-DD", maxLength=10,
                                            className="ctl-input")], className="ctl-label"),
            ]),
            labelled("Compare with", dcc.Dropdown(
                id=X.COMPARE, clearable=False, searchable=False, className="ctl ctl-compare",
                options=[{"label": v, "value": k} for k, v in COMPARISONS.items()]),
                "ex-compare-label"),
        ]),
        html.Div(className="ex-fields", children=[
            labelled("Dimensions (up to 2)", dcc.Dropdown(
                id=X.DIMS, multi=True, placeholder="None: totals only…",
                className="ctl ctl-fields", optionHeight=40), "ex-dims-label"),
            labelled("Metrics (up to 5)", dcc.Dropdown(
                id=X.METRICS, multi=True, placeholder="Choose metrics…",
                className="ctl ctl-fields", optionHeight=40), "ex-metrics-label"),
        ]),
        html.Details(id=X.FILTERS, className="ex-filters", children=[
            html.Summary("Filters"),
            *[_where_row(n) for n in range(3)],
            *[_having_row(n) for n in range(2)],
            html.P("Dimension filters apply before GA adds up (like a segment); metric "
                   "filters keep the rows whose value passes. All must hold.",
                   className="muted small"),
        ]),
        html.Div(className="controls ex-shape", children=[
            labelled("Sort by", dcc.Dropdown(id=X.SORT, placeholder="Best fit",
                                              className="ctl ctl-wide"), "ex-sort-label"),
            labelled("Order", dcc.Dropdown(
                id=X.ORDER, options=[{"label": "Largest first", "value": "desc"},
                                     {"label": "Smallest first", "value": "asc"}],
                value="desc", clearable=False, searchable=False, className="ctl"),
                "ex-order-label"),
            labelled("Rows", dcc.Dropdown(
                id=X.TOP, clearable=False, searchable=False, className="ctl",
                options=[{"label": f"Top {n}", "value": n} for n in TOP_N], value=25),
                "ex-top-label"),
            labelled("Chart", dcc.Dropdown(
                id=X.CHART, options=[{"label": v, "value": k} for k, v in CHARTS.items()],
                value="auto", clearable=False, searchable=False, className="ctl"),
                "ex-chart-label"),
        ]),
    ])


def create_layout(properties: list[str]) -> html.Div:
    """The Explore page: the form, the answer's boxes, the saved panels. No data."""
    # The table's code (AG Grid) loads once the table is in view, not with the page.
    seen: Any = {"data-seen": X.GRID_SEEN, "data-grid": "1", "data-near": "0"}
    named: Any = {"aria-labelledby": X.TITLE}
    return html.Div(className="page analyst explore", children=[
        dcc.Location(id=X.URL, refresh=False),
        dcc.Store(id=X.STATE),
        dcc.Store(id=X.PANELS_VERSION, data=0),
        html.Header(className="topbar", children=[
            html.H1([html.Span("ga", className="logo-a"), html.Span("dash", className="logo-b"),
                     html.Span(" – explore", className="visually-hidden")], className="logo"),
            create_nav("/explore"),
            create_user_badge(),
        ]),
        html.Main(className="content", children=[
            html.Div(className="ex-builtins", children=[
                html.Span("Start from:", className="muted"),
                *[html.A(b.name, href="/explore?" + urlencode({"builtin": b.id}),
                         className="chip-link", id=f"ex-builtin-{b.id}", title=b.about)
                  for b in BUILTINS.values()],
            ]),
            create_form(properties),
            html.Div(id=X.NOTES, className="notes", role="status"),
            html.Div(id=X.ERROR, role="alert"),
            html.Section(className="card", **named, children=[
                html.Header(className="card-head", children=[
                    html.H2("Exploration", id=X.TITLE)]),
                dcc.Loading(parent_className="card-body", type="dot", delay_show=300,
                            children=[
                    html.Div(id=X.NUMBERS, className="kpis", hidden=True),
                    html.Div(id=X.GRAPH_BOX, className="panel-box", style={"height": "380px"},
                             children=dcc.Graph(id=X.GRAPH, config=GRAPH_CONFIG,
                                                figure=message_figure("Loading…"),
                                                style={"height": "380px"})),
                ]),
                html.Footer(id=X.FOOTER, className="card-foot"),
            ]),
            create_card("Table", [
                dcc.Store(id=X.GRID_SEEN, data=False),
                html.Div(id=X.GRID_BOX, className="lazy", **seen, children=[
                    html.Div("Loading…", className="panel-box panel-wait",
                             style={"height": "460px"}),
                    html.Footer(className="card-foot")]),
            ], "ex-table-foot", tools=html.Div(className="card-tools", children=[
                html.Button("Export CSV", id=X.EXPORT, className="btn", n_clicks=0)]),
                footer=False),
            create_card("Save as a panel", html.Div(className="ex-save", children=[
                html.P("A saved panel can be pinned to the analyst view of its property and "
                       "put on a TV playlist (screens=…,panel:<number>).", className="muted"),
                html.Div(className="controls", children=[
                    html.Label(["Panel name", dcc.Input(id=X.SAVE_NAME, type="text",
                                                        maxLength=80,
                                                        className="ctl-input ex-name")],
                               className="ctl-label"),
                    labelled("On the analyst view", dcc.Dropdown(
                        id=X.SAVE_PIN, options=[{"label": "Not pinned", "value": "no"},
                                                {"label": "Pinned", "value": "pin"}],
                        value="no", clearable=False, searchable=False, className="ctl"),
                        "ex-pin-label"),
                    html.Button("Save panel", id=X.SAVE, className="btn btn-primary",
                                n_clicks=0),
                    html.Button("Save as a new panel", id=X.SAVE_NEW, className="btn",
                                n_clicks=0, hidden=True),
                ]),
                html.Div(id=X.SAVE_STATUS, role="status", className="save-status"),
                html.Div(id=X.PANELS, className="ex-panels"),
            ]), "ex-save-foot"),
        ]),
    ])


def create_grid(columns: list[dict[str, Any]]) -> list[Any]:
    """The answer's table (sortable, its totals pinned at the bottom and in the CSV)
    and its footer."""
    return [html.Div(className="panel-box", style={"height": "460px"}, children=dag.AgGrid(
        id=X.GRID, columnDefs=columns, rowData=[],
        defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 110,
                       "wrapHeaderText": True, "autoHeaderHeight": True,
                       "useValueFormatterForExport": False},
        dashGridOptions={"pagination": True, "paginationPageSize": 25,
                         "paginationPageSizeSelector": [25, 50, 100],
                         "tooltipShowDelay": 300, "animateRows": False,
                         "tabToNextCell": {"function": "false"},
                         "tabToNextHeader": {"function": "false"}},
        csvExportParams=csv_export_params("exploration.csv"),
        style={"height": "460px"}, className="ag-theme-quartz")),
        html.Footer(id=X.GRID_FOOTER, className="card-foot")]


# ------------------------------------------------------------------ the answer

def field_name(fields: PropertyFields | None, name: str) -> str:
    """GA's UI name of a field (its API name when the property does not say)."""
    found = fields.get(name) if fields is not None else None
    return found.ui_name if found is not None else name


def _type(fields: PropertyFields | None, name: str) -> str:
    found = fields.get(name) if fields is not None else None
    return found.type if found is not None else "TYPE_FLOAT"


def is_rate(name: str) -> bool:
    """A rate GA gives as a fraction (``engagementRate``, ``sessionKeyEventRate:sign_up``)."""
    return name.split("@")[0].split(":")[0].endswith(("Rate", "rate"))


def format_value(ga_type: str, value: float | None, currency: str = "", name: str = "") -> str:
    """A metric value as GA's UI writes it (``name``: the metric, for rates)."""
    if value is None or pd.isna(value):
        return "–"
    if ga_type == "TYPE_CURRENCY":
        return format_money(value, currency)
    if ga_type == "TYPE_FLOAT" and is_rate(name):
        return f"{value * 100:.1f}%"
    if ga_type == "TYPE_SECONDS":
        return format_duration(value)
    if ga_type == "TYPE_INTEGER":
        return f"{value:,.0f}"
    return format_number(value) if abs(value) >= 1000 else f"{value:,.4g}"


def columns_of(table: ExploreTable, fields: PropertyFields | None, currency: str,
               comparing_label: str = "comparison") -> list[dict[str, Any]]:
    """Grid columns: the dimensions, then each metric (its comparison value and change
    when comparing); headers are GA's names, a currency header names its currency."""
    cols: list[dict[str, Any]] = [
        link_column(d, field_name(fields, d), "value", minWidth=160, flex=2,
                    tooltipField="otherTip", cellClassRules={"cell-other": "params.data.isOther"})
        for d in table.dimensions]
    for i, m in enumerate(table.metrics):
        name, kind = field_name(fields, m), _type(fields, m)
        header = money_header(name, currency) if kind == "TYPE_CURRENCY" else name
        cols.append(metric_column(m, header, kind, currency,
                                  **({"sort": "desc"} if i == 0 and not table.dimensions
                                     else {})))
        if table.comparing:
            cols.append(metric_column(m + PREVIOUS, f"{header} ({comparing_label})", kind,
                                      currency))
            cols.append(change_column(m + CHANGE, f"{name} change", m))
    return cols


def grid_records(table: ExploreTable) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows and the totals row(s) for the grid (JSON-ready; NaN as null)."""
    frame = table.rows.copy()
    frame["otherTip"] = [OTHER_TIP if o else None for o in frame["isOther"]]
    for d in table.dimensions:
        if pd.api.types.is_datetime64_any_dtype(frame[d]):
            frame[d] = frame[d].dt.strftime("%Y-%m-%d %H:00" if d == "dateHour" else "%Y-%m-%d")
    rows: list[dict[str, Any]] = frame.astype(object).where(frame.notna(), None).to_dict(
        "records")  # type: ignore[assignment]
    total: dict[str, Any] = {d: "" for d in table.dimensions}
    if table.dimensions:
        total[table.dimensions[0]] = "Total"
    for m in table.metrics:
        total[m] = table.totals.get(m)
        if table.comparing:
            before = table.previous_totals.get(m)
            total[m + PREVIOUS] = before
            now = table.totals.get(m)
            total[m + CHANGE] = delta(now, before) if now is not None else None
    total["isOther"] = False
    return rows, [total]


def _label(row: pd.Series, dims: tuple[str, ...]) -> str:
    parts = []
    for d in dims:
        v = row[d]
        parts.append(v.strftime("%d %b %Y") if isinstance(v, pd.Timestamp) else str(v))
    return " · ".join(parts)


def answer_figure(table: ExploreTable, exploration: Exploration, fields: PropertyFields | None,
                  theme: Theme = LIGHT, bars: int = CHART_ROWS) -> Figure:
    """The chart that fits the exploration: lines over time (the comparison period
    dotted), bars by the dimensions (largest on top), for the sort metric."""
    rows = table.rows
    if rows.empty:
        return message_figure("GA has no rows for this question in this period", theme)
    metric = exploration.sort if exploration.sort in exploration.metrics else \
        exploration.metrics[0]
    name = field_name(fields, metric)
    if exploration.drawn_as == "line" and exploration.dimensions:
        return _lines(table, exploration, fields, theme)
    top = rows if exploration.series else rows.head(bars)
    top = top.iloc[::-1]
    labels = [_label(r, table.dimensions) for _, r in top.iterrows()] if table.dimensions \
        else [name]
    traces: list[dict[str, Any]] = []
    if table.comparing and metric + PREVIOUS in top.columns:
        traces.append({"type": "bar", "orientation": "h", "name": "Comparison period",
                       "x": top[metric + PREVIOUS].tolist(), "y": labels,
                       "marker": {"color": theme.muted},
                       "hovertemplate": f"%{{y}}: %{{x:,}} {name} (comparison)<extra></extra>"})
    traces.append({"type": "bar", "orientation": "h", "name": "This period",
                   "x": top[metric].tolist(), "y": labels, "marker": {"color": theme.accent},
                   "hovertemplate": f"%{{y}}: %{{x:,}} {name}<extra></extra>"})
    return figure(theme, traces, hovermode="closest", barmode="group",
                  showlegend=len(traces) > 1, margin={"l": 8, "r": 16, "t": 28, "b": 32},
                  xaxis={"tickformat": ",~s", "title": {"text": name}},
                  yaxis={"automargin": True, "type": "category"})


def _lines(table: ExploreTable, exploration: Exploration, fields: PropertyFields | None,
           theme: Theme) -> Figure:
    rows = table.rows
    time_dim = exploration.dimensions[0]
    colours = [theme.accent, theme.second, "#188038", "#a142f4", "#e52592", "#12b5cb"]
    traces: list[dict[str, Any]] = []
    ordered = rows.sort_values(time_dim)
    if len(exploration.dimensions) > 1:  # the first metric, one line per value
        metric = exploration.metrics[0]
        second = exploration.dimensions[1]
        leaders = ordered.groupby(second)[metric].sum().nlargest(LINES).index
        for colour, value in zip(colours, leaders, strict=False):
            part = ordered[ordered[second] == value]
            traces.append({"type": "scatter", "mode": "lines", "name": str(value),
                           "x": part[time_dim].tolist(), "y": part[metric].tolist(),
                           "line": {"color": colour, "width": 2.5}})
        title = field_name(fields, metric)
    else:
        for colour, metric in zip(colours, exploration.metrics, strict=False):
            name = field_name(fields, metric)
            traces.append({"type": "scatter", "mode": "lines", "name": name,
                           "x": ordered[time_dim].tolist(), "y": ordered[metric].tolist(),
                           "line": {"color": colour, "width": 2.5}})
            if table.comparing and metric + PREVIOUS in ordered.columns:
                traces.append({"type": "scatter", "mode": "lines",
                               "name": f"{name} (comparison)", "x": ordered[time_dim].tolist(),
                               "y": ordered[metric + PREVIOUS].tolist(),
                               "line": {"color": colour, "width": 1.5, "dash": "dot"}})
        title = ""
    axis: dict[str, Any] = {} if pd.api.types.is_datetime64_any_dtype(rows[time_dim]) \
        else {"type": "category"}
    return figure(theme, traces, xaxis=axis, yaxis={"rangemode": "tozero", "tickformat": ",~s",
                                                    **({"title": {"text": title}} if title
                                                       else {})})


def number_tiles(table: ExploreTable, fields: PropertyFields | None, currency: str,
                 prefix: str = "kpi") -> list[html.Div]:
    """Each metric's total as a big number, with its change when comparing
    (``prefix``: the tiles' classes, ``tv-kpi`` on the TV)."""
    tiles = []
    for m in table.metrics:
        value, before = table.totals.get(m), table.previous_totals.get(m)
        kids: list[Any] = [
            html.Div(field_name(fields, m), className=f"{prefix}-label"),
            html.Div(format_value(_type(fields, m), value, currency, m),
                     className=f"{prefix}-value")]
        if table.comparing:
            change = delta(value, before) if value is not None else None
            flat = change is None or abs(change) < 0.005
            kids.append(html.Div(
                "no comparison data" if change is None else
                f"{'▲' if change > 0 else '▼' if change < 0 else '■'} {abs(change) * 100:.1f}%",
                className=f"{prefix}-delta" + (" flat" if flat else "")))
        tiles.append(html.Div(kids, className=prefix))
    return tiles


def answer_footer(report: ReportFrame, shown: int, exploration: Exploration) -> list[Any]:
    """When fetched, how many rows GA has, and what GA said about the data."""
    parts: list[Any] = [html.Span(f"Fetched {fetched_clock(report)}", className="fetched")]
    total = report.meta.row_count
    if exploration.dimensions and not exploration.series and total > shown:
        parts.append(html.Span(f"Top {shown:,} of {total:,} rows", className="quality"))
    if report.meta.capped:
        parts.append(html.Span(f"Showing the first {shown:,} of {total:,} rows",
                               className="quality"))
    parts += [html.Span(n, className="quality") for n in report.meta.quality_notes()]
    return parts


def small_body(table: ExploreTable, exploration: Exploration, fields: PropertyFields | None,
               currency: str) -> Any:
    """A panel drawn small, on the analyst view: its numbers, its chart, or its table's
    first rows."""
    drawn = exploration.drawn_as
    if drawn == "number" or not exploration.dimensions:
        return html.Div(number_tiles(table, fields, currency), className="kpis")
    if drawn == "table":
        rows, _ = grid_records(table)
        head = [*table.dimensions, *table.metrics]
        return html.Table(className="mini-table", children=[
            html.Thead(html.Tr([html.Th(field_name(fields, f), scope="col") for f in head])),
            html.Tbody([html.Tr([html.Td(str(r[d])) for d in table.dimensions]
                                + [html.Td(format_value(_type(fields, m), r[m], currency, m),
                                           className="num") for m in table.metrics])
                        for r in rows[:10]])])
    return html.Div(className="panel-box", style={"height": "300px"}, children=dcc.Graph(
        figure=answer_figure(table, exploration, fields, bars=10), config=GRAPH_CONFIG,
        style={"height": "300px"}))


def title_of(exploration: Exploration, fields: PropertyFields | None) -> str:
    metrics = ", ".join(field_name(fields, m) for m in exploration.metrics)
    if not exploration.dimensions:
        return metrics
    return f"{metrics} by {' and '.join(field_name(fields, d) for d in exploration.dimensions)}"


def describe_filters(exploration: Exploration, fields: PropertyFields | None) -> str:
    """The conditions in words, for a panel's subtitle ("" without any)."""
    parts = [f"{field_name(fields, f.field)} {f.condition.describe()}" for f in exploration.where]
    parts += [f"{field_name(fields, h.metric)} {METRIC_OPS[h.op]} {h.value:g}"
              for h in exploration.having]
    return "; ".join(parts)


def state_link(state: ExploreState, panel_id: int | None = None) -> str:
    """The Explore URL of a state (``panel``: the saved panel it edits)."""
    query = state.to_query_string()
    return "/explore" + query + (f"&panel={panel_id}" if panel_id is not None else "")


__all__ = ["MAX_HAVING", "MAX_WHERE", "ExIds", "answer_figure", "answer_footer", "columns_of",
           "create_layout", "field_options", "grid_records", "number_tiles",
           "title_of"]
