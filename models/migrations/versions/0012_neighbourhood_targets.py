"""A neighbourhood may have a yearly target of its own (from reference_data.toml).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("neighbourhood", schema=None) as batch_op:
        batch_op.add_column(sa.Column("yearly_target", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("neighbourhood", schema=None) as batch_op:
        batch_op.drop_column("yearly_target")
