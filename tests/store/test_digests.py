"""Digests in the team database, on SQLite and PostgreSQL: checked input, one run per
due time whoever makes it, one claim per attempt among many processes' threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from gadash.errors import QueryError
from gadash.store import Store
from gadash.store.digests import create_digest, delete_digest, recipients, update_digest
from gadash.store.team import save_view

DUE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


@pytest.fixture()
def view(store: Store):
    return save_view(store, "ann@example.com", "Blog", "?property=Blog&range=last7", "Blog")


def test_a_digest_is_checked_and_kept(store, view):
    d = create_digest(store, "ann@example.com", "  Blog   weekly ", f"view:{view.slug}",
                      "Weekly Monday 9:00",
                      recipients("a@example.com, b@example.com\na@example.com"),
                      ("https://hooks.example.com/services/x",))
    assert (d.name, d.source, d.property, d.schedule) == (
        "Blog weekly", f"view:{view.slug}", "Blog", "weekly mon 09:00")
    assert d.emails == ("a@example.com", "b@example.com") and not d.paused
    assert store.digests.get(d.id) == d
    assert [a.action for a in store.audit.recent()][0] == "digest.create"
    assert "services/x" not in store.audit.recent()[0].detail


@pytest.mark.parametrize(("field", "value", "says"), [
    ("name", "   ", "Give the digest a name"),
    ("source", "view:nope", "no saved view 'nope'"),
    ("source", "panel:999", "no panel 999"),
    ("source", "dashboard", "names no saved view or panel"),
    ("schedule", "weekly 09:00", "names a weekday"),
    ("emails", ("not-an-address",), "Not an email address: 'not-an-address'"),
    ("webhooks", ("ftp://hooks.example.com/x",), r"http\(s\) URL"),
    ("webhooks", ("http://[::1",), r"http\(s\) URL"),
    ("webhooks", ("http://127.0.0.1:9/x",), "GADASH_DIGEST_PRIVATE_WEBHOOKS"),
    ("webhooks", ("http://169.254.169.254/latest",), "on this machine or its network"),
    ("webhooks", ("http://localhost/x",), "on this machine or its network"),
    ("source", "panel:\u00b2", "names no saved view or panel"),
    ("emails", (), "Say where the digest goes"),
])
def test_wrong_input_is_refused_with_the_reason(store, view, field, value, says):
    given = {"name": "Weekly", "source": f"view:{view.slug}", "schedule": "daily 08:00",
             "emails": ("a@example.com",), "webhooks": ()}
    given[field] = value
    with pytest.raises(QueryError, match=says):
        create_digest(store, "ann@example.com", given["name"], given["source"],  # type: ignore[arg-type]
                      given["schedule"], given["emails"], given["webhooks"])  # type: ignore[arg-type]
    assert store.digests.list() == []


def test_a_run_is_made_once_however_many_make_it(store, view):
    d = create_digest(store, "a@example.com", "D", f"view:{view.slug}", "daily 09:00",
                      ("a@example.com",))
    made: list[bool] = []
    barrier = threading.Barrier(8)

    def make() -> None:
        barrier.wait()
        made.append(store.digests.add_run(d.id, DUE))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(made) == [False] * 7 + [True]
    assert len(store.digests.runs(d.id)) == 1


def test_one_claim_per_attempt_and_a_lapsed_lease_is_taken_again(store, view):
    d = create_digest(store, "a@example.com", "D", f"view:{view.slug}", "daily 09:00",
                      ("a@example.com",))
    store.digests.add_run(d.id, DUE)
    now = DUE + timedelta(seconds=1)
    claims: list[object] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        claims.append(store.digests.claim(now, LEASE))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].attempts == 1  # type: ignore[attr-defined]
    assert store.digests.claim(now + LEASE - timedelta(seconds=1), LEASE) is None
    first = won[0]
    assert store.digests.delivered_to(first, "mail:a@example.com", now, LEASE)  # type: ignore[arg-type]
    later = now + timedelta(minutes=1)
    # The first claimer stalls past its renewed lease: another process takes the run up.
    again = store.digests.claim(later + LEASE, LEASE)
    assert again is not None and again.attempts == 2
    assert again.delivered == ("mail:a@example.com",)  # what the first one did is kept
    # The stalled one wakes up: everything it writes now is refused.
    assert not store.digests.delivered_to(first, "mail:b@example.com", later, LEASE)  # type: ignore[arg-type]
    assert not store.digests.finish(first, status="pending", log="late\n")  # type: ignore[arg-type]
    assert store.digests.finish(again, status="sent", log="sent\n", sent_at=later + LEASE)
    assert store.digests.claim(later + 3 * LEASE, LEASE) is None
    (run,) = store.digests.runs(d.id)
    assert run.status == "sent" and run.delivered == ("mail:a@example.com",)
    assert "late" not in run.log and "sent" in run.log
    assert store.digests.latest()[d.id].id == run.id


def test_pausing_resuming_rescheduling_and_deleting(store, view):
    d = create_digest(store, "a@example.com", "D", f"view:{view.slug}", "daily 09:00",
                      ("a@example.com",))
    later = DUE + timedelta(days=3)
    paused = update_digest(store, "b@example.com", d.id, paused=True)
    assert paused is not None and paused.paused and paused.active_since == d.active_since
    resumed = update_digest(store, "b@example.com", d.id, paused=False, now=later)
    assert resumed is not None and resumed.active_since == later
    moved = update_digest(store, "b@example.com", d.id, schedule="daily 10:00",
                          now=later + timedelta(hours=1))
    assert moved is not None and moved.active_since == later + timedelta(hours=1)
    renamed = update_digest(store, "b@example.com", d.id, name="E", now=later + timedelta(days=9))
    assert renamed is not None and renamed.active_since == later + timedelta(hours=1)
    store.digests.add_run(d.id, DUE)
    assert delete_digest(store, "b@example.com", d.id)
    assert store.digests.get(d.id) is None and store.digests.runs(d.id) == []
    assert not delete_digest(store, "b@example.com", d.id)
    assert update_digest(store, "b@example.com", d.id, name="F") is None


def test_private_webhooks_when_allowed(store, view):
    d = create_digest(store, "a@example.com", "D", f"view:{view.slug}", "daily 09:00", (),
                      ("http://10.1.2.3/hooks/x",), private_webhooks=True)
    assert d.webhooks == ("http://10.1.2.3/hooks/x",)


def test_old_pictures_and_runs_are_pruned_but_never_a_pending_run_nor_the_latest(store, view):
    d = create_digest(store, "a@example.com", "D", f"view:{view.slug}", "daily 09:00",
                      ("a@example.com",))
    other = create_digest(store, "a@example.com", "E", f"view:{view.slug}", "daily 09:00",
                          ("a@example.com",))
    tokens = {}
    for days in (500, 100, 40, 1):  # due that many days before DUE, sent with a picture
        store.digests.add_run(d.id, DUE - timedelta(days=days))
        run = store.digests.claim(DUE, LEASE)
        assert run is not None
        tokens[days] = store.digests.set_image(run.id, b"\x89PNG" + bytes([days % 256]))
        assert store.digests.finish(run, status="sent", log=f"{days}\n", sent_at=DUE)
    store.digests.add_run(d.id, DUE - timedelta(days=450))  # still pending: kept
    store.digests.add_run(other.id, DUE - timedelta(days=700))  # E's latest: kept
    old = store.digests.claim(DUE, LEASE, store.digests.runs(other.id)[0].id)
    assert old is not None
    store.digests.finish(old, status="failed", log="x\n")

    assert store.digests.prune(DUE - timedelta(days=30), DUE - timedelta(days=400)) == (3, 1)
    assert store.digests.image(tokens[1]) == b"\x89PNG\x01"
    assert store.digests.image(tokens[40]) is None and store.digests.image(tokens[100]) is None
    kept = {(DUE - r.due_at).days: r.status for r in store.digests.runs()}
    assert kept == {1: "sent", 40: "sent", 100: "sent", 450: "pending", 700: "failed"}
    assert store.digests.prune(DUE - timedelta(days=30), DUE - timedelta(days=400)) == (0, 0)
