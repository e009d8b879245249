"""Store fixtures: a real PostgreSQL server for the session, a fresh database per test.

``postgresql_server`` starts Debian's PostgreSQL (``initdb`` + ``pg_ctl``) on a
free loopback port with trust auth, as the ``postgres`` user when the tests run
as root; ``postgresql_server.new_database()`` returns the URL of an empty
database and ``postgresql_url`` the session's ``gadash`` database.
``db_url`` / ``store`` are parametrized over SQLite and PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.pool import Pool
from pathlib import Path

import pytest

from gadash.store import Store
from tests.store import workers
from tests.store.postgres import PostgresServer, postgres_bindir, running_postgres


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session, stopped and removed at the end."""
    if postgres_bindir() is None:
        pytest.fail("PostgreSQL is not installed (no initdb/pg_ctl); "
                    "scripts/test.sh installs it (apt-get install postgresql)")
    with running_postgres() as server:
        server.create_database("gadash")
        yield server


@pytest.fixture(scope="session")
def postgresql_url(postgresql_server: PostgresServer) -> str:
    """``postgresql+psycopg://postgres@127.0.0.1:PORT/gadash``, an unmigrated database
    shared by the session (use ``postgresql_server.new_database()`` for a fresh one)."""
    return postgresql_server.url("gadash")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gadash.db'}"
    server: PostgresServer = request.getfixturevalue("postgresql_server")
    return server.new_database()


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on a fresh database, on each backend."""
    s = Store(db_url)
    s.migrate()
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture(scope="session")
def process_pool() -> Iterator[Pool]:
    """Eight spawned processes with gadash.store imported, for the concurrency tests."""
    pool = multiprocessing.get_context("spawn").Pool(8, initializer=workers.warm_up)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
