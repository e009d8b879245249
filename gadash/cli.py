"""The ``gadash`` command (``pip install .``): serve, check the setup, run the stand-in,
migrate the team database, manage TV links and saved Explore panels.

Every subcommand reads the same settings as the app (``GADASH_*``, ``.env``). Exit
status: 0 done, 1 something is wrong (the output says what), 2 a bad setting or usage.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import redis
from alembic.script import ScriptDirectory

from gadash.core.digest import where
from gadash.core.periods import latest_today
from gadash.core.schedule import parse_schedule
from gadash.data.sources.ga4 import GA4Source
from gadash.errors import ConfigError, GadashError, QueryError, StoreError
from gadash.jobs.digests import Mailer
from gadash.settings import Settings, load_settings, signing_key
from gadash.standin.__main__ import main as standin_main
from gadash.standin.server import StandinServer, demo_properties, demo_properties_for
from gadash.store import Store, head_revision
from gadash.store.__main__ import main as store_main
from gadash.store.core import alembic_config
from gadash.store.digestrepo import DigestRow
from gadash.store.digests import create_digest, delete_digest, recipients, update_digest
from gadash.store.panels import (
    delete_panel,
    links_using,
    panel_lookup,
    panel_url,
    save_panel,
    update_panel,
)
from gadash.store.repos import TvLinkRow
from gadash.store.tvlinks import TV_LINK_DAYS, TvLinks, link_label, playlist_problems

# The production gunicorn settings and hooks (threads, connections, timeouts, the
# metrics directory every worker shares): the package's config file, as the Procfile's.
GUNICORN_OPTIONS = ("--config", str(Path(__file__).with_name("gunicorn_conf.py")))
REDIS_TIMEOUT = 2.0


# ----------------------------------------------------------------- helpers

def _settings() -> Settings | None:
    """The settings, or None after printing why they cannot be read."""
    try:
        return load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def _report(ok: bool, text: str) -> bool:
    """One line of ``gadash check``: ``OK``/``FAIL``, what was checked, what was found."""
    print(f"{'OK' if ok else 'FAIL':<4} {text}", flush=True)
    return ok


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hide_password(url: str) -> str:
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


def _quiet_logs() -> None:
    """The commands' own output says what failed; library warnings would repeat it."""
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


def _property_names(settings: Settings) -> dict[str, str]:
    """The properties the app shows: the configured ones, or the demo's."""
    if not settings.demo:
        return dict(settings.properties)
    return {p.display_name: p.property_id for p in demo_properties_for(settings)}


def _migrated_store(settings: Settings) -> Store | None:
    """The team database when it is at the newest migration, else None (after saying why)."""
    try:
        store = Store.from_settings(settings)
    except GadashError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return None
    try:
        current, head = store.current_revision(), head_revision()
    except GadashError as exc:
        store.dispose()
        print(f"error: {exc.message}", file=sys.stderr)
        return None
    if current != head:
        store.dispose()
        print(f"error: the team database {store.url} is at revision {current or 'none'}, "
              f"not {head}: run `gadash db upgrade` first (the app also does it when it "
              "starts).", file=sys.stderr)
        return None
    return store


def _who() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        user = "unknown user"
    return f"{user} (gadash command)"


# ----------------------------------------------------------------- serve

