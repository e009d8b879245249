"""Deterministic synthetic web traffic at session, page-view and event level.

Every day is drawn from its own random stream (seeded by the profile's seed and
the day), so a day's numbers never change when the window moves. Attributes are
stored as integer codes into the catalogs below (or, for the news site's tens of
thousands of articles, codes whose labels are computed); the query engine turns
codes into GA's strings only for the values it returns.

Three kinds of site share the generator: a blog (newsletter sign-ups are its key
event), a shop (products, a cart, purchases in its currency) and a news site
with a long history, an article archive of tens of thousands of pages and
subscriptions. Events hang off page views: ``page_view`` for each view,
``session_start`` and ``first_visit`` on a session's first view,
``user_engagement`` on an engaged session's last view, ``scroll``, site events
(``view_item``, ``add_to_cart``, ``begin_checkout``, ``view_search_results``)
and the key events ``sign_up`` and ``purchase``.

Times are the property's local wall-clock time, as "local seconds":
``day_ordinal * 86400 + seconds_of_day``.
"""

from __future__ import annotations

import ctypes
import math
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
SmallArray = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# (source, medium, default channel group, share of ordinary sessions)
SOURCES: list[tuple[str, str, str, float]] = [
    ("google", "organic", "Organic Search", 38.0),
    ("(direct)", "(none)", "Direct", 22.0),
    ("bing", "organic", "Organic Search", 5.0),
    ("duckduckgo", "organic", "Organic Search", 3.0),
    ("news.ycombinator.com", "referral", "Referral", 3.0),
    ("reddit.com", "referral", "Organic Social", 3.0),
    ("t.co", "referral", "Organic Social", 2.5),
    ("facebook.com", "referral", "Organic Social", 2.5),
    ("linkedin.com", "referral", "Organic Social", 2.0),
    ("github.com", "referral", "Referral", 3.0),
    ("newsletter", "email", "Email", 6.0),
    ("google", "cpc", "Paid Search", 4.0),
    ("stackoverflow.com", "referral", "Referral", 2.0),
    ("baidu", "organic", "Organic Search", 1.0),
    ("yandex", "organic", "Organic Search", 0.8),
    ("(not set)", "(not set)", "Unassigned", 0.7),
]
SPIKE_SOURCES = (4, 5)  # Hacker News and Reddit send the bursts
DIRECT, TWITTER, FACEBOOK, EMAIL, CPC = 1, 6, 7, 10, 11

CAMPAIGNS = [
    "(organic)", "(direct)", "(referral)", "(not set)",
    "weekly_digest", "product_update", "monthly_roundup",
    "brand_search", "generic_search", "remarketing",
]
# Each source's campaigns (GA's placeholders for unpaid traffic).
_SOURCE_CAMPAIGNS: dict[str, list[int]] = {
    "organic": [0], "(none)": [1], "referral": [2], "(not set)": [3],
    "email": [4, 5, 6], "cpc": [7, 8, 9],
}

# (country, ISO code, share)
COUNTRIES: list[tuple[str, str, float]] = [
    ("United States", "US", 33.0),
    ("India", "IN", 10.0),
    ("United Kingdom", "GB", 8.0),
    ("Germany", "DE", 7.0),
    ("Canada", "CA", 5.0),
    ("France", "FR", 4.0),
    ("Brazil", "BR", 3.5),
    ("Australia", "AU", 3.0),
    ("Netherlands", "NL", 2.5),
    ("Japan", "JP", 2.5),
    ("Spain", "ES", 2.0),
    ("Poland", "PL", 1.6),
    ("Italy", "IT", 1.5),
    ("Sweden", "SE", 1.3),
    ("Singapore", "SG", 1.1),
    ("Switzerland", "CH", 1.0),
    ("Mexico", "MX", 1.0),
    ("South Korea", "KR", 0.9),
    ("Indonesia", "ID", 0.8),
    ("Nigeria", "NG", 0.6),
    ("Ireland", "IE", 0.6),
    ("(not set)", "(not set)", 0.3),
]
# Country shares of the shop (in Germany) and the news site (in the UK).
_SHOP_COUNTRY_BOOST = {"DE": 8.0, "CH": 4.0, "NL": 2.0}
_NEWS_COUNTRY_BOOST = {"GB": 6.0, "IE": 3.0}

CONTINENTS = {
    "US": ("Americas", "019"), "CA": ("Americas", "019"), "BR": ("Americas", "019"),
    "MX": ("Americas", "019"), "IN": ("Asia", "142"), "JP": ("Asia", "142"),
    "SG": ("Asia", "142"), "KR": ("Asia", "142"), "ID": ("Asia", "142"),
    "AU": ("Oceania", "009"), "NG": ("Africa", "002"),
}
EUROPE = ("Europe", "150")

# City, region; the first city of a country is its biggest.
_CITIES: dict[str, list[tuple[str, str]]] = {
    "US": [("New York", "New York"), ("Los Angeles", "California"),
           ("San Francisco", "California"), ("Chicago", "Illinois"),
           ("Seattle", "Washington"), ("Austin", "Texas"), ("Boston", "Massachusetts"),
           ("Denver", "Colorado")],
    "IN": [("Bengaluru", "Karnataka"), ("Mumbai", "Maharashtra"), ("New Delhi", "Delhi"),
           ("Hyderabad", "Telangana"), ("Pune", "Maharashtra"), ("Chennai", "Tamil Nadu")],
    "GB": [("London", "England"), ("Manchester", "England"), ("Edinburgh", "Scotland"),
           ("Bristol", "England"), ("Cardiff", "Wales"), ("Belfast", "Northern Ireland")],
    "DE": [("Berlin", "Berlin"), ("Munich", "Bavaria"), ("Hamburg", "Hamburg"),
           ("Frankfurt", "Hesse"), ("Cologne", "North Rhine-Westphalia"),
           ("Stuttgart", "Baden-Wurttemberg")],
    "CA": [("Toronto", "Ontario"), ("Vancouver", "British Columbia"), ("Montreal", "Quebec"),
           ("Ottawa", "Ontario")],
    "FR": [("Paris", "Ile-de-France"), ("Lyon", "Auvergne-Rhone-Alpes"),
           ("Toulouse", "Occitanie"), ("Nantes", "Pays de la Loire")],
    "BR": [("Sao Paulo", "State of Sao Paulo"), ("Rio de Janeiro", "State of Rio de Janeiro"),
           ("Belo Horizonte", "State of Minas Gerais")],
    "AU": [("Sydney", "New South Wales"), ("Melbourne", "Victoria"),
           ("Brisbane", "Queensland")],
    "NL": [("Amsterdam", "North Holland"), ("Rotterdam", "South Holland"),
           ("Utrecht", "Utrecht")],
    "JP": [("Tokyo", "Tokyo"), ("Osaka", "Osaka"), ("Yokohama", "Kanagawa")],
    "ES": [("Madrid", "Community of Madrid"), ("Barcelona", "Catalonia"),
           ("Valencia", "Valencian Community")],
    "PL": [("Warsaw", "Masovian Voivodeship"), ("Krakow", "Lesser Poland Voivodeship"),
           ("Wroclaw", "Lower Silesian Voivodeship")],
    "IT": [("Milan", "Lombardy"), ("Rome", "Lazio"), ("Turin", "Piedmont")],
    "SE": [("Stockholm", "Stockholm County"), ("Gothenburg", "Vastra Gotaland County")],
    "SG": [("Singapore", "Singapore")],
    "CH": [("Zurich", "Zurich"), ("Geneva", "Geneva"), ("Basel", "Basel-Stadt")],
    "MX": [("Mexico City", "Mexico City"), ("Guadalajara", "Jalisco"),
           ("Monterrey", "Nuevo Leon")],
    "KR": [("Seoul", "Seoul"), ("Busan", "Busan")],
    "ID": [("Jakarta", "Jakarta"), ("Surabaya", "East Java")],
    "NG": [("Lagos", "Lagos"), ("Abuja", "Federal Capital Territory")],
    "IE": [("Dublin", "County Dublin"), ("Cork", "County Cork")],
}
NOT_SET = "(not set)"


