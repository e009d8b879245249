"""/digests in headless Chromium: made with the keyboard alone, no serious axe-core
violation on the list or a digest's page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gadash.store import Store
from gadash.store.team import save_view
from tests.browser.test_a11y import serious
from tests.conftest import BLOG
from tests.servers import start_app, stop_app


@pytest.fixture(scope="module")
def digests_app(standin, tmp_path_factory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("digests")
    url = f"sqlite:///{folder / 'team.db'}"
    db = Store(url)
    db.migrate()
    save_view(db, "ann@example.com", "Blog this week",
              "?property=Blog&range=last7&compare=previous", "Blog")
    db.dispose()
    proc, app_url = start_app({"GADASH_GA_ENDPOINT": standin.endpoint,
                               "GADASH_PROPERTIES": f"Blog={BLOG}", "GADASH_DATABASE_URL": url,
                               "GADASH_DATA_DIR": str(folder), "GADASH_SHARE_PROVIDERS": ""},
                              folder / "app.log")
    try:
        yield app_url
    finally:
        stop_app(proc)


def tab_to(page, selector: str, most: int = 20) -> None:
    """Tab until ``selector`` has the focus (a time input takes a Tab per field)."""
    for _ in range(most):
        if page.evaluate("s => document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached with {most} Tabs")


@pytest.fixture()
def audit_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_a_digest_made_with_the_keyboard_alone(audit_page, digests_app):
    page = audit_page
    page.goto(digests_app + "/digests")
    assert "Mail is off on this gadash" in page.inner_text("main")
    assert serious(page) == []
    page.focus("#d-name")
    page.keyboard.type("Monday numbers")
    tab_to(page, "#d-emails")  # past what it sends, how often, the day and the time
    page.keyboard.type("team@example.com, not an address")
    page.keyboard.press("Tab")
    page.keyboard.type("https://hooks.example.com/services/T/B/x")
    tab_to(page, "button.btn")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Not an email address: 'not'" in page.inner_text("[role=alert]")
    assert page.input_value("#d-name") == "Monday numbers"  # nothing typed is lost
    assert page.input_value("#d-hooks") == "https://hooks.example.com/services/T/B/x"
    page.focus("#d-emails")
    page.keyboard.press("Control+A")
    page.keyboard.type("team@example.com")
    tab_to(page, "button.btn")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    row = page.locator("tr", has_text="Monday numbers")
    assert "Every Monday at 09:00" in row.inner_text() and "next" in row.inner_text()
    assert serious(page) == []
    page.click("text=Monday numbers")
    page.wait_for_load_state()
    assert "No runs yet." in page.inner_text("main")
    assert serious(page) == []
