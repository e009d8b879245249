"""Alerts' triggers: pages that start trending, and unusual KPI days.

Off unless a webhook is set (``GADASH_ALERT_WEBHOOK_URL``). Every process runs a
watcher; the answers come through the shared cache (one GA call per refresh,
whichever process asks) and each alert is sent once across instances
(``gadash.jobs.alerts``).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from urllib.parse import urlencode

from filelock import FileLock, Timeout

from gadash.core.insights.rules import PROVISIONAL_DAYS
from gadash.core.query import DateRange, Filters
from gadash.data.service import DataService
from gadash.errors import GadashError
from gadash.jobs.alerts import Alerts

log = logging.getLogger(__name__)


def _link(service: DataService, path: str, params: dict[str, str]) -> str | None:
    base = service.settings.public_url
    return f"{base.rstrip('/')}{path}?{urlencode(params)}" if base else None


def check_alerts(service: DataService, alerts: Alerts) -> int:
    """Look once at every property; send what is new. Returns how many were sent."""
    sent = 0
    for name, property_id in service.properties.items():
        try:
            today = service.today(property_id)
            for page in service.trending(property_id):
                t = page.trend
                where = f" Readers in {', '.join(page.countries)}." if page.countries else ""
                text = (f"Trending on {name}: “{page.title}” is read at {t.label()} "
                        f"({t.views:,.0f} views in the last 30 minutes).{where}"
                        + (f" {page.path}" if page.path else ""))
                sent += alerts.send("trending", f"{property_id}:{today}:{page.title}", text,
                                    _link(service, "/tv", {"property": name,
                                                           "screens": "trending"}))
            # The newest day GA no longer revises: judged against its weekday.
            day = today - timedelta(days=PROVISIONAL_DAYS)
            for band in service.unusual_days(property_id, DateRange(day, day), Filters()):
                text = f"{name}, {day:%A %d %B}: " + band.describe("Sessions", f"{day:%A}")
                sent += alerts.send("unusual", f"{property_id}:{day}:sessions", text,
                                    _link(service, "/", {"property": name,
                                                         "range": f"{day - timedelta(days=27)}"
                                                                  f"..{day}"}))
        except GadashError as exc:
            log.info("alerts: %s not checked: %s", name, exc.message)
    return sent


class AlertWatcher(threading.Thread):
    """Every ``interval`` seconds, ``check_alerts``.

    With the shared cache every process may look (each alert is sent once across
    instances). Without it each process would send its own copy, so the processes of
    a machine elect one sender by a file lock in the data directory (held while that
    process lives); several machines without Redis each send theirs.
    """

    def __init__(self, service: DataService, alerts: Alerts, interval: float):
        super().__init__(name="gadash-alerts", daemon=True)
        self.service, self.alerts, self.interval = service, alerts, interval
        self._stop_event = threading.Event()
        self._lock: FileLock | None = None

    def may_send(self) -> bool:
        """True when this process is the one to look now."""
        if self.service.store.shared:
            return True
        if self._lock is None:
            folder = self.service.settings.data_dir
            folder.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(folder / "alerts.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                return False  # another process of this machine sends
            self._lock = lock
        return True

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            if not self.may_send():
                continue
            try:
                check_alerts(self.service, self.alerts)
            except Exception:  # noqa: BLE001 -- the watcher must outlive any one failure
                log.exception("alert check failed; trying again in %s s", self.interval)

    def stop(self) -> None:
        self._stop_event.set()
