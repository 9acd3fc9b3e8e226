"""People engaged by the mediators (accrochage): the minimal profile and who may see it."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, NamedTuple, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Index,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    true,
    union_all,
)
from sqlalchemy import select as core_select
from sqlalchemy.orm import make_transient_to_detached, undefer
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import Executes, UTCDateTime, pk
from models.crypto import loaded_only_when_asked, private_column
from models.errors import DomainError, NotAllowed, NotFound
from models.phones import normalize_phone
from models.reference import Kind, Neighbourhood, Partner, ReferenceItem
from models.team import Member

FIRST_NAME_MAX = 40
NOTE_MAX = 280
CODE_PREFIX = "P-"


# What the indicator engine groups newly engaged people by (models.stats), in one pass.
INDICATOR_COLUMNS = (
    "channel",
    "residence",
    "age_bracket",
    "sex",
    "neighbourhood_id",
    "mediator_id",
    "registered_ft",
    "referent_contact_5m",
)


class Sex(StrEnum):
    """Recorded because the State's O2R call weighs the women/men balance."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNSPECIFIED = "unspecified"


class Answer(StrEnum):
    """A yes / no / does-not-know answer."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Status(StrEnum):
    """Where a person stands on the path (DOMAIN.md).

    repéré (spotted) → accroché (engaged) → orienté (oriented) → accompagné (supported);
    any open mediation → sorti (exited). An orientation that ends without support brings an
    oriented person back to accroché, unless another orientation is still open. The path never
    goes back otherwise: a supported person stays supported (a new orientation, an answer to
    its reminder change nothing), and an exited person stays exited, until a coordinator
    re-opens (`REOPENINGS`).
    """

    SPOTTED = "spotted"
    ENGAGED = "engaged"
    ORIENTED = "oriented"
    SUPPORTED = "supported"
    EXITED = "exited"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SPOTTED: frozenset({Status.ENGAGED, Status.EXITED}),
    Status.ENGAGED: frozenset({Status.ORIENTED, Status.EXITED}),
    Status.ORIENTED: frozenset({Status.ORIENTED, Status.ENGAGED, Status.SUPPORTED, Status.EXITED}),
    Status.SUPPORTED: frozenset({Status.SUPPORTED, Status.EXITED}),
    Status.EXITED: frozenset(),
}
# The only ways back, a coordinator's « Rouvrir la médiation »: an exited person is engaged
# again; a supported person whose support ended is engaged again (oriented while one of their
# orientations is still open).
REOPENINGS: dict[Status, frozenset[Status]] = {
    Status.EXITED: frozenset({Status.ENGAGED}),
    Status.SUPPORTED: frozenset({Status.ENGAGED, Status.ORIENTED}),
}


def status_when_oriented(current: Status) -> Status:
    """A new orientation makes a person oriented; a supported person stays supported."""
    return Status.SUPPORTED if current == Status.SUPPORTED else Status.ORIENTED


def status_when_orientation_ends(current: Status, *, started: bool, still_open: int) -> Status:
    """An orientation closed: support started → supported; otherwise a supported person stays
    supported, and an oriented one is oriented while another is open, else engaged again."""
    if started or current == Status.SUPPORTED:
        return Status.SUPPORTED
    return Status.ORIENTED if still_open else Status.ENGAGED


_PHONE, _NOTE = private_column("phone"), private_column("note")


class Person(SQLModel, table=True):
    """A person who agreed to be followed. Contact details only with recorded consent; phone
    and note are loaded only where shown (`with_contact_details`)."""

    __mapper_args__ = loaded_only_when_asked(_PHONE, _NOTE)
    __table_args__ = (
        Index("ix_person_mediator_last_contact", "mediator_id", "last_contact_at"),
        Index("ix_person_duplicate_key", "mediator_id", "first_name_key", "age_bracket"),
        Index("ix_person_neighbourhood_engaged", "neighbourhood_id", "engaged_at"),
        # Covers the indicator engine's pass over a period's people (an index-only scan).
        Index("ix_person_engaged_cube", "engaged_at", *INDICATOR_COLUMNS),
    )

    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=FIRST_NAME_MAX)
    first_name_key: str = Field(max_length=FIRST_NAME_MAX)
    sex: str = Field(max_length=12)
    age_bracket: str = Field(max_length=20)
    residence: str = Field(max_length=20)
    channel: str = Field(max_length=30)
    referred_by_partner_id: int | None = Field(default=None, foreign_key="partner.id")
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id")
    mediator_id: int = Field(foreign_key="member.id")
    registered_ft: str = Field(max_length=8)
    referent_contact_5m: str | None = Field(default=None, max_length=8)
    rsa: str = Field(max_length=8)
    contact_consent: bool = False
    contact_consent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    phone: str | None = Field(default=None, sa_column=_PHONE)
    note: str | None = Field(default=None, sa_column=_NOTE)
    status: str = Field(default=Status.ENGAGED.value, max_length=12)
    engaged_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_contact_at: dt.datetime = Field(sa_type=UTCDateTime)
    exit_reason: str | None = Field(default=None, max_length=30)
    exited_on: dt.date | None = None
    anonymised_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def code(self) -> str:
        """The short code shown to the team instead of any identity (e.g. P-0421)."""
        return person_code(self.id or 0)


class PersonBarrier(SQLModel, table=True):
    """One barrier (frein) of a person; a person has several."""

    __tablename__ = "person_barrier"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    barrier: str = Field(max_length=40, primary_key=True)


@dataclass(slots=True)
class Profile:
    """What `/nouveau` collects. Validated by `engage`, not by the form."""

    first_name: str
    sex: Sex
    age_bracket: str
    residence: str
    channel: str
    barriers: list[str] = field(default_factory=list)
    registered_ft: Answer = Answer.UNKNOWN
    referent_contact_5m: Answer | None = None
    rsa: Answer = Answer.UNKNOWN
    contact_consent: bool = False
    phone: str | None = None
    note: str | None = None
    neighbourhood_id: int | None = None
    referred_by_partner_id: int | None = None


def change_status(
    person: Person, to: Status, *, by: Member, correcting_partner: bool = False
) -> None:
    """The one way a person's status changes; going back (re-opening) is a coordinator's
    action, save one correction: the team undoing a partner's « accompagnement démarré »
    that was the person's only support (`correcting_partner`)."""
    current = Status(person.status)
    if to in TRANSITIONS[current]:
        person.status = to.value
        return
    if to not in REOPENINGS.get(current, frozenset()):
        raise DomainError("person_exited" if current == Status.EXITED else "transition_invalid")
    if not by.is_coordinator and not (correcting_partner and current == Status.SUPPORTED):
        raise DomainError("coordinator_only")
    person.status = to.value


