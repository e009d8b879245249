"""A digest made for one due time, from what the analyst view and Explore show.

A saved view's digest carries the view's KPI tiles with their deltas, the "What
changed" sentences, the period's unusual days and the trend, drawn from the same
Plotly figure the page draws (``render_view``) and turned into a PNG by kaleido with
a headless Chromium (``GADASH_CHROMIUM``, or the one kaleido finds). Its data is one
GA batch call (``core.plans.digest_query``), from the shared cache when another
process asked it already. A panel's digest carries the exploration's totals, its top
rows and its chart.

The period is the view's as it stood when the digest fell due (in the property's
zone), whenever it is sent: a retry in the afternoon sends the morning's numbers.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import warnings
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from gadash.core.catalog import CHANGE_SPLITS, TREND_TIME
from gadash.core.digest import Composed, DigestContent, Tile
from gadash.core.frames import ViewResult
from gadash.core.insights.findings import judged_days, split_changes, what_changed
from gadash.core.insights.rules import Band
from gadash.core.plans import digest_query, trend_panel
from gadash.core.query import DateRange, cutoff_hour, cutoff_note
from gadash.core.transforms import Kpi, delta, explore_table, kpi_delta, kpis
from gadash.core.urls import ViewState, parse_query_string
from gadash.errors import QueryError
from gadash.settings import Settings
from gadash.store.digestrepo import DigestRow
from gadash.store.panels import panel_state
from gadash.store.team import trend_markers, view_url
from gadash.web.components.analyst.render import (
    NOT_YET,
    range_label,
    render_view,
    trend_panel_of,
)
from gadash.web.components.explore import _type as field_type
from gadash.web.components.explore import answer_figure, field_name, format_value
from gadash.web.context import get_service, get_store
from gadash.web.figures import Figure

log = logging.getLogger(__name__)

IMAGE_SIZE = (760, 300)  # CSS pixels, drawn at twice that for sharp screens
IMAGE_SCALE = 2
TOP_ROWS = 10  # a panel's rows in its digest


def base_url(settings: Settings) -> str:
    """Where links in digests point: GADASH_PUBLIC_URL, else the address gadash
    listens on."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


_DRAWING = threading.Lock()  # one kaleido browser a process, one drawing at a time
_STARTED: list[bool] = []


def to_png(figure: Figure, settings: Settings) -> tuple[bytes | None, str]:
    """The figure as a PNG (kaleido, headless Chromium), or None and why not. The
    browser starts with the first drawing (about 6 s) and stays for the next ones
    (about 0.5 s each) until the process exits."""
    if settings.chromium:  # the setting wins over the environment
        os.environ["BROWSER_PATH"] = str(settings.chromium)
    fig = {"data": figure["data"], "layout": {**figure.get("layout", {}),
                                              "paper_bgcolor": "#ffffff",
                                              "plot_bgcolor": "#ffffff"}}
    width, height = IMAGE_SIZE
    try:
        with _DRAWING, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import kaleido
            import plotly.io as pio

            if not _STARTED:
                kaleido.start_sync_server(silence_warnings=True)
                atexit.register(kaleido.stop_sync_server, silence_warnings=True)
                _STARTED.append(True)
            return pio.to_image(fig, format="png", width=width, height=height,
                                scale=IMAGE_SCALE), ""
    except Exception as exc:  # noqa: BLE001 -- kaleido and Chromium fail in many ways
        log.warning("digest chart not drawn: %s: %s", type(exc).__name__, exc)
        return None, (f"The trend picture could not be drawn ({type(exc).__name__}); the "
                      "numbers are complete.")


def _late(due: datetime, zone: str) -> str:
    local = due.astimezone(ZoneInfo(zone or "UTC"))
    return (f"Due {local:%A %d %B %H:%M} ({zone}); sent late: gadash was not running "
            "then. The numbers are those of that time's period.")


