"""The data service through flask-caching: embedded cache and a real Valkey server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from gadash.core.query import DateRange, Filters, ReportQuery
from gadash.data.cache import CacheStore
from gadash.data.service import DataService
from gadash.data.sources import create_source
from gadash.errors import QueryError
from gadash.settings import Settings
from gadash.web.app import cache, init_cache
from tests.conftest import BLOG, free_port


@contextmanager
def service_for(settings: Settings) -> Iterator[DataService]:
    server = Flask(__name__)
    init_cache(server, settings)
    with server.app_context():
        store = CacheStore(cache.cache)
        source = create_source(settings)
        try:
            yield DataService(settings, source, store, dict(settings.properties))
        finally:
            source.close()


def view_query(past_days, **filters: str) -> ReportQuery:
    return ReportQuery(BLOG, ("trend", "audience"), (DateRange(past_days(7), past_days(1)),),
                       Filters(**filters))


def test_embedded_cache_spends_ga_once(settings, standin_clean, past_days):
    with service_for(settings) as service:
        assert service.store.kind == "SimpleCache"
        first = service.view(view_query(past_days))
        again = service.view(view_query(past_days))
        assert not first.cached and again.cached
        assert standin_clean.servicer.calls["BatchRunReports"] == 1
        assert again.reports["audience"].rows.equals(first.reports["audience"].rows)
        # Another filter is another key.
        service.view(view_query(past_days, device="mobile"))
        assert standin_clean.servicer.calls["BatchRunReports"] == 2


def test_redis_cache_is_shared_between_services(settings, standin_clean, valkey_url, past_days):
    shared = settings.model_copy(update={"redis_url": valkey_url})
    query = view_query(past_days, country="France")
    with service_for(shared) as one:
        assert one.store.kind == "RedisCache"
        one.view(query)
    with service_for(shared) as two:  # as another gunicorn worker or instance would
        result = two.view(query)
        assert result.cached
        assert set(result.reports) == {"trend", "audience"}
    assert standin_clean.servicer.calls["BatchRunReports"] == 1


def test_redis_going_away_costs_freshness_not_the_page(settings, standin_clean, past_days):
    import time

    from tests.valkey import Valkey

    port = free_port()
    redis = Valkey(port=port)
    redis.start()
    calls = standin_clean.servicer.calls
    try:
        with service_for(settings.model_copy(update={
                "redis_url": f"redis://127.0.0.1:{port}/0"})) as service:
            service.store.retry_after = 0.3
            query = view_query(past_days, device="desktop")
            assert not service.view(query).cached
            assert service.view(query).cached and service.store.shared
            redis.stop()
            down = service.view(query)  # Redis gone: this process's memory, GA once
            assert not down.cached and "Shared cache unreachable" in down.cache_note
            assert set(down.reports) == {"trend", "audience"}
            assert service.view(query).cached  # ... and not once per viewer
            assert calls["BatchRunReports"] == 2
            redis = Valkey(port=port)
            redis.start()
            time.sleep(0.4)
            back = service.view(query)  # reconnected by itself; the new server is empty
            assert service.store.shared and back.cache_note == ""
            assert service.view(query).cached
    finally:
        if redis.is_running():
            redis.stop()


def test_time_zone_and_fields_are_cached(settings, standin_clean):
    with service_for(settings) as service:
        assert service.time_zone(BLOG) == "America/New_York"
        assert service.time_zone(BLOG) == "America/New_York"
        assert "landingPage" in service.available_fields(BLOG)
        service.available_fields(BLOG)
        assert standin_clean.servicer.calls["RunReport"] == 1
        assert standin_clean.servicer.calls["GetMetadata"] == 1


def test_unknown_property_name(settings):
    with service_for(settings) as service:
        with pytest.raises(QueryError, match="Unknown property 'Nope'; configured: Blog, Shop"):
            service.property_id("Nope")


def test_share_counts_are_cached_per_provider_and_url(settings, standin_clean):
    from collections import Counter

    from aiohttp import web

    from gadash.data.shares import create_providers
    from gadash.standin.http import BackgroundServer
    from gadash.standin.shares import create_share_app, standin_urls

    hits: Counter[str] = Counter()

    @web.middleware
    async def count(request, handler):
        hits[request.path.split("/")[1]] += 1
        return await handler(request)

    app = create_share_app()
    app.middlewares.append(count)
    with BackgroundServer(app) as shares:
        s = settings.model_copy(update={
            **standin_urls(shares.url), "site_urls": {"Blog": "https://blog.example.com"},
            "share_providers": "hackernews,reddit", "share_rate_limits": {"reddit": "100"},
        })
        with service_for(s) as service:
            service.providers, notes = create_providers(s)
            assert notes == []
            first = service.shares("Blog", ["/", "/blog/a/", "/blog/a/?utm_source=x"])
            assert dict(hits) == {"hn": 2, "reddit": 2}  # two distinct pages, two providers
            assert first["/blog/a/"]["reddit"] == first["/blog/a/?utm_source=x"]["reddit"]
            assert first["/"]["hackernews"].ok
            again = service.shares("Blog", ["/", "/blog/a/", "/pricing/"])
            assert dict(hits) == {"hn": 3, "reddit": 3}  # only /pricing/ was missing
            assert again["/"]["reddit"].counts == first["/"]["reddit"].counts
            assert service.shares("Shop", ["/"]) == {}  # no site URL for the shop


def test_facebook_is_off_without_a_token(settings):
    from gadash.data.shares import create_providers

    providers, notes = create_providers(settings)
    assert [p.name for p in providers] == ["hackernews", "reddit"]
    assert notes == ["Facebook counts are off: set GADASH_FACEBOOK_TOKEN."]


def test_warmer_refreshes_what_screens_poll(settings, standin_clean, past_days):
    import time

    with service_for(settings) as service:
        query = view_query(past_days, country="Canada")
        service.view(query, warm=True)
        assert standin_clean.servicer.calls["BatchRunReports"] == 1
        assert service.warm_once() == 0  # fresh: nothing to do
        assert service.warm_once(now=time.time() + settings.cache_ttl - 1) == 1
        assert standin_clean.servicer.calls["BatchRunReports"] == 2
        assert service.view(query).cached  # the screen never waits on GA
        assert service.warm_once(now=time.time() + 7200) == 0  # nobody polled for an hour
        assert service.warm == {}


def test_quota_and_status(settings, standin_clean, past_days):
    from gadash.web.routes.status import service_status

    with service_for(settings) as service:
        service.view(view_query(past_days))
        service.view(view_query(past_days))
        quota = service.quota(BLOG)
        assert quota is not None and 0 < quota["tokens_per_hour"][1] < 40_000
        status = service_status(service)
        assert status["cache"]["backend"] == "SimpleCache"
        assert status["cache"]["ga_fetches"] == 1 and status["cache"]["hit_rate"] == 0.5
        assert status["quota"]["Blog"]["refresh_slowdown"] == 1.0
        assert status["last_ga_call"] != "never"
