"""gadash: a team dashboard for Google Analytics 4, on Plotly Dash."""

from __future__ import annotations

import atexit
import logging
from pathlib import Path

import dash
from flask import Flask, Response, jsonify

from gadash.cache import CacheStore, cache, init_cache
from gadash.service import EXTENSION, DataService
from gadash.settings import Settings, load_settings
from gadash.sources import create_source

__all__ = ["create_app"]

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


def _demo(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """With no property configured, serve the built-in GA4 stand-in's properties."""
    from gadash.standin.server import StandinServer, demo_properties

    props = demo_properties(settings.standin_sessions_per_day, settings.standin_days,
                            settings.standin_seed, settings.standin_time_zone)
    names = {p.display_name: p.property_id for p in props}
    if settings.ga_endpoint:
        return settings, names
    standin = StandinServer(props).start()
    atexit.register(standin.stop)
    log.info("demo mode: GA4 stand-in on %s", standin.endpoint)
    return settings.model_copy(update={"ga_endpoint": standin.endpoint}), names


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app: settings, cache, data service, pages.

    Dash keeps pages and ``dash.callback`` registrations process-wide, so one
    process serves one app.
    """
    settings = settings or load_settings()
    properties = dict(settings.properties)
    if settings.demo:
        settings, properties = _demo(settings)

    server = Flask(__name__)
    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        title="gadash",
        update_title=None,  # type: ignore[arg-type]
    )
    init_cache(server, settings)
    with server.app_context():
        store = CacheStore(cache.cache)
    server.extensions[EXTENSION] = DataService(
        settings, create_source(settings), store, properties
    )

    from gadash.pages import overview, tv  # noqa: F401 -- each registers its page

    @server.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app
