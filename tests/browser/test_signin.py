"""Sign-in and a TV link in Chromium, against the local OIDC provider."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from tests.e2e.test_signin import ANN, _create_tv_link, app_url  # noqa: F401 -- fixtures

pytestmark = pytest.mark.browser


def test_sign_in_in_the_browser_shows_the_user(page, app_url, oidc):  # noqa: F811
    requests.put(f"{oidc}/users/{quote(ANN['email'], safe='')}", json=ANN)
    page.goto(app_url + "/?range=last7")
    page.wait_for_url("**/login?next=**")
    page.get_by_role("link", name="Sign in with Google").click()
    page.get_by_placeholder("sub").fill(ANN["email"])
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("**/?range=last7**")
    page.wait_for_selector("#an-kpi-sessions")
    assert "ann@example.com" in page.inner_text(".user-badge")
    # Signing out leaves the page: let its callbacks finish first (a fetch cut short by
    # leaving is reported by the renderer as an error).
    page.wait_for_load_state("networkidle")
    # Signing out is a POST with the CSRF token, from the header's button.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login?out=1")
    assert "You have signed out" in page.inner_text("body")


def test_revoked_tv_link_says_signed_out(page, app_url, oidc):  # noqa: F811
    link, owner = _create_tv_link(app_url, oidc, "screens=overview&refresh=1")
    page.goto(link)  # the page is served at the link: the key stays in the TV's URL
    page.wait_for_function(
        "() => /\\d/.test(document.getElementById('tv-kpi-sessions')?.innerText ?? '')")
    sessions = page.inner_text("#tv-kpi-sessions")
    token = owner.get(f"{app_url}/whoami").json()["csrf"]
    listing = owner.get(f"{app_url}/tv-links").text
    link_id = listing.split("name='revoke' value='")[-1].split("'")[0]
    owner.post(f"{app_url}/tv-links", data={"csrf": token, "revoke": link_id})
    page.wait_for_selector("#signed-out", timeout=15_000)
    assert "revoked" in page.inner_text("#signed-out")
    assert page.inner_text("#tv-kpi-sessions") == sessions  # still there, not blank
    # It then reopens its link, which now says why it does not work.
    page.wait_for_selector("text=This TV link does not work", timeout=15_000)


def test_lapsed_session_offers_to_sign_in_again(page, app_url, oidc):  # noqa: F811
    requests.put(f"{oidc}/users/{quote(ANN['email'], safe='')}", json=ANN)
    page.goto(app_url + "/login/start?next=/%3Frange%3Dlast7")
    page.get_by_placeholder("sub").fill(ANN["email"])
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_selector("#an-kpi-sessions")
    page.wait_for_function(
        "() => /\\d/.test(document.getElementById('an-kpi-sessions')?.innerText ?? '')")
    sessions = page.inner_text("#an-kpi-sessions")
    csrf = next(c for c in page.context.cookies() if c["name"] == "_csrf_token")
    page.context.clear_cookies()  # the session lapses ...
    page.context.add_cookies([csrf])  # ... though the page still holds its CSRF token
    page.click("#an-range")
    page.get_by_role("option", name="Last 28 days", exact=True).click()
    page.wait_for_selector("#signed-out")
    assert "Your session has ended" in page.inner_text("#signed-out")
    link = page.locator("#signed-out a")
    assert link.get_attribute("href").startswith("/login?next=")
    assert page.inner_text("#an-kpi-sessions") == sessions  # nothing went blank
