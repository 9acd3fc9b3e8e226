"""The audit log (append-only) and the records that make weekly sends happen exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime


class AuditEvent(SQLModel, table=True):
    """Who did what sensitive thing, when (export, erase, invite...). Never updated."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_type=UTCDateTime)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(max_length=30)
    subject: str = Field(default="", max_length=60)
    detail: str = Field(default="", max_length=200)


class Delivery(SQLModel, table=True):
    """One weekly message (digest, recap) delivered to one chat for one week."""

    __table_args__ = (UniqueConstraint("kind", "period_key", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    period_key: str = Field(max_length=20)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    sent_at: dt.datetime = Field(sa_type=UTCDateTime)


async def record(
    *,
    session: AsyncSession,
    at: dt.datetime,
    member_id: int | None,
    action: str,
    subject: str = "",
    detail: str = "",
) -> AuditEvent:
    """Append one event."""
    event = AuditEvent(
        at=at, member_id=member_id, action=action, subject=subject[:60], detail=detail[:200]
    )
    session.add(event)
    await session.flush()
    return event


async def events(
    *, session: AsyncSession, action: str | None = None, limit: int = 50
) -> Sequence[AuditEvent]:
    """The latest events, newest first."""
    query = select(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return (await session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit))).all()


async def delivered_chats(*, session: AsyncSession, kind: str, period_key: str) -> set[int]:
    """Chats that already got this week's message of this kind."""
    rows = await session.exec(
        select(Delivery.chat_id).where(Delivery.kind == kind, Delivery.period_key == period_key)
    )
    return set(rows.all())


async def mark_delivered(
    *, session: AsyncSession, kind: str, period_key: str, chat_id: int, now: dt.datetime
) -> None:
    """Record one delivery."""
    session.add(Delivery(kind=kind, period_key=period_key, chat_id=chat_id, sent_at=now))
    await session.flush()
