"""Accessibility in Chromium: axe-core on the analyst view and every TV screen, and
the analyst view used with the keyboard alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from gadash.settings import SCREENS
from gadash.web.components.cards import FILTER_LABELS
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: F401 -- same browser set-up
from tests.browser.panels import reveal_all

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def serious(page: Any) -> list[str]:
    """Every serious or critical violation axe-core finds, Dash's own controls included
    (assets/dash-a11y.js patches the two faults Dash 4.4 ships with)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


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
    reveal_all(axe_page)  # every panel below the fold mounted: all of them audited
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
    # ... and with a filter picker open, its values loaded.
    axe_page.locator("details[data-filter=source] > summary").click()
    axe_page.wait_for_selector("details[data-filter=source] .picker-note:has-text('Values')")
    assert serious(axe_page) == []
    # ... and with the date range's calendar open (a dialog named after its label).
    axe_page.keyboard.press("Escape")
    axe_page.click("#an-dates")
    axe_page.wait_for_selector(".dash-datepicker-content[role=dialog][aria-label]")
    assert serious(axe_page) == []


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_tv_screen_has_no_serious_violation(axe_page, live_app, screen, size):
    axe_page.set_viewport_size({"width": size[0], "height": size[1]})
    axe_page.goto(live_app + f"/tv?screens={screen}&refresh=5&realtime=5")
    axe_page.wait_for_function(
        "() => document.querySelector('.tv-screen.active .tv-updated')?.innerText")
    assert serious(axe_page) == []


def _first_tab_mounts_no_panel_far_below(page: Any) -> None:
    """Keyboard users get the panels ahead of their focus, not every panel at their
    first Tab."""
    page.wait_for_function(
        "() => /\\d/.test(document.getElementById('an-kpi-sessions')?.innerText ?? '')")
    assert page.locator("#an-sources").count() == 0  # not mounted: nobody scrolled
    page.keyboard.press("Tab")
    page.wait_for_timeout(1000)
    assert page.locator("#an-pages, #an-countries").count() == 0
    assert page.evaluate("() => window.scrollY") == 0


def test_the_keyboard_reaches_every_control_without_walking_grids(page, live_app):
    page.goto(live_app + "/?range=last7&compare=none")
    _first_tab_mounts_no_panel_far_below(page)
    seen: list[str] = []
    grids: set[str] = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        page.wait_for_timeout(60)  # a person's pace, about the quickest
        seen.append(page.evaluate("() => { const e = document.activeElement; "
                                  "return (e.id || '') + '|' + e.className; }"))
        grids.add(page.evaluate("() => document.activeElement"
                                ".closest('.ag-theme-quartz[id]')?.id || ''"))
        # Back at the first control (after the page links): a full round.
        if seen[-1].startswith("an-property|") and len(seen) > 1 \
                and any(x.startswith("an-property|") for x in seen[:-1]):
            break
    ids = {s.split("|")[0] for s in seen}
    assert sum("pagenav-link" in s for s in seen) >= 3  # Analyst view, Explore, Big screen
    for control in ("an-range", "an-dates", "an-compare", "an-grain", "an-save-name",
                    "an-save", "an-quick-filter-pages", "an-export-pages"):
        assert control in ids, (control, seen)
    pickers = [s for s in seen if "picker-open" in s]
    assert len(pickers) == len(FILTER_LABELS), "\n".join(seen)  # one stop per picker
    cells = [s for s in seen if "ag-cell" in s]
    assert len(cells) <= 8, cells  # one stop per grid, not one per cell
    # Each table was mounted ahead of the focus: none was tabbed past.
    assert {"an-channels", "an-sources", "an-landing", "an-pages"} <= grids, grids


def _active(page: Any, js: str) -> Any:
    return page.evaluate(f"() => {{ const e = document.activeElement; return {js}; }}")


def _tab_to(page: Any, js: str, limit: int = 90) -> None:
    """Press Tab until the focused element satisfies ``js`` (about ``e``), at about
    a quick person's pace (the panels ahead of the focus mount meanwhile)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        page.wait_for_timeout(50)
        if _active(page, f"!!({js})"):
            return
    raise AssertionError(f"Tab never reached {js}")


def _menu_closed(page: Any) -> None:
    """Wait until a dropdown's menu has closed and given focus back to its button."""
    page.wait_for_function("() => document.activeElement.matches('button.dash-dropdown')")


def _choose(page: Any, label: str) -> None:
    """In an open dropdown menu: arrow down to the option named ``label``, take it.
    The menu moves focus as it renders, so each key waits a moment for it."""
    for _ in range(40):
        page.wait_for_timeout(120)  # the menu moves focus as it renders
        if _active(page, "e.closest('[role=option]')?.textContent.trim()") == label:
            page.keyboard.press("Enter")
            _menu_closed(page)
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {label!r}: {_active(page, 'e.outerHTML.slice(0, 300)')}")