def person_code(person_id: int) -> str:
    """P-0421 for person 421."""
    return f"{CODE_PREFIX}{person_id:04d}"


def parse_person_code(text: str) -> int | None:
    """Read `P-0421`, `p421` or `421` back into an id; None when it is not a code."""
    match = re.fullmatch(r"\s*(?:[Pp]\s*-?\s*)?0*(\d{1,9})\s*", text)
    return int(match.group(1)) if match else None


def name_key(name: str) -> str:
    """Case- and accent-insensitive form of a first name, for duplicate and search lookups."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", letters).split())[:FIRST_NAME_MAX]


def clean_first_name(text: str) -> str:
    """A first name or initials: printable, single-spaced, not empty, not too long."""
    cleaned = " ".join("".join(c for c in text if c.isprintable()).split())
    cleaned = "".join(c for c in cleaned if unicodedata.category(c) not in {"Cf", "Co", "Cn"})
    if not cleaned or not any(c.isalpha() for c in cleaned):
        raise DomainError("first_name_invalid")
    if len(cleaned) > FIRST_NAME_MAX:
        raise DomainError("first_name_too_long", limit=FIRST_NAME_MAX)
    return cleaned


def clean_note(text: str) -> str:
    """A short factual note: printable, trimmed, within the limit."""
    cleaned = "".join(c for c in text if c.isprintable() or c == "\n").strip()
    if not cleaned:
        raise DomainError("note_empty")
    if len(cleaned) > NOTE_MAX:
        raise DomainError("note_too_long", limit=NOTE_MAX, length=len(cleaned))
    return cleaned


def _validate(profile: Profile, found: set[tuple[str, str]]) -> None:
    """The profile's answers against what `ENGAGE_CHECKS` found in the database."""
    wanted = {
        (Kind.AGE_BRACKET.value, profile.age_bracket),
        (Kind.RESIDENCE.value, profile.residence),
        (Kind.CHANNEL.value, profile.channel),
        *((Kind.BARRIER.value, barrier) for barrier in profile.barriers),
    }
    if not wanted <= found:
        raise DomainError("choice_invalid")
    if not profile.contact_consent and (profile.phone or profile.note):
        raise DomainError("consent_required")
    if profile.registered_ft != Answer.YES and profile.referent_contact_5m is not None:
        raise DomainError("choice_invalid")
    if profile.referred_by_partner_id is not None:
        if profile.channel != "partner_referral":
            raise DomainError("choice_invalid")
        if (_PARTNER_FOUND, str(profile.referred_by_partner_id)) not in found:
            raise NotFound()


