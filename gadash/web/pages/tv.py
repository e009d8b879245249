"""Big screen at ``/tv``: rotating screens that refresh themselves and never go blank.

Data callbacks write panels only when they have good data; on any error they
leave every panel as it is and report the error in a status store. Rotation,
the clock and the stale mark run in the browser, so they keep working while
the server is unreachable.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import dash
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    ctx,
    html,
)
from dash import no_update as nu

from gadash.core.catalog import TREND_TIME
from gadash.core.frames import Marker, ViewResult
from gadash.core.periods import wall_clock
from gadash.core.plans import trending_queries, tv_query
from gadash.core.query import DateRange, ReportQuery, cutoff_hour
from gadash.core.transforms import fill_days, kpis, outcome_metrics
from gadash.core.urls import TvConfig, ViewState, parse_tv_query
from gadash.errors import GadashError, QueryError
from gadash.memo import Recent
from gadash.settings import SCREENS, panel_screen_id
from gadash.store.team import trend_markers
from gadash.web.answers import ask, panel_of, today_of
from gadash.web.auth.sessions import pinned_query
from gadash.web.components.ids import TvIds
from gadash.web.components.tv import (
    REALTIME_PANELS,
    TV_KPIS,
    TV_OPTIONAL_KPIS,
    TV_TREND_METRICS,
    channels_items,
    compact_range,
    create_tv_layout,
    delta_text,
    now_pages_items,
    pages_items,
    panel_body,
    panel_screen,
    share_paths,
    sources_items,
    spark_figure,
    spark_series,
    top_pages,
    trending_items,
    tv_trend_figure,
    updated_label,
)
from gadash.web.context import get_service, get_store
from gadash.web.figures import trend_series
from gadash.web.pages.drawings import Drawings, Drawn, DrawnRealtime, Encoded

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
        return _parsed(pinned, _property_today(pinned))
    params = [(k, str(data[k])) for k in ("property", "range", "compare", "rotate", "refresh",
                                           "realtime") if k in data]
    screens = data.get("screens")
    if isinstance(screens, list):
        params.append(("screens", ",".join(str(s) for s in screens)))
    if "reload_hours" in data:
        params.append(("reload", str(data["reload_hours"])))
    return _from_store(tuple(params), _property_today(str(data.get("property", ""))))


def _property_today(query_or_name: str) -> date:
    """Today in the time zone of the property a playlist (or name) names: a range is
    future or not by the property's calendar, whatever the server's date."""
    properties = list(get_service().properties)
    name = query_or_name if query_or_name in properties else \
        parse_qs(query_or_name.lstrip("?")).get("property", [properties[0]])[-1]
    return today_of(name if name in properties else properties[0])


@functools.lru_cache(maxsize=256)  # screens poll with the same few playlists all day
def _from_store(params: tuple[tuple[str, str], ...], today: date) -> TvConfig:
    return _parsed("?" + urlencode(params), today)


@functools.lru_cache(maxsize=256)
def _parsed(query: str, today: date) -> TvConfig:
    service = get_service()
    return parse_tv_query(query, list(service.properties), today, service.settings)[0]


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
    Output(I.PANELS, "children"),
    Input(I.URL, "search"),
)
def configure(search: str | None) -> tuple[Any, ...]:
    """Read the playlist and timings from the URL (settings give the defaults)."""
    service = get_service()
    properties = list(service.properties)
    pinned = pinned_query()  # a TV link shows its own playlist, whatever its URL says
    config, notes = parse_tv_query(search or "" if pinned is None else pinned, properties,
                                   today_of, service.settings)
    try:
        zone = service.time_zone(service.property_id(config.property))
    except GadashError:
        zone = "UTC"
    data = {**config.__dict__, "screens": list(config.screens), "time_zone": zone}
    reload_ms = int(config.reload_hours * 3_600_000)
    panels = []
    for screen in config.screens:
        if panel_screen_id(screen) is None:
            continue
        try:
            title = panel_of(screen, config.property, config.range, config.compare).name
        except GadashError:
            title = screen  # its body says what is wrong
        panels.append(panel_screen(screen, title))
    return (
        data, config.property, " · ".join(notes),
        config.refresh * 1000, False,
        config.realtime * 1000, not {"realtime", "trending"} & set(config.screens),
        config.rotate * 1000, len(config.screens) < 2,
        max(reload_ms, 60_000), reload_ms == 0, panels,
    )


def _status(ok: bool, label: str, error: str = "", short: str = "") -> dict[str, Any]:
    """What the browser needs for the stale mark: ``short`` for the header (e.g. "GA
    not answering"), ``error`` for the small detail under it."""
    return {"ok": ok, "label": label, "error": error, "short": short,
            "at": datetime.now(UTC).isoformat(timespec="seconds")}


def _failed(previous: dict[str, Any] | None, exc: GadashError) -> dict[str, Any]:
    label = (previous or {}).get("label", "")
    return _status(False, label, exc.message, getattr(exc, "short", exc.title))


@dataclass(frozen=True)
class Plan:
    """What a playlist's overview asks GA today; the same for every poll of the day."""

    ranges: tuple[DateRange, ...]
    query: ReportQuery
    key: str  # the query's cache key
    zone: str
    partial: bool = False  # the period is not over


# Plans by playlist, day and hour (a period that ends today is compared like for like,
# to the hour), re-made every minute (fields and time zones can change).
_PLANS: Recent[tuple[TvConfig, date, int], Plan] = Recent(60, size=256)


def _plan(config: TvConfig) -> Plan:
    service = get_service()
    property_id = service.property_id(config.property)
    now = service.now(property_id)
    today = now.date()

    def make() -> Plan:
        state = ViewState(config.property, config.range, config.compare)
        ranges = state.ranges(today)
        query = tv_query(property_id, ranges, service.available_fields(property_id),
                         cutoff=cutoff_hour(ranges, today, now.hour))
        return Plan(ranges, query, query.cache_key(), service.time_zone(property_id),
                    ranges[0].end >= today)

    return _PLANS.get((config, today, now.hour), make)


def _overview(config: TvConfig, latest: bool = False) -> tuple[Drawn, Plan]:
    """The rendering of the cache's current answer for a playlist's overview (drawn at
    most once per answer and process). Raises GadashError when there is none.
    ``latest``: see ``Drawings.once``."""
    plan = _plan(config)
    start, end = plan.ranges[0].start, plan.ranges[0].end
    markers, _ = _MARKERS.get((config.property, start, end), lambda: trend_markers(
        get_store(), config.property, start, end, authors=False))
    # What is drawn: the query (property, ranges, panel) and its annotations; new
    # notes redraw the figure. Drawings are kept by it: another query's never answers.
    signature = "|".join([plan.key, *(f"{m.start}:{m.end}:{m.text}" for m in markers)])
    done = _DRAWN.once(signature, plan.query, lambda result: _draw(
        result, plan.query, plan.ranges, markers, plan.zone, config, signature, plan.partial),
        latest)
    return done, plan


@callback(
    Output(I.STATUS, "data"),
    Output(I.updated("overview"), "children"),
    Output(I.updated("pages"), "children"),
    Output(I.updated("sources"), "children"),
    Output(I.TODRAW, "data"),
    Input(I.REFRESH, "n_intervals"),
    Input(I.CONFIG, "data"),
    State(I.STATUS, "data"),
    State(I.DRAWN, "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, data: dict[str, Any] | None, status: dict[str, Any] | None,
            drawn: str | None) -> tuple[Any, ...]:
    """The overview's poll: is the cache (shared, GA once per TTL) holding what this
    screen drew? It answers with the times and the status, and names the rendering to
    fetch (``draw``) only when the screen shows something else.

    Polls are most of the traffic of an office of screens, so this callback has few
    outputs (Dash's dispatch costs grow with them) and sends no rendering; the first
    poll after a change renders it once per process, for every screen's draw."""
    if not data:
        raise dash.exceptions.PreventUpdate
    config = _config(data)
    try:
        done, plan = _overview(config)
    except GadashError as exc:
        # Never blank: every panel keeps what it shows; the status says why.
        return _failed(status, exc), nu, nu, nu, nu
    # When this poll looked (the data may be older: "updated" says when it changed).
    checked = f"{datetime.now(ZoneInfo(plan.zone or 'UTC')):%H:%M}"
    labels = [f"{u} · checked {checked}" for u in done.updated]
    return (_status(*done.status), *labels, nu if drawn == done.key else done.key)


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
        Output(I.RANGE, "children"),
        Output(I.DRAWN, "data"),
    ]
)


