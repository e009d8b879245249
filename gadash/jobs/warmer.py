"""Keep the queries that screens poll fresh, so no screen waits on GA."""

from __future__ import annotations

import logging
import threading

from gadash.data.service import DataService

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
