"""Functions run in spawned processes by the concurrency tests (importable, top level)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gadash.store import Store


def migrate(url: str, barrier: Any, results: Any) -> None:
    store = Store(url)
    try:
        barrier.wait(timeout=60)
        store.migrate()
        results.put(("ok", store.current_revision()))
    except Exception as exc:  # reported to the test, which fails on anything but ok
        results.put(("error", repr(exc)))
    finally:
        store.dispose()


def create_link(url: str, label: str, barrier: Any, results: Any) -> None:
    store = Store(url)
    try:
        barrier.wait(timeout=60)
        row = store.links.create(label, "q=1", 1, "worker@example.com",
                                 datetime.now(UTC) + timedelta(days=1))
        results.put(("ok", row.id))
    except Exception as exc:
        results.put(("error", repr(exc)))
    finally:
        store.dispose()
