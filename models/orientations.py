"""Orientations to partners, their follow-up checks, contacts and exits (DOMAIN.md, 3 to 5).

The database is the source of truth for every check: an open orientation carries the instant
its next check is due (`next_check_at`); the reminder sweep reads what is due, sends, and
records. Answers are idempotent: each reminder carries the orientation's `seq`, and an answer
is applied only to the latest reminder of an open orientation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Index, and_, bindparam, case, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.base import UTCDateTime, dialect_of, pk
from models.calendar import ReminderWindow, add_workdays
from models.crypto import loaded_only_when_asked, private_column
from models.errors import DomainError, NotFound
from models.people import (
    Person,
    Status,
    change_status,
    clean_note,
    get_person,
    status_when_orientation_ends,
    status_when_oriented,
)
from models.reference import Partner
from models.team import Member

APPOINTMENT_MAX_PAST_DAYS = 31
APPOINTMENT_MAX_FUTURE_DAYS = 366


class Purpose(StrEnum):
    """Why the person is oriented."""

    RPE_REGISTRATION = "rpe_registration"
    SUPPORT = "support"
    TRAINING = "training"
    JOB = "job"
    PMSMP = "pmsmp"
    RIGHTS = "rights"
    OTHER = "other"


class Mode(StrEnum):
    """How the person is put in contact with the partner."""

    INFORMATION = "information"
    APPOINTMENT = "appointment"
    ACCOMPANIED = "accompanied"
    TRIPARTITE = "tripartite"


class Outcome(StrEnum):
    """What the follow-up learnt. Every outcome closes the orientation."""

    STARTED = "started"
    CAME_NO_FOLLOW = "came_no_follow"
    NO_SHOW = "no_show"
    REORIENTED = "reoriented"
    CLOSED = "closed"
    UNREACHABLE = "unreachable"  # the partner could not reach the person
    NOT_FOR_US = "not_for_us"  # the partner declined the orientation (a coded reason)


class Answer(StrEnum):
    """The reminder buttons that record something directly."""

    STARTED = "started"
    CAME_NO_FOLLOW = "came_no_follow"
    NO_SHOW = "no_show"
    SNOOZE = "snooze"
    # Given by a partner's correspondant (models.confirmations), through the same function.
    APPOINTMENT = "appointment"  # an appointment is set: the check moves after it
    UNREACHABLE = "unreachable"
    NOT_FOR_US = "not_for_us"


class ContactKind(StrEnum):
    """An interaction with a known person."""

    INTERVIEW = "interview"
    CALL = "call"
    STREET = "street"
    DROP_IN = "drop_in"
    OTHER = "other"


class ExitReason(StrEnum):
    """Why a mediation closed (sortie)."""

    DURABLE_JOB = "durable_job"
    SHORT_JOB = "short_job"
    QUALIFYING_TRAINING = "qualifying_training"
    PARTNER_SUPPORT = "partner_support"
    BUSINESS_CREATION = "business_creation"
    MOVED = "moved"
    LOST_CONTACT = "lost_contact"
    DECLINED = "declined"
    OTHER = "other"


_ORIENTATION_NOTE, _INTERACTION_NOTE = private_column("note"), private_column("note")


class Orientation(SQLModel, table=True):
    """A person put in contact with a partner, followed up until an outcome is known."""

    __mapper_args__ = loaded_only_when_asked(_ORIENTATION_NOTE)  # read only where shown
    __table_args__ = (
        Index("ix_orientation_due", "next_check_at", "id"),  # the sweep: oldest due first
        Index("ix_orientation_person", "person_id", "created_at"),
        Index("ix_orientation_mediator_open", "mediator_id", "outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    mediator_id: int = Field(foreign_key="member.id")
    partner_id: int = Field(foreign_key="partner.id")
    purpose: str = Field(max_length=30)
    mode: str = Field(max_length=20)
    appointment_on: dt.date | None = None
    note: str | None = Field(default=None, sa_column=_ORIENTATION_NOTE)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    replaces_id: int | None = Field(default=None, foreign_key="orientation.id")
    outcome: str | None = Field(default=None, max_length=20)
    outcome_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_check_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminders_sent: int = 0
    last_reminder_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue: bool = False
    seq: int = 0
    # While a reminder is being sent: claimed by the sweep, so no other sweep sends it too.
    claimed_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the partner's correspondant gave the current answer (None: the team gave it).
    confirmed_by_partner_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_open(self) -> bool:
        """No outcome yet."""
        return self.outcome is None

    def needs_update(self, now: dt.datetime) -> bool:
        """« En retard »: open, and its check date has passed without an answer (reminded or
        not). The one meaning of the word everywhere: `late_clause` is the same rule in SQL."""
        if not self.is_open:
            return False
        due = self.next_check_at is not None and self.next_check_at <= now
        return self.overdue or self.reminders_sent > 0 or due


def late_clause(now: dt.datetime) -> ColumnElement[bool]:
    """SQL twin of `Orientation.needs_update`: open and past its check date, no answer yet."""
    return and_(
        col(Orientation.outcome).is_(None),
        or_(
            col(Orientation.overdue),
            col(Orientation.reminders_sent) > 0,
            col(Orientation.next_check_at) <= now,
        ),
    )


def unanswered_clause() -> ColumnElement[bool]:
    """« Sans réponse après deux relances »: open, and its reminders were ignored
    (`FollowUpPolicy.overdue_after_resends`): a second, narrower figure than « en retard »."""
    return and_(col(Orientation.outcome).is_(None), col(Orientation.overdue))


class Interaction(SQLModel, table=True):
    """A contact with a known person (interview, call, met in the street...)."""

    __mapper_args__ = loaded_only_when_asked(_INTERACTION_NOTE)  # read only where shown
    __table_args__ = (
        Index("ix_interaction_person_at", "person_id", "at"),
        Index("ix_interaction_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    member_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=20)
    note: str | None = Field(default=None, sa_column=_INTERACTION_NOTE)
    at: dt.datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    """When checks fall due and when reminders may be sent (from the operator's settings)."""

    window: ReminderWindow
    delay_days: int = 7
    after_appointment_workdays: int = 2
    resend_workdays: int = 3
    overdue_after_resends: int = 2


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """What an answer to a reminder did."""

    orientation: Orientation
    person: Person
    changed: bool


def first_check_at(
    *, created_at: dt.datetime, appointment_on: dt.date | None, policy: FollowUpPolicy
) -> dt.datetime:
    """Two working days after the appointment, or `delay_days` after the orientation."""
    if appointment_on is not None:
        window = policy.window
        day = add_workdays(
            appointment_on, policy.after_appointment_workdays, window.days, window.holidays
        )
        return policy.window.opening_on(day)
    return created_at + dt.timedelta(days=policy.delay_days)


def require_open_mediation(person: Person) -> None:
    """A closed mediation (sortie) cannot be oriented nor closed again: the coordination
    re-opens it first."""
    if person.status == Status.EXITED:
        raise DomainError("person_exited")


def appointment_day_allowed(on: dt.date, *, today: dt.date) -> bool:
    """Whether an appointment may be recorded on `on`: a few days back, some months ahead."""
    return (
        today - dt.timedelta(days=APPOINTMENT_MAX_PAST_DAYS)
        <= on
        <= today + dt.timedelta(days=APPOINTMENT_MAX_FUTURE_DAYS)
    )


def exit_day_allowed(on: dt.date, *, today: dt.date) -> bool:
    """Whether a mediation may be closed as of `on`: not in the future, not long ago."""
    return today - dt.timedelta(days=APPOINTMENT_MAX_PAST_DAYS * 3) <= on <= today


async def _open_count(session: AsyncSession, person_id: int, excluding: int | None) -> int:
    query = select(Orientation.id).where(
        Orientation.person_id == person_id, col(Orientation.outcome).is_(None)
    )
    if excluding is not None:
        query = query.where(col(Orientation.id) != excluding)
    return len((await session.exec(query)).all())


async def _started_elsewhere(session: AsyncSession, person_id: int, orientation_id: int) -> bool:
    """Whether another orientation of the person recorded « accompagnement démarré »."""
    query = select(Orientation.id).where(
        Orientation.person_id == person_id,
        Orientation.outcome == Outcome.STARTED.value,
        col(Orientation.id) != orientation_id,
    )
    return (await session.exec(query.limit(1))).first() is not None


async def orient(
    *,
    session: AsyncSession,
    actor: Member,
    person_id: int,
    partner_id: int,
    purpose: Purpose,
    mode: Mode,
    appointment_on: dt.date | None,
    note: str | None,
    now: dt.datetime,
    today: dt.date,
    policy: FollowUpPolicy,
    replaces_id: int | None = None,
) -> Orientation:
    """Orient a person the actor follows; the first check is computed, never asked."""
    person = await get_person(session=session, viewer=actor, person_id=person_id)
    require_open_mediation(person)
    partner = await session.get(Partner, partner_id)
    if partner is None or not partner.active:
        raise NotFound()
    if appointment_on is not None and not appointment_day_allowed(appointment_on, today=today):
        raise DomainError("date_out_of_range")
    if note and not person.contact_consent:
        raise DomainError("consent_required")
    orientation = Orientation(
        person_id=pk(person),
        mediator_id=person.mediator_id,
        partner_id=partner_id,
        purpose=Purpose(purpose).value,
        mode=Mode(mode).value,
        appointment_on=appointment_on,
        note=clean_note(note) if note else None,
        created_at=now,
        replaces_id=replaces_id,
        next_check_at=first_check_at(created_at=now, appointment_on=appointment_on, policy=policy),
    )
    session.add(orientation)
    if replaces_id is not None:
        previous = await session.get(Orientation, replaces_id)
        if previous is None or previous.person_id != person.id:
            raise NotFound()
        if previous.is_open:
            _close(previous, Outcome.REORIENTED, now)
    change_status(person, status_when_oriented(Status(person.status)), by=actor)
    person.last_contact_at = max(person.last_contact_at, now)
    await session.flush()
    return orientation


def _close(orientation: Orientation, outcome: Outcome, now: dt.datetime) -> None:
    orientation.outcome = outcome.value
    orientation.outcome_at = now
    orientation.next_check_at = None
    orientation.overdue = False
    orientation.seq += 1


async def orientation_for(
    *, session: AsyncSession, actor: Member, orientation_id: int
) -> tuple[Orientation, Person]:
    """An orientation and its person, if the actor follows that person (or coordinates)."""
    orientation = await session.get(Orientation, orientation_id)
    if orientation is None:
        raise NotFound()
    person = await get_person(session=session, viewer=actor, person_id=orientation.person_id)
    return orientation, person


async def answer(
    *,
    session: AsyncSession,
    actor: Member,
    orientation_id: int,
    action: Answer,
    seq: int,
    now: dt.datetime,
    appointment_on: dt.date | None = None,
    policy: FollowUpPolicy | None = None,
) -> AnswerResult:
    """Apply a reminder button. A second tap on the same reminder changes nothing."""
    orientation, person = await orientation_for(
        session=session, actor=actor, orientation_id=orientation_id
    )
    return await apply_answer(
        session=session,
        actor=actor,
        orientation=orientation,
        person=person,
        action=action,
        seq=seq,
        now=now,
        appointment_on=appointment_on,
        policy=policy,
    )


async def apply_answer(
    *,
    session: AsyncSession,
    actor: Member,
    orientation: Orientation,
    person: Person,
    action: Answer,
    seq: int,
    now: dt.datetime,
    appointment_on: dt.date | None = None,
    policy: FollowUpPolicy | None = None,
    by_partner: bool = False,
) -> AnswerResult:
    """The one state machine of follow-up answers, the mediator's and the partner's (then
    `actor` is the mediator, on whose behalf it is recorded). An outcome the partner gave can
    still be corrected by the team: the mediator's word wins."""
    correcting = not by_partner and orientation.confirmed_by_partner_at is not None
    if (not orientation.is_open and not correcting) or orientation.seq != seq:
        return AnswerResult(orientation, person, changed=False)
    if not orientation.is_open:  # the team corrects the partner's answer: open it again first
        # The partner's « started » made the person supported, and nothing else did: the
        # correction undoes it (the path itself never goes back otherwise).
        undo_support = (
            orientation.outcome == Outcome.STARTED.value
            and person.status == Status.SUPPORTED
            and not await _started_elsewhere(session, pk(person), pk(orientation))
        )
        orientation.outcome, orientation.outcome_at = None, None
        if person.status == Status.ENGAGED:
            change_status(person, Status.ORIENTED, by=actor)
        elif undo_support:
            change_status(person, Status.ORIENTED, by=actor, correcting_partner=True)
    orientation.confirmed_by_partner_at = now if by_partner else None
    if action == Answer.APPOINTMENT:
        if appointment_on is None or policy is None:
            raise DomainError("date_out_of_range")
        orientation.appointment_on = appointment_on
        orientation.next_check_at = first_check_at(
            created_at=orientation.created_at, appointment_on=appointment_on, policy=policy
        )
        orientation.reminders_sent = 0
        orientation.overdue = False
        orientation.seq += 1
    elif action == Answer.SNOOZE:
        orientation.next_check_at = now + dt.timedelta(days=7)
        orientation.reminders_sent = 0
        orientation.overdue = False
        orientation.seq += 1
    else:
        outcome = Outcome(action.value)
        still_open = await _open_count(session, pk(person), excluding=pk(orientation))
        _close(orientation, outcome, now)
        status = status_when_orientation_ends(
            Status(person.status), started=outcome == Outcome.STARTED, still_open=still_open
        )
        change_status(person, status, by=actor)
    await session.flush()
    return AnswerResult(orientation, person, changed=True)


@dataclass(frozen=True, slots=True)
class DueCheck:
    """A due check with what its reminder needs: the mediator to write to, the person, the
    partner."""

    orientation: Orientation
    mediator: Member
    person: Person
    partner: Partner


REMINDER_LEASE = dt.timedelta(minutes=10)

_DUE = (
    select(Orientation.id)
    .where(
        col(Orientation.next_check_at) <= bindparam("now"),
        or_(
            col(Orientation.claimed_until).is_(None),
            col(Orientation.claimed_until) < bindparam("now"),
        ),
    )
    .order_by(col(Orientation.next_check_at), col(Orientation.id))
    .limit(bindparam("limit"))
)  # built once
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True)
_DUE_CHECK = (
    select(Orientation, Member, Person, Partner)
    .join(Member, col(Member.id) == Orientation.mediator_id)
    .join(Person, col(Person.id) == Orientation.person_id)
    .join(Partner, col(Partner.id) == Orientation.partner_id)
    .where(col(Orientation.id) == bindparam("orientation_id"))
)


