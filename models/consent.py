"""The information notice (GDPR art. 13) in the person's language, and the consent record.

The notices are TOML files, one per language, in a folder an operator edits without code
(`models/notices/` by default, `NOTICES_DIR` otherwise): each gives its version, the
language's own name, its text direction, who reviewed it, and the text with placeholders
filled from the settings. Adding a language is adding a file.

What a person was shown is kept exactly: the text of each notice version, as rendered, is
stored once in `notice_version` on first use, and the person's `consent_record` points at it.
A new version in a file is what is recorded from then on; the old rows stay for the people
who saw them. Withdrawing consent erases the phone and every note at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from babel.units import format_unit
from sqlalchemy import Text, UniqueConstraint, bindparam, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.base import Executes, UTCDateTime, pk
from models.errors import DomainError
from models.orientations import Interaction, Orientation
from models.people import Person, get_person
from models.team import Member

NOTICES_DIR = Path(__file__).resolve().parent / "notices"
MAX_MESSAGE = 4096  # Telegram's limit for one message
REQUIRED_KEYS = ("version", "name", "name_fr", "locale", "direction", "reviewed_by", "text")
TEXT_KEYS = ("text", "contact", "question")  # the parts read by the person
PLACEHOLDERS = frozenset({"operator", "retention", "contact"})
DIRECTIONS = frozenset({"ltr", "rtl"})
FIRST = ("fr", "fr-facile", "ar", "en", "es", "pt", "ro")  # when nobody chose any yet
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,12})?")
# Right-to-left: every line starts with a RIGHT-TO-LEFT MARK, so that a phone (which takes a
# paragraph's direction from its first strong letter) aligns it right even when it starts
# with a digit, a bullet or a Latin word; each value from the settings (an e-mail, a phone
# number) is embedded left-to-right (LRE ... PDF), so its digits and dots keep their order.
RLM, LRE, PDF = "\u200f", "\u202a", "\u202c"


class NoticeError(ValueError):
    """A notice file an operator must fix (said in English, at start or in the tests)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """One language's notice, as its file says (placeholders not yet filled)."""

    language: str
    version: str
    name: str
    name_fr: str
    locale: str
    direction: str
    reviewed_by: str
    text: str
    contact: str = ""
    question: str = ""
    audio: Path | None = None

    @property
    def reviewed(self) -> bool:
        """A person who reads the language checked the translation."""
        return bool(self.reviewed_by.strip())


@dataclass(frozen=True, slots=True)
class NoticeSettings:
    """What the notices' placeholders are filled with (from the operator's settings)."""

    operator: str
    retention_months: int
    contact: str = ""


