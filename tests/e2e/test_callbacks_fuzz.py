"""No 500 for any callback request: malformed bodies and wrong-typed inputs get 400,
well-formed ones still 200. Against the app as a server process, over HTTP."""

from __future__ import annotations

import collections
import json
import os
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import BLOG, SHOP
from tests.servers import start_app, stop_app

PAGES = ("/", "/explore", "/tv")
GOOD_STORE = {"property": "Blog", "range": "last7", "compare": "none",
              "filters": {"country": "Germany"}}


class _NoStories(BaseHTTPRequestHandler):
    """Hacker News search on loopback: no story for any page (share lookups run)."""

    def do_GET(self) -> None:  # noqa: N802 -- http.server's name
        body = b'{"hits": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def app(standin, tmp_path_factory) -> Iterator[dict[str, Any]]:
    shares = ThreadingHTTPServer(("127.0.0.1", 0), _NoStories)
    threading.Thread(target=shares.serve_forever, daemon=True).start()
    # Share lookups on (so fetch_shares runs past its first line), against the
    # loopback server; refusals unlimited, so every request reaches its callback.
    env = {"GADASH_GA_ENDPOINT": standin.endpoint, "GADASH_SHARE_PROVIDERS": "hackernews",
           "GADASH_HACKERNEWS_URL": f"http://127.0.0.1:{shares.server_port}/search",
           "GADASH_SITE_URLS": "Blog=https://blog.example,Shop=https://shop.example",
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_GA_TIMEOUT": "3",
           "GADASH_RATE_REFUSED": "1000000/minute"}
    log = tmp_path_factory.mktemp("fuzz") / "app.log"
    proc, url = start_app(env, log)
    try:
        s = requests.Session()
        for page in PAGES:  # every page renders (and the first sets the CSRF cookie)
            assert s.get(f"{url}{page}", headers={"Accept": "text/html"}).status_code == 200
        deps = s.get(f"{url}/_dash-dependencies").json()
        yield {"url": url, "session": s, "log": log, "all_deps": deps,
               "deps": [d for d in deps if not d.get("clientside_function")]}
    finally:
        stop_app(proc)
        shares.shutdown()
        shares.server_close()


def post(app: dict[str, Any], body: Any, raw: bytes | None = None) -> requests.Response:
    s = app["session"]
    return s.post(f"{app['url']}/_dash-update-component",
                  data=raw if raw is not None else json.dumps(body),
                  headers={"Content-Type": "application/json",
                           "X-CSRFToken": s.cookies.get("_csrf_token") or ""})


def good_value(prop: str) -> Any:
    return {"n_clicks": 1, "n_submit": 1, "n_intervals": 1, "search": "?range=last7",
            "pathname": "/", "value": "Blog", "start_date": "2026-01-01",
            "end_date": "2026-01-07", "data": GOOD_STORE, "rowData": [],
            "cellClicked": {"colId": "sessionSource", "value": "google"},
            "clickData": {"points": [{"customdata": "Germany"}]}}.get(prop)


# A component each pattern-matching key names: a filter, a form row, a saved panel.
WILDCARD_VALUES = {"filter": "country", "row": 0, "panel": 1}


def body_for(dep: dict[str, Any], values: dict[int, Any] | None = None) -> dict[str, Any]:
    """A body as the renderer sends it for ``dep``; ``values`` replaces input values."""
    def item(spec: dict[str, Any], value: Any = None, output: bool = False) -> Any:
        one = {"id": spec["id"], "property": spec["property"]} | ({} if output else
                                                                  {"value": value})
        if not spec["id"].startswith("{"):
            return one
        # A pattern-matching id: ALL gives a list of the matching components, MATCH one.
        pattern = json.loads(spec["id"])
        wild = {k: v for k, v in pattern.items() if v in (["ALL"], ["MATCH"], ["ALLSMALLER"])}
        one["id"] = {**pattern, **{k: WILDCARD_VALUES.get(k, "x") for k in wild}}
        return [one] if ["ALL"] in wild.values() else one

    inputs = [item(spec, (values or {}).get(i, good_value(spec["property"])))
              for i, spec in enumerate(dep["inputs"])]
    outputs = [item(dict(zip(("id", "property"), o.rpartition(".")[::2], strict=True)),
                    output=True) for o in dep["output"].strip(".").split("...")]
    return {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs, "changedPropIds": [],
            "state": [item(spec, good_value(spec["property"])) for spec in dep["state"]]}


def test_every_callback_answers_a_well_formed_request(app):
    for dep in app["deps"]:
        answer = post(app, body_for(dep))
        assert answer.status_code in (200, 204), (dep["output"], answer.text[:300])


