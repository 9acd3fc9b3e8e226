"""Partners close the loop: single-use confirmation requests, and who gave an outcome.

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confirmation_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("orientation_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("appointment_on", sa.Date(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("emailed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["orientation_id"], ["orientation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index(
        "ix_confirmation_request_orientation",
        "confirmation_request",
        ["orientation_id"],
        unique=False,
    )
    with op.batch_alter_table("orientation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "confirmed_by_partner_at", models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("orientation", schema=None) as batch_op:
        batch_op.drop_column("confirmed_by_partner_at")
    op.drop_index("ix_confirmation_request_orientation", table_name="confirmation_request")
    op.drop_table("confirmation_request")
