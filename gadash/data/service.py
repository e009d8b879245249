"""The data service: a query in, cached frames out. Callbacks only call this."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from datetime import UTC, date, datetime
from typing import Any, cast

from gadash.core.frames import PropertyFields, ReportFrame, ViewResult
from gadash.core.insights.findings import (
    Changes,
    TrendingPage,
    judged_days,
    trending_pages,
    what_changed,
)
from gadash.core.insights.rules import Band
from gadash.core.plans import baseline_query, changes_query, trending_queries
from gadash.core.query import (
    DateRange,
    Exploration,
    Filters,
    ReportQuery,
    local_date,
    local_time,
)
from gadash.data.cache import CacheStore
from gadash.data.counters import quota_left
from gadash.data.flight import SingleFlight, version_text
from gadash.data.shares import Provider, ShareCounts
from gadash.data.shares.canonical import page_url
from gadash.data.shares.fetch import FetchLimits, fetch_counts
from gadash.data.sources.base import DataSource
from gadash.errors import QueryError
from gadash.memo import Recent
from gadash.settings import Settings

log = logging.getLogger(__name__)
_ZONE_TTL = 6 * 3600


def quota_factor(remaining: int | None, per_hour: int) -> float:
    """How much longer than usual to keep entries when the hourly GA quota runs low."""
    if remaining is None:
        return 1.0
    share = remaining / per_hour
    if share < 0.05:
        return 12.0
    if share < 0.15:
        return 4.0
    if share < 0.30:
        return 2.0
    return 1.0


class DataService:
    """Turns queries into frames through the shared cache, one GA fetch per refresh."""

    def __init__(self, settings: Settings, source: DataSource, store: CacheStore,
                 properties: dict[str, str], providers: list[Provider] | None = None):
        self.settings = settings
        self.source = source
        self.store = store
        self.properties = properties  # display name -> "properties/123"
        self.providers = providers or []
        self.flight = SingleFlight(store, settings.stale_max, wait=settings.ga_timeout + 5)
        # Queries screens poll, least recently polled first; bounded, so screens
        # asking for ever new ranges cannot make the warmer fetch without end.
        self.warm: OrderedDict[str, tuple[ReportQuery, float]] = OrderedDict()
        self._warm_lock = threading.Lock()
        # provider -> (answers, failures, last failure), this process
        self.share_health: dict[str, tuple[int, int, str]] = {}
        # Time zones and field lists, kept in the process for a minute.
        self._local: Recent[tuple[str, str], Any] = Recent(60, size=1_000)

    def property_id(self, name: str) -> str:
        """The GA property id for a display name. Raises QueryError."""
        try:
            return self.properties[name]
        except KeyError:
            known = ", ".join(self.properties)
            raise QueryError(f"Unknown property {name!r}; configured: {known}.") from None

    def view(self, query: ReportQuery, warm: bool = False) -> ViewResult:
        """Every panel of the query, from the shared cache or one batched GA fetch.

        ``warm``: keep this query fresh in the background (screens that poll it).
        Raises SourceError only when there is no earlier value to show, or QueryError.
        """
        key = query.cache_key()
        if warm:
            self.keep_warm(key, query)
        outcome = self.flight.get(key, functools.partial(self._fetch, query),
                                  functools.partial(self.ttl_for, query))
        return ViewResult(
            cast(dict[str, ReportFrame], outcome.value), how=outcome.how, error=outcome.error,
            fetched_at=datetime.fromtimestamp(outcome.fetched_at, UTC),
            error_short=outcome.error_short,
            version=version_text(outcome.fetched_at, outcome.error),
            cache_note=self.store.note,
        )

    def view_version(self, query: ReportQuery) -> str | None:
        """Which answer the cache holds for a query while it is fresh, without reading
        it (None: call ``view``). For screens that poll and redraw only on change."""
        return self.flight.version(query.cache_key())

    def keep_warm(self, key: str, query: ReportQuery) -> None:
        """Remember a polled query; past GADASH_WARM_MAX the least recently polled goes."""
        with self._warm_lock:
            self.warm[key] = (query, time.time())
            self.warm.move_to_end(key)
            while len(self.warm) > self.settings.warm_max:
                self.warm.popitem(last=False)

    def _fetch(self, query: ReportQuery) -> dict[str, ReportFrame]:
        reports = self.source.fetch(query)
        for report in reports.values():
            if "tokens_per_hour" in report.meta.quota:
                self.store.set(f"quota:{query.property_id}", {
                    **{k: v for k, v in report.meta.quota.items()}, "at": time.time()}, 3600)
                quota_left(query.property_id, report.meta.quota)
                break
        return reports

    def quota(self, property_id: str) -> dict[str, Any] | None:
        """The property's GA quota as of the last fetch (shared by every instance)."""
        value = self.store.get(f"quota:{property_id}")
        return value if isinstance(value, dict) else None

    def ttl_for(self, query: ReportQuery) -> float:
        """Seconds a query stays fresh: longer when the hourly GA quota runs low."""
        panels = [query.panel(p) for p in query.panels]
        realtime = all(p.realtime for p in panels)
        base = self.settings.realtime_ttl if realtime else self.settings.cache_ttl
        base = max([base, *(p.ttl for p in panels)])
        return base * self.ttl_for_property(query.property_id)

    def ttl_for_property(self, property_id: str) -> float:
        """The factor on every TTL of a property, from its remaining hourly quota."""
        quota = self.quota(property_id)
        left = quota["tokens_per_hour"][1] if quota else None
        return quota_factor(left, self.settings.quota_per_hour)

    def warm_once(self, now: float | None = None) -> int:
        """Refresh the polled queries that are about to go stale; returns how many."""
        now = now or time.time()
        done = 0
        with self._warm_lock:
            polled = list(self.warm.items())
        for key, (query, seen) in polled:
            if now - seen > 3600:  # nobody has looked for an hour
                with self._warm_lock:
                    self.warm.pop(key, None)
                continue
            entry = self.flight.peek(key)
            # Refresh when less than this is left; at most half the TTL, so a
            # short-lived entry is not refreshed on every run.
            ttl = self.ttl_for(query)
            margin = min(max(5.0, 1.5 * self.settings.warm_interval), ttl / 2)
            if entry is None or entry.fresh_until - now < margin:
                fetch = functools.partial(self._fetch, query)
                if self.flight.refresh_if_free(key, fetch, ttl, margin, now):
                    done += 1
        return done

    def shares(self, property_name: str, paths: list[str]
               ) -> dict[str, dict[str, ShareCounts]]:
        """Share counts per page path and provider, for the site of a property.

        Counts are cached per (provider, URL) for GADASH_SHARE_TTL; only what is
        missing or expired is fetched, all at once. Failures are kept for a
        minute, so a provider that is down is not asked on every refresh.
        """
        site = self.settings.site_urls.get(property_name)
        if not site or not self.providers or not paths:
            return {}
        urls = {path: page_url(site, path) for path in paths}
        keys = {(p.name, url): f"share:{p.name}:{hashlib.sha256(url.encode()).hexdigest()[:24]}"
                for p in self.providers for url in set(urls.values())}
        pairs = list(keys)
        found = dict(zip(pairs, self.store.get_many([keys[k] for k in pairs]), strict=True))
        missing = sorted({url for (name, url), v in found.items() if v is None})
        wanted = [p for p in self.providers if any(found[(p.name, u)] is None for u in missing)]
        if missing:
            s = self.settings
            fetched = fetch_counts(wanted, missing, FetchLimits(timeout=s.share_timeout,
                                                                deadline=s.share_deadline))
            fetched = {k: v for k, v in fetched.items() if found.get(k) is None}
            for (name, _), counts in fetched.items():
                ok, failed, last = self.share_health.get(name, (0, 0, ""))
                self.share_health[name] = (ok + counts.ok, failed + (not counts.ok),
                                           last if counts.ok else counts.error)
            self.store.set_many({keys[k]: v for k, v in fetched.items() if v.ok}, s.share_ttl)
            self.store.set_many({keys[k]: v for k, v in fetched.items() if not v.ok},
                                min(60, s.share_ttl))
            found.update(fetched)
        return {path: {p.name: cast(ShareCounts, found[(p.name, url)]) for p in self.providers}
                for path, url in urls.items()}

    def time_zone(self, property_id: str) -> str:
        """The property's reporting time zone (asked of GA, cached for hours; kept in
        the process for a minute, so polls do not each read the shared cache)."""
        return self._local.get(("tz", property_id), lambda: str(self.flight.get(
            f"tz:{property_id}", functools.partial(self.source.time_zone, property_id),
            _ZONE_TTL).value))

    def fields(self, property_id: str) -> PropertyFields:
        """The dimensions and metrics the property offers, custom definitions included
        (GetMetadata, cached for hours; kept in the process for a minute)."""
        return cast(PropertyFields, self._local.get(("fields", property_id), lambda: (
            self.flight.get(f"fields:{property_id}",
                            functools.partial(self.source.fields, property_id),
                            _ZONE_TTL).value)))

    def available_fields(self, property_id: str) -> frozenset[str]:
        """The names of the property's dimensions and metrics."""
        return self.fields(property_id).names

    def incompatible(self, property_id: str, exploration: Exploration) -> list[str]:
        """Why GA cannot answer these fields together ([] when it can): names GetMetadata
        does not know, then GA's CheckCompatibility (cached for hours per set of fields
        and filters). Asked before any data is."""
        known = self.available_fields(property_id)
        unknown = [f for f in exploration.fields if f not in known]
        if unknown:
            return [f"This property has no dimension or metric named {name!r}." for name in unknown]
        digest = hashlib.sha256(repr((exploration.dimensions, exploration.metrics,
                                      exploration.where, exploration.having)).encode()
                                ).hexdigest()[:32]
        return list(self.flight.get(
            f"compatible:{property_id}:{digest}",
            functools.partial(self.source.incompatible, property_id, exploration),
            _ZONE_TTL).value)

    def today(self, property_id: str) -> date:
        """Today in the property's time zone."""
        return local_date(self.time_zone(property_id))

    def now(self, property_id: str) -> datetime:
        """The time it is in the property's time zone (its hours are GA's hours)."""
        return local_time(self.time_zone(property_id))
    # -------------------------------------------------------------- insights
    # Each costs at most one more batch call per view, cached like a view.

    def changes(self, property_id: str, ranges: tuple[DateRange, ...], filters: Filters,
                cutoff: int | None = None) -> tuple[Changes, ViewResult]:
        """What changed between the view's two periods (raises QueryError without one),
        like for like to the ``cutoff`` hour as the view's tiles."""
        result = self.view(changes_query(property_id, ranges, filters,
                                         self.available_fields(property_id), cutoff))
        return what_changed(result.reports), result

    def unusual_days(self, property_id: str, current: DateRange, filters: Filters
                     ) -> list[Band]:
        """The judged days of the range that fall outside their band."""
        result = self.view(baseline_query(property_id, current, filters,
                                          self.available_fields(property_id)))
        today = self.today(property_id)
        return [b for b in judged_days(result.reports["baseline"], current.start,
                                       current.end, today) if b.unusual]

    def trending(self, property_id: str, warm: bool = False) -> list[TrendingPage]:
        """Pages read now far above their usual rate (realtime against 28 days)."""
        usual_q, now_q = trending_queries(property_id, self.today(property_id),
                                          self.available_fields(property_id))
        usual = self.view(usual_q, warm=warm).reports["trending_usual"]
        now = self.view(now_q, warm=warm).reports
        return trending_pages(now["trending_now"], now.get("trending_countries"), usual,
                              self.settings.trending_min_views,
                              self.settings.trending_min_ratio)