@pytest.mark.parametrize("case", [
    "start_date=12345", "chip", "cellClicked", "clickData list", "clickData points",
    "property list", "[]", "null", "inputs empty", "inputs text", "unknown output", "deep",
])
def test_the_cases_that_gave_500(app, case):
    sync = next(d for d in app["deps"] if d["output"].startswith("..an-url.search"))
    index = {(json.loads(i["id"])["type"] if i["id"].startswith("{") else i["id"])
             + "." + i["property"]: n for n, i in enumerate(sync["inputs"])}
    raw = None
    body: Any = body_for(sync)
    if case == "start_date=12345":
        body = body_for(sync, {index["an-dates.start_date"]: 12345})
    elif case == "chip":
        body["inputs"][index["an-chip.n_clicks"]] = [
            {"id": {"type": "an-chip", "filter": "nonsense"}, "property": "n_clicks",
             "value": 1}]
        body["changedPropIds"] = ['{"filter":"nonsense","type":"an-chip"}.n_clicks']
    elif case == "cellClicked":
        body = body_for(sync, {index["an-clicked.data"]: {"from": "an-sources",
                                                          "value": "boom"}})
        body["changedPropIds"] = ["an-clicked.data"]
    elif case == "clickData list":
        body = body_for(sync, {index["an-clicked.data"]: {"from": "an-countries",
                                                          "value": ["x"]}})
        body["changedPropIds"] = ["an-clicked.data"]
    elif case == "clickData points":
        body = body_for(sync, {index["an-clicked.data"]: {"from": "an-countries",
                                                          "value": {"points": ["x"]}}})
        body["changedPropIds"] = ["an-clicked.data"]
    elif case == "property list":
        body = body_for(sync, {index["an-property.value"]: ["Blog"]})
    elif case == "[]":
        body = []
    elif case == "null":
        body = None
    elif case == "inputs empty":
        body = {**body, "inputs": []}
    elif case == "inputs text":
        body = {**body, "inputs": "x"}
    elif case == "unknown output":
        body = {**body, "output": "..nope.children.."}
    elif case == "deep":
        raw = b"[" * 100_000 + b"]" * 100_000
    answer = post(app, body, raw)
    assert answer.status_code < 500, answer.text[:300]
    if case in ("cellClicked", "clickData list", "clickData points"):
        # Relayed by the browser in a store (any JSON): a click that is none is ignored.
        assert answer.status_code == 204
    elif case != "chip":  # a chip naming no filter is simply no filter: 200
        assert answer.status_code == 400 and answer.json()["error"] == "bad_request"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=8), children, max_size=4),
                    max_leaves=12)


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_no_5xx_for_wrong_typed_inputs_and_malformed_bodies(app, data):
    dep = data.draw(st.sampled_from(app["deps"]))
    body: Any = body_for(dep)
    how = data.draw(st.sampled_from(["value", "value", "value", "item", "state", "body",
                                     "key", "id"]))
    if how == "value" and dep["inputs"]:
        i = data.draw(st.integers(0, len(dep["inputs"]) - 1))
        body = body_for(dep, {i: data.draw(JSON)})
    elif how == "item" and dep["inputs"]:
        i = data.draw(st.integers(0, len(dep["inputs"]) - 1))
        body["inputs"][i] = data.draw(JSON)
    elif how == "state" and dep["state"]:
        i = data.draw(st.integers(0, len(dep["state"]) - 1))
        item = body["state"][i]
        (item[0] if isinstance(item, list) else item)["value"] = data.draw(JSON)
    elif how == "body":
        body = data.draw(JSON)
    elif how == "key":
        body[data.draw(st.sampled_from(["output", "outputs", "inputs", "state",
                                        "changedPropIds"]))] = data.draw(JSON)
    elif how == "id" and dep["inputs"]:
        i = data.draw(st.integers(0, len(dep["inputs"]) - 1))
        if isinstance(body["inputs"][i], dict):
            body["inputs"][i]["id"] = data.draw(JSON)
    answer = post(app, body)
    assert answer.status_code < 500, (dep["output"], how, answer.text[:300])


