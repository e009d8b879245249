"""Browser fixtures: the app as a real server process, and headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BLOG, SHOP
from tests.servers import start_app, stop_app

CHROMIUM = os.environ.get("GADASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def share_server() -> Iterator[str]:
    """The share-count stand-ins (Hacker News, Reddit, Facebook shapes) on loopback."""
    from gadash.standin.http import BackgroundServer
    from gadash.standin.shares import create_share_app

    with BackgroundServer(create_share_app()) as server:
        yield server.url


@pytest.fixture(scope="module")
def live_app(standin, share_server, tmp_path_factory) -> Iterator[str]:
    """The app on a free loopback port, reading GA and share counts from stand-ins."""
    env = {"GADASH_GA_ENDPOINT": standin.endpoint,
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_GA_TIMEOUT": "3",
           "GADASH_SITE_URLS": "Blog=https://blog.example.com",
           "GADASH_HACKERNEWS_URL": f"{share_server}/hn/api/v1/search",
           "GADASH_REDDIT_URL": f"{share_server}/reddit/api/info.json",
           "GADASH_FACEBOOK_URL": f"{share_server}/facebook/v19.0/",
           "GADASH_FACEBOOK_TOKEN": "test-token",
           "GADASH_SHARE_RATE_LIMITS": "hackernews=100,reddit=100,facebook=100"}
    env.pop("REDIS_URL", None)
    proc, url = start_app(env, tmp_path_factory.mktemp("app") / "app.log")
    try:
        yield url
    finally:
        stop_app(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it "
                    "(apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    # Every browser test also checks the Content-Security-Policy: any violation on any
    # page it opened fails it.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline')));")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.text.startswith("CSP violation")
          else None)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors or CSP violations: {errors}"
