"""The stand-in's dimensions and metrics, and the rows they are computed over.

A request is answered over one of two kinds of rows: sessions, or events (when
it uses an event-scoped field such as ``eventName`` or ``pagePath``; a session
then counts in every row it has an event in, as in GA). A dimension turns rows
into integer codes and a code into GA's string; rows are grouped by that string,
so codes that share a label share a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from gadash.standin.traffic import (
    BROWSERS,
    CAMPAIGNS,
    CITIES,
    CONTINENTS,
    COUNTRIES,
    DEVICES,
    EUROPE,
    EVENT_NAMES,
    LANGUAGES,
    NOT_SET,
    OPERATING_SYSTEMS,
    SOURCES,
    Site,
    Traffic,
    query_label,
)

DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
HOSTS = {"blog": "blog.example.com", "shop": "shop.example.com", "news": "news.example.com"}


@dataclass(frozen=True)
class Rows:
    """The rows of one date range: contiguous slices of sessions, page views, events."""

    traffic: Traffic
    s0: int
    s1: int
    e0: int
    e1: int
    x0: int
    x1: int
    events: bool  # rows are events rather than sessions
    now: int  # local seconds, for minutesAgo
    base: np.ndarray | None = None  # rows of the slice that belong to the window

    def __len__(self) -> int:
        return (self.x1 - self.x0) if self.events else (self.s1 - self.s0)

    @cached_property
    def _views(self) -> np.ndarray:
        return self.traffic.x_view[self.x0 : self.x1]

    @cached_property
    def _sessions(self) -> np.ndarray:
        return self.traffic.e_session[self._views]

    def session_index(self) -> np.ndarray:
        if self.events:
            return self._sessions
        return np.arange(self.s0, self.s1)

    def col(self, name: str) -> np.ndarray:
        """A session, page-view or event column, broadcast to the rows."""
        arr = getattr(self.traffic, name)
        if name.startswith("x_"):
            return arr[self.x0 : self.x1]
        if name.startswith("e_"):
            return arr[self._views]
        if self.events:
            return arr[self._sessions]
        return arr[self.s0 : self.s1]


Label = Callable[[int, Site], str]


@dataclass(frozen=True)
class Dim:
    """A dimension: how to get integer codes for rows, and each code's label."""

    name: str
    ui: str
    category: str
    codes: Callable[[Rows], np.ndarray]
    label: Label
    event_scope: bool = False
    realtime: bool = False
    report: bool = True
    numeric: bool = False
    # Values past the property's cardinality limit fold into "(other)"; GA never
    # folds dates.
    foldable: bool = True
    description: str = ""


def _table(values: Sequence[str]) -> Label:
    return lambda code, site: values[code]


def _day_label(fmt: Callable[[date], str]) -> Label:
    return lambda code, site: fmt(date.fromordinal(code))


def _sunday_week(d: date) -> int:
    """GA's ``week``: weeks start on Sunday and January 1st is in week 01."""
    jan1 = date(d.year, 1, 1)
    offset = (jan1.weekday() + 1) % 7  # Sunday = 0
    return (d.timetuple().tm_yday - 1 + offset) // 7 + 1


def _country_of(code: int) -> str:
    return COUNTRIES[code][1]


def _continent(code: int) -> tuple[str, str]:
    iso = _country_of(code)
    if iso == NOT_SET:
        return (NOT_SET, NOT_SET)
    return CONTINENTS.get(iso, EUROPE)


def _s(name: str) -> Callable[[Rows], np.ndarray]:
    return lambda r: r.col(name)


def _time(name: str, ui: str, fmt: Callable[[date], str], desc: str) -> Dim:
    return Dim(name, ui, "Time", _s("s_day"), _day_label(fmt), numeric=True, foldable=False,
               description=desc)


