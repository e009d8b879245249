"""Pure pandas transforms: frames in, frames (or plain values) out; no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from babel.numbers import format_compact_currency, format_currency

from gadash.core.catalog import KEY_EVENT_METRICS, KPI_METRICS, OTHER, REVENUE_METRICS
from gadash.core.frames import ReportFrame
from gadash.core.periods import bucket
from gadash.core.query import RANGE_NAMES, DateRange


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


def format_money(value: float, currency: str, compact: bool = False) -> str:
    """An amount in the currency GA names (ISO 4217), e.g. £12,345.67, or compact for a
    tile (€3.9K, €1.2M; the tile's tooltip keeps the exact amount)."""
    if not currency:
        return f"{value:,.2f}"
    if compact and abs(value) >= 1_000:
        return format_compact_currency(value, currency, locale="en", fraction_digits=1)
    return format_currency(value, currency, locale="en")


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
    """One KPI tile's figures; ``value`` None means GA gave no figure ("–")."""

    metric: str
    label: str
    value: float | None
    text: str
    change: float | None
    higher_is_better: bool = True
    exact: str = ""  # the whole figure, for a tooltip
    previous: float | None = None  # the comparison period's; None: GA sent none
    previous_text: str = ""


KPI_LABELS: dict[str, tuple[str, str, bool]] = {
    # metric -> (label, format, higher is better)
    "totalUsers": ("Users", "number", True),
    "sessions": ("Sessions", "number", True),
    "screenPageViews": ("Page views", "number", True),
    "averageSessionDuration": ("Avg. session", "duration", True),
    "engagementRate": ("Engagement rate", "percent", True),
    "bounceRate": ("Bounce rate", "percent", False),
    "keyEvents": ("Key events", "number", True),
    "sessionKeyEventRate": ("Session key event rate", "percent", True),
    "totalRevenue": ("Revenue", "money", True),
    "transactions": ("Transactions", "number", True),
}
TRAFFIC_KPIS = KPI_METRICS
# Shown only where the property has them (a total above zero in either period).
KEY_EVENT_KPIS = KEY_EVENT_METRICS
REVENUE_KPIS = REVENUE_METRICS


def format_metric(kind: str, value: float | None, currency: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "duration":
        return format_duration(value)
    if kind == "percent":
        return format_percent(value)
    if kind == "money":
        return format_money(value, currency, compact=True)
    return format_number(value)


def _total(totals: pd.DataFrame, metric: str) -> float | None:
    if metric not in totals.columns or not len(totals):
        return None
    value = totals[metric].iloc[0]
    return None if pd.isna(value) else float(value)


def outcome_metrics(report: ReportFrame) -> list[str]:
    """The key-event and revenue tiles a property earns: those with a total above
    zero in either period (GA answers 0 where a property has none)."""
    shown = []
    for group, probe in ((KEY_EVENT_KPIS, "keyEvents"), (REVENUE_KPIS, "totalRevenue")):
        if probe in report.totals.columns and (report.totals[probe].fillna(0) > 0).any():
            shown += [m for m in group if m in report.totals.columns]
    return shown


def kpis(report: ReportFrame, metrics: list[str] | None = None) -> list[Kpi]:
    """KPI tiles from a report's totals (one row per date range); a total GA did
    not send is "–", never 0."""
    current, previous = split_ranges(report.totals)
    out = []
    for metric in metrics or [*TRAFFIC_KPIS, *outcome_metrics(report)]:
        label, kind, better = KPI_LABELS[metric]
        value = _total(current, metric)
        prev = _total(previous, metric)
        change = delta(value, prev) if value is not None else None
        currency = report.meta.currency
        exact = "no figure from GA" if value is None else (
            format_money(value, currency) if kind == "money" else
            f"{100 * value:.2f}%" if kind == "percent" else
            format_duration(value) if kind == "duration" else f"{value:,.0f}")
        out.append(Kpi(metric, label, value, format_metric(kind, value, currency), change,
                       better, exact, prev, format_metric(kind, prev, currency)))
    return out


def kpi_delta(kpi: Kpi) -> tuple[str, str]:
    """How a compared KPI moved, as its tile says it, and the tone: good, bad or flat
    (``▲ 12.5%``, ``▲ new: 0 before``, ``■ 0 in both periods``, ``no comparison data``)."""
    if kpi.change is None and kpi.value is not None and kpi.previous == 0:
        # GA counted none in the comparison period: say so, not "no data".
        if kpi.value == 0:
            return "■ 0 in both periods", "flat"
        tone = "good" if (kpi.value > 0) == kpi.higher_is_better else "bad"
        return f"{'▲' if kpi.value > 0 else '▼'} new: {kpi.previous_text} before", tone
    if kpi.change is None:
        return "no comparison data", "flat"
    good = (kpi.change >= 0) == kpi.higher_is_better
    arrow = "▲" if kpi.change > 0 else "▼" if kpi.change < 0 else "■"
    tone = "flat" if abs(kpi.change) < 0.005 else ("good" if good else "bad")
    return f"{arrow} {abs(kpi.change) * 100:.1f}%", tone


def _steps(times: pd.Series, start: pd.Timestamp, time_col: str) -> pd.Series:
    """Each time's position from ``start`` in the trend's own unit."""
    if time_col == "yearMonth":
        return (times.dt.year - start.year) * 12 + (times.dt.month - start.month)
    unit = pd.Timedelta(hours=1) if time_col == "dateHour" else \
        pd.Timedelta(days=7) if time_col == "isoYearIsoWeek" else pd.Timedelta(days=1)
    return ((times - start) / unit).round().astype(int)


def _advance(start: pd.Timestamp, steps: pd.Series, time_col: str) -> pd.Series:
    if time_col == "yearMonth":
        return pd.Series([start + pd.DateOffset(months=int(n)) for n in steps],
                         index=steps.index, dtype="datetime64[ns]")
    unit = pd.Timedelta(hours=1) if time_col == "dateHour" else \
        pd.Timedelta(days=7) if time_col == "isoYearIsoWeek" else pd.Timedelta(days=1)
    return start + steps * unit


def align_previous(current: pd.DataFrame, previous: pd.DataFrame, time_col: str
                   ) -> pd.DataFrame:
    """Put the comparison series on the current period's time axis.

    Step n (hour, day, week or month) of the comparison period is drawn at step
    n of the current one, so the two lines compare like with like.
    """
    if previous.empty or current.empty:
        return previous.iloc[0:0]
    cur_start = current[time_col].min()
    shifted = previous.copy()
    index = _steps(previous[time_col], previous[time_col].min(), time_col)
    shifted[time_col] = _advance(cur_start, index, time_col)
    shifted["original"] = previous[time_col]
    return shifted


_FREQ = {"dateHour": "h", "date": "D", "isoYearIsoWeek": "W-MON", "yearMonth": "MS"}


def period_start(day: pd.Timestamp, time_col: str) -> pd.Timestamp:
    """The start of the week (Monday) or month a day falls in; the day itself otherwise."""
    if time_col == "isoYearIsoWeek":
        return day - pd.Timedelta(days=day.weekday())
    if time_col == "yearMonth":
        return day.replace(day=1)
    return day


def fill_timeline(frame: pd.DataFrame, time_col: str, start: pd.Timestamp,
                  end: pd.Timestamp, metrics: list[str]) -> pd.DataFrame:
    """Add zero rows for periods with no data, so a chart shows the gap as zero."""
    full = pd.DataFrame({time_col: pd.date_range(period_start(start, time_col),
                                                 end, freq=_FREQ.get(time_col, "D"))})
    merged = full.merge(frame, on=time_col, how="left")
    merged[metrics] = merged[metrics].fillna(0)
    return merged


def _previous_of(table: pd.DataFrame, previous: pd.DataFrame, keys: list[str],
                 metric: str) -> pd.Series:
    """Each row's comparison-period value of a metric (NaN where GA had none)."""
    if previous.empty or metric not in previous.columns:
        return pd.Series(float("nan"), index=table.index)
    prev = previous.drop_duplicates(keys).set_index(keys)[metric]
    index = pd.MultiIndex.from_frame(table[keys]) if len(keys) > 1 else table[keys[0]]
    return pd.Series(prev.reindex(index).to_numpy(dtype=float), index=table.index)


def _change(now: pd.Series, before: pd.Series) -> list[float | None]:
    return [delta(float(n), float(b)) if not math.isnan(b) else None
            for n, b in zip(now, before, strict=True)]


def sources_table(report: ReportFrame, shown: int = 0) -> pd.DataFrame:
    """Traffic sources for the grid: the top ``shown`` rows of this period, the
    comparison period's sessions and the change where comparing."""
    current, previous = split_ranges(report.rows)
    table = (current.head(shown) if shown else current).copy()
    table["isOther"] = table["sessionSource"] == OTHER
    if not previous.empty:
        keys = [k for k in ("sessionSource", "sessionMedium", "sessionDefaultChannelGroup")
                if k in table.columns]
        before = _previous_of(table, previous, keys, "sessions")
        table["sessionsPrevious"] = before
        table["sessionsChange"] = _change(table["sessions"], before)
    return table


def _rates(frame: pd.DataFrame) -> pd.DataFrame:
    sessions = frame["sessions"].where(frame["sessions"] > 0)
    frame["engagementRate"] = (frame["engagedSessions"] / sessions).fillna(0.0)
    if "_converting" in frame.columns:
        frame["sessionKeyEventRate"] = (frame["_converting"] / sessions).fillna(0.0)
        frame = frame.drop(columns="_converting")
    return frame


def channels_table(sources: ReportFrame, channels: ReportFrame | None = None
                   ) -> pd.DataFrame:
    """Sessions by default channel group, rolled up from the sources report.

    A channel is a function of source and medium, so the rollup is exact for the
    additive metrics; rates are recomputed from their parts (engaged sessions,
    sessions with a key event = rate x sessions). ``channels`` carries the
    comparison period, asked of GA for exactly these channels.
    """
    current, _ = split_ranges(sources.rows)
    col = "sessionDefaultChannelGroup"
    additive = [m for m in ("sessions", "engagedSessions", "keyEvents", "totalRevenue")
                if m in current.columns]
    work = current[[col, *additive]].copy()
    if "sessionKeyEventRate" in current.columns:
        work["_converting"] = current["sessionKeyEventRate"] * current["sessions"]
    table = work.groupby(col, as_index=False, sort=False).sum()
    table = _rates(table).sort_values("sessions", ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    total = float(table["sessions"].sum())
    table["share"] = table["sessions"] / total if total else 0.0
    table["isOther"] = table[col] == OTHER
    if channels is not None:
        _, previous = split_ranges(channels.rows)
        before = _previous_of(table, previous, [col], "sessions")
        table["sessionsPrevious"] = before
        table["sessionsChange"] = _change(table["sessions"], before)
    return table


def landing_table(report: ReportFrame) -> pd.DataFrame:
    """Landing pages: sessions that started there and what they led to."""
    current, previous = split_ranges(report.rows)
    table = current.copy()
    table["isOther"] = table["landingPage"] == OTHER
    if not previous.empty:
        before = _previous_of(table, previous, ["landingPage"], "sessions")
        table["sessionsPrevious"] = before
        table["sessionsChange"] = _change(table["sessions"], before)
    return table


def pages_table(pages: ReportFrame, landing: ReportFrame | None) -> pd.DataFrame:
    """Top pages with engagement time per view and entrances (sessions landing there)."""
    current, previous = split_ranges(pages.rows)
    table = current.copy()
    views = table["screenPageViews"].where(table["screenPageViews"] > 0)
    table["engagementPerView"] = (table["userEngagementDuration"] / views).fillna(0.0)
    table["isOther"] = table["pagePath"] == OTHER
    if landing is not None:
        lcur, _ = split_ranges(landing.rows)
        entrances = lcur.groupby("landingPage")["sessions"].sum()
        # GA's landing report is cut at its own top N: a page past it has unknown
        # entrances, not zero.
        complete = landing.meta.row_count <= len(lcur)
        mapped = table["pagePath"].map(entrances)
        table["entrances"] = mapped.fillna(0) if complete else mapped
        table.loc[table["isOther"], "entrances"] = None
    if not previous.empty:
        before = _previous_of(table, previous, ["pagePath", "pageTitle"], "screenPageViews")
        table["viewsPrevious"] = before
        table["viewsChange"] = _change(table["screenPageViews"], before)
    return table


def rollup(report: ReportFrame, dimension: str) -> pd.DataFrame:
    """The current period's rows summed over every other dimension, largest first.

    Only for additive metrics (sessions, views), which this is used with.
    """
    current, _ = split_ranges(report.rows)
    metrics = [c for c in current.columns if pd.api.types.is_numeric_dtype(current[c])]
    out = current.groupby(dimension, as_index=False, sort=False)[metrics].sum()
    return out.sort_values(metrics[0], ascending=False, kind="stable").reset_index(drop=True)


BUCKET = "@bucket"  # fill_days's column of each point's periods.Bucket


def fill_days(rows: pd.DataFrame, ranges: Sequence[DateRange], complete: bool = True,
              now: datetime | None = None) -> pd.DataFrame:
    """A trend with every period (day, week, month) of each range, zero where GA
    returned no row, and each point's ``BUCKET``: the days of its range it covers, so
    a partial week, month, today or current hour can be told from a full one.

    GA leaves out periods without sessions (a narrow filter, a quiet site); drawn
    as is, a line would bridge them as if traffic had carried on. When GA's
    answer was cut (``complete`` False), periods are filled only inside the span
    it answered for: a missing tail is unknown, not zero. Hours are not filled.
    ``now``: the property's wall clock when GA answered (naive), which makes the
    bucket that holds it open; None when not known.
    """
    time_col = next((c for c in _FREQ if c in rows.columns), "")
    if not time_col or not ranges:
        return rows
    metrics = [c for c in rows.columns if c not in (time_col, "dateRange")]
    parts = []
    for name, rng in zip(RANGE_NAMES, ranges, strict=False):
        period = rows[rows["dateRange"] == name].drop(columns="dateRange")
        start, end = pd.Timestamp(rng.start), pd.Timestamp(rng.end)
        if not complete:
            if period.empty:
                continue
            start, end = period[time_col].min(), period[time_col].max()
        if time_col == "dateHour":
            filled = period.sort_values(time_col).reset_index(drop=True)
        else:
            filled = fill_timeline(period, time_col, start, end, metrics)
        filled[BUCKET] = pd.Series([bucket(t.to_pydatetime(), time_col, rng, now)
                                    for t in filled[time_col]], index=filled.index,
                                   dtype=object)
        filled["dateRange"] = name
        parts.append(filled)
    return pd.concat(parts, ignore_index=True) if parts else rows


# ------------------------------------------------------------------ explorations

# Time dimensions whose values follow each other (the n-th bucket of the comparison
# period compares with the n-th of this one); the others (hour, day of week, month
# ...) repeat, and compare value by value.
SEQUENTIAL_TIME = frozenset({"date", "dateHour", "dateHourMinute", "isoYearIsoWeek",
                             "yearWeek", "yearMonth", "year", "isoYear", "yearQuarter",
                             "nthDay", "nthWeek", "nthMonth", "nthYear", "nthHour"})
PREVIOUS, CHANGE = "@previous", "@change"  # column suffixes; GA names have no "@"


@dataclass(frozen=True)
class ExploreTable:
    """An exploration's answer as a table: one row per value (or bucket), the
    comparison period's value and the change per metric when comparing, the totals of
    both periods, and whether GA folded rows into ``(other)``."""

    rows: pd.DataFrame
    totals: dict[str, float | None]
    previous_totals: dict[str, float | None]
    comparing: bool
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]


def _bucket(frame: pd.DataFrame, dim: str, start: date | None) -> pd.Series:
    """Each row's step in its period, counted from the period's first day (the n-th
    hour, day, week or month of it): GA leaves out buckets without data, so steps are
    not ranks. A time GA gives as text (yearWeek ...) counts by rank."""
    values = frame[dim]
    if start is not None and pd.api.types.is_datetime64_any_dtype(values):
        first = pd.Timestamp(start)
        if dim == "dateHour":
            return (values - first) // pd.Timedelta(hours=1)
        if dim == "isoYearIsoWeek":
            monday = first - pd.Timedelta(days=first.weekday())
            return (values - monday) // pd.Timedelta(days=7)
        if dim == "yearMonth":
            return (values.dt.year - first.year) * 12 + values.dt.month - first.month
        return (values - first) // pd.Timedelta(days=1)
    order = sorted(values.dropna().unique())
    rank = {v: i for i, v in enumerate(order)}
    return values.map(rank)


def explore_table(report: ReportFrame, dimensions: Sequence[str], metrics: Sequence[str],
                  comparing: bool, series: bool, ranges: Sequence[DateRange] = ()
                  ) -> ExploreTable:
    """The rows of an exploration with their comparison values (pure); ``ranges``: the
    periods, so a series compares the same step of each."""
    current, previous = split_ranges(report.rows)
    dims, mets = list(dimensions), list(metrics)
    table = current[[*dims, *mets]].copy().reset_index(drop=True)
    table["isOther"] = [any(v == OTHER for v in row) for row in
                        table[dims].itertuples(index=False)] if dims else False
    if comparing:
        if not dims:
            keys: list[str] = []
        elif series and dims[0] in SEQUENTIAL_TIME:
            starts = [r.start for r in ranges] + [None, None]
            table["@step"] = _bucket(table, dims[0], starts[0])
            previous = previous.assign(**{"@step": _bucket(previous, dims[0], starts[1])}) \
                if not previous.empty else previous
            keys = ["@step", *dims[1:]]
        else:
            keys = dims
        for m in mets:
            if not keys:
                before = pd.Series([_total(split_ranges(report.totals)[1], m)],
                                   dtype=float) if len(table) else pd.Series(dtype=float)
                before = before.reindex(table.index)
            else:
                before = _previous_of(table, previous, keys, m)
            table[m + PREVIOUS] = before
            table[m + CHANGE] = _change(table[m], before)
        table = table.drop(columns=["@step"], errors="ignore")
    now, then = split_ranges(report.totals)
    return ExploreTable(table, {m: _total(now, m) for m in mets},
                        {m: _total(then, m) for m in mets}, comparing, tuple(dims), tuple(mets))
