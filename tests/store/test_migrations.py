"""Migrations: idempotent, safe when several processes start at once, and the command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from multiprocessing.pool import Pool
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from gadash.settings import Settings
from gadash.store import Store, head_revision
from gadash.store.__main__ import main
from gadash.store.core import alembic_config
from gadash.store.models import Base
from tests.store import workers
from tests.store.postgres import free_port

HEAD = "0004"
TABLES = {"alembic_version", "annotations", "audit_log", "digest_runs", "digests", "panels",
          "saved_views", "tv_links"}
ROOT = Path(__file__).resolve().parents[2]


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_twice_is_a_no_op(db_url: str) -> None:
    store = Store(db_url)
    try:
        assert store.current_revision() is None
        store.migrate()
        assert store.current_revision() == head_revision() == HEAD
        link = store.links.create("Lobby", "q", 1, "ana@example.com",
                                  datetime(2100, 1, 1, tzinfo=UTC))
        store.migrate()
        assert store.current_revision() == HEAD
        assert store.links.get(link.id) == link
    finally:
        store.dispose()
    assert table_names(db_url) == TABLES


def test_migrate_from_four_processes_at_once(db_url: str, process_pool: Pool) -> None:
    start_at = time.time() + 0.3
    outcomes = process_pool.starmap(workers.migrate, [(db_url, start_at)] * 4, chunksize=1)
    assert outcomes == [("ok", HEAD)] * 4
    assert table_names(db_url) == TABLES
    store = Store(db_url)
    try:
        assert store.current_revision() == HEAD
        assert store.links.list() == []
    finally:
        store.dispose()


def test_from_settings_uses_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "instance" / "nested"
    store = Store.from_settings(Settings(data_dir=data_dir))
    try:
        assert data_dir.is_dir()
        assert store.url == f"sqlite:///{data_dir}/gadash.db"
        store.migrate()
        assert (data_dir / "gadash.db").is_file()
    finally:
        store.dispose()


def test_from_settings_masks_the_password(postgresql_server) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql://postgres:s3cret@127.0.0.1:{postgresql_server.port}/gadash"
    store = Store.from_settings(Settings(database_url=url))
    try:
        assert "s3cret" not in store.url and "s3cret" not in repr(store)
        assert store.url.startswith("postgresql+psycopg://postgres:***@127.0.0.1:")
        assert store.ping()  # trust auth ignores the password
    finally:
        store.dispose()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GADASH_")}
    return subprocess.run([sys.executable, "-m", "gadash.store", *args], cwd=ROOT,
                          env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_command_upgrade_and_current(tmp_path: Path) -> None:
    env = {"GADASH_DATA_DIR": str(tmp_path / "data")}
    up = run_cli("upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert HEAD in up.stdout
    after = run_cli("current", env=env)
    assert after.stdout.strip() == f"{HEAD} (up to date)"
    assert table_names(f"sqlite:///{tmp_path / 'data' / 'gadash.db'}") == TABLES


def test_command_main_on_each_backend(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    # The command reads the environment by design, so here it is set, not Settings.
    monkeypatch.setenv("GADASH_DATABASE_URL", db_url)
    assert main(["current"]) == 0
    assert "run upgrade" in capsys.readouterr().out
    assert main(["upgrade"]) == 0
    assert main(["upgrade"]) == 0
    assert main(["current"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{HEAD} (up to date)"
    assert table_names(db_url) == TABLES


def test_command_reports_an_unreachable_database(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GADASH_DATABASE_URL",
                       f"postgresql://gadash:hunter2@127.0.0.1:{free_port()}/gadash")
    assert main(["upgrade"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: The team database (postgresql+psycopg://gadash:***@")
    assert "hunter2" not in err and "nothing was saved" in err
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2


def alembic_run(url: str, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade REVISION`` on ``url``, as ``Store.migrate`` runs it."""
    cfg = alembic_config()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
    finally:
        engine.dispose()


def test_panels_migration_down_and_up(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.migrate()
        panel = store.panels.create("Countries", "Blog", "?property=Blog&metric=sessions", 1,
                                    "ana@example.com")
        view = store.views.save("Weekly", "p=blog", 2, "Blog", "ana@example.com")
        engine = create_engine(db_url)
        try:
            indexes = {i["name"] for i in inspect(engine).get_indexes("panels")}
        finally:
            engine.dispose()
        assert "ix_panels_property" in indexes

        alembic_run(db_url, "downgrade", "0002")
        assert store.current_revision() == "0002"
        assert table_names(db_url) == TABLES - {"panels", "digests", "digest_runs"}
        assert store.views.get(view.slug) == view  # the rest is kept

        store.migrate()
        assert store.current_revision() == HEAD
        assert table_names(db_url) == TABLES
        assert store.panels.list() == []
        again = store.panels.create("Again", "Blog", "?q", 1, "ana@example.com")
        assert again.pinned is False and again.id >= panel.id
    finally:
        store.dispose()


def test_models_match_the_migrations(db_url: str) -> None:
    """What the code maps is what the migrations made: columns, types, indexes."""
    store = Store(db_url)
    try:
        store.migrate()
    finally:
        store.dispose()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_digests_migration_down_and_up(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.migrate()
        view = store.views.save("Weekly", "p=blog", 2, "Blog", "ana@example.com")
        digest = store.digests.create("Weekly", f"view:{view.slug}", "Blog", "daily 08:00",
                                      ("ana@example.com",), (), "ana@example.com")
        assert store.digests.list() == [digest]
        alembic_run(db_url, "downgrade", "0003")
        assert table_names(db_url) == TABLES - {"digests", "digest_runs"}
        assert store.views.get(view.slug) == view
        store.migrate()
        assert store.current_revision() == HEAD and store.digests.list() == []
    finally:
        store.dispose()