def compose_digest(server: Flask, digest: DigestRow, due: datetime, late: bool) -> Composed:
    """The digest for ``due``. Raises GadashError (GA, the database, a source that
    was deleted), which the sender records and retries."""
    with server.app_context():
        kind, _, ref = digest.source.partition(":")
        if kind == "view":
            return _view_digest(digest, ref, due, late)
        if kind == "panel" and ref.isascii() and ref.isdigit():
            return _panel_digest(digest, int(ref), due, late)
        raise QueryError(f"Digest {digest.id} names {digest.source!r}, which is no saved "
                         "view or panel.")


def _due_where(property_name: str, due: datetime) -> tuple[str, str, datetime]:
    """The property's id and zone, and the due time on its clock."""
    service = get_service()
    property_id = service.property_id(property_name)
    zone = service.time_zone(property_id)
    return property_id, zone, due.astimezone(ZoneInfo(zone or "UTC"))


def _view_digest(digest: DigestRow, slug: str, due: datetime, late: bool) -> Composed:
    service, db = get_service(), get_store()
    view = db.views.get(slug)
    if view is None:
        raise QueryError(f"The saved view {slug!r} of digest “{digest.name}” was deleted: "
                         "pick another view for it on /digests.")
    properties = list(service.properties)
    if view.property not in properties:
        raise QueryError(f"The view “{view.name}” is of {view.property!r}, which this "
                         "gadash does not show.")
    property_id, zone, local = _due_where(view.property, due)
    today = local.date()
    state, _ = parse_query_string(view_url(view.query, view.grammar)[1:], properties, today)
    ranges = state.ranges(today)
    comparing = len(ranges) > 1
    partial = ranges[0].end >= today
    cutoff = cutoff_hour(ranges, today, local.hour)
    query = digest_query(property_id, ranges, state.filters,
                         service.available_fields(property_id), state.grain, cutoff)
    result = service.view(query)
    trend = trend_panel_of(result.reports)
    like_for_like = partial and comparing and cutoff is not None
    not_yet = partial and comparing and not like_for_like
    tiles = []
    for k in kpis(trend):
        delta, tone = kpi_delta(k) if comparing and not not_yet else (
            (NOT_YET, "flat") if not_yet else ("", "flat"))
        tiles.append(Tile(k.label, f"≈ {k.text}" if trend.meta.sampling else k.text,
                          delta, tone))
    notes: list[str] = []
    if like_for_like and cutoff is not None:
        notes.append(f"Compared like for like: {cutoff_note(ranges, cutoff)}.")
    notes += [n for r in result.reports.values() for n in r.meta.quality_notes()
              if n not in notes]
    if stale := result.stale_note(trend.meta.time_zone):
        notes.append(stale)
    changes: list[tuple[str, tuple[str, ...]]] = []
    if comparing and not not_yet:
        if _splittable(result):
            found = what_changed(split_changes(result.reports))
        else:  # the page's own reports: a second batch call, rarely
            found, _ = service.changes(property_id, ranges, state.filters, cutoff)
        changes = [(g.headline, tuple(f.text for f in g.findings)) for g in found.groups]
    unusual = []
    bands = []
    if "baseline" in result.reports and trend_panel(state.grain, ranges[0]) == "trend":
        bands = [b for b in judged_days(result.reports["baseline"], ranges[0].start,
                                        ranges[0].end, today) if b.unusual]
        unusual = [_unusual_line(b) for b in bands]
    markers, missing = trend_markers(db, view.property, ranges[0].start, ranges[0].end,
                                     authors=False)
    if missing:
        notes.append(missing)
    drawn = render_view(ViewResult({trend.panel: trend}), state, ranges, markers,
                        partial=partial, unusual=bands, cutoff=cutoff)
    png, why = to_png(drawn.figures["trend"], service.settings)
    if why:
        notes.append(why)
    link = f"{base_url(service.settings)}/?{exact_view(state, ranges)}"
    metric_words = ", ".join(k.label.lower() for k in kpis(trend)[:2])
    content = DigestContent(
        name=digest.name, property_name=view.property, period=range_label(ranges), link=link,
        tiles=tuple(tiles), changes=tuple(changes), unusual=tuple(unusual),
        notes=tuple(notes), late=_late(due, zone) if late else "",
        image_alt=f"Trend of {metric_words} by {TREND_TIME[trend.panel]}, "
                  f"{range_label(ranges)}")
    return Composed(content, png)


