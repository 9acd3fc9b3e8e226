"""Neighbourhood events (DOMAIN.md, "Events"): the project officer's cafés de l'emploi, job
datings and forums, the partners present, who registered, who came, and what changed for them.

An event counts two kinds of attendees: the people the mediators registered (known, by code)
and a headcount of unregistered ones. Outcomes ("impact à chaud") are recorded per known
person; the free summary says the rest. Nothing here identifies anyone beyond a person's id.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement, Index, UniqueConstraint, func
from sqlalchemy.orm import undefer
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, pk, plain_text
from models.crypto import loaded_only_when_asked, private_column
from models.errors import DomainError, NotAllowed, NotFound
from models.people import Person, Status
from models.reference import Neighbourhood, Partner
from models.team import Member, Role

TITLE_MAX = 80
PLACE_MAX = 120
THEME_MAX = 80
SUMMARY_MAX = 1000
MAX_HEADCOUNT = 2000
EVENT_MAX_PAST_DAYS = 366
EVENT_MAX_FUTURE_DAYS = 366
OUTCOMES_ASKED_AFTER = dt.timedelta(days=7)


class EventKind(StrEnum):
    """The formats the project officer organises."""

    JOB_CAFE = "job_cafe"
    JOB_DATING = "job_dating"
    FORUM = "forum"
    WORKSHOP = "workshop"
    COMPANY_VISIT = "company_visit"
    INFO_SESSION = "info_session"
    OTHER = "other"


class EventOutcome(StrEnum):
    """What changed for an attendee after the event (the "impact à chaud")."""

    INTERVIEW = "interview"
    TRAINING = "training"
    HIRED = "hired"
    RPE = "rpe"
    OTHER = "other"


_SUMMARY = private_column("summary")


class Event(SQLModel, table=True):
    """One event in a neighbourhood."""

    __mapper_args__ = loaded_only_when_asked(_SUMMARY)  # read only on the event's card
    __table_args__ = (Index("ix_event_starts_at", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=TITLE_MAX)
    starts_at: dt.datetime = Field(sa_type=UTCDateTime)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id")
    place: str = Field(max_length=PLACE_MAX)
    theme: str = Field(default="", max_length=THEME_MAX)
    created_by_id: int = Field(foreign_key="member.id")
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    unregistered_attendees: int = 0
    attendance_recorded_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    summary: str | None = Field(default=None, sa_column=_SUMMARY)
    outcomes_recorded_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class EventPartner(SQLModel, table=True):
    """A partner present at an event (an employer, a training body, an RPE partner)."""

    __tablename__ = "event_partner"

    event_id: int = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    partner_id: int = Field(foreign_key="partner.id", primary_key=True)


class Registration(SQLModel, table=True):
    """A known person registered for an event by their mediator; attendance and outcome."""

    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        Index("ix_registration_person", "person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id")
    registered_by_id: int = Field(foreign_key="member.id")
    registered_at: dt.datetime = Field(sa_type=UTCDateTime)
    attended: bool = False
    outcome: str | None = Field(default=None, max_length=20)


@dataclass(slots=True)
class EventDraft:
    """What `/evenement` collects; validated by `create_event`."""

    kind: str
    title: str
    starts_at: dt.datetime
    neighbourhood_id: int
    place: str
    theme: str = ""
    partner_ids: list[int] = field(default_factory=list)


def clean_text(text: str, *, limit: int, key: str, required: bool = True) -> str:
    """One line of plain text: spaces folded, control and zero-width characters removed."""
    cleaned = plain_text(text)
    if (required and not cleaned) or len(cleaned) > limit:
        raise DomainError(key, limit=limit)
    return cleaned


def clean_summary(text: str) -> str:
    """The free summary: several lines allowed, bounded length."""
    cleaned = plain_text(text, lines=True)
    if not cleaned or len(cleaned) > SUMMARY_MAX:
        raise DomainError("summary_invalid", limit=SUMMARY_MAX)
    return cleaned


def may_organise(member: Member) -> bool:
    """Events are organised by the project officer and coordinators."""
    return member.role in (Role.PROJECT_OFFICER, Role.COORDINATOR)


def _may_organise(member: Member) -> None:
    if not may_organise(member):
        raise NotAllowed()


async def create_event(
    *, session: AsyncSession, member: Member, draft: EventDraft, now: dt.datetime
) -> Event:
    """Record a new event with its partners."""
    _may_organise(member)
    if draft.kind not in set(EventKind):
        raise DomainError("choice_invalid")
    if not now - dt.timedelta(days=EVENT_MAX_PAST_DAYS) <= draft.starts_at:
        raise DomainError("date_out_of_range")
    if draft.starts_at > now + dt.timedelta(days=EVENT_MAX_FUTURE_DAYS):
        raise DomainError("date_out_of_range")
    neighbourhood = await session.get(Neighbourhood, draft.neighbourhood_id)
    if neighbourhood is None or not neighbourhood.active:
        raise DomainError("choice_invalid")
    event = Event(
        kind=draft.kind,
        title=clean_text(draft.title, limit=TITLE_MAX, key="event_title_invalid"),
        starts_at=draft.starts_at,
        neighbourhood_id=draft.neighbourhood_id,
        place=clean_text(draft.place, limit=PLACE_MAX, key="event_place_invalid"),
        theme=clean_text(draft.theme, limit=THEME_MAX, key="event_theme_invalid", required=False),
        created_by_id=pk(member),
        created_at=now,
    )
    session.add(event)
    await session.flush()
    for partner_id in dict.fromkeys(draft.partner_ids):
        partner = await session.get(Partner, partner_id)
        if partner is None:
            raise DomainError("choice_invalid")
        session.add(EventPartner(event_id=pk(event), partner_id=partner_id))
    await session.flush()
    return event


async def get_event(*, session: AsyncSession, event_id: int) -> Event:
    """One event (every member may see the agenda), its summary read."""
    query = select(Event).where(Event.id == event_id).options(undefer(Event.summary))  # type: ignore[arg-type]
    event = (await session.exec(query)).first()
    if event is None:
        raise NotFound()
    return event


async def partners_of(*, session: AsyncSession, event_id: int) -> Sequence[Partner]:
    """The partners present, by name."""
    rows = await session.exec(
        select(Partner)
        .join(EventPartner, col(EventPartner.partner_id) == col(Partner.id))
        .where(EventPartner.event_id == event_id)
        .order_by(Partner.name)
    )
    return rows.all()


async def registrations(
    *, session: AsyncSession, event_id: int, viewer: Member
) -> Sequence[tuple[Registration, Person]]:
    """The registered people a viewer may see: a mediator their own, the project officer and
    coordinators every attendee."""
    query = (
        select(Registration, Person)
        .join(Person, col(Person.id) == col(Registration.person_id))
        .where(Registration.event_id == event_id)
        .order_by(col(Registration.id))
    )
    if viewer.role == Role.MEDIATOR:
        query = query.where(Person.mediator_id == viewer.id)
    return (await session.exec(query)).all()  # type: ignore[return-value]


def registration_open(event: Event, now: dt.datetime) -> bool:
    """People may be registered until the day after the event."""
    return event.starts_at.date() >= (now - dt.timedelta(days=1)).date()


def _still_open(event: Event, now: dt.datetime) -> None:
    if not registration_open(event, now):
        raise DomainError("event_past")


async def _registration_of(
    session: AsyncSession, event: Event, person_id: int
) -> Registration | None:
    rows = await session.exec(
        select(Registration).where(
            Registration.event_id == pk(event), Registration.person_id == person_id
        )
    )
    return rows.first()


async def register(
    *, session: AsyncSession, event: Event, person_id: int, member: Member, now: dt.datetime
) -> tuple[Registration, bool]:
    """Register one of the member's people (a coordinator may register anyone). Registering
    twice changes nothing. Returns the registration and whether it is new."""
    person = await session.get(Person, person_id)
    if person is None or person.anonymised_at is not None:
        raise NotFound()
    if not member.is_coordinator and person.mediator_id != member.id:
        raise NotAllowed()
    _still_open(event, now)
    existing = await _registration_of(session, event, person_id)
    if existing is not None:
        return existing, False
    registration = Registration(
        event_id=pk(event), person_id=person_id, registered_by_id=pk(member), registered_at=now
    )
    session.add(registration)
    await session.flush()
    return registration, True


async def unregister(
    *, session: AsyncSession, event: Event, person_id: int, member: Member, now: dt.datetime
) -> None:
    """Withdraw a registration before the event (the mediator's own person)."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound()
    if not member.is_coordinator and person.mediator_id != member.id:
        raise NotAllowed()
    _still_open(event, now)
    registration = await _registration_of(session, event, person_id)
    if registration is not None and not registration.attended:
        await session.delete(registration)
        await session.flush()


async def _registration(session: AsyncSession, event: Event, registration_id: int) -> Registration:
    registration = await session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound()
    return registration


def attendance_open(event: Event, now: dt.datetime) -> bool:
    """Attendance is recorded from two hours before the start."""
    return event.starts_at - dt.timedelta(hours=2) <= now


def _started(event: Event, now: dt.datetime) -> None:
    if not attendance_open(event, now):
        raise DomainError("event_not_started")


async def set_attended(
    *,
    session: AsyncSession,
    event: Event,
    registration_id: int,
    attended: bool,
    member: Member,
    now: dt.datetime,
) -> Registration:
    """Mark a registered person as present or absent (project officer, coordinator)."""
    _may_organise(member)
    _started(event, now)
    registration = await _registration(session, event, registration_id)
    registration.attended = attended
    if not attended:
        registration.outcome = None
    event.attendance_recorded_at = now
    return registration


def set_unregistered(*, event: Event, count: int, member: Member, now: dt.datetime) -> None:
    """The headcount of attendees who were not registered."""
    _may_organise(member)
    _started(event, now)
    if not 0 <= count <= MAX_HEADCOUNT:
        raise DomainError("headcount_invalid", limit=MAX_HEADCOUNT)
    event.unregistered_attendees = count
    event.attendance_recorded_at = now


async def set_outcome(
    *,
    session: AsyncSession,
    event: Event,
    registration_id: int,
    outcome: EventOutcome | None,
    member: Member,
    now: dt.datetime,
) -> Registration:
    """What changed for an attendee after the event (None: nothing, or not known)."""
    _may_organise(member)
    _started(event, now)
    registration = await _registration(session, event, registration_id)
    if not registration.attended:
        raise DomainError("outcome_needs_attendance")
    registration.outcome = outcome.value if outcome is not None else None
    event.outcomes_recorded_at = now
    return registration


def set_summary(*, event: Event, text: str, member: Member, now: dt.datetime) -> None:
    """The free "impact à chaud" summary."""
    _may_organise(member)
    _started(event, now)
    event.summary = clean_summary(text)
    event.outcomes_recorded_at = now


@dataclass(slots=True)
class EventFigures:
    """Registered, attended, unregistered attendees and outcomes of one or several events."""

    events: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    registered: int = 0
    attended_registered: int = 0
    unregistered: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def attendees(self) -> int:
        """Everyone who came: registered people present plus the headcount."""
        return self.attended_registered + self.unregistered

    @property
    def changed(self) -> int:
        """Attendees whose situation changed."""
        return sum(self.outcomes.values())


async def figures(
    *,
    session: AsyncSession,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    neighbourhood_id: int | None = None,
    mediator_id: int | None = None,
    event_id: int | None = None,
) -> EventFigures:
    """The figures of the events in [start, end), with SQL aggregates: all of them, those of
    one neighbourhood, one event, or (for a mediator) only their own people's registrations
    (the headcount of unregistered attendees belongs to no mediator)."""
    where: list[ColumnElement[bool]] = []
    if start is not None:
        where.append(col(Event.starts_at) >= start)
    if end is not None:
        where.append(col(Event.starts_at) < end)
    if neighbourhood_id is not None:
        where.append(col(Event.neighbourhood_id) == neighbourhood_id)
    if event_id is not None:
        where.append(col(Event.id) == event_id)
    result = EventFigures()
    registrations_query = (
        select(Registration.attended, Registration.outcome, func.count())
        .join(Event, col(Event.id) == col(Registration.event_id))
        .where(*where)
        .group_by(col(Registration.attended), col(Registration.outcome))
    )
    if mediator_id is None:
        kinds = await session.exec(
            select(Event.kind, func.count(), func.sum(Event.unregistered_attendees))
            .where(*where)
            .group_by(Event.kind)
        )
        for kind, count, unregistered in kinds.all():
            result.events += count
            result.by_kind[kind] = count
            result.unregistered += int(unregistered or 0)
    else:
        registrations_query = registrations_query.join(
            Person, col(Person.id) == col(Registration.person_id)
        ).where(Person.mediator_id == mediator_id)
        own_events = await session.exec(
            select(Event.kind, func.count(func.distinct(Event.id)))
            .join(Registration, col(Registration.event_id) == col(Event.id))
            .join(Person, col(Person.id) == col(Registration.person_id))
            .where(*where, Person.mediator_id == mediator_id)
            .group_by(Event.kind)
        )
        for kind, count in own_events.all():
            result.events += count
            result.by_kind[kind] = count
    outcomes: Counter[str] = Counter()
    for attended, outcome, count in (await session.exec(registrations_query)).all():
        result.registered += count
        if attended:
            result.attended_registered += count
        if outcome is not None:
            outcomes[outcome] += count
    result.outcomes = dict(outcomes)
    return result


async def in_period(
    *, session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> Sequence[Event]:
    """Events starting in [start, end), in order."""
    rows = await session.exec(
        select(Event)
        .where(col(Event.starts_at) >= start, col(Event.starts_at) < end)
        .order_by(col(Event.starts_at), col(Event.id))
    )
    return rows.all()


async def upcoming(
    *, session: AsyncSession, now: dt.datetime, limit: int = 10, offset: int = 0
) -> Sequence[Event]:
    """Events still to come (or under way since less than a few hours), soonest first."""
    rows = await session.exec(
        select(Event)
        .where(col(Event.starts_at) >= now - dt.timedelta(hours=6))
        .order_by(col(Event.starts_at), col(Event.id))
        .offset(offset)
        .limit(limit)
    )
    return rows.all()


async def past(
    *, session: AsyncSession, now: dt.datetime, limit: int = 10, offset: int = 0
) -> Sequence[Event]:
    """Events that took place, most recent first."""
    rows = await session.exec(
        select(Event)
        .where(col(Event.starts_at) < now - dt.timedelta(hours=6))
        .order_by(col(Event.starts_at).desc(), col(Event.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return rows.all()


async def own_people_for(
    *, session: AsyncSession, event: Event, member: Member, limit: int = 12
) -> Sequence[tuple[Person, bool]]:
    """The member's open people (most recent contact first), each with whether registered."""
    registered = set(
        (
            await session.exec(
                select(Registration.person_id).where(Registration.event_id == pk(event))
            )
        ).all()
    )
    query = select(Person).where(
        col(Person.anonymised_at).is_(None), col(Person.status) != Status.EXITED.value
    )
    if not member.is_coordinator:
        query = query.where(Person.mediator_id == member.id)
    rows = await session.exec(
        query.order_by(col(Person.last_contact_at).desc(), col(Person.id).desc()).limit(limit)
    )
    return [(p, pk(p) in registered) for p in rows.all()]


@dataclass(frozen=True, slots=True)
class EveReminder:
    """The day-before list for one mediator."""

    event: Event
    mediator: Member
    people: list[Person]


async def eve_reminders(
    *, session: AsyncSession, now: dt.datetime, until: dt.datetime
) -> list[EveReminder]:
    """For events starting between `now` and `until`: each active mediator with registered
    people, and those people."""
    rows = await session.exec(
        select(Event, Member, Person)
        .join(Registration, col(Registration.event_id) == col(Event.id))
        .join(Person, col(Person.id) == col(Registration.person_id))
        .join(Member, col(Member.id) == col(Person.mediator_id))
        .where(
            col(Event.starts_at) > now,
            col(Event.starts_at) < until,
            col(Member.active),
            col(Person.anonymised_at).is_(None),
        )
        .order_by(col(Event.starts_at), col(Member.id), col(Person.id))
    )
    grouped: dict[tuple[int, int], EveReminder] = {}
    for event, mediator, person in rows.all():
        key = (pk(event), pk(mediator))
        if key not in grouped:
            grouped[key] = EveReminder(event, mediator, [])
        grouped[key].people.append(person)
    return list(grouped.values())


async def awaiting_outcomes(
    *, session: AsyncSession, now: dt.datetime, horizon: dt.timedelta = dt.timedelta(days=60)
) -> Sequence[Event]:
    """Events a week or more in the past whose outcomes nobody recorded."""
    rows = await session.exec(
        select(Event)
        .where(
            col(Event.starts_at) <= now - OUTCOMES_ASKED_AFTER,
            col(Event.starts_at) > now - horizon,
            col(Event.outcomes_recorded_at).is_(None),
        )
        .order_by(col(Event.starts_at))
    )
    return rows.all()


async def project_officers(*, session: AsyncSession) -> Sequence[Member]:
    """Active project officers (who are asked for outcomes)."""
    rows = await session.exec(
        select(Member).where(col(Member.active), Member.role == Role.PROJECT_OFFICER.value)
    )
    return rows.all()