@callback(
    *OVERVIEW_OUTPUTS,
    Input(I.TODRAW, "data"),
    State(I.CONFIG, "data"),
    State(I.DRAWN, "data"),
    prevent_initial_call=True,
)
def draw(todraw: Any, data: dict[str, Any] | None, drawn: Any) -> tuple[Any, ...]:
    """KPIs, trend, channels, top pages and sources: the rendering a poll named, or the
    cache's current one when this process no longer holds that (another worker drew
    it). On an error every panel keeps what it shows (the poll reports it)."""
    if not data or not isinstance(todraw, str):
        raise dash.exceptions.PreventUpdate
    drawn = drawn if isinstance(drawn, str) else None  # the browser's store: any JSON
    config = _config(data)  # a TV link's own playlist, whatever the store says
    done = _DRAWN.named(todraw, drawn, lambda d: d.query_key == _plan(config).key,
                        lambda: _overview(config, latest=True)[0])
    figure: Any = done.figure
    if drawn and drawn.startswith(done.signature + "#") and done.series:
        # Same traces as before: send only their new points.
        figure = Patch()
        for i, (x, y) in enumerate(done.series):
            figure["data"][i]["x"] = x
            figure["data"][i]["y"] = y
    return (*done.tiles, figure, *done.lists, done.range, done.key)