def _placeholders(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise NoticeError(f"unbalanced braces: {exc}") from exc


def read_notice(path: Path) -> Notice:
    """One notice file, checked: every key, a known direction, no empty text, known
    placeholders only."""
    language = path.stem
    if not LANGUAGE_CODE.fullmatch(language):
        raise NoticeError(f"{path.name}: the name must be a language code (fr, ar, fr-facile)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NoticeError(f"{path.name}: not a valid TOML file: {exc}") from exc
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise NoticeError(f"{path.name}: missing {', '.join(missing)}")
    values = {key: str(value).strip() for key, value in data.items() if key != "audio"}
    for key in ("version", "name", "name_fr", "locale", "text"):
        if not values[key]:
            raise NoticeError(f"{path.name}: {key} is empty")
    if values["direction"] not in DIRECTIONS:
        raise NoticeError(f"{path.name}: direction must be ltr or rtl")
    for key in TEXT_KEYS:
        unknown = _placeholders(values.get(key, "")) - PLACEHOLDERS
        if unknown:
            raise NoticeError(f"{path.name}: unknown placeholder {sorted(unknown)} in {key}")
    audio = data.get("audio")
    return Notice(
        language=language,
        version=values["version"],
        name=values["name"],
        name_fr=values["name_fr"],
        locale=values["locale"],
        direction=values["direction"],
        reviewed_by=values["reviewed_by"],
        text=values["text"],
        contact=values.get("contact", ""),
        question=values.get("question", ""),
        audio=(path.parent / str(audio)) if audio else None,
    )


def load_notices(folder: Path = NOTICES_DIR) -> dict[str, Notice]:
    """Every notice of the folder, by language code (French first, then the usual order)."""
    found = {notice.language: notice for notice in map(read_notice, folder.glob("*.toml"))}
    if "fr" not in found:
        raise NoticeError(f"{folder}: fr.toml is required (it is the reference)")
    return {code: found[code] for code in order_languages(found, [])}


def order_languages(notices: Mapping[str, Notice], most_used: Sequence[str]) -> list[str]:
    """The languages a mediator used most first, then French and the usual ones, then the
    rest alphabetically."""
    ordered = [code for code in most_used if code in notices]
    ordered += [code for code in FIRST if code in notices and code not in ordered]
    ordered += sorted(code for code in notices if code not in ordered)
    return ordered


def _fill(template: str, notice: Notice, values: NoticeSettings) -> str:
    filled = {
        "operator": values.operator,
        "retention": format_unit(
            values.retention_months, "duration-month", locale=notice.locale, length="long"
        ),
        "contact": values.contact,
    }
    if notice.direction == "rtl":  # the operator and the contact are written left to right
        for key in ("operator", "contact"):
            filled[key] = f"{LRE}{filled[key]}{PDF}"
    return template.format(**filled)


def _direct(text: str, notice: Notice) -> str:
    """Right-to-left text: a RIGHT-TO-LEFT MARK at the start of every line."""
    if notice.direction != "rtl":
        return text
    lines = text.split("\n")
    return "\n".join(f"{RLM}{line.lstrip(RLM)}" if line.strip() else line for line in lines)


def render(notice: Notice, values: NoticeSettings) -> str:
    """The notice as the person reads it: one message (the contact line when there is one)."""
    text = _fill(notice.text, notice, values)
    if values.contact and notice.contact:
        text = f"{text}\n{_fill(notice.contact, notice, values)}"
    return _direct(text, notice)


def render_question(notice: Notice, values: NoticeSettings) -> str:
    """The consent question in the person's language (empty when the file has none)."""
    return _direct(_fill(notice.question, notice, values), notice) if notice.question else ""


# --- The record --------------------------------------------------------------------------
class NoticeVersion(SQLModel, table=True):
    """The exact text of one notice version as shown (stored on first use, never changed)."""

    __tablename__ = "notice_version"
    __table_args__ = (UniqueConstraint("language", "version", "digest"),)

    id: int | None = Field(default=None, primary_key=True)
    language: str = Field(max_length=20)
    version: str = Field(max_length=20)
    # The same version rendered with other settings (operator, contact) is another text.
    digest: str = Field(max_length=64)
    name: str = Field(max_length=60)
    direction: str = Field(max_length=3)
    reviewed_by: str = Field(default="", max_length=120)
    text: str = Field(sa_type=Text)
    first_shown_at: dt.datetime = Field(sa_type=UTCDateTime)


class ConsentRecord(SQLModel, table=True):
    """Per person: the notice shown (or not), the consent given or refused, its withdrawal."""

    __tablename__ = "consent_record"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    notice_id: int | None = Field(default=None, foreign_key="notice_version.id")
    notice_shown_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    given: bool
    decided_at: dt.datetime = Field(sa_type=UTCDateTime)
    withdrawn_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by: int | None = Field(default=None, foreign_key="member.id")


async def notice_version(
    *, session: AsyncSession, notice: Notice, text: str, now: dt.datetime
) -> NoticeVersion:
    """The stored row of this notice version as shown, inserted on its first use."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    query = select(NoticeVersion).where(
        NoticeVersion.language == notice.language,
        NoticeVersion.version == notice.version,
        NoticeVersion.digest == digest,
    )
    row = (await session.exec(query)).first()
    if row is None:
        row = NoticeVersion(
            language=notice.language, version=notice.version, digest=digest, name=notice.name,
            direction=notice.direction, reviewed_by=notice.reviewed_by, text=text,
            first_shown_at=now,
        )  # fmt: skip
        session.add(row)
        await session.flush()
    return row


def add_decision(
    connection: Executes,
    *,
    person_id: int,
    given: bool,
    notice_id: int | None,
    shown_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """What `/nouveau` recorded: the notice shown (or not) and the answer. SQLAlchemy Core on
    a synchronous connection, as `models.people.add_person` (from async code:
    `AsyncConnection.run_sync`)."""
    if (
        notice_id is not None
        and connection.execute(_NOTICE_FOUND, {"id": notice_id}).first() is None
    ):
        raise DomainError("choice_invalid")
    values = {
        "person_id": person_id,
        "notice_id": notice_id,
        "notice_shown_at": shown_at if notice_id is not None else None,
        "given": given,
        "decided_at": now,
    }
    connection.execute(_INSERT_DECISION, values)


_DECISION = ConsentRecord.__table__  # type: ignore[attr-defined]
_NOTICE = NoticeVersion.__table__  # type: ignore[attr-defined]
_DECIDED: Final = ("person_id", "notice_id", "notice_shown_at", "given", "decided_at")
_INSERT_DECISION = insert(_DECISION).values({name: bindparam(name) for name in _DECIDED})
_NOTICE_FOUND = core_select(_NOTICE.c.id).where(_NOTICE.c.id == bindparam("id"))


async def most_used_languages(*, session: AsyncSession, mediator_id: int) -> list[str]:
    """The notice languages this mediator showed, most shown first."""
    shown = func.count()
    rows = await session.exec(
        select(NoticeVersion.language, shown)
        .join(ConsentRecord, col(ConsentRecord.notice_id) == col(NoticeVersion.id))
        .join(Person, col(Person.id) == col(ConsentRecord.person_id))
        .where(Person.mediator_id == mediator_id)
        .group_by(col(NoticeVersion.language))
        .order_by(shown.desc(), col(NoticeVersion.language))
    )
    return [language for language, _ in rows.all()]


async def withdraw(
    *, session: AsyncSession, viewer: Member, person_id: int, now: dt.datetime
) -> Person:
    """The person withdraws consent: phone and every note erased at once, recorded, audited.
    Coordinators and the mediator who follows the person only."""
    person = await get_person(session=session, viewer=viewer, person_id=person_id)
    if not person.contact_consent:
        raise DomainError("consent_not_given")
    person.phone, person.note = None, None
    person.contact_consent, person.contact_consent_at = False, None
    for table in (Orientation, Interaction):
        erase_notes = update(table).where(col(table.person_id) == person.id).values(note=None)
        await session.exec(erase_notes)
    record = await session.get(ConsentRecord, person.id)
    if record is None:  # consent recorded before notices existed
        record = ConsentRecord(
            person_id=pk(person), given=True, decided_at=person.contact_consent_at or now
        )
        session.add(record)
    record.withdrawn_at, record.withdrawn_by = now, viewer.id
    await audit.record(
        session=session, at=now, member_id=viewer.id, action="withdraw_consent",
        subject=person.code,
    )  # fmt: skip
    await session.flush()
    return person


async def record_for(*, session: AsyncSession, person_id: int) -> dict[str, Any] | None:
    """The consent record of one person, with the exact notice text shown (right of
    access); None when none was recorded."""
    record = await session.get(ConsentRecord, person_id)
    if record is None:
        return None
    notice = await session.get(NoticeVersion, record.notice_id) if record.notice_id else None
    return {
        "notice_shown": notice is not None,
        "notice_language": notice.language if notice else None,
        "notice_language_name": notice.name if notice else None,
        "notice_version": notice.version if notice else None,
        "notice_reviewed_by": (notice.reviewed_by or None) if notice else None,
        "notice_shown_at": record.notice_shown_at,
        "notice_text": notice.text if notice else None,
        "consent": "given" if record.given else "refused",
        "decided_at": record.decided_at,
        "withdrawn_at": record.withdrawn_at,
    }