def may_engage(member: Member) -> None:
    """Only a member attached to a neighbourhood records people: they are followed there."""
    if member.neighbourhood_id is None:
        raise DomainError("engage_no_neighbourhood")


_PERSON = Person.__table__  # type: ignore[attr-defined]
_BARRIER = PersonBarrier.__table__  # type: ignore[attr-defined]
_ITEM = ReferenceItem.__table__  # type: ignore[attr-defined]
_NEIGHBOURHOOD = Neighbourhood.__table__  # type: ignore[attr-defined]
_PARTNER = Partner.__table__  # type: ignore[attr-defined]
_NEIGHBOURHOOD_FOUND, _PARTNER_FOUND = "neighbourhood", "partner"
_ENGAGE_KINDS: Final = (Kind.AGE_BRACKET, Kind.RESIDENCE, Kind.CHANNEL, Kind.BARRIER)
# What saving a person checks, in one statement: the active entries of the lists a person's
# answers come from (a few dozen rows), whether the neighbourhood exists, whether the referring
# partner exists. SQLAlchemy Core, built once: with the person, their barriers and consent, the
# save is 4 statements instead of 5 through the ORM's flush (docs/performance.md). The kinds are
# written into it, not bound: a list of values bound at each run costs SQLAlchemy a new
# rendering of the statement, and `bot.hotpath` runs it compiled once.
ENGAGE_CHECKS = union_all(
    core_select(_ITEM.c.kind, _ITEM.c.code).where(
        _ITEM.c.active,
        _ITEM.c.kind.in_([literal_column(f"'{kind.value}'") for kind in _ENGAGE_KINDS]),
    ),
    core_select(
        literal_column(f"'{_NEIGHBOURHOOD_FOUND}'"), cast(_NEIGHBOURHOOD.c.id, String)
    ).where(_NEIGHBOURHOOD.c.id == bindparam("neighbourhood_id")),
    core_select(literal_column(f"'{_PARTNER_FOUND}'"), cast(_PARTNER.c.id, String)).where(
        _PARTNER.c.id == bindparam("partner_id")
    ),
)
_WRITTEN: Final = (
    "first_name", "first_name_key", "sex", "age_bracket", "residence", "channel",
    "referred_by_partner_id", "neighbourhood_id", "mediator_id", "registered_ft",
    "referent_contact_5m", "rsa", "contact_consent", "contact_consent_at", "phone", "note",
    "status", "engaged_at", "last_contact_at",
)  # fmt: skip
_INSERT_PERSON = (
    insert(_PERSON).values({name: bindparam(name) for name in _WRITTEN}).returning(_PERSON.c.id)
)
_INSERT_BARRIER = insert(_BARRIER)


@dataclass(frozen=True, slots=True)
class Added:
    """A person as `add_person` wrote them: their id and every column written. Building the
    SQLModel `Person` instead cost about a tenth of /nouveau's save (issue 18); `engage`
    builds it for the session that wants one."""

    id: int
    values: dict[str, Any]

    @property
    def code(self) -> str:
        """The person's short code (`Person.code`)."""
        return person_code(self.id)

    @property
    def first_name(self) -> str:
        """The first name as stored (cleaned)."""
        return str(self.values["first_name"])

    @property
    def neighbourhood_id(self) -> int:
        """Where they were recorded."""
        return int(self.values["neighbourhood_id"])


def add_person(
    connection: Executes, *, mediator: Member, profile: Profile, now: dt.datetime
) -> Added:
    """Record a newly engaged person, followed by `mediator`, in their neighbourhood by default:
    the checks and the writes, SQLAlchemy Core statements built once, on a synchronous
    connection (`engage` from async code; the bot's save of /nouveau on SQLite runs them in the
    loop's thread, each compiled once: `bot.hotpath.PreparedConnection`)."""
    neighbourhood_id = profile.neighbourhood_id or mediator.neighbourhood_id
    if neighbourhood_id is None:
        raise DomainError("neighbourhood_required")
    checks = {"neighbourhood_id": neighbourhood_id, "partner_id": profile.referred_by_partner_id}
    found = {(kind, code) for kind, code in connection.execute(ENGAGE_CHECKS, checks)}
    if (_NEIGHBOURHOOD_FOUND, str(neighbourhood_id)) not in found:
        raise DomainError("neighbourhood_required")
    first_name = clean_first_name(profile.first_name)
    _validate(profile, found)
    values: dict[str, Any] = {
        "first_name": first_name,
        "first_name_key": name_key(first_name),
        "sex": Sex(profile.sex).value,
        "age_bracket": profile.age_bracket,
        "residence": profile.residence,
        "channel": profile.channel,
        "referred_by_partner_id": profile.referred_by_partner_id,
        "neighbourhood_id": neighbourhood_id,
        "mediator_id": pk(mediator),
        "registered_ft": Answer(profile.registered_ft).value,
        "referent_contact_5m": (
            Answer(profile.referent_contact_5m).value if profile.referent_contact_5m else None
        ),
        "rsa": Answer(profile.rsa).value,
        "contact_consent": profile.contact_consent,
        "contact_consent_at": now if profile.contact_consent else None,
        "phone": normalize_phone(profile.phone) if profile.phone else None,
        "note": clean_note(profile.note) if profile.note else None,
        "status": Status.ENGAGED.value,
        "engaged_at": now,
        "last_contact_at": now,
    }
    person_id = connection.execute(_INSERT_PERSON, values).scalar_one()
    barriers = [{"person_id": person_id, "barrier": b} for b in dict.fromkeys(profile.barriers)]
    if barriers:
        connection.execute(_INSERT_BARRIER, barriers)
    return Added(person_id, values)


