"""``/status``: cache, GA calls and quota, share providers, as people and machines read them."""

from __future__ import annotations

import os
import time
from html import escape
from typing import Any

from flask import Flask, Response, jsonify

from gadash.data.service import DataService
from gadash.errors import GadashError, StoreError
from gadash.store import Store
from gadash.store.core import head_revision
from gadash.web.html import page


def _when(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "never"


def service_status(service: DataService) -> dict[str, Any]:
    """Figures of this process, and the shared ones (quota) of the whole deployment."""
    stats = service.flight.stats
    served = stats["hit"] + stats["stale"] + stats["fetch"]
    quota = {}
    for name, pid in service.properties.items():
        q = service.quota(pid)
        if q:
            quota[name] = {
                "tokens_per_hour_left": q["tokens_per_hour"][1],
                "tokens_per_day_left": q.get("tokens_per_day", (0, None))[1],
                "as_of": _when(q.get("at")),
                "refresh_slowdown": round(service.ttl_for_property(pid), 2),
            }
    return {
        "process": os.getpid(),
        "cache": {
            "backend": service.store.kind,
            "shared": service.store.shared,
            "note": service.store.note,
            "last_error": service.store.last_error,
            "hit_rate": round((stats["hit"] + stats["stale"]) / served, 3) if served else None,
            "hits": stats["hit"], "stale_served": stats["stale"], "ga_fetches": stats["fetch"],
            "ga_errors": stats["error"],
        },
        "last_ga_call": _when(service.flight.last_fetch),
        "quota": quota,
        "warm_queries": len(service.warm),
        "share_providers": {
            p.name: dict(zip(("answers", "failures", "last_failure"),
                             service.share_health.get(p.name, (0, 0, "")), strict=True))
            for p in service.providers
        },
    }


def audit_html(store: Store, limit: int = 50) -> str:
    """The latest audit events (sign-ins, links, views, annotations) as a table."""
    try:
        events = store.audit.recent(limit)
    except StoreError as exc:
        return f"<p class='err'>{escape(exc.message)}</p>"
    if not events:
        return "<p class='note'>Nothing recorded yet.</p>"
    rows = "".join(f"<tr><td>{e.at:%Y-%m-%d %H:%M:%S}</td><td>{escape(e.actor)}</td>"
                   f"<td>{escape(e.action)}</td><td>{escape(e.subject)}</td>"
                   f"<td>{escape(e.detail)}</td></tr>" for e in events)
    return ("<table><tr><th>When (UTC)</th><th>Who</th><th>What</th><th>Which</th><th></th>"
            f"</tr>{rows}</table>")


def status_page(service: DataService, store: Store) -> Response:
    data = service_status(service)

    def rows(items: dict[str, Any]) -> str:
        return "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                       for k, v in items.items())

    quota = "".join(f"<h2>{escape(name)}</h2><table>{rows(q)}</table>"
                    for name, q in data["quota"].items()) or "<p class='note'>No GA call yet.</p>"
    shares = "".join(f"<h2>{escape(name)}</h2><table>{rows(h)}</table>"
                     for name, h in data["share_providers"].items())
    body = (f"<h1>Status</h1><p class='note'>Process {data['process']}; last GA call "
            f"{escape(data['last_ga_call'])}; {data['warm_queries']} screen queries kept warm."
            f"</p><h2>Cache</h2><table>{rows(data['cache'])}</table>"
            f"<h2>GA quota</h2>{quota}<h2>Share providers</h2>{shares}"
            f"<h2>Database</h2><p class='note'>{escape(store.url)}</p>"
            f"<h2>Audit log</h2>{audit_html(store)}")
    return page("Status", body)


def readiness(service: DataService, db: Store) -> tuple[Response, int]:
    """/readyz: "ready", "degraded" (200) or "not ready" (503), with one word per check.

    Public and unlimited (load balancers call it), so it names no host, account,
    property or error text: the signed-in /status has the details.
    """
    try:
        if not db.ping():
            database = "unreachable"
        elif db.current_revision() != head_revision():
            database = "migrations missing"
        else:
            database = "ok"
    except GadashError:
        database = "unreachable"
    ga = "failing" if service.flight.last_error else "ok"
    cache = "down" if service.store.down_since is not None else (
        "shared" if service.store.shared else "process")
    status = "not ready" if database != "ok" else (
        "degraded" if ga != "ok" or cache == "down" else "ready")
    body = jsonify(status=status, database=database, ga=ga, cache=cache)
    return body, 503 if database != "ok" else 200


def register_routes(server: Flask, service: DataService, db: Store) -> None:
    """``/healthz``, ``/readyz``, ``/status`` and ``/status.json``."""
    cache = service.store

    @server.get("/healthz")
    def healthz() -> Response:
        """Liveness: the process answers; what it knows of the cache, asked of nobody."""
        return jsonify(status="ok", cache="shared" if cache.shared else (
            "degraded" if cache.down_since else "process"))

    @server.get("/readyz")
    def readyz() -> tuple[Response, int]:
        """Readiness for load balancers and orchestrators: 503 only when the team
        database is unreachable or lacks migrations. GA or Redis trouble is "degraded"
        with 200: the app then serves stale data, and pulling every instance out would
        blank every TV."""
        return readiness(service, db)

    @server.get("/status")
    def status() -> Response:
        return status_page(service, db)

    @server.get("/status.json")
    def status_json() -> Response:
        return jsonify(service_status(service))
