"""Rate limits (flask-limiter): sign-in, TV-link creation, and repeated refused requests.

Counters live in Redis when ``REDIS_URL`` is set, so every instance counts
together; while Redis is down each process counts in its own memory
(``in_memory_fallback_enabled``) and no request fails because of the limiter
(``swallow_errors``). The limiter runs before the access gate, so an address
that keeps being refused (guessing TV keys, tokens, paths) is stopped before it
costs a database lookup.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter, RequestLimit

from gadash.settings import Settings

REFUSED = (400, 401, 403, 404, 413, 421)
UNLIMITED = {"/healthz", "/readyz", "/metrics"}


def _refused(response: Response) -> bool:
    return response.status_code in REFUSED


def _too_many(limit: RequestLimit) -> Response:
    wants_html = "text/html" in request.headers.get("Accept", "")
    text = f"Too many requests ({limit.limit}); try again in a minute."
    if wants_html:
        return Response(f"<!doctype html><html lang='en'><title>Too many requests</title>"
                        f"<p>{text}</p></html>", status=429, mimetype="text/html")
    return Response('{"error": "too_many_requests", "message": "' + text + '"}', status=429,
                    mimetype="application/json")


def create_limiter(server: Flask, settings: Settings) -> Limiter:
    """The limiter, bound before the gate: refused requests count against their address."""
    return Limiter(
        key_func=lambda: request.remote_addr or "unknown",
        app=server,
        storage_uri=settings.redis_url or "memory://",
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        strategy="moving-window",
        application_limits=[settings.rate_refused],
        application_limits_deduct_when=_refused,
        # Load balancers and monitoring always get an answer.
        application_limits_exempt_when=lambda: request.path in UNLIMITED,
        on_breach=_too_many,
        key_prefix="gadash-limits",
    )


def limit_routes(server: Flask, limiter: Limiter, settings: Settings) -> None:
    """Limits of their own on sign-in and on creating TV links (once routes exist)."""
    for endpoint, rate, methods in (("login_start", settings.rate_signin, None),
                                    ("auth_callback", settings.rate_signin, None),
                                    ("tv_links", settings.rate_links, ["POST"])):
        view = server.view_functions.get(endpoint)
        if view is not None:
            server.view_functions[endpoint] = limiter.limit(  # type: ignore[assignment]
                rate, methods=methods)(view)
