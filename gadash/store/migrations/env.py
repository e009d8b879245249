"""Alembic environment for gadash's store, driven from ``gadash.store.Store.migrate``.

The caller passes an open connection in ``config.attributes["connection"]`` (it
already holds the migration lock); the URL path is there for alembic's own tools.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from gadash.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url to migrate")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("gadash's migrations run online only (python -m gadash.store upgrade)")
run_migrations_online()
