"""gunicorn's settings for gadash, read as a file: ``gunicorn app:server --config
gadash/gunicorn_conf.py`` (the Procfile), and ``gadash serve`` gives gunicorn this file
of the installed package. A file, not ``python:gadash.gunicorn_conf``: importing the
package in gunicorn's master would create the metrics before their directory is set.

Importing this file only reads environment variables; the hooks below do the rest.

Prometheus metrics are counted per worker and added up at ``/metrics``
(prometheus-client's multiprocess mode, ``gadash.data.counters``): every worker writes
its values to files in ``PROMETHEUS_MULTIPROC_DIR``. The directory must be set
before a worker imports prometheus_client and hold nothing from an earlier run,
so the master makes a fresh one as it starts (or empties the one given), and
drops a dead worker's live gauges when it exits. The app must not be loaded in
the master (no ``preload_app``): its metrics would not be shared then.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

bind = f"0.0.0.0:{os.environ.get('PORT') or 8050}"
# One process per core (at least two): a worker runs Python one thread at a time, and
# every process renders each new answer once and holds its own memory (~190 MB), so
# more processes than cores only add that.
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, os.cpu_count() or 2))
# A worker serves ``threads`` requests at once; a client sending its request slowly
# holds one of them, so a worker accepts at most ``worker_connections`` and then
# leaves new connections (a health check) to a worker with a free thread. Idle
# keep-alive connections wait in the worker's poller, not in a thread: gthread keeps
# ``worker_connections - threads`` of them (with none, 64 and 64 as before, it closed
# every connection after one response).
threads = 128
worker_connections = threads + 32
timeout = 60
graceful_timeout = 30
keepalive = 5

_made: list[str] = []  # the directory on_starting made, removed on_exit
# prometheus_client's mark_process_dead, imported by on_starting: importing it in
# child_exit, a SIGCHLD handler, can interrupt that same import when two workers exit
# at once, and the master died of the half-imported module (ImportError).
_mark_dead: list[Any] = []


def on_starting(server: Any) -> None:
    """Before any worker: a fresh metrics directory the workers inherit."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # an earlier run's counts are not this run's
            stale.unlink(missing_ok=True)
    else:
        made = tempfile.mkdtemp(prefix="gadash-metrics-")
        _made.append(made)
        os.environ[MULTIPROC_ENV] = made
    # Now that the directory is set, the master may import it: workers inherit it.
    from prometheus_client import multiprocess

    _mark_dead.append(multiprocess.mark_process_dead)
    server.log.info("metrics of all workers in %s", os.environ[MULTIPROC_ENV])


def post_fork(server: Any, worker: Any) -> None:
    """A quick stop (SIGINT, SIGQUIT) ends a worker like SIGTERM: its loop stops and the
    exit hooks run, even while the app is still loading. gunicorn's own handler raises
    SystemExit inside whatever frame the signal lands in (a migration, a garbage-collector
    callback), which logs a traceback and skips ``worker_exit``; the master still kills
    a worker that takes longer than ``graceful_timeout``. (Set before the worker installs
    its signal handlers, which read these attributes.)"""
    worker.handle_quit = worker.handle_exit


def post_worker_init(worker: Any) -> None:
    """The app is loaded in this worker: what it built to start (the layout, the
    callback map, plotly's templates, pandas) lives as long as the worker, so the
    collector stops scanning it. A full collection then walks only what requests
    made since, instead of stalling a worker for 0.2-0.4 s (measured under
    bench/viewers.py), every request it holds waiting."""
    import gc

    gc.collect()
    gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """The worker is stopping: stop what the app started beside it (the demo's gRPC
    stand-in, the jobs' threads) while thread pools still take work; at the
    interpreter's exit they no longer do."""
    import sys

    app = sys.modules.get("gadash.web.app")
    if app is not None:
        app.stop_parts()


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges go with it (its counters stay counted). Never
    raises: the master must outlive any worker's end."""
    for mark_dead in _mark_dead:
        try:
            mark_dead(worker.pid)
        except OSError as exc:
            server.log.warning("live gauges of worker %s not removed: %s", worker.pid, exc)


def on_exit(server: Any) -> None:
    for made in _made:
        shutil.rmtree(made, ignore_errors=True)
