"""A chat's conversation states are read by their key alone (every update's access check,
`botstate.CHAT_STATE`): the primary key (name, key) could not serve it, and SQLite scanned
the whole table, one row per conversation in progress.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_state_key", ["key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_state_key")
