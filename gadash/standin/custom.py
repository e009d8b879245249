"""What the demo properties' custom definitions and campaign tags read, from existing columns.

Each value is computed from columns the generator already has, never stored: a page's
topic or section for an article parameter, the view's engagement time for a reading
time, a hash of the user id for a user property, a hash of (user, local time) for what
an event says that the columns do not (payment type, discount). The hashes have their
own salts, so no draw of the generator moves and a day's values never change when the
window moves. Codes are small integers; code 0 is GA's ``(not set)``, what GA reads for
an event that does not carry the parameter or a user without the property.
"""

from __future__ import annotations

import numpy as np

from gadash.standin.items import event_keys
from gadash.standin.traffic import (
    _FORMS,
    _TOPICS,
    CAMPAIGNS,
    EV,
    NEWS_ARTICLES_PER_DAY,
    NEWS_SECTIONS,
    NEWS_STATIC,
    NOT_SET,
    PAGES,
    STATIC_PAGES,
    FloatArray,
    IntArray,
    Traffic,
    _hashes,
    _unit,
)

_READER_SALT, _LOYALTY_SALT, _SUBSCRIPTION_SALT = 0xC057_0001, 0xC057_0002, 0xC057_0003
_PAYMENT_SALT, _DISCOUNT_SALT, _UTM_SALT = 0xC057_0004, 0xC057_0005, 0xC057_0006


def _pick(u: FloatArray, shares: list[float]) -> IntArray:
    """Codes 0..len(shares)-1 for uniform numbers, by cumulative shares."""
    return np.searchsorted(np.cumsum(shares), u, side="right").clip(0, len(shares) - 1)


def user_codes(users: np.ndarray, salt: int, shares: list[float]) -> IntArray:
    """A user property: the same code for every session and event of a user."""
    return _pick(_unit(_hashes(salt, users.astype(np.int64), 1)[0]), shares)


# ---------------------------------------------------------------- the blog

BLOG_CATEGORIES = [NOT_SET, "Python", "Data & dashboards", "Infrastructure", "Security",
                   "Design & front end"]
_TOPIC_CATEGORY = {
    "python": 1, "pandas": 1, "flask": 1, "async": 1, "testing": 1,
    "dashboards": 2, "analytics": 2, "plotly": 2, "observability": 2,
    "caching": 3, "redis": 3, "grpc": 3, "kubernetes": 3, "postgres": 3, "latency": 3,
    "quotas": 3, "oauth": 4, "design": 5, "css": 5, "typography": 5,
}


def _blog_page_categories() -> IntArray:
    """Each blog page's article category (0 for pages that are not articles), in the
    order ``traffic._build_pages`` makes them."""
    codes = [0] * len(STATIC_PAGES)
    for i, topic in enumerate(_TOPICS):
        for j, _ in enumerate(_FORMS):
            if not (i + j) % 2:
                codes.append(_TOPIC_CATEGORY[topic])
    assert len(codes) == len(PAGES)
    return np.asarray(codes, dtype=np.int64)


BLOG_PAGE_CATEGORY = _blog_page_categories()
READER_TYPES = [NOT_SET, "developer", "analyst", "manager", "student"]
_READER_SHARES = [0.12, 0.48, 0.22, 0.10, 0.08]


def reader_types(users: np.ndarray) -> IntArray:
    return user_codes(users, _READER_SALT, _READER_SHARES)


def reading_time(traffic: Traffic, x0: int, x1: int) -> FloatArray:
    """``reading_time_sec`` of events ``[x0, x1)``: sent with the scroll event of an
    article, the whole seconds the reader had spent on it."""
    views = traffic.x_view[x0:x1]
    on = (traffic.x_name[x0:x1] == EV["scroll"]) & (traffic.e_page[views] >= len(STATIC_PAGES))
    return np.where(on, np.round(traffic.e_engagement[views]), 0.0)


# ---------------------------------------------------------------- the shop

PAYMENT_TYPES = [NOT_SET, "credit_card", "paypal", "klarna", "sepa_direct_debit", "apple_pay"]
_PAYMENT_SHARES = [0.38, 0.32, 0.15, 0.08, 0.07]
LOYALTY_TIERS = [NOT_SET, "bronze", "silver", "gold"]
_LOYALTY_SHARES = [0.55, 0.25, 0.13, 0.07]
# A coupon on three purchases in ten, of one of these shares of the list price.
_COUPON_RATE = 0.3
_DISCOUNTS = np.array([0.10, 0.15, 0.20])


def loyalty_tiers(users: np.ndarray) -> IntArray:
    return user_codes(users, _LOYALTY_SALT, _LOYALTY_SHARES)


def payment_types(traffic: Traffic, events: np.ndarray) -> IntArray:
    """``payment_type`` of events (absolute indices): purchases carry it, nothing else."""
    events = np.asarray(events, dtype=np.int64)
    bought = traffic.x_name[events] == EV["purchase"]
    codes = np.zeros(events.size, dtype=np.int64)
    h = _hashes(_PAYMENT_SALT, event_keys(traffic, events[bought]), 1)[0]
    codes[bought] = 1 + _pick(_unit(h), _PAYMENT_SHARES)
    return codes


