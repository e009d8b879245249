"""The app factory: ``create_app`` builds the Flask server and the Dash app on it, binds
the cache, the team database, sign-in, the data service, the jobs and the pages.

With no property configured it serves the demo: the GA4 and share-count stand-ins."""

from __future__ import annotations

import atexit
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
from dash import _callback as dash_callbacks
from flask import Flask
from flask_caching import Cache
from pydantic import SecretStr

from gadash.data.cache import KEY_PREFIX, CacheStore
from gadash.data.service import DataService
from gadash.data.shares import create_providers
from gadash.data.sources import create_source
from gadash.jobs.alerts import Alerts
from gadash.jobs.digests import Digests, DigestWatcher
from gadash.jobs.warmer import Quiet, Warmer, WarmUp, warm_first_view
from gadash.jobs.watch import AlertWatcher
from gadash.settings import Settings, load_settings
from gadash.store import Store
from gadash.web.auth import AUTH_EXTENSION, CSRF_COOKIE, CSRF_HEADER, Auth
from gadash.web.components.ids import LIST_VALUES
from gadash.web.context import EXTENSION, STORE_EXTENSION
from gadash.web.digests import compose_digest
from gadash.web.logs import init_request_ids
from gadash.web.middleware.callbacks import guard_callbacks, refuse_large_bodies
from gadash.web.middleware.limits import create_limiter, limit_routes
from gadash.web.middleware.security import init_security
from gadash.web.middleware.speed import init_speed
from gadash.web.routes.digests import DIGESTS_EXTENSION
from gadash.web.routes.digests import register_routes as register_digest_routes
from gadash.web.routes.metrics import init_metrics
from gadash.web.routes.status import register_routes as register_status_routes
from gadash.web.routes.team import register_routes as register_team_routes
from gadash.web.routes.tvlinks import register_routes as register_tv_link_routes

__all__ = ["create_app"]

log = logging.getLogger(__name__)

cache = Cache()

# What this process started beside the app (the demo's stand-ins, the jobs' threads, the
# database's pool), stopped last started first by ``stop_parts``: gunicorn's
# ``worker_exit`` calls it before the interpreter shuts down, when a thread pool
# cannot take work any more (a stand-in still serving then logs a traceback).
_STOPS: list[Callable[[], object]] = []


def on_stop(stop: Callable[[], object]) -> None:
    """Run ``stop`` when the process ends (``stop_parts``, else at exit), once."""
    _STOPS.append(stop)
    atexit.register(_run_once, stop)


def _run_once(stop: Callable[[], object]) -> None:
    if stop in _STOPS:
        _STOPS.remove(stop)
        stop()


def stop_parts() -> None:
    """Stop what ``on_stop`` was given, the latest first; never raises."""
    while _STOPS:
        stop = _STOPS.pop()
        try:
            stop()
        except Exception:  # noqa: BLE001 -- the others must still stop
            log.exception("stopping %r failed", stop)


def cache_config(settings: Settings) -> dict[str, Any]:
    """flask-caching configuration for the settings."""
    if settings.redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": settings.redis_url,
            "CACHE_KEY_PREFIX": KEY_PREFIX,  # carries the format of the values
            "CACHE_DEFAULT_TIMEOUT": settings.cache_ttl,
            # A Redis that hangs must not hang the dashboard.
            "CACHE_OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
    return {
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": settings.cache_ttl,
        "CACHE_THRESHOLD": 2000,
    }


def init_cache(server: Flask, settings: Settings) -> None:
    cache.init_app(server, config=cache_config(settings))


DEMO_SITES = {"Demo blog": "https://blog.example.com", "Demo shop": "https://shop.example.com",
              "Demo news": "https://news.example.com"}


