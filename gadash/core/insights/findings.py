"""GA's answers turned into insights (pure): what changed, unusual days, trending pages.

The rules live in ``gadash.core.insights.rules``; this module reads report frames into the
numbers those rules take, and words the outcome for the analyst view and the TV.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from gadash.core.catalog import (
    CHANGE_DIMENSIONS,
    CHANGE_FILTERS,
    CHANGE_METRICS,
    CHANGE_SPLITS,
    CHANGE_WITHIN,
)
from gadash.core.frames import ReportFrame, is_other
from gadash.core.insights.rules import (
    SAME_TRAFFIC,
    Band,
    Contribution,
    Trend,
    bands,
    contributions,
    headline,
    leading,
    same_traffic,
    sentence,
    trending,
    usual_per_window,
)
from gadash.core.transforms import split_ranges

METRIC_WORDS = {"sessions": "Sessions", "keyEvents": "Key events"}
_DIMENSION_WORDS = {"source": "source / medium", "channel": "channel",
                    "landing": "landing page", "country": "country", "device": "device"}
_OTHERS = {"source": "other sources", "channel": "other channels",
           "landing": "other landing pages", "country": "other countries",
           "device": "other devices"}


@dataclass(frozen=True)
class Finding:
    """One ranked sentence, and the filter that shows its value (none for a remainder)."""

    text: str
    metric: str
    dimension: str
    value: str
    filters: tuple[tuple[str, str], ...] = ()
    weight: float = 0.0  # what the value explains beyond its share (ranks findings)


@dataclass(frozen=True)
class Group:
    """One metric's change: its headline and the ranked findings."""

    metric: str
    headline: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Changes:
    groups: tuple[Group, ...]

    @property
    def headlines(self) -> tuple[str, ...]:
        return tuple(g.headline for g in self.groups)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for g in self.groups for f in g.findings)


def _values(frame: ReportFrame, name: str, metric: str
            ) -> tuple[dict[str, float], dict[str, float], dict[str, tuple[str, ...]]]:
    dims = list(CHANGE_DIMENSIONS[name])
    rows = frame.rows
    if metric not in rows.columns or not set(dims) <= set(rows.columns):
        return {}, {}, {}
    current, previous = split_ranges(rows)
    keys: dict[str, tuple[str, ...]] = {}

    def by_label(part: pd.DataFrame) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for values, amount in zip(part[dims].astype(str).itertuples(index=False, name=None),
                                  part[metric].astype(float), strict=True):
            label = " / ".join(values)
            keys[label] = tuple(values)
            out[label] += amount
        return dict(out)

    now, before = by_label(current), by_label(previous)
    if frame.meta.row_count > len(rows):
        # GA has rows that did not come back: a value missing from one period was cut
        # there (its amount unknown, not 0), so only values listed in both periods are
        # named; the others count in the remainder, which the totals keep exact.
        both = now.keys() & before.keys()
        now = {k: v for k, v in now.items() if k in both}
        before = {k: v for k, v in before.items() if k in both}
    return now, before, keys


def _totals(frame: ReportFrame, metric: str) -> tuple[float | None, float | None]:
    if metric not in frame.totals.columns or "dateRange" not in frame.totals.columns:
        return None, None
    current, previous = split_ranges(frame.totals)
    return (float(current[metric].iloc[0]) if len(current) else None,
            float(previous[metric].iloc[0]) if len(previous) else None)


def _homes(frame: ReportFrame, name: str) -> dict[str, str]:
    """Each value's home in the dimension it lies within (``CHANGE_WITHIN``): the one
    with most of its sessions."""
    within = CHANGE_WITHIN.get(name)
    rows = frame.rows
    if within is None or rows.empty:
        return {}
    dims, outer = list(CHANGE_DIMENSIONS[name]), list(CHANGE_DIMENSIONS[within])
    if not set(dims + outer + ["sessions"]) <= set(rows.columns):
        return {}
    labels = rows[dims].astype(str).agg(" / ".join, axis=1)
    homes = rows[outer].astype(str).agg(" / ".join, axis=1)
    sessions = pd.DataFrame({"label": labels, "home": homes,
                             "sessions": rows["sessions"].astype(float)})
    best = sessions.groupby(["label", "home"])["sessions"].sum().reset_index()
    best = best.sort_values(["sessions", "home"], ascending=[False, True]
                            ).drop_duplicates("label")
    return {str(k): str(v) for k, v in zip(best["label"], best["home"], strict=True)}


