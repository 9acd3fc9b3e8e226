"""Members Telegram refuses are marked unreachable and retried after a back-off.

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-30 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unreachable_since", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "unreachable_reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("delivery_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("next_delivery_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("next_delivery_at")
        batch_op.drop_column("delivery_failures")
        batch_op.drop_column("unreachable_reason")
        batch_op.drop_column("unreachable_since")
