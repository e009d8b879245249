"""The analyst view in headless Chromium, against the app and the GA4 stand-in on loopback.

Numbers on the page are checked against the stand-in's own answer for the
same query, asked through Google's client.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from google.analytics.data_v1beta import types as ga

from gadash.core.catalog import KPI_METRICS
from gadash.core.transforms import KPI_LABELS, format_metric
from gadash.core.urls import ViewState
from gadash.standin.traffic import local_now
from tests.browser.panels import reveal

pytestmark = pytest.mark.browser


def kpi_totals(client, prop: str, start: date, end: date, metrics=KPI_METRICS,
               **filters: str) -> dict[str, str]:
    """The KPI tiles' texts, computed from the stand-in's answer."""
    fields = {"source": "sessionSource", "medium": "sessionMedium", "country": "country",
              "device": "deviceCategory"}
    request = ga.RunReportRequest(
        property=prop, metrics=[ga.Metric(name=m) for m in metrics],
        date_ranges=[ga.DateRange(start_date=start.isoformat(), end_date=end.isoformat())],
    )
    if filters:
        request.dimension_filter = ga.FilterExpression(and_group=ga.FilterExpressionList(
            expressions=[ga.FilterExpression(filter=ga.Filter(
                field_name=fields[k], string_filter=ga.Filter.StringFilter(value=v)))
                for k, v in filters.items()]))
    row = client.run_report(request).rows[0]
    return {m: format_metric(KPI_LABELS[m][1], float(v.value))
            for m, v in zip(metrics, row.metric_values, strict=True)}


def params(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def kpi(page, metric: str) -> str:
    return page.inner_text(f"#an-kpi-{metric}")


def wait_kpi(page, metric: str, text: str) -> None:
    page.wait_for_function(
        "([id, text]) => document.getElementById(id)?.innerText === text",
        arg=[f"an-kpi-{metric}", text], timeout=20_000,
    )


def show(page, selector: str) -> None:
    """Scroll a panel into view: panels below the fold mount when seen, and AG Grid
    draws rows and headers only where they can be seen."""
    reveal(page, selector.removeprefix("#an-"))
    page.locator(selector).scroll_into_view_if_needed()


def choose(page, dropdown: str, option: str) -> None:
    page.keyboard.press("Escape")  # close any open popup (the date picker's calendar)
    page.click(f"#{dropdown}")
    page.get_by_role("option", name=option, exact=True).click()


def test_default_view_shows_the_stand_ins_numbers(page, live_app, ga_client, past_days):
    page.goto(live_app + "/")
    page.wait_for_selector("#an-kpi-sessions")
    assert params(page) == {"property": "Blog", "range": "last28", "compare": "previous"}
    want = kpi_totals(ga_client, "properties/100000001", past_days(28), past_days(1))
    wait_kpi(page, "sessions", want["sessions"])
    for metric in KPI_METRICS:
        assert kpi(page, metric) == want[metric]
    # the blog's key events (newsletter sign-ups) earn two tiles; it has no revenue
    events = kpi_totals(ga_client, "properties/100000001", past_days(28), past_days(1),
                        metrics=("keyEvents", "sessionKeyEventRate"))
    assert kpi(page, "keyEvents") == events["keyEvents"]
    assert kpi(page, "sessionKeyEventRate") == events["sessionKeyEventRate"]
    assert page.locator("#an-kpi-totalRevenue").count() == 0
    assert page.locator("#an-kpis .kpi-delta").count() == 8
    show(page, "#an-sources")
    page.wait_for_selector("#an-sources .ag-row")
    assert page.locator("#an-footer-sources .fetched").inner_text().startswith("Fetched ")
    # the trend draws both periods
    legend = page.locator("#an-trend .legendtext").all_text_contents()
    assert "Sessions (comparison)" in legend


def test_preset_custom_range_and_comparison(page, live_app, ga_client, past_days, blog_today):
    page.goto(live_app + "/?compare=none")
    page.wait_for_selector("#an-kpi-sessions")
    choose(page, "an-range", "Last 7 days")
    page.wait_for_url("**range=last7**")
    wait_kpi(page, "sessions",
             kpi_totals(ga_client, "properties/100000001", past_days(7), past_days(1))["sessions"])
    assert page.locator("#an-kpis .kpi-delta").count() == 0  # no comparison, no deltas

    start, end = blog_today - timedelta(days=40), blog_today - timedelta(days=20)
    page.fill("#an-dates", start.isoformat())
    page.press("#an-dates", "Enter")
    page.fill("#an-dates-end-date", end.isoformat())
    page.press("#an-dates-end-date", "Enter")
    page.wait_for_url(f"**range={start.isoformat()}..{end.isoformat()}**")
    wait_kpi(page, "sessions",
             kpi_totals(ga_client, "properties/100000001", start, end)["sessions"])
    assert "Custom range" in page.inner_text("#an-range")

    choose(page, "an-compare", "Same period last year")
    page.wait_for_url("**compare=year**")
    page.wait_for_selector("#an-kpis .kpi-delta")
    legend = page.locator("#an-trend .legendtext").all_text_contents()
    assert "Users (comparison)" in legend
    label = page.inner_text("#an-range-label")
    assert f"{start.year - 1}" in label


def test_cross_filter_chip_reload_and_remove(page, live_app, ga_client, past_days):
    page.goto(live_app + "/?range=last28&compare=none")
    show(page, "#an-sources")
    page.wait_for_selector("#an-sources .ag-row")
    page.locator("#an-sources .ag-cell[col-id='sessionSource']", has_text="bing").first.click()
    page.wait_for_url("**source=bing**")
    chip = page.locator("#an-chips .chip")
    chip.wait_for()
    assert chip.inner_text().replace("\n", "") == "Source is bing ×"
    want = kpi_totals(ga_client, "properties/100000001", past_days(28), past_days(1),
                      source="bing")
    wait_kpi(page, "sessions", want["sessions"])
    # The table redrew for the filter; focus is still on the cell clicked, not <body>.
    page.wait_for_function("() => document.activeElement.matches("
                           "'#an-sources .ag-cell[col-id=sessionSource]') "
                           "&& document.activeElement.innerText === 'bing'", timeout=10_000)

    # The URL alone reproduces the view.
    page.reload()
    page.wait_for_selector("#an-chips .chip")
    wait_kpi(page, "sessions", want["sessions"])
    assert page.locator("#an-chips .chip").count() == 1

    # A bar in the countries chart adds a second filter.
    show(page, "#an-countries")
    page.locator("#an-countries .bars path").last.click(force=True)
    page.wait_for_url("**country=**")
    assert page.locator("#an-chips .chip").count() == 2
    country = params(page)["country"]
    wait_kpi(page, "sessions", kpi_totals(ga_client, "properties/100000001", past_days(28),
                                          past_days(1), source="bing",
                                          country=country)["sessions"])

    page.locator("#an-chips .chip", has_text="Source").click()
    page.wait_for_function("() => !location.search.includes('source=')")
    assert page.locator("#an-chips .chip").count() == 1
    wait_kpi(page, "sessions", kpi_totals(ga_client, "properties/100000001", past_days(28),
                                          past_days(1), country=country)["sessions"])


def test_page_filter_and_csv_export(page, live_app, tmp_path):
    page.goto(live_app + "/?range=last7")
    show(page, "#an-pages")
    page.wait_for_selector("#an-pages .ag-row")
    page.click("details[data-filter=page] > summary")  # the page picker: contains
    page.fill("details[data-filter=page] input[type=text]", "/docs/")
    page.click("details[data-filter=page] button:has-text('Apply')")
    page.wait_for_url("**page=%2Fdocs%2F**")
    assert page.inner_text("#an-chips") == "Page contains /docs/ ×"
    show(page, "#an-pages")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#an-pages .ag-cell[col-id=pagePath]')]"
        ".every(c => c.innerText.includes('/docs/'))", timeout=20_000)
    shown = page.locator("#an-pages .ag-center-cols-container .ag-cell[col-id='pagePath']")
    paths = sorted(shown.all_inner_texts())
    assert paths and all("/docs/" in p for p in paths)
    with page.expect_download() as info:
        page.click("#an-export-pages")
    target = tmp_path / "pages.csv"
    info.value.save_as(target)
    name = info.value.suggested_filename
    assert name.startswith("top-pages_Blog_") and name.endswith("_page--docs-.csv"), name
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig")))
    assert sorted(r["Page"] for r in rows) == paths
    assert {"Views", "Users", "Bounce rate", "Entrances"} <= set(rows[0])
    # Plain numbers that sum in a spreadsheet and parse in pandas.
    import pandas as pd

    frame = pd.read_csv(target, encoding="utf-8-sig")
    assert pd.api.types.is_integer_dtype(frame["Views"])
    assert pd.api.types.is_float_dtype(frame["Bounce rate"])
    assert frame["Bounce rate"].between(0, 1).all()  # a rate as a decimal, not "12.3%"
    assert pd.api.types.is_numeric_dtype(frame["Avg. engagement / view"])  # seconds
    # ... while the grid shows GA's h:mm:ss
    shown = page.locator("#an-pages .ag-center-cols-container "
                         ".ag-cell[col-id='engagementPerView']").first.inner_text()
    assert shown.count(":") == 2, shown


def test_a_picker_mounts_its_controls_when_opened_showing_the_views_filter(
        page, live_app, ga_client, past_days):
    page.goto(live_app + "/?range=last28&compare=none&country=Germany&page=%2Fdocs%2F")
    germany = kpi_totals(ga_client, "properties/100000001", past_days(28), past_days(1),
                         country="Germany", metrics=("sessions",))
    page.wait_for_selector("#an-chips .chip")
    # No picker has controls until it is opened: the page starts without them.
    assert page.locator("details.picker .dash-dropdown, details.picker input").count() == 0
    assert page.locator("details.picker.active").count() == 2
    page.click("details[data-filter=country] > summary")
    country = page.locator("details[data-filter=country]")
    country.locator(".picker-note", has_text="Values").wait_for()
    # Mounted showing the view's filter: "is", Germany picked, GA's values offered.
    assert country.locator(".dash-dropdown").count() == 2
    assert "Germany" in country.locator(".ctl-values").inner_text()
    assert country.locator("input[type=text]").is_hidden()
    assert page.locator("details.picker:not([data-filter=country]) .dash-dropdown").count() == 0
    # The page picker mounts with its pattern in the text box (contains).
    page.click("details[data-filter=page] > summary")
    text = page.locator("details[data-filter=page] input[type=text]")
    text.wait_for()
    assert text.input_value() == "/docs/"
    assert page.locator("details[data-filter=page] .ctl-values").is_hidden()
    # Its Clear still clears the filter; the other one applies.
    page.click("details[data-filter=page] button:has-text('Clear')")
    page.wait_for_function("() => !location.search.includes('page=')")
    assert page.inner_text("#an-chips") == "Country is Germany ×"
    wait_kpi(page, "sessions", germany["sessions"])
    # The mounted pickers follow the view: with the chip removed, the country picker
    # holds no value when opened again.
    page.click("#an-chips .chip")
    page.wait_for_function("() => !location.search.includes('country=')")
    page.click("details[data-filter=country] > summary")
    country.locator(".picker-note", has_text="Values").wait_for()
    page.wait_for_function("() => !document.querySelector("
                           "'details[data-filter=country] .ctl-values').innerText"
                           ".includes('Germany')")
    assert page.locator("details.picker.active").count() == 0


def test_invalid_url_falls_back_with_a_note(page, live_app):
    page.goto(live_app + "/?range=2026-02-30..2026-03-01&compare=sideways&device=toaster")
    page.wait_for_selector("#an-notes .alert-note")
    notes = page.inner_text("#an-notes")
    assert "not a valid date range" in notes
    assert "Unknown comparison 'sideways'" in notes
    assert "device filter 'toaster'" in notes
    page.wait_for_url("**range=last28**")
    assert params(page)["compare"] == "previous"
    page.wait_for_selector("#an-kpi-sessions")


def test_property_switch(page, live_app, ga_client):
    url = live_app + ViewState("Blog", "last7", "none").to_query_string()
    page.goto(url)
    page.wait_for_selector("#an-kpi-sessions")
    choose(page, "an-property", "Shop")
    page.wait_for_url("**property=Shop**")
    # The shop's days are Berlin's days.
    shop_today = local_now("Europe/Berlin").date()
    want = kpi_totals(ga_client, "properties/100000002", shop_today - timedelta(days=7),
                      shop_today - timedelta(days=1))
    wait_kpi(page, "sessions", want["sessions"])


def test_quick_filter_narrows_the_table(page, live_app):
    page.goto(live_app + "/?range=last28&compare=none")
    show(page, "#an-sources")
    page.wait_for_selector("#an-sources .ag-row")
    page.fill("#an-quick-filter-sources", "referral")
    page.press("#an-quick-filter-sources", "Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#an-sources .ag-cell[col-id=sessionMedium]')]"
        ".every(c => c.innerText === 'referral')", timeout=10_000)
    assert page.locator("#an-sources .ag-cell[col-id='sessionMedium']").count() >= 3


def test_today_is_hourly(page, live_app):
    page.goto(live_app + "/?range=today&compare=previous")
    page.wait_for_selector("#an-kpi-sessions")
    page.wait_for_function(
        "() => document.getElementById('an-trend')?.querySelectorAll('.legendtext').length == 4")
    ticks = page.locator("#an-trend .xtick text").all_text_contents()
    assert any(":" in t for t in ticks), ticks  # hours on the axis


def test_ga_error_is_shown_in_the_panels(page, live_app, standin_clean, blog_today):
    standin_clean.servicer.set_fault(
        "PERMISSION_DENIED", "User does not have sufficient permissions for this property.")
    try:
        # A range nobody asked for yet, so the cache has nothing to show instead.
        day = (blog_today - timedelta(days=123)).isoformat()
        page.goto(live_app + f"/?range={day}..{day}&compare=none")
        page.wait_for_selector("#an-error .alert-error")
        text = page.inner_text("#an-error")
        assert "No access to the property" in text and "Viewer" in text
        annotation = page.locator("#an-trend .annotation-text").first.text_content()
        assert "No access" in annotation or "cannot read" in annotation
        # Panels mounted later, when scrolled to, say it too.
        show(page, "#an-countries")
        page.wait_for_selector("#an-countries .annotation-text")
        assert "access" in page.locator("#an-countries .annotation-text").first.text_content()
        show(page, "#an-sources")
        page.wait_for_function("() => /access/i.test(document.getElementById("
                               "'an-footer-sources')?.innerText ?? '')")
        assert page.locator("#an-sources .ag-row").count() == 0
    finally:
        standin_clean.servicer.clear_fault()


def test_panels_below_the_fold_mount_when_scrolled_to(page, live_app):
    page.goto(live_app + "/?range=last28")
    page.wait_for_selector("#an-trend .scatterlayer .trace")
    page.wait_for_selector("#an-devices .pielayer .trace")
    page.wait_for_timeout(500)
    # Nothing below the fold was built: no grid, no chart, no grid code loaded.
    assert page.locator(".ag-root").count() == 0
    assert page.locator("#an-countries, #an-new-returning").count() == 0
    # Each box says so meanwhile (a screen reader reading on finds no empty panel).
    assert page.inner_text("#an-lazy-pages") == "Loading…"
    assert not page.evaluate("() => performance.getEntriesByType('resource')"
                             ".some(r => r.name.includes('async-community'))")
    where = """() => ['channels', 'new-returning', 'sources', 'landing', 'pages', 'countries']
        .map(p => document.getElementById('an-lazy-' + p).getBoundingClientRect().top
                  + window.scrollY)"""
    before = page.evaluate(where)
    # Scrolled to, top to bottom: each mounts and shows its numbers.
    for panel in ("channels", "new-returning", "sources", "landing", "pages", "countries"):
        show(page, f"#an-{panel}")
    for grid in ("channels", "sources", "landing", "pages"):
        page.wait_for_selector(f"#an-{grid} .ag-row")
        assert page.locator(f"#an-footer-{grid} .fetched").count() == 1
    page.wait_for_selector("#an-new-returning .pielayer .trace")
    page.wait_for_selector("#an-countries .bars path")
    # The boxes held their panels' heights: nothing below moved.
    assert page.evaluate(where) == pytest.approx(before, abs=1)
    # A view change redraws the mounted panels, each from its own callback.
    cell = "#an-sources .ag-row[row-index='0'] .ag-cell[col-id='sessions']"
    before_text = page.inner_text(cell)
    page.evaluate("window.scrollTo(0, 0)")
    choose(page, "an-range", "Last 7 days")
    page.wait_for_url("**range=last7**")
    show(page, "#an-sources")
    page.wait_for_function("([sel, old]) => document.querySelector(sel)?.innerText !== old",
                           arg=[cell, before_text], timeout=20_000)
    assert page.locator(".ag-root").count() == 4  # the same grids, not built again


def test_a_panel_mounting_keeps_what_the_user_is_doing(page, live_app):
    page.goto(live_app + "/?range=bogus")
    page.wait_for_selector("#an-notes .alert-note")
    page.wait_for_selector("#an-trend .scatterlayer .trace")
    # Typed into a table's search box before the table mounted: applied when it does.
    page.fill("#an-quick-filter-landing", "python")
    page.press("#an-quick-filter-landing", "Enter")
    # Text typed in a picker, not applied yet.
    requests = []
    page.on("request", lambda r: requests.append(r) if "update-component" in r.url else None)
    for panel in ("channels", "new-returning", "sources", "landing", "pages", "countries"):
        reveal(page, panel)
    page.wait_for_selector("#an-landing .ag-row")
    page.wait_for_selector("#an-countries .bars path")
    page.wait_for_timeout(1000)
    # Mounting panels redid no state: the note stays, the URL and the KPIs are untouched.
    assert "Unknown date range" in page.inner_text("#an-notes")
    outputs = [json.loads(r.post_data)["output"] for r in requests]
    assert not [o for o in outputs if o.startswith("..an-url.search")], outputs
    landing = page.locator("#an-landing .ag-center-cols-container .ag-cell[col-id='landingPage']")
    texts = landing.all_inner_texts()
    assert texts and all("python" in t for t in texts), texts


def test_search_entered_while_its_table_mounts_applies(page, live_app):
    page.goto(live_app + "/?range=last28")
    page.wait_for_selector("#an-trend .scatterlayer .trace")
    # Hold the landing table's mount on its way while the reader types and presses Enter.
    held = []

    def hold_landing(route):
        if "an-lazy-landing" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page.route("**/_dash-update-component*", hold_landing)
    reveal(page, "landing")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the landing table's mount was not requested"
    page.fill("#an-quick-filter-landing", "python")
    page.press("#an-quick-filter-landing", "Enter")
    held[0].continue_()
    page.unroute("**/_dash-update-component*")
    page.wait_for_selector("#an-landing .ag-row")
    cells = "#an-landing .ag-center-cols-container .ag-cell[col-id='landingPage']"
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].every(c => c.innerText.includes('python'))",
        arg=cells, timeout=10_000)
    texts = page.locator(cells).all_inner_texts()
    assert texts and all("python" in t for t in texts), texts


def test_without_intersection_observer_every_panel_mounts(page, live_app):
    page.add_init_script("delete window.IntersectionObserver")  # an old browser
    page.goto(live_app + "/?range=last28")
    for grid in ("channels", "sources", "landing", "pages"):
        page.wait_for_selector(f"#an-{grid} .ag-row", state="attached", timeout=20_000)
    page.wait_for_selector("#an-countries .bars path", state="attached")
    assert page.evaluate("() => window.scrollY") == 0


def test_top_pages_carry_share_counts(page, live_app):
    from gadash.data.shares.canonical import page_url
    from gadash.standin.shares import _count

    page.goto(live_app + "/?range=last28&compare=none")
    show(page, "#an-pages")
    page.wait_for_selector("#an-pages .ag-header-cell[col-id='share_reddit']", timeout=20_000)
    # AG Grid writes header text a frame after the columns arrive
    page.wait_for_function("() => [...document.querySelectorAll('#an-pages "
                           ".ag-header-cell-text')].some(h => h.innerText === 'Reddit score')")
    headers = page.locator("#an-pages .ag-header-cell-text").all_inner_texts()
    assert {"HN points", "Reddit score", "FB engagement"} <= set(headers)
    row = page.locator("#an-pages .ag-row[row-index='0']")
    path = row.locator(".ag-cell[col-id='pagePath']").inner_text()
    url = page_url("https://blog.example.com", path)
    expected = sum(_count(url, name, scale) for name, scale in (
        ("fb-reactions", 300), ("fb-comments", 50), ("fb-shares", 120)))
    grid_value = page.evaluate("""() => {
        const cell = document.querySelector(
            "#an-pages .ag-row[row-index='0'] .ag-cell[col-id='share_facebook']");
        return cell ? cell.innerText : null; }""")
    assert grid_value.replace(",", "") == str(expected)


def test_a_what_changed_sentence_filters_the_view_from_the_keyboard(page, live_app):
    page.goto(live_app + "/?property=Blog&range=last28&compare=previous")
    button = page.locator("#an-changes .change button").first
    button.wait_for(timeout=30_000)
    label = button.get_attribute("aria-label") or ""
    assert label.startswith("Filter the view: ")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => /(source|channel|page|landing|country|device)(\\.is)?=/.test(location.search)")
    first = label.removeprefix("Filter the view: ").split(" and ")[0]
    name, _, value = first.partition(" is ")
    # exact values; a bare page= means "contains", so an exact page is page.is=
    assert params(page).get("page.is" if name == "page" else name) == value
    # the chip says so, and the panel now explains the filtered view
    page.wait_for_selector(f"#an-chips :text('{value}')")


# The "Trending now" box, its card and the trend chart's top, as the page lays them out.
TRENDING_BOX = """() => {
    const box = document.getElementById('an-trending');
    const line = box.querySelector('.trending-empty');
    const card = box.closest('section.card');
    return {box: box.getBoundingClientRect().height,
            line: line ? parseFloat(getComputedStyle(line).fontSize) : null,
            card: card.getBoundingClientRect().height,
            head: card.querySelector('.card-head').getBoundingClientRect().height,
            trend: document.getElementById('an-trend').getBoundingClientRect().top};
}"""


def test_an_empty_trending_box_takes_one_line(page, live_app, standin_clean, tmp_path):
    page.goto(live_app + "/?property=Blog&range=last28&compare=previous")
    page.wait_for_selector("#an-trending :text('No page is read'), #an-trending ol.trending",
                           timeout=30_000)
    if page.locator("#an-trending ol.trending").count():
        pytest.skip("a page of the stand-in's blog trends today (one of its burst days)")
    page.wait_for_selector("#an-trend .scatterlayer .trace")
    got = page.evaluate(TRENDING_BOX)
    # One line of its text, no more: not the 340 px a list of trending pages gets.
    assert got["box"] <= 1.6 * got["line"], got
    assert got["card"] <= got["head"] + got["box"] + 40, got  # the card's padding
    # The trend starts on the first screen of 1440x900.
    assert got["trend"] < 900 - 60, got
    page.screenshot(path=str(tmp_path / "analyst-1440x900.png"))

