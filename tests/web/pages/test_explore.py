"""Explore: the form's state, the answer over HTTP against GA's own values, refusals
before any data call, saved panels on the analyst view and the TV."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import dash
import pytest
from google.analytics.data_v1beta import types as ga

from gadash.core.explore import BUILTINS, parse_explore_query
from gadash.core.urls import parse_tv_query
from gadash.errors import QueryError
from gadash.store.tvlinks import TvLinks
from gadash.web.components.ids import ExIds as X
from tests.conftest import BLOG, SHOP
from tests.servers import callback_body


@pytest.fixture()
def ctx(app):
    with app.server.test_request_context():
        yield app


def call(client, output_prefix: str, inputs: list[dict[str, Any]],
         state: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body = callback_body(client.get("/_dash-dependencies").get_json(), output_prefix, inputs,
                         state)
    client.get("/explore")  # the CSRF cookie, as a page load sets it
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", data=json.dumps(body),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"]


def state_input(query: str, panel: int | None = None, prop: str = "Blog") -> dict[str, Any]:
    return {"id": X.STATE, "property": "data",
            "value": {"query": query, "panel": panel, "property": prop}}


def custom_fields(app, property_id: str) -> tuple[str, str]:
    """The property's first custom dimension and custom metric, as GetMetadata lists them."""
    with app.server.app_context():
        from gadash.web.context import get_service

        fields = get_service().fields(property_id)
    dim = next(f.api_name for f in fields.dimensions if f.custom)
    metric = next(f.api_name for f in fields.metrics
                  if f.custom and not f.api_name.startswith("keyEvents:"))
    return dim, metric


def ga_answer(ga_client, property_id: str, start: date, end: date, dims: list[str],
              metrics: list[str]) -> tuple[dict[tuple[str, ...], list[float]], list[float]]:
    """GA's own rows and totals for the same question."""
    response = ga_client.run_report(ga.RunReportRequest(
        property=property_id, dimensions=[ga.Dimension(name=d) for d in dims],
        metrics=[ga.Metric(name=m) for m in metrics], limit=10_000,
        metric_aggregations=[ga.MetricAggregation.TOTAL],
        date_ranges=[ga.DateRange(start_date=str(start), end_date=str(end))]))
    rows = {tuple(v.value for v in r.dimension_values): [float(v.value) for v in r.metric_values]
            for r in response.rows}
    return rows, [float(v.value) for v in response.totals[0].metric_values]


def test_the_url_is_the_state_and_the_form_says_the_same(ctx):
    from gadash.web.pages.explore import controls_of, params_of, state_from_url

    query = ("?property=Shop&range=last7&compare=year&dim=eventName&metric=eventCount"
             "&metric=totalUsers&where.country.not=Germany&where.deviceCategory.contains=mob"
             "&having.eventCount.ge=5&sort=totalUsers&order=asc&top=10&chart=table")
    state, panel, notes = state_from_url(query)
    assert notes == [] and panel is None
    shown = controls_of(state)
    assert shown["where_field"] == ["country", "deviceCategory", None]
    assert shown["where_cond"] == ["not.is", "contains", "is"]
    assert shown["having_value"] == [5.0, None]
    # What the form holds reads back as the same state.
    again, notes = parse_explore_query(params_of(shown, date.today()), ["Blog", "Shop"],
                                       date.today())
    assert again == state and notes == []
    # Several values in one box: "is one of".
    values = {**shown, "where_value": ["Germany, France", "", ""]}
    again, _ = parse_explore_query(params_of(values, date.today()), ["Blog", "Shop"],
                                   date.today())
    assert again.exploration.where[0].condition.values == ("Germany", "France")
    # A condition that matches case keeps doing so when another control changes.
    cased, _, _ = state_from_url("?property=Blog&metric=sessions"
                                 "&where.pagePath.contains.case=/Blog")
    again, _ = parse_explore_query(params_of(controls_of(cased), date.today(),
                                             frozenset({"pagePath"})), ["Blog"], date.today())
    assert again.exploration.where == cased.exploration.where