async def claim_due_checks(*, session: AsyncSession, now: dt.datetime, limit: int) -> list[int]:
    """The oldest checks due at `now` (up to `limit`), claimed for `REMINDER_LEASE`: their
    reminders are then sent outside any transaction, and no other sweep takes them meanwhile.
    On PostgreSQL, rows another replica is claiming are skipped."""
    query = _DUE_LOCKED if dialect_of(session) == "postgresql" else _DUE
    rows = await session.exec(query, params={"now": now, "limit": limit})
    ids = [i for i in rows.all() if i is not None]  # ids of stored rows: never None
    if ids:
        await session.exec(
            update(Orientation)
            .where(col(Orientation.id).in_(ids))
            .values(claimed_until=now + REMINDER_LEASE)
            .execution_options(synchronize_session=False)
        )
    return ids


async def due_check(*, session: AsyncSession, orientation_id: int) -> DueCheck | None:
    """A claimed check with what its reminder needs, in one query (None if it is gone)."""
    row = (await session.exec(_DUE_CHECK, params={"orientation_id": orientation_id})).first()
    return DueCheck(*row) if row is not None else None


async def release_claims(
    *, session: AsyncSession, orientation_ids: Sequence[int] | None = None
) -> None:
    """Give claimed checks back to the next sweep: these, or (`None`) every claim, which the
    process that takes over the jobs does for a sweeper that died mid-batch."""
    query = update(Orientation).where(col(Orientation.claimed_until).is_not(None))
    if orientation_ids is not None:
        query = query.where(col(Orientation.id).in_(orientation_ids))
    await session.exec(
        query.values(claimed_until=None).execution_options(synchronize_session=False)
    )


