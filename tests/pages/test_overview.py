"""Analyst view callbacks: state changes per control, and the data callback over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gadash.components import ids
from gadash.components.analyst import render_error, render_view, view_query
from gadash.errors import QuotaExhaustedError
from gadash.query import Filters
from gadash.service import get_service
from gadash.settings import Settings
from gadash.viewstate import ViewState
from tests.conftest import BLOG, SHOP


@pytest.fixture(scope="module")
def app(standin):
    from gadash import create_app

    return create_app(Settings(ga_endpoint=standin.endpoint,
                               properties={"Blog": BLOG, "Shop": SHOP}, _env_file=None))


@pytest.fixture()
def ctx(app):
    with app.server.test_request_context():
        yield app


NO_VALUES: dict[str, Any] = {
    "property": None, "range": None, "start": None, "end": None, "compare": None,
    "page": None, "source_cell": None, "page_cell": None, "country_click": None,
    "device_click": None,
}
STORE = {"property": "Blog", "range": "last28", "compare": "previous",
         "filters": {"source": "", "medium": "", "country": "", "device": "", "page": ""}}
PROPS = ["Blog", "Shop"]


def step(trigger: Any, **values: Any) -> ViewState:
    from gadash.pages.overview import next_state

    state, _ = next_state(trigger, "", STORE, {**NO_VALUES, **values}, PROPS)
    return state


def test_url_is_parsed_on_load(ctx):
    from gadash.pages.overview import next_state

    state, notes = next_state(None, "?property=Shop&range=last7&compare=year&country=Japan",
                              None, NO_VALUES, PROPS)
    assert state == ViewState("Shop", "last7", "year", Filters(country="Japan"))
    state, notes = next_state(ids.URL, "?range=2026-13-01..2026-13-02", STORE, NO_VALUES, PROPS)
    assert state.range == "last28" and notes


def test_each_control_changes_one_thing(ctx):
    assert step(ids.PROPERTY, property="Shop").property == "Shop"
    assert step(ids.RANGE, range="last90").range == "last90"
    assert step(ids.RANGE, range="custom").range == "last28"  # picking "custom" waits for dates
    assert step(ids.DATES, start="2026-01-01", end="2026-01-31T00:00:00").range == \
        "2026-01-01..2026-01-31"
    assert step(ids.COMPARE, compare="year").compare == "year"
    # An end before the start keeps the previous range and says why.
    from gadash.pages.overview import next_state

    state, notes = next_state(ids.DATES, "", STORE, {**NO_VALUES, "start": "2026-02-10",
                                                      "end": "2026-02-01"}, PROPS)
    assert state.range == "last28" and "before it starts" in notes[0]
    assert step(ids.PAGE_APPLY, page=" /blog/ ").filters.page == "/blog/"
    assert step(ids.PAGE_INPUT, page="").filters.page == ""


def test_cross_filter_clicks(ctx):
    assert step(ids.SOURCES, source_cell={"colId": "sessionSource", "value": "bing"}
                ).filters.source == "bing"
    assert step(ids.SOURCES, source_cell={"colId": "sessionMedium", "value": "organic"}
                ).filters.medium == "organic"
    assert step(ids.SOURCES, source_cell={"colId": "sessions", "value": 12}).filters == Filters()
    assert step(ids.PAGES, page_cell={"colId": "pagePath", "value": "/about/"}
                ).filters.page == "/about/"
    assert step(ids.COUNTRIES, country_click={"points": [{"customdata": "Japan"}]}
                ).filters.country == "Japan"
    assert step(ids.DEVICES, device_click={"points": [{"customdata": "tablet"}]}
                ).filters.device == "tablet"


def test_removing_a_chip(ctx):
    from gadash.pages.overview import next_state

    store = {**STORE, "filters": {**STORE["filters"], "country": "Japan", "device": "mobile"}}
    state, _ = next_state({"type": ids.CHIP, "filter": "country"}, "", store, NO_VALUES, PROPS)
    assert state.filters == Filters(device="mobile")


def test_render_view_from_the_stand_in(ctx, blog_today):
    service = get_service()
    state = ViewState("Blog", "last28", "previous", Filters(device="mobile"))
    ranges = state.ranges(service.today(BLOG))
    query = view_query(state, BLOG, ranges, service.available_fields(BLOG))
    assert query.panels == ("trend", "sources", "pages", "audience", "landing")
    out = render_view(service.view(query), state)
    assert len(out.kpis) == 6 and out.error is None
    assert {r["sessionSource"] for r in out.sources_rows} >= {"google", "(direct)"}
    assert all(":" in r["avgSessionDuration"] for r in out.sources_rows)
    assert "entrances" in out.pages_rows[0]
    assert out.trend.data[0].name == "Sessions" and len(out.trend.data) == 4
    assert list(out.devices.data[0].labels) == ["mobile"]


def test_no_matching_rows_say_so(ctx):
    service = get_service()
    state = ViewState("Blog", "last7", "none", Filters(country="Atlantis"))
    query = view_query(state, BLOG, state.ranges(service.today(BLOG)),
                       service.available_fields(BLOG))
    out = render_view(service.view(query), state)
    assert "No sessions match the filters (country = 'Atlantis')" in str(out.error)


def test_render_error_fills_every_panel():
    out = render_error(QuotaExhaustedError("GA4 quota exhausted for properties/1."))
    assert "quota exhausted" in str(out.error)
    for fig in (out.trend, out.devices, out.countries):
        assert fig.layout.annotations[0].text == "GA4 quota exhausted for properties/1."
    assert set(out.footers) == {"trend", "devices", "sources", "pages", "countries"}


def _dash_call(client, output_prefix: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    from tests.servers import callback_body

    body = callback_body(client.get("/_dash-dependencies").get_json(), output_prefix, inputs)
    client.get("/")  # sets the CSRF cookie, as a page load would
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", data=json.dumps(body),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"]


def test_data_callback_over_http(app):
    client = app.server.test_client()
    out = _dash_call(client, f"..{ids.KPIS}.children", [
        {"id": ids.STATE, "property": "data",
         "value": {**STORE, "range": "2026-13-01..2026-13-05"}}])
    # A tampered store never reaches GA: the panels say what is wrong.
    assert "not a valid date range" in json.dumps(out[ids.ERROR])
    out = _dash_call(client, f"..{ids.KPIS}.children", [
        {"id": ids.STATE, "property": "data", "value": {**STORE, "property": "Shop"}}])
    tiles = json.dumps(out[ids.KPIS]["children"])
    assert "Sessions" in tiles and "Avg. session" in tiles
    assert out[ids.SOURCES]["rowData"]
