"""Security at the edges: headers, favicon, robots.txt, 404 for non-pages, static
responses without cookies.

The app runs as a real server process (``python app.py``): Dash keeps callbacks
and inline scripts process-wide, so a second app in the test process would take
them from the pages' own tests. HTTPS is what a proxy in front says it is
(GADASH_PROXY_HOPS=1 and ``X-Forwarded-Proto: https``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
import requests

from gadash.web.middleware.security import HSTS, content_security_policy
from tests.conftest import BLOG, SHOP
from tests.servers import start_app, stop_app

SIGNAGE = "https://signage.example.com 'self'"


def _env(standin, tmp_path, **extra: str) -> dict[str, str]:
    env = {"GADASH_GA_ENDPOINT": standin.endpoint, "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}",
           "GADASH_DATA_DIR": str(tmp_path), "GADASH_PROXY_HOPS": "1", **extra}
    return env


@pytest.fixture(scope="module")
def app_url(standin, tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("security")
    proc, url = start_app(_env(standin, tmp / "data"), tmp / "app.log")
    try:
        yield url
    finally:
        stop_app(proc)


@pytest.fixture(scope="module")
def framed_url(standin, tmp_path_factory) -> Iterator[str]:
    """The app with GADASH_FRAME_ANCESTORS naming a signage system."""
    tmp = tmp_path_factory.mktemp("framed")
    proc, url = start_app(_env(standin, tmp / "data", GADASH_FRAME_ANCESTORS=SIGNAGE),
                          tmp / "app.log")
    try:
        yield url
    finally:
        stop_app(proc)


def directives(response: requests.Response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def inline_scripts(html: str) -> list[str]:
    """The inline scripts a browser would run (not JSON data blocks)."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # Dash's IE-only note is a comment
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    return [body for attrs, body in scripts
            if "src=" not in attrs and "application/json" not in attrs]


@pytest.mark.parametrize("path", ["/", "/tv", "/?range=today", "/tv?screens=realtime"])
def test_pages_carry_the_security_headers(app_url, path):
    r = requests.get(app_url + path, timeout=10)
    assert r.status_code == 200
    csp = directives(r)
    assert csp["default-src"] == ["'self'"]
    script_src = csp["script-src"]
    assert script_src[0] == "'self'"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP


def test_every_inline_script_of_the_page_is_hashed(app_url):
    r = requests.get(app_url + "/", timeout=10)
    scripts = inline_scripts(r.text)
    assert scripts, "Dash renders its renderer bootstrap inline"
    allowed = set(directives(r)["script-src"])
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, body[:200]


@pytest.mark.parametrize("path", ["/login", "/status", "/healthz", "/tv-links", "/views"])
def test_other_responses_carry_the_headers_too(app_url, path):
    r = requests.get(app_url + path, timeout=10, allow_redirects=False)
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], r.status_code
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_json_answers_carry_the_short_policy_of_an_api(app_url):
    """A callback's answer is no document: nothing to load, never framed; the page's
    script hashes (1.5 KB) are not repeated on every poll of every screen."""
    r = requests.get(app_url + "/_dash-layout", timeout=10)
    assert r.headers["Content-Type"].startswith("application/json")
    assert directives(r) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    page = requests.get(app_url + "/", timeout=10)
    assert len(r.headers["Content-Security-Policy"]) < 60 < len(
        page.headers["Content-Security-Policy"])