async def engage(
    *, session: AsyncSession, mediator: Member, profile: Profile, now: dt.datetime
) -> Person:
    """`add_person` in this session's transaction; the person is then in the session like a
    flushed one."""
    connection = await session.connection()
    added = await connection.run_sync(
        lambda sync: add_person(sync, mediator=mediator, profile=profile, now=now)
    )
    person = Person(id=added.id, **added.values)
    make_transient_to_detached(person)  # as written: no SELECT back
    session.add(person)
    return person


def _visible_to(viewer: Member) -> ColumnElement[bool]:
    """Coordinators see everyone; everybody else sees the people they follow."""
    return true() if viewer.is_coordinator else col(Person.mediator_id) == viewer.id


async def visible_people(
    *, session: AsyncSession, viewer: Member, offset: int = 0, limit: int = 10
) -> tuple[Sequence[Person], int]:
    """A page of the people `viewer` may see, most recent contact first, and the total."""
    where = _visible_to(viewer)
    total = (await session.exec(select(func.count()).select_from(Person).where(where))).one()
    rows = await session.exec(
        select(Person)
        .where(where)
        .order_by(col(Person.last_contact_at).desc(), col(Person.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), total


class _Named(Protocol):
    @property
    def first_name_key(self) -> str: ...
    @property
    def last_contact_at(self) -> dt.datetime: ...


N = TypeVar("N", bound=_Named)


def _named(candidates: Sequence[N], text: str, limit: int, *, prefix: bool) -> list[N]:
    """The candidates whose first name is `text` despite accents, case and small typos (and,
    with `prefix`, those it begins), most recent contact first, the closest first."""
    wanted = name_key(text)
    if not wanted:
        return []
    same = [
        p
        for p in candidates
        if p.first_name_key == wanted or (prefix and p.first_name_key.startswith(wanted))
    ]
    keys = {p.first_name_key for p in candidates}
    close = set(difflib.get_close_matches(wanted, keys, n=limit, cutoff=0.7))
    fuzzy = [p for p in candidates if p.first_name_key in close and p not in same]
    found = sorted(same, key=lambda p: p.last_contact_at, reverse=True)
    found += sorted(fuzzy, key=lambda p: p.last_contact_at, reverse=True)
    return found[:limit]


async def find_people(
    *, session: AsyncSession, viewer: Member, text: str, limit: int = 6
) -> list[Person]:
    """The people search: those `viewer` may see matching a code, or a first name despite
    accents and small typos (« Aissatou », « Aisatou » find « Aïssatou »)."""
    code = parse_person_code(text)
    if code is not None:
        try:
            return [await get_person(session=session, viewer=viewer, person_id=code)]
        except DomainError:
            return []
    candidates = (await session.exec(select(Person).where(_visible_to(viewer)))).all()
    return _named(candidates, text, limit, prefix=True)


class Alike(NamedTuple):
    """A person a mediator follows, as the duplicate check shows them."""

    id: int
    first_name: str
    first_name_key: str
    mediator_id: int
    engaged_at: dt.datetime
    last_contact_at: dt.datetime

    @property
    def code(self) -> str:
        """The person's short code (`Person.code`)."""
        return person_code(self.id)


# The columns of `Alike`, built once: through the ORM (a session, whole `Person` objects), the
# check at /nouveau's first name took 0.32 ms of CPU with nobody to compare (issue 18).
_MEDIATORS_PEOPLE = core_select(*(_PERSON.c[name] for name in Alike._fields)).where(
    _PERSON.c.mediator_id == bindparam("mediator_id")
)


def similar_people(
    connection: Executes, *, mediator_id: int, first_name: str, limit: int = 3
) -> list[Alike]:
    """The people this mediator follows whose first name is this one, despite accents and
    small typos (the people search, names only and whole): perhaps the same person again.
    Synchronous, on a connection (the bot's short reads on SQLite run in the loop's thread,
    `bot.hotpath`); `likely_duplicates` from async code."""
    rows = connection.execute(_MEDIATORS_PEOPLE, {"mediator_id": mediator_id})
    candidates = [Alike(*row) for row in rows]
    return _named(candidates, first_name, limit, prefix=False)


async def likely_duplicates(
    *, session: AsyncSession, mediator: Member, first_name: str, limit: int = 3
) -> list[Alike]:
    """`similar_people` on this session's connection."""
    connection = await session.connection()
    return await connection.run_sync(
        lambda sync: similar_people(
            sync, mediator_id=pk(mediator), first_name=first_name, limit=limit
        )
    )


def with_contact_details() -> list[Any]:
    """The loader options that read a person's phone and note (deferred otherwise)."""
    return [undefer(Person.phone), undefer(Person.note)]  # type: ignore[arg-type]


async def get_person(
    *, session: AsyncSession, viewer: Member, person_id: int, contact_details: bool = False
) -> Person:
    """One person, if `viewer` follows them (or coordinates). Otherwise NotAllowed. Phone and
    note are read only with `contact_details`."""
    options = with_contact_details() if contact_details else []
    person = (
        await session.exec(select(Person).where(Person.id == person_id).options(*options))
    ).first()
    if person is None:
        raise NotFound()
    if not viewer.is_coordinator and person.mediator_id != viewer.id:
        raise NotAllowed()
    return person


async def barriers_of(*, session: AsyncSession, person_id: int) -> list[str]:
    """The barrier codes of one person."""
    rows = await session.exec(
        select(PersonBarrier.barrier).where(PersonBarrier.person_id == person_id)
    )
    return list(rows.all())


# --- /personnes: filters and search -------------------------------------------------------
SEARCH_MAX = 40


@dataclass(frozen=True, slots=True)
class PeopleFilter:
    """What a list of people is narrowed to (None: any)."""

    neighbourhood_id: int | None = None
    mediator_id: int | None = None
    status: Status | None = None


def may_filter_people(viewer: Member) -> bool:
    """Coordinators narrow the whole team's list by neighbourhood, mediator and status; a
    mediator's list is already theirs alone."""
    return viewer.is_coordinator


async def filtered_people(
    *,
    session: AsyncSession,
    viewer: Member,
    filters: PeopleFilter,
    offset: int = 0,
    limit: int = 10,
) -> tuple[Sequence[Person], int]:
    """A page of the people `viewer` may see matching `filters`, most recent contact first,
    and how many match. Filters other than the viewer's scope apply only to coordinators."""
    where = [_visible_to(viewer)]
    if may_filter_people(viewer):
        if filters.neighbourhood_id is not None:
            where.append(col(Person.neighbourhood_id) == filters.neighbourhood_id)
        if filters.mediator_id is not None:
            where.append(col(Person.mediator_id) == filters.mediator_id)
        if filters.status is not None:
            where.append(col(Person.status) == filters.status.value)
    count = select(func.count()).select_from(Person).where(*where)
    total = (await session.exec(count)).one()
    rows = await session.exec(
        select(Person)
        .where(*where)
        .order_by(col(Person.last_contact_at).desc(), col(Person.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), total


def clean_search(text: str) -> str:
    """What was typed to find a person: a code or some letters of a first name."""
    cleaned = " ".join(text.split())[:SEARCH_MAX]
    if parse_person_code(cleaned) is None and not name_key(cleaned):
        raise DomainError("search_invalid")
    return cleaned


async def follower_names(*, session: AsyncSession, mediator_ids: Sequence[int]) -> dict[int, str]:
    """The display names of the members following people, by id."""
    if not mediator_ids:
        return {}
    rows = await session.exec(
        select(Member.id, Member.display_name).where(col(Member.id).in_(set(mediator_ids)))
    )
    return {member_id: name for member_id, name in rows.all() if member_id is not None}


async def mediators_following(*, session: AsyncSession) -> Sequence[Member]:
    """Members who follow at least one person, by name (the coordinator's mediator filter)."""
    followed = select(Person.mediator_id).distinct()
    rows = await session.exec(
        select(Member)
        .where(col(Member.id).in_(followed))
        .order_by(col(Member.display_name), col(Member.id))
    )
    return rows.all()
