"""Handing a departed mediator's people over to another mediator.

When a mediator's access is deactivated, the people they followed and their open follow-ups
would stall: reminders go to nobody. A coordinator hands them over: the people (their
`mediator_id`), and the open orientations with their reminders (due dates unchanged) move to
the new mediator; what already happened (closed orientations, contacts) keeps its author.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.base import pk
from models.errors import DomainError, NotAllowed, NotFound
from models.orientations import Orientation
from models.people import Person, Status
from models.team import Member, Role


@dataclass(frozen=True, slots=True)
class OpenWork:
    """What a mediator leaves behind: people whose mediation is open, open follow-ups."""

    people: int
    orientations: int

    def __bool__(self) -> bool:
        return bool(self.people or self.orientations)


async def open_work(*, session: AsyncSession, member_id: int) -> OpenWork:
    """The people this member follows whose mediation is not closed, and their open
    orientations."""
    people = await session.exec(
        select(func.count())
        .select_from(Person)
        .where(Person.mediator_id == member_id, col(Person.status) != Status.EXITED.value)
    )
    orientations = await session.exec(
        select(func.count())
        .select_from(Orientation)
        .where(Orientation.mediator_id == member_id, col(Orientation.outcome).is_(None))
    )
    return OpenWork(people=people.one(), orientations=orientations.one())


async def stalled(*, session: AsyncSession) -> list[tuple[Member, OpenWork]]:
    """Deactivated members (demo members aside) who still follow people, by name."""
    rows = await session.exec(
        select(Member)
        .where(~col(Member.active), col(Member.telegram_user_id) > 0)
        .order_by(col(Member.display_name), col(Member.id))
    )
    found = []
    for member in rows.all():
        work = await open_work(session=session, member_id=pk(member))
        if work:
            found.append((member, work))
    return found


async def candidates(*, session: AsyncSession, excluding: int) -> Sequence[Member]:
    """Who may take them: active mediators with a real account, by name."""
    rows = await session.exec(
        select(Member)
        .where(
            col(Member.active),
            Member.role == Role.MEDIATOR.value,
            col(Member.telegram_user_id) > 0,
            col(Member.id) != excluding,
        )
        .order_by(col(Member.display_name), col(Member.id))
    )
    return rows.all()


@dataclass(frozen=True, slots=True)
class Handover:
    """What moved, from whom, to whom."""

    source: Member
    target: Member
    people: int
    orientations: int


async def hand_over(
    *, session: AsyncSession, actor: Member, from_id: int, to_id: int, now: dt.datetime
) -> Handover:
    """A coordinator moves a deactivated member's people, and their open orientations and
    reminders, to an active mediator. Audited."""
    if not actor.is_coordinator:
        raise NotAllowed()
    source = await session.get(Member, from_id)
    target = await session.get(Member, to_id)
    if source is None or target is None:
        raise NotFound()
    if source.active:
        raise DomainError("handover_source_active")
    if (
        not target.active
        or target.role != Role.MEDIATOR.value
        or target.is_demo
        or source.is_demo
        or target.id == source.id
    ):
        raise DomainError("handover_target_invalid")
    moved_people = await session.exec(
        update(Person)
        .where(col(Person.mediator_id) == from_id)
        .values(mediator_id=to_id)
        .execution_options(synchronize_session=False)
    )
    moved_orientations = await session.exec(
        update(Orientation)
        .where(col(Orientation.mediator_id) == from_id, col(Orientation.outcome).is_(None))
        .values(mediator_id=to_id)
        .execution_options(synchronize_session=False)
    )
    result = Handover(
        source=source,
        target=target,
        people=moved_people.rowcount or 0,
        orientations=moved_orientations.rowcount or 0,
    )
    await audit.record(
        session=session,
        at=now,
        member_id=actor.id,
        action="handover",
        subject=source.display_name,
        detail=f"{target.display_name}: {result.people} / {result.orientations}",
    )
    return result
