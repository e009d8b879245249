"""A database that cannot be reached, is locked or gone: gadash's errors, never SQLAlchemy's."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from gadash.errors import StoreError, StoreUnavailableError
from gadash.store import Store
from tests.store.postgres import PostgresServer, free_port, running_postgres

LATER = datetime(2100, 1, 1, tzinfo=UTC)

CALLS: dict[str, Callable[[Store], Any]] = {
    "links.create": lambda s: s.links.create("x", "q", 1, "a@example.com", LATER),
    "links.get": lambda s: s.links.get("abc"),
    "links.list": lambda s: s.links.list(),
    "links.revoke": lambda s: s.links.revoke("abc", by="a@example.com"),
    "links.seen": lambda s: s.links.seen("abc"),
    "views.save": lambda s: s.views.save("v", "q", 1, "properties/1", "a@example.com"),
    "views.get": lambda s: s.views.get("abc"),
    "views.list": lambda s: s.views.list(),
    "views.rename": lambda s: s.views.rename("abc", "n", by="a@example.com"),
    "views.delete": lambda s: s.views.delete("abc", by="a@example.com"),
    "annotations.add": lambda s: s.annotations.add("p", date(2025, 1, 1), date(2025, 1, 1),
                                                   "n", "a@example.com"),
    "annotations.list": lambda s: s.annotations.list("p"),
    "annotations.delete": lambda s: s.annotations.delete(1, by="a@example.com"),
    "annotations.to_csv": lambda s: s.annotations.to_csv("p"),
    "audit.record": lambda s: s.audit.record("a@example.com", "x"),
    "audit.recent": lambda s: s.audit.recent(),
    "migrate": lambda s: s.migrate(),
    "current_revision": lambda s: s.current_revision(),
}


def assert_every_call_unavailable(store: Store, *words: str) -> None:
    for name, call in CALLS.items():
        with pytest.raises(StoreUnavailableError) as caught:
            call(store)
        message = str(caught.value)
        assert message.startswith(f"The team database ({store.url})"), (name, message)
        assert "try again" in message.lower(), (name, message)
        for word in words:
            assert word in message, (name, message)
    assert store.ping() is False


def test_postgresql_nothing_listening() -> None:
    store = Store(f"postgresql://gadash:hunter2@127.0.0.1:{free_port()}/gadash")
    try:
        assert_every_call_unavailable(store, "not answering", "Connection refused")
        with pytest.raises(StoreUnavailableError) as caught:
            store.links.revoke("abc", by="a@example.com")
        assert "hunter2" not in str(caught.value) and "nothing was saved" in str(caught.value)
        with pytest.raises(StoreUnavailableError) as caught:
            store.views.list()
        assert "nothing could be read" in str(caught.value)
    finally:
        store.dispose()


def test_postgresql_connections_dropped_are_replaced(postgresql_server: PostgresServer) -> None:
    url = postgresql_server.new_database()
    store = Store(url)
    try:
        store.migrate()
        link = store.links.create("Lobby", "q", 1, "a@example.com", LATER)
        # What a server restart does to the pooled connections.
        admin = create_engine(postgresql_server.url())
        with admin.begin() as conn:
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": url.rsplit("/", 1)[1]})
            assert killed.scalar_one() >= 1
        admin.dispose()
        assert store.links.revoke(link.id, by="a@example.com")  # pre-ping reconnects
        assert store.ping()
    finally:
        store.dispose()


def test_postgresql_stopped_then_restarted() -> None:
    with running_postgres() as server:
        store = Store(server.create_database("gadash"))
        try:
            store.migrate()
            link = store.links.create("Lobby", "q", 1, "a@example.com", LATER)
            server.stop()
            with pytest.raises(StoreUnavailableError, match="not answering.*nothing was saved"):
                store.links.revoke(link.id, by="a@example.com")
            with pytest.raises(StoreUnavailableError, match="not answering"):
                store.links.get(link.id)
            assert store.ping() is False
            server.start()
            assert store.links.revoke(link.id, by="a@example.com")
            row = store.links.get(link.id)
            assert row is not None and not row.active
        finally:
            store.dispose()


def test_sqlite_folder_missing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'absent' / 'gadash.db'}")
    try:
        assert_every_call_unavailable(store, "GADASH_DATA_DIR")
    finally:
        store.dispose()


def test_sqlite_locked_past_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "gadash.db"
    store = Store(f"sqlite:///{path}?timeout=0.2")
    store.migrate()
    link = store.links.create("Lobby", "q", 1, "a@example.com", LATER)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailableError, match=r"busy.*0\.2 s.*nothing was saved"):
            store.links.revoke(link.id, by="a@example.com")
        with pytest.raises(StoreUnavailableError, match="busy"):
            store.audit.record("a@example.com", "x")
        got = store.links.get(link.id)  # WAL: readers are not blocked by the writer
        assert got is not None and got.active
        other.execute("ROLLBACK")
        assert store.links.revoke(link.id, by="a@example.com")
    finally:
        other.close()
        store.dispose()


def test_unmigrated_database_says_to_upgrade(db_url: str) -> None:
    store = Store(db_url)
    try:
        for call in (CALLS["links.list"], CALLS["views.save"]):
            with pytest.raises(StoreError, match=r"python -m gadash.store upgrade") as caught:
                call(store)
            assert not isinstance(caught.value, StoreUnavailableError)
        assert store.ping()
    finally:
        store.dispose()


def test_bad_url_is_a_config_error() -> None:
    from gadash.errors import ConfigError

    with pytest.raises(ConfigError, match="GADASH_DATABASE_URL"):
        Store("not a url")
    with pytest.raises(ConfigError, match="GADASH_DATABASE_URL"):
        Store("nosuchdb://x/y")


def test_expired_links_not_unavailable(store: Store) -> None:
    # A sanity check that the translation does not swallow ordinary results.
    row = store.links.create("Old", "q", 1, "a@example.com",
                             datetime.now(UTC) - timedelta(seconds=1))
    assert not row.active and store.links.list() == []
