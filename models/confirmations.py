"""Partners close the loop (issue 16): a partner's correspondant confirms what became of an
orientation, in one tap, without an account, through a single-use link.

A request is a random code (`secrets.token_urlsafe`) given to the mediator once and stored
hashed, like invitations (`models.team`); it is valid `ttl` (7 days by default), answers once,
and can be revoked. The answer goes through the same state machine as the mediator's own
reminder answer (`models.orientations.apply_answer`), marked as the partner's; the team can
still correct it. What the correspondant sees is a `Card`: the programme, the person's code and
first-name initial, the orientation's purpose, mode and date, the mediator's first name.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import statistics
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Index, func, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.base import UTCDateTime
from models.errors import DomainError
from models.orientations import (
    APPOINTMENT_MAX_FUTURE_DAYS,
    APPOINTMENT_MAX_PAST_DAYS,
    Answer,
    FollowUpPolicy,
    Orientation,
    apply_answer,
    orientation_for,
)
from models.people import Person, person_code
from models.reference import Partner
from models.team import Member, hash_code

CODE_BYTES = 18  # 24 URL-safe characters: fits a /start deep link, longer than invitations (16)
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{24}")
PROGRAMME_NAME = "AVEQ – Aller vers l'emploi dans les quartiers"


class PartnerAnswer(StrEnum):
    """What the correspondant can answer: the reminder's outcomes, and two of a partner's own."""

    STARTED = "started"
    CAME_NO_FOLLOW = "came_no_follow"
    APPOINTMENT = "appointment"
    NO_SHOW = "no_show"
    UNREACHABLE = "unreachable"
    NOT_FOR_US = "not_for_us"


class NotForUsReason(StrEnum):
    """Why a partner declines an orientation: a short coded list, never free text."""

    NOT_ELIGIBLE = "not_eligible"  # outside the partner's criteria (age, status...)
    NO_PLACE = "no_place"  # no place, waiting list
    OTHER_SERVICE = "other_service"  # another service or partner is the right one
    ALREADY_SUPPORTED = "already_supported"  # already followed elsewhere
    OTHER = "other"


class State(StrEnum):
    """Where a request stands, as the correspondant is told."""

    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SETTLED = "settled"  # the team recorded the outcome meanwhile: nothing left to confirm
    UNKNOWN = "unknown"  # forged, mistyped, or erased


class ConfirmationRequest(SQLModel, table=True):
    """One single-use link sent to a partner about one orientation. Only the code's hash is
    stored; nothing about who opened it."""

    __tablename__ = "confirmation_request"
    __table_args__ = (Index("ix_confirmation_request_orientation", "orientation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    orientation_id: int = Field(foreign_key="orientation.id", ondelete="CASCADE")
    code_hash: str = Field(max_length=64, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, max_length=20)
    appointment_on: dt.date | None = None
    channel: str | None = Field(default=None, max_length=10)  # telegram | web
    applied: bool = False  # whether the answer changed the orientation
    emailed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    def state(self, now: dt.datetime) -> State:
        """Pending, answered, revoked or expired (the orientation itself is not looked at)."""
        if self.answered_at is not None:
            return State.ANSWERED
        if self.revoked_at is not None:
            return State.REVOKED
        if self.expires_at <= now:
            return State.EXPIRED
        return State.PENDING


@dataclass(frozen=True, slots=True)
class Card:
    """Everything the correspondant is shown, and nothing more."""

    programme: str
    person_code: str
    initial: str
    purpose: str
    mode: str
    oriented_on: dt.datetime
    mediator_first_name: str


@dataclass(frozen=True, slots=True)
class IssuedRequest:
    """What the mediator passes on: the clear code exists only here, never in the database."""

    code: str
    request: ConfirmationRequest
    card: Card


@dataclass(frozen=True, slots=True)
class Lookup:
    """A code read back: its state, and the card when the correspondant may still answer."""

    state: State
    request: ConfirmationRequest | None = None
    card: Card | None = None


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a correspondant's answer did."""

    state: State  # why it was refused (ANSWERED: used already); PENDING when taken
    request: ConfirmationRequest | None = None
    orientation: Orientation | None = None
    person: Person | None = None
    mediator: Member | None = None
    changed: bool = False
    partner: Partner | None = None  # whose correspondant answered (to tell the mediator)

    @property
    def accepted(self) -> bool:
        """This answer was taken (whether or not the team had settled the follow-up first)."""
        return self.state == State.PENDING


