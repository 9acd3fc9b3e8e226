"""The team: members, their roles and neighbourhoods, and single-use invitations."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BigInteger, Column, bindparam, exists, true, update
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import botstate
from models.base import UTCDateTime, plain_text
from models.botstate import ProcessedUpdate
from models.errors import DomainError, NotAllowed, NotFound
from models.reference import Neighbourhood

INVITATION_CODE_BYTES = 12  # 16 URL-safe characters, valid in a /start deep link


class Role(StrEnum):
    """What a member may do."""

    MEDIATOR = "mediator"
    PROJECT_OFFICER = "project_officer"
    COORDINATOR = "coordinator"


class Member(SQLModel, table=True):
    """A member of the team, known by their Telegram user id."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    display_name: str = Field(max_length=80)
    role: str = Field(max_length=20)
    neighbourhood_id: int | None = Field(default=None, foreign_key="neighbourhood.id")
    active: bool = True
    joined_at: dt.datetime = Field(sa_type=UTCDateTime)
    deactivated_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Telegram refused every message to this member (chat not found, bot blocked, account
    # deleted): since when, why, how many refusals in a row, and when the jobs try again.
    unreachable_since: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    unreachable_reason: str | None = Field(default=None, max_length=20)
    delivery_failures: int = 0
    next_delivery_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_coordinator(self) -> bool:
        """Coordinators see and act on everything."""
        return self.role == Role.COORDINATOR

    @property
    def is_demo(self) -> bool:
        """Telegram user ids are positive: a member without one (the demo data's) is nobody's
        account, and the bot never writes to them."""
        return self.telegram_user_id <= 0


class Invitation(SQLModel, table=True):
    """A single-use code that lets one person join with a role. Only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=20)
    display_name: str = Field(max_length=80)
    neighbourhood_id: int | None = Field(default=None, foreign_key="neighbourhood.id")
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_id: int | None = Field(default=None, foreign_key="member.id")


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """What the inviter must pass on: the clear code exists only here, never in the database."""

    code: str
    invitation: Invitation


def hash_code(code: str) -> str:
    """Invitation codes are random and long: a plain SHA-256 is the right hash."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def clean_name(name: str) -> str:
    """A member's display name: single-spaced, not empty, 80 characters at most."""
    cleaned = plain_text(name)
    if not cleaned:
        raise DomainError("name_required")
    if len(cleaned) > 80:
        raise DomainError("name_too_long", limit=80)
    return cleaned


async def create_invitation(
    *,
    session: AsyncSession,
    role: Role,
    display_name: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    neighbourhood_id: int | None = None,
    created_by: Member | None = None,
) -> IssuedInvitation:
    """Issue a single-use invitation. Only coordinators (or the CLI: no member) may invite."""
    if created_by is not None and not created_by.is_coordinator:
        raise NotAllowed()
    if role == Role.MEDIATOR and neighbourhood_id is None:
        raise DomainError("neighbourhood_required")
    if neighbourhood_id is not None and await session.get(Neighbourhood, neighbourhood_id) is None:
        raise NotFound()
    code = secrets.token_urlsafe(INVITATION_CODE_BYTES)
    invitation = Invitation(
        code_hash=hash_code(code),
        role=role.value,
        display_name=clean_name(display_name),
        neighbourhood_id=neighbourhood_id,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invitation)
    await session.flush()
    return IssuedInvitation(code=code, invitation=invitation)


async def redeem_invitation(
    *, session: AsyncSession, code: str, telegram_user_id: int, now: dt.datetime
) -> Member:
    """Join the team with an invitation code. The code works once, before it expires."""
    existing = await member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if existing is not None and existing.active:
        raise DomainError("already_member")
    # Claim the code atomically: of two simultaneous uses, exactly one updates the row.
    claimed = await session.exec(
        update(Invitation)
        .where(
            col(Invitation.code_hash) == hash_code(code),
            col(Invitation.used_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(Invitation.id))
    )
    invitation_id = claimed.scalar_one_or_none()
    if invitation_id is None:
        raise DomainError("invitation_invalid")
    invitation = await session.get_one(Invitation, invitation_id)
    if existing is None:
        member = Member(
            telegram_user_id=telegram_user_id,
            display_name=invitation.display_name,
            role=invitation.role,
            neighbourhood_id=invitation.neighbourhood_id,
            joined_at=now,
        )
        session.add(member)
    else:  # a former member comes back with a new invitation
        member = existing
        member.display_name = invitation.display_name
        member.role = invitation.role
        member.neighbourhood_id = invitation.neighbourhood_id
        member.active, member.deactivated_at, member.joined_at = True, None, now
    await session.flush()
    invitation.used_by_id = member.id
    await session.flush()
    return member


async def member_by_telegram_id(*, session: AsyncSession, telegram_user_id: int) -> Member | None:
    """The member with this Telegram id, active or not."""
    rows = await session.exec(select(Member).where(Member.telegram_user_id == telegram_user_id))
    return rows.first()


_SEEN = exists().where(col(ProcessedUpdate.update_id) == bindparam("update_id"))
_MEMBER = Member.__table__  # type: ignore[attr-defined]
_STATE = botstate.CHAT_STATE.subquery("chat_state")
# Built once, SQLAlchemy Core: it runs on every update, and the ORM's session and loading
# machinery cost more than the statement itself (`bot.hotpath` runs it on the driver). One
# statement, one round trip: the sender's member row and whether this update was handled
# already, beside each row of the chat's state (`botstate.CHAT_STATE`), the member's columns
# repeated. No row: not a member (`SEEN_ONLY` then tells whether the update was handled).
ACCESS = (
    core_select(*_MEMBER.c, _SEEN.label("seen"), *_STATE.c)
    .select_from(_MEMBER.outerjoin(_STATE, true()))
    .where(_MEMBER.c.telegram_user_id == bindparam("telegram_user_id"))
)
SEEN_ONLY = core_select(_SEEN.label("seen"))
SEEN: Final = len(_MEMBER.c)  # where `seen` is in an `ACCESS` row: the member's columns before
_MEMBER_COLUMNS: Final = tuple(ACCESS.selected_columns.keys()[:SEEN])


def access_params(*, user_id: int, chat_id: int, update_id: int) -> dict[str, Any]:
    """`ACCESS`'s values for an update of this member (`user_id`, their Telegram id) in this
    chat."""
    key = botstate.encode_key((chat_id, user_id))
    return {"telegram_user_id": user_id, "update_id": update_id, "key": key, "user_id": user_id}


REMEMBERED_MEMBERS = 10_000  # a team is tens of people


class KnownMembers:
    """Each member's last `ACCESS` row and the member built from it, built again only when
    the row changed: building a SQLModel object cost half of the access check's read, on
    every update (issue 18). The member is detached and shared by their updates: read it, or
    merge it into a session to change it."""

    def __init__(self, limit: int = REMEMBERED_MEMBERS) -> None:
        self._known: dict[int, tuple[tuple[Any, ...], Member | None]] = {}
        self._limit = limit

    def member(
        self, user_id: int, values: tuple[Any, ...], build: Callable[[], Member | None]
    ) -> Member | None:
        """The member of this row (`build` when it is not the row seen last)."""
        known = self._known.get(user_id)
        if known is not None and known[0] == values:
            return known[1]
        member = build()
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known[user_id] = (values, member)
        return member

    def last(self, user_id: int) -> Member | None:
        """The member built from this user's last row (None: not known, or not active)."""
        known = self._known.get(user_id)
        return None if known is None else known[1]


def access_found(
    known: KnownMembers,
    user_id: int,
    rows: Sequence[Sequence[Any]],
    build: Callable[[Sequence[Any]], Member | None],
) -> tuple[Member | None, bool, botstate.ChatState | None]:
    """What `ACCESS`'s rows (at least one) say: the active member (or None), whether the
    update was handled already and, for a member's new update, the chat's state. The member
    is built (`build`, from the first row) only when their row changed (`known`)."""
    first = rows[0]
    member = known.member(user_id, tuple(first[:SEEN]), lambda: build(first))
    seen = bool(first[SEEN])
    if member is None or seen:
        return member, seen, None
    state = [row[SEEN + 1 :] for row in rows if row[SEEN + 1] is not None]
    return member, seen, botstate.chat_state(state, user_id=user_id)


async def access_check(
    *,
    connection: AsyncConnection,
    user_id: int,
    chat_id: int,
    update_id: int,
    known: KnownMembers,
) -> tuple[Member | None, bool, botstate.ChatState | None]:
    """`ACCESS` through SQLAlchemy: the active member with this Telegram id (or None), whether
    this update was handled already (a redelivery, a retry, a double tap) and, for a member's
    new update, the chat's state. The member is detached: read it, or merge it into a session
    to change it."""
    params = access_params(user_id=user_id, chat_id=chat_id, update_id=update_id)
    rows = (await connection.execute(ACCESS, params)).all()
    if not rows:
        return None, bool((await connection.execute(SEEN_ONLY, params)).scalar()), None

    return access_found(known, user_id, rows, active_member)


def active_member(row: Sequence[Any]) -> Member | None:
    """The member of an `ACCESS` row (its first columns, as SQLAlchemy converts them), if
    active."""
    member = Member(**dict(zip(_MEMBER_COLUMNS, row[:SEEN], strict=True)))
    make_transient_to_detached(member)
    return member if member.active else None


async def list_members(
    *, session: AsyncSession, include_inactive: bool = False
) -> Sequence[Member]:
    """The team, coordinators first, then by name."""
    query = select(Member)
    if not include_inactive:
        query = query.where(col(Member.active))
    rows = await session.exec(query.order_by(col(Member.role), col(Member.display_name)))
    return rows.all()


async def deactivate_member(
    *, session: AsyncSession, actor: Member, member_id: int, now: dt.datetime
) -> Member:
    """A coordinator removes someone's access. A coordinator cannot lock themself out."""
    if not actor.is_coordinator:
        raise NotAllowed()
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    if member.id == actor.id:
        raise DomainError("cannot_deactivate_self")
    if member.active:
        member.active, member.deactivated_at = False, now
        await session.flush()
    return member


# After Telegram refuses a member, the jobs try again after these delays (the last repeats).
DELIVERY_BACKOFF: tuple[dt.timedelta, ...] = (
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
    dt.timedelta(hours=24),
)


class Unreachable(StrEnum):
    """Why Telegram refuses a member's chat."""

    CHAT_NOT_FOUND = "chat_not_found"  # never started the bot, or the id is wrong
    BLOCKED = "blocked"  # blocked the bot
    DEACTIVATED = "deactivated"  # deleted their Telegram account
    REFUSED = "refused"  # any other refusal of the chat


def may_message(member: Member, now: dt.datetime) -> bool:
    """Whether a job may write to this member now: an active member with a real Telegram
    account, and, after Telegram refused them, once the back-off delay has passed."""
    if not member.active or member.is_demo:
        return False
    return member.next_delivery_at is None or member.next_delivery_at <= now


async def mark_unreachable(
    *, session: AsyncSession, member_id: int, reason: Unreachable, now: dt.datetime
) -> Member:
    """Telegram refused a message to this member: skip them until the next back-off step."""
    member = await session.get_one(Member, member_id)
    if member.unreachable_since is None:
        member.unreachable_since = now
    member.unreachable_reason = Unreachable(reason).value
    member.delivery_failures += 1
    step = min(member.delivery_failures, len(DELIVERY_BACKOFF)) - 1
    member.next_delivery_at = now + DELIVERY_BACKOFF[step]
    await session.flush()
    return member


async def mark_reachable(*, session: AsyncSession, member_id: int) -> Member:
    """A message reached this member again: nothing is held back any more."""
    member = await session.get_one(Member, member_id)
    member.unreachable_since, member.unreachable_reason = None, None
    member.delivery_failures, member.next_delivery_at = 0, None
    await session.flush()
    return member


async def unreachable_members(*, session: AsyncSession) -> Sequence[Member]:
    """Active members Telegram refuses, longest first."""
    rows = await session.exec(
        select(Member)
        .where(col(Member.active), col(Member.unreachable_since).is_not(None))
        .order_by(col(Member.unreachable_since), col(Member.id))
    )
    return rows.all()


# --- Invitations that travel (issue 15): who invited whom, pending ones, revocation --------
async def inviter_of(*, session: AsyncSession, member_id: int) -> Member | None:
    """The active coordinator whose invitation this member used last (None: the CLI)."""
    invitation = (
        await session.exec(
            select(Invitation)
            .where(Invitation.used_by_id == member_id)
            .order_by(col(Invitation.used_at).desc())
        )
    ).first()
    if invitation is None or invitation.created_by_id is None:
        return None
    inviter = await session.get(Member, invitation.created_by_id)
    return inviter if inviter is not None and inviter.active else None


async def pending_invitations(*, session: AsyncSession, now: dt.datetime) -> Sequence[Invitation]:
    """Invitations neither used nor expired (nor revoked), the soonest to expire first."""
    rows = await session.exec(
        select(Invitation)
        .where(col(Invitation.used_at).is_(None), col(Invitation.expires_at) > now)
        .order_by(col(Invitation.expires_at), col(Invitation.id))
    )
    return rows.all()


async def revoke_invitation(
    *, session: AsyncSession, actor: Member, invitation_id: int, now: dt.datetime
) -> Invitation:
    """A coordinator withdraws a pending invitation: its code stops working at once."""
    if not actor.is_coordinator:
        raise NotAllowed()
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        raise DomainError("invitation_not_pending")
    invitation.expires_at = now
    await session.flush()
    return invitation