def _status_of(result: ViewResult, label: str) -> tuple[bool, str, str, str]:
    """The stale mark's arguments (gadash.web.pages.tv._status) for an answer."""
    return (not result.error, label.removeprefix("updated "), result.error,
            (result.error_short or "GA error") if result.error else "")


# Renderings by what they show, per process; and annotations, re-read every 10 s.
_DRAWN: Drawings[Drawn] = Drawings(3_600, size=64, shared=Drawn)
_MARKERS: Recent[tuple[str, date, date], tuple[list[Marker], str]] = Recent(10, size=1_000)


def _draw(result: ViewResult, query: ReportQuery, ranges: tuple[DateRange, ...],
          markers: list[Marker], zone: str, config: TvConfig, signature: str,
          partial: bool = False) -> Drawn:
    service = get_service()
    reports = result.reports
    trend_panel = query.panels[0]
    trend = reports[trend_panel]
    tiles = {k.metric: k for k in kpis(trend, list(TV_KPIS))}
    # A period that is not over is compared like for like (to the cutoff hour), or
    # not at all before today's first whole hour: never with whole days.
    compared = len(ranges) > 1 and (query.cutoff is not None or not partial)
    deltas = [delta_text(tiles[m]) if compared else ("", "tv-kpi-delta")
              for m in TV_KPIS]
    earned = outcome_metrics(trend)
    rows = fill_days(trend.rows, ranges, not trend.meta.capped,
                     wall_clock(trend.meta.fetched_at, trend.meta.time_zone))
    series = trend_series(rows, TREND_TIME[trend_panel], TV_TREND_METRICS) if len(rows) else []
    label = updated_label(trend, zone)
    top = top_pages(reports["pages"])
    return Drawn(
        key=f"{signature}#{result.version}",
        signature=signature,
        # A sampled answer's figures are estimates: marked as the analyst view marks them.
        tiles=(*[("≈ " if trend.meta.sampling else "") + tiles[m].text for m in TV_KPIS],
               *[d[0] for d in deltas],
               *[d[1] for d in deltas],
               *["tv-kpi" if m in earned else "tv-kpi tv-kpi-off" for m in TV_OPTIONAL_KPIS]),
        figure=tv_trend_figure(rows, trend_panel, markers),
        series=[(Encoded(list(x)), Encoded(list(y))) for x, y in series],
        lists=(Encoded(channels_items(reports["sources"])),
               Encoded(pages_items(top, service.shares(config.property, share_paths(top)),
                                   service.providers)),
               Encoded(sources_items(reports["sources"]))),
        updated=[updated_label(reports[r], zone) for r in (trend_panel, "pages", "sources")],
        range=compact_range(ranges, query.cutoff),
        status=_status_of(result, label),
    )


def _realtime(config: TvConfig, latest: bool = False) -> DrawnRealtime:
    """The rendering of the cache's current realtime answer for a playlist's property.
    Raises GadashError when there is none. ``latest``: see ``Drawings.once``."""
    service = get_service()
    property_id = service.property_id(config.property)
    query = _realtime_query(property_id)
    zone = service.time_zone(property_id)
    return _RT_DRAWN.once(property_id, query,
                          lambda result: _draw_realtime(result, property_id, zone), latest)


