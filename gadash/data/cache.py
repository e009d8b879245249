"""The shared cache: flask-caching, RedisCache with ``REDIS_URL``, else embedded.

The cache sits below the access check: only the data service reads it, and
only requests that passed ``gadash.web.auth`` reach the data service. HTTP
responses are never cached.

``CacheStore`` adds what flask-caching lacks: locks for single-flight refreshes
(a Redis lock across processes and instances, a thread lock in-process), and a
fallback to this process's memory while Redis is unreachable, retried every few
seconds, so a Redis outage costs freshness and some GA quota, never a page.

Values are pickles, so the classes' module paths are part of the format: the key
prefix carries ``FORMAT``, raised whenever a cached class moves or changes shape, so
workers of two versions on one Redis never read each other's values. A value that
cannot be read all the same (a class gone) is a miss, never an outage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from cachelib import SimpleCache
from cachelib.serializers import RedisSerializer

log = logging.getLogger(__name__)

# 2: the package in rooms (gadash.core.frames.ReportFrame, gadash.data.flight.Entry, ...).
FORMAT = 2
KEY_PREFIX = f"gadash:v{FORMAT}:"
# What "Redis cannot be used" raises; anything else is this process's own problem.
OUTAGE = (redis.RedisError, OSError)
RETRY_SHARED_AFTER = 5.0  # seconds between attempts to reach Redis again


class ReadableOrMiss(RedisSerializer):
    """cachelib's Redis serializer, reading a value it cannot unpickle as a miss.

    cachelib catches only ``pickle.PickleError``; a value whose class moved raises
    ``ModuleNotFoundError`` or ``AttributeError`` and would fail the whole read (every
    key of a ``get_many``), which looked like Redis being down."""

    def loads(self, value: bytes | None) -> Any:
        try:
            return super().loads(value)
        except Exception as exc:  # noqa: BLE001 -- any unreadable value is a miss
            log.info("cache value unreadable, taken as a miss: %s: %s",
                     type(exc).__name__, exc)
            return None


class CacheStore:
    """get/set/locks on the app's cache, degrading to process memory when Redis fails."""

    def __init__(self, backend: Any):
        self._primary = backend
        self._local = SimpleCache(threshold=2000)
        self._redis = getattr(backend, "_write_client", None)  # cachelib's RedisCache
        if self._redis is not None:
            backend.serializer = ReadableOrMiss()
        self._retry_at = 0.0
        self.retry_after = RETRY_SHARED_AFTER
        self.down_since: float | None = None
        self.last_error = ""
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @property
    def kind(self) -> str:
        return type(self._primary).__name__

    @property
    def shared(self) -> bool:
        """True when entries are shared with other processes (Redis is up)."""
        return self._redis is not None and self.down_since is None

    @property
    def note(self) -> str:
        """What a person should know about the cache right now, or ""."""
        if self.down_since is None:
            return ""
        since = time.strftime("%H:%M", time.localtime(self.down_since))
        return (f"Shared cache unreachable since {since}; this server uses its own memory "
                "meanwhile and reconnects by itself.")

    def _backend(self) -> Any:
        if self.down_since is not None and time.monotonic() < self._retry_at:
            return self._local
        return self._primary

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        backend = self._backend()
        try:
            result = getattr(backend, method)(*args, **kwargs)
        except OUTAGE as exc:
            self._failed(exc)
            return getattr(self._local, method)(*args, **kwargs)
        if backend is self._primary and self.down_since is not None:
            log.warning("shared cache is back")
            self.down_since = None
        if backend is self._primary:
            self.last_error = ""
        return result

    def _failed(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self._retry_at = time.monotonic() + self.retry_after
        if self.down_since is None:
            self.down_since = time.time()
            log.warning("shared cache unreachable, using process memory: %s", self.last_error)

    def get(self, key: str) -> Any:
        return self._call("get", key)

    def get_many(self, keys: list[str]) -> list[Any]:
        """Values for keys (None where missing), in one round trip (MGET on Redis)."""
        return list(self._call("get_many", *keys)) if keys else []

    def set(self, key: str, value: Any, ttl: float) -> None:
        self._call("set", key, value, timeout=max(1, int(ttl)))

    def set_many(self, items: dict[str, Any], ttl: float) -> None:
        if items:
            self._call("set_many", items, timeout=max(1, int(ttl)))

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """Set ``key`` only if it is absent; True when this call set it.

        On Redis one ``SET NX EX``: cachelib's ``add`` is SETNX then EXPIRE, and a
        failure between the two would leave a key that never expires.
        """
        timeout = max(1, int(ttl))
        return bool(self._either(
            lambda client, name: client.set(
                name, self._primary.serializer.dumps(value), nx=True, ex=timeout),
            lambda backend: backend.add(key, value, timeout=timeout), key))

    def incr(self, key: str, ttl: float) -> int:
        """Add 1 to the counter at ``key`` (0 when absent) and return the new count.

        On Redis the counter expires ``ttl`` seconds after it was created (INCR alone
        sets no expiry); in process memory, ``ttl`` seconds after its last increment.
        """
        timeout = max(1, int(ttl))

        def on_redis(client: Any, name: str) -> int:
            with client.pipeline(transaction=True) as pipe:
                pipe.set(name, 0, nx=True, ex=timeout)
                pipe.incr(name)
                created, count = pipe.execute()
            if count == 1 and not created:  # the key expired between the two: no expiry
                client.expire(name, timeout)
            return int(count)

        def in_memory(backend: Any) -> int:
            # cachelib's inc re-sets the key with the default timeout, not ``ttl``.
            with self._locks_guard:
                count = int(backend.get(key) or 0) + 1
                backend.set(key, count, timeout=timeout)
            return count

        return int(self._either(on_redis, in_memory, key))

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when it was there."""
        return bool(self._call("delete", key))

    def _either(self, on_redis: Callable[[Any, str], Any], in_memory: Callable[[Any], Any],
                key: str) -> Any:
        """``on_redis(client, prefixed key)`` on Redis, else ``in_memory(backend)``, with
        the same fallback to process memory as ``_call``."""
        backend = self._backend()
        if self._redis is None or backend is not self._primary:
            return in_memory(backend)
        try:
            result = on_redis(self._redis, f"{self._primary._get_prefix()}{key}")
        except OUTAGE as exc:
            self._failed(exc)
            return in_memory(self._local)
        if self.down_since is not None:
            log.warning("shared cache is back")
            self.down_since = None
        self.last_error = ""
        return result

    @contextmanager
    def lock(self, key: str, wait: float, hold: float) -> Iterator[bool]:
        """Try to become the one who refreshes ``key``; yields whether it did.

        ``wait`` is how long to wait for the lock (0: not at all); ``hold`` bounds
        how long a crashed holder can keep it (Redis locks expire).
        """
        if self._redis is not None and self._backend() is self._primary:
            try:
                lock = self._redis.lock(f"{KEY_PREFIX}lock:{key}", timeout=hold,
                                        blocking=wait > 0, blocking_timeout=wait or None)
                got = bool(lock.acquire())
            except OUTAGE as exc:
                self._failed(exc)
            else:
                try:
                    yield got
                finally:
                    if got:
                        try:
                            lock.release()
                        except Exception:  # noqa: BLE001 -- expired or Redis gone: harmless
                            pass
                return
        with self._locks_guard:
            local = self._locks.setdefault(key, threading.Lock())
        got = local.acquire(timeout=wait) if wait > 0 else local.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                local.release()
