"""The stand-in's dimensions and metrics, and the rows they are computed over.

A request is answered over one of three kinds of rows: sessions; events (when it
uses an event-scoped dimension such as ``eventName``, ``pagePath`` or a
``customEvent:`` dimension; a session then counts in every row it has an event
in, as in GA); or items (when it uses an item-scoped dimension such as
``itemName``: one row per product of a ``view_item``, ``add_to_cart`` or
``purchase`` event). A dimension turns rows into integer codes and a code into
GA's string; rows are grouped by that string, so codes that share a label share
a row. Sums of event or item values (custom event metrics, item metrics) reach
session and event rows by adding up each row's events or items.

Besides GA's universal fields, each demo property has its custom definitions
(``customEvent:``/``customUser:`` dimensions and ``customEvent:`` metrics, in
GA's category "Custom") and its key events' own metrics (``keyEvents:<event>``,
``sessionKeyEventRate:<event>``, ``userKeyEventRate:<event>``); ``fields_for``
gives a kind of site's fields, universal ones first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from gadash.standin import custom
from gadash.standin.items import PRODUCTS, items_of
from gadash.standin.traffic import (
    BROWSERS,
    CAMPAIGNS,
    CITIES,
    CONTINENTS,
    COUNTRIES,
    DEVICES,
    EUROPE,
    EV,
    EVENT_NAMES,
    LANGUAGES,
    NOT_SET,
    OPERATING_SYSTEMS,
    SITES,
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
    items: bool = False  # rows are the items of the events (not sessions, not events)

    def __len__(self) -> int:
        if self.items:
            return self._item_span[1] - self._item_span[0]
        return (self.x1 - self.x0) if self.events else (self.s1 - self.s0)

    @cached_property
    def _views(self) -> np.ndarray:
        return self.traffic.x_view[self.x0 : self.x1]

    @cached_property
    def _sessions(self) -> np.ndarray:
        return self.traffic.e_session[self._views]

    @cached_property
    def _item_span(self) -> tuple[int, int]:
        """The item rows of the window's events."""
        i0, i1 = np.searchsorted(items_of(self.traffic).event, [self.x0, self.x1])
        return int(i0), int(i1)

    @cached_property
    def _item_events(self) -> np.ndarray:
        return items_of(self.traffic).event[slice(*self._item_span)]

    @cached_property
    def _item_views(self) -> np.ndarray:
        return self.traffic.x_view[self._item_events]

    @cached_property
    def _item_sessions(self) -> np.ndarray:
        return self.traffic.e_session[self._item_views]

    def session_index(self) -> np.ndarray:
        if self.items:
            return self._item_sessions
        if self.events:
            return self._sessions
        return np.arange(self.s0, self.s1)

    def col(self, name: str) -> np.ndarray:
        """A session, page-view, event or item column, broadcast to the rows."""
        if name.startswith("i_"):
            return getattr(items_of(self.traffic), name[2:])[slice(*self._item_span)]
        arr = getattr(self.traffic, name)
        if self.items:
            if name.startswith("x_"):
                return arr[self._item_events]
            if name.startswith("e_"):
                return arr[self._item_views]
            return arr[self._item_sessions]
        if name.startswith("x_"):
            return arr[self.x0 : self.x1]
        if name.startswith("e_"):
            return arr[self._views]
        if self.events:
            return arr[self._sessions]
        return arr[self.s0 : self.s1]

    def window_items(self, name: str) -> np.ndarray:
        """A column of the window's item rows, whatever the rows are: ``i_`` columns of the
        items, ``x_`` columns of their events."""
        if name.startswith("i_"):
            return getattr(items_of(self.traffic), name[2:])[slice(*self._item_span)]
        return getattr(self.traffic, name)[self._item_events]

    def event_rows(self) -> np.ndarray:
        """The absolute event index of each row (event and item rows)."""
        if self.items:
            return self._item_events
        return np.arange(self.x0, self.x1)

    def from_events(self, values: np.ndarray) -> np.ndarray:
        """Values of the events ``[x0, x1)`` as the rows' values: summed per session on
        session rows. Raises ValueError on item rows (an event's value is no item's)."""
        if self.events:
            return values
        if self.items:
            raise ValueError("event values do not add up over items")
        return np.bincount(self._sessions - self.s0, weights=values,
                           minlength=self.s1 - self.s0)

    def from_items(self, values: np.ndarray) -> np.ndarray:
        """Values of the window's item rows as the rows' values: summed per event on
        event rows, per session on session rows."""
        if self.items:
            return values
        if self.events:
            return np.bincount(self._item_events - self.x0, weights=values,
                               minlength=self.x1 - self.x0)
        return np.bincount(self._item_sessions - self.s0, weights=values,
                           minlength=self.s1 - self.s0)


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
    item_scope: bool = False  # read from the items of e-commerce events
    sites: tuple[str, ...] = ()  # the kinds of site that have it; () for every property
    custom: bool = False  # a custom definition of the property (GA's custom_definition)


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
    """A metric. Most are computed by name in ``engine.aggregate``; ``sum_of`` gives the
    per-row values of a summed one, ``key_event`` the event of a key event's metric."""

    name: str
    ui: str
    type_: str
    category: str
    realtime: bool = False
    report: bool = True
    expression: str = ""
    scope: str = ""  # "item" for item metrics, "event" for custom event metrics
    sites: tuple[str, ...] = ()  # the kinds of site that have it; () for every property
    custom: bool = False
    description: str = ""
    sum_of: Callable[[Rows], np.ndarray] | None = None
    key_event: str = ""


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


