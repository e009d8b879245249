"""Rate limits: sign-in and TV-link creation (``RouteLimits``), and repeated refused
requests (``RefusedLimit``), both on the limits library (moving windows).

Counters live in Redis when ``REDIS_URL`` is set, so every instance counts
together; while Redis is down each process counts in its own memory and no
request fails because of a limit. The refused-request limit runs before the
access gate, so an address that keeps being refused (guessing TV keys, tokens,
paths) is stopped before it costs a database lookup.

The route limits wrap their views only. flask-limiter, which did this before,
runs a before_request, an after_request and a teardown hook on every request of
the app (about 50 us per TV poll, for no limit) and since 4.0 has no way to turn
them off (its ``auto_check`` was removed; flask-limiter issue #489).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import limits
from flask import Flask, Response, current_app, request
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from gadash.settings import Settings

log = logging.getLogger(__name__)

REFUSED = (400, 401, 403, 404, 413, 421)
# Never limited: load balancers must always get an answer (they are never refused).
# /metrics is: a wrong token counts as a refusal, so guessing it is limited.
HEALTH = {"/healthz", "/readyz"}


def _refused(response: Response) -> bool:
    return response.status_code in REFUSED


def _too_many(rate: limits.RateLimitItem | str) -> Response:
    wants_html = "text/html" in request.headers.get("Accept", "")
    text = f"Too many requests ({rate}); try again in a minute."
    if wants_html:
        return Response(f"<!doctype html><html lang='en'><title>Too many requests</title>"
                        f"<p>{text}</p></html>", status=429, mimetype="text/html")
    return Response('{"error": "too_many_requests", "message": "' + text + '"}', status=429,
                    mimetype="application/json")


class Counters:
    """Moving-window counters in the shared storage, in this process's memory while
    the shared one cannot be reached (tried again after ``RETRY_SHARED_AFTER``)."""

    RETRY_SHARED_AFTER = 5.0  # seconds counting locally before trying Redis again

    def __init__(self, storage_uri: str) -> None:
        options = ({"socket_timeout": 2, "socket_connect_timeout": 2}
                   if storage_uri.startswith(("redis", "valkey")) else {})
        self.shared = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))
        self.local = MovingWindowRateLimiter(MemoryStorage())  # while the shared one is down
        self._down_until = 0.0

    def ask(self, call: Callable[[MovingWindowRateLimiter], bool]) -> bool:
        if time.monotonic() < self._down_until:
            return call(self.local)
        try:
            return call(self.shared)
        except Exception as exc:  # noqa: BLE001 -- a limit never fails a request
            log.warning("rate limits counted in this process for %.0f s: %s",
                        self.RETRY_SHARED_AFTER, exc)
            self._down_until = time.monotonic() + self.RETRY_SHARED_AFTER
            return call(self.local)


class RefusedLimit:
    """At most ``rate`` refused answers per address (a moving window), counted in the
    shared storage so every worker and instance counts together.

    Every refusal is counted (after its answer). Asking the shared counter before every
    request would cost each request a round trip (a TV polls every few seconds); an
    address found clear is trusted for ``CLEAR_SECONDS`` in this process unless it is
    refused meanwhile, after which its next request asks again. Requests in flight
    at once are not counted until they are answered: an address can pass the limit
    by as many requests as the processes run at once (threads x workers), then it is
    stopped (flask-limiter's conditional deduction had the same bound).
    """

    CLEAR_SECONDS = 2.0
    REMEMBERED = 10_000  # addresses trusted at once, per process

    def __init__(self, storage_uri: str, rate: str) -> None:
        self.rate = rate
        self.item = limits.parse(rate)
        self.counters = Counters(storage_uri)
        self._clear: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def allowed(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._clear.get(address, -self.CLEAR_SECONDS) < self.CLEAR_SECONDS:
                return True
        if not self.counters.ask(lambda limiter: limiter.test(self.item, "refused", address)):
            return False
        with self._lock:
            self._clear[address] = now
            self._clear.move_to_end(address)
            while len(self._clear) > self.REMEMBERED:
                self._clear.popitem(last=False)
        return True

    def count(self, address: str) -> None:
        with self._lock:
            self._clear.pop(address, None)
        self.counters.ask(lambda limiter: limiter.hit(self.item, "refused", address))


class RouteLimits:
    """Limits of their own on a few routes: at most ``rate`` requests per address to
    the route (each limit of the rate, a moving window), counted when its view is
    called (after the gate), whatever the view answers."""

    KEY_PREFIX = "gadash-limits"

    def __init__(self, storage_uri: str) -> None:
        self.counters = Counters(storage_uri)

    def limit(self, view: Callable[..., Any], endpoint: str, rate: str,
              methods: list[str] | None = None) -> Callable[..., Any]:
        """``view`` limited to ``rate`` (``methods`` only, if given); views given the same
        ``endpoint`` name share one budget."""
        items = sorted(limits.parse_many(rate))  # the shortest window first
        limited = {m.upper() for m in methods} if methods else None

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if limited is None or request.method in limited:
                address = _address()
                for item in items:
                    # A breach stops here: longer windows are not counted for it.
                    if not self._hit(item, address, endpoint):
                        return _too_many(item)
            return current_app.ensure_sync(view)(*args, **kwargs)

        return checked

    def _hit(self, item: limits.RateLimitItem, address: str, endpoint: str) -> bool:
        return self.counters.ask(
            lambda limiter: limiter.hit(item, self.KEY_PREFIX, address, endpoint))


def create_limiter(server: Flask, settings: Settings) -> RouteLimits:
    """The limiters, bound before the gate: refused requests count against their address."""
    refused = RefusedLimit(settings.redis_url or "memory://", settings.rate_refused)
    server.extensions["gadash_refused_limit"] = refused

    def check() -> Response | None:
        if request.path in HEALTH:  # load balancers always get an answer
            return None
        return None if refused.allowed(_address()) else _too_many(refused.rate)

    def count(response: Response) -> Response:
        # A refused /metrics (a wrong token) counts too: guessing is limited like any.
        if _refused(response) and request.path not in HEALTH:
            refused.count(_address())
        return response

    server.before_request(check)
    server.after_request(count)
    return RouteLimits(settings.redis_url or "memory://")


def _address() -> str:
    return request.remote_addr or "unknown"


def limit_routes(server: Flask, limiter: RouteLimits, settings: Settings) -> None:
    """Limits of their own on sign-in and on creating TV links (once routes exist)."""
    # (endpoint, the budget it counts against, rate, methods). dash-auth's OIDCAuth
    # routes (/oidc/<idp>/...) are the same steps as gadash's: one budget a step, not
    # one a route (two routes would double the limit).
    for endpoint, budget, rate, methods in (
            ("login_start", "signin-start", settings.rate_signin, None),
            ("oidc_login", "signin-start", settings.rate_signin, None),
            ("auth_callback", "signin-callback", settings.rate_signin, None),
            ("oidc_callback", "signin-callback", settings.rate_signin, None),
            ("tv_links", "tv-links", settings.rate_links, ["POST"])):
        view = server.view_functions.get(endpoint)
        if view is not None:
            server.view_functions[endpoint] = limiter.limit(view, budget, rate, methods)
