"""Pure figure builders: DataFrame in, a Plotly figure as a plain dict out (light and
dark themes).

Plain dicts, not ``go.Figure``: plotly's graph objects validate every property and
copy the whole template on each build (5-15 ms a figure, the bulk of a TV redraw),
while ``dcc.Graph`` takes the same JSON as a dict. The templates are turned into
JSON once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from gadash.core.frames import OTHER_TIP, Marker, is_other
from gadash.core.insights.rules import Band
from gadash.core.periods import Bucket, compare_buckets
from gadash.core.transforms import BUCKET, align_previous, split_ranges

Figure = dict[str, Any]  # {"data": [traces], "layout": {...}}, as dcc.Graph takes it


@dataclass(frozen=True)
class Theme:
    template: str
    font_size: int
    accent: str
    second: str
    muted: str
    paper: str
    alert: str = "#c5221f"  # unusual days


LIGHT = Theme("plotly_white", 13, "#1a73e8", "#e8710a", "#9aa0a6", "rgba(0,0,0,0)")
DARK = Theme("plotly_dark", 22, "#8ab4f8", "#fdd663", "#9aa0a6", "rgba(0,0,0,0)", "#f28b82")


@functools.cache
def template(name: str) -> dict[str, Any]:
    """A named plotly template as JSON, built once (plotly copies it on every use)."""
    import plotly.io as pio

    return dict(pio.templates[name].to_plotly_json())


def figure(theme: Theme, data: list[dict[str, Any]], **layout: Any) -> Figure:
    """A figure in the theme: its traces and layout settings over the common ones."""
    return {"data": data, "layout": {
        "template": template(theme.template),
        "paper_bgcolor": theme.paper,
        "plot_bgcolor": theme.paper,
        "font": {"size": theme.font_size},
        "margin": {"l": 48, "r": 16, "t": 24, "b": 40},
        "legend": {"orientation": "h", "y": 1.08, "x": 0},
        "hovermode": "x unified",
        **layout,
    }}


def message_figure(text: str, theme: Theme = LIGHT) -> Figure:
    """A figure that says something instead of drawing nothing."""
    note = {"text": text, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
            "yref": "paper", "font": {"size": theme.font_size + 2, "color": theme.muted}}
    return figure(theme, [], annotations=[note], xaxis={"visible": False},
                  yaxis={"visible": False}, hovermode=False)


TREND_LABELS = {"sessions": "Sessions", "totalUsers": "Users", "screenPageViews": "Page views"}
# Each trend panel's time dimension, and how a point's time reads in a tooltip.
_HOVER_FORMAT = {"dateHour": "%d %b %Y %H:00", "date": "%a %d %b %Y",
                 "isoYearIsoWeek": "week of %d %b %Y", "yearMonth": "%B %Y"}


def _buckets(frame: pd.DataFrame) -> list[Bucket | None]:
    """Each point's bucket (fill_days's), None where it is not known."""
    if BUCKET not in frame.columns:
        return [None] * len(frame)
    return [b if isinstance(b, Bucket) else None for b in frame[BUCKET]]


def _partial(frame: pd.DataFrame) -> list[bool]:
    return [b is not None and b.partial for b in _buckets(frame)]


def _segments(y: list[float], partial: list[bool]) -> tuple[list[float | None],
                                                             list[float | None]]:
    """The solid line (full points) and the dotted one (each partial point and the
    full points beside it, so the line reaches it)."""
    near = [p or (i > 0 and partial[i - 1]) or (i + 1 < len(partial) and partial[i + 1])
            for i, p in enumerate(partial)]
    solid = [None if p else v for v, p in zip(y, partial, strict=True)]
    dotted = [v if n else None for v, n in zip(y, near, strict=True)]
    return solid, dotted


def trend_series(rows: pd.DataFrame, time_col: str, metrics: tuple[str, ...]
                 ) -> list[tuple[list[str], list[float | None]]]:
    """The trend's traces as (x, y) lists, in trend_figure's order: per metric, the
    current period (its full points) then (when comparing) the comparison aligned to
    it; then, when the current period has partial points, per metric their dotted
    segments and their hollow points.

    Cheap enough to patch a drawn figure with on every refresh.
    """
    current, previous = split_ranges(rows)
    shifted = align_previous(current, previous, time_col)
    partial = _partial(current)
    x = current[time_col].dt.strftime("%Y-%m-%d %H:%M").tolist()
    series: list[tuple[list[str], list[float | None]]] = []
    extra: list[tuple[list[str], list[float | None]]] = []
    for metric in metrics:
        y: list[float | None] = [float(v) for v in current[metric]]
        solid, dotted = _segments([float(v) for v in current[metric]], partial)
        series.append((x, solid if any(partial) else y))
        if not shifted.empty:
            series.append((shifted[time_col].dt.strftime("%Y-%m-%d %H:%M").tolist(),
                           [float(v) for v in shifted[metric]]))
        if any(partial):
            extra.append((x, dotted))
            extra.append(([t for t, p in zip(x, partial, strict=True) if p],
                          [v for v, p in zip(y, partial, strict=True) if p]))
    return series + extra


def _time(day: date | pd.Timestamp) -> str:
    return pd.Timestamp(day).strftime("%Y-%m-%d %H:%M")


def marker_shapes(markers: list[Marker], theme: Theme) -> list[dict[str, Any]]:
    """Annotations as shaded days or spans, the whole height of the plot."""
    return [{"type": "rect", "xref": "x", "yref": "y domain", "y0": 0, "y1": 1,
             "x0": _time(m.start), "x1": _time(pd.Timestamp(m.end) + pd.Timedelta(days=1)),
             "fillcolor": theme.second, "opacity": 0.12, "line": {"width": 0},
             "layer": "below"} for m in markers]


def marker_trace(markers: list[Marker], top: float, theme: Theme) -> dict[str, Any]:
    """The annotations' flags on top of the plot, each showing its note."""
    return {
        "type": "scatter", "x": [_time(m.start) for m in markers],
        "y": [top] * len(markers), "mode": "markers", "name": "Notes",
        "marker": {"symbol": "triangle-down", "size": 12, "color": theme.second},
        "text": [m.text for m in markers],
        "customdata": [f"{m.start:%d %b %Y}" + ("" if m.end == m.start
                                                 else f" – {m.end:%d %b %Y}") for m in markers],
        "hovertemplate": "%{customdata}: %{text}<extra></extra>",
    }