def _build_cities() -> tuple[list[tuple[str, str, int, str]], FloatArray, IntArray]:
    """(city, region, country index, city id); per-country CDFs and city codes."""
    cities: list[tuple[str, str, int, str]] = []
    width = 1 + max(len(v) for v in _CITIES.values())
    cdf = np.ones((len(COUNTRIES), width))
    codes = np.zeros((len(COUNTRIES), width), dtype=np.int64)
    for ci, (_, iso, _) in enumerate(COUNTRIES):
        names = _CITIES.get(iso, [])
        weights = [1.0 / (k + 1) ** 0.8 for k in range(len(names))]
        # GA cannot place about one session in twelve more precisely than the country.
        weights.append(0.09 * sum(weights) if names else 1.0)
        for k, (city, region) in enumerate(names):
            codes[ci, k] = len(cities)
            cities.append((city, region, ci, str(1_000_000 + 7919 * len(cities) % 999_983)))
        codes[ci, len(names):] = len(cities)
        cities.append((NOT_SET, NOT_SET, ci, NOT_SET))
        w = np.cumsum(weights) / sum(weights)
        cdf[ci, : len(w)] = w
        cdf[ci, len(w) - 1 :] = 1.0
    return cities, cdf, codes


CITIES, _CITY_CDF, _CITY_CODES = _build_cities()

# (language, code); each country's first language, English for one visitor in seven.
LANGUAGES: list[tuple[str, str]] = [
    ("English", "en-us"), ("German", "de"), ("French", "fr"), ("Portuguese", "pt-br"),
    ("Dutch", "nl"), ("Japanese", "ja"), ("Spanish", "es"), ("Polish", "pl"),
    ("Italian", "it"), ("Swedish", "sv"), ("Korean", "ko"), ("Indonesian", "id"),
    ("English", "en-gb"),
]
_COUNTRY_LANGUAGE = {"DE": 1, "CH": 1, "FR": 2, "BR": 3, "NL": 4, "JP": 5, "ES": 6, "MX": 6,
                     "PL": 7, "IT": 8, "SE": 9, "KR": 10, "ID": 11, "GB": 12, "IE": 12,
                     "AU": 12, "IN": 12}
_PRIMARY_LANGUAGE = np.array([_COUNTRY_LANGUAGE.get(c[1], 0) for c in COUNTRIES])

# (device category, share, mean extra page views)
DEVICES: list[tuple[str, float, float]] = [
    ("desktop", 58.0, 0.65),
    ("mobile", 38.0, 0.4),
    ("tablet", 4.0, 0.5),
]
BROWSERS: list[tuple[str, float]] = [
    ("Chrome", 62.0),
    ("Safari", 20.0),
    ("Edge", 8.0),
    ("Firefox", 7.0),
    ("Samsung Internet", 3.0),
]
OPERATING_SYSTEMS = ["Windows", "Macintosh", "Linux", "Chrome OS", "Android", "iOS"]
_OS_CDF = np.cumsum(np.array([
    [0.65, 0.25, 0.06, 0.04, 0.0, 0.0],   # desktop
    [0.0, 0.0, 0.0, 0.0, 0.6, 0.4],       # mobile
    [0.0, 0.0, 0.0, 0.0, 0.4, 0.6],       # tablet
]), axis=1)
_OS_CDF[:, -1] = 1.0

# Events in the order they happen on a page view.
EVENT_NAMES = [
    "session_start", "first_visit", "page_view", "view_item", "view_search_results",
    "scroll", "add_to_cart", "begin_checkout", "purchase", "sign_up", "user_engagement",
]
EV = {name: i for i, name in enumerate(EVENT_NAMES)}

# Query strings: fixed ones, site search terms, then click ids from CLICK_BASE up.
SEARCH_TERMS = {
    "blog": ["python", "dash", "redis", "grpc", "pandas caching", "oauth", "plotly",
             "testing", "css grid", "latency"],
    "shop": ["boots", "jacket", "wool socks", "backpack", "gift card", "sale", "rain jacket",
             "tent", "water bottle", "gloves", "hiking", "scarf"],
    "news": ["election", "climate", "football", "budget", "inflation", "ai", "housing",
             "strike", "weather", "crossword", "premier league", "interest rates"],
}
QUERIES = ["", "?utm_source=newsletter&utm_medium=email", "?utm_source=twitter&utm_medium=social",
           "?ref=homepage", "?page=2"]
Q_NEWSLETTER, Q_TWITTER, Q_HOMEPAGE, Q_PAGE2 = 1, 2, 3, 4
_TERM_CODES: dict[str, IntArray] = {}
for _kind, _terms in SEARCH_TERMS.items():
    _TERM_CODES[_kind] = np.arange(len(QUERIES), len(QUERIES) + len(_terms))
    QUERIES.extend(f"?q={t.replace(' ', '+')}" for t in _terms)
CLICK_BASE = 1 << 24


def query_label(code: int) -> str:
    """The query string of a query code ("" for none)."""
    if code < CLICK_BASE:
        return QUERIES[code]
    click, kind = divmod(code - CLICK_BASE, 2)
    return f"?gclid=Cj0KCQ{click:08x}" if kind == 0 else f"?fbclid=IwAR{click:08x}"


# ---------------------------------------------------------------- the blog's pages

_TOPICS = [
    "python", "dashboards", "analytics", "caching", "redis", "grpc", "pandas",
    "plotly", "oauth", "kubernetes", "postgres", "testing", "async", "flask",
    "observability", "latency", "quotas", "design", "css", "typography",
]
_FORMS = [
    "getting-started-with-{}", "why-{}-matters", "{}-in-production",
    "a-field-guide-to-{}", "{}-tips-and-tricks", "the-trouble-with-{}",
]
STATIC_PAGES: list[tuple[str, str]] = [
    ("/", "Home"),
    ("/blog/", "Blog"),
    ("/about/", "About us"),
    ("/pricing/", "Pricing"),
    ("/docs/", "Documentation"),
    ("/docs/install/", "Install - Documentation"),
    ("/docs/api/", "API reference - Documentation"),
    ("/contact/", "Contact"),
    ("/careers/", "Careers"),
    ("/search/", "Search"),
]


def _build_pages() -> list[tuple[str, str]]:
    pages = list(STATIC_PAGES)
    for i, topic in enumerate(_TOPICS):
        for j, form in enumerate(_FORMS):
            if (i + j) % 2:
                continue
            slug = form.format(topic)
            title = slug.replace("-", " ").capitalize()
            pages.append((f"/blog/{slug}/", title))
    return pages


PAGES = _build_pages()
HOME, BLOG = 0, 1

# ---------------------------------------------------------------- the shop's pages

