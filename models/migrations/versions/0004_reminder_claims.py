"""Due checks are claimed while their reminder is sent (no lock held during the send).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orientation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_until", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orientation", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
