"""Single-flight refreshes with stale-while-revalidate and stale-on-error.

dogpile.cache's semantics over the shared store: when an entry expires, one
worker (across processes and instances, by a lock) asks GA again while every
other request gets the previous value at once; only the very first creation
of an entry makes requests wait. When GA fails, the last good value is served,
with its age and the error, for up to GADASH_STALE_MAX seconds; the failed
refresh is retried after a short pause, not on every request.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gadash.data.cache import CacheStore
from gadash.data.counters import cache_answer, singleflight_wait
from gadash.errors import SourceError, SourceUnavailableError

ERROR_RETRY = 30.0  # seconds before a failed refresh is tried again
# Seconds a process trusts a version it read from the store. Its own refreshes it knows
# at once and an expiry it sees by the clock; only another process's earlier refresh
# (the warmer's) shows this much later. Every read is a round trip on the poll that
# makes it, and with the GIL held by other threads meanwhile such a poll can take ten
# times as long as the others: at 1 s they were one poll in ten under 50 screens.
VERSION_READ_EVERY = 5.0
Ttl = float | Callable[[], float]  # seconds an entry stays fresh, or how to work it out


def version_text(fetched_at: float, error: str) -> str:
    """Which answer an entry holds, as pollers compare it: when it was fetched and why
    its last refresh failed ("" when it worked), ``fetched_at:error``."""
    return f"{fetched_at}:{error}"


def version_failed(version: str) -> bool:
    """Does the answer of this version carry a refresh's failure (stale, GA failing)?"""
    return bool(version.partition(":")[2])  # a float's text holds no colon


@dataclass(frozen=True)
class Entry:
    """What the shared store keeps for one query."""

    value: Any
    fetched_at: float
    fresh_until: float
    error: str = ""  # why the last refresh failed
    retry_at: float = 0.0  # when a failed refresh may be tried again
    error_short: str = ""  # the failure in a few words, e.g. "GA not answering"


@dataclass(frozen=True)
class Outcome:
    """A value and how it was obtained: "fetched", "cached" or "stale"."""

    value: Any
    fetched_at: float
    how: str
    error: str = ""
    error_short: str = ""

    @classmethod
    def of(cls, entry: Entry, how: str) -> Outcome:
        # Entries written before error_short existed lack it.
        return cls(entry.value, entry.fetched_at, how, entry.error,
                   getattr(entry, "error_short", ""))


