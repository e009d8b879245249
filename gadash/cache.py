"""The shared cache: flask-caching, RedisCache with ``REDIS_URL``, else embedded.

The cache sits below the access check: only the data service reads it, and
only callbacks that passed sign-in call the data service. HTTP responses are
never cached.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_caching import Cache

from gadash.settings import Settings

log = logging.getLogger(__name__)

cache = Cache()


def cache_config(settings: Settings) -> dict[str, Any]:
    """flask-caching configuration for the settings."""
    if settings.redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": settings.redis_url,
            "CACHE_KEY_PREFIX": "gadash:",
            "CACHE_DEFAULT_TIMEOUT": settings.cache_ttl,
            # A Redis that hangs must not hang the dashboard.
            "CACHE_OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
    return {
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": settings.cache_ttl,
        "CACHE_THRESHOLD": 2000,
    }


def init_cache(server: Flask, settings: Settings) -> None:
    cache.init_app(server, config=cache_config(settings))


class CacheStore:
    """get/set on the app's cache that log and carry on when the backend fails.

    A cache outage costs freshness and GA quota, never a page.
    """

    def __init__(self, backend: Any):
        self._backend = backend
        self.last_error: str = ""

    @property
    def kind(self) -> str:
        return type(self._backend).__name__

    def get(self, key: str) -> Any:
        try:
            value = self._backend.get(key)
        except Exception as exc:  # noqa: BLE001 -- any backend failure means "miss"
            self._failed("read", exc)
            return None
        self.last_error = ""
        return value

    def get_many(self, keys: list[str]) -> list[Any]:
        """Values for keys (None where missing), in one round trip (MGET on Redis)."""
        if not keys:
            return []
        try:
            values = list(self._backend.get_many(*keys))
        except Exception as exc:  # noqa: BLE001
            self._failed("read", exc)
            return [None] * len(keys)
        self.last_error = ""
        return values

    def set_many(self, items: dict[str, Any], ttl: int) -> None:
        if not items:
            return
        try:
            self._backend.set_many(items, timeout=ttl)
        except Exception as exc:  # noqa: BLE001
            self._failed("write", exc)

    def set(self, key: str, value: Any, ttl: int) -> None:
        try:
            self._backend.set(key, value, timeout=ttl)
        except Exception as exc:  # noqa: BLE001
            self._failed("write", exc)

    def _failed(self, what: str, exc: Exception) -> None:
        self.last_error = f"Shared cache unavailable ({what}: {type(exc).__name__}: {exc})"
        log.warning("%s", self.last_error)