def test_hsts_only_over_https(app_url):
    r = requests.get(app_url + "/tv", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in requests.get(app_url + "/tv", timeout=10).headers


def test_frame_ancestors_from_the_setting(framed_url):
    r = requests.get(framed_url + "/tv", timeout=10)
    assert directives(r)["frame-ancestors"] == SIGNAGE.split()
    # X-Frame-Options cannot name a list; the CSP directive rules.
    assert "X-Frame-Options" not in r.headers
    answer = requests.get(framed_url + "/_dash-layout", timeout=10)
    assert directives(answer)["frame-ancestors"] == SIGNAGE.split()


def test_policy_builder():
    policy = content_security_policy(["'sha256-abc'"], "  https://a.example   https://b.example ")
    assert "script-src 'self' 'sha256-abc';" in policy
    assert policy.endswith("frame-ancestors https://a.example https://b.example")
    assert "frame-ancestors 'none'" in content_security_policy([], "")


def test_favicon_is_an_icon(app_url):
    r = requests.get(app_url + "/favicon.ico", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("image/")
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert r.content == requests.get(app_url + "/assets/favicon.ico", timeout=10).content


def test_robots_txt_disallows_everything(app_url):
    r = requests.get(app_url + "/robots.txt", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == "User-agent: *\nDisallow: /\n"


@pytest.mark.parametrize("path", ["/nope", "/tv/extra", "/wp-admin/setup.php", "/.env",
                                  "/_dash-config", "/status/x"])
def test_unknown_paths_are_404_without_the_shell(app_url, path):
    r = requests.get(app_url + path, headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 404
    assert "_dash-config" not in r.text and "_dash-renderer" not in r.text
    assert len(r.content) < 1000


@pytest.mark.parametrize("path", ["/tv/", "/tv?key=", "/?range=today"])
def test_page_paths_still_route(app_url, path):
    r = requests.get(app_url + path, timeout=10, allow_redirects=False)
    assert r.status_code in (200, 403), r.status_code  # 403: an empty TV key is refused
    if r.status_code == 200:
        assert "_dash-config" in r.text


def _static_paths(app_url: str, session: requests.Session) -> list[str]:
    page = session.get(app_url + "/", timeout=10).text
    suites = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert suites
    return [suites[0], "/assets/gadash.css", "/assets/favicon.ico", "/_favicon.ico",
            "/favicon.ico", "/robots.txt"]


@pytest.mark.parametrize("with_cookies", [False, True])
def test_static_responses_set_no_cookie(app_url, with_cookies):
    session = requests.Session()
    paths = _static_paths(app_url, session)
    assert session.cookies, "the page itself sets the session and CSRF cookies"
    if not with_cookies:
        session.cookies.clear()
    for path in paths:
        r = session.get(app_url + path, timeout=10)
        assert r.status_code == 200, path
        assert "Set-Cookie" not in r.headers, path
        assert "cookie" not in r.headers.get("Vary", "").lower(), path


def test_a_response_keeps_headers_of_its_own(tmp_path):
    """In-process, on a stand-in for the Dash app (what init_security reads of it)."""
    from types import SimpleNamespace

    from flask import Flask, Response

    from gadash.settings import Settings
    from gadash.web.middleware.security import init_security

    server = Flask("own")
    dash_app = SimpleNamespace(config=SimpleNamespace(routes_pathname_prefix="/",
                                                      assets_folder=str(tmp_path)),
                               csp_hashes=lambda: ["'sha256-abc='"])
    init_security(server, dash_app, Settings(_env_file=None))  # type: ignore[arg-type]
    server.add_url_rule("/own", "own", lambda: Response("x", headers={
        "content-security-policy": "default-src 'none'", "X-Frame-Options": "SAMEORIGIN"}))
    server.add_url_rule("/plain", "plain", lambda: "x")
    client = server.test_client()
    for _ in range(2):
        own = client.get("/own", base_url="https://dash.example")
        assert own.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
        assert own.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
        assert own.headers.getlist("X-Content-Type-Options") == ["nosniff"]
        assert own.headers.getlist("Strict-Transport-Security") == [HSTS]
        plain = client.get("/plain")
        assert "'sha256-abc='" in plain.headers["Content-Security-Policy"]
        assert plain.headers["X-Frame-Options"] == "DENY"
        assert plain.headers["Referrer-Policy"] == "same-origin"
        assert plain.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in plain.headers
