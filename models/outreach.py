"""Outreach actions (repérage): counts of people informed, never identities."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, pk
from models.errors import DomainError
from models.reference import Kind, active_codes
from models.team import Member

MAX_INFORMED_PER_ACTION = 500


class OutreachAction(SQLModel, table=True):
    """People informed during one action (tour de rue, permanence...), on one day."""

    __tablename__ = "outreach_action"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id")
    kind: str = Field(max_length=30)
    day: dt.date = Field(index=True)
    informed: int
    created_at: dt.datetime = Field(sa_type=UTCDateTime)


def recording_neighbourhood(member: Member) -> int:
    """Where `member`'s counts are recorded: their neighbourhood; without one, they may not."""
    if member.neighbourhood_id is None:
        raise DomainError("no_neighbourhood")
    return member.neighbourhood_id


async def record_informed(
    *,
    session: AsyncSession,
    member: Member,
    kind: str,
    informed: int,
    day: dt.date,
    today: dt.date,
    now: dt.datetime,
) -> OutreachAction:
    """Log how many people were informed at one action, in the member's neighbourhood."""
    if kind not in await active_codes(session=session, kind=Kind.OUTREACH):
        raise DomainError("choice_invalid")
    if not 1 <= informed <= MAX_INFORMED_PER_ACTION:
        raise DomainError("count_invalid", limit=MAX_INFORMED_PER_ACTION)
    if day > today or day < today - dt.timedelta(days=60):
        raise DomainError("date_out_of_range")
    action = OutreachAction(
        member_id=pk(member),
        neighbourhood_id=recording_neighbourhood(member),
        kind=kind,
        day=day,
        informed=informed,
        created_at=now,
    )
    session.add(action)
    await session.flush()
    return action