_PRODUCTS = [
    "alpine-wool-beanie", "trail-runner-shoes", "canvas-tote-bag", "merino-crew-socks",
    "rain-shell-jacket", "down-vest", "hiking-boots", "leather-belt", "linen-shirt",
    "cotton-hoodie", "travel-backpack-30l", "water-bottle-750ml", "thermal-gloves",
    "cashmere-scarf", "trekking-poles", "camping-mug", "sleeping-bag-3-season",
    "two-person-tent", "headlamp", "fleece-pullover", "chino-trousers", "denim-jacket",
    "silk-tie", "wool-coat", "rain-boots", "sun-hat", "beach-towel", "yoga-mat",
    "running-shorts", "compression-tights", "gift-card", "laptop-sleeve", "wallet",
    "sunglasses", "umbrella", "knit-cardigan", "puffer-jacket", "flannel-shirt",
    "climbing-chalk-bag", "picnic-blanket",
]
SHOP_PAGES: list[tuple[str, str]] = [
    ("/", "Home - Demo shop"),
    ("/products/", "All products - Demo shop"),
    ("/search/", "Search - Demo shop"),
    ("/cart/", "Your cart - Demo shop"),
    ("/checkout/", "Checkout - Demo shop"),
    ("/checkout/thank-you/", "Thank you for your order - Demo shop"),
    ("/about/", "About us - Demo shop"),
    ("/shipping/", "Shipping - Demo shop"),
    ("/returns/", "Returns - Demo shop"),
    ("/contact/", "Contact - Demo shop"),
] + [(f"/products/{slug}/", slug.replace("-", " ").title() + " - Demo shop")
     for slug in _PRODUCTS]
SHOP_SEARCH, SHOP_CART, SHOP_CHECKOUT, SHOP_THANKS, SHOP_FIRST_PRODUCT = 2, 3, 4, 5, 10

# ---------------------------------------------------------------- the news site's pages

NEWS_START = date(2018, 1, 1)
NEWS_ARTICLES_PER_DAY = 16
NEWS_SECTIONS = ["world", "politics", "business", "technology", "science", "sport",
                 "culture", "opinion"]
NEWS_STATIC: list[tuple[str, str]] = [
    ("/", "Demo news - Latest news"),
    *[(f"/{s}/", f"{s.capitalize()} - Demo news") for s in NEWS_SECTIONS],
    ("/search/", "Search - Demo news"),
    ("/subscribe/", "Subscribe - Demo news"),
    ("/subscribe/thank-you/", "Welcome, subscriber - Demo news"),
    ("/newsletters/", "Newsletters - Demo news"),
    ("/account/", "Your account - Demo news"),
]
NEWS_SEARCH, NEWS_SUBSCRIBE, NEWS_THANKS = 9, 10, 11
_WORDS = [
    "budget", "talks", "storm", "rates", "council", "vote", "final", "record", "strike",
    "market", "energy", "housing", "rail", "schools", "health", "trial", "summit", "deal",
    "climate", "league", "cup", "museum", "festival", "startup", "chip", "court", "port",
    "river", "bank", "prices", "jobs", "coast", "election", "minister", "report", "review",
    "plan", "crisis", "science", "space", "match", "season", "album", "film", "city",
]


def news_article(code: int) -> tuple[date, str, str]:
    """(publication day, section, slug words) of a news article code."""
    index = code - len(NEWS_STATIC)
    day, k = divmod(index, NEWS_ARTICLES_PER_DAY)
    h = (index * 2654435761) & 0xFFFFFFFF
    words = [_WORDS[(h >> (6 * i)) % len(_WORDS)] for i in range(3 + h % 3)]
    section = NEWS_SECTIONS[(k + day) % len(NEWS_SECTIONS)]
    return date.fromordinal(NEWS_START.toordinal() + day), section, "-".join(words)


# Visits by local hour of day: quiet nights, a working-day plateau.
_DIURNAL = np.array(
    [1.2, 0.8, 0.6, 0.5, 0.5, 0.8, 1.5, 2.8, 4.5, 6.0, 6.6, 6.8,
     6.4, 6.6, 6.7, 6.5, 6.0, 5.2, 4.4, 4.0, 3.8, 3.3, 2.5, 1.7]
)
_DIURNAL = _DIURNAL / _DIURNAL.sum()
# Monday .. Sunday (date.weekday() order)
_WEEKLY = np.array([1.10, 1.12, 1.10, 1.05, 0.95, 0.72, 0.76])


def _shares(weights: list[float]) -> FloatArray:
    arr = np.asarray(weights, dtype=np.float64)
    return arr / arr.sum()


_SOURCE_P = _shares([s[3] for s in SOURCES])
_COUNTRY_P = _shares([c[2] for c in COUNTRIES])
_DEVICE_P = _shares([d[1] for d in DEVICES])
_DEVICE_EXTRA = np.array([d[2] for d in DEVICES])
_BROWSER_P = _shares([b[1] for b in BROWSERS])
# Zipf-like popularity of articles; static pages get their own weights.
_PAGE_P = _shares(
    [30.0, 8.0, 3.0, 4.0, 5.0, 2.5, 2.0, 1.0, 0.6, 0.8]
    + [12.0 / (rank + 1) ** 0.9 for rank in range(len(PAGES) - len(STATIC_PAGES))]
)
_SHOP_PAGE_P = _shares(
    [25.0, 9.0, 4.0, 0.0, 0.0, 0.0, 1.0, 1.5, 1.0, 0.5]
    + [10.0 / (rank + 1) ** 0.8 for rank in range(len(_PRODUCTS))]
)
_NEWS_STATIC_P = _shares([40.0, 8, 7, 7, 6, 4, 8, 4, 4, 2.0, 3.0, 0.0, 2.0, 1.5])
LOYAL_USERS = 40_000
_SUBSCRIPTIONS = np.array([4.99, 9.99, 49.0, 99.0])
_SUBSCRIPTION_P = _shares([45, 25, 20, 10])

# Campaign choices per source, as a table to draw from.
_CAMPAIGN_TABLE = np.zeros((len(SOURCES), 3), dtype=np.int64)
_CAMPAIGN_COUNT = np.zeros(len(SOURCES), dtype=np.int64)
for _i, _s in enumerate(SOURCES):
    _choices = _SOURCE_CAMPAIGNS[_s[1]]
    _CAMPAIGN_TABLE[_i, : len(_choices)] = _choices
    _CAMPAIGN_COUNT[_i] = len(_choices)


def _boosted(boost: dict[str, float]) -> FloatArray:
    return _shares([c[2] * boost.get(c[1], 1.0) for c in COUNTRIES])


