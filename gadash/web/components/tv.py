"""The big screen: layout factory and pure renderers (dark theme, large type)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
from dash import dcc, html

from gadash.core.catalog import TREND_TIME
from gadash.core.frames import Marker, PropertyFields, ReportFrame, is_other
from gadash.core.insights.findings import TrendingPage
from gadash.core.insights.rules import USUAL_DAYS, Trend
from gadash.core.query import DateRange, Exploration
from gadash.core.transforms import (
    CHANGE,
    ExploreTable,
    Kpi,
    channels_table,
    format_number,
    split_ranges,
)
from gadash.data.shares import Provider, ShareCounts
from gadash.settings import SCREENS
from gadash.web.components.cards import fetched_clock, share_summary
from gadash.web.components.explore import answer_figure, field_name, format_value, number_tiles
from gadash.web.components.ids import TvIds
from gadash.web.figures import DARK, Figure, figure, message_figure, trend_figure

TV_KPIS = ("totalUsers", "sessions", "screenPageViews", "averageSessionDuration",
           "engagementRate", "keyEvents", "totalRevenue")
# Tiles a property earns (transforms.outcome_metrics); hidden where it has none.
TV_OPTIONAL_KPIS = ("keyEvents", "totalRevenue")
CHANNEL_ROWS = 6
REALTIME_PANELS = ("realtime", "realtime_pages")
GRAPH_CONFIG: Any = {"displayModeBar": False, "staticPlot": True, "showSendToCloud": False}
LIST_ROWS = 8
PANEL_ROWS = 7  # a panel's list has its period line above it
# The TV's charts are drawn for a 1920 px wide screen, where ticks and legends are
# 29 px (the TV's type is 28 px there); the stylesheet zooms each chart with the type
# (.tv-chart, .tv-spark), so they are 21 px at 1366x768 and 58 px on a 4K screen.
CHART_FONT = 29
TV = replace(DARK, font_size=CHART_FONT)


I = TvIds  # noqa: E741 -- short alias for layout code


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=message_figure("Loading…", TV), config=GRAPH_CONFIG,
                     className="tv-graph", responsive=True)


def _kpi_tile(metric: str, label: str) -> html.Div:
    hidden = " tv-kpi-off" if metric in TV_OPTIONAL_KPIS else ""
    return html.Div(id=I.tile(metric), className="tv-kpi" + hidden, children=[
        html.Div(label, className="tv-kpi-label"),
        html.Div("–", id=I.kpi(metric), className="tv-kpi-value"),
        html.Div("", id=I.delta(metric), className="tv-kpi-delta"),
    ])


def _screen(name: str, children: list[Any]) -> html.Section:
    return html.Section(id=I.screen(name), className="tv-screen", children=[
        html.H2(SCREENS[name], className="tv-screen-title"),
        *children,
        html.Div("", id=I.updated(name), className="tv-updated"),
    ])


def create_tv_layout() -> html.Div:
    """The TV page: every screen, hidden but the current one. It carries no data."""
    from gadash.core.transforms import KPI_LABELS

    return html.Div(className="tv", children=[
        dcc.Location(id=I.URL, refresh=False),
        dcc.Store(id=I.CONFIG),
        dcc.Store(id=I.STATUS),
        dcc.Store(id=I.RT_STATUS),
        dcc.Store(id=I.DRAWN),
        dcc.Store(id=I.TODRAW),
        dcc.Store(id=I.SPARK_DRAWN, data=False),
        dcc.Store(id=I.RT_TODRAW),
        dcc.Store(id=I.TRENDING_DRAWN),
        dcc.Store(id=I.PANELS_DRAWN, data={}),
        dcc.Interval(id=I.REFRESH, interval=60_000, disabled=True),
        dcc.Interval(id=I.REALTIME_TICK, interval=20_000, disabled=True),
        dcc.Interval(id=I.ROTATE, interval=30_000, disabled=True),
        dcc.Interval(id=I.CLOCK_TICK, interval=1_000),
        dcc.Interval(id=I.RELOAD, interval=24 * 3_600_000, disabled=True),
        html.Header(className="tv-head", children=[
            html.Div([html.Span("ga", className="logo-a"), html.Span("dash", className="logo-b")],
                     className="logo"),
            html.H1(id=I.TITLE, className="tv-title"),
            html.Div(id=I.RANGE, className="tv-range"),
            html.Div(id=I.STALE, className="tv-stale", role="status"),
            html.Div(id=I.DOTS, className="tv-dots"),
            html.Div(id=I.SIGNED_OUT, className="tv-signed-out"),
            html.Div(id=I.CLOCK, className="tv-clock"),
        ]),
        html.Div(id=I.NOTES, className="tv-notes"),
        html.Main(className="tv-screens", children=[
            _screen("overview", [
                html.Div([_kpi_tile(m, KPI_LABELS[m][0]) for m in TV_KPIS], className="tv-kpis"),
                html.Div(className="tv-overview-body", children=[
                    html.Div(_graph(I.TREND), className="tv-chart"),
                    html.Div(className="tv-channels", children=[
                        html.H3("Channels", className="tv-side-title"),
                        html.Ol(id=I.CHANNELS, className="tv-list tv-list-compact"),
                    ]),
                ]),
            ]),
            _screen("realtime", [
                html.Div(className="tv-realtime", children=[
                    html.Div(className="tv-active", children=[
                        html.Div("–", id=I.ACTIVE, className="tv-active-value"),
                        html.Div("active users, last 30 minutes", className="tv-active-label"),
                        html.Div(_graph(I.SPARK), className="tv-spark"),
                    ]),
                    html.Ol(id=I.NOW_PAGES, className="tv-list"),
                ]),
            ]),
            _screen("pages", [html.Ol(id=I.PAGES, className="tv-list tv-list-wide")]),
            _screen("sources", [html.Ol(id=I.SOURCES, className="tv-list tv-list-wide")]),
            _screen("trending", [html.Ol(id=I.TRENDING,
                                       className="tv-list tv-list-wide tv-trending")]),
            html.Div(id=I.PANELS, className="tv-panels"),
        ]),
    ])


def updated_label(report: ReportFrame, zone: str) -> str:
    return f"updated {fetched_clock(report, zone)}"


def delta_text(kpi: Kpi) -> tuple[str, str]:
    """The change line of a KPI tile and its tone class."""
    if kpi.change is None and kpi.previous == 0 and kpi.value:
        good = (kpi.value > 0) == kpi.higher_is_better
        return "▲ new" if kpi.value > 0 else "▼ new", \
            f"tv-kpi-delta {'good' if good else 'bad'}"
    if kpi.change is None:
        return "", "tv-kpi-delta"
    good = (kpi.change >= 0) == kpi.higher_is_better
    arrow = "▲" if kpi.change > 0 else "▼" if kpi.change < 0 else "■"
    tone = "flat" if abs(kpi.change) < 0.005 else ("good" if good else "bad")
    return f"{arrow} {abs(kpi.change) * 100:.1f}%", f"tv-kpi-delta {tone}"


def _span(rng: DateRange) -> str:
    s, e = rng.start, rng.end
    if s == e:
        return f"{e.day} {e:%b %Y}"
    if (s.year, s.month) == (e.year, e.month):
        return f"{s.day}–{e.day} {e:%b %Y}"
    if s.year == e.year:
        return f"{s.day} {s:%b} – {e.day} {e:%b %Y}"
    return f"{s.day} {s:%b %Y} – {e.day} {e:%b %Y}"


def compact_range(ranges: tuple[DateRange, ...], cutoff: int | None = None) -> str:
    """The period on one short line for the TV's header: "19–25 Nov 2026 vs 12–18 Nov 2026";
    compared like for like to the ``cutoff`` hour: "7 Dec 2026 vs 6 Dec 2026, both to 10:00"."""
    text = " vs ".join(_span(r) for r in ranges)
    return text if cutoff is None else f"{text}, both to {cutoff:02d}:00"


def list_items(rows: list[tuple[str, str, str]], unit: str) -> list[html.Li]:
    """Rows of (main text, secondary text, figure) as big list items; every figure
    carries its metric (``unit``, e.g. "views") under it."""
    return [
        html.Li(className="tv-item", children=[
            html.Span(main, className="tv-item-main"),
            html.Span(sub, className="tv-item-sub"),
            html.Span(value, className="tv-item-value"),
            html.Span(unit, className="tv-item-unit"),
        ])
        for main, sub, value in rows
    ]


def _top(report: ReportFrame, metric: str) -> pd.DataFrame:
    current, _ = split_ranges(report.rows)
    return current.nlargest(LIST_ROWS, metric)


def _top_items(report: ReportFrame, metric: str, main: str, sub: str | None, unit: str
               ) -> list[html.Li]:
    top = _top(report, metric)
    subs = top[sub].astype(str) if sub else [""] * len(top)
    return list_items([
        (str(m), str(s), format_number(float(v)))
        for m, s, v in zip(top[main].astype(str), subs, top[metric], strict=True)
    ], unit)


def top_pages(report: ReportFrame) -> pd.DataFrame:
    """The pages the big screen lists: the current period's most viewed. GA's
    ``(other)`` row (many rare pages together) is no page: when it would be listed it
    comes last, set apart (``pages_items``), so the list keeps its length."""
    top = _top(report, "screenPageViews")
    other = top["pagePath"].astype(str).map(is_other) | top["pageTitle"].astype(str).map(
        is_other)
    if not other.any():
        return top
    current, _ = split_ranges(report.rows)
    pages = current[~(current["pagePath"].astype(str).map(is_other)
                      | current["pageTitle"].astype(str).map(is_other))]
    return pd.concat([pages.nlargest(LIST_ROWS - 1, "screenPageViews"), top[other].head(1)],
                     ignore_index=True)


def share_paths(top: pd.DataFrame) -> list[str]:
    """The listed pages whose share counts are looked up: never GA's (other) row."""
    return [p for p in top["pagePath"].astype(str) if not is_other(p)]