def _one_story(a: Finding, ca: Contribution, b: Finding, cb: Contribution,
               homes: dict[str, dict[str, str]]) -> bool:
    """Whether two dimensions' leading values tell the same story: the same traffic, or
    a value that is all of the change of the value it lies within (a source and its
    channel, the changes within 5%)."""
    if same_traffic(ca, cb):
        return True
    nested = any(CHANGE_WITHIN.get(inner.dimension) == outer.dimension
                 and homes.get(inner.dimension, {}).get(inner.value) == outer.value
                 for inner, outer in ((a, b), (b, a)))
    return nested and math.isclose(ca.change, cb.change, rel_tol=SAME_TRAFFIC)


def changes_by_value(frame: ReportFrame, name: str, metric: str) -> list[Contribution]:
    """Every value's contribution to the change of ``metric`` in a ``changes_<name>``
    answer, the largest first, with one remainder for what GA did not list (in both
    periods)."""
    current, previous, _ = _values(frame, name, metric)
    return contributions(current, previous, *_totals(frame, metric))


def _finding(c: Contribution, name: str, metric: str, keys: dict[str, tuple[str, ...]]
             ) -> Finding:
    values = keys.get(c.key, ())
    filters = () if c.is_rest or any(is_other(v) for v in values) else tuple(
        zip(CHANGE_FILTERS[name], values, strict=True))
    return Finding(sentence(c, c.key, _OTHERS.get(name, "other values")), metric, name,
                   c.key, filters, abs(c.excess))


def what_changed(reports: dict[str, ReportFrame], per_metric: dict[str, int] | None = None
                 ) -> Changes:
    """A headline per metric, then for each dimension the value that explains most of
    the change, dimensions ranked by what their value explains beyond its share (one
    whose value is the same traffic as a value ranked above it is left out).
    ``per_metric``: how many findings each metric gets (sessions 5, key events 2)."""
    limits = per_metric or {"sessions": 5, "keyEvents": 2}
    groups: list[Group] = []
    for metric, limit in limits.items():
        head: str | None = None
        candidates: list[tuple[Finding, Contribution]] = []
        homes: dict[str, dict[str, str]] = {}
        for name in CHANGE_DIMENSIONS:
            frame = reports.get(f"changes_{name}")
            if frame is None:
                continue
            current, previous, keys = _values(frame, name, metric)
            total_current, total_previous = _totals(frame, metric)
            if head is None and total_current is not None:
                if not total_current and not total_previous:
                    break  # the property has none of this metric: nothing to say
                head = headline(METRIC_WORDS[metric], total_current, total_previous or 0.0)
            homes[name] = _homes(frame, name)
            ranked = contributions(current, previous, total_current, total_previous)
            top = leading(ranked)
            if top is not None:
                candidates.append((_finding(top, name, metric, keys), top))
        if head is None:
            continue
        order = list(CHANGE_DIMENSIONS)
        candidates.sort(key=lambda fc: (-fc[0].weight, order.index(fc[0].dimension)))
        chosen: list[tuple[Finding, Contribution]] = []
        for finding, c in candidates:
            # google / organic beside Organic Search, when google is all of it: one story
            if not any(_one_story(finding, c, f, said, homes) for f, said in chosen):
                chosen.append((finding, c))
        groups.append(Group(metric, head, tuple(f for f, _ in chosen[:limit])))
    return Changes(tuple(groups))


def split_changes(reports: dict[str, ReportFrame]) -> dict[str, ReportFrame]:
    """The ``changes_<name>`` answers ``what_changed`` reads, from a digest's reports
    (``core.plans.digest_query``): each dimension of ``CHANGE_SPLITS`` summed out of the
    report that asked it with others; the totals are the report's own. A report GA had
    more rows for stays marked so (its values are named only when in both periods)."""
    out = {k: v for k, v in reports.items() if k.startswith("changes_")}
    for name, source in CHANGE_SPLITS.items():
        frame = reports.get(source)
        dims = list(CHANGE_DIMENSIONS[name])
        if frame is None or not set(dims) <= set(frame.rows.columns):
            continue
        keys = [*dims, "dateRange"] if "dateRange" in frame.rows.columns else dims
        metrics = [m for m in CHANGE_METRICS if m in frame.rows.columns]
        rows = frame.rows.groupby(keys, as_index=False, sort=False)[metrics].sum()
        cut = frame.meta.row_count > len(frame.rows)
        out[f"changes_{name}"] = ReportFrame(
            f"changes_{name}", rows, frame.totals,
            replace(frame.meta, row_count=len(rows) + 1 if cut else len(rows)))
    return out


