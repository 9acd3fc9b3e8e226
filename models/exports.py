"""Row-level data for funders' exports, pseudonymised: codes, never names, phones or notes.

Read in pages of PAGE rows by key (`id > last`), each page its own short statement: between
two pages the event loop serves everybody else, and a 200,000-person export never holds it
for more than one page's rows. Rows come back as plain tuples of codes and instants; turning
them into labels, local dates and files is CPU work for a thread (bot/exports.py).
"""

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
from models.people import Person, PersonBarrier
from models.reference import Neighbourhood, Partner
from models.stats import Period

PAGE = 1_000

PEOPLE_COLUMNS = (
    "id", "neighbourhood", "engaged_at", "sex", "age_bracket", "residence", "channel",
    "barriers", "registered_ft", "referent_contact_5m", "rsa", "status", "exited_on",
    "exit_reason",
)  # fmt: skip
ORIENTATION_COLUMNS = (
    "id", "person_id", "partner", "category", "purpose", "mode", "created_at", "appointment_on",
    "outcome", "outcome_at", "confirmed_by_partner_at",
)  # fmt: skip
EXIT_COLUMNS = ("person_id", "neighbourhood", "exited_on", "reason")
INFORMED_COLUMNS = ("day", "neighbourhood", "kind", "informed")


async def _paged(session: AsyncSession, query: Any, key: Any) -> list[tuple[Any, ...]]:
    """Every row of `query`, by pages of PAGE in the order of `key` (its first column)."""
    rows: list[tuple[Any, ...]] = []
    last = None
    while True:
        page_query = query.order_by(key).limit(PAGE)
        if last is not None:
            page_query = page_query.where(key > last)
        page = (await session.exec(page_query)).all()
        rows.extend(tuple(row) for row in page)
        if len(page) < PAGE:
            return rows
        last = page[-1][0]


def _name_of_area(area_id: Any) -> Any:
    return select(Neighbourhood.name).where(col(Neighbourhood.id) == area_id).scalar_subquery()


async def people_rows(
    *, session: AsyncSession, period: Period, tz: ZoneInfo
) -> list[tuple[Any, ...]]:
    """People engaged in the period (PEOPLE_COLUMNS): profile codes only, barriers as "a,b".

    The neighbourhood and the barriers are correlated subqueries, not a grouped join: each
    page then walks the primary key and stops at PAGE rows (8 ms a page at 200,000 people on
    SQLite; the grouped join re-grouped the whole period for every page: 3.5 s)."""
    start, end = period.bounds(tz)
    concat = func.group_concat(PersonBarrier.barrier, ",")
    if dialect_of(session) == "postgresql":
        concat = func.string_agg(PersonBarrier.barrier, ",")
    barriers = select(concat).where(col(PersonBarrier.person_id) == col(Person.id))
    query = select(  # type: ignore[call-overload]
        col(Person.id), _name_of_area(Person.neighbourhood_id), Person.engaged_at, Person.sex,
        Person.age_bracket, Person.residence, Person.channel, barriers.scalar_subquery(),
        Person.registered_ft, Person.referent_contact_5m, Person.rsa, Person.status,
        Person.exited_on, Person.exit_reason,
    ).where(col(Person.engaged_at) >= start, col(Person.engaged_at) < end)  # fmt: skip
    return await _paged(session, query, col(Person.id))


async def orientation_rows(
    *, session: AsyncSession, period: Period, tz: ZoneInfo
) -> list[tuple[Any, ...]]:
    """Orientations made in the period (ORIENTATION_COLUMNS)."""
    start, end = period.bounds(tz)
    partner = col(Partner.id) == col(Orientation.partner_id)
    query = select(  # type: ignore[call-overload]
        col(Orientation.id), Orientation.person_id,
        select(Partner.name).where(partner).scalar_subquery(),
        select(Partner.category).where(partner).scalar_subquery(),
        Orientation.purpose, Orientation.mode, Orientation.created_at,
        Orientation.appointment_on, Orientation.outcome, Orientation.outcome_at,
        Orientation.confirmed_by_partner_at,
    ).where(col(Orientation.created_at) >= start, col(Orientation.created_at) < end)  # fmt: skip
    return await _paged(session, query, col(Orientation.id))


async def exit_rows(*, session: AsyncSession, period: Period) -> Sequence[tuple[Any, ...]]:
    """Exits in the period (EXIT_COLUMNS), by date."""
    exited = (col(Person.exited_on) >= period.start, col(Person.exited_on) <= period.end)
    query = select(  # type: ignore[call-overload]
        col(Person.id), _name_of_area(Person.neighbourhood_id), col(Person.exited_on),
        col(Person.exit_reason),
    ).where(*exited)  # fmt: skip
    rows = await _paged(session, query, col(Person.id))
    return sorted(rows, key=lambda r: (r[2], r[0]))


async def informed_rows(*, session: AsyncSession, period: Period) -> Sequence[tuple[Any, ...]]:
    """Outreach counts in the period (INFORMED_COLUMNS), by day."""
    days = (col(OutreachAction.day) >= period.start, col(OutreachAction.day) <= period.end)
    query = select(  # type: ignore[call-overload]  # sqlmodel's overloads omit `date` columns
        col(OutreachAction.id), OutreachAction.day,
        _name_of_area(OutreachAction.neighbourhood_id), OutreachAction.kind,
        OutreachAction.informed,
    ).where(*days)  # fmt: skip
    rows = await _paged(session, query, col(OutreachAction.id))
    return [row[1:] for row in sorted(rows, key=lambda r: (r[1], r[0]))]


def local_day(instant: dt.datetime | None, tz: ZoneInfo) -> dt.date | None:
    """The team's date of an instant."""
    return instant.astimezone(tz).date() if instant else None