# ---------------------------------------------------------------- campaign tags

def _campaign_codes(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
                    ) -> Callable[[Rows], np.ndarray]:
    return lambda r: fn(r.col("s_campaign"), r.col("s_user"), r.col("s_start"))


_MANUAL = "the session's campaign tags (utm_ parameters); for a session without them, "
# Sessions without campaign tags read the source and medium GA detected and the channel's
# campaign placeholder, (organic), (direct), (referral), as in GA; term and content
# read (not set). Tagged sessions: the newsletters and the paid search and
# remarketing ads (``custom.PAID_TERMS``, ``custom.AD_CONTENT``).
_UTM_DIMS = [
    Dim("sessionManualSource", "Session manual source", "Traffic source", _s("s_source"),
        _table(_SRC), description=f"utm_source of {_MANUAL}the source GA detected."),
    Dim("sessionManualMedium", "Session manual medium", "Traffic source", _s("s_source"),
        _table(_MED), description=f"utm_medium of {_MANUAL}the medium GA detected."),
    Dim("sessionManualSourceMedium", "Session manual source / medium", "Traffic source",
        _s("s_source"), _table(_SRCMED),
        description="sessionManualSource and sessionManualMedium, joined by ' / '."),
    Dim("sessionManualCampaignName", "Session manual campaign name", "Traffic source",
        _s("s_campaign"), _table(CAMPAIGNS),
        description=f"utm_campaign of {_MANUAL}the channel's placeholder, e.g. (organic)."),
    Dim("sessionManualTerm", "Session manual term", "Traffic source",
        lambda r: custom.term_codes(r.col("s_campaign"), r.col("s_user"), r.col("s_start"),
                                    r.traffic.site.kind),
        lambda c, s: custom.term_label(c, s.kind),
        description="utm_term of the session's campaign tags: the paid search keyword."),
    Dim("sessionManualAdContent", "Session manual ad content", "Traffic source",
        _campaign_codes(custom.ad_content_codes),
        lambda c, s: custom.AD_CONTENT.get(c, NOT_SET),
        description="utm_content of the session's campaign tags: the link or ad clicked."),
    Dim("sessionCampaignId", "Session campaign ID", "Traffic source", _s("s_campaign"),
        _table(custom.CAMPAIGN_IDS),
        description="The id of the session's campaign: utm_id, or the Google Ads id."),
]