def _serve(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2
    port = args.port or settings.port
    if args.dev:
        from gadash.wsgi import app  # importing it builds the app

        app.run(host=args.host or settings.host, port=port, debug=settings.debug)
        return 0
    concurrency = os.environ.get("WEB_CONCURRENCY", "")
    if not args.workers and concurrency and not concurrency.isdigit():
        print(f"WEB_CONCURRENCY: {concurrency!r} is not a number of workers", file=sys.stderr)
        return 2
    workers = args.workers or concurrency  # neither: the config's (one per core)
    command = [sys.executable, "-m", "gunicorn", "gadash.wsgi:server",
               "--bind", f"{args.host or '0.0.0.0'}:{port}",  # as the Procfile
               *(["--workers", str(workers)] if workers else []), *GUNICORN_OPTIONS]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(command[0], command)  # gunicorn takes over the process, and its signals


# ----------------------------------------------------------------- standin

def _standin(rest: list[str]) -> int:
    """The stand-in's own command line (``python -m gadash.standin``), whatever follows."""
    standin_main(rest)
    return 0


# ----------------------------------------------------------------- check

def _check(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2
    _quiet_logs()
    settings = settings.model_copy(update={"ga_timeout": min(settings.ga_timeout,
                                                             args.timeout)})
    standin = None
    if settings.demo:
        if settings.ga_endpoint:
            print(f"Demo mode (no GADASH_PROPERTIES): the demo properties, asked of "
                  f"GADASH_GA_ENDPOINT={settings.ga_endpoint}.")
        else:
            standin = StandinServer(demo_properties(
                settings.standin_sessions_per_day, settings.standin_days,
                settings.standin_seed, settings.standin_time_zone)).start()
            settings = settings.model_copy(update={"ga_endpoint": standin.endpoint})
            print("Demo mode (no GADASH_PROPERTIES): the app answers from its built-in GA4 "
                  "stand-in, started here to check it; set GADASH_PROPERTIES to use GA.")
    try:
        results = [_check_ga(settings), _check_database(settings), _check_redis(settings),
                   _check_smtp(settings)]
    finally:
        if standin is not None:
            standin.stop()
    if all(results):
        print("All good.")
        return 0
    print("Something is wrong: see the FAIL lines.")
    return 1


def _credentials_origin(settings: Settings) -> str:
    if settings.ga_endpoint:
        return f"GADASH_GA_ENDPOINT={settings.ga_endpoint}: no credentials"
    if settings.credentials_file:
        return f"GADASH_CREDENTIALS_FILE={settings.credentials_file}"
    if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return f"GOOGLE_APPLICATION_CREDENTIALS={os.environ['GOOGLE_APPLICATION_CREDENTIALS']}"
    return "application default credentials"


def _check_ga(settings: Settings) -> bool:
    """GetMetadata for each property, through the client the app uses."""
    source = GA4Source(settings)
    origin = _credentials_origin(settings)
    try:
        account = source.account
    except GadashError as exc:
        return _report(False, f"Credentials ({origin}): {exc.message}")
    print(f"Credentials: {_sentence(account)} ({origin})")
    ok = True
    try:
        for name, property_id in _property_names(settings).items():
            try:
                fields = source.available_fields(property_id)
            except GadashError as exc:
                ok = _report(False, f"{name} ({property_id}): {exc.title}. "
                             f"{_sentence(exc.message)}")
            else:
                _report(True, f"{name} ({property_id}): {len(fields)} dimensions and metrics")
    finally:
        source.close()
    return ok


def _check_database(settings: Settings) -> bool:
    """Reachable, and at a migration this gadash knows."""
    try:
        store = Store.from_settings(settings)
    except (GadashError, OSError) as exc:
        return _report(False, f"Database: {exc}")
    try:
        current = store.current_revision()
    except GadashError as exc:
        return _report(False, f"Database {store.url}: {exc.message}")
    finally:
        store.dispose()
    head = head_revision()
    where = f"Database {store.url}: reachable"
    if current == head:
        return _report(True, f"{where}, migrations current ({head})")
    scripts = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {s.revision for s in scripts.walk_revisions()}:
        return _report(False, f"{where}, but at revision {current}, which this gadash does not "
                       "know: a newer gadash migrated it. Run that version of gadash.")
    state = f"at revision {current}" if current else "no migration applied yet"
    return _report(True, f"{where}, {state} (newest {head}): the app applies migrations "
                   "when it starts, or run `gadash db upgrade`")


def _check_smtp(settings: Settings) -> bool:
    """The digests' mail server: a session opened (TLS and login as set) and closed."""
    if not settings.smtp_host:
        print(f"{'--':<4} SMTP: GADASH_SMTP_HOST not set; digests go to their webhooks only")
        return True
    mailer = Mailer(settings)
    how = {"starttls": "STARTTLS", "ssl": "TLS", "none": "no TLS"}[settings.smtp_tls]
    login = f", logged in as {settings.smtp_user}" if settings.smtp_user else ""
    reason = mailer.check()
    if reason:
        return _report(False, f"SMTP {mailer.target} ({how}{login}): {reason}; digests "
                       "cannot be mailed")
    return _report(True, f"SMTP {mailer.target}: answers ({how}{login})")


def _check_redis(settings: Settings) -> bool:
    """A PING within REDIS_TIMEOUT seconds, when a shared cache is configured."""
    if not settings.redis_url:
        print(f"{'--':<4} Redis: REDIS_URL not set; each process caches on its own")
        return True
    shown = _hide_password(settings.redis_url)
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT,
                                      socket_connect_timeout=REDIS_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return _report(False, f"Redis {shown}: no answer to PING within {REDIS_TIMEOUT:g} s "
                       f"({type(exc).__name__}: {exc}); the app would fall back to a cache "
                       "per process")
    return _report(True, f"Redis {shown}: answers PING")


# ----------------------------------------------------------------- db

def _db(args: argparse.Namespace) -> int:
    return store_main([args.action])


# ----------------------------------------------------------------- tv-links

def _store_command(args: argparse.Namespace) -> int:
    """``tv-links`` and ``panels``: settings, the migrated store, then the action."""
    settings = _settings()
    if settings is None:
        return 2
    _quiet_logs()
    store = _migrated_store(settings)
    if store is None:
        return 1
    action: Callable[[Settings, Store, argparse.Namespace], int] = args.store_action
    try:
        return action(settings, store, args)
    except (StoreError, QueryError) as exc:
        print(f"error: {exc.message} Nothing was changed.", file=sys.stderr)
        return 1
    finally:
        store.dispose()


def _base_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


def _links_list(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    rows = store.links.list(include_inactive=args.all)
    if not rows:
        print("No TV links." if args.all else "No active TV links (--all lists every one).")
        return 0
    print("ID\tNAME\tEXPIRES (UTC)\tLAST SEEN (UTC)\tSTATE\tBY\tPLAYLIST")
    for link in rows:
        state = "revoked" if link.revoked_at else "active" if link.active else "expired"
        print(f"{link.id}\t{link.label}\t{_when(link.expires_at)}\t{_when(link.last_seen_at)}"
              f"\t{state}\t{link.created_by}\t{link.query or '(defaults)'}")
    return 0


def _links_create(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    label = link_label(args.label)
    problems = playlist_problems(args.playlist, list(_property_names(settings)), settings,
                                 panels=panel_lookup(store))
    if problems:
        print("The playlist needs a change; nothing was created:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    links = TvLinks(store, signing_key(settings))
    link, token = links.create(args.playlist, label, _who(), args.days)
    print(f"TV link {link.id} for {link.label!r} ({link.query or 'default playlist'}), "
          f"until {_when(link.expires_at)} UTC:")
    print(f"{_base_url(settings)}/tv?{urlencode({'key': token})}")
    if not settings.public_url:
        print("(GADASH_PUBLIC_URL is not set, so the address is this machine's.)",
              file=sys.stderr)
    if not settings.sign_in:
        reach = "wherever GADASH_ALLOW_OPEN lets gadash be reached" if settings.allow_open \
            else "only on this machine (GADASH_ALLOW_OPEN=true lets others reach it)"
        print(f"(gadash runs without sign-in: the link opens {reach}; it shows its own "
              "playlist whatever its URL says, and revoking it stops its screens, as with "
              "sign-in.)", file=sys.stderr)
    return 0


def _links_revoke(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    if not TvLinks(store, signing_key(settings)).revoke(args.id, _who()):
        print(f"error: there is no TV link {args.id!r} (`gadash tv-links list --all`)",
              file=sys.stderr)
        return 1
    print(f"Revoked TV link {args.id}; screens using it stop within seconds.")
    return 0


# ----------------------------------------------------------------- panels

def _today() -> date:
    """Without GA the property's zone is unknown: a range is checked against the newest
    date on Earth, so one that is fine in the property's zone is never refused."""
    return latest_today()


def _links_named(links: list[TvLinkRow]) -> str:
    return ", ".join(f"{link.id} ({link.label!r})" for link in links)


def _no_panel(panel_id: int) -> int:
    print(f"error: there is no panel {panel_id} (`gadash panels list`)", file=sys.stderr)
    return 1


def _panels_list(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    rows = store.panels.list(args.property)
    if not rows:
        print(f"No panels of {args.property!r}." if args.property else "No panels.")
        return 0
    print("ID\tPROPERTY\tNAME\tPINNED\tBY\tUPDATED (UTC)\tQUERY")
    for p in rows:
        print(f"{p.id}\t{p.property}\t{p.name}\t{'yes' if p.pinned else 'no'}\t"
              f"{p.created_by}\t{_when(p.updated_at)}\t{p.query}")
    return 0


def _panels_show(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    row = store.panels.get(args.id)
    if row is None:
        return _no_panel(args.id)
    print(f"Panel {row.id}: {row.name}")
    print(f"Property: {row.property}")
    print(f"Pinned: {'yes (on the analyst view)' if row.pinned else 'no'}")
    print(f"Created: {_when(row.created_at)} UTC by {row.created_by}")
    print(f"Updated: {_when(row.updated_at)} UTC by {row.updated_by}")
    print(f"Query: {row.query}")
    print(f"URL: {_base_url(settings)}{panel_url(row)}")
    links = links_using(store, row.id)
    if not links:
        print("TV links: none active shows it")
    else:
        print(f"TV links (screen panel:{row.id}):")
        for link in links:
            print(f"  {link.id}\t{link.label}\tuntil {_when(link.expires_at)} UTC")
    return 0


def _panels_create(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    row = save_panel(store, _who(), args.name, args.query, args.property,
                     list(_property_names(settings)), _today(), pinned=args.pin)
    print(f"Saved panel {row.id} ({row.name!r}, {row.property}"
          f"{', pinned' if row.pinned else ''}): {row.query}")
    print(f"On a TV: screens=panel:{row.id}")
    return 0


def _changed(links: list[TvLinkRow], done: str) -> int:
    print(f"{done}.")
    if links:
        print(f"Active TV links showing it: {_links_named(links)}.")
    return 0


def _panels_rename(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    row, links = update_panel(store, _who(), args.id, list(_property_names(settings)),
                              _today(), name=args.name)
    if row is None:
        return _no_panel(args.id)
    return _changed(links, f"Renamed panel {row.id} to {row.name!r}")


def _panels_pin(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    row, links = update_panel(store, _who(), args.id, list(_property_names(settings)),
                              _today(), pinned=args.pinned)
    if row is None:
        return _no_panel(args.id)
    return _changed(links, f"Pinned panel {row.id} on the analyst view of {row.property}"
                    if row.pinned else f"Unpinned panel {row.id}")


def _panels_set_query(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    row, links = update_panel(store, _who(), args.id, list(_property_names(settings)),
                              _today(), query=args.query)
    if row is None:
        return _no_panel(args.id)
    return _changed(links, f"Panel {row.id} now shows {row.query}")


def _panels_delete(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    done, links = delete_panel(store, _who(), args.id, force=args.force)
    if not done and links:
        print(f"error: panel {args.id} is on the playlist of active TV link(s) "
              f"{_links_named(links)}; nothing was deleted. Change or revoke them "
              "(`gadash tv-links`), or delete it anyway with --force.", file=sys.stderr)
        return 1
    if not done:
        return _no_panel(args.id)
    print(f"Deleted panel {args.id}.")
    if links:
        print(f"These active TV links still name panel:{args.id}; change or revoke them "
              f"(`gadash tv-links`): {_links_named(links)}.")
    return 0


# ----------------------------------------------------------------- digests

def _no_digest(digest_id: int) -> int:
    print(f"error: there is no digest {digest_id} (`gadash digests list`)", file=sys.stderr)
    return 1


def _to(d: DigestRow) -> str:
    return ", ".join([*d.emails, *(f"{where(u)} (webhook)" for u in d.webhooks)])


def _digests_list(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    rows = store.digests.list()
    if not rows:
        print("No digests (`gadash digests create`, or /digests in the app).")
        return 0
    print("ID\tNAME\tSOURCE\tPROPERTY\tSCHEDULE\tSTATE\tTO")
    for d in rows:
        print(f"{d.id}\t{d.name}\t{d.source}\t{d.property}\t{d.schedule}\t"
              f"{'paused' if d.paused else 'active'}\t{_to(d)}")
    return 0


def _digests_show(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    d = store.digests.get(args.id)
    if d is None:
        return _no_digest(args.id)
    print(f"Digest {d.id}: {d.name}")
    print(f"Sends: {d.source} ({d.property})")
    print(f"When: {parse_schedule(d.schedule).describe()}, in the property's time zone"
          f"{' (paused)' if d.paused else ''}")
    print(f"To: {_to(d)}")
    print(f"Made: {_when(d.created_at)} UTC by {d.created_by}")
    runs = store.digests.runs(d.id, limit=args.runs)
    print("Runs:" if runs else "Runs: none yet")
    for r in runs:
        print(f"  run {r.id}\t{_when(r.due_at)} UTC\t{r.kind}\t{r.status}\ttries {r.attempts}")
        for line in r.log.strip().splitlines():
            print(f"    {line}")
    return 0


def _digests_create(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    d = create_digest(store, _who(), args.name, args.source, args.schedule,
                      recipients(args.email or []), recipients(args.webhook or []),
                      settings.digest_private_webhooks)
    print(f"Made digest {d.id} ({d.name!r}): {d.source}, "
          f"{parse_schedule(d.schedule).describe()}, to {_to(d)}")
    if args.webhook and not settings.public_url:
        print("note: GADASH_PUBLIC_URL is not set, so chat messages carry no trend picture "
              "(chat servers fetch it from there).")
    if args.email and not settings.smtp_host:
        print("note: GADASH_SMTP_HOST is not set: mail cannot be sent until it is.")
    return 0


def _digests_pause(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    d = update_digest(store, _who(), args.id, paused=args.paused)
    if d is None:
        return _no_digest(args.id)
    print(f"Digest {d.id} is paused." if d.paused else f"Digest {d.id} is active again; "
          "times that fell due while it was paused are not sent.")
    return 0


def _digests_edit(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    emails = () if args.no_emails else recipients(args.email) if args.email else None
    hooks = () if args.no_webhooks else recipients(args.webhook) if args.webhook else None
    d = update_digest(store, _who(), args.id, name=args.name, source=args.source,
                      schedule=args.schedule, emails=emails, webhooks=hooks,
                      private_webhooks=settings.digest_private_webhooks)
    if d is None:
        return _no_digest(args.id)
    print(f"Digest {d.id} ({d.name!r}): {d.source}, {parse_schedule(d.schedule).describe()}, "
          f"to {_to(d)}")
    return 0


def _digests_retry(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    run = store.digests.run(args.run)
    if run is None or run.status != "failed" or not store.digests.retry(
            args.run, datetime.now(UTC), f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC tried "
            f"again, asked for by {_who()}\n"):
        print(f"error: run {args.run} is not a failed run (`gadash digests show ID` lists "
              "runs)", file=sys.stderr)
        return 1
    print(f"Run {args.run} (due {_when(run.due_at)} UTC) is due again: the app sends it "
          "within GADASH_DIGEST_CHECK_SECONDS.")
    return 0


def _digests_delete(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    if not delete_digest(store, _who(), args.id):
        return _no_digest(args.id)
    print(f"Deleted digest {args.id} and its runs.")
    return 0


def _digests_send(args: argparse.Namespace) -> int:
    """Make and send a digest now, as the app's "Send now" does: the app's data service
    (GA, or the demo's stand-in) and its mail and webhook settings."""
    settings = _settings()
    if settings is None:
        return 2
    _quiet_logs()
    from gadash.web.app import create_app
    from gadash.web.routes.digests import DIGESTS_EXTENSION

    try:
        app = create_app(settings.model_copy(update={"digest_check_seconds": 0,
                                                     "warm_interval": 0}))
    except GadashError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    server = app.server
    digests = server.extensions[DIGESTS_EXTENSION]
    try:
        d = digests.db.digests.get(args.id)
        if d is None:
            return _no_digest(args.id)
        run_id = digests.send_now(d, _who())
        run = digests.db.digests.run(run_id) if run_id else None
    except StoreError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if run is None:
        print("error: it was sent less than a minute ago, or another process is sending "
              f"it; see `gadash digests show {args.id}`", file=sys.stderr)
        return 1
    print(run.log.strip())
    print({"sent": f"Digest {d.id} sent.",
           "pending": f"Digest {d.id} not sent to everyone yet: the app tries again by itself "
                      "(`gadash digests show` tells).",
           "failed": f"Digest {d.id} failed."}[run.status])
    return 0 if run.status == "sent" else 1


# ----------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="gadash", description="A team dashboard for Google Analytics 4. Settings come "
        "from GADASH_* variables and a .env file in the working directory (README, Settings).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # The figures gunicorn will use, read from its config file: the help cannot go stale.
    from gadash import gunicorn_conf as conf

    port = os.environ.get("GADASH_PORT") or os.environ.get("PORT") or "8050"
    serve = commands.add_parser(
        "serve", help="serve the dashboard with gunicorn (production settings)",
        description="Serve gadash.wsgi:server with gunicorn and gadash/gunicorn_conf.py: "
        f"{conf.workers} workers here (WEB_CONCURRENCY, else one per core, at least 2) of "
        f"{conf.threads} threads, at most {conf.worker_connections} connections each, "
        f"timeout {conf.timeout} s, graceful stop {conf.graceful_timeout} s.")
    serve.add_argument("--port", type=int,
                       help=f"port (default GADASH_PORT, else PORT, else 8050: here {port})")
    dev_host = os.environ.get("GADASH_HOST") or "127.0.0.1"
    serve.add_argument("--host", help="address to bind (default 0.0.0.0; with --dev "
                       f"GADASH_HOST, else 127.0.0.1: here {dev_host})")
    serve.add_argument("--workers", type=int,
                       help=f"gunicorn worker processes (default WEB_CONCURRENCY, else one per "
                            f"core, at least 2: here {conf.workers})")
    serve.add_argument("--dev", action="store_true",
                       help="Flask's development server instead (GADASH_DEBUG for hot reload)")
    serve.set_defaults(run=_serve)

    # Its options are the stand-in's own (``gadash standin --help``): main passes them on.
    commands.add_parser("standin", add_help=False,
                        help="run the GA4 Data API stand-in (demo data over gRPC)")

    check = commands.add_parser(
        "check", help="check credentials, GA access to each property, the database, Redis",
        description="Ask GA for each property's metadata (GetMetadata) with the configured "
        "credentials, then check the team database and Redis. Exit status 1 when anything "
        "is wrong.")
    check.add_argument("--timeout", type=float, default=10.0,
                       help="seconds each GA call may take, retries included (default 10)")
    check.set_defaults(run=_check)

    db = commands.add_parser("db", help="the team database's migrations: upgrade, current",
                             description="Migrations of the team database "
                             "(GADASH_DATABASE_URL, else SQLite in GADASH_DATA_DIR).")
    db.add_argument("action", choices=("upgrade", "current"),
                    help="upgrade: apply every migration not yet applied; current: print "
                    "the database's revision")
    db.set_defaults(run=_db)

    links = commands.add_parser("tv-links", help="list, create and revoke TV links",
                                description="TV links open the big screen without sign-in, "
                                "showing one playlist until they expire or are revoked.")
    actions = links.add_subparsers(dest="links_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the active links (--all: every link)")
    listing.add_argument("--all", action="store_true", help="expired and revoked ones too")
    listing.set_defaults(store_action=_links_list)
    create = actions.add_parser("create", help="a new link; prints its URL")
    create.add_argument("label", help="a name for the screen, e.g. 'Office TV'")
    create.add_argument("--playlist", default="", metavar="QUERY",
                        help="the /tv query string, e.g. 'screens=overview,realtime&rotate=30'"
                        " (default: the app's playlist)")
    create.add_argument("--days", type=int, choices=TV_LINK_DAYS, default=7,
                        help="days until it expires (default 7)")
    create.set_defaults(store_action=_links_create)
    revoke = actions.add_parser("revoke", help="revoke a link by its id")
    revoke.add_argument("id", help="the link's id (see `gadash tv-links list`)")
    revoke.set_defaults(store_action=_links_revoke)
    links.set_defaults(run=_store_command)

    panels = commands.add_parser(
        "panels", help="list, show, create, change and delete saved Explore panels",
        description="A panel is a saved exploration (an Explore query string) of one "
        "property; pinned ones show on its analyst view, and a TV playlist shows one with "
        "the screen panel:<id>.")
    actions = panels.add_subparsers(dest="panels_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every panel, by name")
    listing.add_argument("--property", metavar="NAME", help="only this property's")
    listing.set_defaults(store_action=_panels_list)
    show = actions.add_parser("show", help="one panel, its URL and the TV links showing it")
    show.add_argument("id", type=int, help="the panel's id (see `gadash panels list`)")
    show.set_defaults(store_action=_panels_show)
    create = actions.add_parser("create", help="save an exploration as a panel")
    create.add_argument("--property", required=True, metavar="NAME",
                        help="the property's name, as the app shows it")
    create.add_argument("--name", required=True, metavar="TEXT", help="the panel's name")
    create.add_argument("--query", required=True, metavar="QUERYSTRING",
                        help="the Explore query string, e.g. "
                        "'dim=country&metric=sessions&top=10&chart=bar'")
    create.add_argument("--pin", action="store_true",
                        help="show it on the property's analyst view")
    create.set_defaults(store_action=_panels_create)
    rename = actions.add_parser("rename", help="rename a panel")
    rename.add_argument("id", type=int, help="the panel's id")
    rename.add_argument("name", help="its new name")
    rename.set_defaults(store_action=_panels_rename)
    for verb, pinned, what in (("pin", True, "show a panel on its property's analyst view"),
                               ("unpin", False, "take a panel off the analyst view")):
        pin = actions.add_parser(verb, help=what)
        pin.add_argument("id", type=int, help="the panel's id")
        pin.set_defaults(store_action=_panels_pin, pinned=pinned)
    set_query = actions.add_parser("set-query", help="change what a panel shows")
    set_query.add_argument("id", type=int, help="the panel's id")
    set_query.add_argument("query", metavar="QUERYSTRING", help="the new Explore query string")
    set_query.set_defaults(store_action=_panels_set_query)
    delete = actions.add_parser("delete", help="delete a panel no active TV link shows")
    delete.add_argument("id", type=int, help="the panel's id")
    delete.add_argument("--force", action="store_true",
                        help="delete it even when TV links show it")
    delete.set_defaults(store_action=_panels_delete)
    panels.set_defaults(run=_store_command)

    digests = commands.add_parser(
        "digests", help="list, show, create, pause, resume, delete and send digests",
        description="A digest sends a saved view (view:<slug>, see /views) or an Explore "
        "panel (panel:<id>) on a schedule, in the property's time zone, to email addresses "
        "(GADASH_SMTP_*) and chat webhooks.")
    actions = digests.add_subparsers(dest="digests_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every digest")
    listing.set_defaults(store_action=_digests_list, run=_store_command)
    show = actions.add_parser("show", help="one digest and the log of its latest runs")
    show.add_argument("id", type=int, help="the digest's id (see `gadash digests list`)")
    show.add_argument("--runs", type=int, default=10, metavar="N", help="runs shown (10)")
    show.set_defaults(store_action=_digests_show, run=_store_command)
    create = actions.add_parser("create", help="a new digest")
    create.add_argument("--name", required=True, metavar="TEXT")
    create.add_argument("--source", required=True, metavar="view:SLUG|panel:ID",
                        help="what it sends: a saved view or an Explore panel")
    create.add_argument("--schedule", required=True, metavar="PHRASE",
                        help="'daily 08:00', 'weekly mon 09:00' or 'monthly 1 07:30'")
    create.add_argument("--email", action="append", metavar="ADDRESS",
                        help="an address to mail (repeat for more)")
    create.add_argument("--webhook", action="append", metavar="URL",
                        help="a Slack-compatible webhook (repeat for more)")
    create.set_defaults(store_action=_digests_create, run=_store_command)
    for verb, paused, what in (("pause", True, "stop sending a digest"),
                               ("resume", False, "send a paused digest again")):
        pause = actions.add_parser(verb, help=what)
        pause.add_argument("id", type=int, help="the digest's id")
        pause.set_defaults(store_action=_digests_pause, paused=paused, run=_store_command)
    edit = actions.add_parser("edit", help="change a digest (what is not given is kept)")
    edit.add_argument("id", type=int, help="the digest's id")
    edit.add_argument("--name", metavar="TEXT")
    edit.add_argument("--source", metavar="view:SLUG|panel:ID")
    edit.add_argument("--schedule", metavar="PHRASE")
    edit.add_argument("--email", action="append", metavar="ADDRESS",
                      help="the addresses (replace the old ones; repeat for more)")
    edit.add_argument("--webhook", action="append", metavar="URL",
                      help="the webhooks (replace the old ones; repeat for more)")
    edit.add_argument("--no-emails", action="store_true", help="mail nobody")
    edit.add_argument("--no-webhooks", action="store_true", help="post to no webhook")
    edit.set_defaults(store_action=_digests_edit, run=_store_command)
    retry = actions.add_parser("retry", help="send a failed run again, for its own period")
    retry.add_argument("run", type=int, help="the run's id (see `gadash digests show ID`)")
    retry.set_defaults(store_action=_digests_retry, run=_store_command)
    delete = actions.add_parser("delete", help="delete a digest and its runs")
    delete.add_argument("id", type=int, help="the digest's id")
    delete.set_defaults(store_action=_digests_delete, run=_store_command)
    send = actions.add_parser("send", help="make and send a digest now")
    send.add_argument("id", type=int, help="the digest's id")
    send.set_defaults(run=_digests_send)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit status."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "standin":
        return _standin(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
