"""A digest end to end: made on /digests by a signed-in user, sent by two app
instances sharing one database to a local SMTP server (down for the first try) and an
aiohttp webhook, exactly once, the run log on the page saying what happened."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from gadash.core.schedule import WEEKDAYS
from gadash.store import Store
from gadash.store.team import save_view
from tests.conftest import BLOG, SHOP, free_port
from tests.e2e.test_signin import ANN, SECRET, sign_in
from tests.jobs.test_digests import ZONE, Hook, Smtp
from tests.servers import start_app, stop_app


def _env(standin, oidc: str, db_url: str, data_dir: Path, smtp: Smtp) -> dict[str, str]:
    port = free_port()
    return {
        "GADASH_PORT": str(port), "GADASH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "GADASH_GA_ENDPOINT": standin.endpoint, "GADASH_PROPERTIES": f"Blog={BLOG},Shop={SHOP}",
        "GADASH_OIDC_DISCOVERY_URL": f"{oidc}/.well-known/openid-configuration",
        "GADASH_OIDC_CLIENT_ID": "gadash-test", "GADASH_OIDC_CLIENT_SECRET": "client-secret",
        "GADASH_SECRET_KEY": SECRET, "GADASH_ALLOWED_DOMAINS": "example.com",
        "GADASH_SHARE_PROVIDERS": "", "GADASH_DATA_DIR": str(data_dir),
        "GADASH_DATABASE_URL": db_url, "GADASH_GA_TIMEOUT": "10",
        "GADASH_SMTP_HOST": "127.0.0.1", "GADASH_SMTP_PORT": str(smtp.port),
        "GADASH_SMTP_TLS": "none", "GADASH_SMTP_SENDER": "gadash <digests@example.com>",
        "GADASH_DIGEST_CHECK_SECONDS": "1", "GADASH_DIGEST_RETRY_SECONDS": "3",
        "GADASH_DIGEST_PRIVATE_WEBHOOKS": "true",  # the test's webhook is on this machine
    }


def _csrf(page: str) -> str:
    found = re.search(r"name='csrf' value='([^']+)'", page)
    assert found, page[:500]
    return unescape(found.group(1))


def _wait(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_two_instances_send_a_digest_once_after_smtp_comes_back(standin_clean, oidc,
                                                                 tmp_path: Path):
    smtp, hook = Smtp(), Hook()  # the mail server is down at first
    hook.start()
    db_url = f"sqlite:///{tmp_path / 'team.db'}"
    db = Store(db_url)
    db.migrate()
    view = save_view(db, "ann@example.com", "Blog this week",
                     "?property=Blog&range=last7&compare=previous", "Blog")
    apps = []
    try:
        for n in range(2):
            apps.append(start_app(_env(standin_clean, oidc, db_url, tmp_path, smtp),
                                  tmp_path / f"app{n}.log"))
        url = apps[0][1]
        signed_out = requests.get(f"{url}/digests", allow_redirects=False)
        assert signed_out.status_code == 401  # the same gate as every page

        ann, _ = sign_in(url, oidc, ANN, "/digests")
        page = ann.get(f"{url}/digests")
        assert page.status_code == 200 and "No digests yet" in page.text
        local = datetime.now(UTC).astimezone(ZoneInfo(ZONE)) + timedelta(minutes=1)
        due = local.replace(second=0, microsecond=0)
        made = ann.post(f"{url}/digests", data={
            "csrf": _csrf(page.text), "action": "create", "name": "Blog weekly",
            "source": f"view:{view.slug}", "kind": "weekly",
            "weekday": WEEKDAYS[due.weekday()], "monthday": "1", "at": f"{due:%H:%M}",
            "emails": "team@example.com", "webhooks": hook.url})
        assert made.status_code == 200 and "Blog weekly" in made.text, made.text[:800]
        (digest,) = db.digests.list()
        assert digest.created_by == "ann@example.com" and digest.schedule == (
            f"weekly {WEEKDAYS[due.weekday()]} {due:%H:%M}")

        # The first try: the webhook has it, the mail server is down.
        _wait(lambda: db.digests.runs(digest.id) and "not sent" in db.digests.runs(
            digest.id)[0].log, 90, "a first try that finds SMTP down")
        assert len(hook.posts) == 1
        smtp.up()
        _wait(lambda: len(smtp.inbox.messages) == 1, 30, "the mail on retry")
        time.sleep(4)  # both instances keep looking: nothing more is sent
        assert len(smtp.inbox.messages) == 1 and len(hook.posts) == 1
        (run,) = db.digests.runs(digest.id)
        assert run.status == "sent" and run.attempts == 2
        _, msg = smtp.inbox.messages[0]
        assert msg["Subject"].startswith("Blog weekly: Blog, ")
        assert any(p.get_content_type() == "image/png" for p in msg.walk())

        shown = ann.get(f"{url}/digests/{digest.id}").text
        assert "try 1: mail to team@example.com not sent: SMTP 127.0.0.1" in unescape(shown)
        assert "try 2: mailed team@example.com" in shown
        assert hook.url not in shown  # the webhook's secret path is never shown
        listing = ann.get(f"{url}/digests").text
        assert "<span class='ok'>sent</span>" in listing
    finally:
        for proc, _ in apps:
            stop_app(proc)
        smtp.down()
        hook.stop()
        db.dispose()
