"""Scheduled digests and the record of each sending.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("property", sa.Text, nullable=False),
        sa.Column("schedule", sa.Text, nullable=False),
        sa.Column("emails", sa.Text, nullable=False),
        sa.Column("webhooks", sa.Text, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active_since", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest_id", sa.Integer, nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", UTC_TIME, nullable=False),
        sa.Column("lease_until", UTC_TIME, nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("delivered", sa.Text, nullable=False, server_default=""),
        sa.Column("log", sa.Text, nullable=False, server_default=""),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("image_token", sa.String(32), nullable=True),
        sa.Column("image", sa.LargeBinary, nullable=True),
        # One run per digest and due time, whichever instance makes it first.
        sa.UniqueConstraint("digest_id", "due_at", name="uq_digest_runs_due"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_digest_runs_status_next", "digest_runs", ["status", "next_try_at"])
    op.create_index("ix_digest_runs_image_token", "digest_runs", ["image_token"])


def downgrade() -> None:
    op.drop_index("ix_digest_runs_image_token", table_name="digest_runs")
    op.drop_index("ix_digest_runs_status_next", table_name="digest_runs")
    op.drop_table("digest_runs")
    op.drop_table("digests")