def test_a_body_past_the_limit_gets_413_unread(app):
    big = b'{"output": "' + b"x" * 12_000_000 + b'"}'
    answer = post(app, None, big)
    assert answer.status_code == 413
    anonymous = requests.post(f"{app['url']}/tv-links", data=big,
                              headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 413  # for everyone, before anything reads it


# The wrong-typed rounds: every callback in /_dash-dependencies (clientside ones too)
# gets, each round, one request with one part garbled and one with every input and
# state garbled. Fixed seed (GADASH_FUZZ_SEED for another); GADASH_FUZZ_ROUNDS for more.
ROUNDS = int(os.environ.get("GADASH_FUZZ_ROUNDS", "12"))
SEED = int(os.environ.get("GADASH_FUZZ_SEED", "28"))
# The keys the callbacks read from stores and events: garbage under them gets past
# "is it a dict" and reaches the code that reads them.
KEYS = ("property", "range", "compare", "grain", "filters", "filter", "start", "end",
        "from", "value", "points", "customdata", "colId", "x", "y", "panel", "query",
        "screens", "reload_hours", "pagePath", "screenPageViews", "dims", "metrics",
        "sort", "order", "top", "chart", "id", "type", "fields", "columns")
HUGE = (10**30, -10**30, 2**53, 2**63, 2**64 - 1, 10**400, 1e308, -1e308, float("inf"), 0.1, -1)
TEXT = ("", "x", "[]", "{}", "null", "Blog", "?range=", "/../", "2026-13-45", "\u00e9" * 3,
        "a" * 5000)


def garbage(rng: random.Random, kind: str | None = None, depth: int = 0) -> Any:
    """A value of one kind: text, a dict, a list, nested garbage, a huge number, null."""
    kind = kind or rng.choice(("text", "dict", "list", "nested", "huge", "null", "bool"))
    if depth > 4 and kind in ("dict", "list", "nested"):
        kind = "text"
    if kind == "text":
        return rng.choice(TEXT)
    if kind == "huge":
        return rng.choice(HUGE)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.choice((True, False))
    if kind == "dict":
        return {k: garbage(rng, depth=depth + 1) for k in rng.sample(KEYS, rng.randint(1, 4))}
    if kind == "list":
        return [garbage(rng, depth=depth + 1) for _ in range(rng.randint(0, 4))]
    # nested: lists of dicts of lists, a few levels down
    inner: Any = garbage(rng, rng.choice(("text", "huge", "null")))
    for _ in range(rng.randint(2, 6)):
        inner = [inner] if rng.random() < 0.5 else {rng.choice(KEYS): inner}
    return inner


def garbled(rng: random.Random, good: Any) -> Any:
    """``good`` with its shape kept and garbage inside (it gets past a type check), or
    a value of another type."""
    if isinstance(good, dict) and good and rng.random() < 0.6:
        return {k: garbage(rng) if rng.random() < 0.5 else v for k, v in good.items()}
    if isinstance(good, list) and rng.random() < 0.6:
        return [garbage(rng) for _ in range(rng.randint(1, 4))]
    return garbage(rng)


def wrong_id(rng: random.Random, item: dict[str, Any]) -> Any:
    """Another component's id, a pattern id with a wildcard or extra key, or no id."""
    sent = item.get("id")
    choices: list[Any] = ["an-nope", {"type": "an-chip"}, {"type": ["ALL"]}, 5, None,
                          {"type": "an-pick-open", "filter": {"x": 1}}, ["an-url"]]
    if isinstance(sent, dict):
        choices += [{**sent, "extra": 1}, {k: ["MATCH"] for k in sent},
                    {**sent, "type": "tv-panel-body"}, json.dumps(sent)]
    return rng.choice(choices)


def garble_body(rng: random.Random, dep: dict[str, Any], body: dict[str, Any],
                every: bool) -> str:
    """Garble ``body`` in place (``every``: all inputs and states); which part."""
    def items(part: str) -> list[dict[str, Any]]:
        return [one for entry in body[part]
                for one in (entry if isinstance(entry, list) else [entry])]

    if every:
        for one in items("inputs") + items("state"):
            one["value"] = garbled(rng, one.get("value"))
        return "every value"
    part = rng.choice(("inputs", "inputs", "inputs", "state", "state", "id", "property",
                       "outputs", "changedPropIds", "item"))
    if part in ("inputs", "state") and items(part):
        one = rng.choice(items(part))
        one["value"] = garbled(rng, one.get("value"))
    elif part == "id" and items("inputs"):
        one = rng.choice(items("inputs"))
        one["id"] = wrong_id(rng, one)
    elif part == "property" and items("inputs"):
        rng.choice(items("inputs"))["property"] = rng.choice(("value", "data", "nope", 1))
    elif part == "item" and body["inputs"]:
        body["inputs"][rng.randrange(len(body["inputs"]))] = garbage(rng)
    elif part == "outputs":
        body["outputs"] = garbled(rng, body["outputs"])
    else:
        part = "changedPropIds"
        body["changedPropIds"] = rng.choice(
            (garbage(rng), [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]
             if dep["inputs"] else []))
    return part


def with_known(body: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the values the app itself made for its plain-id inputs and states."""
    for one in [*body["inputs"], *body["state"]]:
        if isinstance(one, dict) and isinstance(one["id"], str):
            one["value"] = known.get(f"{one['id']}.{one['property']}", one["value"])
    return body


def harvest(app: dict[str, Any]) -> dict[str, Any]:
    """What the server-side callbacks answer to well-formed requests, by ``id.prop``:
    the real shapes of the stores (a TV's config, its drawn data), to garble inside."""
    known: dict[str, Any] = {}
    for _ in range(2):  # one callback's store is the next one's input
        for dep in app["deps"]:
            answer = post(app, with_known(body_for(dep), known))
            if answer.status_code == 200:
                for component, props in answer.json().get("response", {}).items():
                    known.update({f"{component}.{prop}": v for prop, v in props.items()})
    return known


def test_rounds_of_wrong_typed_inputs_to_every_callback_get_no_5xx(app):
    known = harvest(app)
    assert {"tv-config.data", "an-pages.rowData"} <= set(known)
    rng = random.Random(SEED)
    statuses: collections.Counter[int] = collections.Counter()
    failures = []
    for round_ in range(ROUNDS):
        for dep in app["all_deps"]:
            for every in (False, True):
                body = with_known(body_for(dep), known)
                for one in [*body["inputs"], *body["state"]]:  # the page it is asked from
                    for item in one if isinstance(one, list) else [one]:
                        if item["property"] == "pathname":
                            item["value"] = PAGES[round_ % len(PAGES)]
                part = garble_body(rng, dep, body, every)
                answer = post(app, body)
                statuses[answer.status_code] += 1
                if answer.status_code >= 500:
                    failures.append((round_, dep["output"][:80], part, answer.text[:200]))
                elif answer.status_code == 400:
                    assert 0 < len(answer.json()["message"]) < 120, answer.text[:300]
    print(f"{sum(statuses.values())} requests: {dict(sorted(statuses.items()))}")
    by_callback = collections.Counter(output for _, output, _, _ in failures)
    assert not failures, f"{len(failures)} answers >= 500: {by_callback}, e.g. {failures[:3]}"
    assert 429 not in statuses  # the refused-requests limit never stopped one
    assert statuses[200] + statuses[204] > 0  # some reached their callback and ran
    assert "Traceback" not in Path(app["log"]).read_text(errors="replace")


def test_a_clientside_output_is_refused_not_run(app):
    """Dash runs those in the browser; asked of the server it raised KeyError (500)."""
    clientside = [d for d in app["all_deps"] if d.get("clientside_function")]
    assert clientside
    for dep in clientside:
        answer = post(app, body_for(dep))
        assert answer.status_code == 400, (dep["output"], answer.text[:300])
        assert answer.json()["message"] == "that output is set in the browser, not by the server"


def test_share_lookups_refuse_text_rows_and_skip_odd_ones(app):
    shares = next(d for d in app["deps"] if d["output"] == "an-shares.data")
    answer = post(app, body_for(shares, {0: ["/a", "/b"]}))  # rows that are text: was 500
    assert answer.status_code == 400
    assert answer.json()["message"] == "inputs[0]: rowData must be a list of rows (objects)"
    # Rows of the right type with odd contents: those are not looked up.
    odd = [{"pagePath": 5, "screenPageViews": 9}, {"screenPageViews": "many"},
           {"pagePath": ["/x"]}, {"pagePath": "(other)", "screenPageViews": 2**60}]
    assert post(app, body_for(shares, {0: odd})).status_code == 204
    # The pages among them still are, for the property in the store (or the first).
    rows = [*odd, {"pagePath": "/pricing", "screenPageViews": "x"},
            {"pagePath": "/blog", "screenPageViews": 3}]
    for store in (GOOD_STORE, "Blog", {"property": ["Shop"]}):
        body = body_for(shares, {0: rows})
        body["state"][0]["value"] = store
        answer = post(app, body)
        assert answer.status_code == 200, answer.text[:300]
        fields = answer.json()["response"]["an-shares"]["data"]["fields"]
        assert set(fields) == {"/pricing", "/blog"}


def test_values_dash_cannot_write_back_are_refused(app):
    """Explore's grid echoes its options: {"x": 2**64} there made Dash's encoder raise."""
    grid = next(d for d in app["deps"] if d["output"].startswith("..ex-grid.rowData"))
    deep: Any = 1
    for depth in range(300):
        deep = [deep]
        if depth == 200:
            fine = deep
    for options, reason in (({"x": 2**64}, "a number past 64 bits or nesting too deep"),
                            ({"x": deep}, "a number past 64 bits or nesting too deep"),
                            (2**53 + 1, "a number past 2**53")):
        body = body_for(grid)
        body["state"][0]["value"] = options
        answer = post(app, body)
        assert answer.status_code == 400, answer.text[:300]
        assert answer.json()["message"] == f"state[0]: {reason}"
    # Within the limits the options are written back, with the rows of a real state.
    url = next(d for d in app["deps"] if d["output"].startswith("..ex-url.search"))
    state = post(app, body_for(url)).json()["response"]["ex-state"]["data"]
    body = body_for(grid, {0: state})
    body["state"][0]["value"] = {"x": 2**64 - 1, "y": fine}
    answer = post(app, body)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["response"]["ex-grid"]["dashGridOptions"]["x"] == 2**64 - 1
