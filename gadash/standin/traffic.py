"""Deterministic synthetic web traffic at session and page-view level.

Every day is drawn from its own random stream (seeded by the profile's seed and
the day), so a day's numbers never change when the window moves. Attributes are
stored as small integer codes into the catalogs below; the query engine turns
codes into GA's strings only for the rows it returns.

Times are the property's local wall-clock time, as "local seconds":
``day_ordinal * 86400 + seconds_of_day``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
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
LOYAL_USERS = 40_000


@dataclass(frozen=True)
class TrafficProfile:
    """What kind of site to simulate."""

    sessions_per_day: int = 1800
    days: int = 800
    seed: int = 2015
    time_zone: str = "America/New_York"


@dataclass
class Traffic:
    """Column arrays of sessions and page views over ``[first_day, last_day]``."""

    first_day: int
    last_day: int
    # sessions (sorted by start)
    s_day: IntArray
    s_start: IntArray  # local seconds
    s_user: IntArray
    s_new: BoolArray
    s_source: SmallArray
    s_country: SmallArray
    s_device: SmallArray
    s_browser: SmallArray
    s_landing: SmallArray
    s_views: IntArray
    s_duration: FloatArray
    s_engagement: FloatArray
    s_engaged: BoolArray
    # page views (sorted by session, then time)
    e_session: IntArray
    e_day: IntArray
    e_time: IntArray  # local seconds
    e_page: SmallArray
    e_engagement: FloatArray

    @property
    def session_count(self) -> int:
        return int(self.s_day.size)

    @property
    def view_count(self) -> int:
        return int(self.e_session.size)


def _day_factor(day: date) -> float:
    doy = day.timetuple().tm_yday
    seasonal = 1.0 + 0.10 * np.cos(2 * np.pi * (doy - 40) / 365.25)
    holidays = (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2)
    holiday = 0.7 if holidays else 1.0
    # A slow multi-year wave stands for growth and decline, the same for a day
    # whatever window it falls in.
    growth = 1.0 + 0.15 * np.sin(2 * np.pi * day.toordinal() / (3 * 365.25))
    return float(_WEEKLY[day.weekday()] * seasonal * holiday * growth)


def _generate_day(profile: TrafficProfile, day: date) -> dict[str, np.ndarray]:
    """Draw one day's sessions from its own random stream."""
    rng = np.random.default_rng([profile.seed, day.toordinal()])
    expected = profile.sessions_per_day * _day_factor(day) * rng.lognormal(0.0, 0.08)
    n_regular = int(rng.poisson(expected))
    # A few days a year one article takes off on Hacker News or Reddit.
    n_spike = int(expected * rng.uniform(0.8, 3.0)) if rng.random() < 0.03 else 0
    n = n_regular + n_spike

    hour = rng.choice(24, size=n, p=_DIURNAL)
    start_sec = hour * 3600 + rng.integers(0, 3600, size=n)
    source = rng.choice(len(SOURCES), size=n, p=_SOURCE_P)
    landing = rng.choice(len(PAGES), size=n, p=_PAGE_P)
    # Many direct visitors type the home page.
    direct = (source == 1) & (rng.random(n) < 0.5)
    landing[direct] = HOME
    if n_spike:
        hot = rng.integers(len(STATIC_PAGES), len(PAGES))
        spike_hour = rng.integers(8, 18)
        sl = slice(n_regular, n)
        source[sl] = rng.choice(SPIKE_SOURCES, size=n_spike)
        landing[sl] = hot
        start_sec[sl] = np.clip(
            spike_hour * 3600 + rng.exponential(4 * 3600, size=n_spike), 0, 86399
        ).astype(np.int64)
    country = rng.choice(len(COUNTRIES), size=n, p=_COUNTRY_P)
    device = rng.choice(len(DEVICES), size=n, p=_DEVICE_P)
    browser = rng.choice(len(BROWSERS), size=n, p=_BROWSER_P)
    safari = device != 0
    browser[safari & (rng.random(n) < 0.25)] = 1

    new = rng.random(n) < 0.6
    user = np.empty(n, dtype=np.int64)
    n_new = int(new.sum())
    user[new] = LOYAL_USERS + day.toordinal() * 1_000_000 + np.arange(n_new)
    loyal = (rng.pareto(1.2, size=n - n_new) * 800).astype(np.int64) % LOYAL_USERS
    user[~new] = loyal

    views = 1 + rng.poisson(_DEVICE_EXTRA[device] * np.where(new, 0.7, 1.2))
    views = np.minimum(views, 25)
    total_views = int(views.sum())
    e_session = np.repeat(np.arange(n), views)
    first_of_session = np.zeros(total_views, dtype=bool)
    offsets = np.cumsum(views) - views
    first_of_session[offsets] = True
    e_page = rng.choice(len(PAGES), size=total_views, p=_PAGE_P)
    e_page[first_of_session] = landing
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

    order = np.argsort(start_sec, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    base = day.toordinal() * 86400
    e_order = np.lexsort((e_offset, rank[e_session]))
    e_sess_sorted = rank[e_session][e_order]
    return {
        "s_start": base + start_sec[order],
        "s_user": user[order],
        "s_new": new[order],
        "s_source": source[order].astype(np.int16),
        "s_country": country[order].astype(np.int16),
        "s_device": device[order].astype(np.int16),
        "s_browser": browser[order].astype(np.int16),
        "s_landing": landing[order].astype(np.int16),
        "s_views": views[order].astype(np.int64),
        "s_duration": duration[order],
        "s_engagement": session_engagement[order],
        "s_engaged": engaged[order],
        "e_session": e_sess_sorted,
        "e_time": base + start_sec[order][e_sess_sorted] + e_offset[e_order].astype(np.int64),
        "e_page": e_page[e_order].astype(np.int16),
        "e_engagement": engagement[e_order],
    }


def generate(profile: TrafficProfile, last_day: date) -> Traffic:
    """Generate ``profile.days`` days of traffic ending with ``last_day``."""
    first = date.fromordinal(last_day.toordinal() - profile.days + 1)
    parts = [
        _generate_day(profile, date.fromordinal(d))
        for d in range(first.toordinal(), last_day.toordinal() + 1)
    ]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    counts = np.array([p["s_start"].size for p in parts])
    session_base = np.repeat(np.cumsum(counts) - counts, [p["e_session"].size for p in parts])
    cols["e_session"] = cols["e_session"] + session_base
    return Traffic(
        first_day=first.toordinal(),
        last_day=last_day.toordinal(),
        s_day=cols["s_start"] // 86400,
        e_day=cols["e_time"] // 86400,
        **cols,
    )


def local_now(time_zone: str) -> datetime:
    """The current wall-clock time of a time zone, without tzinfo."""
    return datetime.now(ZoneInfo(time_zone)).replace(tzinfo=None)


def local_seconds(moment: datetime) -> int:
    """A naive local datetime as local seconds."""
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return moment.date().toordinal() * 86400 + seconds


@dataclass
class TrafficStore:
    """Traffic for one property, generated on first use and renewed at midnight."""

    profile: TrafficProfile
    _traffic: Traffic | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, today: date) -> Traffic:
        with self._lock:
            if self._traffic is None or self._traffic.last_day != today.toordinal():
                self._traffic = generate(self.profile, today)
            return self._traffic