@functools.lru_cache(maxsize=64)
def _realtime_query(property_id: str) -> ReportQuery:
    return ReportQuery(property_id, REALTIME_PANELS, ())


@callback(
    Output(I.RT_STATUS, "data"),
    Output(I.RT_TODRAW, "data"),
    Input(I.REALTIME_TICK, "n_intervals"),
    Input(I.CONFIG, "data"),
    State(I.RT_STATUS, "data"),
    State(I.SPARK_DRAWN, "data"),
    prevent_initial_call=True,
)
def refresh_realtime(_n: int | None, data: dict[str, Any] | None,
                     status: dict[str, Any] | None, drawn: Any) -> tuple[Any, ...]:
    """Active users of the last 30 minutes, polled on the shorter realtime interval:
    like the overview's poll, it answers with the status and names the rendering to
    fetch (``draw_realtime``) only when the screen shows something else."""
    config = _config(data)  # checked like a URL; a TV link's own playlist
    if "realtime" not in config.screens:
        raise dash.exceptions.PreventUpdate
    try:
        done = _realtime(config)
    except GadashError as exc:
        return _failed(status, exc), nu
    return _status(*done.status), nu if drawn == done.key else done.key


@callback(
    Output(I.ACTIVE, "children"),
    Output(I.SPARK, "figure"),
    Output(I.NOW_PAGES, "children"),
    Output(I.updated("realtime"), "children"),
    Output(I.SPARK_DRAWN, "data"),
    Input(I.RT_TODRAW, "data"),
    State(I.CONFIG, "data"),
    State(I.SPARK_DRAWN, "data"),
    prevent_initial_call=True,
)
def draw_realtime(todraw: Any, data: dict[str, Any] | None, drawn: Any) -> tuple[Any, ...]:
    """The active users, their bars and pages now: the rendering a poll named, or the
    cache's current one when this process no longer holds that."""
    if not data or not isinstance(todraw, str):
        raise dash.exceptions.PreventUpdate
    config = _config(data)  # a TV link's own playlist, whatever the store says
    done = _RT_DRAWN.named(
        todraw, drawn,
        lambda d: d.key.startswith(f"{get_service().property_id(config.property)}#"),
        lambda: _realtime(config, latest=True))
    figure: Any = done.figure
    if drawn:  # the bars are drawn: send only their heights
        figure = Patch()
        figure["data"][0]["y"] = done.y
    return done.active, figure, done.items, done.label, done.key


_RT_DRAWN: Drawings[DrawnRealtime] = Drawings(600, size=64, shared=DrawnRealtime)


def _draw_realtime(result: ViewResult, property_id: str, zone: str) -> DrawnRealtime:
    reports = result.reports
    realtime = reports["realtime"]
    x, y = spark_series(realtime)
    total = realtime.totals["activeUsers"]
    label = updated_label(realtime, zone)
    return DrawnRealtime(
        key=f"{property_id}#{result.version}",
        active=f"{int(total.iloc[0]) if len(total) else 0:,}",
        figure=spark_figure(x, y), y=Encoded(y),
        items=Encoded(now_pages_items(reports["realtime_pages"])),
        label=label,
        status=_status_of(result, label))


@callback(
    Output(I.TRENDING, "children"),
    Output(I.updated("trending"), "children"),
    Output(I.TRENDING_DRAWN, "data"),
    Input(I.REALTIME_TICK, "n_intervals"),
    Input(I.CONFIG, "data"),
    State(I.TRENDING_DRAWN, "data"),
    prevent_initial_call=True,
)
def refresh_trending(_n: int | None, data: dict[str, Any] | None, drawn: Any
                     ) -> tuple[Any, ...]:
    """Pages read far above their usual rate, on the realtime interval. A poll that finds
    the answers the screen shows answers without reading them; on an error the list
    stays and its line says why."""
    config = _config(data)
    if "trending" not in config.screens:
        raise dash.exceptions.PreventUpdate
    service = get_service()
    try:
        property_id = service.property_id(config.property)
        zone = service.time_zone(property_id)
        queries = trending_queries(property_id, service.today(property_id),
                                   service.available_fields(property_id))

        def answers() -> tuple[str, bool]:  # which cached answers exist; all fresh?
            versions = [service.view_version(q) for q in queries]
            return f"{property_id}#{'|'.join(v or '' for v in versions)}", all(versions)

        key, fresh = answers()
        done = _TRENDING.peek(key) if fresh else None
        if done is None:
            pages = service.trending(property_id, warm=True)
            shares = service.shares(config.property, [p.path for p in pages if p.path])
            key, _ = answers()  # the versions just drawn
            label = f"updated {datetime.now(ZoneInfo(zone or 'UTC')):%H:%M}"
            done = (trending_items(pages, shares, service.providers), label)
            _TRENDING.put(key, done)
    except GadashError as exc:
        why = getattr(exc, "short", "") or exc.message
        return nu, f"{why}: showing what was last drawn", nu
    if drawn == key:
        return nu, nu, nu
    return done[0], done[1], key