def _first_value(page: Any) -> str:
    """In an open multi-select menu: take the first of GA's values; its value. The
    menu re-renders as the values arrive, so each key waits a moment for it."""
    for _ in range(20):
        text = _active(page, "e.closest('[role=option]')?.textContent")
        if text:
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            _menu_closed(page)
            return str(text).split("·")[0].strip()
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(150)
    raise AssertionError(f"no values offered: {_active(page, 'e.outerHTML.slice(0, 300)')}")


def test_keyboard_alone_sets_every_filter_compares_and_exports_csv(page, live_app, tmp_path):
    import pandas as pd

    page.goto(live_app + "/?range=last28&compare=none")
    page.wait_for_function(
        "() => /\\d/.test(document.getElementById('an-kpi-sessions')?.innerText ?? '')")

    def open_picker(name: str, condition: str) -> None:
        _tab_to(page, f"e.matches('details[data-filter={name}] > summary')")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"details[data-filter={name}] .picker-note:has-text('Values')")
        page.keyboard.press("Tab")  # the condition
        page.keyboard.press("Enter")
        _choose(page, condition)

    def apply(name: str, expected: str) -> None:
        _tab_to(page, f"e.closest('details[data-filter={name}]') && e.innerText === 'Apply'")
        page.keyboard.press("Enter")
        try:
            page.wait_for_function(f"() => location.search.includes({expected!r})",
                                   timeout=15_000)
        except Exception:
            state = page.evaluate("() => [location.search, document.getElementById('an-notes')"
                                  ".innerText, document.activeElement.outerHTML.slice(0, 200)]")
            raise AssertionError(f"{expected} not applied: {state}") from None
        # The picker closes and gives focus back to its button.
        assert _active(page, f"e.matches('details[data-filter={name}] > summary')")

    picked = {}
    for name, condition, param in (("source", "is", "source="),
                                   ("medium", "is", "medium="),
                                   ("channel", "is", "channel="),
                                   ("country", "is", "country="),
                                   ("device", "is not", "device.not=")):
        open_picker(name, condition)
        page.keyboard.press("Tab")  # the values: open, take GA's first, close
        page.keyboard.press("ArrowDown")
        picked[name] = _first_value(page)
        apply(name, param)
    open_picker("page", "matches regex")
    page.keyboard.press("Tab")  # the text box (the values list is hidden for regex)
    page.keyboard.type("^/")
    page.keyboard.press("Tab")
    assert _active(page, "e.innerText") == "Match case"  # a toggle button
    page.keyboard.press("Space")
    page.wait_for_selector("details[data-filter=page] .picker-case[aria-pressed=true]")
    apply("page", "page.regex.case=%5E%2F")
    chips = page.inner_text("#an-chips")
    assert f"Source is {picked['source']}" in chips and "Page matches ^/ (match case)" in chips
    assert f"Device is not {picked['device']}" in chips

    # Compare with the previous period.
    _tab_to(page, "e.closest('#an-compare') || e.id === 'an-compare'")
    page.keyboard.press("Enter")
    _choose(page, "Previous period")
    page.wait_for_function("() => location.search.includes('compare=previous')")

    # Export the top pages (mounted as the focus comes near them), with the changes.
    _tab_to(page, "e.id === 'an-export-pages'", limit=150)
    page.wait_for_selector("#an-pages .ag-header-cell[col-id='viewsChange']", state="attached",
                           timeout=20_000)
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    target = tmp_path / "pages.csv"
    info.value.save_as(target)
    name = info.value.suggested_filename
    assert "_vs_" in name and "source-" in name and "page.regex.case-" in name, name
    frame = pd.read_csv(target, encoding="utf-8-sig")
    for column in ("Views", "Users", "Entrances"):
        assert pd.api.types.is_integer_dtype(frame[column]), column
    for column in ("Bounce rate", "Views change", "Avg. engagement / view"):
        assert pd.api.types.is_numeric_dtype(frame[column]), column
    assert frame["Page"].str.startswith("/").all()


def test_enter_on_a_table_value_filters_like_a_click(page, live_app):
    page.goto(live_app + "/?range=last28&compare=none")
    _first_tab_mounts_no_panel_far_below(page)
    _tab_to(page, "e.closest('#an-sources .ag-header-cell')", limit=150)
    # The grid's one Tab stop is its header; arrow down to the top source, a filter link.
    page.keyboard.press("ArrowDown")
    assert _active(page, "e.getAttribute('col-id')") == "sessionSource"
    value = _active(page, "e.innerText")
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.search.includes('source=')")
    assert f"Source is {value}" in page.inner_text("#an-chips")
    # ... and Space on a medium cell adds that filter too.
    _tab_to(page, "e.closest('#an-sources .ag-header-cell')", limit=150)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert _active(page, "e.getAttribute('col-id')") == "sessionMedium"
    page.keyboard.press("Space")
    page.wait_for_function("() => location.search.includes('medium=')")