async def finish_reminder(
    *,
    session: AsyncSession,
    orientation_id: int,
    now: dt.datetime,
    policy: FollowUpPolicy,
    delivered: bool,
) -> None:
    """After the send: record the reminder (or, when Telegram refused it for good, try again
    next working day) and drop the claim."""
    orientation = await session.get_one(Orientation, orientation_id)
    orientation.claimed_until = None
    if not orientation.is_open:  # answered while the reminder was on its way
        return
    if delivered:
        mark_reminded(orientation, now=now, policy=policy)
    else:
        postpone(orientation, now=now, policy=policy)


def mark_reminded(orientation: Orientation, *, now: dt.datetime, policy: FollowUpPolicy) -> None:
    """Record that a reminder went out; schedule the re-send; flag it overdue when ignored."""
    orientation.reminders_sent += 1
    orientation.last_reminder_at = now
    orientation.seq += 1
    orientation.next_check_at = policy.window.workdays_later(now, policy.resend_workdays)
    if orientation.reminders_sent > policy.overdue_after_resends:
        orientation.overdue = True


def postpone(orientation: Orientation, *, now: dt.datetime, policy: FollowUpPolicy) -> None:
    """A reminder that could not be delivered for good (bot blocked...): try next working day."""
    orientation.next_check_at = policy.window.workdays_later(now, 1)


