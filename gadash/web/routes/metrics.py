"""``GET /metrics``, callback timing and the TV screens count.

Besides the data layer's counters (``gadash.data.counters``):

- ``gadash_callback_seconds{callback}``: time to answer a Dash callback, by its first
  output id.
- ``gadash_tv_screens{window="5m"}``: distinct TV screens that polled lately
  (``TvScreens``).

``/metrics`` adds up every worker's values (``MultiProcessCollector``) when
``PROMETHEUS_MULTIPROC_DIR`` is set, whichever worker answers. It answers loopback or
``Authorization: Bearer <GADASH_METRICS_TOKEN>``; behind a proxy (``GADASH_PROXY_HOPS``)
only the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gadash.data.counters import MULTIPROC_ENV
from gadash.settings import LOOPBACK_ADDRS, Settings
from gadash.web.auth.sessions import CSRF_COOKIE
from gadash.web.middleware.callbacks import DASH_CALLBACK_PATH, Refused, callback_body

if TYPE_CHECKING:
    from gadash.data.cache import CacheStore
    from gadash.data.service import DataService
CALLBACK_SECONDS = Histogram("gadash_callback_seconds", "Seconds to answer a Dash callback.",
                             ["callback"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                    5, 10, 30))


def callback_name(output: str) -> str:
    """A callback's short name: its first output id (a pattern id by its type)."""
    first = output[2:].split("...", 1)[0] if output.startswith("..") else output
    ident = first.rpartition(".")[0] or first
    if ident.startswith("{"):
        try:
            parsed = json.loads(ident)
        except ValueError:
            return "other"
        return str(parsed.get("type", "other")) if isinstance(parsed, dict) else "other"
    return ident


# ----------------------------------------------------------------- TV screens

class TvScreens:
    """Distinct TV screens seen in the last five minutes, counted in the shared store.

    A screen is a browser session (a hash of its CSRF cookie, never the value).
    Per minute ``m`` the store holds ``tv:seen:<m>:<screen>`` (set once with
    ``add``, atomic), and a screen seen first in that minute takes a numbered
    slot ``tv:slot:<m>:<i>`` (``i`` from ``incr``, atomic) holding (screen, time).
    So nothing is lost to concurrent writers, a screen polling several workers
    counts once, and each process writes at most once a minute per screen. A
    scrape reads the last six minutes' slots and counts the screens whose first
    poll of a minute lies within five minutes: a screen that stopped polling
    drops out four to five minutes after its last poll. Without Redis each
    process counts the screens it saw itself.
    """

    WINDOW = 300
    KEEP = 420  # seconds a minute's keys are kept: past the window

    def __init__(self, store: CacheStore):
        self.store = store
        self._written: dict[str, int] = {}  # screen -> last minute this process wrote it
        self._lock = threading.Lock()

    def seen(self, token: str, now: float | None = None) -> None:
        """Record that the screen with this CSRF token polled."""
        now = time.time() if now is None else now
        minute = int(now // 60)
        screen = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:16]
        with self._lock:
            if self._written.get(screen) == minute:
                return
            if len(self._written) > 10_000:  # screens are few; never unbounded
                self._written.clear()
            self._written[screen] = minute
        if self.store.add(f"tv:seen:{minute}:{screen}", 1, self.KEEP):
            slot = self.store.incr(f"tv:n:{minute}", self.KEEP)
            self.store.set(f"tv:slot:{minute}:{slot}", (screen, now), self.KEEP)

    def count(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        minutes = range(int(now // 60) - 5, int(now // 60) + 1)
        sizes = self.store.get_many([f"tv:n:{m}" for m in minutes])
        keys = [f"tv:slot:{m}:{i}" for m, n in zip(minutes, sizes, strict=True)
                if isinstance(n, int) for i in range(1, n + 1)]
        return len({slot[0] for slot in self.store.get_many(keys)
                    if isinstance(slot, tuple) and len(slot) == 2
                    and slot[1] >= now - self.WINDOW})

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("gadash_tv_screens", "Distinct TV screens that polled "
                                   "within the window.", labels=["window"])
        family.add_metric(["5m"], self.count())
        yield family


class _Forward(Collector):
    """The default registry's metrics, in another registry."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def exposition(screens: TvScreens) -> bytes:
    """The metrics text: every worker's (multiprocess mode) or this process's, and the
    TV screens (from the shared store, not from any one process)."""
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROC_ENV in os.environ:  # as prometheus_client decides
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(screens)
    return generate_latest(registry)


# ----------------------------------------------------------------- the route

def allowed(settings: Settings, remote_addr: str | None, authorization: str) -> bool:
    """May this request read /metrics? The token always; loopback without a proxy."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    scheme, _, sent = authorization.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(
            sent.strip().encode("utf-8", "replace"), token.encode("utf-8", "replace")):
        return True
    # Behind a proxy every request arrives from loopback: the address proves nothing.
    return not settings.proxy_hops and remote_addr in LOOPBACK_ADDRS


def init_metrics(server: Flask, settings: Settings, service: DataService,
                 callbacks: Callable[[], Mapping[str, Any]] | None = None) -> None:
    """``GET /metrics``, callback timing and the TV screens record.

    ``callbacks``: the app's callback map; callbacks outside it are timed as
    "other" (labels stay few whatever a request names).
    """
    screens = TvScreens(service.store)

    @server.get("/metrics")
    def metrics() -> Response:
        if not allowed(settings, request.remote_addr, request.headers.get("Authorization", "")):
            return Response("metrics: loopback or a bearer token only\n", status=403,
                            mimetype="text/plain")
        return Response(exposition(screens), content_type=CONTENT_TYPE_LATEST)

    # Registered after the sign-in gate and the callback check: refused requests
    # are not timed.
    @server.before_request
    def start() -> None:
        if request.path == DASH_CALLBACK_PATH and request.method == "POST":
            g.metrics_started = time.perf_counter()

    # output -> (its callback's name, its histogram): outputs of the callback map only.
    timers: dict[str, tuple[str, Histogram]] = {}

    def timer(output: str | None) -> tuple[str, Histogram]:
        known = callbacks() if callbacks else {}
        if output is None or output not in known:
            return "other", CALLBACK_SECONDS.labels("other")
        found = timers.get(output)
        if found is None:
            name = callback_name(output)
            found = timers[output] = (name, CALLBACK_SECONDS.labels(name))
        return found

    @server.after_request
    def observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is None:
            return response
        try:
            body = callback_body()  # parsed once per request (gadash.web.middleware.callbacks)
        except Refused:
            body = None
        output = body.get("output") if isinstance(body, dict) else None
        name, seconds = timer(output if isinstance(output, str) else None)
        seconds.observe(time.perf_counter() - started)
        token = request.cookies.get(CSRF_COOKIE)
        if name.startswith("tv-") and response.status_code == 200 and token:
            screens.seen(token)
        return response