# ---------------------------------------------------------------- e-commerce items

_ECOM = "Ecommerce"
_ITEM_DIMS = [
    Dim(name, ui, _ECOM, _s("i_product"), _table([getattr(p, attr) for p in PRODUCTS]),
        item_scope=True, description=desc)
    for name, ui, attr, desc in [
        ("itemName", "Item name", "name", "The name of the item."),
        ("itemId", "Item ID", "item_id", "The ID of the item."),
        ("itemCategory", "Item category", "category",
         "The hierarchical category in which the item is classified."),
        ("itemCategory2", "Item category 2", "category2",
         "The second level of the item's category."),
        ("itemBrand", "Item brand", "brand", "Brand name of the item."),
    ]
]


def _item_units(event: str) -> Callable[[Rows], np.ndarray]:
    def units(r: Rows) -> np.ndarray:
        mine = r.window_items("x_name") == EV[event]
        return r.from_items(np.where(mine, r.window_items("i_quantity"), 0).astype(float))

    return units


_ITEM_METRICS = [
    Met("itemsViewed", "Items viewed", "TYPE_INTEGER", _ECOM, scope="item",
        description="The number of units viewed for a single item (view_item events).",
        sum_of=_item_units("view_item")),
    Met("itemsAddedToCart", "Items added to cart", "TYPE_INTEGER", _ECOM, scope="item",
        description="The number of units added to cart for a single item.",
        sum_of=_item_units("add_to_cart")),
    Met("itemsPurchased", "Items purchased", "TYPE_INTEGER", _ECOM, scope="item",
        description="The number of units for a single item included in purchase events.",
        sum_of=_item_units("purchase")),
    Met("itemRevenue", "Item revenue", "TYPE_CURRENCY", _ECOM, scope="item",
        description="The total revenue from purchases of the item.",
        sum_of=lambda r: r.from_items(r.window_items("i_revenue"))),
]

# ---------------------------------------------------------------- custom definitions

CUSTOM = "Custom"  # GA's category of custom dimensions and metrics
_EVENT_DIM = "An event scoped custom dimension for your Analytics property."
_USER_DIM = "A user property for your Analytics property."
_EVENT_METRIC = "An event scoped custom metric for your Analytics property."


def _event_dim(kind: str, parameter: str, ui: str, codes: Callable[[Rows], np.ndarray],
               values: Sequence[str]) -> Dim:
    return Dim(f"customEvent:{parameter}", ui, CUSTOM, codes, _table(values),
               event_scope=True, sites=(kind,), custom=True, description=_EVENT_DIM)


def _user_dim(kind: str, prop: str, ui: str, codes: Callable[[np.ndarray], np.ndarray],
              values: Sequence[str]) -> Dim:
    return Dim(f"customUser:{prop}", ui, CUSTOM, lambda r: codes(r.col("s_user")),
               _table(values), sites=(kind,), custom=True, description=_USER_DIM)


def _event_metric(kind: str, parameter: str, ui: str, type_: str,
                  values: Callable[[Traffic, int, int], np.ndarray]) -> Met:
    return Met(f"customEvent:{parameter}", ui, type_, CUSTOM, scope="event", sites=(kind,),
               custom=True, description=_EVENT_METRIC,
               sum_of=lambda r: r.from_events(values(r.traffic, r.x0, r.x1)))