async def pending_checks(
    *, session: AsyncSession, viewer: Member, limit: int = 50
) -> Sequence[Orientation]:
    """Open orientations of the viewer's people: overdue first, then by due time."""
    query = select(Orientation).where(col(Orientation.outcome).is_(None))
    if not viewer.is_coordinator:
        query = query.where(Orientation.mediator_id == viewer.id)
    query = query.order_by(
        case((col(Orientation.overdue), 0), else_=1),
        col(Orientation.next_check_at),
        col(Orientation.id),
    ).limit(limit)
    return (await session.exec(query)).all()


async def record_contact(
    *,
    session: AsyncSession,
    actor: Member,
    person_id: int,
    kind: ContactKind,
    note: str | None,
    now: dt.datetime,
) -> Interaction:
    """Log an interaction with a known person; it becomes their last contact."""
    person = await get_person(session=session, viewer=actor, person_id=person_id)
    if note and not person.contact_consent:
        raise DomainError("consent_required")
    interaction = Interaction(
        person_id=pk(person),
        member_id=pk(actor),
        kind=ContactKind(kind).value,
        note=clean_note(note) if note else None,
        at=now,
    )
    session.add(interaction)
    person.last_contact_at = max(person.last_contact_at, now)
    await session.flush()
    return interaction


