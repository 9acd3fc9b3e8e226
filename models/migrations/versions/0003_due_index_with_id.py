"""The due-check index also holds the id, the sweep's tie-break: claiming the oldest due check
reads one index entry instead of sorting every due one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orientation", schema=None) as batch_op:
        batch_op.drop_index("ix_orientation_due")
        batch_op.create_index("ix_orientation_due", ["next_check_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orientation", schema=None) as batch_op:
        batch_op.drop_index("ix_orientation_due")
        batch_op.create_index("ix_orientation_due", ["next_check_at"], unique=False)
