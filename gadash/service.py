"""The data service: a query in, cached frames out. Callbacks only call this."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from flask import current_app

from gadash.cache import CacheStore
from gadash.errors import QueryError
from gadash.query import ReportQuery, local_date
from gadash.settings import Settings
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
                 properties: dict[str, str]):
        self.settings = settings
        self.source = source
        self.store = store
        self.properties = properties  # display name -> "properties/123"

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
