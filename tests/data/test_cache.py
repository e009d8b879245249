"""The shared cache's format: a versioned key prefix, and unreadable values as misses."""

from __future__ import annotations

import pickle

import pytest
from flask_caching.backends.rediscache import RedisCache
from redis import from_url

from gadash.data.cache import KEY_PREFIX, CacheStore
from gadash.settings import Settings
from gadash.web.app import cache_config

# A pickle of a class at a path that no longer exists (the layout before rooms).
MOVED = b"!" + b"cgadash.frames\nReportFrame\n."


@pytest.fixture()
def client(valkey_url):
    client = from_url(valkey_url)
    client.flushdb()
    yield client
    client.flushdb()


def test_the_key_prefix_carries_the_format() -> None:
    config = cache_config(Settings(redis_url="redis://127.0.0.1:1/0", _env_file=None))
    assert config["CACHE_KEY_PREFIX"] == KEY_PREFIX == "gadash:v2:"


def test_a_value_that_cannot_be_unpickled_is_a_miss_not_an_outage(client) -> None:
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(MOVED[1:])
    store = CacheStore(RedisCache(host=client, key_prefix=KEY_PREFIX))
    store.set("fine", {"rows": 3}, 60)
    client.set(f"{KEY_PREFIX}moved", MOVED)

    assert store.get("moved") is None
    assert store.get_many(["fine", "moved", "absent"]) == [{"rows": 3}, None, None]
    assert store.shared and store.down_since is None and store.last_error == ""
    store.set("moved", "fresh", 60)  # a miss is refetched and written over
    assert store.get("moved") == "fresh"


def test_redis_going_away_is_still_an_outage(client) -> None:
    store = CacheStore(RedisCache(host=from_url("redis://127.0.0.1:1/0", socket_timeout=0.5,
                                                socket_connect_timeout=0.5),
                                  key_prefix=KEY_PREFIX))
    assert store.get("anything") is None
    assert store.down_since is not None and "ConnectionError" in store.last_error
