"""Insights, as pure functions: what changed between two periods, unusual days, pages
trending now. Plain arithmetic an analyst can redo by hand; the README states each rule.

- **What changed**: a value's contribution is its change (this period minus the
  comparison period); contributions of every value, with a remainder for values GA did
  not list, add up to the total change. Within a dimension values rank by the size of
  their contribution. Dimensions rank by how much their leading value explains beyond
  its share: a value that grew with everything else (its previous share of the total
  change) explains nothing. A value whose change exceeds the total's is said to be
  more than the whole change (the other values moved the other way), never a share
  above 100%; a dimension whose leading value is the same traffic as a value already
  named (both periods within 5%) is left out.
- **Unusual days**: each day against the same weekday of the previous 8 weeks: the
  median, and a robust spread (1.4826 x the median absolute deviation, at least the
  square root of the median, as counts vary by that much by chance). A day more than
  3 spreads from the median is unusual. The last two days are provisional in GA: never
  flagged.
- **Trending**: a page's views in the last 30 minutes against its usual 30 minutes
  (its views over the last 28 days / (28 x 48)), ranked by that ratio, above a minimum
  number of views. A page with no views in those 28 days is "new" (ranked first).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from gadash.core.catalog import OTHER

REST = "(other values)"  # the values GA did not list, as one
BASELINE_WEEKS = 8
SPREADS = 3.0
MIN_WEEKS = 4  # fewer earlier same weekdays than this: no judgement
PROVISIONAL_DAYS = 2
USUAL_DAYS = 28
WINDOWS_PER_DAY = 48  # 30-minute windows


@dataclass(frozen=True)
class Contribution:
    """One value's part in a change between two periods."""

    key: str
    current: float
    previous: float
    total_change: float
    total_previous: float

    @property
    def change(self) -> float:
        return self.current - self.previous

    @property
    def share(self) -> float | None:
        """This value's part of the total change (0.61: 61%); None when nothing changed."""
        return self.change / self.total_change if self.total_change else None

    @property
    def status(self) -> str:
        """"new" (none in the comparison period), "gone" (none in this one), or ""."""
        if self.previous == 0 and self.current > 0:
            return "new"
        if self.current == 0 and self.previous > 0:
            return "gone"
        return ""

    @property
    def excess(self) -> float:
        """The change beyond what this value's earlier share of the total would bring:
        what it explains. A value that grew with everything else explains nothing; with
        no comparison period every value's share is unknown, so its whole change counts."""
        if not self.total_previous:
            return self.change
        return self.change - self.previous / self.total_previous * self.total_change

    @property
    def is_rest(self) -> bool:
        return self.key == REST


def contributions(current: Mapping[str, float], previous: Mapping[str, float],
                  total_current: float | None = None, total_previous: float | None = None,
                  rest: str = REST) -> list[Contribution]:
    """Every value's contribution to the change, the largest first (ties by key).

    ``total_*``: the periods' totals when the values are a top-N (GA lists the most
    visited); what the listed values do not account for becomes one ``rest`` value
    (``REST`` unless named), so the contributions always add up to the total change.
    """
    cur_sum, prev_sum = sum(current.values()), sum(previous.values())
    t_cur = cur_sum if total_current is None else max(total_current, cur_sum)
    t_prev = prev_sum if total_previous is None else max(total_previous, prev_sum)
    total_change = t_cur - t_prev
    keys = list(dict.fromkeys([*current, *previous]))
    out = [Contribution(k, float(current.get(k, 0.0)), float(previous.get(k, 0.0)),
                        total_change, t_prev) for k in keys]
    left_cur, left_prev = t_cur - cur_sum, t_prev - prev_sum
    if left_cur or left_prev:
        out.append(Contribution(rest, left_cur, left_prev, total_change, t_prev))
    return sorted(out, key=lambda c: (-abs(c.change), str(c.key)))


def leading(ranked: Sequence[Contribution]) -> Contribution | None:
    """The value that explains most of a dimension's change: the first listed value
    (neither the remainder of unlisted values nor GA's "(other)" is a value one could
    act on)."""
    return next((c for c in ranked if not c.is_rest and c.key != OTHER and c.change), None)


