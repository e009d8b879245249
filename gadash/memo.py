"""A short per-process memory (of database answers, of renderings), so polls do not
each cost a query or a rendering."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from gadash.errors import StoreError

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Answers remembered for ``seconds``; while the database is down, the last answer
    stands (and with none yet, StoreError goes to the caller). Bounded in size."""

    def __init__(self, seconds: float, size: int = 10_000):
        self.seconds = seconds
        self.size = size
        self._lock = threading.Lock()
        self._known: dict[K, tuple[float, V]] = {}

    def get(self, key: K, load: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            known = self._known.get(key)
        if known is not None and now - known[0] < self.seconds:
            return known[1]
        try:
            value = load()
        except StoreError:
            if known is not None:
                return known[1]
            raise
        with self._lock:
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[key] = (now, value)
        return value

    def peek(self, key: K) -> V | None:
        """The remembered value, if it is recent enough; never loads."""
        with self._lock:
            known = self._known.get(key)
        if known is not None and time.monotonic() - known[0] < self.seconds:
            return known[1]
        return None

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[key] = (time.monotonic(), value)

    def forget(self, key: K) -> None:
        with self._lock:
            self._known.pop(key, None)