@dataclass(frozen=True)
class Site:
    """What a kind of site has: pages, key events, conversion rates, audience."""

    kind: str
    key_events: tuple[str, ...]
    lead_rate: float  # share of sessions with a sign_up
    purchase_rate: float
    loyal_users: int
    source_p: FloatArray = field(repr=False)
    country_p: FloatArray = field(repr=False)
    depth: float = 1.0  # how many pages a session reads, relative to the blog

    @property
    def is_key(self) -> BoolArray:
        """Indexed by event code: whether the event is a key event here."""
        return np.array([n in self.key_events for n in EVENT_NAMES])

    @property
    def search_page(self) -> int:
        return {"blog": 9, "shop": SHOP_SEARCH, "news": NEWS_SEARCH}[self.kind]

    @property
    def static_count(self) -> int:
        return {"blog": len(STATIC_PAGES), "shop": 10, "news": len(NEWS_STATIC)}[self.kind]

    def page_path(self, code: int) -> str:
        if self.kind == "blog":
            return PAGES[code][0]
        if self.kind == "shop":
            return SHOP_PAGES[code][0]
        if code < len(NEWS_STATIC):
            return NEWS_STATIC[code][0]
        day, section, slug = news_article(code)
        return f"/{section}/{day:%Y/%m/%d}/{slug}/"

    def page_title(self, code: int) -> str:
        if self.kind == "blog":
            return PAGES[code][1]
        if self.kind == "shop":
            return SHOP_PAGES[code][1]
        if code < len(NEWS_STATIC):
            return NEWS_STATIC[code][1]
        _, section, slug = news_article(code)
        return f"{slug.replace('-', ' ').capitalize()} | {section.capitalize()} - Demo news"

    def page_code(self, path: str, today: date) -> int | None:
        """The code of the page with this pagePath on ``today`` (a missing final slash is
        forgiven), or None."""
        for candidate in (path,) if path.endswith("/") else (path, path + "/"):
            code = self._page_code(candidate, today)
            if code is not None:
                return code
        return None

    def _page_code(self, path: str, today: date) -> int | None:
        if self.kind != "news":
            pages = PAGES if self.kind == "blog" else SHOP_PAGES
            return next((i for i, (p, _) in enumerate(pages) if p == path), None)
        static = next((i for i, (p, _) in enumerate(NEWS_STATIC) if p == path), None)
        if static is not None:
            return static
        # Articles: /section/YYYY/MM/DD/slug/, one of the day's 16.
        parts = path.strip("/").split("/")
        if len(parts) != 5 or not all(p.isdigit() for p in parts[1:4]):
            return None
        try:
            published = date(int(parts[1]), int(parts[2]), int(parts[3]))
        except ValueError:
            return None
        if not NEWS_START <= published <= today:
            return None
        first = len(NEWS_STATIC) + (published - NEWS_START).days * NEWS_ARTICLES_PER_DAY
        return next((c for c in range(first, first + NEWS_ARTICLES_PER_DAY)
                     if self.page_path(c) == path), None)

    def draw_pages(self, rng: np.random.Generator, n: int, day: int) -> IntArray:
        """Pages of ``n`` views on local day ordinal ``day``."""
        if self.kind == "blog":
            return rng.choice(len(PAGES), size=n, p=_PAGE_P)
        if self.kind == "shop":
            return rng.choice(len(SHOP_PAGES), size=n, p=_SHOP_PAGE_P)
        # News: a quarter on fronts and sections, most on the last days' articles,
        # a long tail over the whole archive.
        published = max(1, day - NEWS_START.toordinal() + 1)
        pages = rng.choice(len(NEWS_STATIC), size=n, p=_NEWS_STATIC_P)
        kind = rng.random(n)
        fresh = (kind >= 0.25) & (kind < 0.80)
        age = np.minimum(rng.geometric(0.45, size=n) - 1, published - 1)
        slot = np.minimum(rng.zipf(1.6, size=n) - 1, NEWS_ARTICLES_PER_DAY - 1)
        article = (published - 1 - age) * NEWS_ARTICLES_PER_DAY + slot
        archive = kind >= 0.80
        article[archive] = rng.integers(0, published * NEWS_ARTICLES_PER_DAY,
                                        size=int(archive.sum()))
        pages[fresh | archive] = len(NEWS_STATIC) + article[fresh | archive]
        return pages.astype(np.int64)

    def hot_page(self, rng: np.random.Generator, day: int) -> int:
        """The page a burst of social traffic lands on."""
        if self.kind == "news":
            published = day - NEWS_START.toordinal()
            return len(NEWS_STATIC) + published * NEWS_ARTICLES_PER_DAY + int(rng.integers(16))
        count = len(PAGES) if self.kind == "blog" else len(SHOP_PAGES)
        return int(rng.integers(self.static_count, count))


SITES = {
    "blog": Site("blog", ("sign_up",), 0.025, 0.0, LOYAL_USERS, _SOURCE_P, _COUNTRY_P),
    "shop": Site("shop", ("purchase",), 0.0, 0.022, 25_000,
                 _shares([s[3] * (3.0 if i == CPC else 1.0) for i, s in enumerate(SOURCES)]),
                 _boosted(_SHOP_COUNTRY_BOOST), depth=1.4),
    "news": Site("news", ("sign_up", "purchase"), 0.012, 0.003, 150_000,
                 _shares([s[3] * (2.5 if i in (DIRECT, TWITTER, FACEBOOK) else 1.0)
                          for i, s in enumerate(SOURCES)]),
                 _boosted(_NEWS_COUNTRY_BOOST), depth=1.2),
}
# How much likelier a session of each source converts than the average.
_CONVERSION_LIFT = np.ones(len(SOURCES))
_CONVERSION_LIFT[[EMAIL, DIRECT, CPC, 4, 5]] = [3.0, 1.3, 1.5, 1.6, 0.6]


@dataclass(frozen=True)
class TrafficProfile:
    """What kind of site to simulate, and for how long.

    ``start`` fixes the first day of history (``days`` is then ignored).
    """

    sessions_per_day: int = 1800
    days: int = 800
    seed: int = 2015
    time_zone: str = "America/New_York"
    kind: str = "blog"
    start: date | None = None

    @property
    def site(self) -> Site:
        return SITES[self.kind]

    def first_day(self, last_day: date) -> date:
        if self.start is not None:
            return min(self.start, last_day)
        return date.fromordinal(last_day.toordinal() - self.days + 1)


@dataclass
class Traffic:
    """Column arrays of sessions, page views and events over ``[first_day, last_day]``."""

    first_day: int
    last_day: int
    site: Site
    # sessions (sorted by start)
    s_day: Int32Array
    s_start: IntArray  # local seconds
    s_user: IntArray
    s_new: BoolArray
    s_source: SmallArray
    s_campaign: SmallArray
    s_first_source: SmallArray
    s_first_campaign: SmallArray
    s_country: SmallArray
    s_city: SmallArray
    s_language: SmallArray
    s_device: SmallArray
    s_os: SmallArray
    s_browser: SmallArray
    s_landing: Int32Array
    s_landing_query: Int32Array
    s_views: Int32Array
    s_events: Int32Array
    s_key: Int32Array  # key events
    s_purchases: Int32Array
    s_revenue: FloatArray  # in the property's currency
    s_duration: FloatArray
    s_engagement: FloatArray
    s_engaged: BoolArray
    # page views (sorted by session, then time)
    e_session: Int32Array
    e_day: Int32Array
    e_time: IntArray  # local seconds
    e_page: Int32Array
    e_query: Int32Array
    e_engagement: FloatArray
    # events (sorted by page view, then the order they happen in)
    x_view: Int32Array
    x_name: npt.NDArray[np.int8]
    # purchases: their event indices (sorted) and values in the property's currency
    p_event: IntArray
    p_value: FloatArray
    # Tables other modules derive from the columns on first use, by name (the shop's
    # items: ``items.items_of``); not columns, counted in ``nbytes``.
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                    compare=False)

    @property
    def session_count(self) -> int:
        return int(self.s_day.size)

    @property
    def view_count(self) -> int:
        return int(self.e_session.size)

    @property
    def event_count(self) -> int:
        return int(self.x_view.size)

    def event_values(self, x0: int, x1: int) -> FloatArray:
        """The revenue of each event in ``[x0, x1)`` (zero but for purchases)."""
        out = np.zeros(x1 - x0)
        i0, i1 = np.searchsorted(self.p_event, [x0, x1])
        out[self.p_event[i0:i1] - x0] = self.p_value[i0:i1]
        return out

    @property
    def nbytes(self) -> int:
        arrays = sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))
        return arrays + sum(int(v.nbytes) for v in self.derived.values())