def unusual_trace(unusual: list[Band], theme: Theme) -> dict[str, Any]:
    """Unusual days as rings on the sessions line, their tooltip saying how far off."""
    return {
        "type": "scatter", "x": [_time(b.day) for b in unusual],
        "y": [b.value for b in unusual], "mode": "markers", "name": "Unusual days",
        "marker": {"symbol": "circle-open", "size": 16, "line": {"width": 3},
                   "color": theme.alert},
        "text": ["<br>".join(b.lines(f"{b.day:%A}")) for b in unusual],
        "hovertemplate": "Unusual day: %{text}<extra></extra>",
    }


def _comparison_text(shifted: pd.DataFrame, fmt: str) -> list[str]:
    """The comparison's points as their tooltips name them: the day (or week, month)
    they stand for, and whether it was partial."""
    out = []
    for when, b in zip(shifted["original"].dt.strftime(fmt), _buckets(shifted), strict=True):
        out.append(f"{when} ({b.describe()})" if b is not None and b.partial else when)
    return out


def _comparisons(current: pd.DataFrame, shifted: pd.DataFrame, time_col: str, metric: str
                 ) -> list[str]:
    """Per current point, how it compares with the comparison's point at its step
    where either is partial (per day when their lengths differ); "" elsewhere, where
    the two values side by side say it."""
    if shifted.empty:
        return [""] * len(current)
    before = {t: (float(v), b) for t, v, b in zip(
        shifted[time_col], shifted[metric], _buckets(shifted), strict=True)}
    out = []
    for t, v, this in zip(current[time_col], current[metric], _buckets(current),
                          strict=True):
        prev, that = before.get(t, (None, None))
        if this is None or not (this.partial or (that is not None and that.partial)):
            out.append("")
        else:
            out.append(compare_buckets(metric, float(v), this, prev, that))
    return out


