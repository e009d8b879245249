"""An index to find a person's last sign-out quickly (sessions end on the server).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_audit_log_actor_action", "audit_log", ["actor", "action"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor_action", table_name="audit_log")
