"""Row-level data for funders' exports, pseudonymised: codes, never names, phones or notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import dialect_of
from models.orientations import Orientation
from models.outreach import OutreachAction
from models.people import Person, PersonBarrier, person_code
from models.reference import Neighbourhood, Partner
from models.stats import Period
from models.team import Member


def _local_day(instant: dt.datetime | None, tz: ZoneInfo) -> dt.date | None:
    return instant.astimezone(tz).date() if instant else None


async def people_rows(
    *, session: AsyncSession, period: Period, tz: ZoneInfo
) -> Sequence[dict[str, Any]]:
    """People engaged in the period: profile codes only (no first name, phone or note)."""
    start, end = period.bounds(tz)
    barriers = func.group_concat(PersonBarrier.barrier, ",")
    if dialect_of(session) == "postgresql":
        barriers = func.string_agg(PersonBarrier.barrier, ",")
    query = (
        select(Person, Neighbourhood.name, Member.display_name, barriers)
        .join(Neighbourhood, col(Neighbourhood.id) == col(Person.neighbourhood_id))
        .join(Member, col(Member.id) == col(Person.mediator_id))
        .outerjoin(PersonBarrier, col(PersonBarrier.person_id) == col(Person.id))
        .where(col(Person.engaged_at) >= start, col(Person.engaged_at) < end)
        .group_by(col(Person.id), Neighbourhood.name, Member.display_name)
        .order_by(col(Person.id))
    )
    rows = []
    for person, neighbourhood, mediator, person_barriers in (await session.exec(query)).all():
        rows.append(
            {
                "code": person.code,
                "neighbourhood": neighbourhood,
                "mediator": mediator,
                "engaged_on": _local_day(person.engaged_at, tz),
                "sex": person.sex,
                "age_bracket": person.age_bracket,
                "residence": person.residence,
                "channel": person.channel,
                "barriers": ",".join(sorted((person_barriers or "").split(","))).strip(","),
                "registered_ft": person.registered_ft,
                "referent_contact_5m": person.referent_contact_5m or "",
                "rsa": person.rsa,
                "status": person.status,
                "exited_on": person.exited_on,
                "exit_reason": person.exit_reason or "",
            }
        )
    return rows


async def orientation_rows(
    *, session: AsyncSession, period: Period, tz: ZoneInfo
) -> Sequence[dict[str, Any]]:
    """Orientations made in the period, with outcome and delays in days."""
    start, end = period.bounds(tz)
    query = (
        select(Orientation, Partner.name, Partner.category)
        .join(Partner, col(Partner.id) == col(Orientation.partner_id))
        .where(col(Orientation.created_at) >= start, col(Orientation.created_at) < end)
        .order_by(col(Orientation.id))
    )
    rows = []
    for orientation, partner, category in (await session.exec(query)).all():
        created = _local_day(orientation.created_at, tz)
        outcome_on = _local_day(orientation.outcome_at, tz)
        rows.append(
            {
                "id": orientation.id,
                "person": person_code(orientation.person_id),
                "partner": partner,
                "category": category,
                "purpose": orientation.purpose,
                "mode": orientation.mode,
                "created_on": created,
                "appointment_on": orientation.appointment_on,
                "days_to_appointment": (orientation.appointment_on - created).days
                if orientation.appointment_on and created
                else None,
                "outcome": orientation.outcome or "",
                "outcome_on": outcome_on,
                "days_to_outcome": (outcome_on - created).days if outcome_on and created else None,
            }
        )
    return rows


async def exit_rows(*, session: AsyncSession, period: Period) -> Sequence[dict[str, Any]]:
    """Exits in the period."""
    query = (
        select(
            col(Person.id), col(Person.exited_on), col(Person.exit_reason), col(Neighbourhood.name)
        )
        .join(Neighbourhood, col(Neighbourhood.id) == col(Person.neighbourhood_id))
        .where(col(Person.exited_on) >= period.start, col(Person.exited_on) <= period.end)
        .order_by(col(Person.exited_on), col(Person.id))
    )
    return [
        {"person": person_code(pid or 0), "exited_on": on, "reason": reason, "neighbourhood": name}
        for pid, on, reason, name in (await session.exec(query)).all()
    ]


async def informed_rows(*, session: AsyncSession, period: Period) -> Sequence[dict[str, Any]]:
    """Outreach counts in the period."""
    query = (
        select(  # type: ignore[call-overload]  # sqlmodel's overloads omit `date` columns
            OutreachAction.day, Neighbourhood.name, OutreachAction.kind, OutreachAction.informed
        )
        .join(Neighbourhood, col(Neighbourhood.id) == col(OutreachAction.neighbourhood_id))
        .where(col(OutreachAction.day) >= period.start, col(OutreachAction.day) <= period.end)
        .order_by(col(OutreachAction.day), col(OutreachAction.id))
    )
    return [
        {"day": day, "neighbourhood": name, "kind": kind, "informed": informed}
        for day, name, kind, informed in (await session.exec(query)).all()
    ]
