"""Analyst view callbacks: state changes per control, and the data callback over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from gadash.core.plans import view_query
from gadash.core.query import Condition, Filters
from gadash.core.urls import ViewState
from gadash.errors import QuotaExhaustedError
from gadash.settings import Settings
from gadash.web.components import ids
from gadash.web.components.analyst.layout import GRIDS, LAZY
from gadash.web.components.analyst.render import (
    chart_error,
    grid_error,
    render_chart,
    render_error,
    render_grid,
    render_view,
)
from gadash.web.context import get_service
from tests.conftest import BLOG, LARGE, SHOP


@pytest.fixture()
def ctx(app):
    with app.server.test_request_context():
        yield app


NO_VALUES: dict[str, Any] = {
    "property": None, "range": None, "start": None, "end": None, "compare": None,
    "grain": None, "cells": {}, "country_click": None, "device_click": None,
    "pickers": {name: (None, None, None, None) for name in
                ("source", "medium", "channel", "country", "device", "page", "landing")},
}
STORE = {"property": "Blog", "range": "last28", "compare": "previous",
         "filters": {"source": "", "medium": "", "country": "", "device": "", "page": ""}}


def cell(grid: str, col: str, value: Any) -> dict[str, Any]:
    return {"cells": {grid: {"colId": col, "value": value}}}
PROPS = ["Blog", "Shop"]


def step(trigger: Any, **values: Any) -> ViewState:
    from gadash.web.pages.overview import next_state

    state, _ = next_state(trigger, "", STORE, {**NO_VALUES, **values}, PROPS)
    return state


def test_url_is_parsed_on_load(ctx):
    from gadash.web.pages.overview import next_state

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
    assert step(ids.GRAIN, grain="month").grain == "month"
    assert step(ids.GRAIN, grain="fortnight").grain == "auto"  # parsed like a URL
    # An end before the start keeps the previous range and says why.
    from gadash.web.pages.overview import next_state

    state, notes = next_state(ids.DATES, "", STORE, {**NO_VALUES, "start": "2026-02-10",
                                                      "end": "2026-02-01"}, PROPS)
    assert state.range == "last28" and "before it starts" in notes[0]


def pick(name: str, choice: str | None, values: list[str] | None = None, text: str = "",
         case: bool = False, how: str = ids.PICK_APPLY) -> ViewState:
    pickers = {**NO_VALUES["pickers"], name: (choice, values, text, "true" if case else "false")}
    return step({"type": how, "filter": name}, pickers=pickers)


def test_pickers_set_every_kind_of_condition(ctx):
    assert pick("page", "contains", text=" /blog/ ").filters.page == \
        Condition(("/blog/",), "contains")
    assert pick("source", "not.is", ["google", "bing"], case=True).filters.source == \
        Condition(("google", "bing"), "is", exclude=True, case=True)
    assert pick("page", "regex", text=r"^/blog/\d+").filters.page == \
        Condition((r"^/blog/\d+",), "regex")
    assert pick("country", "not.contains", text="land").filters.country == \
        Condition(("land",), "contains", exclude=True)
    assert pick("device", "is", ["Mobile"]).filters.device == Condition(("mobile",))
    # Enter in the text box applies too; nothing picked means no filter.
    assert pick("medium", "contains", text="cpc", how=ids.PICK_TEXT).filters.medium == \
        Condition(("cpc",), "contains")
    assert pick("source", "is", []).filters == Filters()
    # A pattern GA cannot run is refused with a note, and the view keeps its filters.
    from gadash.web.pages.overview import next_state

    pickers = {**NO_VALUES["pickers"], "page": ("regex", None, "(?=x)", "false")}
    state, notes = next_state({"type": ids.PICK_APPLY, "filter": "page"}, "", STORE,
                              {**NO_VALUES, "pickers": pickers}, PROPS)
    assert state.filters == Filters() and "look-around" in notes[0]
    # Clear removes the filter.
    store = {**STORE, "filters": [["country", "Japan"], ["device", "mobile"]]}
    state, _ = next_state({"type": ids.PICK_CLEAR, "filter": "country"}, "", store,
                          NO_VALUES, PROPS)
    assert state.filters == Filters(device="mobile")


def test_cross_filter_clicks(ctx):
    def exactly(value: str) -> Condition:
        return Condition((value,))

    assert step(ids.SOURCES, **cell(ids.SOURCES, "sessionSource", "bing")
                ).filters.source == exactly("bing")
    assert step(ids.SOURCES, **cell(ids.SOURCES, "sessionMedium", "organic")
                ).filters.medium == exactly("organic")
    assert step(ids.SOURCES, **cell(ids.SOURCES, "sessions", 12)).filters == Filters()
    assert step(ids.CHANNELS, **cell(ids.CHANNELS, "sessionDefaultChannelGroup", "Email")
                ).filters.channel == exactly("Email")
    # A clicked page is that page, not every path containing it.
    assert step(ids.PAGES, **cell(ids.PAGES, "pagePath", "/about/")).filters.page == \
        exactly("/about/")
    # A landing page is the sessions that began there, not every session that saw it.
    assert step(ids.LANDING, **cell(ids.LANDING, "landingPage", "/")).filters == \
        Filters(landing=exactly("/"))
    assert step(ids.COUNTRIES, country_click={"points": [{"customdata": "Japan"}]}
                ).filters.country == exactly("Japan")
    assert step(ids.DEVICES, device_click={"points": [{"customdata": "tablet"}]}
                ).filters.device == exactly("tablet")


def test_other_row_is_never_a_filter(ctx):
    for grid, col in ((ids.PAGES, "pagePath"), (ids.SOURCES, "sessionSource"),
                      (ids.CHANNELS, "sessionDefaultChannelGroup"),
                      (ids.LANDING, "landingPage")):
        assert step(grid, **cell(grid, col, "(other)")).filters == Filters()
    assert step(ids.COUNTRIES, country_click={"points": [{"customdata": ""}]}).filters == \
        Filters()


def test_removing_a_chip(ctx):
    from gadash.web.pages.overview import next_state

    store = {**STORE, "filters": {**STORE["filters"], "country": "Japan", "device": "mobile"}}
    state, _ = next_state({"type": ids.CHIP, "filter": "country"}, "", store, NO_VALUES, PROPS)
    assert state.filters == Filters(device="mobile")


def _sessions(result) -> float:
    from gadash.core.transforms import kpis
    from gadash.web.components.analyst.render import trend_panel_of

    return next(k.value for k in kpis(trend_panel_of(result.reports)) if k.metric == "sessions")


def test_a_landing_row_filters_the_view_to_its_own_sessions(ctx):
    """Issue 27: a landing-table row gives the view that row's sessions (the sessions
    that began on the page), through Google's client and the stand-in; the page filter
    (any session that viewed it) gives more."""
    service = get_service()
    fields = service.available_fields(BLOG)
    state = ViewState("Blog", "last28", "previous")
    ranges = state.ranges(service.today(BLOG))
    landing = render_grid("landing", service.view(view_query(BLOG, ranges, state.filters,
                                                             fields)), state)
    rows = {r["landingPage"]: r for r in landing.rows}
    checked = 0
    for path in ("/", *[r["landingPage"] for r in landing.rows if not r["isOther"]][3:5]):
        clicked = step(ids.LANDING, **cell(ids.LANDING, "landingPage", path))
        assert clicked.filters == Filters(landing=Condition((path,)))
        assert f"landing={quote(path, safe='')}" in clicked.to_query_string()
        view = service.view(view_query(BLOG, ranges, clicked.filters, fields))
        assert _sessions(view) == rows[path]["sessions"] > 0
        # The filtered view's own landing table is that one row.
        assert [r["landingPage"] for r in render_grid("landing", view, clicked).rows] == [path]
        checked += 1
    assert checked == 3
    viewed = service.view(view_query(BLOG, ranges, Filters(page=Condition(("/",))), fields))
    assert _sessions(viewed) > rows["/"]["sessions"]  # the page filter: any page viewed


def test_render_view_from_the_stand_in(ctx, blog_today):
    service = get_service()
    state = ViewState("Blog", "last28", "previous", Filters(device="mobile"))
    ranges = state.ranges(service.today(BLOG))
    query = view_query(BLOG, ranges, state.filters, service.available_fields(BLOG))
    assert query.panels == ("trend", "sources", "pages", "audience", "landing", "channels")
    result = service.view(query)
    out = render_view(result, state, ranges)
    tiles = [t.children[0].children for t in out.kpis]
    # the blog has key events (newsletter sign-ups), no revenue
    assert tiles == ["Users", "Sessions", "Page views", "Avg. session", "Engagement rate",
                     "Bounce rate", "Key events", "Session key event rate"]
    assert out.error is None
    sources = render_grid("sources", result, state).rows
    assert {r["sessionSource"] for r in sources} >= {"google", "(direct)"}
    assert all(isinstance(r["averageSessionDuration"], float) for r in sources)
    assert any(r["sessionsChange"] is not None for r in sources)
    assert "entrances" in render_grid("pages", result, state).rows[0]
    channels_panel = render_grid("channels", result, state)
    channels = {r["sessionDefaultChannelGroup"]: r for r in channels_panel.rows}
    assert sum(r["sessions"] for r in sources) == sum(r["sessions"] for r in channels.values())
    assert channels["Organic Search"]["sessionsChange"] is not None
    assert [c["field"] for c in channels_panel.columns][-2:] == ["keyEvents",
                                                                 "sessionKeyEventRate"]
    trend = out.figures["trend"]["data"]
    assert trend[0]["name"] == "Sessions" and len(trend) == 4
    assert list(render_chart("devices", result)[0]["data"][0]["labels"]) == ["mobile"]
    new_returning, _ = render_chart("new-returning", result)
    assert set(new_returning["data"][0]["labels"]) >= {"new", "returning"}


def test_revenue_in_the_shops_currency(ctx):
    service = get_service()
    state = ViewState("Shop", "last28", "previous")
    ranges = state.ranges(service.today(SHOP))
    result = service.view(view_query(SHOP, ranges, state.filters,
                                     service.available_fields(SHOP)))
    out = render_view(result, state, ranges)
    tiles = {t.children[0].children: t.children[1].children for t in out.kpis}
    assert tiles["Revenue"].startswith("€") and int(tiles["Transactions"].replace(",", "")) > 0
    revenue = next(c for c in render_grid("landing", result, state).columns
                   if c["field"] == "totalRevenue")
    assert '"€"' in revenue["valueFormatter"]["function"]
    assert revenue["headerName"] == "Revenue (EUR)"  # the CSV's header names it too
    assert "'$,.2f'" in revenue["valueFormatter"]["function"]


YEN = "properties/100000081"


@pytest.fixture(scope="module")
def yen_shop():
    """A shop property whose GA currency is the yen (no minor units), on its own stand-in."""
    from gadash.data.sources.ga4 import GA4Source
    from gadash.standin.server import StandinProperty, StandinServer
    from gadash.standin.traffic import TrafficProfile

    prop = StandinProperty(YEN, "Yen shop", TrafficProfile(60, 40, 31, "Asia/Tokyo", "shop"),
                           currency="JPY")
    server = StandinServer([prop]).start()
    source = GA4Source(Settings(ga_endpoint=server.endpoint, properties={"Yen": YEN},
                                _env_file=None))
    try:
        yield source
    finally:
        source.close()
        server.stop()


def _csv_cell(column: dict[str, Any], value: float) -> Any:
    """What the CSV's cell callback (csv_export_params) writes for a value of a column,
    evaluated as the grid does: round to the column's currency digits."""
    from gadash.web.components.analyst.columns import csv_export_params

    code = csv_export_params("x.csv")["processCellCallback"]["function"]
    assert "getColDef().context.currencyDigits" in code and "toFixed(" in code
    digits = (column.get("context") or {}).get("currencyDigits")
    return value if digits is None else f"{value:.{digits}f}"


