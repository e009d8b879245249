"""A yen property in headless Chromium: revenue in whole yen in the tables and their CSV,
under a header naming the currency; a landing page clicked filters the view to the
sessions that began there (issues 27 and 31)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pandas as pd
import pytest

from gadash.core.transforms import format_number
from gadash.standin.server import StandinProperty, StandinServer
from gadash.standin.traffic import TrafficProfile
from tests.browser.panels import reveal
from tests.servers import start_app, stop_app

pytestmark = pytest.mark.browser

YEN = "properties/100000081"


@pytest.fixture(scope="module")
def yen_app(tmp_path_factory) -> Iterator[str]:
    """The app over a stand-in whose one property, a shop, counts in yen."""
    prop = StandinProperty(YEN, "Yen shop", TrafficProfile(60, 40, 31, "Asia/Tokyo", "shop"),
                           currency="JPY")
    server = StandinServer([prop]).start()
    env = {"GADASH_GA_ENDPOINT": server.endpoint, "GADASH_PROPERTIES": f"Yen={YEN}",
           "GADASH_GA_TIMEOUT": "3"}
    proc, url = start_app(env, tmp_path_factory.mktemp("yen") / "app.log")
    try:
        yield url
    finally:
        stop_app(proc)
        server.stop()


def test_yen_revenue_csv_and_a_landing_page_click(page, yen_app, tmp_path):
    page.goto(yen_app + "/?range=last28&compare=none")
    reveal(page, "landing")
    cells = "#an-landing .ag-center-cols-container .ag-cell[col-id='totalRevenue']"
    page.wait_for_selector(cells)
    shown = page.locator(cells).all_inner_texts()
    # ¥51,740, as the tile writes yen: no minor units
    assert shown and all(t.startswith("¥") and "." not in t for t in shown), shown
    header = page.locator("#an-landing .ag-header-cell[col-id='totalRevenue']").inner_text()
    assert header.strip() == "Revenue (JPY)"

    with page.expect_download() as info:
        page.click("#an-export-landing")
    target = tmp_path / "landing.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig")))
    assert rows and "Revenue (JPY)" in rows[0]
    assert all(r["Revenue (JPY)"] == "" or r["Revenue (JPY)"].lstrip("-").isdigit()
               for r in rows), [r["Revenue (JPY)"] for r in rows[:5]]
    frame = pd.read_csv(target, encoding="utf-8-sig")
    assert pd.api.types.is_numeric_dtype(frame["Revenue (JPY)"])
    assert pd.api.types.is_float_dtype(frame["Engagement rate"])  # other values untouched
    assert frame["Engagement rate"].between(0, 1).all()

    # A landing page clicked: the chip says so, and the view's sessions are its row's.
    second = rows[1]
    path, sessions = second["Landing page"], int(second["Sessions"])
    page.locator("#an-landing .ag-cell[col-id='landingPage']", has_text=path).first.click()
    page.wait_for_url("**landing=**")
    chip = page.locator("#an-chips .chip")
    chip.wait_for()
    assert chip.inner_text().replace("\n", "") == f"Landing page is {path} ×"
    page.wait_for_function(
        "(text) => document.getElementById('an-kpi-sessions')?.innerText === text",
        arg=format_number(sessions), timeout=20_000)
