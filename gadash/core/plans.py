"""Which reports each page asks GA for: the query layer between pages and the service.

GA call budget of a view (kept by tests/sources/test_paging.py): one batchRunReports call
of at most five reports; a second one, when comparing, for the comparison
values of the top-N tables; plus further pages where a report passes its first
page (up to its cap).
"""

from __future__ import annotations

from datetime import date, timedelta

from gadash.core.catalog import CHANGE_DIMENSIONS, TREND_PANELS, get_panel
from gadash.core.insights.rules import BASELINE_WEEKS, USUAL_DAYS
from gadash.core.query import DateRange, Filters, ReportQuery
from gadash.errors import QueryError

GRAINS: dict[str, str] = {
    "auto": "Automatic",
    "day": "Day",
    "week": "Week",
    "month": "Month",
}
# Automatic grain: hours for a single day, weeks past 90 days, months past two years.
WEEKS_AFTER_DAYS = 90
MONTHS_AFTER_DAYS = 731

ANALYST_PANELS = ("sources", "pages", "audience", "landing")
TV_PANELS = ("sources", "pages")


def resolve_grain(grain: str, current: DateRange) -> str:
    """The grain a trend is drawn at: the one asked for, or the automatic one."""
    if grain in ("day", "week", "month"):
        return grain
    if current.days == 1:
        return "hour"
    if current.days > MONTHS_AFTER_DAYS:
        return "month"
    if current.days > WEEKS_AFTER_DAYS:
        return "week"
    return "day"


def trend_panel(grain: str, current: DateRange) -> str:
    return TREND_PANELS[resolve_grain(grain, current)]


def view_query(property_id: str, ranges: tuple[DateRange, ...], filters: Filters,
               fields: frozenset[str], grain: str = "auto", cutoff: int | None = None
               ) -> ReportQuery:
    """The analyst view's reports: trend (with the KPI totals), sources (with
    channels), pages, audience, landing pages; channels' comparison values when
    comparing.

    Metrics the property does not offer (GetMetadata says) are left out; a table
    whose dimensions it lacks is left out whole. ``cutoff``: like for like
    (``core.query.cutoff_hour``), in every report.
    """
    panels = [trend_panel(grain, ranges[0]), *ANALYST_PANELS]
    if len(ranges) > 1:
        panels.append("channels")
    panels = _offered(panels, fields)
    return ReportQuery(property_id, tuple(panels), ranges, filters,
                       omit=_missing(panels, fields), cutoff=cutoff)


def tv_query(property_id: str, ranges: tuple[DateRange, ...], fields: frozenset[str],
             grain: str = "auto", cutoff: int | None = None) -> ReportQuery:
    """The big screen's overview: trend and KPI totals, sources (and channels), pages.

    The TV lists the current period's top rows without comparison values, so it
    costs one batch call.
    """
    panels = _offered([trend_panel(grain, ranges[0]), *TV_PANELS], fields)
    return ReportQuery(property_id, tuple(panels), ranges, omit=_missing(panels, fields),
                       compare_tables=False, cutoff=cutoff)


def choices_query(property_id: str, current: DateRange, filters: Filters, name: str,
                  fields: frozenset[str]) -> ReportQuery:
    """The values a filter picker offers: one report of the filter's dimension over the
    current period, under the other filters (its own would hide the alternatives).
    Raises QueryError when the property has no such dimension."""
    panel = get_panel(f"choices_{name}")
    if fields and not set(panel.dimensions) <= fields:
        raise QueryError(f"This property has no {panel.dimensions[0]} dimension in GA.")
    return ReportQuery(property_id, (panel.id,), (current,), filters.without(name))


def changes_query(property_id: str, ranges: tuple[DateRange, ...], filters: Filters,
                  fields: frozenset[str], cutoff: int | None = None) -> ReportQuery:
    """"What changed": one report per dimension with both periods, one batch call, like
    for like as the view (``cutoff``). Raises QueryError without a comparison period."""
    if len(ranges) < 2:
        raise QueryError("What changed needs a comparison period.")
    panels = _offered([f"changes_{name}" for name in CHANGE_DIMENSIONS], fields)
    return ReportQuery(property_id, tuple(panels), ranges[:2], filters,
                       omit=_missing(panels, fields), compare_tables=False, cutoff=cutoff)


def baseline_query(property_id: str, current: DateRange, filters: Filters,
                   fields: frozenset[str]) -> ReportQuery:
    """The daily series an unusual day is judged against: 8 weeks before the range,
    and the range itself. One report, one batch call."""
    start = current.start - timedelta(weeks=BASELINE_WEEKS)
    return ReportQuery(property_id, ("baseline",), (DateRange(start, current.end),), filters,
                       omit=_missing(["baseline"], fields))


def digest_query(property_id: str, ranges: tuple[DateRange, ...], filters: Filters,
                 fields: frozenset[str], grain: str = "auto", cutoff: int | None = None
                 ) -> ReportQuery:
    """A scheduled digest's reports, in one batch call: the view's trend with its KPI
    totals; when comparing, what changed by source (channels within), landing page, and
    country and device together (``CHANGE_SPLITS``); for a daily trend, the baseline
    unusual days are judged against, over its own whole days."""
    trend = trend_panel(grain, ranges[0])
    panels = [trend]
    if len(ranges) > 1:
        panels += ["changes_source", "changes_landing", "changes_audience"]
    spans: tuple[tuple[str, DateRange], ...] = ()
    if trend == "trend":
        panels.append("baseline")
        spans = (("baseline", baseline_query(property_id, ranges[0], filters,
                                             fields).ranges[0]),)
    panels = _offered(panels, fields)
    return ReportQuery(property_id, tuple(panels), ranges[:2], filters,
                       omit=_missing(panels, fields), compare_tables=False, cutoff=cutoff,
                       spans=tuple(s for s in spans if s[0] in panels))


def trending_queries(property_id: str, today: date, fields: frozenset[str]
                     ) -> tuple[ReportQuery, ReportQuery]:
    """Pages trending now: the usual reading (28 whole days, one report; the same all
    day, so cached like any past range) and the realtime views with their countries."""
    usual = DateRange(today - timedelta(days=USUAL_DAYS), today - timedelta(days=1))
    return (ReportQuery(property_id, ("trending_usual",), (usual,),
                        omit=_missing(["trending_usual"], fields)),
            ReportQuery(property_id, ("trending_now", "trending_countries"), ()))


def _offered(panels: list[str], fields: frozenset[str]) -> list[str]:
    if not fields:
        return panels
    return [p for p in panels
            if p.startswith("trend") or set(get_panel(p).dimensions) <= fields]


def _missing(panels: list[str], fields: frozenset[str]) -> frozenset[str]:
    if not fields:
        return frozenset()
    wanted = {m for p in panels for m in get_panel(p).metrics}
    return frozenset(wanted - fields)
