"""On SQLite, the drafts' and the handled updates' keys are declared INTEGER: each is then the
row's own id, and the write-ahead of every update changes one B-tree per table instead of a
table and the index of its key (a BIGINT primary key is not SQLite's rowid). PostgreSQL has
no rowid: nothing changes there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = (("processed_update", "update_id"), ("user_state", "user_id"))


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in KEYS:
        # SQLite cannot change a column's type: the table is copied into a new one.
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.alter_column(column, type_=new, existing_type=old, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())