def pages_items(top: pd.DataFrame, shares: dict[str, dict[str, ShareCounts]] | None = None,
                providers: list[Provider] | None = None) -> list[html.Li]:
    """Top pages (from top_pages); the second line carries share counts where there are any."""
    rows, other = [], None
    for title, path, views in zip(top["pageTitle"].astype(str), top["pagePath"].astype(str),
                                  top["screenPageViews"], strict=True):
        if is_other(path) or is_other(title):
            other = float(views)
            continue
        summary = share_summary((shares or {}).get(path, {}), providers or [])
        rows.append((title, f"{path}  ·  {summary}" if summary else path,
                     format_number(float(views))))
    items = list_items(rows, "views")
    if other is not None:
        items += list_items([("All other pages", "GA's (other): rare pages it grouped, "
                              "past its row limit; not one page", format_number(other))],
                            "views")
        items[-1].className = "tv-item tv-item-other"  # type: ignore[attr-defined]
    return items


def _usual_text(trend: Trend) -> str:
    if trend.new:
        return f"none in {USUAL_DAYS} days"
    usual = f"{trend.usual:,.1f}" if trend.usual < 10 else f"{trend.usual:,.0f}"
    return f"at most {usual} views" if trend.at_most else f"{usual} views"


def _trend_lead(page: TrendingPage, sub: str, ratio: str, unit: str) -> html.Li:
    """The page read farthest above its usual rate, as the screen's lead: its title large,
    how many times its usual rate, and its last 30 minutes against its usual 30 as bars."""
    t = page.trend
    usual_width = 0.0 if t.new or not t.views else min(100.0, max(0.5, 100 * t.usual / t.views))
    bars = [("last 30 minutes", 100.0, f"{t.views:,.0f} views", "tv-trend-bar now"),
            ("usual 30 minutes", usual_width, _usual_text(t), "tv-trend-bar")]
    return html.Li(className="tv-item tv-trend-lead", children=[
        html.Span(page.title, className="tv-item-main"),
        html.Div(className="tv-trend-figure", children=[
            html.Span(ratio, className="tv-item-value"),
            html.Span(unit, className="tv-item-unit"),
        ]),
        html.Div(className="tv-trend-bars", children=[
            html.Div(className=cls, children=[
                html.Span(label, className="tv-trend-bar-label"),
                html.Span(html.Span(className="tv-trend-bar-fill",
                                    style={"width": f"{width:.1f}%"}),
                          className="tv-trend-bar-track"),
                html.Span(value, className="tv-trend-bar-value"),
            ]) for label, width, value, cls in bars]),
        html.Span(sub, className="tv-item-sub"),
    ])


