"""Concurrent writers never lose a row: threads sharing a Store, processes with their own."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.pool import Pool

from gadash.store import Store
from tests.store import workers


def test_eight_threads_create_links_at_once(store: Store) -> None:
    barrier = threading.Barrier(8)
    ids: list[str] = []
    errors: list[BaseException] = []

    def create(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            row = store.links.create(f"screen {n}", "q", 1, "ana@example.com",
                                     datetime.now(UTC) + timedelta(days=1))
            ids.append(row.id)
        except BaseException as exc:  # collected: the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert_all_listed_and_revocable(store, ids)


def test_eight_processes_create_links_at_once(store: Store, db_url: str,
                                              process_pool: Pool) -> None:
    start_at = time.time() + 0.3
    outcomes = process_pool.starmap(
        workers.create_link, [(db_url, f"screen {n}", start_at) for n in range(8)], chunksize=1)
    assert [status for status, _ in outcomes] == ["ok"] * 8, outcomes
    assert_all_listed_and_revocable(store, [str(link_id) for _, link_id in outcomes])


def test_concurrent_seen_writes_once(store: Store) -> None:
    link = store.links.create("Lobby", "q", 1, "ana@example.com",
                              datetime.now(UTC) + timedelta(days=1))
    now = datetime.now(UTC)
    barrier = threading.Barrier(8)
    wrote: list[bool] = []

    def seen() -> None:
        barrier.wait(timeout=30)
        wrote.append(store.links.seen(link.id, now=now))

    threads = [threading.Thread(target=seen) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(wrote) == [False] * 7 + [True]


def assert_all_listed_and_revocable(store: Store, ids: list[str]) -> None:
    assert len(set(ids)) == 8
    assert sorted(r.id for r in store.links.list()) == sorted(ids)
    for link_id in ids:
        assert store.links.revoke(link_id, by="bo@example.com")
        row = store.links.get(link_id)
        assert row is not None and not row.active
    assert store.links.list() == []
    assert len(store.links.list(include_inactive=True)) == 8
