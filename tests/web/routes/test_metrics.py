"""/metrics: every gunicorn worker's counts in one answer, and who may read it.

gunicorn with four workers (``gadash/gunicorn_conf.py``, prometheus-client's
multiprocess mode) serves the app over a real Valkey; the GA4 stand-in counts
the calls that reach it, and /metrics must say the same.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client import REGISTRY
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from gadash.settings import Settings
from gadash.standin.server import StandinServer
from gadash.web.routes.metrics import TvScreens, allowed, callback_name
from tests.conftest import BLOG, SHOP, free_port, test_properties
from tests.e2e.test_instances import TV_CONFIG, poll
from tests.servers import ROOT, callback_body, start_app, stop_app

ANALYST_STATE = {"property": "Blog", "range": "last28", "compare": "previous",
                 "filters": {"source": "", "medium": "", "country": "", "device": "",
                             "page": ""}}


@pytest.fixture()
def redis_url() -> Iterator[str]:
    from tests.valkey import Valkey

    port = free_port()
    server = Valkey(port=port)
    server.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if server.is_running():
            server.stop()


@pytest.fixture(scope="module")
def own_standin() -> Iterator[StandinServer]:
    """A GA4 stand-in of this module's own: the session's is also asked by other
    tests' apps still running (their cache warmers), which this cluster does not count."""
    server = StandinServer(test_properties()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def cluster(own_standin, redis_url, tmp_path) -> Iterator[tuple[str, Path]]:
    """Four gunicorn workers with gadash/gunicorn_conf.py and a fresh metrics directory.

    GA calls may take 30 s: these tests count calls and their outcomes, and a loaded
    machine (the suite beside other work) once took the stand-in past 3 s."""
    own_standin.servicer.calls.clear()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {"GADASH_GA_ENDPOINT": own_standin.endpoint,
           "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}", "GADASH_GA_TIMEOUT": "30",
           "REDIS_URL": redis_url, "GADASH_SHARE_PROVIDERS": "",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    proc, url = start_app(env, tmp_path / "gunicorn.log", workers=4,
                          config=str(ROOT / "gadash" / "gunicorn_conf.py"))
    try:
        yield url, metrics_dir
    finally:
        stop_app(proc)


def scrape(url: str, **headers: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """/metrics as sample name -> labels -> value."""
    r = requests.get(url + "/metrics", headers=headers)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/plain; version=")
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def by_label(samples: dict[tuple[tuple[str, str], ...], float], label: str) -> Counter[str]:
    total: Counter[str] = Counter()
    for labels, value in samples.items():
        total[dict(labels)[label]] += int(value)
    return total


def ga_calls_per_worker(metrics_dir: Path) -> dict[str, int]:
    """GA calls in each worker's own file (worker pid -> calls)."""
    out = {}
    for path in metrics_dir.glob("counter_*.db"):
        families = MultiProcessCollector.merge([str(path)])
        out[path.stem.rsplit("_", 1)[1]] = int(sum(
            s.value for f in families for s in f.samples if s.name == "gadash_ga_calls_total"))
    return out


def workers_timed(metrics_dir: Path) -> int:
    """How many workers have timed a callback (each writes its own histogram file)."""
    return sum(1 for path in metrics_dir.glob("histogram_*.db") if any(
        s.value for f in MultiProcessCollector.merge([str(path)]) for s in f.samples
        if s.name == "gadash_callback_seconds_count"))


def call(url: str, prefix: str, inputs: list[dict[str, Any]],
         state: list[dict[str, Any]] | None = None, page: str = "/") -> dict[str, Any]:
    """One callback from a fresh browser session, as the page would send it."""
    s = requests.Session()
    s.get(url + page, headers={"Accept": "text/html"})
    body = callback_body(s.get(url + "/_dash-dependencies").json(), prefix, inputs, state)
    r = s.post(url + "/_dash-update-component", data=json.dumps(body),
               headers={"Content-Type": "application/json",
                        "X-CSRFToken": s.cookies.get("_csrf_token") or ""})
    assert r.status_code == 200, r.text[:300]
    return r.json()["response"]


def analyst(url: str, range_: str) -> dict[str, Any]:
    return call(url, "..an-kpis.children", [
        {"id": "an-state", "property": "data", "value": {**ANALYST_STATE, "range": range_}},
        {"id": "an-notes-version", "property": "data", "value": 0}])


def realtime(url: str) -> dict[str, Any]:
    config = {**TV_CONFIG, "screens": ["realtime"]}
    return call(url, "..tv-rt-status.data", [
        {"id": "tv-realtime-tick", "property": "n_intervals", "value": 1},
        {"id": "tv-config", "property": "data", "value": config}],
        [{"id": "tv-rt-status", "property": "data", "value": None},
         {"id": "tv-spark-drawn", "property": "data", "value": None}], page="/tv")


def test_ga_calls_counted_by_all_workers_equal_the_calls_ga_received(cluster, own_standin):
    url, metrics_dir = cluster
    # 20 screens from fresh sessions at once, then analysts and realtime screens
    # on several threads: the requests spread over the four workers (first until
    # every worker has loaded the app and answers).
    screens = 0
    deadline = time.monotonic() + 60
    while workers_timed(metrics_dir) < 4 and time.monotonic() < deadline:
        assert all(code == 200 for code, _ in poll(url, 20))
        screens += 20
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda r: analyst(url, r), ["last7", "last28", "last90", "last7",
                                                  "last28", "last90"]))
        list(pool.map(lambda _: realtime(url), range(6)))
    # Each worker's cache warmer may have a refresh on the wire right now: GA has
    # counted it, the worker counts it when the answer is back. Compare once no call
    # is in flight (the two agree), or after 10 s (they must agree by then).
    deadline = time.monotonic() + 10
    while True:
        received = {m: n for m, n in own_standin.servicer.calls.items() if n}
        metrics = scrape(url)
        counted = by_label(metrics["gadash_ga_calls_total"], "method")
        if dict(counted) == received or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print("GA calls per method, /metrics vs stand-in:", dict(counted), received)
    assert dict(counted) == received  # per method, exactly
    assert {"BatchRunReports", "RunRealtimeReport"} <= set(received)
    assert set(by_label(metrics["gadash_ga_calls_total"], "outcome")) == {"ok"}
    assert sum(metrics["gadash_ga_call_seconds_count"].values()) == sum(received.values())
    # Each worker counts in its own file; /metrics added up those of several.
    per_worker = ga_calls_per_worker(metrics_dir)
    print("GA calls per worker:", per_worker, "TV screens:", screens)
    assert sum(1 for n in per_worker.values() if n) >= 2

    # Every TV poll was timed under its callback's first output id, and each fresh
    # screen's drawing under the drawing's; 20 screens.
    seconds = metrics["gadash_callback_seconds_count"]
    assert seconds[(("callback", "tv-status"),)] == screens
    assert seconds[(("callback", "tv-kpi-totalUsers"),)] == screens
    assert seconds[(("callback", "an-kpis"),)] == 6
    # every TV session: the overview screens and the realtime six
    assert metrics["gadash_tv_screens"] == {(("window", "5m"),): screens + 6}
    quota = metrics["gadash_ga_quota_tokens_left"]
    assert quota[(("period", "hour"), ("property", BLOG))] > 0
    assert "gadash_singleflight_waits_total" in metrics


def test_a_repeated_request_is_a_cache_hit(cluster):
    url, _ = cluster
    before = by_label(scrape(url).get("gadash_cache_answers_total", {}), "how")
    analyst(url, "last14")
    first = by_label(scrape(url)["gadash_cache_answers_total"], "how")
    assert first["fetch"] > before["fetch"]
    analyst(url, "last14")  # from another session, likely another worker
    again = by_label(scrape(url)["gadash_cache_answers_total"], "how")
    assert again["fetch"] == first["fetch"]
    assert again["hit"] > first["hit"]
    assert again["error"] == 0


def test_a_screens_requests_share_one_connection(cluster):
    """gunicorn's settings keep connections alive: a screen polling every second does
    not open a connection per poll (gthread keeps worker_connections - threads idle)."""
    import http.client
    from urllib.parse import urlsplit

    url, _ = cluster
    conn = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
    try:
        answers = []
        for _ in range(3):
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            answer.read()
            answers.append((answer.status, answer.getheader("Connection"), conn.sock))
        assert [a[:2] for a in answers] == [(200, "keep-alive")] * 3
        assert answers[0][2] is not None and all(a[2] is answers[0][2] for a in answers)
    finally:
        conn.close()


SECRET = "s3cret-token-for-the-metrics-1"


def test_metrics_behind_a_proxy_need_the_token(standin_clean, tmp_path):
    env = {"GADASH_GA_ENDPOINT": standin_clean.endpoint, "GADASH_PROPERTIES": f"Blog={BLOG}",
           "GADASH_PROXY_HOPS": "1", "GADASH_METRICS_TOKEN": SECRET,
           "GADASH_SHARE_PROVIDERS": ""}
    proc, url = start_app(env, tmp_path / "app.log")  # one process, the default registry
    try:
        assert requests.get(url + "/metrics").status_code == 403  # from loopback, no token
        assert requests.get(url + "/metrics",
                            headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
        assert requests.get(url + "/metrics",
                            headers={"Authorization": "Bearer wrong"}).status_code == 403
        ok = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {SECRET}"})
        assert ok.status_code == 200
        assert "gadash_ga_calls_total" in ok.text and "gadash_tv_screens" in ok.text
        assert "Set-Cookie" not in ok.headers
    finally:
        stop_app(proc)


T = "t0k-t0k-t0k-t0k-t0k-t0k-t0k"  # a token of the length the settings ask


@pytest.mark.parametrize(("proxy", "token", "addr", "header", "ok"), [
    (0, None, "127.0.0.1", "", True),
    (0, None, "::1", "", True),
    (0, None, "10.0.0.5", "", False),
    (0, T, "10.0.0.5", f"Bearer {T}", True),
    (0, T, "10.0.0.5", f"Bearer {T[:-1]}", False),
    (0, T, "10.0.0.5", f"Basic {T}", False),
    (1, None, "127.0.0.1", "", False),
    (1, T, "127.0.0.1", "", False),
    (1, T, "10.0.0.5", f"bearer {T}", True),
])
def test_who_may_read_metrics(proxy, token, addr, header, ok):
    settings = Settings(proxy_hops=proxy, metrics_token=token, _env_file=None)
    assert allowed(settings, addr, header) is ok


def test_a_short_metrics_token_is_refused_at_start():
    with pytest.raises(ValueError, match="at least 24 characters"):
        Settings(metrics_token="short", _env_file=None)


def test_callback_names_are_first_output_ids():
    assert callback_name("an-kpis.children") == "an-kpis"
    assert callback_name("..tv-kpi-totalUsers.children...tv-status.data..") == \
        "tv-kpi-totalUsers"
    assert callback_name('..{"index":["MATCH"],"type":"pick-values"}.options...x.y..') == \
        "pick-values"


def test_tv_screens_count_each_screen_once_within_five_minutes():
    from cachelib import SimpleCache

    from gadash.data.cache import CacheStore

    store = CacheStore(SimpleCache())
    one, other = TvScreens(store), TvScreens(store)  # two workers, one shared store
    now = 1_000_000 * 60.0
    for when in (now, now + 20, now + 70):
        one.seen("screen-a", when)
        other.seen("screen-a", when + 1)
    other.seen("screen-b", now + 30)
    assert one.count(now + 80) == 2
    assert other.count(now + 30 + 299) == 2
    assert other.count(now + 30 + 301) == 1  # b stopped polling five minutes ago
    assert one.count(now + 70 + 301) == 0  # and a five minutes after its last


def test_retried_ga_calls_count_each_attempt(settings, standin_clean, past_days):
    from gadash.core.query import DateRange, ReportQuery
    from gadash.data.sources.ga4 import GA4Source
    from gadash.errors import SourceUnavailableError

    def counted() -> float:  # every outcome
        return sum(s.value for family in REGISTRY.collect() for s in family.samples
                   if s.name == "gadash_ga_calls_total"
                   and s.labels["method"] == "BatchRunReports")

    before = counted()
    standin_clean.servicer.set_fault("UNAVAILABLE", "backend is down")
    source = GA4Source(settings.model_copy(update={"ga_timeout": 1.0}))
    query = ReportQuery(BLOG, ("audience",), (DateRange(past_days(7), past_days(1)),))
    with pytest.raises(SourceUnavailableError):
        source.fetch(query)
    standin_clean.servicer.clear_fault()
    source.fetch(query)
    source.close()
    received = standin_clean.servicer.calls["BatchRunReports"]
    assert received >= 3  # retried, then once more after the fault
    assert counted() - before == received


def test_share_requests_are_counted_per_provider_and_outcome():
    from gadash.data.shares import create_providers
    from gadash.data.shares.fetch import FetchLimits, fetch_counts
    from gadash.standin.http import BackgroundServer
    from gadash.standin.shares import create_share_app, standin_urls

    def value(provider: str, outcome: str) -> float:
        return REGISTRY.get_sample_value("gadash_share_requests_total",
                                         {"provider": provider, "outcome": outcome}) or 0

    with BackgroundServer(create_share_app()) as server:
        urls = standin_urls(server.url)
        providers, _ = create_providers(Settings(
            share_providers="hackernews,reddit", _env_file=None,
            share_rate_limits={"hackernews": "100", "reddit": "100"}, **urls))
        before = value("hackernews", "ok"), value("reddit", "ok")
        pages = ["https://blog.example.com/", "https://blog.example.com/about/"]
        fetch_counts(providers, pages, FetchLimits(timeout=5, deadline=10))
    closed = create_providers(Settings(share_providers="hackernews", _env_file=None,
                                       hackernews_url=f"http://127.0.0.1:{free_port()}/x"))[0]
    refused_before = value("hackernews", "connect_error")
    fetch_counts(closed, pages, FetchLimits(timeout=1, deadline=2))
    assert (value("hackernews", "ok"), value("reddit", "ok")) == (before[0] + 2, before[1] + 2)
    assert value("hackernews", "connect_error") == refused_before + 2