async def exit_person(
    *,
    session: AsyncSession,
    actor: Member,
    person_id: int,
    reason: ExitReason,
    on: dt.date,
    today: dt.date,
    now: dt.datetime,
) -> Person:
    """Close a mediation (sortie): open orientations close, reminders stop."""
    person = await get_person(session=session, viewer=actor, person_id=person_id)
    require_open_mediation(person)
    if not exit_day_allowed(on, today=today):
        raise DomainError("date_out_of_range")
    open_ones = await session.exec(
        select(Orientation).where(
            Orientation.person_id == person.id, col(Orientation.outcome).is_(None)
        )
    )
    for orientation in open_ones.all():
        _close(orientation, Outcome.CLOSED, now)
    change_status(person, Status.EXITED, by=actor)
    person.exit_reason = ExitReason(reason).value
    person.exited_on = on
    await session.flush()
    return person


@dataclass(frozen=True, slots=True)
class Reopened:
    """A re-opened person and the status they came back from."""

    person: Person
    previous: Status


async def reopen(
    *, session: AsyncSession, actor: Member, person_id: int, now: dt.datetime
) -> Reopened:
    """« Rouvrir la médiation », a coordinator's action and the only way back on the path: an
    exited person is engaged again; a supported person whose support ended is engaged again
    (oriented while an orientation of theirs is still open). Audited."""
    person = await get_person(session=session, viewer=actor, person_id=person_id)
    current = Status(person.status)
    if current not in (Status.EXITED, Status.SUPPORTED):
        raise DomainError("person_not_exited")
    if current == Status.SUPPORTED and await _open_count(session, pk(person), excluding=None):
        change_status(person, Status.ORIENTED, by=actor)
    else:
        change_status(person, Status.ENGAGED, by=actor)
    person.exit_reason, person.exited_on = None, None
    await audit.record(
        session=session,
        at=now,
        member_id=actor.id,
        action="reopen",
        subject=person.code,
        detail=current.value,
    )
    await session.flush()
    return Reopened(person, current)


async def recent_people(
    *, session: AsyncSession, viewer: Member, limit: int = 6, open_only: bool = True
) -> Sequence[Person]:
    """The viewer's people by most recent contact, for quick buttons."""
    query = select(Person)
    if not viewer.is_coordinator:
        query = query.where(Person.mediator_id == viewer.id)
    if open_only:
        query = query.where(col(Person.status) != Status.EXITED.value)
    query = query.order_by(col(Person.last_contact_at).desc(), col(Person.id).desc())
    return (await session.exec(query.limit(limit))).all()


async def overdue_checks(
    *, session: AsyncSession, mediator_id: int, now: dt.datetime, limit: int = 5
) -> Sequence[Orientation]:
    """A mediator's late follow-ups (`late_clause`), oldest due first."""
    query = (
        select(Orientation)
        .where(Orientation.mediator_id == mediator_id, late_clause(now))
        .order_by(col(Orientation.next_check_at), col(Orientation.id))
        .limit(limit)
    )
    return (await session.exec(query)).all()


async def close_for_erasure(
    *, session: AsyncSession, person_ids: Sequence[int], now: dt.datetime
) -> int:
    """Close the open orientations of people being erased or anonymised (outcome « closed »,
    as a sortie closes them): no reminder goes out for them again. Their status is left as it
    is, so past figures do not move. Returns how many closed."""
    if not person_ids:
        return 0
    open_ones = (
        await session.exec(
            select(Orientation).where(
                col(Orientation.person_id).in_(person_ids), col(Orientation.outcome).is_(None)
            )
        )
    ).all()
    for orientation in open_ones:
        _close(orientation, Outcome.CLOSED, now)
    await session.flush()
    return len(open_ones)