def _answered(page: Any, output: str) -> Any:
    """Wait for the response of the callback drawing ``output`` (e.g. "an-chips.children")."""
    return page.expect_response(lambda r: "_dash-update-component" in r.url
                                and output in (r.request.post_data or ""), timeout=30_000)


def _focus_settles_on(page: Any, js: str) -> None:
    """Focus is on the element ``js`` (about ``e``) describes, and still is a moment
    later: not dropped to <body> by the redraw."""
    where = "e.outerHTML.slice(0, 200)"
    try:
        page.wait_for_function(f"() => {{ const e = document.activeElement; return !!({js}); }}",
                               timeout=10_000)
    except Exception:
        raise AssertionError(f"focus is on {_active(page, where)}, not {js}") from None
    page.wait_for_timeout(800)
    assert _active(page, f"!!({js})"), f"focus moved on to {_active(page, where)}"


def test_a_what_changed_filter_keeps_focus_in_what_changed(page, live_app):
    page.goto(live_app + "/?property=Blog&range=last28&compare=previous")
    button = page.locator("#an-changes .change button").first
    button.wait_for(timeout=30_000)
    button.focus()
    with _answered(page, "an-changes.children"):  # What changed, for the filtered view
        page.keyboard.press("Enter")
    assert page.locator("#an-chips .chip").count() >= 1
    # The same button if it is still offered, else the one in its place.
    _focus_settles_on(page, "e.matches('#an-changes button')")


def test_removing_a_chip_moves_focus_to_the_next_then_to_the_picker(page, live_app):
    page.goto(live_app + "/?range=last28&compare=none&source=google&medium=organic")
    page.wait_for_selector("#an-chips .chip >> nth=1")
    page.locator("#an-chips .chip").first.focus()
    with _answered(page, "an-chips.children"):
        page.keyboard.press("Enter")
    page.wait_for_function("() => !location.search.includes('source=')")
    _focus_settles_on(page, "e.matches('#an-chips .chip') && e.innerText.startsWith('Medium')")
    with _answered(page, "an-chips.children"):
        page.keyboard.press("Enter")  # the last chip: focus goes to its filter's picker
    page.wait_for_function("() => !location.search.includes('medium=')")
    _focus_settles_on(page, "e.matches('details[data-filter=medium] > summary')")


def test_a_table_cross_filter_keeps_focus_on_the_cell(page, live_app):
    page.goto(live_app + "/?range=last28&compare=none")
    _first_tab_mounts_no_panel_far_below(page)
    _tab_to(page, "e.closest('#an-sources .ag-header-cell')", limit=150)
    page.keyboard.press("ArrowDown")
    value = _active(page, "e.innerText")
    with _answered(page, "an-sources.rowData"):  # the table, redrawn for the filter
        page.keyboard.press("Enter")
    page.wait_for_function("() => location.search.includes('source=')")
    _focus_settles_on(page, "e.matches('#an-sources .ag-cell[col-id=sessionSource]') && "
                            f"e.innerText === {value!r}")
    # ... and the keyboard goes on from there: the next column of the same row.
    page.keyboard.press("ArrowRight")
    assert _active(page, "e.getAttribute('col-id')") == "sessionMedium"


def test_the_keyboard_filters_by_a_countries_bar_and_a_device_slice(page, live_app):
    page.goto(live_app + "/?range=last28&compare=none")
    _first_tab_mounts_no_panel_far_below(page)
    countries = "e.closest('.chart-keys-list[data-graph=an-countries]')"
    _tab_to(page, countries, limit=150)
    # Hidden until focused, then on screen: a labelled strip of buttons, largest first.
    strip = page.locator(".chart-keys:has([data-graph=an-countries])")
    box = strip.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 20
    assert strip.get_attribute("aria-labelledby")
    assert page.inner_text(f"#{strip.get_attribute('aria-labelledby')}") \
        == "Filter the view by country:"
    page.keyboard.press("Tab")  # the second country
    country = _active(page, "e.dataset.value")
    assert _active(page, "e.innerText").startswith(f"{country}: ")
    page.screenshot(path=str(Path(os.environ.get("GADASH_SHOTS", "/tmp")) / "chart-keys.png"))
    page.keyboard.press("Enter")
    page.wait_for_function("c => new URLSearchParams(location.search).get('country') === c",
                           arg=country)
    assert f"Country is {country}" in page.inner_text("#an-chips")
    # The chart redraws with that country alone; focus stays on its button.
    _focus_settles_on(page, f"{countries} && e.dataset.value === {country!r}")
    # The devices donut too.
    _tab_to(page, "e.closest('.chart-keys-list[data-graph=an-devices]')", limit=150)
    device = _active(page, "e.dataset.value")
    page.keyboard.press("Enter")
    page.wait_for_function("d => new URLSearchParams(location.search).get('device') === d",
                           arg=device)
    assert f"Device is {device}" in page.inner_text("#an-chips")
