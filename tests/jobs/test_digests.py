"""Scheduled digests, crossed for real: the GA client against the stand-in, a local SMTP
server (aiosmtpd), an aiohttp webhook, the team database (SQLite here; PostgreSQL in
tests/store/test_digests.py); time moves by the injected clock, never by sleeping."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from flask import Flask

from gadash.core.insights.findings import judged_days
from gadash.core.plans import baseline_query, view_query
from gadash.core.query import cutoff_hour
from gadash.core.schedule import WEEKDAYS
from gadash.core.transforms import kpi_delta, kpis
from gadash.core.urls import parse_query_string
from gadash.data.cache import CacheStore
from gadash.data.service import DataService
from gadash.data.sources import create_source
from gadash.jobs.digests import Digests
from gadash.settings import Settings
from gadash.store import Store
from gadash.store.digests import create_digest, update_digest
from gadash.store.team import save_view
from gadash.web.app import cache, init_cache
from gadash.web.context import EXTENSION, STORE_EXTENSION
from gadash.web.digests import compose_digest
from tests.conftest import BLOG, free_port, test_properties

ZONE = test_properties()[0].time_zone
VIEW = "?property=Blog&range=last7&compare=previous"
SECRET = "T000/B000/digestS3cret"


class Inbox:
    """aiosmtpd's handler: every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()  # addresses answered 550 at RCPT

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted"


class Smtp:
    """A real SMTP server on a fixed loopback port, that can be down and come back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def up(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Hook:
    """An aiohttp server on loopback taking Slack-style webhook posts."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _take(self, request: web.Request) -> web.Response:
        self.posts.append(await request.json())
        return web.Response(status=self.status, text="ok" if self.status < 300 else "no")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/services/{secret:.*}", self._take)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/{SECRET}"


@pytest.fixture()
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.up()
    try:
        yield server
    finally:
        server.down()


@pytest.fixture()
def hook() -> Iterator[Hook]:
    server = Hook()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Instance:
    """One gadash instance's parts: its own database handle, cache, data service and
    sender, over the shared database file."""

    def __init__(self, settings: Settings, db_url: str, clock: Clock) -> None:
        self.server = Flask(f"instance{id(self)}")
        init_cache(self.server, settings)
        with self.server.app_context():
            cache_store = CacheStore(cache.cache)
        self.db = Store(db_url)
        self.db.migrate()
        self.source = create_source(settings)
        self.service = DataService(settings, self.source, cache_store, dict(settings.properties))
        self.server.extensions[EXTENSION] = self.service
        self.server.extensions[STORE_EXTENSION] = self.db
        self.digests = Digests(settings, self.db, partial(compose_digest, self.server),
                               lambda name: self.service.time_zone(
                                   self.service.property_id(name)), clock)

    def close(self) -> None:
        self.source.close()
        self.db.dispose()


def _settings(standin: Any, smtp: Smtp, **more: Any) -> Settings:
    return Settings(ga_endpoint=standin.endpoint, properties={"Blog": BLOG}, ga_timeout=10,
                    smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none",
                    smtp_sender="gadash <digests@example.com>",
                    public_url="https://dash.example.com", _env_file=None, **more)


@pytest.fixture()
def world(standin_clean, smtp, hook, tmp_path: Path):
    """A weekly digest of the blog's last 7 days, due a minute after the real now."""
    clock = Clock(datetime.now(UTC))
    url = f"sqlite:///{tmp_path / 'team.db'}"
    # The test's webhook is on this machine: chat inside the network is allowed.
    settings = _settings(standin_clean, smtp, digest_private_webhooks=True)
    first = Instance(settings, url, clock)
    local = clock.now.astimezone(ZoneInfo(ZONE)) + timedelta(minutes=1)
    view = save_view(first.db, "ann@example.com", "Blog this week", VIEW, "Blog")
    digest = create_digest(first.db, "ann@example.com", "Blog weekly", f"view:{view.slug}",
                           f"weekly {WEEKDAYS[local.weekday()]} {local:%H:%M}",
                           ("team@example.com", "boss@example.com"), (hook.url,),
                           private_webhooks=True)
    due = local.replace(second=0, microsecond=0).astimezone(UTC)
    made = [first]

    def instance() -> Instance:
        made.append(Instance(settings, url, clock))
        return made[-1]

    yield {"clock": clock, "first": first, "digest": digest, "due": due, "url": url,
           "instance": instance, "settings": settings, "standin": standin_clean}
    for one in made:
        one.close()


