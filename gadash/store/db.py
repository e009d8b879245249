"""The engine and the one place SQLAlchemy's errors become gadash's.

``Database`` owns the engine and hands out short sessions; every repository
method runs inside ``Database.read()`` or ``Database.write()``, which translate
driver errors into ``StoreUnavailableError`` / ``StoreError``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from gadash.errors import ConfigError, StoreError, StoreUnavailableError

SQLITE_BUSY_SECONDS = 5.0  # how long a SQLite writer waits for another one
PG_CONNECT_SECONDS = 5
_WRITE = "gadash_write"


def normalise_url(raw: str) -> URL:
    """Parse a database URL; bare ``postgres(ql)://`` means psycopg 3.

    Raises ConfigError when SQLAlchemy cannot read it.
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"GADASH_DATABASE_URL: {raw!r} is not a database URL such as "
                          "postgresql://user:password@host/gadash") from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def sqlite_busy_seconds(url: URL) -> float:
    """The busy timeout for a SQLite URL: ``?timeout=`` when given, else the default."""
    raw = url.query.get("timeout")
    if isinstance(raw, tuple):
        raw = raw[-1]
    return float(raw) if raw else SQLITE_BUSY_SECONDS


def build_engine(url: URL, echo: bool) -> Engine:
    """An engine with pre-ping, and on SQLite WAL, a busy timeout and explicit BEGINs.

    Raises ConfigError when the URL names a backend gadash cannot load.
    """
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": sqlite_busy_seconds(url)}
    elif url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args = {"connect_timeout": PG_CONNECT_SECONDS}
    try:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, ImportError) as exc:
        shown = url.render_as_string(hide_password=True)
        raise ConfigError(f"GADASH_DATABASE_URL: cannot use {shown}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _sqlite_events(engine, sqlite_busy_seconds(url))
    return engine


def _sqlite_events(engine: Engine, busy_seconds: float) -> None:
    # pysqlite's own transaction handling begins lazily (deferred) and cannot
    # take the write lock up front; a writer that read first then fails with
    # "database is locked" without waiting. So the driver is put in autocommit
    # and we emit BEGIN ourselves: BEGIN IMMEDIATE for writes (waits on the busy
    # timeout for the single writer slot), a plain BEGIN for reads.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The engine, short sessions and error translation, shared by the repositories."""

    def __init__(self, url: URL, echo: bool = False) -> None:
        self.engine = build_engine(url, echo)
        # The same pool; on SQLite its transactions start with BEGIN IMMEDIATE.
        self.writer = self.engine.execution_options(**{_WRITE: True})
        self.shown = url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading, closed on exit.

        Raises StoreUnavailableError / StoreError for driver errors.
        """
        with self.translate(writing=False), Session(self.engine, expire_on_commit=False) as s:
            with s.begin():
                yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction, committed on a clean exit.

        Raises StoreUnavailableError / StoreError for driver errors; nothing is
        written then.
        """
        with self.translate(writing=True), Session(self.writer, expire_on_commit=False) as s:
            with s.begin():
                yield s

    @contextmanager
    def translate(self, writing: bool) -> Iterator[None]:
        """Turn SQLAlchemy's driver errors into gadash's, with a message a person can act on."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            raise self.unavailable(exc, writing) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise self.unavailable(exc, writing) from exc
            if _missing_table(exc):
                raise self.no_tables() from exc
            outcome = "nothing was saved" if writing else "nothing could be read"
            raise StoreError(
                f"The team database ({self.shown}) refused the request ({_reason(exc)}), "
                f"so {outcome}.") from exc

    def unavailable(self, exc: DBAPIError, writing: bool) -> StoreError:
        """The error for a database that cannot be reached, locked, or gone."""
        reason = _reason(exc)
        outcome = "nothing was saved" if writing else "nothing could be read"
        if _missing_table(exc):
            return self.no_tables()
        if self.engine.dialect.name == "sqlite":
            if "locked" in reason or "busy" in reason:
                return StoreUnavailableError(
                    f"The team database ({self.shown}) is busy: another writer held it for "
                    f"more than {sqlite_busy_seconds(self.engine.url):g} s, so {outcome}. "
                    "Try again in a moment.")
            return StoreUnavailableError(
                f"The team database ({self.shown}) cannot be used ({reason}), so {outcome}. "
                "Check that GADASH_DATA_DIR exists and gadash may write there, then try again.")
        return StoreUnavailableError(
            f"The team database ({self.shown}) is not answering ({reason}), so {outcome}. "
            "Check that the database server is running and reachable, then try again.")

    def no_tables(self) -> StoreError:
        """The error for a database nobody migrated: a setup step, not an outage."""
        return StoreError(
            f"The team database ({self.shown}) has no gadash tables yet; "
            "run `python -m gadash.store upgrade` (or start gadash, which does).")

    def dispose(self) -> None:
        self.engine.dispose()


def _reason(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc.orig or exc).__name__


def _missing_table(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
