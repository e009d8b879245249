"""Several processes sharing one Redis: GA sees one call per refresh, whatever the load.

gunicorn with four workers serves the app; a real Valkey server is the shared
cache; the GA4 stand-in counts the calls that reach it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.conftest import BLOG, SHOP, free_port
from tests.servers import callback_body, start_app, stop_app

TV_CONFIG = {"property": "Blog", "range": "last7", "compare": "previous",
             "screens": ["overview"], "rotate": 30, "refresh": 1, "realtime": 20,
             "reload_hours": 0}


@pytest.fixture()
def redis_port() -> Iterator[int]:
    from tests.valkey import Valkey

    port = free_port()
    server = Valkey(port=port)
    server.start()
    holder = {"server": server}
    yield port
    if holder["server"].is_running():
        holder["server"].stop()


@pytest.fixture()
def cluster(standin_clean, redis_port, tmp_path) -> Iterator[str]:
    env = {"GADASH_GA_ENDPOINT": standin_clean.endpoint,
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_GA_TIMEOUT": "1",
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "GADASH_CACHE_TTL": "2",
           "GADASH_SHARE_PROVIDERS": ""}
    proc, url = start_app(env, tmp_path / "gunicorn.log", workers=4)
    try:
        yield url
    finally:
        stop_app(proc)


def tv_request(url: str) -> tuple[requests.Session, dict[str, Any], dict[str, Any]]:
    """A fresh screen's session, its poll's body and its draw's body."""
    s = requests.Session()
    s.get(url + "/tv", headers={"Accept": "text/html"})
    deps = s.get(url + "/_dash-dependencies").json()
    body = callback_body(
        deps, "..tv-status.data",
        [{"id": "tv-refresh", "property": "n_intervals", "value": 1},
         {"id": "tv-config", "property": "data", "value": TV_CONFIG}],
        [{"id": "tv-status", "property": "data", "value": None},
         {"id": "tv-drawn", "property": "data", "value": None}])
    draw = callback_body(
        deps, "..tv-kpi-totalUsers",
        [{"id": "tv-todraw", "property": "data", "value": None}],
        [{"id": "tv-config", "property": "data", "value": TV_CONFIG},
         {"id": "tv-drawn", "property": "data", "value": None}])
    return s, body, draw


def screen_poll(url: str, s: requests.Session, body: dict[str, Any], draw: dict[str, Any]
                ) -> tuple[int, dict[str, Any] | None]:
    """A poll as the browser makes it: when the answer names a rendering the screen
    lacks, the draw callback follows; the two answers together."""
    headers = {"Content-Type": "application/json",
               "X-CSRFToken": s.cookies.get("_csrf_token") or ""}
    r = s.post(url + "/_dash-update-component", data=json.dumps(body), headers=headers)
    if r.status_code != 200:
        return r.status_code, None
    answer = dict(r.json()["response"])
    if "tv-todraw" in answer:
        draw["inputs"][0]["value"] = answer["tv-todraw"]["data"]
        d = s.post(url + "/_dash-update-component", data=json.dumps(draw), headers=headers)
        if d.status_code not in (200, 204):
            return d.status_code, None
        if d.status_code == 200:
            answer |= d.json()["response"]
    return 200, answer


def poll(url: str, viewers: int) -> list[tuple[int, dict[str, Any] | None]]:
    """``viewers`` screens ask for the same refresh at the same moment."""
    screens = [tv_request(url) for _ in range(viewers)]
    with ThreadPoolExecutor(viewers) as pool:
        return list(pool.map(lambda screen: screen_poll(url, *screen), screens))


def status_of(answer: dict[str, Any] | None) -> dict[str, Any]:
    assert answer is not None
    return answer["tv-status"]["data"]


def test_concurrent_expiring_requests_make_one_ga_call(cluster, standin_clean):
    calls = standin_clean.servicer.calls
    calls.clear()
    first = poll(cluster, 24)
    assert all(code == 200 for code, _ in first)
    assert calls["BatchRunReports"] == 1
    assert {status_of(a)["ok"] for _, a in first} == {True}
    time.sleep(2.5)  # every entry has expired
    again = poll(cluster, 24)
    assert all(code == 200 for code, _ in again)
    assert calls["BatchRunReports"] == 2


def test_ga_faults_serve_stale_marked_data_then_recover(cluster, standin_clean):
    poll(cluster, 4)
    for fault in ("UNAVAILABLE", "RESOURCE_EXHAUSTED"):
        time.sleep(2.2)
        standin_clean.servicer.set_fault(fault, f"stand-in says {fault}")
        # The one refresher meets the error; the others get the old value meanwhile.
        assert all(code == 200 for code, _ in poll(cluster, 8))
        answers = poll(cluster, 8)  # now every worker knows why the data is old
        assert all(code == 200 for code, _ in answers)
        states = [status_of(a) for _, a in answers]
        assert all(not s["ok"] for s in states)
        assert any("stand-in says" in s["error"] or "quota" in s["error"].lower()
                   for s in states)
        # the stale numbers are still delivered to a screen that has none
        assert all(a["tv-kpi-sessions"]["children"] for _, a in answers)
        standin_clean.servicer.clear_fault()
    time.sleep(2.2)
    standin_clean.servicer.reset_quota()
    time.sleep(0.5)
    recovered = [status_of(a) for _, a in poll(cluster, 4)]
    assert any(s["ok"] for s in recovered)