def signed(n: float) -> str:
    """+1,960 / −40 / 0, with a real minus sign."""
    text = f"{abs(n):,.0f}"
    return f"+{text}" if n > 0 else (f"−{text}" if n < 0 else "0")


def percent_change(current: float, previous: float) -> str:
    """+18% / −5% / "new" when there was nothing before."""
    if not previous:
        return "new" if current else "0%"
    return signed((current - previous) / previous * 100) + "%"


def headline(metric: str, current: float, previous: float) -> str:
    """"Sessions +18% (+3,210)." — the total change in one line."""
    if current == previous:
        return f"{metric} unchanged ({current:,.0f})."
    if not previous:
        return f"{metric} {current:,.0f}, none in the comparison period."
    return f"{metric} {percent_change(current, previous)} ({signed(current - previous)})."


def sentence(c: Contribution, label: str, others: str = "other values") -> str:
    """One value's part, e.g. "61% of the rise came from news.ycombinator.com / referral
    (+1,960), new this period." A share is never above 100%: a value that changed more
    than the total did is said so, with what the ``others`` did ("google / organic
    (+3,954) is more than the whole rise (+3,100): the other sources together fell
    (−854).")."""
    status = {"new": "new this period", "gone": "gone this period"}.get(c.status, "")
    tail = f", {status}" if status else ""
    amount = signed(c.change)
    share = c.share
    word = "rise" if c.total_change > 0 else "fall"
    if share is not None and share > 1:
        rest = c.total_change - c.change  # the other values, against the total's direction
        way = "fell" if rest < 0 else "rose"
        return (f"{label} ({amount}{tail}) is more than the whole {word} "
                f"({signed(c.total_change)}): the {others} together {way} ({signed(rest)}).")
    if share is not None and share > 0:
        verb = "came from" if c.total_change > 0 else "was"
        return f"{share:.0%} of the {word} {verb} {label} ({amount}){tail}."
    if share is not None:  # against the overall direction
        way, total = ("fell", "rose") if c.change < 0 else ("grew", "fell")
        return f"{label} {way} ({amount}) while the total {total}{tail}."
    return f"{label} changed by {amount}{tail}, while the total held."


SAME_TRAFFIC = 0.05  # relative difference under which two values are the same traffic


def same_traffic(a: Contribution, b: Contribution, tolerance: float = SAME_TRAFFIC) -> bool:
    """Whether two values, of two dimensions, are one and the same traffic (google /
    organic and Organic Search where google is nearly all of it): this period's and the
    comparison period's amounts each within ``tolerance`` of each other."""
    return all(math.isclose(x, y, rel_tol=tolerance)
               for x, y in ((a.current, b.current), (a.previous, b.previous)))


# ------------------------------------------------------------------ unusual days

@dataclass(frozen=True)
class Band:
    """What a day was expected to be, from the same weekday of earlier weeks."""

    day: date
    value: float
    expected: float  # the median
    spread: float  # robust standard deviation
    weeks: int  # earlier same weekdays it rests on

    @property
    def low(self) -> float:
        return max(0.0, self.expected - SPREADS * self.spread)

    @property
    def high(self) -> float:
        return self.expected + SPREADS * self.spread

    @property
    def spreads_off(self) -> float:
        """How far from the median, in spreads (signed)."""
        return (self.value - self.expected) / self.spread if self.spread else 0.0

    @property
    def unusual(self) -> bool:
        return abs(self.spreads_off) > SPREADS

    def lines(self, weekday: str) -> tuple[str, str, str]:
        """How far off, what was expected, and on what it rests."""
        if self.expected:
            ratio = self.value / self.expected
            how = f"{ratio:.1f}x the usual {weekday}" if ratio >= 1 else \
                f"{1 - ratio:.0%} below the usual {weekday}"
        else:
            how = f"none expected on a {weekday}"
        side = "above" if self.spreads_off > 0 else "below"
        return (how, f"{self.value:,.0f} against {self.low:,.0f}–{self.high:,.0f} expected",
                f"{abs(self.spreads_off):.1f} spreads {side} the median of {self.weeks} "
                f"earlier {weekday}s")

    def describe(self, metric: str, weekday: str) -> str:
        """For alerts: "Unusual sessions: 2.4x the usual Tuesday (2,900 against
        1,050–1,350 expected, 14.0 spreads above the median of 8 earlier Tuesdays)"."""
        how, expected, basis = self.lines(weekday)
        return f"Unusual {metric.lower()}: {how} ({expected}, {basis})"