def _day_factor(day: date) -> float:
    doy = day.timetuple().tm_yday
    seasonal = 1.0 + 0.10 * np.cos(2 * np.pi * (doy - 40) / 365.25)
    holidays = (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2)
    holiday = 0.7 if holidays else 1.0
    # A slow multi-year wave stands for growth and decline, the same for a day
    # whatever window it falls in.
    growth = 1.0 + 0.15 * np.sin(2 * np.pi * day.toordinal() / (3 * 365.25))
    return float(_WEEKLY[day.weekday()] * seasonal * holiday * growth)


def _conditional(rng: np.random.Generator, parent: np.ndarray, cdf: FloatArray) -> IntArray:
    """For each row, an index drawn from its parent's row of cumulative shares."""
    u = rng.random(parent.size)
    return (u[:, None] > cdf[parent]).sum(axis=1).astype(np.int64)


@dataclass(frozen=True)
class _Loyal:
    """How each returning user first came: their first source and campaign."""

    source: IntArray
    campaign: IntArray


def _loyal(profile: TrafficProfile) -> _Loyal:
    site = profile.site
    rng = np.random.default_rng([profile.seed, 1_000_003])
    source = rng.choice(len(SOURCES), size=site.loyal_users, p=site.source_p)
    pick = (rng.random(site.loyal_users) * _CAMPAIGN_COUNT[source]).astype(np.int64)
    return _Loyal(source, _CAMPAIGN_TABLE[source, pick])


