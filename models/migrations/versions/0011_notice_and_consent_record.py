"""The information notice's versions as shown, and each person's consent record.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_shown_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("language", "version", "digest"),
    )
    op.create_table(
        "consent_record",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("notice_shown_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notice_version.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["withdrawn_by"], ["member.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("consent_record")
    op.drop_table("notice_version")