def _demo(settings: Settings
          ) -> tuple[Settings, dict[str, str], list[tuple[str, Callable[[], object]]]]:
    """With no property configured, serve the built-in stand-ins: GA4 and share counts.

    Settings given explicitly (an endpoint, a provider URL) are kept. Also returns the
    stand-in's start-up steps (its traffic, made before requests need it).
    """
    from gadash.errors import ConfigError
    from gadash.standin.http import BackgroundServer
    from gadash.standin.server import StandinServer, demo_properties_for, parse_spike
    from gadash.standin.shares import create_share_app, standin_urls

    props = demo_properties_for(settings)
    names = {p.display_name: p.property_id for p in props}
    given = settings.model_fields_set
    update: dict[str, object] = {}
    steps: list[tuple[str, Callable[[], object]]] = []
    if not settings.ga_endpoint:
        standin = StandinServer(props)
        if settings.standin_spike:
            try:  # every demo property with the page; none having it is a mistake
                spiked = standin.servicer.spike_everywhere(*parse_spike(settings.standin_spike))
            except ValueError as exc:
                raise ConfigError(f"gadash cannot start, a setting is wrong:\n"
                                  f"  GADASH_STANDIN_SPIKE: {exc}") from None
            log.info("demo mode: %s spiking in %s", settings.standin_spike, ", ".join(spiked))
        standin.start()
        on_stop(standin.stop)
        update["ga_endpoint"] = standin.endpoint
        steps = [("the demo's whole histories", functools.partial(standin.prepare, whole=True))]
        log.info("demo mode: GA4 stand-in on %s", standin.endpoint)
    elif settings.standin_spike:
        log.warning("GADASH_STANDIN_SPIKE ignored: GA is answered by %s, not the stand-in",
                    settings.ga_endpoint)
    if "site_urls" not in given:
        update["site_urls"] = DEMO_SITES
    provider_urls = {"hackernews_url", "reddit_url", "facebook_url"}
    if not provider_urls & given:
        shares = BackgroundServer(create_share_app()).start()
        on_stop(shares.stop)
        update.update(standin_urls(shares.url))
        if "share_rate_limits" not in given:  # the stand-ins have no rate limit
            update["share_rate_limits"] = {"hackernews": "50", "reddit": "50", "facebook": "50"}
        if settings.facebook_token is None:
            update["facebook_token"] = SecretStr("demo-token")
        log.info("demo mode: share-count stand-ins on %s", shares.url)
    return settings.model_copy(update=update), names, steps


def _warm_demo(server: Flask, service: DataService, properties: dict[str, str],
               steps: list[tuple[str, Callable[[], object]]]) -> None:
    """The demo's first visitor finds the first property's default view made (from the
    stand-in's recent days); the other properties' and the stand-in's years of traffic
    are made once the first page has stopped asking (they share the cores with it)."""
    quiet = Quiet()
    server.wsgi_app = quiet.wsgi(server.wsgi_app)  # type: ignore[method-assign,assignment]
    names = list(properties)
    WarmUp([(f"the first view of {names[0]}",
             functools.partial(warm_first_view, service, names[0])),
            ("a quiet second", quiet.wait),
            *((f"the first view of {name}", functools.partial(warm_first_view, service, name))
              for name in names[1:]),
            ("a quiet second", quiet.wait),
            *steps]).start()


