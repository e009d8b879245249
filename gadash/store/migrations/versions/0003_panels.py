"""Saved Explore panels: a named exploration of one property, pinned or not.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "panels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("property", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("grammar", sa.Integer, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        # TV playlists name panels by id: SQLite must not reuse a deleted panel's.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_panels_property", "panels", ["property"])


def downgrade() -> None:
    op.drop_index("ix_panels_property", table_name="panels")
    op.drop_table("panels")
