"""The analyst view: its layout factory and the pure rendering of a view's data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import html

from gadash.core.catalog import TREND_PANELS, TREND_TIME, get_panel
from gadash.core.frames import OTHER_TIP, Marker, ReportFrame, ViewResult
from gadash.core.insights.rules import Band
from gadash.core.periods import length_note, wall_clock
from gadash.core.query import DateRange, cutoff_note
from gadash.core.transforms import (
    channels_table,
    fill_days,
    kpis,
    landing_table,
    pages_table,
    rollup,
    sources_table,
    split_ranges,
)
from gadash.core.urls import ViewState, filter_params
from gadash.errors import GadashError
from gadash.web.components import ids
from gadash.web.components.analyst.columns import (
    CHANGE_COLUMN,
    CHANNEL_COLUMNS,
    ENTRANCES_COLUMN,
    LANDING_COLUMNS,
    PAGE_COLUMNS,
    SOURCE_COLUMNS,
    VIEWS_CHANGE_COLUMN,
    outcome_columns,
)
from gadash.web.components.analyst.layout import _GRID_SPECS
from gadash.web.components.cards import (
    FILTER_LABELS,
    create_error,
    create_kpi_tile,
    fetched_clock,
)
from gadash.web.figures import Figure, bar_figure, donut_figure, message_figure, trend_figure

# A compared day that has no whole hour yet (00:00 to 01:00) is not compared.
NOT_YET = "so far today: compared from 01:00"
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
                unusual: list[Band] | None = None, cutoff: int | None = None) -> Rendered:
    """A view's KPIs, trend and notes (pure); ``ranges`` lets
    the trend show periods without sessions as zero; ``markers`` are the
    annotations drawn on it; ``partial``: the range ends today. A compared partial
    period is compared like for like, to the ``cutoff`` hour (``core.query.cutoff_hour``);
    without one it is not compared with whole days."""
    reports = result.reports
    trend = trend_panel_of(reports)
    time_col = TREND_TIME[trend.panel]
    comparing = state.compare != "none"
    like_for_like = partial and comparing and cutoff is not None and len(ranges) > 1
    note = NOT_YET if partial and comparing and not like_for_like else ""
    sampled = bool(trend.meta.sampling)
    tiles: list[Any] = [create_kpi_tile(k, comparing, ids.KPI, note, sampled)
                        for k in kpis(trend)]
    captions = [f"Compared like for like: {cutoff_note(ranges, cutoff)}"] \
        if like_for_like and cutoff is not None else []
    if comparing and (lengths := length_note(ranges)):
        captions.append(lengths)
    if sampled:
        captions += [f"≈ {n}: the figures are estimates" for n in trend.meta.quality_notes()
                     if n.startswith("Sampled")]
    if captions:
        tiles.append(html.P(". ".join(captions), className="kpi-caption", id=ids.KPI_CAPTION))
    if partial:
        trend_notes = [*(trend_notes or []), "Today is not over, and GA's figures for it "
                       "arrive hours late: they will still grow"]
    answered = wall_clock(trend.meta.fetched_at, trend.meta.time_zone)
    figures = {"trend": trend_figure(fill_days(trend.rows, ranges, not trend.meta.capped,
                                               answered),
                                     time_col, markers=markers, unusual=unusual)}
    footers = {"trend": _footer(trend, [*_trend_notes(trend, ranges), *(trend_notes or [])])}
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


def _trend_notes(trend: ReportFrame, ranges: tuple[DateRange, ...] = ()) -> list[str]:
    """The trend's footer: its grain, how partial points are drawn, periods of
    different lengths, a cut answer."""
    grain = {"isoYearIsoWeek": "week (Monday to Sunday)", "yearMonth": "month"}.get(
        TREND_TIME[trend.panel])
    notes = [f"One point per {grain}; a partial one (cut by the range, or not over) is "
             "hollow, on a dotted line" + ("; its tooltip compares per day where the "
                                           "comparison's holds more or fewer days"
                                           if len(ranges) > 1 else "")] if grain else []
    if note := length_note(ranges):
        notes.append(note)
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