_CUSTOM_DIMS = [
    _event_dim("blog", "article_category", "Article category",
               lambda r: custom.BLOG_PAGE_CATEGORY[r.col("e_page")], custom.BLOG_CATEGORIES),
    _user_dim("blog", "reader_type", "Reader type", custom.reader_types, custom.READER_TYPES),
    _event_dim("shop", "payment_type", "Payment type",
               lambda r: custom.payment_types(r.traffic, r.event_rows()),
               custom.PAYMENT_TYPES),
    _user_dim("shop", "loyalty_tier", "Loyalty tier", custom.loyalty_tiers,
              custom.LOYALTY_TIERS),
    _event_dim("news", "article_section", "Article section",
               lambda r: custom.article_sections(r.col("e_page")), custom.SECTIONS),
    _user_dim("news", "subscription_status", "Subscription status",
              custom.subscription_statuses, custom.SUBSCRIPTION_STATUSES),
]
_CUSTOM_METRICS = [
    _event_metric("blog", "reading_time_sec", "Reading time", "TYPE_SECONDS",
                  custom.reading_time),
    _event_metric("shop", "discount_amount", "Discount amount", "TYPE_CURRENCY",
                  custom.discount_amount),
    _event_metric("news", "percent_scrolled", "Percent scrolled", "TYPE_STANDARD",
                  custom.percent_scrolled),
]

# Each key event's own metrics, for the properties that have it as a key event.
assert all(set(site.key_events) <= {"sign_up", "purchase"} for site in SITES.values())
_KEY_EVENT_METRICS = [
    met
    for event in dict.fromkeys(e for site in SITES.values() for e in site.key_events)
    for kinds in [tuple(k for k, site in SITES.items() if event in site.key_events)]
    for met in (
        Met(f"keyEvents:{event}", f"{event} key events", "TYPE_INTEGER", "Event",
            sites=kinds, custom=True, key_event=event,
            description=f"The number of times users triggered the '{event}' key event."),
        Met(f"sessionKeyEventRate:{event}", f"{event} session key event rate", "TYPE_FLOAT",
            "Session", sites=kinds, custom=True, key_event=event,
            description=f"The share of sessions in which the '{event}' key event was "
                        "triggered."),
        Met(f"userKeyEventRate:{event}", f"{event} user key event rate", "TYPE_FLOAT",
            "User", sites=kinds, custom=True, key_event=event,
            description=f"The share of users who triggered the '{event}' key event."),
    )
]


def key_event_counts(rows: Rows, event: str) -> np.ndarray:
    """How many ``event`` events each row has (session or event rows)."""
    if rows.items:
        raise ValueError("key events do not add up over items")
    if rows.events:
        return (rows.col("x_name") == EV[event]).astype(np.int64)
    purchases = rows.col("s_purchases").astype(np.int64)
    if event == "purchase":
        return purchases
    # A session's key events are its sign-ups and, where purchase is one, its purchases.
    key = rows.col("s_key").astype(np.int64)
    return key - purchases if "purchase" in rows.traffic.site.key_events else key


DIMENSIONS.update({d.name: d for d in [*_UTM_DIMS, *_ITEM_DIMS, *_CUSTOM_DIMS]})
METRICS.update({m.name: m for m in [*_ITEM_METRICS, *_CUSTOM_METRICS, *_KEY_EVENT_METRICS]})

INTEGER_METRICS = {m.name for m in METRICS.values() if m.type_ == "TYPE_INTEGER"}
CURRENCY_METRICS = {m.name for m in METRICS.values() if m.type_ == "TYPE_CURRENCY"}
USER_METRICS = {"totalUsers", "activeUsers", "newUsers", "totalPurchasers", "userKeyEventRate",
                "eventCountPerUser", "screenPageViewsPerUser", "sessionsPerUser",
                "averageRevenuePerUser",
                *(m.name for m in _KEY_EVENT_METRICS if m.name.startswith("userKeyEventRate"))}


def _fields(kind: str | None) -> tuple[dict[str, Dim], dict[str, Met]]:
    return ({n: d for n, d in DIMENSIONS.items() if not d.sites or kind in d.sites},
            {n: m for n, m in METRICS.items() if not m.sites or kind in m.sites})


_FIELDS = {kind: _fields(kind) for kind in (None, *SITES)}


def fields_for(kind: str | None) -> tuple[dict[str, Dim], dict[str, Met]]:
    """The dimensions and metrics of a kind of site's property: GA's universal fields, then
    its custom definitions and key event metrics (``None``: the universal ones only, as
    GA's ``properties/0``)."""
    return _FIELDS[kind]