class SingleFlight:
    """get-or-refresh on the shared store, one refresher per key."""

    def __init__(self, store: CacheStore, stale_max: float, wait: float,
                 error_retry: float = ERROR_RETRY):
        self.store = store
        self.stale_max = stale_max
        self.wait = wait  # how long the first requests wait for the first creation
        self.error_retry = error_retry
        self.stats: Counter[str] = Counter()
        self.last_fetch: float | None = None
        self.last_error = ""  # why this process's last GA refresh failed ("" if it worked)
        # key -> (version tuple, when read): many screens polling one key each second
        # cost the shared store one read a second per process, not one each.
        self._versions: dict[str, tuple[Any, float]] = {}
        self._versions_lock = threading.Lock()

    def _read(self, key: str) -> Entry | None:
        entry = self.store.get(key)
        if not isinstance(entry, Entry):
            return None
        self._know(key, entry)  # what the key holds now: version() need not ask for a while
        return entry

    def _know(self, key: str, entry: Entry) -> tuple[Any, ...]:
        """Remember which value ``key`` holds; its version tuple (see ``version``)."""
        found = (entry.fetched_at, entry.fresh_until, entry.retry_at, entry.error)
        with self._versions_lock:
            self._versions[key] = (found, time.monotonic())
        return found

    def _write(self, key: str, entry: Entry) -> None:
        keep = entry.fresh_until + self.stale_max - time.time()
        if keep > 0:
            self.store.set(key, entry, keep)
            # A few bytes that say which value the key holds, for pollers that only
            # need to know whether anything changed (gadash.web.pages.tv).
            self.store.set(key + ":version", self._know(key, entry), keep)

    def version(self, key: str) -> str | None:
        """Which value ``key`` holds, while it needs no refresh; None otherwise (then
        ``get`` must be called: it refreshes)."""
        now = time.monotonic()
        with self._versions_lock:
            found, read_at = self._versions.get(key, (None, -VERSION_READ_EVERY))
        if now - read_at >= VERSION_READ_EVERY:
            found = self.store.get(key + ":version")
            with self._versions_lock:
                if len(self._versions) > 10_000:  # keys polled are few; never unbounded
                    self._versions.clear()
                self._versions[key] = (found, now)
        if not isinstance(found, tuple) or len(found) != 4:
            return None
        fetched_at, fresh_until, retry_at, error = found
        if time.time() >= max(fresh_until, retry_at):
            return None
        return version_text(fetched_at, error)

    def peek(self, key: str) -> Entry | None:
        return self._read(key)

    def get(self, key: str, create: Callable[[], Any], ttl: Ttl) -> Outcome:
        """The value for ``key``: cached, fetched by this call, or stale (with the reason).

        ``ttl`` may be a callable, asked only when this call refreshes.
        Raises SourceError only when there is no value at all to show.
        """
        now = time.time()
        entry = self._read(key)
        if entry is not None and (now < entry.fresh_until or now < entry.retry_at):
            self.stats["stale" if entry.error else "hit"] += 1
            cache_answer("stale" if entry.error else "hit")
            how = "stale" if entry.error else "cached"
            return Outcome.of(entry, how)
        if entry is not None:
            with self.store.lock(key, wait=0, hold=self.wait + 30) as mine:
                if not mine:  # someone else is refreshing: the old value, at once
                    self.stats["stale"] += 1
                    cache_answer("stale")
                    return Outcome.of(entry, "stale")
                latest = self._read(key) or entry
                if time.time() < max(latest.fresh_until, latest.retry_at):
                    # Another worker refreshed it between our read and our lock.
                    self.stats["hit"] += 1
                    cache_answer("hit")
                    return Outcome.of(latest, "stale" if latest.error else "cached")
                return self._refresh(key, create, ttl, latest)
        with self.store.lock(key, wait=self.wait, hold=self.wait + 30) as mine:
            entry = self._read(key)
            if entry is not None and time.time() < max(entry.fresh_until, entry.retry_at):
                self.stats["hit"] += 1
                cache_answer("hit")
                singleflight_wait()  # another request created it while this one waited
                return Outcome.of(entry, "cached")
            if not mine:
                singleflight_wait()  # waited for another's creation, in vain
                if entry is not None:
                    return Outcome.of(entry, "stale")
                raise SourceUnavailableError(
                    "Another server is still fetching this data from Google Analytics; it "
                    "will appear at the next refresh.")
            return self._refresh(key, create, ttl, entry)

    def refresh_if_free(self, key: str, create: Callable[[], Any], ttl: Ttl,
                        margin: float = 0.0, now: float | None = None) -> bool:
        """Refresh unless another worker is doing it, or the entry is fresh for more than
        ``margin`` seconds after ``now`` (someone just did). For the warmer."""
        with self.store.lock(key, wait=0, hold=self.wait + 30) as mine:
            latest = self._read(key)
            when = now if now is not None else time.time()
            if not mine or (latest is not None and latest.fresh_until - when > margin):
                return False
            try:
                self._refresh(key, create, ttl, self._read(key))
            except SourceError:
                return False
            return True

    def _refresh(self, key: str, create: Callable[[], Any], ttl_of: Ttl,
                 old: Entry | None) -> Outcome:
        # Worked out only when a refresh happens: it may need a store read (quota).
        ttl = ttl_of() if callable(ttl_of) else ttl_of
        started = time.time()
        self.stats["fetch"] += 1
        cache_answer("fetch")
        self.last_fetch = started
        try:
            value = create()
        except SourceError as exc:
            self.stats["error"] += 1
            cache_answer("error")
            self.last_error = exc.message
            if old is None:
                raise
            failed = replace(old, error=exc.message, error_short=exc.short,
                             retry_at=time.time() + min(self.error_retry, ttl))
            self._write(key, failed)
            return Outcome.of(failed, "stale")
        now = time.time()
        self.last_error = ""
        self._write(key, Entry(value, now, now + ttl))
        return Outcome(value, now, "fetched")
