"""The store of record: what the team creates (TV links, saved views, Explore panels,
annotations, audit log).

SQLAlchemy 2 over an embedded SQLite file by default (``GADASH_DATA_DIR/gadash.db``)
or PostgreSQL (psycopg 3, ``GADASH_DATABASE_URL``) when several instances share
state; Alembic migrations in ``migrations/``, applied by ``Store.migrate()`` or
``python -m gadash.store upgrade``. Driver errors never leave this package: they
become ``StoreUnavailableError`` (cannot reach / locked) or ``StoreError``.
"""

from gadash.store.core import Store, head_revision
from gadash.store.repos import (
    AnnotationRepo,
    AnnotationRow,
    AuditRepo,
    AuditRow,
    LinkRepo,
    PanelRepo,
    PanelRow,
    SavedViewRow,
    TvLinkRow,
    ViewRepo,
)

__all__ = [
    "AnnotationRepo",
    "AnnotationRow",
    "AuditRepo",
    "AuditRow",
    "LinkRepo",
    "PanelRepo",
    "PanelRow",
    "SavedViewRow",
    "Store",
    "TvLinkRow",
    "ViewRepo",
    "head_revision",
]