def discount_amount(traffic: Traffic, x0: int, x1: int) -> FloatArray:
    """``discount_amount`` of events ``[x0, x1)``, in the shop's currency: what a coupon
    took off a purchase (the purchase value is what was paid after it)."""
    values = traffic.event_values(x0, x1)
    out = np.zeros(x1 - x0)
    bought = np.flatnonzero(traffic.x_name[x0:x1] == EV["purchase"])
    h = _hashes(_DISCOUNT_SALT, event_keys(traffic, bought + x0), 2)
    coupon = _unit(h[0]) < _COUPON_RATE
    share = _DISCOUNTS[(h[1] % np.uint64(_DISCOUNTS.size)).astype(np.int64)]
    paid = values[bought]
    out[bought] = np.where(coupon, np.round(paid * share / (1.0 - share), 2), 0.0)
    return out


# ---------------------------------------------------------------- the news site

SECTIONS = [NOT_SET, *NEWS_SECTIONS]
SUBSCRIPTION_STATUSES = [NOT_SET, "anonymous", "registered", "subscriber"]
_SUBSCRIPTION_SHARES = [0.0, 0.70, 0.22, 0.08]


def subscription_statuses(users: np.ndarray) -> IntArray:
    return user_codes(users, _SUBSCRIPTION_SALT, _SUBSCRIPTION_SHARES)


def article_sections(pages: np.ndarray) -> IntArray:
    """``article_section`` of news pages: an article's section, or the section front's;
    0 for the home page and the other static pages. As ``traffic.news_article``."""
    pages = pages.astype(np.int64)
    index = pages - len(NEWS_STATIC)
    article = (index % NEWS_ARTICLES_PER_DAY + index // NEWS_ARTICLES_PER_DAY) \
        % len(NEWS_SECTIONS) + 1
    front = (pages >= 1) & (pages <= len(NEWS_SECTIONS))  # /world/ ... /opinion/
    return np.where(index >= 0, article, np.where(front, pages, 0))


def percent_scrolled(traffic: Traffic, x0: int, x1: int) -> FloatArray:
    """``percent_scrolled`` of events ``[x0, x1)``: the site's own scroll event says how
    far down the page the reader got, in steps of ten, from the time spent on it."""
    views = traffic.x_view[x0:x1]
    on = traffic.x_name[x0:x1] == EV["scroll"]
    depth = np.minimum(100.0, 30.0 + 10.0 * np.floor(traffic.e_engagement[views] / 20.0))
    return np.where(on, depth, 0.0)


# ---------------------------------------------------------------- campaign tags (UTM)

# utm_id of the newsletters, Google Ads ids of the paid campaigns; none for the rest.
CAMPAIGN_IDS = [NOT_SET] * 4 + ["crm-101", "crm-102", "crm-103",
                                "21038463910", "21038463915", "21038464002"]
assert len(CAMPAIGN_IDS) == len(CAMPAIGNS)
_EMAIL, _BRAND, _GENERIC, _REMARKETING = (CAMPAIGNS.index(c) for c in (
    "weekly_digest", "brand_search", "generic_search", "remarketing"))
# utm_term of the paid search ads, per site: the brand's words, then generic ones.
PAID_TERMS = {
    "blog": (["demo blog", "demo blog python"],
             ["python dashboards", "plotly dash tutorial", "grpc python", "redis caching"]),
    "shop": (["demo shop", "demo shop outdoor"],
             ["hiking boots", "rain jacket", "merino socks", "travel backpack", "two person tent"]),
    "news": (["demo news", "demo news today"],
             ["uk news", "election results", "premier league news", "interest rates news"]),
}
_GENERIC_TERM = 100  # codes of generic terms start here
AD_CONTENT = {1: "header_link", 2: "hero_button", 3: "footer_link",  # newsletters
              11: "text_ad_a", 12: "text_ad_b",  # search ads
              21: "banner_300x250", 22: "banner_728x90"}  # remarketing banners


def _session_hash(users: np.ndarray, starts: np.ndarray, count: int) -> np.ndarray:
    key = users.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ starts.astype(np.uint64)
    return _hashes(_UTM_SALT, key.view(np.int64), count)


def term_codes(campaigns: np.ndarray, users: np.ndarray, starts: np.ndarray,
               kind: str) -> IntArray:
    """``utm_term`` of sessions: a keyword on the search ads, else 0 (not set)."""
    brand, generic = PAID_TERMS[kind]
    h = _session_hash(users, starts, 1)[0]
    codes = np.zeros(campaigns.size, dtype=np.int64)
    b, g = campaigns == _BRAND, campaigns == _GENERIC
    codes[b] = 1 + (h[b] % np.uint64(len(brand))).astype(np.int64)
    codes[g] = _GENERIC_TERM + (h[g] % np.uint64(len(generic))).astype(np.int64)
    return codes


def term_label(code: int, kind: str) -> str:
    brand, generic = PAID_TERMS[kind]
    if code == 0:
        return NOT_SET
    return brand[code - 1] if code < _GENERIC_TERM else generic[code - _GENERIC_TERM]


def ad_content_codes(campaigns: np.ndarray, users: np.ndarray, starts: np.ndarray) -> IntArray:
    """``utm_content`` of sessions: which link of a newsletter, which ad; else 0."""
    h = _session_hash(users, starts, 2)[1]
    codes = np.zeros(campaigns.size, dtype=np.int64)
    email = (campaigns >= _EMAIL) & (campaigns < _BRAND)
    search = (campaigns == _BRAND) | (campaigns == _GENERIC)
    banner = campaigns == _REMARKETING
    codes[email] = 1 + (h[email] % np.uint64(3)).astype(np.int64)
    codes[search] = 11 + (h[search] % np.uint64(2)).astype(np.int64)
    codes[banner] = 21 + (h[banner] % np.uint64(2)).astype(np.int64)
    return codes