def _pair(codes_a: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    return codes_a.astype(np.int64) * (1 << 32) + codes_b.astype(np.int64)


def _page_query(code: int, site: Site) -> str:
    return site.page_path(code >> 32) + query_label(code & 0xFFFFFFFF)


_SRC = [s[0] for s in SOURCES]
_MED = [s[1] for s in SOURCES]
_SRCMED = [f"{s[0]} / {s[1]}" for s in SOURCES]
_CHANNEL = [s[2] for s in SOURCES]

_DIMS: list[Dim] = [
    _time("date", "Date", lambda d: d.strftime("%Y%m%d"), "The date, YYYYMMDD."),
    Dim("dateHour", "Date + hour (YYYYMMDDHH)", "Time", lambda r: r.col("s_start") // 3600,
        lambda c, s: date.fromordinal(c // 24).strftime("%Y%m%d") + f"{c % 24:02d}",
        numeric=True, foldable=False),
    Dim("dateHourMinute", "Date hour and minute", "Time", lambda r: r.col("s_start") // 60,
        lambda c, s: date.fromordinal(c // 1440).strftime("%Y%m%d")
        + f"{c % 1440 // 60:02d}{c % 60:02d}", numeric=True, foldable=False),
    Dim("hour", "Hour", "Time", lambda r: (r.col("s_start") % 86400) // 3600,
        lambda c, s: f"{c:02d}", numeric=True, foldable=False),
    _time("day", "Day", lambda d: f"{d.day:02d}", "Day of the month, 01 to 31."),
    Dim("dayOfWeek", "Day of week", "Time", lambda r: r.col("s_day") % 7,
        lambda c, s: str(c), numeric=True, foldable=False,
        description="Day of the week, 0 (Sunday) to 6 (Saturday)."),
    Dim("dayOfWeekName", "Day of week name", "Time", lambda r: r.col("s_day") % 7,
        _table(DAY_NAMES), foldable=False),
    _time("month", "Month", lambda d: f"{d.month:02d}", "Month, 01 to 12."),
    _time("year", "Year", lambda d: f"{d.year:04d}", "Four-digit year."),
    _time("yearMonth", "Year month", lambda d: f"{d.year:04d}{d.month:02d}", "YYYYMM."),
    _time("week", "Week", lambda d: f"{_sunday_week(d):02d}",
          "Week of the year, 01 to 53; weeks start on Sunday, January 1st is in week 01."),
    _time("yearWeek", "Year week", lambda d: f"{d.year:04d}{_sunday_week(d):02d}",
          "Year and Sunday-based week, YYYYWW."),
    _time("isoWeek", "ISO week of the year", lambda d: f"{d.isocalendar()[1]:02d}",
          "ISO 8601 week, 01 to 53."),
    _time("isoYear", "ISO year", lambda d: f"{d.isocalendar()[0]:04d}", "ISO 8601 year."),
    _time("isoYearIsoWeek", "ISO week of ISO year",
          lambda d: f"{d.isocalendar()[0]:04d}{d.isocalendar()[1]:02d}",
          "ISO 8601 year and week, YYYYWW."),
    Dim("sessionSource", "Session source", "Traffic source", _s("s_source"), _table(_SRC)),
    Dim("sessionMedium", "Session medium", "Traffic source", _s("s_source"), _table(_MED)),
    Dim("sessionSourceMedium", "Session source / medium", "Traffic source", _s("s_source"),
        _table(_SRCMED)),
    Dim("sessionDefaultChannelGroup", "Session default channel group", "Traffic source",
        _s("s_source"), _table(_CHANNEL)),
    Dim("sessionCampaignName", "Session campaign", "Traffic source", _s("s_campaign"),
        _table(CAMPAIGNS)),
    Dim("firstUserSource", "First user source", "Traffic source", _s("s_first_source"),
        _table(_SRC)),
    Dim("firstUserMedium", "First user medium", "Traffic source", _s("s_first_source"),
        _table(_MED)),
    Dim("firstUserSourceMedium", "First user source / medium", "Traffic source",
        _s("s_first_source"), _table(_SRCMED)),
    Dim("firstUserDefaultChannelGroup", "First user default channel group", "Traffic source",
        _s("s_first_source"), _table(_CHANNEL)),
    Dim("firstUserCampaignName", "First user campaign", "Traffic source",
        _s("s_first_campaign"), _table(CAMPAIGNS)),
    Dim("country", "Country", "Geography", _s("s_country"),
        _table([c[0] for c in COUNTRIES]), realtime=True),
    Dim("countryId", "Country ID", "Geography", _s("s_country"),
        _table([c[1] for c in COUNTRIES]), realtime=True),
    Dim("continent", "Continent", "Geography", _s("s_country"),
        lambda c, s: _continent(c)[0]),
    Dim("continentId", "Continent ID", "Geography", _s("s_country"),
        lambda c, s: _continent(c)[1]),
    Dim("region", "Region", "Geography", _s("s_city"), _table([c[1] for c in CITIES])),
    Dim("city", "City", "Geography", _s("s_city"), _table([c[0] for c in CITIES]),
        realtime=True),
    Dim("cityId", "City ID", "Geography", _s("s_city"), _table([c[3] for c in CITIES]),
        realtime=True),
    Dim("language", "Language", "Demographics", _s("s_language"),
        _table([lang[0] for lang in LANGUAGES])),
    Dim("languageCode", "Language code", "Demographics", _s("s_language"),
        _table([lang[1] for lang in LANGUAGES])),
    Dim("deviceCategory", "Device category", "Platform / device", _s("s_device"),
        _table([d[0] for d in DEVICES]), realtime=True),
    Dim("browser", "Browser", "Platform / device", _s("s_browser"),
        _table([b[0] for b in BROWSERS])),
    Dim("operatingSystem", "Operating system", "Platform / device", _s("s_os"),
        _table(OPERATING_SYSTEMS)),
    Dim("platform", "Platform", "Platform / device", lambda r: np.zeros(len(r), np.int64),
        lambda c, s: "web", realtime=True),
    Dim("platformDeviceCategory", "Platform / device category", "Platform / device",
        _s("s_device"), _table([f"web / {d[0]}" for d in DEVICES])),
    Dim("newVsReturning", "New / returning", "User",
        lambda r: (~r.col("s_new")).astype(np.int64), _table(["new", "returning"])),
    Dim("hostName", "Hostname", "Page / screen", lambda r: np.zeros(len(r), np.int64),
        lambda c, s: HOSTS[s.kind]),
    Dim("landingPage", "Landing page", "Page / screen", _s("s_landing"),
        lambda c, s: s.page_path(c)),
    Dim("landingPagePlusQueryString", "Landing page + query string", "Page / screen",
        lambda r: _pair(r.col("s_landing"), r.col("s_landing_query")), _page_query),
    Dim("pagePath", "Page path", "Page / screen", _s("e_page"),
        lambda c, s: s.page_path(c), event_scope=True),
    Dim("pagePathPlusQueryString", "Page path + query string", "Page / screen",
        lambda r: _pair(r.col("e_page"), r.col("e_query")), _page_query, event_scope=True),
    Dim("pageTitle", "Page title", "Page / screen", _s("e_page"),
        lambda c, s: s.page_title(c), event_scope=True),
    Dim("unifiedScreenName", "Page title and screen name", "Page / screen", _s("e_page"),
        lambda c, s: s.page_title(c), event_scope=True, realtime=True),
    Dim("eventName", "Event name", "Event", _s("x_name"), _table(EVENT_NAMES),
        event_scope=True, realtime=True),
    Dim("isKeyEvent", "Is key event", "Event", _s("x_name"),
        lambda c, s: "true" if EVENT_NAMES[c] in s.key_events else "false", event_scope=True),
    Dim("minutesAgo", "Minutes ago", "Time", lambda r: (r.now - r.col("e_time")) // 60,
        lambda c, s: f"{c:02d}", event_scope=True, realtime=True, report=False, numeric=True,
        foldable=False),
]
DIMENSIONS: dict[str, Dim] = {d.name: d for d in _DIMS}


@dataclass(frozen=True)
class Met:
    name: str
    ui: str
    type_: str
    category: str
    realtime: bool = False
    report: bool = True
    expression: str = ""


METRICS: dict[str, Met] = {
    m.name: m
    for m in [
        Met("sessions", "Sessions", "TYPE_INTEGER", "Session"),
        Met("engagedSessions", "Engaged sessions", "TYPE_INTEGER", "Session"),
        Met("totalUsers", "Total users", "TYPE_INTEGER", "User"),
        Met("activeUsers", "Active users", "TYPE_INTEGER", "User", realtime=True),
        Met("newUsers", "New users", "TYPE_INTEGER", "User"),
        Met("screenPageViews", "Views", "TYPE_INTEGER", "Page / screen", realtime=True),
        Met("eventCount", "Event count", "TYPE_INTEGER", "Event", realtime=True),
        Met("keyEvents", "Key events", "TYPE_INTEGER", "Event", realtime=True),
        Met("transactions", "Transactions", "TYPE_INTEGER", "Ecommerce"),
        Met("ecommercePurchases", "Ecommerce purchases", "TYPE_INTEGER", "Ecommerce"),
        Met("totalPurchasers", "Total purchasers", "TYPE_INTEGER", "User"),
        Met("totalRevenue", "Total revenue", "TYPE_CURRENCY", "Revenue"),
        Met("purchaseRevenue", "Purchase revenue", "TYPE_CURRENCY", "Revenue"),
        Met("averagePurchaseRevenue", "Average purchase revenue", "TYPE_CURRENCY", "Revenue",
            expression="purchaseRevenue/transactions"),
        Met("averageRevenuePerUser", "ARPU", "TYPE_CURRENCY", "Revenue",
            expression="totalRevenue/activeUsers"),
        Met("averageSessionDuration", "Average session duration", "TYPE_SECONDS", "Session"),
        Met("userEngagementDuration", "User engagement", "TYPE_SECONDS", "User"),
        Met("bounceRate", "Bounce rate", "TYPE_FLOAT", "Session",
            expression="1 - engagedSessions/sessions"),
        Met("engagementRate", "Engagement rate", "TYPE_FLOAT", "Session",
            expression="engagedSessions/sessions"),
        Met("sessionKeyEventRate", "Session key event rate", "TYPE_FLOAT", "Session"),
        Met("userKeyEventRate", "User key event rate", "TYPE_FLOAT", "User"),
        Met("eventCountPerUser", "Event count per active user", "TYPE_FLOAT", "Event",
            expression="eventCount/activeUsers"),
        Met("eventsPerSession", "Events per session", "TYPE_FLOAT", "Event",
            expression="eventCount/sessions"),
        Met("screenPageViewsPerSession", "Views per session", "TYPE_FLOAT", "Page / screen",
            expression="screenPageViews/sessions"),
        Met("screenPageViewsPerUser", "Views per user", "TYPE_FLOAT", "Page / screen",
            expression="screenPageViews/activeUsers"),
        Met("sessionsPerUser", "Sessions per user", "TYPE_FLOAT", "Session",
            expression="sessions/totalUsers"),
    ]
}
INTEGER_METRICS = {m.name for m in METRICS.values() if m.type_ == "TYPE_INTEGER"}
CURRENCY_METRICS = {m.name for m in METRICS.values() if m.type_ == "TYPE_CURRENCY"}
USER_METRICS = {"totalUsers", "activeUsers", "newUsers", "totalPurchasers", "userKeyEventRate",
                "eventCountPerUser", "screenPageViewsPerUser", "sessionsPerUser",
                "averageRevenuePerUser"}