class Server(Flask):
    """Flask, asking once per hook whether it is a coroutine function.

    Flask asks ``inspect`` that of each of gadash's ~20 hooks on every request (to run
    ``async def`` ones in a loop); the hooks and views are fixed once the app is built,
    and an office of screens polls every second."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            sync = self._sync.get(func)
        except TypeError:  # a callable that cannot be a key: asked each time
            return super().ensure_sync(func)
        if sync is None:
            sync = super().ensure_sync(func)
            if len(self._sync) < 4096:  # hooks, views and handlers: a fixed few
                self._sync[func] = sync
        return sync


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app: settings, cache, data service, pages.

    Dash keeps pages and ``dash.callback`` registrations process-wide, so one
    process serves one app.
    """
    settings = settings or load_settings()
    properties = dict(settings.properties)
    demo_steps: list[tuple[str, Callable[[], object]]] = []
    if settings.demo:
        settings, properties, demo_steps = _demo(settings)

    # Named explicitly: Dash and Flask derive names (and Dash its page registry) from it.
    server = Server("gadash")
    app = dash.Dash(
        "gadash",
        server=server,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder="",
        assets_folder=str(Path(__file__).resolve().parents[1] / "assets"),
        # Vendored scripts web.middleware.speed puts where they belong, not on every page.
        assets_ignore=r"^(plotly-basic|regenerator-runtime)-.*\.js$",
        title="gadash",
        update_title=None,  # type: ignore[arg-type]
        # The renderer sends this cookie back as this header; gadash.web.auth checks it.
        csrf_token_name=CSRF_COOKIE,
        csrf_header_name=CSRF_HEADER,
        # The analyst view mounts its panels below the fold by callback (their ids are
        # in no layout until then), and AG Grid's scripts load only then: the renderer
        # cannot check callbacks against a layout that holds every component.
        suppress_callback_exceptions=True,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    init_request_ids(server)  # first: every later line of the request carries its id
    init_security(server, app, settings)
    init_speed(server, app)
    # Bodies past the limit are refused before anything reads them, for everyone.
    server.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    server.before_request(functools.partial(refuse_large_bodies, settings.max_body_bytes))
    limiter = create_limiter(server, settings)  # before the gate: refusals count
    init_cache(server, settings)
    with server.app_context():
        store = CacheStore(cache.cache)
    # The team's database: TV links, saved views, annotations, the audit log.
    db = Store.from_settings(settings)
    db.migrate()
    on_stop(db.dispose)
    server.extensions[STORE_EXTENSION] = db
    auth = server.extensions[AUTH_EXTENSION] = Auth(app, settings, db)
    register_team_routes(server)
    register_digest_routes(server)
    register_tv_link_routes(server, auth)
    limit_routes(server, limiter, settings)
    # After the gate: a callback request must fit the callback it names.
    server.before_request(functools.partial(
        guard_callbacks, lambda: app.callback_map or dash_callbacks.GLOBAL_CALLBACK_MAP,
        LIST_VALUES))
    providers, notes = create_providers(settings)
    for note in notes:
        log.info("%s", note)
    service = DataService(settings, create_source(settings), store, properties, providers)
    server.extensions[EXTENSION] = service
    if demo_steps:
        _warm_demo(server, service, properties, demo_steps)
    if settings.warm_interval:
        warmer = Warmer(service, settings.warm_interval)
        warmer.start()
        on_stop(warmer.stop)

    alerts = Alerts(settings, store)
    if alerts.enabled:
        watcher = AlertWatcher(service, alerts, settings.alert_check_seconds)
        watcher.start()
        on_stop(watcher.stop)
        log.info("alerts: checked every %s s, sent to %s", settings.alert_check_seconds,
                 alerts.target)

    digests = server.extensions[DIGESTS_EXTENSION] = Digests(
        settings, db, functools.partial(compose_digest, server),
        lambda name: service.time_zone(service.property_id(name)))
    if settings.digest_check_seconds:
        digest_watcher = DigestWatcher(digests, settings.digest_check_seconds)
        digest_watcher.start()
        on_stop(digest_watcher.stop)

    from gadash.web.pages import explore, overview, tv  # noqa: F401 -- each registers its page

    register_status_routes(server, service, db)
    init_metrics(server, settings, service,
                 lambda: app.callback_map or dash_callbacks.GLOBAL_CALLBACK_MAP)

    _finish_dash_setup(server, app)
    return app


def _finish_dash_setup(server: Flask, app: dash.Dash) -> None:
    """Run Dash's first-request setup now, before any request.

    Dash does it in two ``before_request`` hooks guarded by flags that are set
    before the work is done, so two first requests at once (a worker starting
    under load) race: one finds the flag set and the layout not yet there
    ("`dash.page_container` not found in the layout", a 500) or no callbacks.
    """
    with server.test_request_context("/"):
        for hook in list(server.before_request_funcs.get(None, [])):
            if getattr(hook, "__qualname__", "").startswith("Dash."):
                hook()
