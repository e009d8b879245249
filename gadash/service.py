"""The data service: a query in, cached frames out. Callbacks only call this."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from flask import current_app

from gadash.cache import CacheStore
from gadash.errors import QueryError
from gadash.query import ReportQuery, local_date
from gadash.settings import Settings
from gadash.shares import Provider, ShareCounts
from gadash.shares.canonical import page_url
from gadash.shares.fetch import FetchLimits, fetch_counts
from gadash.sources.base import DataSource, ReportFrame

log = logging.getLogger(__name__)

EXTENSION = "gadash"
_ZONE_TTL = 6 * 3600


@dataclass(frozen=True)
class ViewResult:
    """The frames of a view and where they came from."""

    reports: dict[str, ReportFrame]
    cached: bool
    cache_note: str = ""

    @property
    def fetched_at(self) -> datetime:
        return min((r.meta.fetched_at for r in self.reports.values()),
                   default=datetime.now(UTC))


class DataService:
    """Turns queries into frames through the shared cache."""

    def __init__(self, settings: Settings, source: DataSource, store: CacheStore,
                 properties: dict[str, str], providers: list[Provider] | None = None):
        self.settings = settings
        self.source = source
        self.store = store
        self.properties = properties  # display name -> "properties/123"
        self.providers = providers or []

    def property_id(self, name: str) -> str:
        """The GA property id for a display name. Raises QueryError."""
        try:
            return self.properties[name]
        except KeyError:
            known = ", ".join(self.properties)
            raise QueryError(f"Unknown property {name!r}; configured: {known}.") from None

    def view(self, query: ReportQuery) -> ViewResult:
        """Every panel of the query, from the cache or one batched GA fetch.

        Raises SourceError (from the source) or QueryError.
        """
        key = query.cache_key()
        hit = self.store.get(key)
        if hit is not None:
            return ViewResult(cast(dict[str, ReportFrame], hit), cached=True)
        reports = self.source.fetch(query)
        realtime = any(r.panel.startswith("realtime") for r in reports.values())
        ttl = self.settings.realtime_ttl if realtime else self.settings.cache_ttl
        self.store.set(key, reports, ttl)
        return ViewResult(reports, cached=False, cache_note=self.store.last_error)

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
            self.store.set_many({keys[k]: v for k, v in fetched.items() if v.ok}, s.share_ttl)
            self.store.set_many({keys[k]: v for k, v in fetched.items() if not v.ok},
                                min(60, s.share_ttl))
            found.update(fetched)
        return {path: {p.name: cast(ShareCounts, found[(p.name, url)]) for p in self.providers}
                for path, url in urls.items()}

    def time_zone(self, property_id: str) -> str:
        """The property's reporting time zone (asked of GA, cached for hours)."""
        key = f"tz:{property_id}"
        zone = self.store.get(key)
        if zone is None:
            zone = self.source.time_zone(property_id)
            self.store.set(key, zone, _ZONE_TTL)
        return str(zone)

    def available_fields(self, property_id: str) -> frozenset[str]:
        """The dimensions and metrics the property offers (GetMetadata, cached for hours)."""
        key = f"fields:{property_id}"
        names = self.store.get(key)
        if names is None:
            names = self.source.available_fields(property_id)
            self.store.set(key, names, _ZONE_TTL)
        return frozenset(names)

    def today(self, property_id: str) -> date:
        """Today in the property's time zone."""
        return local_date(self.time_zone(property_id))


def get_service() -> DataService:
    """The current app's data service."""
    return cast(DataService, current_app.extensions[EXTENSION])