def test_a_custom_dimension_by_a_custom_metric_is_gas_own_answer(app, ga_client, standin):
    dim, metric = custom_fields(app, BLOG)
    client = app.server.test_client()
    query = "?" + urlencode({"property": "Blog", "range": "last28", "compare": "none",
                             "dim": dim, "metric": metric, "top": 25})
    out = call(client, f"..{X.GRID}.rowData", [state_input(query)],
               [{"id": X.GRID, "property": "dashGridOptions", "value": {}}])
    rows = out[X.GRID]["rowData"]
    today = _today(app, BLOG)
    want, totals = ga_answer(ga_client, BLOG, today - timedelta(days=28),
                             today - timedelta(days=1), [dim], [metric])
    top = dict(sorted(want.items(), key=lambda kv: -kv[1][0])[:25])
    assert rows and {(r[dim],): [float(r[metric])] for r in rows} == top
    assert out[X.GRID]["dashGridOptions"]["pinnedBottomRowData"][0][metric] == \
        pytest.approx(totals[0])
    headers = [c["headerName"] for c in out[X.GRID]["columnDefs"]]
    assert len(headers) == 2 and all(h != dim for h in headers)  # GA's UI names
    # The chart draws the same values.
    out = call(client, f"..{X.TITLE}.children", [state_input(query)])
    bars = out[X.GRAPH]["figure"]["data"][-1]
    assert sorted(bars["x"], reverse=True) == [v[0] for v in top.values()][:len(bars["x"])]


def _today(app, property_id: str) -> date:
    with app.server.app_context():
        from gadash.web.context import get_service

        return get_service().today(property_id)


def test_an_incompatible_pair_is_refused_with_gas_reason_and_no_data_call(app, standin_clean):
    client = app.server.test_client()
    query = "?" + urlencode({"property": "Shop", "dim": "itemName", "metric": "sessions"})
    out = call(client, f"..{X.TITLE}.children", [state_input(query, prop="Shop")])
    error = json.dumps(out[X.ERROR]["children"])
    assert "incompatible" in error and "itemName" in error + json.dumps(out[X.TITLE])
    assert standin_clean.servicer.calls["RunReport"] == 0
    assert standin_clean.servicer.calls["BatchRunReports"] == 0
    assert standin_clean.servicer.calls["CheckCompatibility"] >= 1
    # A name the property does not have is refused without even asking GA.
    query = "?" + urlencode({"property": "Shop", "metric": "customEvent:nothing_here"})
    out = call(client, f"..{X.TITLE}.children", [state_input(query, prop="Shop")])
    assert "no dimension or metric named 'customEvent:nothing_here'" in json.dumps(
        out[X.ERROR]["children"])
    assert standin_clean.servicer.calls["BatchRunReports"] == 0


@pytest.mark.parametrize("builtin, prop", [("events", "Blog"), ("campaigns", "Blog"),
                                           ("products", "Shop")])
def test_the_built_in_panels_show_gas_values(app, ga_client, builtin, prop):
    e = BUILTINS[builtin].exploration
    property_id = {"Blog": BLOG, "Shop": SHOP}[prop]
    client = app.server.test_client()
    query = "?" + urlencode({"property": prop, "compare": "none", "builtin": builtin})
    state, _ = parse_explore_query(query, ["Blog", "Shop"], date.today())
    out = call(client, f"..{X.GRID}.rowData", [state_input(state.to_query_string(), prop=prop)],
               [{"id": X.GRID, "property": "dashGridOptions", "value": {}}])
    rows = out[X.GRID]["rowData"]
    today = _today(app, property_id)
    want, totals = ga_answer(ga_client, property_id, today - timedelta(days=28),
                             today - timedelta(days=1), list(e.dimensions), list(e.metrics))
    got = {tuple(r[d] for d in e.dimensions): [float(r[m]) for m in e.metrics] for r in rows}
    assert got and all(want[k] == pytest.approx(v) for k, v in got.items())
    pinned = out[X.GRID]["dashGridOptions"]["pinnedBottomRowData"][0]
    assert [pinned[m] for m in e.metrics] == pytest.approx(totals)


