"""A TV link in Chromium on the open demo (no sign-in): it shows its own property
whatever its URL says, and a revoked link's screen says so and then why it stopped."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.test_signin import HTML

pytestmark = pytest.mark.browser


def test_open_demo_tv_link_is_pinned_and_stops_when_revoked(page, live_app):
    owner = requests.Session()
    token = owner.get(f"{live_app}/whoami").json()["csrf"]
    made = owner.post(f"{live_app}/tv-links", data={
        "csrf": token, "label": "Shop wall", "query": "property=Shop&screens=overview&refresh=1",
        "days": "1"}, headers=HTML)
    assert made.status_code == 200, made.text[:300]
    start = made.text.index("<code id='tv-link'>") + len("<code id='tv-link'>")
    link = made.text[start:made.text.index("</code>", start)].replace("&amp;", "&")

    page.goto(link + "&property=Blog")  # an edited URL
    page.wait_for_function(
        "() => /\\d/.test(document.getElementById('tv-kpi-sessions')?.innerText ?? '')")
    assert page.inner_text("#tv-title") == "Shop"
    listing = owner.get(f"{live_app}/tv-links").text
    link_id = listing.split("<td>Shop wall</td>", 1)[1].split(
        "name='revoke' value='", 1)[1].split("'", 1)[0]
    owner.post(f"{live_app}/tv-links", data={"csrf": token, "revoke": link_id})
    page.wait_for_selector("#signed-out", timeout=15_000)
    assert "this TV link was revoked" in page.inner_text("#signed-out")
    page.wait_for_selector("text=This TV link does not work", timeout=15_000)
