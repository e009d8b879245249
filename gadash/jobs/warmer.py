"""Keep the queries that screens poll fresh, so no screen waits on GA; warm what a
process shows first."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gadash.core.plans import trend_panel, view_query
from gadash.core.urls import ViewState
from gadash.data.service import DataService
from gadash.errors import GadashError

log = logging.getLogger(__name__)


class Warmer(threading.Thread):
    """Every ``interval`` seconds, refresh polled queries that are about to go stale.

    Each process runs one; the refresh takes the entry's lock, so across
    processes and instances only one of them asks GA for each entry.
    """

    def __init__(self, service: DataService, interval: float):
        super().__init__(name="gadash-warmer", daemon=True)
        self.service = service
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.service.warm_once()
            except Exception:  # noqa: BLE001 -- the warmer must outlive any one failure
                log.exception("cache warmer failed; trying again in %s s", self.interval)

    def stop(self) -> None:
        self._stop_event.set()


def warm_first_view(service: DataService, property_name: str) -> None:
    """Ask for what the analyst view shows first for the property by default (the KPIs
    and the trend with its unusual days, what changed, trending now), so that the first
    visitor finds it in the cache. Raises what the data service raises."""
    state = ViewState(property_name)
    property_id = service.property_id(property_name)
    ranges = state.ranges(service.today(property_id))
    fields = service.available_fields(property_id)
    service.view(view_query(property_id, ranges, state.filters, fields, state.grain))
    if trend_panel(state.grain, ranges[0]) == "trend":
        service.unusual_days(property_id, ranges[0], state.filters)
    if len(ranges) > 1:
        service.changes(property_id, ranges, state.filters)
    service.trending(property_id)


class WarmUp(threading.Thread):
    """Runs a process's start-up steps in order, once, beside the first requests: each
    step's failure is logged and the next one runs."""

    def __init__(self, steps: list[tuple[str, Callable[[], object]]]):
        super().__init__(name="gadash-warm-up", daemon=True)
        self.steps = steps

    def run(self) -> None:
        for name, step in self.steps:
            started = time.perf_counter()
            try:
                step()
            except GadashError as exc:  # a request asking the same says it too
                log.warning("warm-up: %s failed: %s", name, exc.message)
                continue
            except Exception:  # noqa: BLE001 -- a bug: its traceback, then the next step
                log.exception("warm-up: %s failed", name)
                continue
            log.info("warm-up: %s in %.2f s", name, time.perf_counter() - started)


class Quiet:
    """Whether the server is answering: ``wait`` returns once no request has been in
    progress for ``seconds``. ``wsgi`` wraps the WSGI app to count them."""

    def __init__(self, seconds: float = 1.0, longest: float = 30.0):
        self.seconds = seconds
        self.longest = longest
        self.last = time.monotonic()
        self._busy = 0
        self._lock = threading.Lock()

    def wsgi(self, app: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``app``, counting the requests in progress and when the last one ended."""

        def counted(environ: Any, start_response: Any) -> Any:
            with self._lock:
                self._busy += 1
            try:
                return app(environ, start_response)
            finally:
                with self._lock:
                    self._busy -= 1
                    self.last = time.monotonic()

        return counted

    def wait(self) -> None:
        """Until no request has been in progress for ``seconds`` (``longest`` at most)."""
        deadline = time.monotonic() + self.longest
        while (now := time.monotonic()) < deadline:
            with self._lock:
                left = self.seconds if self._busy else self.last + self.seconds - now
            if left <= 0:
                return
            time.sleep(min(left, deadline - now))