def trending_items(pages: list[TrendingPage],
                   shares: dict[str, dict[str, ShareCounts]] | None = None,
                   providers: list[Provider] | None = None) -> list[html.Li]:
    """Pages read far above their usual rate: "×7 usual" as the figure, where readers
    are and the discussion (HN points, Reddit score) on the second line. The first is
    the screen's lead (``_trend_lead``), the others listed beside it."""
    if not pages:
        return [html.Li(className="tv-item tv-empty tv-trend-none", children=[
            html.Span("No page is read far above its usual rate right now.",
                      className="tv-item-main"),
            html.Span("A page read at several times its usual rate shows here, as it "
                      "happens.", className="tv-item-sub"),
        ])]
    rows, leads = [], []
    for page in pages[:LIST_ROWS]:
        t = page.trend
        parts: list[str] = []
        if page.countries:
            parts.append(", ".join(page.countries))
        summary = share_summary((shares or {}).get(page.path, {}), providers or [])
        if summary:
            parts.append(summary)
        if t.ambiguous:
            parts.append(f"title shared by {len(t.paths)} pages")
        ratio = t.label().removesuffix(" usual")  # "×72", "×60+", "new": as the analyst view
        leads.append(("  ·  ".join(parts), ratio))  # the lead's bars say its views
        rows.append((page.title, "  ·  ".join([f"{t.views:,.0f} views in 30 min", *parts]),
                     ratio))
    unit = "its usual rate" if any(not p.trend.new for p in pages) else "page"
    lead_unit = "page" if pages[0].trend.new else "its usual rate"  # "new page"
    return [_trend_lead(pages[0], *leads[0], lead_unit), *list_items(rows[1:], unit)]


