"""Pure figure builders: DataFrame in, ``go.Figure`` out (light and dark themes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from gadash.frames import OTHER_TIP, is_other
from gadash.insights import Band
from gadash.transforms import align_previous, split_ranges


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


def _layout(fig: go.Figure, theme: Theme, **extra: object) -> go.Figure:
    settings: dict[str, object] = {
        "template": theme.template,
        "paper_bgcolor": theme.paper,
        "plot_bgcolor": theme.paper,
        "font": {"size": theme.font_size},
        "margin": {"l": 48, "r": 16, "t": 24, "b": 40},
        "legend": {"orientation": "h", "y": 1.08, "x": 0},
        "hovermode": "x unified",
    }
    fig.update_layout(**{**settings, **extra})
    return fig


def message_figure(text: str, theme: Theme = LIGHT) -> go.Figure:
    """A figure that says something instead of drawing nothing."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": theme.font_size + 2, "color": theme.muted})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, theme, hovermode=False)


TREND_LABELS = {"sessions": "Sessions", "totalUsers": "Users", "screenPageViews": "Page views"}
# Each trend panel's time dimension, and how a point's time reads in a tooltip.
TREND_TIME = {"trend_hourly": "dateHour", "trend": "date", "trend_week": "isoYearIsoWeek",
              "trend_month": "yearMonth"}
_HOVER_FORMAT = {"dateHour": "%d %b %Y %H:00", "date": "%a %d %b %Y",
                 "isoYearIsoWeek": "week of %d %b %Y", "yearMonth": "%B %Y"}


def trend_series(rows: pd.DataFrame, time_col: str, metrics: tuple[str, ...]
                 ) -> list[tuple[list[str], list[float]]]:
    """The trend's traces as (x, y) lists, in trend_figure's order: per metric, the
    current period then (when comparing) the comparison aligned to it.

    Cheap enough to patch a drawn figure with on every refresh.
    """
    current, previous = split_ranges(rows)
    shifted = align_previous(current, previous, time_col)
    series = []
    for metric in metrics:
        series.append((current[time_col].dt.strftime("%Y-%m-%d %H:%M").tolist(),
                       current[metric].astype(float).tolist()))
        if not shifted.empty:
            series.append((shifted[time_col].dt.strftime("%Y-%m-%d %H:%M").tolist(),
                           shifted[metric].astype(float).tolist()))
    return series


@dataclass(frozen=True)
class Marker:
    """An annotation on a trend: a day (start == end) or a span, and its note."""

    start: date
    end: date
    text: str


def add_markers(fig: go.Figure, markers: list[Marker], top: float, theme: Theme) -> None:
    """Annotations as shaded days or spans, with a flag on top that shows the note."""
    if not markers:
        return
    for m in markers:
        fig.add_vrect(x0=pd.Timestamp(m.start), x1=pd.Timestamp(m.end) + pd.Timedelta(days=1),
                      fillcolor=theme.second, opacity=0.12, line_width=0, layer="below")
    fig.add_scatter(
        x=[pd.Timestamp(m.start).strftime("%Y-%m-%d %H:%M") for m in markers],
        y=[top] * len(markers), mode="markers", name="Notes",
        marker={"symbol": "triangle-down", "size": 12, "color": theme.second},
        text=[m.text for m in markers],
        customdata=[f"{m.start:%d %b %Y}" + ("" if m.end == m.start else f" – {m.end:%d %b %Y}")
                    for m in markers],
        hovertemplate="%{customdata}: %{text}<extra></extra>",
    )


def add_unusual(fig: go.Figure, unusual: list[Band], theme: Theme) -> None:
    """Unusual days as rings on the sessions line, their tooltip saying how far off."""
    if not unusual:
        return
    fig.add_scatter(
        x=[pd.Timestamp(b.day).strftime("%Y-%m-%d %H:%M") for b in unusual],
        y=[b.value for b in unusual], mode="markers", name="Unusual days",
        marker={"symbol": "circle-open", "size": 16, "line": {"width": 3},
                "color": theme.alert},
        text=["<br>".join(b.lines(f"{b.day:%A}")) for b in unusual],
        hovertemplate="Unusual day: %{text}<extra></extra>",
    )


