"""Single-flight over a real store: one GA fetch however many ask at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from cachelib import SimpleCache

from gadash.data.cache import CacheStore
from gadash.data.flight import SingleFlight
from gadash.data.service import quota_factor
from gadash.errors import SourceUnavailableError


class Creator:
    """Stands in for a GA fetch: slow, counted, and able to fail on demand."""

    def __init__(self, delay: float = 0.3):
        self.delay = delay
        self.calls = 0
        self.fail = False
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        if self.fail:
            raise SourceUnavailableError("GA did not answer")
        return f"value {n}"


@pytest.fixture(params=["memory", "valkey"])
def store(request, valkey_url) -> Iterator[CacheStore]:
    if request.param == "memory":
        yield CacheStore(SimpleCache())
    else:
        from flask_caching.backends.rediscache import RedisCache
        from redis import from_url

        client = from_url(valkey_url)
        client.flushdb()
        yield CacheStore(RedisCache(host=client, key_prefix="t:"))


def crowd(flight: SingleFlight, key: str, creator: Creator, ttl: float, n: int = 20):
    with ThreadPoolExecutor(n) as pool:
        started = time.monotonic()
        futures = [pool.submit(lambda: (flight.get(key, creator, ttl),
                                        time.monotonic() - started)) for _ in range(n)]
        return [f.result() for f in futures]


def test_cold_key_is_fetched_once_and_everyone_waits_for_it(store):
    flight = SingleFlight(store, stale_max=60, wait=5)
    creator = Creator()
    results = crowd(flight, "k", creator, ttl=10)
    assert creator.calls == 1
    assert {r.value for r, _ in results} == {"value 1"}
    assert sorted(r.how for r, _ in results).count("fetched") == 1


def test_expired_key_is_refreshed_once_others_get_the_old_value_at_once(store):
    flight = SingleFlight(store, stale_max=60, wait=5)
    creator = Creator(delay=0.5)
    flight.get("k", creator, ttl=0.2)
    time.sleep(0.3)
    results = crowd(flight, "k", creator, ttl=10)
    assert creator.calls == 2
    stale = [(r, t) for r, t in results if r.how == "stale"]
    assert len(stale) == 19 and all(r.value == "value 1" for r, _ in stale)
    assert max(t for _, t in stale) < 0.4  # nobody waited for the refresh
    assert flight.get("k", creator, ttl=10).value == "value 2"


def test_ga_failure_serves_the_last_value_with_the_error_and_pauses(store):
    flight = SingleFlight(store, stale_max=60, wait=5, error_retry=0.5)
    creator = Creator(delay=0.01)
    flight.get("k", creator, ttl=0.1)
    time.sleep(0.15)
    creator.fail = True
    failed = flight.get("k", creator, ttl=0.1)
    assert failed.how == "stale" and failed.value == "value 1"
    assert failed.error == "GA did not answer"
    calls = creator.calls
    for _ in range(10):  # during the pause, nobody asks GA again
        assert flight.get("k", creator, ttl=0.1).error == "GA did not answer"
    assert creator.calls == calls
    time.sleep(0.55)
    creator.fail = False
    recovered = flight.get("k", creator, ttl=10)
    assert recovered.how == "fetched" and recovered.error == ""


def test_no_value_at_all_raises(store):
    flight = SingleFlight(store, stale_max=60, wait=5)
    creator = Creator(delay=0.01)
    creator.fail = True
    with pytest.raises(SourceUnavailableError):
        flight.get("k", creator, ttl=10)


def test_stale_values_are_bounded_by_stale_max(store):
    flight = SingleFlight(store, stale_max=1, wait=5)
    creator = Creator(delay=0.01)
    flight.get("k", creator, ttl=1)
    assert flight.peek("k") is not None
    time.sleep(2.2)
    assert flight.peek("k") is None  # past fresh + stale_max: gone from the store


def test_quota_factor_slows_refreshes_when_quota_runs_low():
    assert quota_factor(None, 40_000) == 1
    assert quota_factor(30_000, 40_000) == 1
    assert quota_factor(10_000, 40_000) == 2
    assert quota_factor(4_000, 40_000) == 4
    assert quota_factor(100, 40_000) == 12


def test_a_version_is_read_seldom_and_any_read_of_the_entry_updates_it(store):
    """Two processes on one store: the second learns of the first's refresh at its next
    version read, or at once when it reads the entry itself; expiry it sees by the clock."""
    first, second = (SingleFlight(store, stale_max=60, wait=5) for _ in range(2))
    creator = Creator(delay=0)
    first.get("k", creator, 1.0)
    v1 = second.version("k")
    assert v1 is not None and v1 == first.version("k")
    time.sleep(1.1)  # expired: both see it by the clock, without a read
    assert first.version("k") is None and second.version("k") is None
    first.get("k", creator, 30)  # the first refreshes
    assert first.version("k") not in (None, v1)  # it knows its own refresh at once
    # The second read a version lately (None while expired): it trusts that for a while ...
    assert second.version("k") is None
    # ... unless it reads the entry, which tells the version too.
    second.get("k", creator, 30)
    assert second.version("k") == first.version("k")
    assert creator.calls == 2
