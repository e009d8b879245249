"""The store's repositories, on SQLite and PostgreSQL: what callers rely on."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from gadash.errors import QueryError
from gadash.store import Store, TvLinkRow


def later(days: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def test_link_create_get_list(store: Store) -> None:
    first = store.links.create("Lobby", "p=blog&r=7d", 2, "ana@example.com", later())
    time.sleep(0.002)
    second = store.links.create("Sales", "p=shop", 2, "bo@example.com", later(7))
    assert len(first.id) == 12 and first.id != second.id
    assert store.links.get(first.id) == first
    assert store.links.get("nope") is None
    assert [r.id for r in store.links.list()] == [second.id, first.id]
    got = store.links.get(second.id)
    assert isinstance(got, TvLinkRow) and got.active
    for moment in (got.created_at, got.expires_at):
        assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def test_link_expired_is_inactive_and_listed_only_on_request(store: Store) -> None:
    old = store.links.create("Old", "q", 1, "ana@example.com", later(-1))
    assert not old.active
    assert store.links.list() == []
    assert [r.id for r in store.links.list(include_inactive=True)] == [old.id]


def test_revoke_survives_a_restart(store: Store, db_url: str) -> None:
    link = store.links.create("Lobby", "q", 1, "ana@example.com", later())
    assert store.links.revoke(link.id, by="bo@example.com")
    assert not store.links.revoke("missing", by="bo@example.com")
    store.dispose()

    again = Store(db_url)
    try:
        row = again.links.get(link.id)
        assert row is not None and row.revoked_at is not None and not row.active
        assert again.links.list() == []
        first_revoke = row.revoked_at
        assert again.links.revoke(link.id, by="cy@example.com")  # already revoked: still True
        row2 = again.links.get(link.id)
        assert row2 is not None and row2.revoked_at == first_revoke
    finally:
        again.dispose()


def test_seen_writes_at_most_once_a_minute(store: Store) -> None:
    link = store.links.create("Lobby", "q", 1, "ana@example.com", later())
    t0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert store.links.seen(link.id, now=t0)
    assert not store.links.seen(link.id, now=t0 + timedelta(seconds=30))
    assert not store.links.seen(link.id, now=t0 + timedelta(seconds=60))
    row = store.links.get(link.id)
    assert row is not None and row.last_seen_at == t0
    assert store.links.seen(link.id, now=t0 + timedelta(seconds=61))
    assert not store.links.seen("missing", now=t0)
    row = store.links.get(link.id)
    assert row is not None and row.last_seen_at == t0 + timedelta(seconds=61)


def test_seen_takes_other_time_zones(store: Store) -> None:
    from zoneinfo import ZoneInfo

    link = store.links.create("Lobby", "q", 1, "ana@example.com", later())
    berlin = datetime(2030, 6, 1, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert store.links.seen(link.id, now=berlin)
    row = store.links.get(link.id)
    assert row is not None and row.last_seen_at == datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    assert row.last_seen_at is not None and row.last_seen_at.tzinfo == UTC


def test_views_save_get_list_rename_delete(store: Store) -> None:
    a = store.views.save("Weekly blog", "p=blog&r=7d", 2, "properties/1", "ana@example.com")
    time.sleep(0.002)
    b = store.views.save("Shop funnel", "p=shop", 2, "properties/2", "bo@example.com")
    assert len(a.slug) == 8 and a.slug.replace("-", "").replace("_", "").isalnum()
    assert store.views.get(a.slug) == a
    assert [v.slug for v in store.views.list()] == [b.slug, a.slug]

    assert store.views.rename(a.slug, "Blog, weekly", by="bo@example.com")
    renamed = store.views.get(a.slug)
    assert renamed is not None and renamed.name == "Blog, weekly"
    assert renamed.updated_at > renamed.created_at == a.created_at
    assert not store.views.rename("missing", "x", by="bo@example.com")

    assert store.views.delete(a.slug, by="bo@example.com")
    assert store.views.get(a.slug) is None
    assert not store.views.delete(a.slug, by="bo@example.com")
    assert [v.slug for v in store.views.list()] == [b.slug]


def test_view_slugs_are_unique(store: Store) -> None:
    slugs = {store.views.save(f"v{i}", "q", 1, "properties/1", "ana@example.com").slug
             for i in range(200)}
    assert len(slugs) == 200
    assert len(store.views.list()) == 200


def test_annotations_overlap_and_order(store: Store) -> None:
    p = "properties/1"
    add = store.annotations.add
    release = add(p, date(2025, 3, 10), date(2025, 3, 10), "Release 2.0", "ana@example.com")
    sale = add(p, date(2025, 3, 1), date(2025, 3, 31), "Spring sale", "bo@example.com")
    outage = add(p, date(2025, 4, 2), date(2025, 4, 3), "Outage", "cy@example.com")
    add("properties/2", date(2025, 3, 10), date(2025, 3, 10), "Other property", "x@example.com")

    def ids(start: date | None, end: date | None) -> list[int]:
        return [a.id for a in store.annotations.list(p, start, end)]

    assert ids(None, None) == [sale.id, release.id, outage.id]
    assert ids(date(2025, 3, 10), date(2025, 3, 10)) == [sale.id, release.id]
    assert ids(date(2025, 3, 31), date(2025, 4, 2)) == [sale.id, outage.id]  # touching ends
    assert ids(date(2025, 4, 4), None) == []
    assert ids(None, date(2025, 2, 28)) == []
    assert release.start == date(2025, 3, 10) and release.created_at.tzinfo is not None

    assert store.annotations.delete(outage.id, by="ana@example.com")
    assert not store.annotations.delete(outage.id, by="ana@example.com")
    assert ids(None, None) == [sale.id, release.id]


@pytest.mark.parametrize("start,end,note", [
    (date(2025, 3, 2), date(2025, 3, 1), "backwards"),
    (date(2025, 3, 1), date(2025, 3, 1), "   "),
    (date(2025, 3, 1), date(2025, 3, 1), "x" * 281),
])
def test_annotation_refusals(store: Store, start: date, end: date, note: str) -> None:
    with pytest.raises(QueryError):
        store.annotations.add("properties/1", start, end, note, "ana@example.com")
    assert store.annotations.list("properties/1") == []


def test_annotation_note_of_280_characters_fits(store: Store) -> None:
    row = store.annotations.add("properties/1", date(2025, 1, 1), date(2025, 1, 1), "é" * 280,
                                "ana@example.com")
    assert row.note == "é" * 280


def test_annotations_csv_round_trips(store: Store) -> None:
    p = "properties/1"
    tricky = 'Launch, "v2"\nsecond line'
    a = store.annotations.add(p, date(2025, 5, 1), date(2025, 5, 7), tricky, "ana@example.com")
    b = store.annotations.add(p, date(2025, 4, 1), date(2025, 4, 1), "Easter", "bo@example.com")
    rows = list(csv.DictReader(io.StringIO(store.annotations.to_csv(p))))
    assert [list(r) for r in rows][0] == ["start", "end", "note", "author", "created_at"]
    assert rows == [
        {"start": "2025-04-01", "end": "2025-04-01", "note": "Easter",
         "author": "bo@example.com", "created_at": b.created_at.isoformat()},
        {"start": "2025-05-01", "end": "2025-05-07", "note": tricky,
         "author": "ana@example.com", "created_at": a.created_at.isoformat()},
    ]
    assert datetime.fromisoformat(rows[0]["created_at"]) == b.created_at
    assert store.annotations.to_csv("properties/9").strip() == "start,end,note,author,created_at"


def test_audit_recent_newest_first(store: Store) -> None:
    for i in range(5):
        store.audit.record("ana@example.com", "view.save", subject=f"s{i}", detail=f"#{i}")
    store.audit.record("bo@example.com", "link.revoke")
    recent = store.audit.recent()
    assert [r.subject for r in recent] == ["", "s4", "s3", "s2", "s1", "s0"]
    assert recent[0].actor == "bo@example.com" and recent[0].detail == ""
    assert recent[0].at >= recent[1].at and recent[0].at.tzinfo is not None
    assert [r.subject for r in store.audit.recent(limit=2)] == ["", "s4"]


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.links.create("x", "q", 1, "ana@example.com", datetime(2030, 1, 1))