def _generate_day(profile: TrafficProfile, day: date,
                  loyal: _Loyal | None = None) -> dict[str, np.ndarray]:
    """Draw one day's sessions, views and events from its own random stream."""
    site = profile.site
    loyal = loyal or _loyal(profile)
    ordinal = day.toordinal()
    rng = np.random.default_rng([profile.seed, ordinal])
    expected = profile.sessions_per_day * _day_factor(day) * rng.lognormal(0.0, 0.08)
    n_regular = int(rng.poisson(expected))
    # A few days a year one page takes off on Hacker News or Reddit.
    n_spike = int(expected * rng.uniform(0.8, 3.0)) if rng.random() < 0.03 else 0
    n = n_regular + n_spike

    hour = rng.choice(24, size=n, p=_DIURNAL)
    start_sec = hour * 3600 + rng.integers(0, 3600, size=n)
    source = rng.choice(len(SOURCES), size=n, p=site.source_p)
    landing = site.draw_pages(rng, n, ordinal)
    # Many direct visitors type the home page.
    direct = (source == DIRECT) & (rng.random(n) < 0.5)
    landing[direct] = HOME
    if n_spike:
        hot = site.hot_page(rng, ordinal)
        spike_hour = rng.integers(8, 18)
        sl = slice(n_regular, n)
        source[sl] = rng.choice(SPIKE_SOURCES, size=n_spike)
        landing[sl] = hot
        start_sec[sl] = np.clip(
            spike_hour * 3600 + rng.exponential(4 * 3600, size=n_spike), 0, 86399
        ).astype(np.int64)
    campaign = _CAMPAIGN_TABLE[source, (rng.random(n) * _CAMPAIGN_COUNT[source]).astype(int)]
    country = rng.choice(len(COUNTRIES), size=n, p=site.country_p)
    city = _CITY_CODES[country, _conditional(rng, country, _CITY_CDF)]
    language = np.where(rng.random(n) < 0.85, _PRIMARY_LANGUAGE[country], 0)
    device = rng.choice(len(DEVICES), size=n, p=_DEVICE_P)
    os_ = _conditional(rng, device, _OS_CDF)
    browser = rng.choice(len(BROWSERS), size=n, p=_BROWSER_P)
    safari = device != 0
    browser[safari & (rng.random(n) < 0.25)] = 1

    new = rng.random(n) < 0.6
    user = np.empty(n, dtype=np.int64)
    n_new = int(new.sum())
    user[new] = site.loyal_users + ordinal * 1_000_000 + np.arange(n_new)
    returning = (rng.pareto(1.2, size=n - n_new) * 800).astype(np.int64) % site.loyal_users
    user[~new] = returning
    first_source = source.copy()
    first_source[~new] = loyal.source[returning]
    first_campaign = campaign.copy()
    first_campaign[~new] = loyal.campaign[returning]

    # Conversions: purchases end with the checkout pages, leads sign up on the last page.
    lift = _CONVERSION_LIFT[source]
    buys = rng.random(n) < site.purchase_rate * lift
    leads = rng.random(n) < site.lead_rate * lift
    if site.kind == "shop":
        tails = [[SHOP_CART, SHOP_CHECKOUT, SHOP_THANKS], [SHOP_CART, SHOP_CHECKOUT], [SHOP_CART]]
        u = rng.random(n)
        tail_kind = np.where(buys, 0, np.where(u < 0.025, 1, np.where(u < 0.10, 2, -1)))
    elif site.kind == "news":
        tails = [[NEWS_SUBSCRIBE, NEWS_THANKS], [NEWS_SUBSCRIBE]]
        tail_kind = np.where(buys, 0, np.where(rng.random(n) < 0.02, 1, -1))
    else:
        tails = []
        tail_kind = np.full(n, -1)
    tail_len = np.array([len(t) for t in tails] + [0])[tail_kind]

    extra = rng.poisson(_DEVICE_EXTRA[device] * np.where(new, 0.7, 1.2) * site.depth)
    views = np.minimum(1 + extra, 25) + tail_len
    total_views = int(views.sum())
    e_session = np.repeat(np.arange(n), views)
    offsets = np.cumsum(views) - views
    first_of_session = np.zeros(total_views, dtype=bool)
    first_of_session[offsets] = True
    position = np.arange(total_views) - offsets[e_session]
    e_page = site.draw_pages(rng, total_views, ordinal)
    e_page[first_of_session] = landing
    from_end = views[e_session] - 1 - position  # 0 on a session's last view
    for k, tail in enumerate(tails):
        for j, page in enumerate(tail):
            e_page[(tail_kind[e_session] == k) & (from_end == len(tail) - 1 - j)] = page

    # Query strings: click ids and campaign tags on landing, search terms on search pages.
    e_query = np.zeros(total_views, dtype=np.int64)
    lq = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    click = CLICK_BASE + 2 * rng.integers(0, 1 << 28, size=n)
    lq[(source == CPC) & (u < 0.85)] = click[(source == CPC) & (u < 0.85)]
    fb = (source == FACEBOOK) & (u < 0.4)
    lq[fb] = click[fb] + 1
    lq[(source == EMAIL) & (u < 0.9)] = Q_NEWSLETTER
    lq[(source == TWITTER) & (u < 0.3)] = Q_TWITTER
    e_query[offsets] = lq
    terms = _TERM_CODES[site.kind]
    on_search = e_page == site.search_page
    e_query[on_search] = terms[rng.zipf(1.5, size=int(on_search.sum())) % terms.size]
    if site.kind == "news":
        later = ~first_of_session & (e_page >= len(NEWS_STATIC)) & (rng.random(total_views) < 0.1)
        e_query[later] = Q_HOMEPAGE
        sections = ~first_of_session & (e_page >= 1) & (e_page <= 8)
        e_query[sections & (rng.random(total_views) < 0.08)] = Q_PAGE2
    landing_query = e_query[offsets]

    # Dwell time per view: many quick single-page bounces, long reads otherwise.
    dwell = rng.lognormal(3.6, 1.0, size=total_views)
    quick = first_of_session & (views[e_session] == 1) & (rng.random(total_views) < 0.7)
    dwell[quick] = rng.uniform(0.5, 9.5, size=int(quick.sum()))
    dwell = np.minimum(dwell, 1800.0)
    engagement = dwell * rng.uniform(0.6, 1.0, size=total_views)
    # Each view starts when the previous one's dwell ends.
    before = np.cumsum(dwell) - dwell
    e_offset = before - np.repeat(before[offsets], views)
    duration = np.add.reduceat(dwell, offsets) if n else np.zeros(0)
    session_engagement = np.add.reduceat(engagement, offsets) if n else np.zeros(0)
    engaged = (duration >= 10.0) | (views >= 2)

    # Events, each on a page view.
    last_of_session = from_end == 0
    view_ids = np.arange(total_views)
    parts: list[tuple[np.ndarray, int]] = [
        (offsets, EV["session_start"]),
        (offsets[new], EV["first_visit"]),
        (view_ids, EV["page_view"]),
        (view_ids[(dwell > 15.0) & (rng.random(total_views) < 0.55)], EV["scroll"]),
        (view_ids[on_search], EV["view_search_results"]),
        (view_ids[last_of_session & engaged[e_session]], EV["user_engagement"]),
        (view_ids[last_of_session & leads[e_session]], EV["sign_up"]),
    ]
    purchase_page = -1
    if site.kind == "shop":
        purchase_page = SHOP_THANKS
        parts += [
            (view_ids[e_page >= SHOP_FIRST_PRODUCT], EV["view_item"]),
            (view_ids[e_page == SHOP_CART], EV["add_to_cart"]),
            (view_ids[e_page == SHOP_CHECKOUT], EV["begin_checkout"]),
        ]
    elif site.kind == "news":
        purchase_page = NEWS_THANKS
    purchase_views = view_ids[e_page == purchase_page]
    parts.append((purchase_views, EV["purchase"]))
    x_view = np.concatenate([p[0] for p in parts]).astype(np.int64)
    x_name = np.concatenate([np.full(p[0].size, p[1], dtype=np.int8) for p in parts])
    x_value = np.zeros(x_view.size)
    is_purchase = x_name == EV["purchase"]
    if site.kind == "shop":
        x_value[is_purchase] = np.round(rng.lognormal(4.1, 0.55, int(is_purchase.sum())), 2)
    elif site.kind == "news":
        x_value[is_purchase] = rng.choice(_SUBSCRIPTIONS, size=int(is_purchase.sum()),
                                          p=_SUBSCRIPTION_P)
    x_order = np.lexsort((x_name, x_view))
    x_view, x_name, x_value = x_view[x_order], x_name[x_order], x_value[x_order]
    is_purchase = x_name == EV["purchase"]  # in the sorted order, like every x_ column
    x_session = e_session[x_view]
    key = site.is_key[x_name]

    def per_session(weights: np.ndarray | None = None, where: BoolArray | None = None
                    ) -> np.ndarray:
        idx = x_session if where is None else x_session[where]
        w = None if weights is None else (weights if where is None else weights[where])
        return np.bincount(idx, weights=w, minlength=n)

    s_events = per_session().astype(np.int64)
    s_key = per_session(where=key).astype(np.int64)
    s_purchases = per_session(where=is_purchase).astype(np.int64)
    s_revenue = per_session(x_value)

    # Sessions sorted by start; views and events follow their sessions.
    order = np.argsort(start_sec, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    base = ordinal * 86400
    e_order = np.lexsort((e_offset, rank[e_session]))
    e_rank = np.empty(total_views, dtype=np.int64)
    e_rank[e_order] = np.arange(total_views)
    x_view = e_rank[x_view]
    x_order = np.lexsort((x_name, x_view))
    e_sess_sorted = rank[e_session][e_order]
    x_name, x_value = x_name[x_order], x_value[x_order]
    p_event = np.flatnonzero(x_name == EV["purchase"])

    def s(arr: np.ndarray, dtype: type | None = None) -> np.ndarray:
        out = arr[order]
        return out.astype(dtype) if dtype is not None else out

    return {
        "s_start": base + start_sec[order],
        "s_user": s(user),
        "s_new": s(new),
        "s_source": s(source, np.int16),
        "s_campaign": s(campaign, np.int16),
        "s_first_source": s(first_source, np.int16),
        "s_first_campaign": s(first_campaign, np.int16),
        "s_country": s(country, np.int16),
        "s_city": s(city, np.int16),
        "s_language": s(language, np.int16),
        "s_device": s(device, np.int16),
        "s_os": s(os_, np.int16),
        "s_browser": s(browser, np.int16),
        "s_landing": s(landing, np.int32),
        "s_landing_query": s(landing_query, np.int32),
        "s_views": s(views, np.int32),
        "s_events": s(s_events, np.int32),
        "s_key": s(s_key, np.int32),
        "s_purchases": s(s_purchases, np.int32),
        "s_revenue": s(s_revenue),
        "s_duration": s(duration),
        "s_engagement": s(session_engagement),
        "s_engaged": s(engaged),
        "e_session": e_sess_sorted.astype(np.int32),
        "e_time": base + start_sec[order][e_sess_sorted] + e_offset[e_order].astype(np.int64),
        "e_page": e_page[e_order].astype(np.int32),
        "e_query": e_query[e_order].astype(np.int32),
        "e_engagement": engagement[e_order],
        "x_view": x_view[x_order].astype(np.int32),
        "x_name": x_name,
        "p_event": p_event,
        "p_value": x_value[p_event],
    }


# Each piece's indices count from its own first session, view and event.
_INDEX_OF = {"e_session": "s_start", "x_view": "e_session", "p_event": "x_view"}


def _join(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate pieces of traffic, shifting their indices; empties ``parts``."""
    counts = {k: np.array([p[k].size for p in parts]) for k in ("s_start", *_INDEX_OF)}
    cols: dict[str, np.ndarray] = {}
    for key in list(parts[0]):
        # One column at a time, dropping the pieces: peak memory stays near the result.
        pieces = [p.pop(key) for p in parts]
        joined = np.concatenate(pieces)
        if key in _INDEX_OF:
            n = counts[_INDEX_OF[key]]
            joined += np.repeat(np.cumsum(n) - n, counts[key]).astype(joined.dtype)
        cols[key] = joined
        del pieces
    parts.clear()
    return cols


def generate(profile: TrafficProfile, last_day: date, since: date | None = None) -> Traffic:
    """Generate the profile's history, ending with ``last_day``; from ``since`` on only, when
    given (each day is its own random stream: a day's columns are the same either way)."""
    first = profile.first_day(last_day)
    if since is not None:
        first = min(max(first, since), last_day)
    return _traffic(profile, first, last_day, _generate_days(profile, first, last_day))


def _generate_days(profile: TrafficProfile, first: date, last: date) -> dict[str, np.ndarray]:
    """The columns of the days ``[first, last]``, joined (no day columns yet)."""
    loyal = _loyal(profile)
    days = range(first.toordinal(), last.toordinal() + 1)
    # Days join in blocks, then blocks join: thousands of small arrays never coexist.
    blocks = [
        _join([_generate_day(profile, date.fromordinal(d), loyal) for d in days[i : i + 128]])
        for i in range(0, len(days), 128)
    ]
    return _join(blocks)


def _traffic(profile: TrafficProfile, first: date, last_day: date,
             cols: dict[str, np.ndarray]) -> Traffic:
    _release_free_memory()
    return Traffic(
        first_day=first.toordinal(),
        last_day=last_day.toordinal(),
        site=profile.site,
        s_day=(cols["s_start"] // 86400).astype(np.int32),
        e_day=(cols["e_time"] // 86400).astype(np.int32),
        **cols,
    )


def extended(profile: TrafficProfile, recent: Traffic) -> Traffic:
    """The profile's whole history up to ``recent``'s last day: the days before ``recent``
    generated and put in front of it (``recent`` is not touched)."""
    last_day = date.fromordinal(recent.last_day)
    first = profile.first_day(last_day)
    if first.toordinal() >= recent.first_day:
        return recent
    older = _generate_days(profile, first, date.fromordinal(recent.first_day - 1))
    mine = {name: getattr(recent, name) for name in older}
    return _traffic(profile, first, last_day, _join([older, mine]))


def _release_free_memory() -> None:
    """Hand the heap freed by thousands of small day arrays back to the system (glibc)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def local_now(time_zone: str) -> datetime:
    """The current wall-clock time of a time zone, without tzinfo."""
    return datetime.now(ZoneInfo(time_zone)).replace(tzinfo=None)


def local_seconds(moment: datetime) -> int:
    """A naive local datetime as local seconds."""
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return moment.date().toordinal() * 86400 + seconds


RECENT_DAYS = 120  # the days a store makes first: what the usual views ask


@dataclass
class TrafficStore:
    """Traffic for one property, generated on first use and renewed at midnight.

    The last ``RECENT_DAYS`` days come first (a fraction of a second): a request that
    needs only them does not wait for the years before, which are generated next and
    put in front of them. Either traffic has the same columns for the days it has."""

    profile: TrafficProfile
    _traffic: Traffic | None = None
    _recent: Traffic | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _recent_lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, today: date, since: date | None = None) -> Traffic:
        """The traffic up to ``today``: the whole history, or, with ``since``, possibly one
        that starts later but has every day from ``since`` on."""
        day = today.toordinal()
        full = self._traffic
        if full is not None and full.last_day == day:
            return full
        if since is not None and since.toordinal() > day - RECENT_DAYS:
            return self.recent(today)
        with self._lock:
            if self._traffic is None or self._traffic.last_day != day:
                self._traffic = extended(self.profile, self.recent(today))
                self._recent = None  # the whole history answers from now on
            return self._traffic

    def recent(self, today: date) -> Traffic:
        """The traffic of the last ``RECENT_DAYS`` days up to ``today``."""
        day = today.toordinal()
        with self._recent_lock:
            if self._recent is None or self._recent.last_day != day:
                full = self._traffic
                if full is not None and full.last_day == day:
                    return full
                self._recent = generate(self.profile, today,
                                        date.fromordinal(day - RECENT_DAYS + 1))
            return self._recent

    def prepare(self, today: date) -> None:
        """Generate the whole history now (the recent days first)."""
        self.recent(today)
        self.get(today)


# ---------------------------------------------------------------- spikes on demand

SPIKE_MAX_FACTOR = 100.0
USUAL_DAYS = 28  # a page's usual 30 minutes: its views over 28 days / (28 * 48)
_BACKFILL = 1800  # a spike starts 30 minutes back, so the page trends at once
_SPIKE_USER = 1 << 62  # new readers of a spike get ids from here up


def check_spike_factor(factor: float) -> float:
    """``factor`` as a float; raises ValueError unless 1 < factor <= SPIKE_MAX_FACTOR."""
    value = float(factor)
    if not 1.0 < value <= SPIKE_MAX_FACTOR:  # false for NaN too
        raise ValueError(f"a spike's factor must be more than 1 and at most "
                         f"{SPIKE_MAX_FACTOR:g}, not {factor!r}")
    return value


def _hashes(key: int, index: IntArray, count: int) -> npt.NDArray[np.uint64]:
    """``count`` 64-bit hashes per index (splitmix64), a pure function of (key, index)."""
    x = (index.astype(np.uint64)[None, :] * np.uint64(count)
         + np.arange(count, dtype=np.uint64)[:, None]) ^ np.uint64(key)
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _unit(h: npt.NDArray[np.uint64]) -> FloatArray:
    """Hashes as uniform numbers in [0, 1)."""
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


# Session columns a spike's readers copy from the page's usual readers.
_DONOR_COLUMNS = ("s_user", "s_new", "s_source", "s_campaign", "s_first_source",
                  "s_first_campaign", "s_country", "s_city", "s_language", "s_device", "s_os",
                  "s_browser")


@dataclass(frozen=True)
class _SpikeDay:
    """One local day of a spike's stream: view k comes at ``start + (k + u) * gap``, u in
    [0, 1) drawn for it."""

    start: int  # local seconds
    gap: float  # seconds between extra views
    key: int
    usual: float  # the page's usual views in 30 minutes
    donors: dict[str, np.ndarray]  # _DONOR_COLUMNS of the page's usual readers


class PageSpike:
    """A page read at ``factor`` times its usual rate from local second ``since`` on.

    The extra readers are one-page sessions landing on the page, with the countries,
    devices and sources of the page's readers of the 28 days before (the site's, if it
    had none). Each local day's stream is fixed by its usual rate and a hash of
    (seed, page, day, view number), so every request sees the same views: realtime
    windows move over one stream and today's reports count what has passed. It starts
    30 minutes before ``since`` (not before the day: no past day changes).
    """

    def __init__(self, page: int, factor: float, since: int, seed: int) -> None:
        self.page = page
        self.factor = check_spike_factor(factor)
        self.since = since
        self.seed = seed
        self._days: dict[int, _SpikeDay] = {}

    def first_day(self) -> int:
        """The local day ordinal of the spike's first views."""
        return (self.since - _BACKFILL) // 86400

    def usual(self, traffic: Traffic, day: int) -> float:
        """The page's usual views in 30 minutes as of local day ordinal ``day``."""
        return self._day(traffic, day).usual

    def sessions(self, traffic: Traffic, t0: int, t1: int) -> dict[str, np.ndarray]:
        """The extra sessions starting in ``[t0, t1]`` (local seconds), by start."""
        first = (self.since - _BACKFILL) // 86400
        parts = [self._sessions_of_day(traffic, d, t0, t1)
                 for d in range(max(first, t0 // 86400), t1 // 86400 + 1)]
        return _join(parts or [self._sessions_of_day(traffic, t1 // 86400, t1 + 1, t1)])

    def _day(self, traffic: Traffic, day: int) -> _SpikeDay:
        found = self._days.get(day)
        if found is not None:
            return found
        s0, s1 = (int(i) for i in _find(traffic.s_day, [day - USUAL_DAYS, day]))
        e0, e1 = (int(i) for i in _find(traffic.e_session, [s0, s1]))
        hits = np.flatnonzero(traffic.e_page[e0:e1] == self.page) + e0
        usual = hits.size / (USUAL_DAYS * 48)
        donors = np.unique(traffic.e_session[hits]) if hits.size else np.arange(s0, s1)
        if donors.size:
            cols = {c: getattr(traffic, c)[donors] for c in _DONOR_COLUMNS}
        else:  # no history at all: direct visitors from the first country
            cols = {c: np.zeros(1, dtype=getattr(traffic, c).dtype) for c in _DONOR_COLUMNS}
            cols["s_new"][:] = True
        # One view per slot, somewhere in it: any 30 minutes hold at least ``extra`` views
        # (so a page with next to no views still shows ``factor``), on average one more.
        extra = max((self.factor - 1.0) * usual, self.factor)  # per 30 minutes
        key = int(np.random.SeedSequence([self.seed, self.page, day, 0x5B1CE])
                  .generate_state(1, np.uint64)[0])
        spike_day = _SpikeDay(max(day * 86400, self.since - _BACKFILL),
                              1800.0 / (math.ceil(extra) + 1), key, usual, cols)
        # Deterministic, so two threads computing it at once agree; keep the last days.
        self._days = {d: v for d, v in self._days.items() if d >= day - 2} | {day: spike_day}
        return spike_day

    def _sessions_of_day(self, traffic: Traffic, day: int, t0: int, t1: int
                         ) -> dict[str, np.ndarray]:
        sd = self._day(traffic, day)
        t0, t1 = max(t0, sd.start), min(t1, day * 86400 + 86399)
        k = np.arange(max(0, int((t0 - sd.start) / sd.gap) - 1),
                      int((t1 - sd.start) / sd.gap) + 2 if t0 <= t1 else 0, dtype=np.int64)
        h = _hashes(sd.key, k, 9)
        u = _unit(h)
        start = sd.start + np.floor((k + u[0]) * sd.gap).astype(np.int64)
        keep = (start >= t0) & (start <= t1)
        k, h, u, start = k[keep], h[:, keep], u[:, keep], start[keep]
        n = k.size
        donor = (h[1] % np.uint64(sd.donors["s_user"].size)).astype(np.int64)
        cols = {c: v[donor] for c, v in sd.donors.items()}
        new = cols["s_new"]
        cols["s_user"] = np.where(new, _SPIKE_USER + (h[2] >> np.uint64(3)).astype(np.int64),
                                  cols["s_user"])
        # Half glance and leave, the others read: the generator's one-page visits.
        normal = np.sqrt(-2.0 * np.log1p(-u[3])) * np.cos(2.0 * np.pi * u[4])
        dwell = np.where(u[5] < 0.5, 0.5 + 9.0 * u[6], np.minimum(np.exp(3.6 + normal), 1800.0))
        engagement = dwell * (0.6 + 0.4 * u[7])
        engaged = dwell >= 10.0
        scroll = (dwell > 15.0) & (u[8] < 0.55)
        view = np.arange(n, dtype=np.int64)
        parts = [(view, EV["session_start"]), (view[new], EV["first_visit"]),
                 (view, EV["page_view"]), (view[scroll], EV["scroll"]),
                 (view[engaged], EV["user_engagement"])]
        x_view = np.concatenate([p[0] for p in parts])
        x_name = np.concatenate([np.full(p[0].size, p[1], dtype=np.int8) for p in parts])
        order = np.lexsort((x_name, x_view))
        zeros = np.zeros(n, dtype=np.int32)
        cols.update(
            s_day=(start // 86400).astype(np.int32),
            s_start=start,
            s_landing=np.full(n, self.page, dtype=np.int32),
            s_landing_query=zeros,
            s_views=np.ones(n, dtype=np.int32),
            s_events=(2 + new.astype(np.int32) + scroll + engaged).astype(np.int32),
            s_key=zeros, s_purchases=zeros, s_revenue=np.zeros(n),
            s_duration=dwell, s_engagement=engagement, s_engaged=engaged,
            e_session=view.astype(np.int32),
            e_day=(start // 86400).astype(np.int32),
            e_time=start,
            e_page=np.full(n, self.page, dtype=np.int32),
            e_query=zeros,
            e_engagement=engagement,
            x_view=x_view[order].astype(np.int32),
            x_name=x_name[order],
            p_event=np.zeros(0, dtype=np.int64),
            p_value=np.zeros(0),
        )
        return cols


def spliced(traffic: Traffic, s0: int, s1: int, extra: list[dict[str, np.ndarray]]
            ) -> Traffic:
    """Sessions ``[s0, s1)`` of ``traffic`` with the ``extra`` sessions among them, by start.

    A new Traffic (the slice is copied, ``traffic`` is not touched) whose indices count
    from its first session. Only the sessions from the first extra one's start on are
    sorted again, so a long slice with a few sessions of today costs about a copy.
    """
    first = min((int(cols["s_start"].min()) for cols in extra if cols["s_start"].size),
                default=None)
    split = s1 if first is None else min(max(
        int(_find(traffic.s_start, [first])[0]), s0), s1)
    head = _bounds(traffic, s0, split)
    tail = _bounds(traffic, split, s1)
    parts = [{name: getattr(traffic, name)[slice(*tail[name[0]])] for name in _COLUMNS}]
    for name, target in _INDEX_OF.items():
        parts[0][name] = parts[0][name] - tail[target[0]][0]
    parts += [{k: v.astype(parts[0][k].dtype, copy=False) for k, v in cols.items()}
              for cols in extra]
    merged = _by_start(_join(parts))
    cols = {}
    for name in _COLUMNS:
        lo, hi = head[name[0]]
        before, after = getattr(traffic, name)[lo:hi], merged[name]
        if name in _INDEX_OF:  # count from the slice's first session, view, event
            start, end = head[_INDEX_OF[name][0]]
            before, after = before - start, after + (end - start)
        cols[name] = np.concatenate([before, after.astype(before.dtype, copy=False)])
    return Traffic(first_day=traffic.first_day, last_day=traffic.last_day, site=traffic.site,
                   **cols)


def _find(arr: np.ndarray, keys: list[int]) -> IntArray:
    """``np.searchsorted`` (left), with the keys in the array's own type: not a cast copy."""
    return np.searchsorted(arr, np.asarray(keys, dtype=arr.dtype)).astype(np.int64)


def _bounds(traffic: Traffic, s0: int, s1: int) -> dict[str, tuple[int, int]]:
    """The ranges of sessions ``[s0, s1)``, their views and their events, by column kind."""
    e0, e1 = (int(i) for i in _find(traffic.e_session, [s0, s1]))
    x0, x1 = (int(i) for i in _find(traffic.x_view, [e0, e1]))
    p0, p1 = (int(i) for i in _find(traffic.p_event, [x0, x1]))
    return {"s": (s0, s1), "e": (e0, e1), "x": (x0, x1), "p": (p0, p1)}


# Traffic's column arrays; the first letter says what they are of (sessions, views ...).
_COLUMNS = [name for name in Traffic.__dataclass_fields__
            if name not in ("first_day", "last_day", "site", "derived")]


def _by_start(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sessions sorted by start, their views and events following them."""
    start = cols["s_start"]
    if bool(np.all(start[1:] >= start[:-1])):
        return cols
    order = np.argsort(start, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    e_session = rank[cols["e_session"]]
    e_order = np.argsort(e_session, kind="stable")  # a session's views keep their order
    e_rank = np.empty_like(e_order)
    e_rank[e_order] = np.arange(e_order.size)
    x_view = e_rank[cols["x_view"]]
    x_order = np.argsort(x_view, kind="stable")
    x_rank = np.empty_like(x_order)
    x_rank[x_order] = np.arange(x_order.size)
    p_event = x_rank[cols["p_event"]]
    p_order = np.argsort(p_event, kind="stable")
    out: dict[str, np.ndarray] = {}
    for name, arr in cols.items():
        kind = name[0]
        if kind == "s":
            out[name] = arr[order]
        elif kind == "e":
            out[name] = arr[e_order]
        elif kind == "x":
            out[name] = arr[x_order]
        else:
            out[name] = arr[p_order]
    out["e_session"] = e_session[e_order].astype(cols["e_session"].dtype)
    out["x_view"] = x_view[x_order].astype(cols["x_view"].dtype)
    out["p_event"] = p_event[p_order].astype(cols["p_event"].dtype)
    return out
