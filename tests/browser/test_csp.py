"""The pages under their Content-Security-Policy in headless Chromium: no violation.

Every ``securitypolicyviolation`` event and console error is collected from
before the first script runs; the pages fill (KPIs, charts, grids with their
``{"function": ...}`` formatters, the inline clientside callback merging share
counts, the TV's clientside rotation) and are used a little.
"""

from __future__ import annotations

import pytest

from tests.browser.panels import reveal_all

pytestmark = pytest.mark.browser

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    [e.violatedDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber, e.sample].join(' ')));
"""
TV = "/tv?screens=overview,realtime,pages,sources&rotate=5&refresh=2&realtime=2"


@pytest.fixture()
def watched(page):
    """The page with CSP violations (``window.__csp``) and console errors recorded."""
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.add_init_script(WATCH)
    yield page, console


def assert_clean(page, console: list[str]) -> None:
    violations = page.evaluate("() => window.__csp")
    assert violations == [], violations
    assert console == [], console


def wait_digits(page, selector: str) -> None:
    page.wait_for_function("s => /\\d/.test(document.querySelector(s)?.innerText ?? '')",
                           arg=selector, timeout=20_000)


def test_analyst_view_runs_under_the_policy(watched, live_app):
    page, console = watched
    page.goto(live_app + "/")
    wait_digits(page, "#an-kpi-sessions")
    page.wait_for_selector("#an-trend .scatterlayer .trace", timeout=20_000)
    reveal_all(page)  # the panels below the fold mount when seen
    page.wait_for_selector("#an-sources .ag-row", timeout=20_000)
    # valueFormatter given as {"function": ...}: formatted by dash-ag-grid without eval
    page.wait_for_function("() => /^[\\d,]+$/.test(document.querySelector("
                           "\"#an-sources .ag-row[row-index='0'] .ag-cell[col-id='sessions']\")"
                           "?.innerText ?? '')")
    # cellClassRules as functions too
    assert page.locator("#an-sources .ag-cell.cell-link").count() >= 1
    # the inline clientside callback merges share counts into the pages grid
    page.locator("#an-pages").scroll_into_view_if_needed()
    page.wait_for_selector("#an-pages .ag-header-cell[col-id='share_reddit']", timeout=20_000)

    # sort a grid column
    page.locator("#an-sources").scroll_into_view_if_needed()
    page.click("#an-sources .ag-header-cell[col-id='sessions'] .ag-header-cell-label")
    page.wait_for_selector("#an-sources .ag-header-cell[col-id='sessions'][aria-sort]")
    # hover the trend: Plotly draws its hover label
    trend = page.locator("#an-trend .nsewdrag").first
    trend.scroll_into_view_if_needed()
    box = trend.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('#an-trend .hoverlayer')"
                           "?.childElementCount > 0", timeout=5_000)
    # open a dropdown and choose another property
    page.keyboard.press("Escape")
    page.click("#an-property")
    page.get_by_role("option", name="Shop", exact=True).click()
    page.wait_for_function("() => location.search.includes('property=Shop')")
    wait_digits(page, "#an-kpi-sessions")
    page.wait_for_timeout(500)
    assert_clean(page, console)


def test_no_share_to_cloud_button_on_charts(watched, live_app):
    page, console = watched
    page.goto(live_app + "/")
    page.wait_for_selector("#an-trend .scatterlayer .trace", timeout=20_000)
    page.hover("#an-trend")
    titles = page.eval_on_selector_all(
        ".modebar-btn", "els => els.map(e => e.getAttribute('data-title') || '')")
    assert titles, "the analyst charts keep their toolbar"
    assert not [t for t in titles if "cloud" in t.lower() or "share" in t.lower()
                or "chart studio" in t.lower()], titles
    assert_clean(page, console)


def test_today_view_runs_under_the_policy(watched, live_app):
    page, console = watched
    page.goto(live_app + "/?range=today")
    wait_digits(page, "#an-kpi-sessions")
    # Drawn, if not yet visible: just after midnight today's line is one point.
    page.wait_for_selector("#an-trend .scatterlayer .trace", timeout=20_000, state="attached")
    reveal_all(page)
    page.wait_for_selector("#an-pages .ag-row", timeout=20_000, state="attached")
    page.wait_for_timeout(500)
    assert_clean(page, console)


def test_tv_with_realtime_runs_under_the_policy(watched, live_app):
    page, console = watched
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_app + TV)
    wait_digits(page, "#tv-kpi-sessions")
    wait_digits(page, "#tv-active-users")
    page.wait_for_selector("#tv-spark .bars path", timeout=20_000, state="attached")
    # the clientside rotation (assets/tv.js) moves to the realtime screen
    page.wait_for_function("() => document.querySelector('.tv-screen.active').id === "
                           "'tv-screen-realtime'", timeout=12_000)
    page.wait_for_function("() => /\\d/.test(document.getElementById('tv-clock').innerText)")
    assert_clean(page, console)