def _parts(msg: EmailMessage) -> tuple[str, str, bytes, str]:
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    return text, html, images[0].get_payload(decode=True), images[0]["Content-ID"]


def _expected(service: DataService, due: datetime) -> dict[str, Any]:
    """What the analyst view shows for the view at ``due``: its tiles, What changed and
    unusual days, through the page's own queries."""
    property_id = service.property_id("Blog")
    local = due.astimezone(ZoneInfo(ZONE))
    state, _ = parse_query_string(VIEW, ["Blog"], local.date())
    ranges = state.ranges(local.date())
    cutoff = cutoff_hour(ranges, local.date(), local.hour)
    fields = service.available_fields(property_id)
    trend = service.view(view_query(property_id, ranges, state.filters, fields, state.grain,
                                    cutoff)).reports["trend"]
    changes, _ = service.changes(property_id, ranges, state.filters, cutoff)
    baseline = service.view(baseline_query(property_id, ranges[0], state.filters, fields))
    unusual = [b for b in judged_days(baseline.reports["baseline"], ranges[0].start,
                                      ranges[0].end, local.date()) if b.unusual]
    return {"tiles": [(k.label, k.text, kpi_delta(k)[0]) for k in kpis(trend)],
            "sentences": [f.text for f in changes.findings],
            "headlines": list(changes.headlines), "unusual": unusual, "ranges": ranges}


def test_a_weekly_digest_due_in_a_minute_arrives_once_by_mail_and_webhook(world, smtp, hook):
    clock, first, due = world["clock"], world["first"], world["due"]
    calls = world["standin"].servicer.calls
    clock.now = due - timedelta(seconds=30)
    assert first.digests.tick() == 0
    assert not smtp.inbox.messages and not hook.posts

    clock.now = due + timedelta(seconds=2)
    before = calls["BatchRunReports"]
    assert first.digests.tick() == 1
    # Its data was one batch call (metadata aside), the view not being in the cache.
    assert calls["BatchRunReports"] - before == 1
    assert sorted(to for tos, _ in smtp.inbox.messages for to in tos) == [
        "boss@example.com", "team@example.com"]
    assert len(hook.posts) == 1

    expected = _expected(first.service, due)
    ranges = expected["ranges"]
    _, msg = smtp.inbox.messages[0]
    assert msg["Subject"].startswith("Blog weekly: Blog, ")
    assert msg["From"] == "gadash <digests@example.com>"
    text, html, png, cid = _parts(msg)
    for label, value, change in expected["tiles"]:
        assert f"{value}  {change}" in text and label in text
        assert f">{value}</div>" in html.replace("&#x27;", "'")
    assert expected["sentences"], "the stand-in's week has changes to tell"
    for sentence in [*expected["headlines"], *expected["sentences"]]:
        assert sentence in text
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 1520  # the IHDR's width: 760 at 2x
    assert cid == "<trend>" and "cid:trend" in html
    link = (f"https://dash.example.com/?property=Blog&range={ranges[0].start}..{ranges[0].end}"
            "&compare=previous")
    assert link in text and link.replace("&", "&amp;") in html

    post = hook.posts[0]
    said = "\n".join(str(b) for b in post["blocks"])
    assert post["blocks"][0]["text"]["text"] == "Blog weekly"
    assert any(b["type"] == "image" and b["image_url"].startswith(
        "https://dash.example.com/digest-images/") for b in post["blocks"])
    assert expected["sentences"][0].replace("&", "&amp;").replace("<", "&lt;") in said
    token = post["blocks"][[b["type"] for b in post["blocks"]].index("image")]["image_url"]
    assert first.db.digests.image(token.rsplit("/", 1)[1][:-4]) == png

    clock.now = due + timedelta(minutes=5)
    assert first.digests.tick() == 0  # sent once
    clock.now = due + timedelta(days=2)
    assert first.digests.tick() == 0
    assert len(smtp.inbox.messages) == 2 and len(hook.posts) == 1
    (run,) = first.db.digests.runs(world["digest"].id)
    assert run.status == "sent" and run.attempts == 1
    assert "mailed team@example.com" in run.log and "posted to http://127.0.0.1" in run.log
    assert SECRET not in run.log