def test_yen_has_no_decimals_in_tables_and_csv_and_names_its_currency(ctx, yen_shop):
    """Issue 31 #9: a JPY property's revenue is ¥51,740 in the tables (as on its tile),
    and its CSV holds whole yen under "Revenue (JPY)"."""
    from gadash.core.frames import ViewResult
    from gadash.standin.traffic import local_now

    today = local_now("Asia/Tokyo").date()
    state = ViewState("Yen", "last28", "previous")
    ranges = state.ranges(today)
    result = ViewResult(yen_shop.fetch(view_query(YEN, ranges, state.filters, frozenset())))
    out = render_view(result, state, ranges)
    tile = next(t for t in out.kpis if t.children[0].children == "Revenue")
    assert tile.children[1].children.startswith("¥") and "¥" in tile.title
    assert "." not in tile.title.split("¥")[1]  # the tooltip's exact amount: whole yen
    for grid in ("sources", "channels", "landing"):  # the tables with revenue
        panel = render_grid(grid, result, state)
        [revenue] = [c for c in panel.columns if c["field"] == "totalRevenue"]
        assert revenue["headerName"] == "Revenue (JPY)"
        assert "'$,.0f'" in revenue["valueFormatter"]["function"]
        assert '"¥"' in revenue["valueFormatter"]["function"]
        assert revenue["context"] == {"currencyDigits": 0}
        amounts = [r["totalRevenue"] for r in panel.rows if r["totalRevenue"]]
        assert any(a != round(a) for a in amounts)  # GA's yen have fractions to round
        assert all(_csv_cell(revenue, a) == f"{round(a):d}" for a in amounts)