def describe_dimension(name: str) -> str:
    return _DIMENSION_WORDS.get(name, name)


# ------------------------------------------------------------------ unusual days

def daily(frame: ReportFrame, metric: str = "sessions") -> dict[date, float]:
    """A daily report's values by day (the current period's rows)."""
    rows = frame.rows
    if rows.empty or metric not in rows.columns or "date" not in rows.columns:
        return {}
    current, _ = split_ranges(rows) if "dateRange" in rows.columns else (rows, rows.iloc[0:0])
    days = pd.to_datetime(current["date"]).dt.date
    return dict(zip(days, current[metric].astype(float), strict=True))


def judged_days(baseline: ReportFrame, start: date, end: date, today: date,
                metric: str = "sessions") -> list[Band]:
    """The band of every judged day from ``start`` to ``end`` (days GA has no row for
    count as zero: a day without sessions is a day with none)."""
    series = daily(baseline, metric)
    if not series:
        return []
    first = min(series)
    every = {d.date(): series.get(d.date(), 0.0)
             for d in pd.date_range(first, min(end, today), freq="D")}
    shown = {d: v for d, v in every.items() if start <= d <= end}
    return bands(shown, every, today)


# ------------------------------------------------------------------ trending

@dataclass(frozen=True)
class TrendingPage:
    """A trending page as the screens show it."""

    trend: Trend
    path: str  # the most read path with this title ("" when GA knows none)
    countries: tuple[str, ...]  # where readers are now, most first

    @property
    def title(self) -> str:
        return self.trend.title


def trending_pages(now: ReportFrame, countries: ReportFrame | None, usual: ReportFrame,
                   min_views: float, min_ratio: float, top: int = 10) -> list[TrendingPage]:
    """Titles read now far above their usual 30 minutes (realtime knows pages by title:
    each title's paths come from the usual report; a title shared by several paths is
    ambiguous, and its usual rate is theirs together)."""
    usual_rows = usual.rows
    per_title: dict[str, float] = defaultdict(float)
    paths: dict[str, list[str]] = defaultdict(list)
    if not usual_rows.empty:
        for title, path, views in zip(usual_rows["pageTitle"].astype(str),
                                      usual_rows["pagePath"].astype(str),
                                      usual_rows["screenPageViews"].astype(float), strict=True):
            if is_other(title) or is_other(path):
                continue
            per_title[title] += views
            paths[title].append(path)  # the report is ordered by views: most read first
    now_rows = now.rows
    reading = {} if now_rows.empty else {
        str(t): float(v) for t, v in zip(now_rows["unifiedScreenName"],
                                         now_rows["screenPageViews"], strict=True)
        if not is_other(t)}
    usual_now = {t: usual_per_window(v) for t, v in per_title.items()}
    where: dict[str, list[str]] = defaultdict(list)
    if countries is not None and not countries.rows.empty:
        ordered = countries.rows.sort_values("screenPageViews", ascending=False)
        for title, country in zip(ordered["unifiedScreenName"].astype(str),
                                  ordered["country"].astype(str), strict=True):
            if country and country != "(not set)" and country not in where[title]:
                where[title].append(country)
    # A baseline GA cut (more rows than came back) does not list every page read: a
    # title missing from it had at most the fewest views listed, not none.
    unlisted = 0.0
    if usual.meta.row_count > len(usual_rows) and not usual_rows.empty:
        unlisted = usual_per_window(float(usual_rows["screenPageViews"].min()))
    found = trending(reading, usual_now, paths, min_views, min_ratio, unlisted)[:top]
    return [TrendingPage(t, t.paths[0] if t.paths else "", tuple(where.get(t.title, [])[:3]))
            for t in found]
