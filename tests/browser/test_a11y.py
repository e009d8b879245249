"""Accessibility in Chromium: axe-core on the analyst view and every TV screen, and
the analyst view used with the keyboard alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: F401 -- same browser set-up

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Dash 4.4's own components, reported upstream: the date picker's wrapper carries
# aria-expanded (and "undefined" ids), the dropdown keeps a focusable input with
# aria-hidden. Nothing gadash renders; Tab never lands on those inputs.
UPSTREAM = {"aria-allowed-attr": "dash-datepicker-input-wrapper",
            "aria-hidden-focus": "dash-dropdown-focus-target"}


def serious(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for v in result["violations"]:
        if v["impact"] not in ("serious", "critical"):
            continue
        nodes = [n for n in v["nodes"]
                 if UPSTREAM.get(v["id"], "\0") not in n["html"]]
        if nodes:
            found.append(f"{v['id']} ({v['impact']}): {[n['target'] for n in nodes[:3]]}")
    return found


@pytest.fixture()
def axe_page(browser):
    # axe is injected as a script: the page's CSP is bypassed for the audit only.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def test_analyst_view_has_no_serious_violation(axe_page, live_app):
    axe_page.goto(live_app + "/?range=last28")
    axe_page.wait_for_function(
        "() => /\\d/.test(document.getElementById('an-kpi-sessions')?.innerText ?? '')")
    axe_page.wait_for_selector("#an-sources .ag-row", state="attached", timeout=20_000)
    # Audit the settled page: share counts merged into the top pages, no grid still
    # drawing (AG Grid's half-drawn header has no rows for a moment).
    for grid in ("#an-channels", "#an-sources", "#an-landing", "#an-pages"):
        axe_page.locator(grid).scroll_into_view_if_needed()  # AG Grid draws what is seen
        axe_page.wait_for_timeout(300)
    axe_page.wait_for_function("() => !document.querySelector('.ag-delay-render')",
                               timeout=20_000)
    axe_page.wait_for_timeout(500)
    assert axe_page.evaluate("() => document.documentElement.lang") == "en"
    assert axe_page.locator("main").count() == 1 and axe_page.locator("h1").count() == 1
    assert serious(axe_page) == []


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
@pytest.mark.parametrize("screen", ["overview", "realtime", "pages", "sources"])
def test_every_tv_screen_has_no_serious_violation(axe_page, live_app, screen, size):
    axe_page.set_viewport_size({"width": size[0], "height": size[1]})
    axe_page.goto(live_app + f"/tv?screens={screen}&refresh=5&realtime=5")
    axe_page.wait_for_function(
        "() => document.querySelector('.tv-screen.active .tv-updated')?.innerText")
    assert serious(axe_page) == []


def test_the_keyboard_reaches_every_control_without_walking_grids(page, live_app):
    page.goto(live_app + "/?range=last7&compare=none")
    page.wait_for_selector("#an-sources .ag-row", state="attached", timeout=20_000)
    seen: list[str] = []
    for _ in range(120):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("() => { const e = document.activeElement; "
                                  "return (e.id || '') + '|' + e.className; }"))
        if seen[-1].startswith("|") and "ag-" not in seen[-1] and len(seen) > 60:
            break
    ids = {s.split("|")[0] for s in seen}
    for control in ("an-range", "an-dates", "an-compare", "an-grain", "an-page-input",
                    "an-page-apply", "an-save-name", "an-save", "an-quick-filter-pages",
                    "an-export-pages"):
        assert control in ids, (control, seen)
    cells = [s for s in seen if "ag-cell" in s]
    assert len(cells) <= 8, cells  # one stop per grid, not one per cell