def robust_spread(values: Sequence[float]) -> float:
    """1.4826 x the median absolute deviation (the standard deviation for normal data,
    unmoved by one odd week), at least sqrt(median) (the chance variation of counts)
    and at least 1."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return max(1.4826 * mad, math.sqrt(max(median, 0.0)), 1.0)


def bands(series: Mapping[date, float], history: Mapping[date, float], today: date,
          weeks: int = BASELINE_WEEKS) -> list[Band]:
    """The band of each day of ``series`` that can be judged: not provisional (the last
    ``PROVISIONAL_DAYS`` up to ``today``), with at least ``MIN_WEEKS`` earlier same
    weekdays in ``history`` (which may overlap ``series``: earlier days of a long range
    are the baseline of later ones)."""
    known = {**history, **series}
    first_provisional = today - timedelta(days=PROVISIONAL_DAYS - 1)
    out = []
    for day, value in sorted(series.items()):
        if day >= first_provisional:
            continue
        earlier = [known[d] for d in (day - timedelta(weeks=w) for w in range(1, weeks + 1))
                   if d in known]
        if len(earlier) < MIN_WEEKS:
            continue
        out.append(Band(day, float(value), float(statistics.median(earlier)),
                        robust_spread(earlier), len(earlier)))
    return out


def unusual_days(series: Mapping[date, float], history: Mapping[date, float], today: date,
                 weeks: int = BASELINE_WEEKS) -> list[Band]:
    """The days of ``series`` outside their band."""
    return [b for b in bands(series, history, today, weeks) if b.unusual]


# ------------------------------------------------------------------ trending

@dataclass(frozen=True)
class Trend:
    """A page read now far above its usual rate."""

    title: str
    views: float  # in the last 30 minutes
    usual: float  # its usual 30 minutes
    paths: tuple[str, ...] = ()  # the paths with this title, most read first
    # The baseline was cut before this page: ``usual`` is the most it can be (the
    # ratio the least), not its rate.
    at_most: bool = False

    @property
    def ratio(self) -> float:
        """Views now over the usual 30 minutes (infinite for a page new to the baseline)."""
        return self.views / self.usual if self.usual > 0 else math.inf

    @property
    def new(self) -> bool:
        """No views at all in the baseline: no usual rate to compare with."""
        return self.usual <= 0 and not self.at_most

    @property
    def ambiguous(self) -> bool:
        return len(self.paths) > 1

    def label(self) -> str:
        """"×7.2 usual", "×72 usual" (or "new" for a page nobody read in the baseline)."""
        if self.new:
            return "new"
        more = "+" if self.at_most else ""
        return (f"×{self.ratio:,.0f}{more} usual" if self.ratio >= 10
                else f"×{self.ratio:.1f}{more} usual")


def usual_per_window(views_28_days: float, days: int = USUAL_DAYS) -> float:
    """A page's usual 30 minutes from its views over ``days`` days."""
    return views_28_days / (days * WINDOWS_PER_DAY)


def trending(now: Mapping[str, float], usual: Mapping[str, float],
             paths: Mapping[str, Sequence[str]], min_views: float, min_ratio: float,
             unlisted: float = 0.0) -> list[Trend]:
    """Titles read now at least ``min_views`` times in 30 minutes and at least
    ``min_ratio`` times their usual 30 minutes, the highest ratio first (then views).

    ``unlisted``: the most a title missing from ``usual`` can have had (0: the baseline
    lists every page read, so a missing title had no views and is new)."""
    out = [Trend(title, float(views), float(usual[title]), tuple(paths.get(title, ())))
           if title in usual else
           Trend(title, float(views), float(unlisted), tuple(paths.get(title, ())),
                 at_most=unlisted > 0)
           for title, views in now.items() if views >= min_views]
    out = [t for t in out if t.ratio >= min_ratio]
    return sorted(out, key=lambda t: (-t.ratio, -t.views, t.title))