@pytest.mark.parametrize(("currency", "symbol", "digits"), [
    ("EUR", "€", 2), ("USD", "$", 2), ("JPY", "¥", 0), ("KWD", "KWD", 3), ("", "", 2)])
def test_money_columns_follow_their_currencys_minor_units(currency, symbol, digits):
    from gadash.web.components.analyst.columns import metric_column, money_header

    column = metric_column("purchaseRevenue", money_header("Purchase revenue", currency),
                           "TYPE_CURRENCY", currency)
    assert column["headerName"] == (f"Purchase revenue ({currency})" if currency
                                    else "Purchase revenue")
    assert f"'$,.{digits}f'" in column["valueFormatter"]["function"]
    assert json.dumps(symbol, ensure_ascii=False) in column["valueFormatter"]["function"]
    assert _csv_cell(column, 1234.5678) == f"{1234.5678:.{digits}f}"


def test_revenue_in_pounds_on_a_gbp_property_with_other_rows(ctx):
    service = get_service()
    state = ViewState("News", "last90", "previous")
    ranges = state.ranges(service.today(LARGE))
    result = service.view(view_query(LARGE, ranges, state.filters,
                                     service.available_fields(LARGE)))
    out = render_view(result, state, ranges)
    tiles = {t.children[0].children: t.children[1].children for t in out.kpis}
    assert tiles["Revenue"].startswith("£") and tiles["Key events"] != "–"
    revenue = next(c for c in render_grid("sources", result, state).columns
                   if c["field"] == "totalRevenue")
    assert '"£"' in revenue["valueFormatter"]["function"]
    # GA's (other) row: shown, marked, never a link; its change is unknown
    pages = render_grid("pages", result, state)
    other = [r for r in pages.rows if r["pagePath"] == "(other)"]
    assert other and other[0]["isOther"] and "cardinality" in other[0]["otherTip"]
    assert other[0].get("viewsChange") is None
    assert any("(other)" in str(part) for part in pages.footer)


