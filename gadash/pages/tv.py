"""Big screen at ``/tv``: rotating screens that refresh themselves and never go blank.

Data callbacks write panels only when they have good data; on any error they
leave every panel as it is and report the error in a status store. Rotation,
the clock and the stale mark run in the browser, so they keep working while
the server is unreachable.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import dash
from dash import ClientsideFunction, Input, Output, Patch, State, callback, clientside_callback
from dash import no_update as nu

from gadash.components.tv import (
    REALTIME_PANELS,
    TV_KPIS,
    TV_OPTIONAL_KPIS,
    TV_TREND_METRICS,
    TvIds,
    channels_items,
    compact_range,
    create_tv_layout,
    delta_text,
    now_pages_items,
    pages_items,
    share_paths,
    sources_items,
    spark_figure,
    spark_series,
    top_pages,
    tv_trend_figure,
    updated_label,
)
from gadash.errors import GadashError
from gadash.figures import TREND_TIME, trend_series
from gadash.query import ReportQuery
from gadash.service import get_service
from gadash.team import trend_markers
from gadash.transforms import fill_days, kpis, outcome_metrics
from gadash.tvconfig import SCREENS, TvConfig, parse_tv_query
from gadash.tvlinks import pinned_query
from gadash.views import tv_query
from gadash.viewstate import ViewState

I = TvIds  # noqa: E741


def layout(**_query: str) -> Any:
    return create_tv_layout()


dash.register_page(__name__, path="/tv", title="gadash – big screen", name="Big screen",
                   layout=layout)


def _config(data: Any) -> TvConfig:
    """The playlist in the browser's store, checked like a URL (a tampered store gets
    defaults). A TV link's session gets its link's playlist, whatever the store says."""
    if not isinstance(data, dict):
        raise dash.exceptions.PreventUpdate
    pinned = pinned_query()
    if pinned is not None:
        service = get_service()
        return parse_tv_query(pinned, list(service.properties), date.today(),
                              service.settings)[0]
    params = {k: str(data[k]) for k in ("property", "range", "compare", "rotate", "refresh",
                                         "realtime") if k in data}
    screens = data.get("screens")
    if isinstance(screens, list):
        params["screens"] = ",".join(str(s) for s in screens)
    if "reload_hours" in data:
        params["reload"] = str(data["reload_hours"])
    service = get_service()
    config, _ = parse_tv_query("?" + urlencode(params), list(service.properties), date.today(),
                               service.settings)
    return config


@callback(
    Output(I.CONFIG, "data"),
    Output(I.TITLE, "children"),
    Output(I.NOTES, "children"),
    Output(I.REFRESH, "interval"),
    Output(I.REFRESH, "disabled"),
    Output(I.REALTIME_TICK, "interval"),
    Output(I.REALTIME_TICK, "disabled"),
    Output(I.ROTATE, "interval"),
    Output(I.ROTATE, "disabled"),
    Output(I.RELOAD, "interval"),
    Output(I.RELOAD, "disabled"),
    Input(I.URL, "search"),
)
def configure(search: str | None) -> tuple[Any, ...]:
    """Read the playlist and timings from the URL (settings give the defaults)."""
    service = get_service()
    properties = list(service.properties)
    try:
        today = service.today(service.property_id(properties[0]))
    except GadashError:
        today = date.today()
    pinned = pinned_query()  # a TV link shows its own playlist, whatever its URL says
    config, notes = parse_tv_query(search or "" if pinned is None else pinned, properties,
                                   today, service.settings)
    try:
        zone = service.time_zone(service.property_id(config.property))
    except GadashError:
        zone = "UTC"
    data = {**config.__dict__, "screens": list(config.screens), "time_zone": zone}
    reload_ms = int(config.reload_hours * 3_600_000)
    return (
        data, config.property, " · ".join(notes),
        config.refresh * 1000, False,
        config.realtime * 1000, "realtime" not in config.screens,
        config.rotate * 1000, len(config.screens) < 2,
        max(reload_ms, 60_000), reload_ms == 0,
    )


def _status(ok: bool, label: str, error: str = "", short: str = "") -> dict[str, Any]:
    """What the browser needs for the stale mark: ``short`` for the header (e.g. "GA
    not answering"), ``error`` for the small detail under it."""
    return {"ok": ok, "label": label, "error": error, "short": short,
            "at": datetime.now(UTC).isoformat(timespec="seconds")}


def _failed(previous: dict[str, Any] | None, exc: GadashError) -> dict[str, Any]:
    label = (previous or {}).get("label", "")
    return _status(False, label, exc.message, getattr(exc, "short", exc.title))


OVERVIEW_OUTPUTS = (
    [Output(I.kpi(m), "children") for m in TV_KPIS]
    + [Output(I.delta(m), "children") for m in TV_KPIS]
    + [Output(I.delta(m), "className") for m in TV_KPIS]
    + [Output(I.tile(m), "className") for m in TV_OPTIONAL_KPIS]
    + [
        Output(I.TREND, "figure"),
        Output(I.CHANNELS, "children"),
        Output(I.PAGES, "children"),
        Output(I.SOURCES, "children"),
        Output(I.updated("overview"), "children"),
        Output(I.updated("pages"), "children"),
        Output(I.updated("sources"), "children"),
        Output(I.RANGE, "children"),
        Output(I.STATUS, "data"),
        Output(I.DRAWN, "data"),
    ]
)


@callback(
    *OVERVIEW_OUTPUTS,
    Input(I.REFRESH, "n_intervals"),
    Input(I.CONFIG, "data"),
    State(I.STATUS, "data"),
    State(I.DRAWN, "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, data: dict[str, Any] | None, status: dict[str, Any] | None,
            drawn: str | None) -> tuple[Any, ...]:
    """KPIs, trend, top pages and sources from the shared cache (GA once per TTL)."""
    if not data:
        raise dash.exceptions.PreventUpdate
    config = _config(data)
    service = get_service()
    keep = (nu,) * (len(OVERVIEW_OUTPUTS) - 2)
    try:
        property_id = service.property_id(config.property)
        state = ViewState(config.property, config.range, config.compare)
        ranges = state.ranges(service.today(property_id))
        query = tv_query(property_id, ranges, service.available_fields(property_id))
        trend_panel = query.panels[0]
        result = service.view(query, warm=True)
        reports = result.reports
        zone = service.time_zone(property_id)
    except GadashError as exc:
        # Never blank: every panel keeps what it shows; the status says why.
        return (*keep, _failed(status, exc), nu)
    trend = reports[trend_panel]
    tiles = {k.metric: k for k in kpis(trend, list(TV_KPIS))}
    deltas = [delta_text(tiles[m]) for m in TV_KPIS]
    earned = outcome_metrics(trend)
    rows = fill_days(trend.rows, ranges, not trend.meta.capped)
    markers, _ = trend_markers(config.property, ranges[0].start, ranges[0].end, authors=False)
    # What is drawn: the panel and its annotations; new notes redraw the figure.
    signature = "|".join([trend_panel, *(f"{m.start}:{m.end}:{m.text}" for m in markers)])
    if drawn == signature and len(rows):
        # Same traces as before: send only their new points (no figure is built).
        figure: Any = Patch()
        for i, (x, y) in enumerate(trend_series(rows, TREND_TIME[trend_panel],
                                                TV_TREND_METRICS)):
            figure["data"][i]["x"] = x
            figure["data"][i]["y"] = y
    else:
        figure = tv_trend_figure(rows, trend_panel, markers)
    label = updated_label(trend, zone)
    top = top_pages(reports["pages"])
    # When this refresh looked (the data may be older: "updated" says when it changed).
    checked = f"{datetime.now(ZoneInfo(zone or 'UTC')):%H:%M}"
    return (
        *[tiles[m].text for m in TV_KPIS],
        *[d[0] for d in deltas],
        *[d[1] for d in deltas],
        *["tv-kpi" if m in earned else "tv-kpi tv-kpi-off" for m in TV_OPTIONAL_KPIS],
        figure,
        channels_items(reports["sources"]),
        pages_items(top, service.shares(config.property, share_paths(top)), service.providers),
        sources_items(reports["sources"]),
        *(f"{updated_label(reports[r], zone)} · checked {checked}"
          for r in (trend_panel, "pages", "sources")),
        compact_range(ranges),
        _status(not result.error, label.removeprefix("updated "), result.error,
                (result.error_short or "GA error") if result.error else ""),
        signature,
    )


@callback(
    Output(I.ACTIVE, "children"),
    Output(I.SPARK, "figure"),
    Output(I.NOW_PAGES, "children"),
    Output(I.updated("realtime"), "children"),
    Output(I.RT_STATUS, "data"),
    Output(I.SPARK_DRAWN, "data"),
    Input(I.REALTIME_TICK, "n_intervals"),
    Input(I.CONFIG, "data"),
    State(I.RT_STATUS, "data"),
    State(I.SPARK_DRAWN, "data"),
    prevent_initial_call=True,
)
def refresh_realtime(_n: int | None, data: dict[str, Any] | None,
                     status: dict[str, Any] | None, drawn: bool) -> tuple[Any, ...]:
    """Active users of the last 30 minutes, on the shorter realtime interval."""
    config = _config(data)  # checked like a URL; a TV link's own playlist
    if "realtime" not in config.screens:
        raise dash.exceptions.PreventUpdate
    service = get_service()
    try:
        property_id = service.property_id(config.property)
        result = service.view(ReportQuery(property_id, REALTIME_PANELS, ()), warm=True)
        reports = result.reports
        zone = service.time_zone(property_id)
    except GadashError as exc:
        return (nu, nu, nu, nu, _failed(status, exc), nu)
    realtime = reports["realtime"]
    x, y = spark_series(realtime)
    if drawn:
        figure: Any = Patch()
        figure["data"][0]["y"] = y
    else:
        figure = spark_figure(x, y)
    total = realtime.totals["activeUsers"]
    label = updated_label(realtime, zone)
    return (
        f"{int(total.iloc[0]) if len(total) else 0:,}",
        figure,
        now_pages_items(reports["realtime_pages"]),
        label,
        _status(not result.error, label.removeprefix("updated "), result.error,
                (result.error_short or "GA error") if result.error else ""),
        True,
    )


clientside_callback(
    ClientsideFunction(namespace="gadashTv", function_name="rotate"),
    # assets/tv.js returns one class per screen, in SCREENS order
    [Output(I.screen(name), "className") for name in SCREENS] + [Output(I.DOTS, "children")],
    Input(I.ROTATE, "n_intervals"),
    Input(I.CONFIG, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="gadashTv", function_name="tick"),
    Output(I.CLOCK, "children"),
    Output(I.STALE, "children"),
    Output(I.STALE, "className"),
    Input(I.CLOCK_TICK, "n_intervals"),
    Input(I.STATUS, "data"),
    Input(I.RT_STATUS, "data"),
    State(I.CONFIG, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="gadashTv", function_name="reload"),
    Output(I.RELOAD, "n_intervals"),
    Input(I.RELOAD, "n_intervals"),
    prevent_initial_call=True,
)
