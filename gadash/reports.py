"""The report catalog: each panel's dimensions, metrics, order and limit, declared once."""

from __future__ import annotations

from dataclasses import dataclass

from gadash.errors import QueryError


@dataclass(frozen=True)
class Order:
    """Sort rows by a field; ``metric`` tells GA which kind of field it is."""

    field: str
    desc: bool = False
    metric: bool = False


@dataclass(frozen=True)
class Panel:
    """One report: what to ask GA for a panel of the dashboard."""

    id: str
    title: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    order: tuple[Order, ...] = ()
    limit: int = 10_000
    totals: bool = False
    realtime: bool = False


KPI_METRICS = (
    "totalUsers",
    "sessions",
    "screenPageViews",
    "averageSessionDuration",
    "engagementRate",
    "bounceRate",
)

PANELS: dict[str, Panel] = {
    p.id: p
    for p in [
        # The KPI tiles read this panel's totals, so they cost no report of their own.
        Panel("trend", "Trend", ("date",), KPI_METRICS, (Order("date"),), limit=2000,
              totals=True),
        Panel("trend_hourly", "Trend", ("dateHour",), KPI_METRICS, (Order("dateHour"),),
              limit=2000, totals=True),
        Panel(
            "sources", "How did people find our pages?", ("sessionSource", "sessionMedium"),
            ("sessions", "screenPageViews", "averageSessionDuration", "totalUsers",
             "engagementRate"),
            (Order("sessions", desc=True, metric=True),), limit=250,
        ),
        Panel(
            "pages", "Top pages", ("pagePath", "pageTitle"),
            ("screenPageViews", "totalUsers", "userEngagementDuration", "bounceRate", "sessions"),
            (Order("screenPageViews", desc=True, metric=True),), limit=250,
        ),
        Panel(
            "landing", "Landing pages", ("landingPage",), ("sessions",),
            (Order("sessions", desc=True, metric=True),), limit=1000,
        ),
        Panel(
            "countries", "Countries", ("country", "countryId"), ("totalUsers", "sessions"),
            (Order("totalUsers", desc=True, metric=True),), limit=250,
        ),
        Panel(
            "devices", "Devices", ("deviceCategory",), ("totalUsers", "sessions",
                                                        "screenPageViews"),
            (Order("totalUsers", desc=True, metric=True),), limit=20,
        ),
        # Countries and devices from one report, so a view fits one batch of five.
        # Sessions and views add up across devices; users would not.
        Panel(
            "audience", "Countries and devices", ("country", "deviceCategory"),
            ("sessions", "screenPageViews"),
            (Order("sessions", desc=True, metric=True),), limit=2000,
        ),
        Panel(
            "realtime", "Active users, last 30 minutes", ("minutesAgo",), ("activeUsers",),
            (Order("minutesAgo"),), limit=60, totals=True, realtime=True,
        ),
        Panel(
            "realtime_pages", "Pages being read now", ("unifiedScreenName",),
            ("activeUsers", "screenPageViews"),
            (Order("activeUsers", desc=True, metric=True),), limit=20, realtime=True,
        ),
    ]
}


def get_panel(panel_id: str) -> Panel:
    """Look a panel up by id. Raises QueryError for an unknown id."""
    try:
        return PANELS[panel_id]
    except KeyError:
        known = ", ".join(sorted(PANELS))
        raise QueryError(f"Unknown panel {panel_id!r}; known panels: {known}.") from None
