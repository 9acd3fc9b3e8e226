"""Data protection: retention, the right of access, the right to erasure (CNIL référentiels).

Anonymising keeps every coded field (dates, neighbourhood, channel, barriers, orientations,
outcomes) so past statistics do not change; it removes what identifies: first name, phone,
notes, consent to keep contact details; and it closes the person's open orientations, so no
reminder goes out about them again. On SQLite, what the update overwrote is zeroed in the file
(`secure_delete`, bot/db.py); the caller then empties the write-ahead log (`truncate_log`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import undefer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import consent
from models.audit import AuditEvent
from models.base import pk
from models.botstate import ConversationState, UserState, forget_people_in_drafts
from models.events import Event, Registration
from models.orientations import Interaction, Orientation, close_for_erasure
from models.people import Person, barriers_of, get_person
from models.reference import Neighbourhood, Partner
from models.team import Member

ANONYMOUS = "Anonyme"


def months_before(instant: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` months earlier (clamped to the month's last day)."""
    year, month = divmod(instant.year * 12 + instant.month - 1 - months, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def _identity_cleared() -> dict[str, Any]:
    return {
        "first_name": ANONYMOUS,
        "first_name_key": "",
        "phone": None,
        "note": None,
        "contact_consent": False,
        "contact_consent_at": None,
    }


async def due_for_retention(
    *, session: AsyncSession, now: dt.datetime, months: int
) -> Sequence[Person]:
    """People whose last contact is more than `months` months old and still identifiable."""
    limit = months_before(now, months)
    query = (
        select(Person)
        .where(col(Person.last_contact_at) < limit, col(Person.anonymised_at).is_(None))
        .order_by(col(Person.last_contact_at))
    )
    return (await session.exec(query)).all()


async def anonymise(*, session: AsyncSession, person_ids: Sequence[int], now: dt.datetime) -> int:
    """Remove identity, contact details and notes; close open orientations; keep the figures.
    Returns people changed."""
    if not person_ids:
        return 0
    await close_for_erasure(session=session, person_ids=person_ids, now=now)
    await session.exec(
        update(Person)
        .where(col(Person.id).in_(person_ids))
        .values(**_identity_cleared(), anonymised_at=now)
    )
    for table in (Orientation, Interaction):
        await session.exec(
            update(table).where(col(table.person_id).in_(person_ids)).values(note=None)
        )
    await forget_people_in_drafts(session=session, person_ids=person_ids, now=now)
    return len(person_ids)


async def apply_retention(*, session: AsyncSession, now: dt.datetime, months: int) -> int:
    """The daily retention pass."""
    due = await due_for_retention(session=session, now=now, months=months)
    return await anonymise(session=session, person_ids=[pk(p) for p in due], now=now)


async def purge_departed_state(*, session: AsyncSession) -> int:
    """Drafts and conversation states of members who left the team."""
    departed = (
        await session.exec(select(Member.telegram_user_id).where(col(Member.active).is_(False)))
    ).all()
    removed = 0
    for user_id in departed:
        removed += (
            await session.exec(delete(UserState).where(col(UserState.user_id) == user_id))
        ).rowcount or 0
        removed += (
            await session.exec(
                delete(ConversationState).where(col(ConversationState.key).like(f"%, {user_id}]"))
            )
        ).rowcount or 0
    return removed


async def purge_audit(*, session: AsyncSession, now: dt.datetime, months: int) -> int:
    """Audit events older than `months` months."""
    result = await session.exec(
        delete(AuditEvent).where(col(AuditEvent.at) < months_before(now, months))
    )
    return result.rowcount or 0


async def record_of(
    *, session: AsyncSession, viewer: Member, person_id: int, tz_name: str
) -> dict[str, Any]:
    """Everything stored about one person, notes included (right of access)."""
    person = await get_person(
        session=session, viewer=viewer, person_id=person_id, contact_details=True
    )
    neighbourhood = await session.get_one(Neighbourhood, person.neighbourhood_id)
    orientations = (
        await session.exec(
            select(Orientation)
            .where(Orientation.person_id == person.id)
            .options(undefer(Orientation.note))  # type: ignore[arg-type]
        )
    ).all()
    partners = {p.id: p.name for p in (await session.exec(select(Partner))).all()}
    contacts = (
        await session.exec(
            select(Interaction)
            .where(Interaction.person_id == person.id)
            .options(undefer(Interaction.note))  # type: ignore[arg-type]
        )
    ).all()
    registrations = (
        await session.exec(
            select(Registration, Event)
            .join(Event, col(Event.id) == col(Registration.event_id))
            .where(Registration.person_id == person.id)
        )
    ).all()
    profile = person.model_dump(exclude={"first_name_key"})
    profile["code"] = person.code
    profile["neighbourhood"] = neighbourhood.name
    profile["barriers"] = await barriers_of(session=session, person_id=pk(person))
    return {
        "time_zone": tz_name,
        "person": profile,
        "orientations": [
            {**o.model_dump(exclude={"seq"}), "partner": partners.get(o.partner_id)}
            for o in orientations
        ],
        "consent": await consent.record_for(session=session, person_id=pk(person)),
        "contacts": [c.model_dump() for c in contacts],
        "events": [
            {
                "event": event.title,
                "starts_at": event.starts_at,
                "registered_at": registration.registered_at,
                "attended": registration.attended,
                "outcome": registration.outcome,
            }
            for registration, event in registrations
        ],
    }


def record_as_json(record: dict[str, Any]) -> bytes:
    """The record as a readable UTF-8 JSON file."""
    return json.dumps(record, ensure_ascii=False, indent=2, default=str).encode()