def trend_figure(rows: pd.DataFrame, time_col: str, metrics: tuple[str, ...] = (
        "sessions", "totalUsers"), theme: Theme = LIGHT, markers: list[Marker] | None = None,
        unusual: list[Band] | None = None) -> Figure:
    """Metrics over time; the comparison period as dotted lines on the same axis;
    partial points (a week or month cut by the range, today, the current hour) hollow
    on a dotted segment, their tooltip saying how partial and comparing per day;
    annotations as shaded days with a flag that shows the note; unusual days ringed."""
    current, previous = split_ranges(rows)
    drawn = [m for m in metrics if m in current.columns]
    if current.empty or not current[drawn].fillna(0).to_numpy().any():
        # A line along zero with "200m" ticks says nothing; a sentence does.
        return message_figure("No data for this period", theme)
    shifted = align_previous(current, previous, time_col)
    colors = dict(zip(metrics, [theme.accent, theme.second], strict=False))
    series = iter(trend_series(rows, time_col, tuple(colors)))
    fmt = _HOVER_FORMAT.get(time_col, "%a %d %b %Y")
    current_times = current[time_col].dt.strftime(fmt).tolist()
    partial = any(_partial(current))
    prev_partial = [6 + theme.font_size // 3 if p else 0 for p in _partial(shifted)]
    traces: list[dict[str, Any]] = []
    compared = {m: _comparisons(current, shifted, time_col, m) for m in colors}
    for metric, color in colors.items():
        name = TREND_LABELS.get(metric, metric)
        x, y = next(series)
        traces.append({
            "type": "scatter", "x": x, "y": y, "name": name, "mode": "lines",
            "line": {"color": color, "width": 2.5},
            "customdata": [f"{w}<br>{c}" if c else w
                           for w, c in zip(current_times, compared[metric], strict=True)],
            "legendgroup": metric,
            "hovertemplate": f"%{{y:,}} {name.lower()}, %{{customdata}}<extra></extra>",
        })
        if not shifted.empty:
            x, y = next(series)
            traces.append({
                "type": "scatter", "x": x, "y": y, "name": f"{name} (comparison)",
                "mode": "lines+markers" if any(prev_partial) else "lines",
                "line": {"color": color, "width": 1.5, "dash": "dot"},
                "marker": {"symbol": "circle-open", "size": prev_partial,
                           "line": {"width": 1.5}},
                "customdata": _comparison_text(shifted, fmt),
                "hovertemplate": f"%{{y:,}} {name.lower()} on %{{customdata}}<extra></extra>",
            })
    if partial:
        for metric, color in colors.items():
            name = TREND_LABELS.get(metric, metric)
            x, y = next(series)
            traces.append({
                "type": "scatter", "x": x, "y": y, "name": f"{name} (partial)",
                "mode": "lines", "line": {"color": color, "width": 2.5, "dash": "dot"},
                "legendgroup": metric, "showlegend": False, "hoverinfo": "skip",
            })
            x, y = next(series)
            traces.append({
                "type": "scatter", "x": x, "y": y, "name": f"{name} (partial)",
                "mode": "markers", "legendgroup": metric, "showlegend": False,
                "marker": {"symbol": "circle-open", "size": 8 + theme.font_size // 3,
                           "color": color, "line": {"width": 2.5}},
                "customdata": [f"{w}<br>{b.describe()}" + (f"<br>{c}" if c else "")
                               for w, b, c in zip(current_times, _buckets(current),
                                                  compared[metric], strict=True)
                               if b is not None and b.partial],
                "hovertemplate": f"%{{y:,}} {name.lower()}, %{{customdata}}<extra></extra>",
            })
    top = max([float(current[m].max()) for m in metrics if m in current.columns] + [1.0])
    if markers:
        traces.append(marker_trace(markers, top * 1.08, theme))
    if unusual:
        traces.append(unusual_trace(unusual, theme))
    return figure(theme, traces, shapes=marker_shapes(markers or [], theme),
                  yaxis={"rangemode": "tozero", "tickformat": ",~s"})


def _targets(labels: pd.Series) -> list[str]:
    """Click targets: each label, except GA's (other) row, which is no value to filter by."""
    return ["" if is_other(v) else str(v) for v in labels]


def _hints(labels: pd.Series) -> list[str]:
    return [OTHER_TIP if is_other(v) else "click to filter" for v in labels]


def bar_figure(frame: pd.DataFrame, label_col: str, value_col: str, value_name: str,
               top: int = 10, theme: Theme = LIGHT) -> Figure:
    """Horizontal bars, largest on top; the label is the click target for cross-filtering."""
    if frame.empty:
        return message_figure("No data for this period", theme)
    data = frame.nlargest(top, value_col).iloc[::-1]
    bars = {
        "type": "bar", "x": data[value_col].tolist(), "y": data[label_col].tolist(),
        "orientation": "h", "marker": {"color": theme.accent},
        "customdata": _targets(data[label_col]), "hovertext": _hints(data[label_col]),
        "hovertemplate": f"%{{y}}: %{{x:,}} {value_name}<br>%{{hovertext}}<extra></extra>",
    }
    return figure(theme, [bars], hovermode="closest",
                  margin={"l": 8, "r": 16, "t": 8, "b": 32},
                  xaxis={"tickformat": ",~s"}, yaxis={"automargin": True})


def donut_figure(frame: pd.DataFrame, label_col: str, value_col: str,
                 theme: Theme = LIGHT, clickable: bool = True) -> Figure:
    """Shares as a donut; slices are click targets unless ``clickable`` is False."""
    if frame.empty or frame[value_col].sum() == 0:
        return message_figure("No data for this period", theme)
    pie: dict[str, Any] = {
        "type": "pie", "labels": frame[label_col].tolist(), "values": frame[value_col].tolist(),
        "hole": 0.55, "sort": False,
        "textinfo": "label+percent", "textposition": "outside",  # ink on the card, legible
        "hovertemplate": "%{label}: %{value:,} (%{percent})"
                         + ("<br>%{hovertext}" if clickable else "") + "<extra></extra>",
    }
    if clickable:
        pie |= {"customdata": _targets(frame[label_col]), "hovertext": _hints(frame[label_col])}
    return figure(theme, [pie], hovermode="closest", showlegend=False,
                  margin={"l": 8, "r": 8, "t": 8, "b": 8})