def looks_like_code(text: str) -> bool:
    """Whether `text` has the shape of a confirmation code (not of an invitation code)."""
    return CODE_PATTERN.fullmatch(text) is not None


def first_name_of(display_name: str) -> str:
    """The mediator's first name: the first word of their display name."""
    return display_name.split()[0] if display_name.split() else ""


def card_for(orientation: Orientation, person: Person, mediator: Member) -> Card:
    """The correspondant's view of an orientation."""
    return Card(
        programme=PROGRAMME_NAME,
        person_code=person_code(orientation.person_id),
        initial=(person.first_name.strip()[:1] or "?").upper(),
        purpose=orientation.purpose,
        mode=orientation.mode,
        oriented_on=orientation.created_at,
        mediator_first_name=first_name_of(mediator.display_name),
    )


async def _parts(
    session: AsyncSession, orientation_id: int
) -> tuple[Orientation, Person, Member] | None:
    orientation = await session.get(Orientation, orientation_id)
    if orientation is None:
        return None
    person = await session.get_one(Person, orientation.person_id)
    mediator = await session.get_one(Member, orientation.mediator_id)
    return orientation, person, mediator


async def request_confirmation(
    *,
    session: AsyncSession,
    actor: Member,
    orientation_id: int,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> IssuedRequest:
    """A new single-use link for an open orientation the actor follows. An earlier pending
    link for the same orientation is revoked: one link is valid at a time."""
    orientation, person = await orientation_for(
        session=session, actor=actor, orientation_id=orientation_id
    )
    if not orientation.is_open:
        raise DomainError("confirmation_settled")
    await session.exec(
        update(ConfirmationRequest)
        .where(
            col(ConfirmationRequest.orientation_id) == orientation_id,
            col(ConfirmationRequest.answered_at).is_(None),
            col(ConfirmationRequest.revoked_at).is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    code = secrets.token_urlsafe(CODE_BYTES)
    request = ConfirmationRequest(
        orientation_id=orientation_id,
        code_hash=hash_code(code),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(request)
    await session.flush()
    await audit.record(
        session=session,
        at=now,
        member_id=actor.id,
        action="confirmation_request",
        subject=person.code,
        detail=f"orientation {orientation_id}",
    )
    mediator = await session.get_one(Member, orientation.mediator_id)
    return IssuedRequest(code=code, request=request, card=card_for(orientation, person, mediator))


async def _by_code(session: AsyncSession, code: str) -> ConfirmationRequest | None:
    if not looks_like_code(code):
        return None
    rows = await session.exec(
        select(ConfirmationRequest).where(ConfirmationRequest.code_hash == hash_code(code))
    )
    return rows.first()


async def lookup(*, session: AsyncSession, code: str, now: dt.datetime) -> Lookup:
    """What a code opens: the card while the correspondant may answer, else why not."""
    request = await _by_code(session, code)
    if request is None:
        return Lookup(State.UNKNOWN)
    state = request.state(now)
    parts = await _parts(session, request.orientation_id)
    if parts is None:
        return Lookup(State.UNKNOWN)
    orientation, person, mediator = parts
    if state == State.PENDING and not orientation.is_open:
        state = State.SETTLED
    card = card_for(orientation, person, mediator) if state == State.PENDING else None
    return Lookup(state, request, card)


def _check_answer(
    answer: PartnerAnswer,
    reason: NotForUsReason | None,
    appointment_on: dt.date | None,
    today: dt.date,
) -> None:
    if answer == PartnerAnswer.NOT_FOR_US and reason is None:
        raise DomainError("choice_invalid")
    if answer == PartnerAnswer.APPOINTMENT and (
        appointment_on is None
        or not (
            today - dt.timedelta(days=APPOINTMENT_MAX_PAST_DAYS)
            <= appointment_on
            <= today + dt.timedelta(days=APPOINTMENT_MAX_FUTURE_DAYS)
        )
    ):
        raise DomainError("date_out_of_range")


async def confirm(
    *,
    session: AsyncSession,
    code: str,
    answer: PartnerAnswer,
    now: dt.datetime,
    today: dt.date,
    policy: FollowUpPolicy,
    channel: str,
    reason: NotForUsReason | None = None,
    appointment_on: dt.date | None = None,
) -> Confirmation:
    """The correspondant's answer. The code is claimed atomically (of two simultaneous uses,
    one wins); the outcome is applied as the partner's unless the team recorded one meanwhile.
    A used, expired, revoked or unknown code changes nothing. Audited."""
    _check_answer(answer, reason, appointment_on, today)
    if not looks_like_code(code):
        return Confirmation(State.UNKNOWN)
    claimed = await session.exec(
        update(ConfirmationRequest)
        .where(
            col(ConfirmationRequest.code_hash) == hash_code(code),
            col(ConfirmationRequest.answered_at).is_(None),
            col(ConfirmationRequest.revoked_at).is_(None),
            col(ConfirmationRequest.expires_at) > now,
        )
        .values(answered_at=now)
        .returning(col(ConfirmationRequest.id))
    )
    request_id = claimed.scalar_one_or_none()
    if request_id is None:
        found = await lookup(session=session, code=code, now=now)
        return Confirmation(found.state, found.request)
    request = await session.get_one(ConfirmationRequest, request_id)
    await session.refresh(request)
    parts = await _parts(session, request.orientation_id)
    if parts is None:  # cannot happen: requests go with their orientation
        return Confirmation(State.UNKNOWN)
    orientation, person, mediator = parts
    request.answer = answer.value
    request.reason = reason.value if answer == PartnerAnswer.NOT_FOR_US and reason else None
    request.appointment_on = appointment_on if answer == PartnerAnswer.APPOINTMENT else None
    request.channel = channel
    result = await apply_answer(
        session=session,
        actor=mediator,
        orientation=orientation,
        person=person,
        action=Answer(answer.value),
        seq=orientation.seq,
        now=now,
        appointment_on=appointment_on,
        policy=policy,
        by_partner=True,
    )
    request.applied = result.changed
    await audit.record(
        session=session,
        at=now,
        member_id=None,
        action="partner_confirmation",
        subject=person.code,
        detail=f"{answer.value} via {channel}" + ("" if result.changed else " (already settled)"),
    )
    await session.flush()
    partner = await session.get_one(Partner, orientation.partner_id)
    return Confirmation(
        State.PENDING, request, orientation, person, mediator, result.changed, partner
    )


async def revoke(
    *, session: AsyncSession, actor: Member, request_id: int, now: dt.datetime
) -> ConfirmationRequest:
    """The mediator withdraws a link: it answers nothing afterwards. Audited."""
    request = await session.get(ConfirmationRequest, request_id)
    if request is None:
        raise DomainError("confirmation_unknown")
    _, person = await orientation_for(
        session=session, actor=actor, orientation_id=request.orientation_id
    )
    if request.state(now) != State.PENDING:
        raise DomainError("confirmation_not_pending")
    request.revoked_at = now
    await audit.record(
        session=session,
        at=now,
        member_id=actor.id,
        action="confirmation_revoke",
        subject=person.code,
        detail=f"orientation {request.orientation_id}",
    )
    await session.flush()
    return request


async def mark_emailed(*, session: AsyncSession, request_id: int, now: dt.datetime) -> None:
    """Record that the web link was e-mailed to the partner's correspondant."""
    request = await session.get_one(ConfirmationRequest, request_id)
    request.emailed_at = now
    await session.flush()


async def pending_request(
    *, session: AsyncSession, orientation_id: int, now: dt.datetime
) -> ConfirmationRequest | None:
    """The orientation's link still waiting for the partner, if any."""
    rows = await session.exec(
        select(ConfirmationRequest)
        .where(
            ConfirmationRequest.orientation_id == orientation_id,
            col(ConfirmationRequest.answered_at).is_(None),
            col(ConfirmationRequest.revoked_at).is_(None),
            col(ConfirmationRequest.expires_at) > now,
        )
        .order_by(col(ConfirmationRequest.id).desc())
    )
    return rows.first()


async def settled_by_partners(
    *, session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> int:
    """Follow-ups partners settled in [start, end): answers that changed an orientation (the
    digest's « N suivis confirmés par les partenaires cette semaine »)."""
    rows = await session.exec(
        select(func.count())
        .select_from(ConfirmationRequest)
        .where(
            col(ConfirmationRequest.applied),
            col(ConfirmationRequest.answered_at) >= start,
            col(ConfirmationRequest.answered_at) < end,
        )
    )
    return int(rows.one())


@dataclass(slots=True)
class PartnerFigures:
    """One partner's confirmations over a period: requests sent, answered by the partner,
    median days to the answer, and the outcomes by who gave them."""

    partner_id: int
    sent: int = 0
    answered: int = 0
    days_to_answer: list[float] = field(default_factory=list)
    by_partner: dict[str, int] = field(default_factory=dict)
    by_team: dict[str, int] = field(default_factory=dict)

    @property
    def median_days(self) -> float | None:
        """Median days from the request to the partner's answer."""
        return statistics.median(self.days_to_answer) if self.days_to_answer else None


async def partner_figures(
    *, session: AsyncSession, start: dt.datetime, end: dt.datetime, partner_ids: Sequence[int]
) -> dict[int, PartnerFigures]:
    """Per partner: requests created in [start, end) and what became of them; the outcomes of
    the orientations created in [start, end), by who gave them (partner or team)."""
    figures = {p: PartnerFigures(partner_id=p) for p in partner_ids}
    if not figures:
        return figures
    requests = await session.exec(
        select(ConfirmationRequest, Orientation.partner_id)
        .join(Orientation, col(Orientation.id) == ConfirmationRequest.orientation_id)
        .where(
            col(Orientation.partner_id).in_(list(figures)),
            col(ConfirmationRequest.created_at) >= start,
            col(ConfirmationRequest.created_at) < end,
        )
    )
    for request, partner_id in requests.all():
        figure = figures[partner_id]
        figure.sent += 1
        if request.answered_at is not None:
            figure.answered += 1
            delay = request.answered_at - request.created_at
            figure.days_to_answer.append(round(delay.total_seconds() / 86400, 1))
    outcomes = await session.exec(
        select(Orientation).where(
            col(Orientation.partner_id).in_(list(figures)),
            col(Orientation.outcome).is_not(None),
            col(Orientation.created_at) >= start,
            col(Orientation.created_at) < end,
        )
    )
    for orientation in outcomes.all():
        figure = figures[orientation.partner_id]
        target = figure.by_partner if orientation.confirmed_by_partner_at else figure.by_team
        outcome = orientation.outcome or ""
        target[outcome] = target.get(outcome, 0) + 1
    return figures


class TryLimiter:
    """At most `tries` failed code attempts per `per` seconds per key (a chat, an address), in
    this process's memory: guessing a 144-bit code is pointless, and nothing is stored. A
    correspondant with a valid link is never slowed down."""

    def __init__(self, tries: int = 5, per: float = 60, limit: int = 100_000) -> None:
        self.tries, self.per, self.limit = tries, per, limit
        self._seen: dict[object, deque[float]] = {}

    def allow(self, key: object, now: float | None = None) -> bool:
        """Count one attempt by `key`; False when it is over the limit."""
        if self.exhausted(key, now):
            return False
        self.record(key, now)
        return True

    def exhausted(self, key: object, now: float | None = None) -> bool:
        """Whether `key` used up its tries of the last `per` seconds (nothing counted)."""
        now = time.monotonic() if now is None else now
        attempts = self._seen.get(key)
        if attempts is None:
            return False
        while attempts and attempts[0] <= now - self.per:
            attempts.popleft()
        return len(attempts) >= self.tries

    def record(self, key: object, now: float | None = None) -> None:
        """Count one attempt by `key` (a failed guess)."""
        now = time.monotonic() if now is None else now
        if len(self._seen) >= self.limit:
            self._seen = {k: q for k, q in self._seen.items() if q and q[-1] > now - self.per}
            if len(self._seen) >= self.limit:
                self._seen.clear()
        self._seen.setdefault(key, deque()).append(now)
