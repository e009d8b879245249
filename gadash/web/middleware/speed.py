"""Bytes on the wire: compression, cache lifetimes, a small plotly.js, no grid on /tv.

- Every text response is compressed (brotli, else gzip) by flask-compress.
  Static bundles (Dash's component suites, our assets) are compressed once per
  process and kept; pages, layouts and callback answers are compressed per
  response (they are small).
- Dash's graphs load plotly.js from ``_dash-component-suites/plotly/package_data/
  plotly.min.js`` (a path the renderer fixes); that path answers with the basic
  distribution vendored in ``assets/vendor`` (scatter, bar, pie: what gadash
  draws), 1.2 MB instead of 4.8 MB.
- Fingerprinted bundles are cached for a year (Dash's header); chunks Dash
  loads by a fixed name (its async components, plotly.js) for a day, then
  revalidated by ETag.
- No page loads AG Grid's scripts up front: no table is on screen at first (``/tv``
  has none; on ``/`` they mount when scrolled to). The page names them in a
  ``<meta name="gadash-grid-scripts">``, and ``assets/lazy.js`` loads them before
  the first table mounts.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import dash
from flask import Flask, Request, Response, request
from flask_compress import Compress

PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"
PLOTLY_BASIC = "vendor/plotly-basic-4.1.1.min.js"
# Dash's renderer needs one global of Babel's polyfill (core-js 2 and regenerator):
# regeneratorRuntime. Today's browsers have everything else, and evaluating the
# polyfill took 47 ms of the page's first second.
REGENERATOR_VERSION = "0.14.1"
REGENERATOR = f"vendor/regenerator-runtime-{REGENERATOR_VERSION}.js"
_POLYFILL_SCRIPT = re.compile(
    r'<script src="[^"]*/_dash-component-suites/dash/deps/polyfill@[^"]*"></script>')
CHUNK_MAX_AGE = 86_400
YEAR = 31_536_000
_FINGERPRINT = re.compile(r"\.v[\w]+m\d+\.")
# Compressed static bundles kept per process (all of Dash's and ours are ~3 MB).
STATIC_CACHE_BYTES = 32 * 1024 * 1024
_GRID_SCRIPT = re.compile(r'<script src="([^"]*/_dash-component-suites/dash_ag_grid/[^"]*)">'
                          r"</script>\s*")
_NO_STORE = "-"  # cache key of a response that is not kept


class StaticCache:
    """flask-compress's cache backend: keeps compressed static bundles, at most
    ``limit`` bytes (least recently used go first); refuses everything else."""

    def __init__(self, limit: int = STATIC_CACHE_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";" + _NO_STORE) or len(value) > self.limit:
            return
        with self.lock:
            old = self.items.pop(key, None)
            self.size -= len(old) if old is not None else 0
            self.items[key] = value
            self.size += len(value)
            while self.size > self.limit:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)


def _is_static(prefix: str, path: str) -> bool:
    return path.startswith((prefix + "_dash-component-suites/", prefix + "assets/"))


def init_speed(server: Flask, app: dash.Dash) -> None:
    """Compression, cache lifetimes, the basic plotly.js and pages without grid code."""
    prefix = str(app.config.routes_pathname_prefix)
    plotly_url = prefix + PLOTLY_PATH
    plotly_file = Path(str(app.config.assets_folder)) / PLOTLY_BASIC
    plotly_bytes = plotly_file.read_bytes()

    def cache_key(req: Request) -> str:
        # A static bundle's content is fixed by its URL (fingerprint or package version).
        return req.full_path if _is_static(prefix, req.path) else _NO_STORE

    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_CACHE_BACKEND=StaticCache,
        COMPRESS_CACHE_KEY=cache_key,
        COMPRESS_STREAMS=False,  # Flask's files stream; they are read whole below
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/plain", "text/javascript",
                            "application/javascript", "application/json",
                            "image/svg+xml", "image/x-icon"],
    )

    def plotly_basic() -> Response | None:
        if request.path != plotly_url:
            return None
        response = Response(plotly_bytes, mimetype="application/javascript")
        response.cache_control.public = True
        response.cache_control.max_age = CHUNK_MAX_AGE
        response.add_etag()
        response.make_conditional(request)
        return response

    def static_lifetimes(response: Response) -> Response:
        if _is_static(prefix, request.path) and response.status_code in (200, 304):
            if response.is_streamed:  # Flask's send_file: read it, so it compresses
                response.direct_passthrough = False
                response.set_data(response.get_data())
            # Fingerprinted (Dash's ".v4_4_1m…" names, "?m=<mtime>" on assets): a year.
            fingerprinted = _FINGERPRINT.search(request.path) or request.args.get("m")
            response.headers["Cache-Control"] = (
                f"public, max-age={YEAR}, immutable" if fingerprinted
                else f"public, max-age={CHUNK_MAX_AGE}")
        return response

    server.before_request(plotly_basic)
    # after_request handlers run in reverse order: lifetimes first, then compression.
    Compress(server)
    server.after_request(static_lifetimes)

    original = app.interpolate_index

    # The version is the file's fingerprint: kept a year (static_lifetimes).
    regenerator = f'<script src="{prefix}assets/{REGENERATOR}?m={REGENERATOR_VERSION}"></script>'

    def interpolate_index(**kwargs: Any) -> str:
        scripts = kwargs.get("scripts", "")
        grid = " ".join(m.group(1) for m in _GRID_SCRIPT.finditer(scripts))
        scripts = _POLYFILL_SCRIPT.sub(lambda _: regenerator, scripts, count=1)
        kwargs["scripts"] = _GRID_SCRIPT.sub("", scripts)
        kwargs["metas"] = (kwargs.get("metas", "") + '<meta name="gadash-grid-scripts" '
                           f'content="{html.escape(grid)}">')
        return str(original(**kwargs))

    app.interpolate_index = interpolate_index  # type: ignore[method-assign,assignment]