def channels_items(report: ReportFrame) -> list[html.Li]:
    """Sessions by channel (rolled up from the sources report) with each one's share."""
    table = channels_table(report).head(CHANNEL_ROWS)
    return list_items([
        (str(c), f"{share * 100:.0f}% of sessions", format_number(float(s)))
        for c, share, s in zip(table["sessionDefaultChannelGroup"], table["share"],
                               table["sessions"], strict=True)
    ], "sessions")


def sources_items(report: ReportFrame) -> list[html.Li]:
    return _top_items(report, "sessions", "sessionSource", "sessionMedium", "sessions")


def now_pages_items(report: ReportFrame) -> list[html.Li]:
    items = _top_items(report, "activeUsers", "unifiedScreenName", None, "active users")
    return items or [html.Li("Nobody is reading right now", className="tv-item tv-empty")]


def spark_series(report: ReportFrame) -> tuple[list[int], list[int]]:
    """Active users per minute over the last 30 minutes, oldest first, gaps as zero."""
    current, _ = split_ranges(report.rows)
    per_minute = dict(zip(current["minutesAgo"], current["activeUsers"], strict=True))
    minutes = list(range(29, -1, -1))
    return [-m for m in minutes], [int(per_minute.get(m, 0)) for m in minutes]


def spark_figure(x: list[int], y: list[int]) -> Figure:
    """Active users per minute as bars, "30 min ago" to "now", a scale on the right."""
    edges = [{"text": text, "x": edge, "xref": "paper", "xanchor": anchor, "y": 0,
              "yref": "paper", "yanchor": "top", "yshift": -6, "showarrow": False,
              "font": {"color": TV.muted}}
             for text, edge, anchor in (("30 min ago", 0, "left"), ("now", 1, "right"))]
    bars = {"type": "bar", "x": x, "y": y, "marker": {"color": TV.accent}}
    return figure(TV, [bars], margin={"l": 0, "r": 64, "t": 8, "b": 44}, bargap=0.15,
                  showlegend=False, annotations=edges,
                  xaxis={"showticklabels": False, "range": [-29.6, 0.6]},
                  # how many users a bar stands for
                  yaxis={"side": "right", "nticks": 4, "tickformat": ",d",
                         "rangemode": "tozero", "gridcolor": "#222831",
                         "tickfont": {"color": TV.muted}})