def trend_figure(rows: pd.DataFrame, time_col: str, metrics: tuple[str, ...] = (
        "sessions", "totalUsers"), theme: Theme = LIGHT, markers: list[Marker] | None = None,
        unusual: list[Band] | None = None) -> go.Figure:
    """Metrics over time; the comparison period as dashed lines on the same axis;
    annotations as shaded days with a flag that shows the note; unusual days ringed."""
    current, previous = split_ranges(rows)
    drawn = [m for m in metrics if m in current.columns]
    if current.empty or not current[drawn].fillna(0).to_numpy().any():
        # A line along zero with "200m" ticks says nothing; a sentence does.
        return message_figure("No data for this period", theme)
    shifted = align_previous(current, previous, time_col)
    series = iter(trend_series(rows, time_col, metrics))
    current_times = current[time_col].dt.strftime(_HOVER_FORMAT.get(time_col, "%d %b %Y"))
    colors = [theme.accent, theme.second]
    fig = go.Figure()
    fmt = _HOVER_FORMAT.get(time_col, "%a %d %b %Y")
    for metric, color in zip(metrics, colors, strict=False):
        name = TREND_LABELS.get(metric, metric)
        x, y = next(series)
        fig.add_scatter(
            x=x, y=y, name=name, mode="lines", line={"color": color, "width": 2.5},
            customdata=current_times,
            hovertemplate=f"%{{y:,}} {name.lower()}, %{{customdata}}<extra></extra>",
        )
        if not shifted.empty:
            x, y = next(series)
            fig.add_scatter(
                x=x, y=y, name=f"{name} (comparison)",
                mode="lines", line={"color": color, "width": 1.5, "dash": "dot"},
                customdata=shifted["original"].dt.strftime(fmt),
                hovertemplate=f"%{{y:,}} {name.lower()} on %{{customdata}}<extra></extra>",
            )
    top = max([float(current[m].max()) for m in metrics if m in current.columns] + [1.0])
    add_markers(fig, markers or [], top * 1.08, theme)
    add_unusual(fig, unusual or [], theme)
    fig.update_yaxes(rangemode="tozero", tickformat=",~s")
    return _layout(fig, theme)


def _targets(labels: pd.Series) -> list[str]:
    """Click targets: each label, except GA's (other) row, which is no value to filter by."""
    return ["" if is_other(v) else str(v) for v in labels]


def _hints(labels: pd.Series) -> list[str]:
    return [OTHER_TIP if is_other(v) else "click to filter" for v in labels]


def bar_figure(frame: pd.DataFrame, label_col: str, value_col: str, value_name: str,
               top: int = 10, theme: Theme = LIGHT) -> go.Figure:
    """Horizontal bars, largest on top; the label is the click target for cross-filtering."""
    if frame.empty:
        return message_figure("No data for this period", theme)
    data = frame.nlargest(top, value_col).iloc[::-1]
    fig = go.Figure(go.Bar(
        x=data[value_col], y=data[label_col], orientation="h", marker_color=theme.accent,
        customdata=_targets(data[label_col]), hovertext=_hints(data[label_col]),
        hovertemplate=f"%{{y}}: %{{x:,}} {value_name}<br>%{{hovertext}}<extra></extra>",
    ))
    fig.update_xaxes(tickformat=",~s")
    return _layout(fig, theme, hovermode="closest", margin={"l": 8, "r": 16, "t": 8, "b": 32},
                   yaxis={"automargin": True})


def donut_figure(frame: pd.DataFrame, label_col: str, value_col: str,
                 theme: Theme = LIGHT, clickable: bool = True) -> go.Figure:
    """Shares as a donut; slices are click targets unless ``clickable`` is False."""
    if frame.empty or frame[value_col].sum() == 0:
        return message_figure("No data for this period", theme)
    fig = go.Figure(go.Pie(
        labels=frame[label_col], values=frame[value_col], hole=0.55, sort=False,
        customdata=_targets(frame[label_col]) if clickable else None,
        hovertext=_hints(frame[label_col]) if clickable else None,
        textinfo="label+percent", textposition="outside",  # ink on the card, legible
        hovertemplate="%{label}: %{value:,} (%{percent})"
                      + ("<br>%{hovertext}" if clickable else "") + "<extra></extra>",
    ))
    return _layout(fig, theme, hovermode="closest", showlegend=False,
                   margin={"l": 8, "r": 8, "t": 8, "b": 8})

