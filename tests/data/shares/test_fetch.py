"""Share providers against aiohttp servers on loopback, in each real API's JSON shape."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import pytest
from aiohttp import web

from gadash.data.shares.facebook import Facebook
from gadash.data.shares.fetch import FetchLimits, fetch_counts, retry_after_seconds
from gadash.data.shares.hackernews import HackerNews
from gadash.data.shares.reddit import Reddit
from gadash.standin.http import BackgroundServer
from tests.conftest import free_port

URL = "https://blog.example.com/blog/post/"
OTHER = "https://blog.example.com/about/"


class Api:
    """A programmable provider endpoint: a queue of behaviours per URL asked about."""

    def __init__(self) -> None:
        self.plans: dict[str, list] = defaultdict(list)
        self.seen: list[tuple[float, dict[str, str], dict[str, str]]] = []
        self.default = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.seen.append((time.monotonic(), query, dict(request.headers)))
        key = query.get("url") or query.get("id") or query.get("query") or ""
        plan = self.plans[key].pop(0) if self.plans[key] else self.default
        return await plan(request)


def json_answer(payload, status=200, headers=None):
    async def respond(_request):
        return web.json_response(payload, status=status, headers=headers)
    return respond


def text_answer(body, status=200, content_type="text/html"):
    async def respond(_request):
        return web.Response(text=body, status=status, content_type=content_type)
    return respond


def slow(seconds, then):
    async def respond(request):
        await asyncio.sleep(seconds)
        return await then(request)
    return respond


def reddit_listing(*posts):
    return {"kind": "Listing", "data": {"children": [
        {"kind": "t3", "data": {"url": URL, "score": s, "num_comments": c}} for s, c in posts]}}


HN_HITS = {"hits": [
    {"url": URL, "points": 120, "num_comments": 40},
    {"url": "http://www.blog.example.com/blog/post?utm_source=x", "points": 30, "num_comments": 5},
    {"url": "https://blog.example.com/blog/post-2/", "points": 999, "num_comments": 999},
    {"url": None, "points": 1, "num_comments": 1},
]}


@pytest.fixture()
def api():
    api = Api()
    app = web.Application()
    app.router.add_get("/search", api.handle)
    app.router.add_get("/api/info.json", api.handle)
    app.router.add_get("/graph/", api.handle)
    with BackgroundServer(app) as server:
        api.url = server.url
        yield api


def fast(**kw) -> FetchLimits:
    return FetchLimits(**{"timeout": 1.0, "deadline": 5.0, **kw})


def test_hacker_news_counts_every_variant_of_the_url_once(api):
    api.default = json_answer(HN_HITS)
    result = fetch_counts([HackerNews(api.url + "/search")], [URL], fast())
    counts = result[("hackernews", URL)]
    assert counts.ok and counts.counts == {"stories": 2, "points": 150, "comments": 45}
    query = api.seen[0][1]
    assert query["query"] == "blog.example.com/blog/post/"
    assert query["restrictSearchableAttributes"] == "url"


def test_reddit_sends_a_user_agent_and_sums_posts(api):
    api.default = json_answer(reddit_listing((10, 2), (5, 1)))
    result = fetch_counts([Reddit(api.url + "/api/info.json", "gadash-test/1.0")], [URL], fast())
    assert result[("reddit", URL)].counts == {"posts": 2, "score": 15, "comments": 3}
    assert api.seen[0][2]["User-Agent"] == "gadash-test/1.0"
    assert api.seen[0][1]["url"] == URL


def test_facebook_engagement_and_its_error_shape(api):
    api.plans[URL] = [json_answer({"id": URL, "engagement": {
        "reaction_count": 7, "comment_count": 2, "share_count": 5, "comment_plugin_count": 1}})]
    api.plans[OTHER] = [json_answer({"error": {
        "message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}},
        status=400)]
    result = fetch_counts([Facebook(api.url + "/graph/", "token-1")], [URL, OTHER], fast())
    assert result[("facebook", URL)].counts == {"engagement": 15, "reactions": 7, "comments": 3,
                                                "shares": 5}
    assert result[("facebook", OTHER)].error == "HTTP 400: Invalid OAuth access token."
    assert {s[1]["access_token"] for s in api.seen} == {"token-1"}


def test_malformed_json_and_html_pages_are_reasons_not_crashes(api):
    api.plans["blog.example.com/blog/post/"] = [
        text_answer("{'hits': [", content_type="application/json")]
    api.plans["blog.example.com/about/"] = [text_answer("<html><body>Oops</body></html>")]
    result = fetch_counts([HackerNews(api.url + "/search")], [URL, OTHER], fast())
    assert result[("hackernews", URL)].error == "answered with not JSON"
    assert result[("hackernews", OTHER)].error == "answered with an HTML page"


def test_wrong_shape_is_a_parse_error(api):
    api.default = json_answer({"kind": "Listing", "data": {"children": "nope"}})
    result = fetch_counts([Reddit(api.url + "/api/info.json", "ua")], [URL], fast())
    assert "unexpected answer from Reddit" in result[("reddit", URL)].error


def test_429_with_retry_after_is_honoured(api):
    api.plans[URL] = [json_answer({"message": "slow down"}, status=429,
                                  headers={"Retry-After": "1"}),
                      json_answer(reddit_listing((3, 1)))]
    t0 = time.monotonic()
    result = fetch_counts([Reddit(api.url + "/api/info.json", "ua")], [URL], fast())
    assert result[("reddit", URL)].counts["score"] == 3
    assert len(api.seen) == 2 and api.seen[1][0] - api.seen[0][0] >= 0.95
    assert time.monotonic() - t0 < 3


def test_500s_are_retried_then_reported(api):
    api.default = text_answer("<html>Internal error</html>", status=500)
    result = fetch_counts([HackerNews(api.url + "/search")], [URL], fast(retries=2))
    assert len(api.seen) == 3
    assert result[("hackernews", URL)].error.startswith(
        "HTTP 500: an HTML error page; gave up after 3 tries")


def test_retry_after_beyond_the_deadline_gives_up_at_once(api):
    api.default = json_answer({}, status=429, headers={"Retry-After": "120"})
    t0 = time.monotonic()
    result = fetch_counts([HackerNews(api.url + "/search")], [URL], fast())
    assert time.monotonic() - t0 < 2
    assert "asked to retry after 120 s" in result[("hackernews", URL)].error


def test_slow_answer_times_out_and_the_rest_still_arrives(api):
    api.plans["blog.example.com/blog/post/"] = [slow(3, json_answer(HN_HITS))] * 3
    api.default = json_answer(HN_HITS)
    t0 = time.monotonic()
    result = fetch_counts([HackerNews(api.url + "/search")], [URL, OTHER],
                          fast(timeout=0.5, retries=1, deadline=2.0))
    assert time.monotonic() - t0 < 3
    assert "no answer within 0.5 s" in result[("hackernews", URL)].error
    assert result[("hackernews", OTHER)].ok


def test_connection_refused_is_partial_not_fatal(api):
    api.default = json_answer(reddit_listing((1, 1)))
    dead = f"http://127.0.0.1:{free_port()}/search"
    result = fetch_counts([HackerNews(dead), Reddit(api.url + "/api/info.json", "ua")],
                          [URL], fast())
    assert result[("hackernews", URL)].error.startswith("cannot connect")
    assert result[("reddit", URL)].ok


def test_everything_is_in_flight_together(api):
    api.default = slow(0.3, json_answer(reddit_listing((1, 1))))
    urls = [f"https://blog.example.com/p{i}/" for i in range(12)]
    providers = [Reddit(api.url + "/api/info.json", "ua"), HackerNews(api.url + "/search")]
    api_hn = json_answer(HN_HITS)  # noqa: F841 -- same server, shape does not matter here
    for p in providers:
        p.rate, p.burst = 1000, 1000
    t0 = time.monotonic()
    result = fetch_counts(providers, urls, fast(per_host=32))
    elapsed = time.monotonic() - t0
    assert len(result) == 24 and elapsed < 1.5  # one round trip, not 24 x 0.3 s


def test_a_providers_rate_limit_is_respected(api):
    api.default = json_answer(reddit_listing())
    provider = Reddit(api.url + "/api/info.json", "ua")
    provider.rate, provider.burst = 4.0, 2
    urls = [f"https://blog.example.com/p{i}/" for i in range(6)]
    result = fetch_counts([provider], urls, fast(deadline=5))
    assert all(r.ok for r in result.values())
    times = sorted(s[0] for s in api.seen)
    # 2 at once, then 4 a second: the last of 6 starts about a second after the first.
    assert times[-1] - times[0] >= 0.9


def test_retry_after_forms():
    assert retry_after_seconds("5") == 5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0


def test_sync_wrapper_works_inside_a_running_loop(api):
    api.default = json_answer(reddit_listing((2, 1)))

    async def inside() -> dict:
        return fetch_counts([Reddit(api.url + "/api/info.json", "ua")], [URL], fast())

    from concurrent.futures import ThreadPoolExecutor

    # A thread of its own: the test session may already run a loop in this one.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, inside()).result()
    assert result[("reddit", URL)].counts["score"] == 2


def test_per_host_limit_holds(api):
    state = {"now": 0, "max": 0}

    async def counted(request):
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.2)
        state["now"] -= 1
        return web.json_response(reddit_listing())

    api.default = counted
    providers = [Reddit(api.url + "/api/info.json", "ua")]
    providers[0].rate, providers[0].burst = 1000, 1000
    urls = [f"https://blog.example.com/p{i}/" for i in range(6)]
    t0 = time.monotonic()
    result = fetch_counts(providers, urls, fast(per_host=2))
    elapsed = time.monotonic() - t0
    assert all(r.ok for r in result.values())
    assert state["max"] == 2
    assert 0.55 < elapsed < 1.2  # three waves of two
