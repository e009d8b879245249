"""The report catalog: each panel's dimensions, metrics, order and limit, declared once;
the analyst filters (``FILTERS``), the metric lists and the trend grains, the one home of
each of these names (everything else derives from them)."""

from __future__ import annotations

from dataclasses import dataclass

from gadash.errors import QueryError

OTHER = "(other)"  # GA's row of rare values past a report's cardinality limit


@dataclass(frozen=True)
class Filter:
    """An analyst filter: its name (URL parameter, ``Filters`` field), the GA dimension
    it filters, its label, the match a bare ``name=value`` means, and the metric its
    picker ranks values by."""

    name: str
    dimension: str
    label: str
    match: str = "is"
    ranked_by: str = "sessions"


# In the order the pickers, chips and URLs list them.
FILTERS: dict[str, Filter] = {f.name: f for f in (
    Filter("source", "sessionSource", "Source"),
    Filter("medium", "sessionMedium", "Medium"),
    Filter("channel", "sessionDefaultChannelGroup", "Channel"),
    Filter("country", "country", "Country"),
    Filter("device", "deviceCategory", "Device"),
    # A page path contains the text (grammar 1 meant that too).
    Filter("page", "pagePath", "Page", match="contains", ranked_by="screenPageViews"),
    # The page a session started on, exactly (as the landing table lists it): a landing
    # page is picked from GA's list or clicked in the table, and "contains /" would
    # mean every page. The sessions it gives are that table row's.
    Filter("landing", "landingPage", "Landing page"),
)}
# GA dimension -> the filter on it
FILTER_OF_DIMENSION = {f.dimension: f.name for f in FILTERS.values()}


@dataclass(frozen=True)
class Order:
    """Sort rows by a field; ``metric`` tells GA which kind of field it is."""

    field: str
    desc: bool = False
    metric: bool = False


@dataclass(frozen=True)
class Panel:
    """One report: what to ask GA for a panel of the dashboard.

    ``limit`` is the page size asked of GA; when GA's ``rowCount`` says there is
    more, further pages are fetched up to ``cap`` rows (a note says when the cap
    cut the answer). ``keys`` marks a top-N table: its first answer covers the
    current period only, and the comparison period is asked afterwards for
    exactly the rows shown (an in-list filter on these dimensions).
    """

    id: str
    title: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    order: tuple[Order, ...] = ()
    limit: int = 10_000
    cap: int = 0  # 0: no more than the first page
    totals: bool = False
    realtime: bool = False
    keys: tuple[str, ...] = ()
    shown: int = 0  # rows a table shows (0: all); comparisons cover these
    after: str = ""  # asked only for the comparison, for the rows of this panel
    current_only: bool = False  # nothing on screen compares it: one date range
    ttl: int = 0  # seconds fresh when longer than the usual TTL (whole past days)

    @property
    def max_rows(self) -> int:
        return max(self.limit, self.cap)


KPI_METRICS = (
    "totalUsers",
    "sessions",
    "screenPageViews",
    "averageSessionDuration",
    "engagementRate",
    "bounceRate",
)
# GA4 renamed conversions to key events (2024); revenue metrics answer 0 on a
# property without e-commerce, and the dashboard then leaves them out.
KEY_EVENT_METRICS = ("keyEvents", "sessionKeyEventRate")
REVENUE_METRICS = ("totalRevenue", "transactions")
OUTCOME_METRICS = KEY_EVENT_METRICS + REVENUE_METRICS
TREND_METRICS = KPI_METRICS + OUTCOME_METRICS  # 10: the most GA takes in one report

