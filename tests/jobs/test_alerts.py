"""Alerts: a real webhook receiver on loopback, a real Valkey shared by instances."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cachelib import SimpleCache
from flask_caching.backends.rediscache import RedisCache
from redis import from_url

from gadash.data.cache import CacheStore
from gadash.errors import ConfigError
from gadash.jobs.alerts import Alerts
from gadash.settings import Settings

SECRET = "T0000/B0000/s3cr3tT0k3n"  # the webhook path is the secret; logs must not show it
HOUR = 1_767_225_600.0  # 2026-01-01 00:00 UTC


class Receiver:
    """A webhook on a free loopback port that records every POST."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 -- http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer._lock:
                    outer.posts.append({"path": self.path, "headers": dict(self.headers),
                                        "json": json.loads(body)})
                    status = outer.status
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"no")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/services/{SECRET}"

    def count(self) -> int:
        with self._lock:
            return len(self.posts)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(5)


@pytest.fixture()
def silent_url() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/services/{SECRET}"


def valkey_store(url: str) -> CacheStore:
    """A store like one app instance's: its own client to the shared Valkey."""
    return CacheStore(RedisCache(host=from_url(url), key_prefix="gadash:"))


@pytest.fixture()
def valkey(valkey_url: str) -> str:
    from_url(valkey_url).flushdb()
    return valkey_url


@pytest.fixture(params=["valkey", "memory"])
def store(request, valkey) -> CacheStore:
    if request.param == "memory":
        return CacheStore(SimpleCache())
    return valkey_store(valkey)


def alerts_for(url: str | None, store: CacheStore, *, clock=lambda: HOUR, **settings) -> Alerts:
    return Alerts(Settings(alert_webhook_url=url, _env_file=None, **settings), store,
                  clock=clock)


def test_payload_is_slack_json_with_text_and_link(receiver, store):
    alerts = alerts_for(receiver.url, store)
    assert alerts.enabled
    assert alerts.send("trending", "/blog/post", "*/blog/post* is trending: 412 views",
                       link="https://dash.example.com/?page=/blog/post")
    [post] = receiver.posts
    assert post["path"] == f"/services/{SECRET}"
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["json"] == {
        "text": "*/blog/post* is trending: 412 views",
        "blocks": [{"type": "section", "text": {
            "type": "mrkdwn",
            "text": "*/blog/post* is trending: 412 views\n"
                    "<https://dash.example.com/?page=/blog/post|Open in gadash>"}}],
    }


def test_without_link_and_markup_from_data_is_escaped(receiver, store):
    alerts = alerts_for(receiver.url, store)
    assert alerts.send("trending", "/x", "<!channel> Tom & Jerry <https://evil|click>")
    [post] = receiver.posts
    escaped = "&lt;!channel&gt; Tom &amp; Jerry &lt;https://evil|click&gt;"
    assert post["json"]["text"] == escaped
    assert post["json"]["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": escaped}}]


def test_the_same_alert_twice_is_posted_once(receiver, store):
    alerts = alerts_for(receiver.url, store)
    assert alerts.send("kpi", "Blog:2026-01-01:sessions", "Sessions unusually high")
    assert not alerts.send("kpi", "Blog:2026-01-01:sessions", "Sessions unusually high")
    assert alerts.send("kpi", "Blog:2026-01-01:users", "Users unusually high")
    assert receiver.count() == 2