_TRENDING: Recent[str, tuple[Any, str]] = Recent(600, size=64)


@callback(
    Output({"type": I.PANEL_BODY, "panel": ALL}, "children"),
    Output({"type": I.PANEL_UPDATED, "panel": ALL}, "children"),
    Output(I.PANELS_DRAWN, "data"),
    Input(I.REFRESH, "n_intervals"),
    Input(I.CONFIG, "data"),
    State(I.PANELS_DRAWN, "data"),
)
def refresh_panels(_n: int | None, data: dict[str, Any] | None, drawn: Any
                   ) -> tuple[Any, ...]:
    """The panels' screens, on the overview's interval. Each panel is one cached query
    (kept warm), so every screen of it costs one GA call per refresh between them; a
    poll that finds the answer a screen shows sends nothing but the time. On an error
    the panel keeps what it shows and its line says why."""
    if not data:
        raise dash.exceptions.PreventUpdate
    config = _config(data)  # a TV link's own playlist, whatever the request says
    drawn = drawn if isinstance(drawn, dict) else {}
    service = get_service()
    # Only the playlist's own panel screens are drawn: a request naming others (or
    # more of them) gets nothing for those.
    drawn_now: dict[str, tuple[Any, str, str]] = {}
    for screen in config.screens:
        if panel_screen_id(screen) is not None:
            drawn_now[screen] = draw_panel_screen(screen, config, drawn.get(screen), service)

    def ids(n: int) -> list[Any]:
        return [o.get("id", {}).get("panel") if isinstance(o, dict) else None
                for o in ctx.outputs_list[n]]

    bodies = [drawn_now[s][0] if s in drawn_now else nu for s in ids(0)]
    lines = [drawn_now[s][1] if s in drawn_now else nu for s in ids(1)]
    versions = {s: d[2] for s, d in drawn_now.items()}
    return bodies, lines, nu if versions == drawn else versions


def draw_panel_screen(screen: Any, config: TvConfig, drawn: Any, service: Any
                      ) -> tuple[Any, str, str]:
    """One panel screen's body (or nothing new), its updated line and its version."""
    previous = drawn if isinstance(drawn, str) else ""
    try:
        shown = panel_of(str(screen), config.property, config.range, config.compare)
        property_id = service.property_id(shown.state.property)
        zone = service.time_zone(property_id)
        checked = f"checked {datetime.now(ZoneInfo(zone or 'UTC')):%H:%M}"
        query = shown.state.query(property_id, service.today(property_id))
        version = service.view_version(query)
        if version is not None and previous.startswith(f"{version}@"):
            service.keep_warm(query.cache_key(), query)
            return nu, f"{previous.split('@', 1)[1]} · {checked}", previous
        answer = ask(shown.state, warm=True)
    except QueryError as exc:  # deleted, of another property: no old numbers kept
        return html.P(exc.message, className="tv-empty"), "", ""
    except GadashError as exc:
        why = getattr(exc, "short", "") or exc.message
        if previous:
            return nu, f"{why}: showing what was last drawn", previous
        return html.P(exc.message, className="tv-empty"), "", ""
    label = updated_label(answer.report, zone)
    body = [html.Div(compact_range(answer.ranges, answer.cutoff), className="tv-panel-range"),
            *panel_body(answer.table, shown.state.exploration, answer.fields, answer.currency)]
    return body, f"{label} · {checked}", f"{answer.result.version}@{label}"


clientside_callback(
    ClientsideFunction(namespace="gadashTv", function_name="rotate"),
    # assets/tv.js returns one class per screen, in SCREENS order, then the panels'
    [Output(I.screen(name), "className") for name in SCREENS]
    + [Output({"type": I.PANEL, "panel": ALL}, "className"), Output(I.DOTS, "children")],
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