def test_trend_grain_follows_the_range_or_the_choice(ctx):
    service = get_service()
    fields = service.available_fields(BLOG)
    today = service.today(BLOG)
    for rng, grain, panel in (("last7", "auto", "trend"), ("today", "auto", "trend_hourly"),
                              ("last90", "week", "trend_week"),
                              ("thisyear", "month", "trend_month")):
        state = ViewState("Blog", rng, "previous", grain=grain)
        ranges = state.ranges(today)
        query = view_query(BLOG, ranges, state.filters, fields, state.grain)
        assert query.panels[0] == panel
        out = render_view(service.view(query), state, ranges)
        assert out.figures["trend"]["data"][0]["name"] == "Sessions"


def test_no_matching_rows_say_so(ctx):
    service = get_service()
    state = ViewState("Blog", "last7", "none", Filters(country="Atlantis"))
    query = view_query(BLOG, state.ranges(service.today(BLOG)), state.filters,
                       service.available_fields(BLOG))
    out = render_view(service.view(query), state)
    assert "No sessions match the filters (country is Atlantis)" in str(out.error)


def test_render_error_fills_every_panel():
    exc = QuotaExhaustedError("GA4 quota exhausted for properties/1.")
    out = render_error(exc)
    assert "quota exhausted" in str(out.error)
    figures = [*out.figures.values(), chart_error(exc)[0]]
    for fig in figures:
        assert fig["layout"]["annotations"][0]["text"] == "GA4 quota exhausted for properties/1."
    assert set(out.footers) == {"trend"}
    for panel in LAZY:  # panels mounted when seen say it in their footer
        foot = grid_error(panel, exc).footer if panel in GRIDS else chart_error(exc)[1]
        assert "quota" in str(foot).lower()


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
         "value": {**STORE, "range": "2026-13-01..2026-13-05"}},
        {"id": ids.NOTES_VERSION, "property": "data", "value": 0}])
    # A tampered store never reaches GA: the panels say what is wrong.
    assert "not a valid date range" in json.dumps(out[ids.ERROR])
    out = _dash_call(client, f"..{ids.KPIS}.children", [
        {"id": ids.STATE, "property": "data", "value": {**STORE, "property": "Shop"}},
        {"id": ids.NOTES_VERSION, "property": "data", "value": 0}])
    tiles = json.dumps(out[ids.KPIS]["children"])
    assert "Sessions" in tiles and "Avg. session" in tiles
    # A table below the fold asks for its rows once mounted: the same cached view.
    out = _dash_call(client, f"..{ids.SOURCES}.rowData", [
        {"id": ids.STATE, "property": "data", "value": {**STORE, "property": "Shop"}}])
    assert out[ids.SOURCES]["rowData"]
    assert out[ids.SOURCES]["csvExportParams"]["fileName"].startswith("traffic-sources_Shop_")
    assert "Fetched" in json.dumps(out[ids.footer("sources")])