def _splittable(result: ViewResult) -> bool:
    """Whether the reports the digest sums its channels, countries and devices out of are
    whole: every row fetched, none folded into "(other)" or withheld by GA. Otherwise a
    value's sum would be short, and the analyst view's own reports are asked instead."""
    for panel in set(CHANGE_SPLITS.values()):
        frame = result.reports.get(panel)
        if frame is not None and (frame.meta.row_count > len(frame.rows) or frame.meta.capped
                                  or frame.meta.other_row or frame.meta.thresholded):
            return False
    return True


def _unusual_line(band: Band) -> str:
    """"Thursday 3 December: sessions 3.2x the usual Thursday (1,972 against 498–724
    expected; 36.0 spreads above the median of 8 earlier Thursdays)"."""
    weekday = f"{band.day:%A}"
    how, expected, basis = band.lines(weekday)
    return f"{weekday} {band.day.day} {band.day:%B}: sessions {how} ({expected}; {basis})"


def exact_view(state: ViewState, ranges: tuple[DateRange, ...]) -> str:
    """The view's query string with its dates written out: it shows the digest's
    numbers whenever it is opened."""
    return replace(state, range=ranges[0].to_param()).to_query_string().lstrip("?")


def _panel_digest(digest: DigestRow, panel_id: int, due: datetime, late: bool) -> Composed:
    service, db = get_service(), get_store()
    row = db.panels.get(panel_id)
    if row is None:
        raise QueryError(f"Panel {panel_id} of digest “{digest.name}” was deleted: pick "
                         "another panel or view for it on /digests.")
    properties = list(service.properties)
    property_id, zone, local = _due_where(row.property, due)
    today = local.date()
    state = panel_state(row, properties, today)
    e = state.exploration
    reasons = service.incompatible(property_id, e)
    if reasons:
        raise QueryError(" ".join(reasons))
    query = state.query(property_id, today, local.hour)
    ranges = query.ranges
    result = service.view(query)
    report = result.reports["explore"]
    table = explore_table(report, e.dimensions, e.metrics, len(ranges) > 1, e.series, ranges)
    fields = service.fields(property_id)
    currency = report.meta.currency
    tiles = []
    for m in table.metrics:
        value, before = table.totals.get(m), table.previous_totals.get(m)
        kind = field_type(fields, m)
        tile_delta, tone = "", "flat"
        if table.comparing:
            change = delta(value, before) if value is not None else None
            tile_delta, tone = kpi_delta(Kpi(m, m, value, "", change, True, "", before,
                                             format_value(kind, before, currency, m)))
        tiles.append(Tile(field_name(fields, m), format_value(kind, value, currency, m),
                          tile_delta, tone))
    lines = []
    metric = e.sort if e.sort in e.metrics else e.metrics[0]
    kind = field_type(fields, metric)
    if table.dimensions:
        for _, r in table.rows.head(TOP_ROWS).iterrows():
            label = " · ".join(str(r[d]) for d in table.dimensions)
            lines.append(f"{label}: {format_value(kind, r[metric], currency, metric)}")
    notes = list(report.meta.quality_notes())
    if query.cutoff is not None:
        notes.append(f"Compared like for like: {cutoff_note(ranges, query.cutoff)}.")
    png, why = (None, "")
    if e.drawn_as not in ("number", "table") and not table.rows.empty:
        png, why = to_png(answer_figure(table, e, fields), service.settings)
    if why:
        notes.append(why)
    link = (f"{base_url(service.settings)}/explore"
            f"{replace(state, range=ranges[0].to_param()).to_query_string()}")
    content = DigestContent(
        name=digest.name, property_name=row.property, period=range_label(ranges), link=link,
        tiles=tuple(tiles), notes=tuple(notes), top=tuple(lines),
        top_title=f"Top {len(lines)} by {field_name(fields, metric)}" if lines else "",
        late=_late(due, zone) if late else "", image_alt=f"{row.name}, {range_label(ranges)}")
    return Composed(content, png)


__all__ = ["base_url", "compose_digest", "exact_view", "to_png"]