def test_a_saved_panel_is_pinned_shown_on_tv_and_guarded_while_a_tv_shows_it(app, standin):
    from gadash.web.answers import panel_of
    from gadash.web.pages.overview import pinned
    from gadash.web.pages.tv import draw_panel_screen

    client = app.server.test_client()
    query = "?" + urlencode({"property": "Blog", "range": "last7", "dim": "eventName",
                             "metric": "eventCount"})
    state, _ = parse_explore_query(query, ["Blog", "Shop"], date.today())
    out = call(client, f"..{X.SAVE_STATUS}.children", [
        {"id": X.SAVE, "property": "n_clicks", "value": 1},
        {"id": X.SAVE_NEW, "property": "n_clicks", "value": 0},
        {"id": X.SAVE_NAME, "property": "n_submit", "value": 0}], [
        {"id": X.SAVE_NAME, "property": "value", "value": "  Events   this week "},
        {"id": X.SAVE_PIN, "property": "value", "value": "pin"},
        state_input(state.to_query_string()),
        {"id": X.PANELS_VERSION, "property": "data", "value": 0}])
    said = json.dumps(out[X.SAVE_STATUS]["children"])
    number = int(said.split("Saved as panel ")[1].split(":")[0])
    assert "Events this week" in said and f"panel:{number}" in said
    assert out[X.URL]["search"].endswith(f"&panel={number}")
    with app.server.test_request_context():
        shown = panel_of(f"panel:{number}", "Blog")
        assert shown.name == "Events this week" and shown.state == state
        cards = json.dumps(pinned(True, {"property": "Blog", "range": "last28",
                                         "compare": "previous", "filters": []}), default=str)
        assert "Events this week" in cards and f"panel={number}" in cards
        config, _ = parse_tv_query(f"?property=Blog&screens=overview,panel:{number}",
                                   ["Blog", "Shop"], date.today(), app.server.extensions[
                                       "gadash"].settings)
        service = app.server.extensions["gadash"]
        calls = standin.servicer.calls["BatchRunReports"]
        body, line, version = draw_panel_screen(f"panel:{number}", config, None, service)
        assert "page_view" in json.dumps(body, default=str) and "updated" in line
        # One GA call, the comparison period included; the next poll of any screen of
        # this panel finds its answer drawn: no call, nothing sent but the time.
        assert standin.servicer.calls["BatchRunReports"] == calls + 1
        again = draw_panel_screen(f"panel:{number}", config, version, service)
        assert again[2] == version and standin.servicer.calls["BatchRunReports"] == calls + 1
        assert again[0] is dash.no_update
        # A TV link shows it: deleting says which, and needs a second press.
        links = TvLinks(app.server.extensions["gadash_store"], "secret-key")
        links.create(f"?property=Blog&screens=overview,panel:{number}", "Office TV",
                     "test", 30)
    first = press_delete(client, number, 1)
    assert "Office TV" in json.dumps(first) and X.PANELS_VERSION not in first
    assert app.server.extensions["gadash_store"].panels.get(number) is not None  # still there
    with app.server.test_request_context(), pytest.raises(QueryError, match="panel of Blog"):
        panel_of(f"panel:{number}", "Shop")  # a playlist of another property cannot show it
    second = press_delete(client, number, 2)
    assert f"Deleted panel {number}" in json.dumps(second) and "Office TV" in json.dumps(second)


def press_delete(client, number: int, clicks: int) -> dict[str, Any]:
    """A press of a saved panel's Delete button, as the renderer posts it."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if d["output"].startswith(f"..{X.SAVE_STATUS}.children@"))
    button = {"panel": number, "type": X.PANEL_DELETE}
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
               for o in dep["output"].strip(".").split("...")]
    body = {"output": dep["output"], "outputs": outputs,
            "inputs": [[{"id": button, "property": "n_clicks", "value": clicks}], []],
            "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"],
            "state": [{"id": X.PANELS_VERSION, "property": "data", "value": 3}]}
    client.get("/explore")
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", data=json.dumps(body),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"]


def test_a_tv_draws_only_its_own_playlists_panels(app):
    """A poll naming panels its playlist does not have (another property's, any number
    of them) gets nothing for them: no panel is read, no GA call is made."""
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if '"tv-panel-body"' in d["output"])
    client = app.server.test_client()
    client.get("/tv")
    token = client.get_cookie("_csrf_token").value

    def ask(screens: list[str]) -> Any:
        outputs = [[{"id": {"panel": s, "type": t}, "property": "children"} for s in screens]
                   for t in ("tv-panel-body", "tv-panel-updated")]
        body = {"output": dep["output"], "inputs": [
            {"id": "tv-refresh", "property": "n_intervals", "value": 1},
            {"id": "tv-config", "property": "data",
             "value": {"property": "Blog", "screens": ["overview", "panel:events"]}}],
            "outputs": [*outputs, {"id": "tv-panels-drawn", "property": "data"}],
            "changedPropIds": ["tv-refresh.n_intervals"],
            "state": [{"id": "tv-panels-drawn", "property": "data", "value": {}}]}
        response = client.post("/_dash-update-component", data=json.dumps(body),
                               content_type="application/json", headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.data[:300]
        return response.get_json()["response"]

    out = json.dumps(ask(["panel:events", "panel:1", "panel:999", "panel:²"]))
    assert "event_count" in out.lower() or "page_view" in out
    assert '"panel:1"' not in out and '"panel:999"' not in out


def test_rates_read_as_percentages(ctx):
    from gadash.web.components.explore import format_value

    assert format_value("TYPE_FLOAT", 0.5512, name="engagementRate") == "55.1%"
    assert format_value("TYPE_FLOAT", 0.031, name="sessionKeyEventRate:sign_up") == "3.1%"
    assert format_value("TYPE_FLOAT", 2.5, name="eventsPerSession") == "2.5"