def test_today_is_compared_like_for_like_never_with_whole_days(ctx):
    service = get_service()
    state = ViewState("Blog", "today", "previous")
    ranges = state.ranges(service.today(BLOG))
    # Before its first whole hour, today is not compared at all.
    query = view_query(BLOG, ranges, state.filters, service.available_fields(BLOG))
    out = render_view(service.view(query), state, ranges, partial=True)
    deltas = {t.children[2].children for t in out.kpis}
    assert deltas == {"so far today: compared from 01:00"}
    assert any("Today is not over" in str(part) for part in out.footers["trend"])
    # Later, both days to the same hour, and the caption says so.
    query = view_query(BLOG, ranges, state.filters, service.available_fields(BLOG), cutoff=9)
    out = render_view(service.view(query), state, ranges, partial=True, cutoff=9)
    *tiles, caption = out.kpis
    assert all(t.children[2].children.startswith(("▲", "▼", "■")) for t in tiles)
    assert caption.children == ("Compared like for like: to 09:00, against the same hours "
                                f"of {ranges[1].label()}")


def test_a_picker_offers_gas_values_for_the_period_under_the_other_filters(app):
    client = app.server.test_client()
    client.get("/")
    token = client.get_cookie("_csrf_token").value
    deps = client.get("/_dash-dependencies").get_json()
    [dep] = [d for d in deps if ids.PICK_NOTE in d["output"] and ids.PICK_VALUES in d["output"]]

    def open_picker(name: str, filters: list[list[str]], selected: list[str] | None = None
                    ) -> dict[str, Any]:
        def pid(kind: str) -> dict[str, str]:
            return {"type": kind, "filter": name}

        body = {"output": dep["output"],
                "outputs": [{"id": pid(ids.PICK_VALUES), "property": o.rpartition(".")[2]}
                            if ids.PICK_VALUES in o else
                            {"id": pid(ids.PICK_NOTE), "property": "children"}
                            for o in dep["output"].strip(".").split("...")],
                "inputs": [{"id": pid(ids.PICK_OPEN), "property": "n_clicks", "value": 1}],
                "changedPropIds": [json.dumps(pid(ids.PICK_OPEN), sort_keys=True,
                                              separators=(",", ":")) + ".n_clicks"],
                "state": [{"id": pid(ids.PICK_VALUES), "property": "value", "value": selected},
                          {"id": ids.STATE, "property": "data",
                           "value": {**STORE, "filters": filters}}]}
        response = client.post("/_dash-update-component", data=json.dumps(body),
                               content_type="application/json", headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.data[:300]
        out = response.get_json()["response"]
        options = next(v for k, v in out.items() if ids.PICK_VALUES in k)
        note = next(v for k, v in out.items() if ids.PICK_NOTE in k)["children"]
        return {"values": [o["value"] for o in options["options"]], "note": note}

    sources = open_picker("source", [])
    assert {"google", "(direct)", "news.ycombinator.com"} <= set(sources["values"])
    assert "by sessions" in sources["note"] and "Values in GA for" in sources["note"]
    # The source's own filter does not narrow its choices; the others do.
    assert open_picker("source", [["source", "google"]])["values"] == sources["values"]
    email_only = open_picker("source", [["channel", "Email"]])["values"]
    assert email_only and set(email_only) < set(sources["values"])
    # A value already picked stays offered, first, even if GA has none of it.
    assert open_picker("device", [], ["smart tv"])["values"][0] == "smart tv"
    pages = open_picker("page", [])
    assert "/" in pages["values"] and "by views" in pages["note"]
    landing = open_picker("landing", [["page", "/"]])
    assert "/" in landing["values"] and "by sessions" in landing["note"]
    assert open_picker("landing", [["landing", "/"]])["values"] == open_picker(
        "landing", [])["values"]  # its own filter does not narrow its choices


def test_what_changed_costs_one_batch_call_and_agrees_with_the_kpis(ctx, standin):
    from gadash.core.insights.findings import CHANGE_FILTERS
    from gadash.core.transforms import kpis

    service = get_service()
    state = ViewState("Blog", "last28", "previous")
    ranges = state.ranges(service.today(BLOG))
    before = standin.servicer.calls["BatchRunReports"]
    changes, result = service.changes(BLOG, ranges, state.filters)
    assert standin.servicer.calls["BatchRunReports"] == before + 1
    assert not result.cached
    service.changes(BLOG, ranges, state.filters)  # the second time from the cache
    assert standin.servicer.calls["BatchRunReports"] == before + 1
    view = service.view(view_query(BLOG, ranges, state.filters, service.available_fields(BLOG)))
    trend = next(f for k, f in view.reports.items() if k.startswith("trend"))
    sessions = next(k for k in kpis(trend) if k.metric == "sessions")
    head = changes.groups[0]
    assert head.metric == "sessions"
    assert f"({'+' if sessions.change > 0 else '−'}" in head.headline
    assert head.findings and all(f.filters for f in head.findings)
    for f in head.findings:
        assert tuple(k for k, _ in f.filters) == CHANGE_FILTERS[f.dimension]
    # The landing sentence's filter gives the view that landing page's sessions, those
    # the sentence counted (not every session that viewed the page).
    [landing] = [f for f in head.findings if f.dimension == "landing"]
    assert landing.filters == (("landing", landing.value),)
    rows = result.reports["changes_landing"].rows
    counted = rows.loc[(rows["landingPage"] == landing.value) & (rows["dateRange"] == "current"),
                       "sessions"].sum()
    filtered = Filters(landing=Condition((landing.value,)))
    view = service.view(view_query(BLOG, ranges, filtered, service.available_fields(BLOG)))
    assert _sessions(view) == counted > 0


def test_a_sentence_filters_the_view_with_one_click(ctx, app):
    state = step({"type": ids.CHANGE_APPLY, "filter": "source=google&medium=organic"})
    assert state.filters.source == Condition(("google",))
    assert state.filters.medium == Condition(("organic",))
    assert step({"type": ids.CHANGE_APPLY, "filter": "source=(other)"}).filters.source is None
    # A landing sentence sets the landing filter, as the landing table does.
    assert step({"type": ids.CHANGE_APPLY, "filter": "landing=/blog/"}).filters == \
        Filters(landing=Condition(("/blog/",)))
    client = app.server.test_client()
    out = _dash_call(client, f"..{ids.CHANGES}.children", [
        {"id": ids.STATE, "property": "data", "value": STORE}])
    text = json.dumps(out[ids.CHANGES]["children"])
    assert "Sessions" in text and ids.CHANGE_APPLY in text and "of the" in text
    out = _dash_call(client, f"..{ids.CHANGES}.children", [
        {"id": ids.STATE, "property": "data", "value": {**STORE, "compare": "none"}}])
    assert "Compare with" in json.dumps(out[ids.CHANGES]["children"])


def test_unusual_days_cost_one_batch_call_and_ring_the_trend(ctx, standin):
    service = get_service()
    state = ViewState("Blog", "last90", "none", grain="day")
    current = state.ranges(service.today(BLOG))[0]
    before = standin.servicer.calls["BatchRunReports"]
    unusual = service.unusual_days(BLOG, current, state.filters)
    assert standin.servicer.calls["BatchRunReports"] == before + 1
    today = service.today(BLOG)
    assert all(current.start <= b.day <= today - timedelta(days=2)
               and b.unusual for b in unusual)
    from gadash.web.pages.overview import render

    out = render({"property": "Blog", "range": "last90", "compare": "none", "grain": "day"})
    trend = out[1]
    names = [t["name"] for t in trend["data"]]
    assert unusual  # the stand-in's blog has days when a post took off
    assert "Unusual days" in names


def test_a_page_read_at_ten_times_its_usual_rate_trends_and_others_do_not(ctx, app, standin):
    from gadash.core.insights.rules import usual_per_window
    from gadash.core.plans import trending_queries
    from tests.conftest import skip_just_after_midnight

    skip_just_after_midnight(standin)
    service = get_service()
    usual_q, now_q = trending_queries(BLOG, service.today(BLOG), service.available_fields(BLOG))
    usual = service.view(usual_q).reports["trending_usual"].rows
    per_title = usual.groupby("pageTitle")["screenPageViews"].sum().map(usual_per_window)
    # A page read a few times every 30 minutes, whose title no other path has.
    single = usual.groupby("pageTitle")["pagePath"].nunique() == 1
    title = per_title[(per_title > 3) & (per_title < 8) & single].index[0]
    path = usual.loc[usual["pageTitle"] == title, "pagePath"].iloc[0]
    standin.servicer.spike(BLOG, path, 10)
    try:
        service.store.delete(now_q.cache_key())  # what earlier tests cached of realtime
        service.store.delete(now_q.cache_key() + ":version")
        found = service.trending(BLOG)
        page = next(p for p in found if p.title == title)
        assert page.path == path and page.trend.ratio >= 7 and page.countries
        assert page.trend.label().startswith("×")
        # The other pages are at their usual rate: none is listed (but on a day when the
        # stand-in's own Hacker News burst lifts one page, that one).
        assert len(found) <= 2
        client = app.server.test_client()
        out = _dash_call(client, f"..{ids.TRENDING}.children", [
            {"id": ids.STATE, "property": "data", "value": STORE},
            {"id": ids.TRENDING_TICK, "property": "n_intervals", "value": 1}])
        assert title in json.dumps(out[ids.TRENDING]["children"])
        # With a webhook set, the page starting to trend is posted once.
        from gadash.jobs.alerts import Alerts
        from gadash.jobs.watch import check_alerts
        from tests.jobs.test_alerts import Receiver

        receiver = Receiver()
        receiver.thread.start()
        try:
            alerts = Alerts(Settings(alert_webhook_url=receiver.url, _env_file=None),
                            service.store)
            assert check_alerts(service, alerts) >= 1
            assert check_alerts(service, alerts) == 0  # the same alerts are not sent again
            texts = [p["json"]["text"] for p in receiver.posts]
            assert any(f"“{title}” is read at ×" in t for t in texts)
        finally:
            receiver.server.shutdown()
            receiver.server.server_close()
    finally:
        standin.servicer.clear_spikes()


def test_open_mode_answers_this_machine_only_ipv4_mapped_loopback_included(app):
    """Without sign-in and GADASH_ALLOW_OPEN only this machine is answered; a dual-stack
    socket reports 127.0.0.1 as ::ffff:127.0.0.1, which is this machine too."""
    client = app.server.test_client()
    for address, status in (("127.0.0.1", 200), ("::1", 200), ("::ffff:127.0.0.1", 200),
                            ("10.0.0.9", 403), ("::ffff:10.0.0.9", 403)):
        got = client.get("/views", environ_base={"REMOTE_ADDR": address})
        assert got.status_code == status, (address, got.status_code)


def test_the_open_badge_says_who_may_reach_the_dashboard(app):
    from gadash.web.auth import AUTH_EXTENSION
    from gadash.web.components.cards import create_user_badge

    auth = app.server.extensions[AUTH_EXTENSION]
    with app.server.test_request_context("/"):
        assert create_user_badge().children == "Open · local only"
        kept = auth.settings
        auth.settings = kept.model_copy(update={"allow_open": True})
        try:
            assert create_user_badge().children == "Open · anyone who reaches it"
        finally:
            auth.settings = kept