TV_TREND_METRICS = ("sessions", "totalUsers")


def tv_trend_figure(rows: pd.DataFrame, panel: str, markers: list[Marker] | None = None
                    ) -> Figure:
    """The overview's trend, at the grain of its panel, with the team's annotations."""
    fig = trend_figure(rows, TREND_TIME[panel], TV_TREND_METRICS, TV, markers)
    # The legend's line above the plot and the axes' labels, in the TV's large type.
    fig["layout"].update(margin={"l": 16, "r": 24, "t": 56, "b": 16},
                         legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return fig


# ------------------------------------------------------------------ panels from Explore

def panel_screen(screen: str, title: str) -> html.Section:
    """A panel's screen, empty: the panels' poll fills its body."""
    return html.Section(id={"type": I.PANEL, "panel": screen}, className="tv-screen", children=[
        html.H2(title, className="tv-screen-title"),
        html.Div("Loading…", id={"type": I.PANEL_BODY, "panel": screen},
                 className="tv-panel-body"),
        html.Div("", id={"type": I.PANEL_UPDATED, "panel": screen}, className="tv-updated"),
    ])


def panel_body(table: ExploreTable, exploration: Exploration, fields: PropertyFields | None,
               currency: str) -> list[Any]:
    """A panel in the TV's large style: lines over time as a chart, single numbers as
    tiles, anything by a dimension as the big list of its top rows."""
    drawn = exploration.drawn_as
    if drawn == "number" or not exploration.dimensions:
        return [html.Div(number_tiles(table, fields, currency, prefix="tv-kpi"),
                         className="tv-kpis tv-panel-numbers")]
    if drawn == "line":
        return [html.Div(dcc.Graph(figure=answer_figure(table, exploration, fields, TV),
                                   config=GRAPH_CONFIG, className="tv-graph", responsive=True),
                         className="tv-chart")]
    metric = exploration.sort if exploration.sort in exploration.metrics else \
        exploration.metrics[0]
    found = fields.get(metric) if fields is not None else None
    kind = found.type if found is not None else ""
    rows = table.rows.head(PANEL_ROWS)
    unit = field_name(fields, metric)
    items = []
    for _, row in rows.iterrows():
        main = str(row[exploration.dimensions[0]])
        sub = " · ".join(str(row[d]) for d in exploration.dimensions[1:])
        change = row.get(metric + CHANGE) if table.comparing else None
        if change is not None and not pd.isna(change):
            sub = (sub + " · " if sub else "") + f"{'▲' if change > 0 else '▼'} " \
                f"{abs(change) * 100:.0f}%"
        elif table.comparing and not row["isOther"] and row[metric]:  # none before
            sub = (sub + " · " if sub else "") + "new"
        items.append((main, sub, format_value(kind, row[metric], currency, metric)))
    if not items:
        return [html.P("GA has no rows for this panel in this period.", className="tv-empty")]
    return [html.Ol(list_items(items, unit), className="tv-list tv-list-wide")]