def test_two_instances_sharing_valkey_post_once(receiver, valkey):
    instances = [alerts_for(receiver.url, valkey_store(valkey)) for _ in range(2)]
    results: list[bool] = []
    barrier = threading.Barrier(10)

    def fire(alerts: Alerts) -> None:
        barrier.wait()
        results.append(alerts.send("trending", "/blog/post", "trending"))

    threads = [threading.Thread(target=fire, args=(instances[i % 2],)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == [False] * 9 + [True]
    assert receiver.count() == 1
    assert not instances[1].send("trending", "/blog/post", "trending")
    assert receiver.count() == 1


def test_the_same_alert_goes_out_again_after_repeat_hours(receiver, valkey):
    alerts = alerts_for(receiver.url, valkey_store(valkey), alert_repeat_hours=1 / 3600)
    assert alerts.send("trending", "/p", "trending")
    assert not alerts.send("trending", "/p", "trending")
    time.sleep(2.1)
    assert alerts.send("trending", "/p", "trending")
    assert receiver.count() == 2


def test_at_most_max_per_hour_across_instances(receiver, valkey, caplog):
    now = [HOUR + 60]
    a, b = (alerts_for(receiver.url, valkey_store(valkey), clock=lambda: now[0],
                       alert_max_per_hour=3) for _ in range(2))
    with caplog.at_level(logging.WARNING, logger="gadash.jobs.alerts"):
        sent = [(a if i % 2 else b).send("trending", f"/page/{i}", f"page {i}")
                for i in range(6)]
    assert sent == [True, True, True, False, False, False]
    assert receiver.count() == 3
    assert sum("limit of 3 an hour" in r.getMessage() for r in caplog.records) == 1
    # Dropped alerts were not sent, so they go out in the next hour.
    now[0] += 3600
    assert a.send("trending", "/page/4", "page 4")
    assert receiver.count() == 4


def test_max_per_hour_in_process_memory(receiver):
    alerts = alerts_for(receiver.url, CacheStore(SimpleCache()), alert_max_per_hour=2)
    assert [alerts.send("k", str(i), "t") for i in range(4)] == [True, True, False, False]
    assert receiver.count() == 2


def test_receiver_failing_returns_false_and_the_alert_is_tried_again(receiver, store, caplog):
    alerts = alerts_for(receiver.url, store)
    receiver.status = 500
    with caplog.at_level(logging.INFO, logger="gadash.jobs.alerts"):
        assert alerts.send("trending", "/p", "trending") is False
        receiver.status = 200
        assert alerts.send("trending", "/p", "trending") is True
    assert receiver.count() == 2
    assert "HTTP 500" in caplog.text and "http://127.0.0.1" in caplog.text
    assert SECRET not in caplog.text


def test_a_redirect_is_a_failure_and_not_followed(receiver, store):
    receiver.status = 302
    assert alerts_for(receiver.url, store).send("trending", "/p", "trending") is False
    assert receiver.count() == 1


def test_unreachable_receiver_returns_false(store, caplog):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/services/{SECRET}"
    alerts = alerts_for(url, store)
    with caplog.at_level(logging.WARNING, logger="gadash.jobs.alerts"):
        assert alerts.send("trending", "/p", "trending") is False
    assert "not sent" in caplog.text and SECRET not in caplog.text


def test_a_receiver_that_never_answers_costs_about_the_timeout(silent_url, valkey, caplog):
    alerts = alerts_for(silent_url, valkey_store(valkey), alert_timeout=0.5)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="gadash.jobs.alerts"):
        assert alerts.send("trending", "/p", "trending") is False
    assert 0.4 < time.monotonic() - started < 2.0
    assert SECRET not in caplog.text
    # Released: the next attempt posts again (and times out again).
    started = time.monotonic()
    assert alerts.send("trending", "/p", "trending") is False
    assert 0.4 < time.monotonic() - started < 2.0


def test_send_async_posts_in_the_background(receiver, valkey):
    alerts = alerts_for(receiver.url, valkey_store(valkey))
    assert alerts.send_async("trending", "/p", "trending", link="https://dash.example.com/")
    assert not alerts.send_async("trending", "/p", "trending")  # deduplicated at once
    assert alerts.flush(5)
    assert receiver.count() == 1
    assert receiver.posts[0]["json"]["text"] == "trending"


def test_send_async_does_not_wait_for_a_silent_receiver(silent_url, valkey):
    alerts = alerts_for(silent_url, valkey_store(valkey), alert_timeout=1.0)
    started = time.monotonic()
    assert alerts.send_async("trending", "/p", "trending")
    assert time.monotonic() - started < 0.5
    assert alerts.flush(5)
    # The failed POST released the alert.
    assert alerts.send_async("trending", "/p", "trending")
    assert alerts.flush(5)


def test_disabled_posts_nothing(receiver, valkey):
    store = valkey_store(valkey)
    for url in (None, ""):
        alerts = alerts_for(url, store)
        assert not alerts.enabled
        assert alerts.send("trending", "/p", "trending") is False
        assert alerts.send_async("trending", "/p", "trending") is False
    assert receiver.count() == 0
    assert from_url(valkey).keys("*") == []


def test_a_webhook_url_that_is_not_http_is_refused(valkey):
    with pytest.raises(ConfigError, match="GADASH_ALERT_WEBHOOK_URL") as info:
        alerts_for("file:///etc/passwd", valkey_store(valkey))
    assert "passwd" not in str(info.value)


def test_store_counter_and_add_expire_on_valkey(valkey):
    store, client = valkey_store(valkey), from_url(valkey)
    assert [store.incr("n", 60) for _ in range(3)] == [1, 2, 3]
    assert 0 < client.ttl("gadash:n") <= 60
    assert store.add("a", 1, 30) and not store.add("a", 2, 30)
    assert store.get("a") == 1 and 0 < client.ttl("gadash:a") <= 30
    assert store.delete("a") and not store.delete("a")
    assert store.add("a", 3, 30)


def test_alerts_work_in_process_memory_while_valkey_is_down(receiver):
    with socket.socket() as sock:  # a port nobody listens on: the "Redis" is down
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    store = valkey_store(dead)
    alerts = alerts_for(receiver.url, store, alert_max_per_hour=2)
    assert alerts.send("trending", "/p", "trending")
    assert not alerts.send("trending", "/p", "trending")
    assert alerts.send("trending", "/q", "trending")
    assert not alerts.send("trending", "/r", "trending")
    assert receiver.count() == 2
    assert store.down_since is not None


def test_mentions_in_page_titles_ping_nobody():
    from gadash.jobs.alerts import escape

    assert escape("@everyone look <!channel>") == "@\u200beveryone look &lt;!channel&gt;"


def test_without_a_shared_cache_one_process_of_a_machine_sends(tmp_path):
    from cachelib import SimpleCache

    from gadash.jobs.watch import AlertWatcher

    class Service:  # what the watcher reads of the data service
        store = CacheStore(SimpleCache())
        settings = Settings(data_dir=tmp_path, _env_file=None)

    one = AlertWatcher(Service(), None, 60)  # type: ignore[arg-type]
    other = AlertWatcher(Service(), None, 60)  # type: ignore[arg-type]
    assert one.may_send() and not other.may_send() and one.may_send()
