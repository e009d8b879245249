"""Bytes on the wire (gadash.speed): compressed bundles with long lifetimes, the
basic plotly.js, and pages that load AG Grid's code only when a table mounts.

The app runs as a real server process, as in tests/test_security.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import BLOG, SHOP
from tests.servers import start_app, stop_app


@pytest.fixture(scope="module")
def app_url(standin, tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("speed")
    env = {"GADASH_GA_ENDPOINT": standin.endpoint,
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_DATA_DIR": str(tmp)}
    proc, url = start_app(env, tmp / "app.log")
    try:
        yield url
    finally:
        stop_app(proc)


def grid_scripts(page: str) -> list[str]:
    [content] = re.findall(r'<meta name="gadash-grid-scripts" content="([^"]*)">', page)
    return html.unescape(content).split()


@pytest.mark.parametrize("path", ["/", "/tv", "/?range=last7"])
def test_no_page_loads_grid_code_up_front(app_url, path):
    page = requests.get(app_url + path, headers={"Accept": "text/html"}).text
    assert "dash_ag_grid" not in " ".join(re.findall(r'<script[^>]*src="([^"]+)"', page))
    # ... it names the grid's scripts for assets/lazy.js, which loads them on demand.
    [script] = grid_scripts(page)
    assert "/_dash-component-suites/dash_ag_grid/" in script
    assert '/assets/lazy.js' in page


def test_grid_code_is_compressed_once_and_kept_a_year(app_url):
    [script] = grid_scripts(requests.get(app_url + "/").text)
    r = requests.get(app_url + script, headers={"Accept-Encoding": "br, gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "br"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Set-Cookie" not in r.headers
    assert int(r.headers["Content-Length"]) < 400_000  # 1.3 MB before compression
    gz = requests.get(app_url + script, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gz.content == r.content


def test_graphs_get_the_basic_plotly(app_url):
    url = app_url + "/_dash-component-suites/plotly/package_data/plotly.min.js"
    r = requests.get(url, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and len(r.content) < 1_500_000  # the full one: 4.8 MB
    assert r.headers["Cache-Control"] == "public, max-age=86400"
    again = requests.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304



@pytest.mark.parametrize("path", ["/", "/tv"])
def test_pages_load_the_regenerator_runtime_not_babels_polyfill(app_url, path):
    page = requests.get(app_url + path, headers={"Accept": "text/html"}).text
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert not [s for s in scripts if "polyfill" in s], scripts
    # Before the renderer, which calls regeneratorRuntime as it loads.
    first = next(i for i, s in enumerate(scripts) if "regenerator-runtime" in s)
    assert first < next(i for i, s in enumerate(scripts) if "dash_renderer" in s)
    r = requests.get(app_url + scripts[first], headers={"Accept-Encoding": "br"})
    assert r.status_code == 200 and "regeneratorRuntime" in r.text
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.headers["Content-Encoding"] == "br"


def test_the_server_asks_once_whether_a_hook_is_a_coroutine():
    """gadash.Server remembers Flask's answer per hook and view, for a bounded few."""
    from gadash.web.app import Server

    server = Server("hooks")
    seen: list[str] = []

    @server.before_request
    def hook() -> None:
        seen.append("hook")

    @server.route("/plain")
    def plain() -> str:
        return "plain"

    client = server.test_client()
    for _ in range(3):
        assert client.get("/plain").text == "plain"
    assert seen == ["hook"] * 3
    assert server._sync[hook] is hook and server._sync[plain] is plain
    many = [lambda: None for _ in range(5000)]  # distinct functions
    assert all(server.ensure_sync(f) is f for f in many)
    assert len(server._sync) == 4096

    class Unhashable:  # a callable that cannot be a dict key (it defines __eq__ only)
        def __eq__(self, other: object) -> bool:
            return self is other

        def __call__(self) -> None:
            return None

    unhashable = Unhashable()
    assert server.ensure_sync(unhashable) is unhashable
