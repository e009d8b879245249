"""``Store``: the team's database (SQLite file or PostgreSQL) and its migrations."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock, Timeout
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from gadash.errors import StoreUnavailableError
from gadash.settings import Settings
from gadash.store.db import Database, normalise_url
from gadash.store.digestrepo import DigestRepo
from gadash.store.repos import AnnotationRepo, AuditRepo, LinkRepo, PanelRepo, ViewRepo

log = logging.getLogger(__name__)
# Where gadash 0.x kept its SQLite file: ./instance, relative to the working directory.
LEGACY_DATA_DIR = "instance"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key for migrations: any fixed 64-bit number, the same in
# every gadash process ("gadash" in ASCII).
MIGRATION_LOCK_KEY = 0x676164617368
MIGRATION_LOCK_SECONDS = 120.0


def alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Store:
    """The team's store of record: TV links, saved views, panels, annotations, digests,
    audit log.

    ``__init__`` only builds the engine; call ``migrate()`` once at start-up.
    Repository methods raise StoreUnavailableError when the database cannot be reached.
    """

    def __init__(self, url: str, echo: bool = False) -> None:
        self._url = normalise_url(url)
        self._db = Database(self._url, echo=echo)
        self.url: str = self._db.shown
        self.links = LinkRepo(self._db)
        self.views = ViewRepo(self._db)
        self.panels = PanelRepo(self._db)
        self.annotations = AnnotationRepo(self._db)
        self.audit = AuditRepo(self._db)
        self.digests = DigestRepo(self._db)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store ``settings`` name: GADASH_DATABASE_URL, else SQLite in GADASH_DATA_DIR."""
        if settings.database_url:
            return cls(settings.database_url)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = settings.data_dir / "gadash.db"
        older = Path(LEGACY_DATA_DIR, "gadash.db")
        if older.is_file() and not path.exists() and older.resolve() != path.resolve():
            log.warning("A gadash database of an earlier version is at %s; this one keeps "
                        "its data in %s. Move the file there, or set GADASH_DATA_DIR=%s.",
                        older.resolve(), settings.data_dir, older.parent.resolve())
        return cls(f"sqlite:///{path}")

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._db.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest revision; a no-op when it is there.

        Safe when several workers or instances start at once: PostgreSQL takes
        a transaction-scoped advisory lock, SQLite a file lock beside the
        database file. Raises StoreUnavailableError when the database cannot
        be reached or the lock not taken.
        """
        database = self._sqlite_path() if self.backend == "sqlite" else None
        if database is not None:
            folder = Path(database).parent
            if not folder.is_dir():
                # filelock would create it; the other calls would not: say so instead.
                raise StoreUnavailableError(
                    f"The team database ({self.url}) cannot be created: there is no folder "
                    f"{folder}, so nothing was changed. Create it (or set GADASH_DATA_DIR) "
                    "and try again.")
            lock_path = f"{database}.migrate.lock"
            try:
                with FileLock(lock_path, timeout=MIGRATION_LOCK_SECONDS):
                    self._upgrade()
            except Timeout:
                raise StoreUnavailableError(
                    f"Another gadash process has held the migration lock {lock_path} for "
                    f"{MIGRATION_LOCK_SECONDS:g} s; nothing was changed. If no other gadash "
                    "is starting, delete that file and try again.") from None
            except OSError as exc:
                raise StoreUnavailableError(
                    f"Cannot take the migration lock {lock_path} ({exc.strerror}); nothing was "
                    "changed. Check that GADASH_DATA_DIR exists and gadash may write "
                    "there.") from None
        else:
            self._upgrade()

    def _upgrade(self) -> None:
        cfg = alembic_config()
        with self._db.translate(writing=True), self._db.writer.begin() as conn:
            if self.backend == "postgresql":
                # Held until this transaction (the whole migration) ends; the next
                # process then finds the schema at head and does nothing.
                conn.execute(text(f"SET LOCAL lock_timeout = '{int(MIGRATION_LOCK_SECONDS)}s'"))
                conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def current_revision(self) -> str | None:
        """The schema's revision (None before the first migration).

        Raises StoreUnavailableError when the database cannot be reached.
        """
        with self._db.translate(writing=False), self._db.engine.connect() as conn:
            return _current(conn)

    def ping(self) -> bool:
        """True when a trivial query works."""
        try:
            with self._db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        """Close the pooled connections (the store can still be used; it reconnects)."""
        self._db.dispose()

    def _sqlite_path(self) -> str | None:
        database = self._url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return database


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()
