"""Explore in Chromium: a custom dimension by a custom metric in the chart, the table and
the CSV, against GA's own answer; the keyboard; axe-core; panels on the TV."""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from google.analytics.data_v1beta import types as ga

from gadash.standin.traffic import local_now
from tests.browser.test_a11y import axe_page, serious  # noqa: F401 -- the audit's fixture
from tests.browser.test_tv import SMALL_TEXT
from tests.conftest import BLOG, test_properties

pytestmark = pytest.mark.browser


def custom_pair(ga_client, property_id: str) -> tuple[str, str]:
    meta = ga_client.get_metadata(ga.GetMetadataRequest(name=f"{property_id}/metadata"))
    dim = next(d.api_name for d in meta.dimensions if d.custom_definition)
    metric = next(m.api_name for m in meta.metrics if m.custom_definition
                  and not m.api_name.startswith("keyEvents:"))
    return dim, metric


def wait_for_answer(page: Any) -> None:
    page.wait_for_function(
        "() => document.getElementById('ex-title')?.innerText.includes(' · ')", timeout=20_000)
    page.locator("#ex-grid-box").scroll_into_view_if_needed()
    page.wait_for_selector("#ex-grid .ag-row", timeout=20_000)


def test_a_custom_dimension_by_a_custom_metric_is_gas_answer_everywhere(page, live_app,
                                                                       ga_client, tmp_path):
    dim, metric = custom_pair(ga_client, BLOG)
    page.goto(live_app + "/explore?" + urlencode({
        "property": "Blog", "range": "last28", "compare": "none", "dim": dim,
        "metric": metric, "chart": "bar"}))
    wait_for_answer(page)
    today = local_now(test_properties()[0].time_zone).date()
    response = ga_client.run_report(ga.RunReportRequest(
        property=BLOG, dimensions=[ga.Dimension(name=dim)], metrics=[ga.Metric(name=metric)],
        metric_aggregations=[ga.MetricAggregation.TOTAL], limit=25,
        order_bys=[ga.OrderBy(metric=ga.OrderBy.MetricOrderBy(metric_name=metric), desc=True)],
        date_ranges=[ga.DateRange(start_date=str(today - timedelta(days=28)),
                                  end_date=str(today - timedelta(days=1)))]))
    want = {r.dimension_values[0].value: float(r.metric_values[0].value) for r in response.rows}
    total = float(response.totals[0].metric_values[0].value)
    # The chart: one bar per value, GA's numbers.
    bars = page.evaluate("() => { const d = document.querySelector('#ex-graph .js-plotly-plot')"
                         ".data; return d[d.length - 1]; }")
    assert dict(zip(bars["y"], bars["x"], strict=True)) == pytest.approx(want)
    # The CSV: the same rows, then GA's total.
    with page.expect_download() as info:
        page.click("#ex-export")
    target = tmp_path / "explore.csv"
    info.value.save_as(target)
    rows = list(csv.reader(target.open(encoding="utf-8-sig")))
    header, body, last = rows[0], rows[1:-1], rows[-1]
    assert len(header) == 2 and dim not in header  # GA's UI names head the columns
    assert {r[0]: float(r[1]) for r in body} == pytest.approx(want)
    assert last[0] == "Total" and float(last[1]) == pytest.approx(total)
    # The table shows the total too, formatted by the metric's type (seconds as h:mm:ss).
    shown = page.locator("#ex-grid .ag-floating-bottom .ag-cell").all_inner_texts()
    assert shown[0] == "Total" and shown[1] not in ("", "–")


def test_an_incompatible_pair_is_refused_on_the_page(page, live_app):
    page.goto(live_app + "/explore?property=Shop&dim=itemName&metric=sessions")
    alert = page.locator("#ex-error [role=alert], #ex-error .alert-error")
    alert.first.wait_for(timeout=20_000)
    assert "incompatible" in alert.first.inner_text()


def test_the_keyboard_reaches_every_control(page, live_app):
    page.goto(live_app + "/explore?property=Blog&dim=eventName&metric=eventCount")
    wait_for_answer(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#ex-filters > summary").focus()
    page.keyboard.press("Enter")  # opens the filters
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    reached: list[str] = []
    for _ in range(90):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "() => { const e = document.activeElement; const box = e.closest('[id]');"
            " return (e.id || (box && box.id) || e.tagName) + ''; }"))
    joined = " ".join(reached)
    for wanted in ("ex-property", "ex-range", "ex-compare", "ex-dims", "ex-metrics",
                   '"row":0,"type":"ex-where-field"', '"row":0,"type":"ex-where-value"',
                   '"row":1,"type":"ex-having-value"', "ex-sort", "ex-order", "ex-top",
                   "ex-chart", "ex-export", "ex-grid", "ex-save-name", "ex-save"):
        assert wanted in joined, (wanted, reached)


def test_explore_has_no_serious_violation(axe_page, live_app):  # noqa: F811
    axe_page.goto(live_app + "/explore?property=Blog&dim=date&metric=sessions"
                  "&where.eventName=page_view")
    axe_page.wait_for_function(
        "() => document.getElementById('ex-title')?.innerText.includes(' · ')", timeout=20_000)
    axe_page.locator("#ex-grid-box").scroll_into_view_if_needed()
    axe_page.wait_for_selector("#ex-grid .ag-row", timeout=20_000)
    axe_page.wait_for_timeout(500)
    assert axe_page.locator("main").count() == 1 and axe_page.locator("h1").count() == 1
    assert serious(axe_page) == []
    # ... and the page as it opens: the Events panel, three metrics chosen.
    axe_page.goto(live_app + "/explore")
    axe_page.wait_for_function(
        "() => document.getElementById('ex-title')?.innerText.includes(' · ')", timeout=20_000)
    assert serious(axe_page) == []


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
@pytest.mark.parametrize("screen", ["panel:events", "panel:products"])
def test_a_panel_is_a_tv_screen_legible_across_the_room(page, live_app, screen, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    prop = "Shop" if screen == "panel:products" else "Blog"
    page.goto(live_app + f"/tv?property={prop}&screens={screen}&refresh=60")
    page.wait_for_selector(".tv-screen.active .tv-item-value", timeout=20_000)
    assert page.locator(".tv-screen.active .tv-screen-title").inner_text() in (
        "Events", "Products")
    assert page.evaluate(SMALL_TEXT) == []
    items = page.locator(".tv-screen.active .tv-item:visible")
    assert items.count() >= 3
    for i in range(items.count()):
        box = items.nth(i).bounding_box()
        assert box["y"] + box["height"] <= size[1], i  # no row cut by the screen's edge
