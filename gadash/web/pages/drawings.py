"""Renderings of polled answers: drawn once per answer and process, for every TV screen
showing it."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar, cast

import dash
import orjson
from plotly.io.json import to_json_plotly

from gadash.core.frames import ViewResult
from gadash.core.query import ReportQuery
from gadash.data.flight import version_failed
from gadash.errors import GadashError
from gadash.memo import Recent
from gadash.web.context import get_service

D = TypeVar("D", "Drawn", "DrawnRealtime")
# Seconds a drawing stays in the shared cache: the other workers learn of a new answer
# within seconds (gadash.data.flight.VERSION_READ_EVERY), and it changes every minute.
SHARED_SECONDS = 120


class Drawings(Generic[D]):
    """This process's renderings of polled answers, by what they show
    (``prefix#version``), and the latest per prefix; one thread at a time draws a
    prefix, and a change costs one drawing per process.

    A new answer of fresh numbers is read and drawn by the poll that finds it; the
    polls that come while it draws answer at once with the latest drawing (their
    screens get the new one at their next poll). An overview's drawing holds a worker
    for tens of ms; polls waiting for it answered together and their screens' draw
    requests came at once, the slowest requests under bench/viewers.py. A failed
    refresh (stale data, GA failing) or an answer that must be read is waited for: a
    screen learns at once why its data is old."""

    def __init__(self, seconds: float, size: int, shared: type[D] | None = None):
        self.memo: Recent[str, D] = Recent(seconds, size=size)
        # Drawings of this class are kept in the shared cache too, so that a change costs
        # one drawing across the workers (a process that learns of it later reads it),
        # under a key that names the class's fields: workers of another shape never
        # read each other's.
        self.shared: type[D] | None = shared
        names = [] if shared is None else \
            [shared.__qualname__, *(f.name for f in fields(cast(Any, shared)))]
        self._shape = hashlib.sha256(" ".join(names).encode()).hexdigest()[:12]
        self.latest: Recent[str, D] = Recent(seconds, size=size)  # by prefix
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, prefix: str) -> threading.Lock:
        with self._guard:
            if len(self._locks) > 1_000:  # screens with annotations each have a prefix
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return self._locks.setdefault(prefix, threading.Lock())

    def named(self, name: str, drawn: Any, ours: Callable[[D], bool],
              current: Callable[[], D]) -> D:
        """For a draw callback: the rendering a poll named, when this process holds it
        and it is the screen's own (``ours``: the name comes from the browser, and
        another playlist's is never sent); else ``current()``, the cache's current one
        (the poll ran on another worker). PreventUpdate when the screen shows it
        (``drawn``) or on an error: every panel keeps what it shows, the poll reports."""
        try:
            done = self.memo.peek(name)
            if done is None or not ours(done):
                done = current()
        except GadashError:
            raise dash.exceptions.PreventUpdate from None
        if drawn == done.key:
            raise dash.exceptions.PreventUpdate
        return done

    def once(self, prefix: str, query: ReportQuery, draw: Callable[[ViewResult], D],
             latest: bool = False) -> D:
        """The rendering of the cache's current answer to ``query``: from this process's
        memory while the answer is unchanged (without reading it), else drawn once.

        ``latest``: read the answer even when this process believes it knows which one
        the cache holds (a poll on another worker named a newer one)."""
        service = get_service()
        version = None if latest else service.view_version(query)
        done = self.memo.peek(f"{prefix}#{version}") if version else None
        if done is not None:
            service.keep_warm(query.cache_key(), query)
            return done
        shown = self.latest.peek(prefix)
        if version and not version_failed(version) and shown is not None:
            # New numbers: one poll reads and draws them, the others show the latest.
            lock = self._lock(prefix)
            if not lock.acquire(blocking=False):
                service.keep_warm(query.cache_key(), query)
                return shown
            try:
                # Drawn by another worker? Then the answer need not be read here.
                done = self._read_shared(f"{prefix}#{version}")
                if done is None:
                    return self._made(prefix, service.view(query, warm=True), draw)
                service.keep_warm(query.cache_key(), query)
                return self._keep(prefix, done)
            finally:
                lock.release()
        result = service.view(query, warm=True)
        done = self.memo.peek(f"{prefix}#{result.version}")
        if done is not None:  # a stale answer (no version) drawn before
            return done
        with self._lock(prefix):
            return self._made(prefix, result, draw)

    def _made(self, prefix: str, result: ViewResult, draw: Callable[[ViewResult], D]) -> D:
        """The drawing of ``result``: drawn before (by the thread this one waited for,
        say), else drawn now. The caller holds the prefix's lock."""
        key = f"{prefix}#{result.version}"  # what the drawing's key will be
        done = self.memo.peek(key)
        if done is None:
            done = self._read_shared(key)
            if done is None:
                done = draw(result)
                self._share(done)
        return self._keep(prefix, done)

    def _keep(self, prefix: str, done: D) -> D:
        self.memo.put(done.key, done)  # key: prefix#version of the answer drawn
        self.latest.put(prefix, done)
        return done

    def _shared_key(self, key: str) -> str:
        return f"drawing:{self._shape}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    def _read_shared(self, key: str) -> D | None:
        """Another worker's drawing of ``key`` from the shared cache, if it holds one."""
        if self.shared is None:
            return None
        found = get_service().store.get(self._shared_key(key))
        return found if isinstance(found, self.shared) and found.key == key else None

    def _share(self, done: D) -> None:
        if self.shared is not None:
            get_service().store.set(self._shared_key(done.key), done, SHARED_SECONDS)


class Encoded:
    """A part of a rendering as JSON, encoded once for every screen it is sent to.

    Dash encodes an answer with plotly's encoder, which walks every list, dict and
    component of it on each request: the lists and trend points of one overview
    drawing took 1.7 of its 2.1 ms per screen. It leaves an object it does not know
    to ``to_plotly_json`` and orjson (its engine, a requirement of gadash) writes the
    Fragment returned as it is, escaped as plotly escapes everything (``<``, ``/``)."""

    __slots__ = ("json", "text")

    def __init__(self, value: Any):
        self.text = to_json_plotly(value)
        self.json = orjson.Fragment(self.text)

    def to_plotly_json(self) -> orjson.Fragment:
        return self.json

    def __reduce__(self) -> tuple[Callable[[str], Encoded], tuple[str]]:
        # A Fragment does not pickle; the text does (drawings go to the shared cache).
        return _encoded, (self.text,)


def _encoded(text: str) -> Encoded:
    """An Encoded of JSON text, as it was encoded (unpickling)."""
    done = Encoded.__new__(Encoded)
    done.text = text
    done.json = orjson.Fragment(text)
    return done


@dataclass(frozen=True)
class Drawn:
    """One rendering of the overview, for every screen showing the same answer."""

    key: str  # signature#version: what a screen that shows it has drawn
    signature: str  # the query's cache key and its annotations: the traces drawn
    tiles: tuple[Any, ...]  # KPI texts, deltas, delta classes, optional tile classes
    figure: Any
    series: list[tuple[Encoded, Encoded]]  # the traces' points, for a screen with the traces
    lists: tuple[Encoded, ...]  # channels, pages, sources
    updated: list[str]  # "updated 19:55 EST" per screen
    range: str
    status: tuple[bool, str, str, str]

    @property
    def query_key(self) -> str:
        """The query's cache key: whose data it shows (the signature starts with it)."""
        return self.signature.partition("|")[0]


@dataclass(frozen=True)
class DrawnRealtime:
    key: str
    active: str
    figure: Any
    y: Encoded  # the bars' heights, for a screen with the bars
    items: Encoded
    label: str
    status: tuple[bool, str, str, str]