@pytest.fixture()
def own_standin() -> Iterator[dict[str, Any]]:
    """A stand-in of the test's own, so that it can be killed and started again."""
    from gadash.standin.server import StandinServer
    from tests.conftest import test_properties

    port = free_port()
    holder = {"port": port, "server": StandinServer(test_properties(), port=port).start()}
    yield holder
    holder["server"].stop()


def test_stand_in_killed_and_redis_restarted_mid_run(own_standin, redis_port, tmp_path):
    import redis as redis_client

    from gadash.standin.server import StandinServer
    from tests.conftest import test_properties
    from tests.valkey import Valkey

    env = {"GADASH_GA_ENDPOINT": f"127.0.0.1:{own_standin['port']}",
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_GA_TIMEOUT": "1",
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "GADASH_CACHE_TTL": "2",
           "GADASH_SHARE_PROVIDERS": ""}
    proc, cluster = start_app(env, tmp_path / "gunicorn.log", workers=4)
    try:
        poll(cluster, 4)
        time.sleep(2.2)
        own_standin["server"].stop()  # GA is gone
        assert all(code == 200 for code, _ in poll(cluster, 8))
        answers = poll(cluster, 8)
        assert all(code == 200 for code, _ in answers)
        assert all(not status_of(a)["ok"] for _, a in answers)  # stale, and marked so
        assert all(a["tv-kpi-sessions"]["children"] for _, a in answers)
        own_standin["server"] = StandinServer(test_properties(),
                                              port=own_standin["port"]).start()
        deadline = time.monotonic() + 20
        while not all(status_of(a)["ok"] for _, a in poll(cluster, 4)):
            assert time.monotonic() < deadline
            time.sleep(0.5)

        # Redis goes away: workers keep serving from their own memory.
        redis_client.from_url(f"redis://127.0.0.1:{redis_port}/0").shutdown(nosave=True)
        time.sleep(0.5)
        assert all(code == 200 for code, _ in poll(cluster, 8))
        assert requests.get(cluster + "/healthz").json()["status"] == "ok"
        server = Valkey(port=redis_port)
        server.start()
        try:
            deadline = time.monotonic() + 20
            while requests.get(cluster + "/healthz").json()["cache"] != "shared":
                assert time.monotonic() < deadline
                answers = poll(cluster, 4)
                assert all(code == 200 for code, _ in answers)
                time.sleep(0.5)
            assert all(status_of(a)["ok"] for _, a in poll(cluster, 8))
        finally:
            server.stop()
    finally:
        stop_app(proc)


def test_a_screen_that_has_the_answer_gets_only_the_times(cluster, standin_clean):
    s, body, draw = tv_request(cluster)

    def ask(drawn: Any) -> dict[str, Any]:
        body["state"][1]["value"] = drawn
        draw["state"][1]["value"] = drawn
        code, answer = screen_poll(cluster, s, body, draw)
        assert code == 200 and answer is not None
        return answer

    first = ask(None)
    drawn = first["tv-drawn"]["data"]
    assert "#" in drawn and first["tv-kpi-sessions"]["children"] not in ("", "–")
    assert first["tv-todraw"]["data"] == drawn  # the poll named what was then drawn
    again = ask(drawn)  # the same cache entry: nothing is drawn again
    assert set(again) == {"tv-updated-overview", "tv-updated-pages", "tv-updated-sources",
                          "tv-status"}
    assert again["tv-updated-overview"]["children"].startswith("updated ")
    # Another screen (any worker) that drew something else gets the whole answer ...
    other = ask("trend#0:")
    assert other["tv-drawn"]["data"] == drawn and "tv-kpi-sessions" in other
    # ... and once the entry is refreshed (2 s TTL), so does this one.
    time.sleep(2.2)
    fresh = ask(drawn)
    assert fresh["tv-drawn"]["data"] != drawn and "tv-kpi-sessions" in fresh


def test_dash_is_set_up_before_the_first_request(standin, tmp_path):
    """Dash sets itself up on the first request with unguarded flags: two first requests
    at once in a new worker could find no layout (a 500) or no callbacks. create_app does
    it before serving."""
    import os
    import subprocess
    import sys

    probe = ("import app, json; a = app.app; "
             "print(json.dumps([a.layout is not None, "
             "any(k.startswith('_pages_content.children') or '.._pages_content.children' in k "
             "for k in a.callback_map), len(a.callback_map)]))")
    env = {**os.environ, "GADASH_GA_ENDPOINT": standin.endpoint,
           "GADASH_PROPERTIES": f"Blog={BLOG}", "GADASH_SHARE_PROVIDERS": "",
           "GADASH_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    has_layout, has_router, callbacks = json.loads(out.stdout.strip().splitlines()[-1])
    assert has_layout and has_router and callbacks > 20
