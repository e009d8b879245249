"""Functions the concurrency tests run in spawned processes (importable, top level).

Each waits until ``start_at`` (``time.time()``) so the processes hit the database
together, and returns ``("ok", value)`` or ``("error", repr)`` rather than raising.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from gadash.store import Store


def warm_up() -> None:
    """Pool initializer: import everything before the timed part."""
    import gadash.store.core  # noqa: F401


def _wait(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def migrate(url: str, start_at: float) -> tuple[str, str | None]:
    store = Store(url)
    try:
        _wait(start_at)
        store.migrate()
        return "ok", store.current_revision()
    except Exception as exc:  # reported to the test, which fails on anything but ok
        return "error", repr(exc)
    finally:
        store.dispose()


def create_link(url: str, label: str, start_at: float) -> tuple[str, str | None]:
    store = Store(url)
    try:
        _wait(start_at)
        row = store.links.create(label, "q=1", 1, "worker@example.com",
                                 datetime.now(UTC) + timedelta(days=1))
        return "ok", row.id
    except Exception as exc:
        return "error", repr(exc)
    finally:
        store.dispose()