def test_two_instances_on_one_database_send_it_once(world, smtp, hook):
    clock = world["clock"]
    instances = [world["first"], world["instance"](), world["instance"]()]
    clock.now = world["due"] + timedelta(seconds=1)
    barrier = threading.Barrier(len(instances))
    tried: list[int] = []

    def go(one: Instance) -> None:
        barrier.wait()
        tried.append(one.digests.tick())

    threads = [threading.Thread(target=go, args=(one,)) for one in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(tried) == [0, 0, 1]
    assert len(smtp.inbox.messages) == 2 and len(hook.posts) == 1


def test_smtp_down_at_first_arrives_on_retry_and_the_log_says_so(world, smtp, hook):
    clock, first, due = world["clock"], world["first"], world["due"]
    smtp.down()
    clock.now = due + timedelta(seconds=1)
    assert first.digests.tick() == 1
    assert not smtp.inbox.messages
    assert len(hook.posts) == 1  # the webhook had it at once
    (run,) = first.db.digests.runs(world["digest"].id)
    assert run.status == "pending"
    assert "mail to team@example.com not sent: SMTP 127.0.0.1" in run.log
    assert "ConnectionRefusedError" in run.log
    assert run.next_try_at == clock.now + timedelta(seconds=60)

    smtp.up()
    clock.now = due + timedelta(seconds=30)
    assert first.digests.tick() == 0  # not yet: the retry waits a minute
    clock.now = due + timedelta(seconds=62)
    assert first.digests.tick() == 1
    assert len(smtp.inbox.messages) == 2
    assert len(hook.posts) == 1  # not posted twice
    (run,) = first.db.digests.runs(world["digest"].id)
    assert run.status == "sent" and run.attempts == 2
    assert "try 1: mail to team@example.com not sent" in run.log
    assert "try 2: mailed team@example.com" in run.log


def test_ga_failing_is_retried_with_backoff_and_gives_up_recorded(world, smtp, hook):
    clock, first, due = world["clock"], world["first"], world["due"]
    servicer = world["standin"].servicer
    clock.now = due - timedelta(seconds=30)
    first.digests.tick()  # before it is due: the property's zone is known
    servicer.set_fault("PERMISSION_DENIED")
    first.digests.settings = world["settings"].model_copy(update={"digest_tries": 8})
    waits = []
    clock.now = due + timedelta(seconds=1)
    for _ in range(8):
        first.digests.tick()
        (run,) = first.db.digests.runs(world["digest"].id)
        if run.status != "pending":
            break
        waits.append((run.next_try_at - clock.now).total_seconds())
        clock.now = run.next_try_at
    assert waits[:4] == [60, 120, 240, 480] and max(waits) == 3600
    assert run.status == "failed"
    assert "not made:" in run.log and "gave up after 8 tries" in run.log
    assert not smtp.inbox.messages and not hook.posts

    # "Try again" once GA is back: the same run, its own period, sent.
    servicer.clear_fault()
    assert first.digests.retry(run.id, "ann@example.com")
    deadline = time.monotonic() + 60
    while first.db.digests.run(run.id).status != "sent" and time.monotonic() < deadline:
        time.sleep(0.2)  # on a thread of its own, as from the page
    assert first.db.digests.run(run.id).status == "sent"
    assert len(smtp.inbox.messages) == 2 and len(hook.posts) == 1
    assert "tried again, asked for by ann@example.com" in first.db.digests.run(run.id).log

    # "Send now": a manual run of today's numbers; a second click within a minute is
    # not another mail.
    digest = first.db.digests.get(world["digest"].id)
    assert first.digests.send_now(digest, "ann@example.com")
    assert first.digests.send_now(digest, "ann@example.com") == 0
    assert len(smtp.inbox.messages) == 4 and len(hook.posts) == 2
    manual = first.db.digests.runs(world["digest"].id)[0]
    assert manual.kind == "manual" and manual.status == "sent"
    assert "asked for by ann@example.com" in manual.log


def test_after_downtime_it_catches_up_once_and_says_it_is_late(world, smtp, hook):
    clock, first, due = world["clock"], world["first"], world["due"]
    clock.now = due + timedelta(weeks=3, hours=5)  # three due times missed
    assert first.digests.tick() == 1
    assert first.digests.tick() == 0
    (run,) = first.db.digests.runs(world["digest"].id)
    assert run.due_at == due + timedelta(weeks=3)  # the latest only
    text = _parts(smtp.inbox.messages[0][1])[0]
    assert "sent late: gadash was not running then" in text
    assert len(smtp.inbox.messages) == 2 and len(hook.posts) == 1


def test_a_paused_digest_is_not_sent_and_resuming_skips_what_fell_due(world, smtp, hook):
    clock, first, due = world["clock"], world["first"], world["due"]
    digest_id = world["digest"].id
    update_digest(first.db, "ann@example.com", digest_id, paused=True)
    clock.now = due + timedelta(seconds=1)
    assert first.digests.tick() == 0
    clock.now = due + timedelta(minutes=10)
    update_digest(first.db, "ann@example.com", digest_id, paused=False, now=clock.now)
    assert first.digests.tick() == 0  # due before the resume: skipped
    clock.now = due + timedelta(weeks=1, seconds=1)
    assert first.digests.tick() == 1
    assert len(smtp.inbox.messages) == 2


def test_a_panel_digest_sends_its_totals_top_rows_and_chart(world, smtp, hook):
    from gadash.core.transforms import explore_table
    from gadash.store.panels import panel_state, save_panel
    from gadash.web.components.explore import format_value

    clock, first, due = world["clock"], world["first"], world["due"]
    local = due.astimezone(ZoneInfo(ZONE))
    panel = save_panel(first.db, "ann@example.com", "Top countries",
                       "dim=country&metric=sessions&top=10&chart=bar&range=last7", "Blog",
                       ["Blog"], local.date())
    digest = create_digest(first.db, "ann@example.com", "Countries", f"panel:{panel.id}",
                           f"daily {local:%H:%M}", ("team@example.com",))
    update_digest(first.db, "ann@example.com", world["digest"].id, paused=True)
    clock.now = due + timedelta(seconds=1)
    assert first.digests.tick() == 1
    (run,) = first.db.digests.runs(digest.id)
    assert run.status == "sent", run.log

    state = panel_state(panel, ["Blog"], local.date())
    query = state.query(BLOG, local.date(), local.hour)
    report = first.service.view(query).reports["explore"]
    table = explore_table(report, ("country",), ("sessions",), True, False, query.ranges)
    text, html, png, _ = _parts(smtp.inbox.messages[0][1])
    total = format_value("TYPE_INTEGER", table.totals["sessions"], "", "sessions")
    assert f"Sessions  {total}" in text
    top = table.rows.iloc[0]
    first_row = format_value("TYPE_INTEGER", top["sessions"], "", "sessions")
    assert f"1. {top['country']}: {first_row}" in text
    assert "Top 10 by Sessions" in text and png.startswith(b"\x89PNG")
    assert f"/explore?property=Blog&range={query.ranges[0].start}..{query.ranges[0].end}" in text


def test_an_address_refused_for_good_is_not_retried_and_the_others_get_it(world, smtp, hook):
    clock, first, due = world["clock"], world["first"], world["due"]
    smtp.inbox.refuse.add("team@example.com")
    clock.now = due + timedelta(seconds=1)
    assert first.digests.tick() == 1
    assert [tos for tos, _ in smtp.inbox.messages] == [["boss@example.com"]]
    (run,) = first.db.digests.runs(world["digest"].id)
    assert run.status == "failed"
    assert "mail to team@example.com refused for good: refused by 127.0.0.1" in run.log
    assert "550" in run.log and "mailed boss@example.com" in run.log
    assert "1 recipient(s) refused it for good; the others have it" in run.log
    clock.now = due + timedelta(hours=3)
    assert first.digests.tick() == 0  # nothing to try again
    assert len(smtp.inbox.messages) == 1 and len(hook.posts) == 1


def test_a_try_cut_short_is_taken_up_without_sending_twice(world, smtp, hook):
    from gadash.jobs.digests import LEASE

    clock, first, due = world["clock"], world["first"], world["due"]
    clock.now = due + timedelta(seconds=1)
    first.digests.plan(clock.now)
    # A process claims the run, mails one recipient, and dies before the others.
    dying = first.db.digests.claim(clock.now, LEASE)
    assert dying is not None
    assert first.db.digests.delivered_to(dying, "mail:team@example.com", clock.now, LEASE)
    second = world["instance"]()
    clock.now += timedelta(minutes=5)
    assert second.digests.tick() == 0  # its lease holds
    clock.now += LEASE
    assert second.digests.tick() == 1
    assert [tos for tos, _ in smtp.inbox.messages] == [["boss@example.com"]]
    assert len(hook.posts) == 1
    (run,) = second.db.digests.runs(world["digest"].id)
    assert run.status == "sent" and run.attempts == 2


def test_a_webhook_inside_the_network_at_send_time_is_refused_before_a_byte(world, smtp, hook):
    """A digest saved when its host was outside (or while private webhooks were
    allowed) whose host is now this machine, as after a DNS rebinding: the address
    connected to is checked, so nothing is posted, and the mail still goes."""
    clock, due = world["clock"], world["due"]
    strict = Instance(world["settings"].model_copy(update={"digest_private_webhooks": False}),
                      world["url"], clock)
    try:
        clock.now = due + timedelta(seconds=1)
        assert strict.digests.tick() == 1
        assert hook.posts == []
        assert len(smtp.inbox.messages) == 2
        (run,) = strict.db.digests.runs(world["digest"].id)
        assert run.status == "failed"  # for good: trying again would post inside
        assert ("webhook http://127.0.0.1 refused for good: InsideNetwork: refused: "
                "127.0.0.1 is now 127.0.0.1, on this machine or its network" in run.log), run.log
        assert SECRET not in run.log
        clock.now = due + timedelta(hours=3)
        assert strict.digests.tick() == 0
    finally:
        strict.close()


def test_the_send_time_check_passes_outside_addresses_and_refuses_inside_ones():
    from gadash.store.digests import internal_address

    assert not internal_address("93.184.215.14") and not internal_address("2606:4700::1")
    for inside in ("127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "fe80::1%eth0",
                   "::ffff:127.0.0.1", "0.0.0.0", "fd00::5"):
        assert internal_address(inside), inside


def test_https_webhooks_are_checked_before_the_tls_handshake(hook):
    """The HTTPS path refuses an inside peer once connected, before any TLS byte (the
    hook speaks plain HTTP: a handshake would fail differently)."""
    import urllib.error

    from gadash.jobs.digests import InsideNetwork, webhook_opener

    with pytest.raises(urllib.error.URLError) as caught:
        webhook_opener(private=False).open(f"https://127.0.0.1:{hook.port}/x", timeout=5)
    assert isinstance(caught.value.reason, InsideNetwork)
    assert hook.posts == []


def test_a_sent_runs_picture_is_dropped_after_the_days_it_is_kept(world, smtp, hook):
    clock, first, due = world["clock"], world["first"], world["due"]
    clock.now = due + timedelta(seconds=1)
    assert first.digests.tick() == 1
    (run,) = first.db.digests.runs(world["digest"].id)
    assert run.image_token and first.db.digests.image(run.image_token)
    clock.now = due + timedelta(days=29)
    first.digests.tick()
    assert first.db.digests.image(run.image_token)  # chat tools may still fetch it
    clock.now = due + timedelta(days=31)
    first.digests.tick()
    assert first.db.digests.image(run.image_token) is None
    assert first.db.digests.runs(world["digest"].id)[-1].id == run.id  # its log stays
