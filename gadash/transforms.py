"""Pure pandas transforms: frames in, frames (or plain values) out; no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from gadash.query import RANGE_NAMES, DateRange
from gadash.sources.base import ReportFrame


def format_duration(seconds: float | None) -> str:
    """Seconds as ``h:mm:ss`` (GA's own format for session duration)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_number(value: float) -> str:
    """Compact thousands: 950, 12.3K, 1.2M."""
    value = float(value)
    # Below 10,000 every digit fits on a tile; above, thousands and millions.
    for limit, unit, suffix in ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "K")):
        if abs(value) >= limit:
            return f"{value / unit:.1f}{suffix}"
    return f"{value:,.0f}"


def format_percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def split_ranges(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of the current period and of the comparison period (maybe empty)."""
    cols = [c for c in frame.columns if c != "dateRange"]
    ranges = frame["dateRange"].to_numpy(dtype=object)
    current = frame.loc[ranges == "current", cols].reset_index(drop=True)
    previous = frame.loc[ranges == "previous", cols].reset_index(drop=True)
    return current, previous


def delta(current: float, previous: float | None) -> float | None:
    """Relative change, or None when there is nothing to compare with."""
    if previous is None or previous == 0 or math.isnan(previous):
        return None
    return (current - previous) / previous


@dataclass(frozen=True)
class Kpi:
    """One KPI tile's figures."""

    metric: str
    label: str
    value: float
    text: str
    change: float | None
    higher_is_better: bool = True


KPI_LABELS: dict[str, tuple[str, str, bool]] = {
    # metric -> (label, format, higher is better)
    "totalUsers": ("Users", "number", True),
    "sessions": ("Sessions", "number", True),
    "screenPageViews": ("Page views", "number", True),
    "averageSessionDuration": ("Avg. session", "duration", True),
    "engagementRate": ("Engagement rate", "percent", True),
    "bounceRate": ("Bounce rate", "percent", False),
}


def format_metric(kind: str, value: float) -> str:
    if kind == "duration":
        return format_duration(value)
    if kind == "percent":
        return format_percent(value)
    return format_number(value)


def kpis(report: ReportFrame, metrics: list[str] | None = None) -> list[Kpi]:
    """KPI tiles from a report's totals (one row per date range)."""
    current, previous = split_ranges(report.totals)
    out = []
    for metric in metrics or list(KPI_LABELS):
        label, kind, better = KPI_LABELS[metric]
        value = float(current[metric].iloc[0]) if len(current) else 0.0
        prev = float(previous[metric].iloc[0]) if len(previous) else None
        out.append(Kpi(metric, label, value, format_metric(kind, value), delta(value, prev),
                       better))
    return out


def align_previous(current: pd.DataFrame, previous: pd.DataFrame, time_col: str
                   ) -> pd.DataFrame:
    """Put the comparison series on the current period's time axis.

    Day (or hour) n of the comparison period is drawn at day n of the current
    one, so the two lines compare like with like.
    """
    if previous.empty or current.empty:
        return previous.iloc[0:0]
    step = pd.Timedelta(hours=1) if time_col == "dateHour" else pd.Timedelta(days=1)
    cur_start = current[time_col].min()
    prev_start = previous[time_col].min()
    shifted = previous.copy()
    index = ((previous[time_col] - prev_start) / step).round().astype(int)
    shifted[time_col] = cur_start + index * step
    shifted["original"] = previous[time_col]
    return shifted


def fill_timeline(frame: pd.DataFrame, time_col: str, start: pd.Timestamp,
                  end: pd.Timestamp, metrics: list[str]) -> pd.DataFrame:
    """Add zero rows for days (hours) with no data, so a chart shows the gap as zero."""
    freq = "h" if time_col == "dateHour" else "D"
    full = pd.DataFrame({time_col: pd.date_range(start, end, freq=freq)})
    merged = full.merge(frame, on=time_col, how="left")
    merged[metrics] = merged[metrics].fillna(0)
    return merged


def sources_table(report: ReportFrame) -> pd.DataFrame:
    """Traffic sources for the grid: duration as h:mm:ss, change in sessions."""
    current, previous = split_ranges(report.rows)
    table = current.copy()
    table["avgSessionDuration"] = table["averageSessionDuration"].map(format_duration)
    if not previous.empty:
        prev = previous.set_index(["sessionSource", "sessionMedium"])["sessions"]
        before = table.set_index(["sessionSource", "sessionMedium"]).index.map(prev.to_dict())
        table["sessionsChange"] = [
            delta(float(now), float(b)) if b == b else None
            for now, b in zip(table["sessions"], pd.Series(before, dtype=float), strict=True)
        ]
    return table


def pages_table(pages: ReportFrame, landing: ReportFrame | None) -> pd.DataFrame:
    """Top pages with engagement time per view and entrances (sessions landing there)."""
    current, _ = split_ranges(pages.rows)
    table = current.copy()
    views = table["screenPageViews"].where(table["screenPageViews"] > 0)
    table["engagementPerView"] = (table["userEngagementDuration"] / views).fillna(0.0)
    table["engagementPerViewText"] = table["engagementPerView"].map(format_duration)
    if landing is not None:
        lcur, _ = split_ranges(landing.rows)
        entrances = lcur.groupby("landingPage")["sessions"].sum()
        table["entrances"] = table["pagePath"].map(entrances).fillna(0).astype("int64")
    return table


def rollup(report: ReportFrame, dimension: str) -> pd.DataFrame:
    """The current period's rows summed over every other dimension, largest first.

    Only for additive metrics (sessions, views), which this is used with.
    """
    current, _ = split_ranges(report.rows)
    metrics = [c for c in current.columns if pd.api.types.is_numeric_dtype(current[c])]
    out = current.groupby(dimension, as_index=False, sort=False)[metrics].sum()
    return out.sort_values(metrics[0], ascending=False, kind="stable").reset_index(drop=True)


def fill_days(rows: pd.DataFrame, ranges: Sequence[DateRange]) -> pd.DataFrame:
    """A daily trend with every day of each period, zero where GA returned no row.

    GA leaves out days without sessions (a narrow filter, a quiet site); drawn as
    is, a line would bridge them as if traffic had carried on.
    """
    if "date" not in rows.columns or not ranges:
        return rows
    metrics = [c for c in rows.columns if c not in ("date", "dateRange")]
    parts = []
    for name, rng in zip(RANGE_NAMES, ranges, strict=False):
        period = rows[rows["dateRange"] == name].drop(columns="dateRange")
        filled = fill_timeline(period, "date", pd.Timestamp(rng.start), pd.Timestamp(rng.end),
                               metrics)
        filled["dateRange"] = name
        parts.append(filled)
    return pd.concat(parts, ignore_index=True)