# Trend grains: the time dimension GA groups by, and its panel.
GRAIN_DIMENSIONS = {
    "hour": "dateHour",
    "day": "date",
    "week": "isoYearIsoWeek",
    "month": "yearMonth",
}
TREND_PANELS = {
    "hour": "trend_hourly",
    "day": "trend",
    "week": "trend_week",
    "month": "trend_month",
}
# trend panel -> its time dimension
TREND_TIME = {TREND_PANELS[grain]: dim for grain, dim in GRAIN_DIMENSIONS.items()}
# A daily trend over GA4's whole history is about 4,100 rows; the cap keeps a
# runaway request bounded all the same.
_TREND_CAP = 20_000
_SOURCE_METRICS = ("sessions", "engagedSessions", "screenPageViews", "averageSessionDuration",
                   "totalUsers", "engagementRate", "keyEvents", "sessionKeyEventRate",
                   "totalRevenue")
_BY_SESSIONS = (Order("sessions", desc=True, metric=True),)


def _trend(grain: str) -> Panel:
    time = GRAIN_DIMENSIONS[grain]
    return Panel(TREND_PANELS[grain], "Trend", (time,), TREND_METRICS, (Order(time),),
                 limit=5_000, cap=_TREND_CAP, totals=True)


PANELS: dict[str, Panel] = {
    p.id: p
    for p in [
        # The KPI tiles read the trend's totals, so they cost no report of their own.
        *(_trend(g) for g in GRAIN_DIMENSIONS),
        # Channels roll up from this report (a channel is a function of source and
        # medium), so it is fetched whole while the table shows its top rows.
        Panel(
            "sources", "How did people find our pages?",
            ("sessionSource", "sessionMedium", "sessionDefaultChannelGroup"), _SOURCE_METRICS,
            _BY_SESSIONS, limit=10_000, cap=100_000,
            keys=("sessionSource", "sessionMedium", "sessionDefaultChannelGroup"), shown=250,
        ),
        # Asked for the comparison period only: current channel values come from "sources".
        Panel(
            "channels", "Channels", ("sessionDefaultChannelGroup",),
            ("sessions", "engagedSessions", "keyEvents", "sessionKeyEventRate", "totalRevenue"),
            _BY_SESSIONS, limit=100, keys=("sessionDefaultChannelGroup",), after="sources",
        ),
        Panel(
            "pages", "Top pages", ("pagePath", "pageTitle"),
            ("screenPageViews", "totalUsers", "userEngagementDuration", "bounceRate", "sessions",
             "keyEvents"),
            (Order("screenPageViews", desc=True, metric=True),), limit=250,
            keys=("pagePath", "pageTitle"),
        ),
        Panel(
            "landing", "Landing pages", ("landingPage",),
            ("sessions", "engagedSessions", "engagementRate", "averageSessionDuration",
             "keyEvents", "sessionKeyEventRate", "totalRevenue"),
            _BY_SESSIONS, limit=250, keys=("landingPage",),
        ),
        # Countries, devices and new vs returning from one report, so a view fits one
        # batch of five. Sessions and views add up across these; users would not.
        Panel(
            "audience", "Audience", ("country", "deviceCategory", "newVsReturning"),
            ("sessions", "screenPageViews", "engagedSessions", "keyEvents", "totalRevenue"),
            _BY_SESSIONS, limit=10_000, cap=50_000, current_only=True,
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


# What a filter picker offers: a dimension's values over the current period, the
# most visited first (asked when the picker opens, one report, cached like a view).
CHOICE_DIMENSIONS = {f.name: f.dimension for f in FILTERS.values()}
CHOICE_LIMIT = 1_000
for _name, _dim in CHOICE_DIMENSIONS.items():
    _metric = FILTERS[_name].ranked_by
    PANELS[f"choices_{_name}"] = Panel(
        f"choices_{_name}", f"Values of {_dim}", (_dim,), (_metric,),
        (Order(_metric, desc=True, metric=True),), limit=CHOICE_LIMIT, current_only=True)


# "What changed": sessions and key events by each dimension an analyst acts on, both
# periods in one report each; the five fit one batch call. A report holds every value
# of both periods up to its page (a news site's landing pages pass 500 in two weeks),
# and pages on to its cap like other reports; past the cap, a value listed in one
# period only is cut in the other (not 0). Totals let the values not listed count as
# one remainder, so contributions add up to the whole change.
CHANGE_DIMENSIONS = {
    "source": ("sessionSource", "sessionMedium"),
    "channel": ("sessionDefaultChannelGroup",),
    "landing": ("landingPage",),
    "country": ("country",),
    "device": ("deviceCategory",),
}
CHANGE_METRICS = ("sessions", "keyEvents")
CHANGE_PAGE = 10_000  # rows of both periods in the first answer
CHANGE_CAP = 50_000
# Which filters a value of each dimension sets when applied (exact values): each
# dimension's own filter, so the view then counts the sessions the sentence counted.
CHANGE_FILTERS = {"source": ("source", "medium"), "channel": ("channel",),
                  "landing": ("landing",), "country": ("country",), "device": ("device",)}
if set(CHANGE_FILTERS) != set(CHANGE_DIMENSIONS) or not all(
        f in FILTERS for names in CHANGE_FILTERS.values() for f in names):
    raise AssertionError("CHANGE_FILTERS must name a filter for each change dimension")
# A value's home in a coarser dimension, asked with it: a source / medium's channel (a
# channel is a function of source and medium), so a source that is all of its channel's
# change is told once.
CHANGE_WITHIN = {"source": "channel"}
for _name, _dims in CHANGE_DIMENSIONS.items():
    _asked = _dims + (CHANGE_DIMENSIONS[CHANGE_WITHIN[_name]] if _name in CHANGE_WITHIN else ())
    PANELS[f"changes_{_name}"] = Panel(
        f"changes_{_name}", f"What changed by {', '.join(_dims)}", _asked, CHANGE_METRICS,
        _BY_SESSIONS, limit=CHANGE_PAGE, cap=CHANGE_CAP, totals=True)

# A digest asks the audience's two dimensions in one report and splits it (sessions
# and key events add up over the other dimension's values), and takes the channels
# from the sources' report (a channel is a function of source and medium): its trend,
# baseline and every dimension of what changed fit one batch call of five reports.
PANELS["changes_audience"] = Panel(
    "changes_audience", "What changed by country and device", ("country", "deviceCategory"),
    CHANGE_METRICS, _BY_SESSIONS, limit=CHANGE_PAGE, cap=CHANGE_CAP, totals=True)
CHANGE_SPLITS = {"channel": "changes_source", "country": "changes_audience",
                 "device": "changes_audience"}

# Unusual days: the daily series from 8 weeks before the range to its end, one range,
# so each day has its earlier same weekdays (the KPI totals stay the range's own).
PANELS["baseline"] = Panel("baseline", "Daily baseline", ("date",), ("sessions", "keyEvents"),
                           (Order("date"),), limit=5_000, current_only=True)

# Trending: views per title and path over the last 28 whole days (each page's usual
# 30 minutes, and the paths a realtime title stands for), and realtime views per title,
# with the readers' countries.
PANELS["trending_usual"] = Panel(
    "trending_usual", "Usual reading", ("pageTitle", "pagePath"), ("screenPageViews",),
    (Order("screenPageViews", desc=True, metric=True),), limit=10_000, current_only=True,
    ttl=6 * 3600)
PANELS["trending_now"] = Panel(
    "trending_now", "Pages read now", ("unifiedScreenName",), ("screenPageViews",),
    (Order("screenPageViews", desc=True, metric=True),), limit=100, realtime=True)
PANELS["trending_countries"] = Panel(
    "trending_countries", "Where readers are", ("unifiedScreenName", "country"),
    ("screenPageViews",), (Order("screenPageViews", desc=True, metric=True),), limit=1_000,
    realtime=True)


def get_panel(panel_id: str) -> Panel:
    """Look a panel up by id. Raises QueryError for an unknown id."""
    try:
        return PANELS[panel_id]
    except KeyError:
        known = ", ".join(sorted(PANELS))
        raise QueryError(f"Unknown panel {panel_id!r}; known panels: {known}.") from None
