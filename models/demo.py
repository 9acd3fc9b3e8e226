"""A realistic year of demo data, shaped like the programme's 2024 figures (DOMAIN.md).

Seeded, so two runs with the same seed give the same data; bulk inserts, so the benchmark's
200,000 people and 1,000,000 interactions take seconds, not hours. Demo members have
negative Telegram ids: they can never log in, the jobs never write to them, and `remove`
deletes everything they own.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faker import Faker
from sqlalchemy import delete, func, insert, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import reference
from models.audit import AuditEvent, Delivery
from models.events import Event, EventPartner, Registration
from models.orientations import ContactKind, Interaction, Mode, Orientation, Purpose
from models.outreach import OutreachAction
from models.people import Person, PersonBarrier, Status, name_key
from models.reference import Partner
from models.team import Member, Role

# The seed's 2024 distributions (DOMAIN.md), completed with plausible shares.
CHANNELS = {
    "word_of_mouth": 31,
    "public_space": 22,
    "drop_in": 22,
    "partner_referral": 12,
    "event": 8,
    "other": 5,
}
RESIDENCES = {"qpv": 35, "qva": 10, "near_qpv": 26, "elsewhere": 29}
AGES = {"under_26": 27, "26_44": 44, "45_54": 18, "55_plus": 11}
SEXES = {"female": 53, "male": 45, "other": 1, "unspecified": 1}
BARRIERS = {
    "no_qualification": 40, "labour_market": 36, "french": 30, "no_resources": 28,
    "mobility": 12, "childcare": 10, "housing": 10, "digital": 15, "administrative": 8,
}  # fmt: skip
OUTCOMES = {"started": 45, "came_no_follow": 20, "no_show": 25, None: 10}
EXITS = {
    "durable_job": 14, "short_job": 18, "qualifying_training": 20, "partner_support": 28,
    "business_creation": 2, "moved": 5, "lost_contact": 8, "declined": 3, "other": 2,
}  # fmt: skip
DEMO_ID_BASE = -1_000_000  # Telegram user ids are positive: demo members can never log in
BATCH = 5_000


@dataclass(frozen=True, slots=True)
class DemoSize:
    """How much to generate."""

    people: int = 800
    interactions_per_person: float = 3.0
    years: int = 1  # how many years of history the people are spread over


class RealDataPresent(Exception):
    """The database already holds people: demo data would mix with real records."""


RESERVOIR = 2_000
EVENT_KINDS = {"job_cafe": 40, "job_dating": 20, "forum": 10, "workshop": 15, "info_session": 15}
EVENT_TITLES = {
    "job_cafe": "Café de l'emploi",
    "job_dating": "Job dating",
    "forum": "Forum emploi",
    "workshop": "Atelier CV",
    "info_session": "Information collective",
}
EVENT_THEMES = ("hôtellerie-restauration", "logistique", "BTP", "services à la personne", "")
EVENT_OUTCOMES = {"interview": 40, "training": 20, "hired": 15, "rpe": 20, "other": 5}


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


async def bulk_insert(conn: AsyncConnection, table: type[SQLModel], rows: list[dict]) -> list[int]:
    """Bulk insert in batches; returns the new ids in order (when the table has an id)."""
    target = table.__table__  # type: ignore[attr-defined]
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        if "id" in target.c:
            statement = insert(target).returning(target.c.id, sort_by_parameter_order=True)
            result = await conn.execute(statement, batch)
            ids.extend(result.scalars().all())
        else:
            await conn.execute(insert(target), batch)
    return ids


async def _demo_members(session: AsyncSession, now: dt.datetime) -> tuple[list[Member], Member]:
    neighbourhoods = await reference.neighbourhoods(session=session)
    existing = {
        m.telegram_user_id: m
        for m in (
            await session.exec(select(Member).where(col(Member.telegram_user_id) <= DEMO_ID_BASE))
        ).all()
    }
    mediators = []
    for i, nbh in enumerate(neighbourhoods):
        uid = DEMO_ID_BASE - 1 - i
        member = existing.get(uid) or Member(
            telegram_user_id=uid,
            display_name=f"Médiateur·rice démo {nbh.arrondissement}".strip(),
            role=Role.MEDIATOR.value,
            neighbourhood_id=nbh.id,
            joined_at=now - dt.timedelta(days=400),
        )
        session.add(member)
        mediators.append(member)
    coordinator = existing.get(DEMO_ID_BASE) or Member(
        telegram_user_id=DEMO_ID_BASE,
        display_name="Coordination démo",
        role=Role.COORDINATOR.value,
        joined_at=now - dt.timedelta(days=400),
    )
    session.add(coordinator)
    await session.flush()
    return mediators, coordinator


async def generate(
    *,
    session: AsyncSession,
    size: DemoSize,
    now: dt.datetime,
    seed: int = 2024,
    force: bool = False,
) -> dict[str, int]:
    """Fill the database with a year of activity ending at `now`. Returns row counts."""
    count = (await session.exec(select(func.count()).select_from(Person))).one()
    if count and not force:
        raise RealDataPresent()
    rng = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    mediators, coordinator = await _demo_members(session, now)
    partners: Sequence[Partner] = await reference.partners(session=session)
    conn = await session.connection()

    totals = {"people": 0, "orientations": 0, "interactions": 0}
    reservoir: list[tuple[int, dt.datetime]] = []  # a sample of people, for the events
    remaining = size.people
    while remaining > 0:  # in chunks: memory stays flat whatever the size
        chunk = min(BATCH, remaining)
        remaining -= chunk
        people_rows: list[dict[str, Any]] = []
        children: list[
            tuple[list[dict], list[dict], list[dict]]
        ] = []  # barriers, orientations, contacts
        for _ in range(chunk):
            mediator = rng.choice(mediators)
            engaged_at = now - dt.timedelta(seconds=rng.randrange(size.years * 365 * 86_400))
            first_name = fake.first_name()
            registered = _pick(rng, {"yes": 70, "no": 25, "unknown": 5})
            consent = rng.random() < 0.6
            barriers = [
                {"barrier": b}
                for b in set(
                    rng.choices(
                        list(BARRIERS), weights=list(BARRIERS.values()), k=rng.randint(1, 3)
                    )
                )
            ]
            last_contact = engaged_at
            contacts = []
            for _ in range(max(0, round(rng.gauss(size.interactions_per_person, 1)))):
                span = max(1, int((now - engaged_at).total_seconds()))
                at = engaged_at + dt.timedelta(seconds=rng.randrange(span))
                contacts.append(
                    {
                        "member_id": mediator.id,
                        "kind": rng.choice(list(ContactKind)).value,
                        "at": at,
                    }
                )
                last_contact = max(last_contact, at)
            status = Status.ENGAGED.value
            oriented = []
            created = engaged_at + dt.timedelta(days=rng.randint(0, 14), hours=rng.randint(0, 8))
            if rng.random() < 0.65 and created < now:
                outcome = _pick(rng, OUTCOMES) if created + dt.timedelta(days=10) < now else None
                oriented.append(
                    {
                        "mediator_id": mediator.id,
                        "partner_id": rng.choice(partners).id,
                        "purpose": rng.choice(list(Purpose)).value,
                        "mode": rng.choice(list(Mode)).value,
                        "appointment_on": (created + dt.timedelta(days=rng.randint(1, 10))).date(),
                        "created_at": created,
                        "outcome": outcome,
                        "outcome_at": created + dt.timedelta(days=rng.randint(3, 20))
                        if outcome
                        else None,
                        "next_check_at": None if outcome else created + dt.timedelta(days=7),
                        "reminders_sent": 0,
                        "overdue": False,
                        "seq": 0,
                    }
                )
                status = {"started": Status.SUPPORTED.value, None: Status.ORIENTED.value}.get(
                    outcome, status
                )
                last_contact = max(last_contact, created)
            exit_reason, exited_on = None, None
            if engaged_at < now - dt.timedelta(days=60) and rng.random() < 0.25:
                status, exit_reason = Status.EXITED.value, _pick(rng, EXITS)
                exited_on = (engaged_at + dt.timedelta(days=rng.randint(30, 59))).date()
                for orientation in oriented:
                    if orientation["outcome"] is None:
                        orientation.update(outcome="closed", outcome_at=now, next_check_at=None)
            people_rows.append(
                {
                    "first_name": first_name,
                    "first_name_key": name_key(first_name),
                    "sex": _pick(rng, SEXES),
                    "age_bracket": _pick(rng, AGES),
                    "residence": _pick(rng, RESIDENCES),
                    "channel": _pick(rng, CHANNELS),
                    "neighbourhood_id": mediator.neighbourhood_id,
                    "mediator_id": mediator.id,
                    "registered_ft": registered,
                    "referent_contact_5m": (
                        _pick(rng, {"yes": 7, "no": 88, "unknown": 5})
                        if registered == "yes"
                        else None
                    ),
                    "rsa": _pick(rng, {"yes": 30, "no": 60, "unknown": 10}),
                    "contact_consent": consent,
                    "contact_consent_at": engaged_at if consent else None,
                    "status": status,
                    "engaged_at": engaged_at,
                    "last_contact_at": min(last_contact, now),
                    "exit_reason": exit_reason,
                    "exited_on": exited_on,
                }
            )
            children.append((barriers, oriented, contacts))
        person_ids = await bulk_insert(conn, Person, people_rows)
        barrier_rows, orientation_rows, interaction_rows = [], [], []
        for person_id, (barriers, oriented, contacts) in zip(person_ids, children, strict=True):
            barrier_rows += [{"person_id": person_id, **row} for row in barriers]
            orientation_rows += [{"person_id": person_id, **row} for row in oriented]
            interaction_rows += [{"person_id": person_id, **row} for row in contacts]
        await bulk_insert(conn, PersonBarrier, barrier_rows)
        await bulk_insert(conn, Orientation, orientation_rows)
        await bulk_insert(conn, Interaction, interaction_rows)
        for person_id, row in zip(person_ids, people_rows, strict=True):
            if len(reservoir) < RESERVOIR:
                reservoir.append((person_id, row["engaged_at"]))
            elif (slot := rng.randrange(totals["people"] + len(reservoir))) < RESERVOIR:
                reservoir[slot] = (person_id, row["engaged_at"])
        totals["people"] += len(person_ids)
        totals["orientations"] += len(orientation_rows)
        totals["interactions"] += len(interaction_rows)

    informed_rows = []
    kinds = [
        c.code for c in await reference.choices(session=session, kind=reference.Kind.OUTREACH)
    ]
    for mediator in mediators:
        for week in range(52):
            day = (now - dt.timedelta(weeks=week, days=rng.randint(0, 4))).date()
            informed_rows.append(
                {
                    "member_id": mediator.id,
                    "neighbourhood_id": mediator.neighbourhood_id,
                    "kind": rng.choice(kinds),
                    "day": day,
                    "informed": rng.randint(3, 15),
                    "created_at": now,
                }
            )
    await bulk_insert(conn, OutreachAction, informed_rows)
    events_made = await _demo_events(
        conn, rng, now=now, years=size.years, mediators=mediators, organiser=coordinator,
        partners=partners, reservoir=reservoir,
    )  # fmt: skip
    return {**totals, "informed_actions": len(informed_rows), "events": events_made}


async def _demo_events(
    conn: AsyncConnection, rng: random.Random, *, now: dt.datetime, years: int,
    mediators: list[Member], organiser: Member, partners: Sequence[Partner],
    reservoir: list[tuple[int, dt.datetime]],
) -> int:  # fmt: skip
    """Two events a month, with partners, registered people who came or not, outcomes."""
    event_rows = []
    for month in range(12 * years):
        for _ in range(2):
            starts = now - dt.timedelta(days=30 * month + rng.randint(1, 29))
            starts = starts.replace(hour=rng.choice((8, 9, 13, 16)), minute=0, second=0)
            kind = _pick(rng, EVENT_KINDS)
            event_rows.append(
                {
                    "kind": kind,
                    "title": EVENT_TITLES[kind],
                    "starts_at": starts,
                    "neighbourhood_id": rng.choice(mediators).neighbourhood_id,
                    "place": "Centre social du quartier",
                    "theme": rng.choice(EVENT_THEMES),
                    "created_by_id": organiser.id,
                    "created_at": starts - dt.timedelta(days=14),
                    "unregistered_attendees": rng.randint(2, 10),
                    "outcomes_recorded_at": starts + dt.timedelta(days=7),
                }
            )
    event_ids = await bulk_insert(conn, Event, event_rows)
    partner_rows, registration_rows = [], []
    for event_id, row in zip(event_ids, event_rows, strict=True):
        for partner in rng.sample(list(partners), k=min(len(partners), rng.randint(1, 4))):
            partner_rows.append({"event_id": event_id, "partner_id": partner.id})
        known = [p for p, engaged in reservoir if engaged < row["starts_at"]]
        for person_id in rng.sample(known, k=min(len(known), rng.randint(3, 10))):
            attended = rng.random() < 0.7
            outcome = _pick(rng, EVENT_OUTCOMES) if attended and rng.random() < 0.4 else None
            registration_rows.append(
                {
                    "event_id": event_id,
                    "person_id": person_id,
                    "registered_by_id": organiser.id,
                    "registered_at": row["created_at"],
                    "attended": attended,
                    "outcome": outcome,
                }
            )
    await bulk_insert(conn, EventPartner, partner_rows)
    await bulk_insert(conn, Registration, registration_rows)
    return len(event_ids)


def _demo_member_ids() -> Any:
    return select(Member.id).where(col(Member.telegram_user_id) <= DEMO_ID_BASE)


async def remove(*, session: AsyncSession) -> dict[str, int]:
    """Delete everything the demo data made, and only that: its members (negative Telegram
    ids), the people they follow with everything recorded about them (by anyone), the events
    the demo coordinator created, the outreach counts of demo mediators. Returns row counts."""
    members = _demo_member_ids()
    people = select(Person.id).where(col(Person.mediator_id).in_(members))
    made_events = select(Event.id).where(col(Event.created_by_id).in_(members))

    async def gone(statement: Any) -> int:
        result = await session.exec(statement.execution_options(synchronize_session=False))
        return int(result.rowcount or 0)

    await gone(
        delete(Registration).where(
            or_(
                col(Registration.person_id).in_(people),
                col(Registration.event_id).in_(made_events),
                col(Registration.registered_by_id).in_(members),
            )
        )
    )
    await gone(delete(EventPartner).where(col(EventPartner.event_id).in_(made_events)))
    counts = {"events": await gone(delete(Event).where(col(Event.id).in_(made_events)))}
    counts["interactions"] = await gone(
        delete(Interaction).where(
            or_(col(Interaction.person_id).in_(people), col(Interaction.member_id).in_(members))
        )
    )
    counts["orientations"] = await gone(
        delete(Orientation).where(
            or_(col(Orientation.person_id).in_(people), col(Orientation.mediator_id).in_(members))
        )
    )
    await gone(delete(PersonBarrier).where(col(PersonBarrier.person_id).in_(people)))
    counts["people"] = await gone(delete(Person).where(col(Person.id).in_(people)))
    counts["informed_actions"] = await gone(
        delete(OutreachAction).where(col(OutreachAction.member_id).in_(members))
    )
    # Deliveries recorded for demo chats by earlier versions; the audit log keeps its lines.
    await gone(delete(Delivery).where(col(Delivery.chat_id) <= DEMO_ID_BASE))
    await gone(
        update(AuditEvent).where(col(AuditEvent.member_id).in_(members)).values(member_id=None)
    )
    counts["members"] = await gone(
        delete(Member).where(col(Member.telegram_user_id) <= DEMO_ID_BASE)
    )
    await session.flush()
    return counts
