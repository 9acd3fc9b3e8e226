"""Reference data: neighbourhoods, partners and the finite lists the forms offer.

The data lives in `reference_data.toml`, versioned with the code and loaded idempotently at
start: editing a label and restarting updates it; codes are what records store, so records
are never touched. An item removed from the file is deactivated, never deleted.
"""

from __future__ import annotations

import re
import secrets
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import UniqueConstraint, bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import Executes, plain_text
from models.errors import DomainError
from models.phones import normalize_phone

if TYPE_CHECKING:
    from models.team import Member

REFERENCE_FILE = Path(__file__).resolve().parent / "reference_data.toml"


class Kind(StrEnum):
    """The finite lists stored as reference items."""

    CHANNEL = "channel"
    RESIDENCE = "residence"
    BARRIER = "barrier"
    AGE_BRACKET = "age_bracket"
    OUTREACH = "outreach"
    PARTNER_CATEGORY = "partner_category"


class Neighbourhood(SQLModel, table=True):
    """A priority neighbourhood where one mediator works."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=120)
    arrondissement: str = Field(default="", max_length=20)
    active: bool = True
    # Newly engaged people a year, when the neighbourhood has a target of its own (optional;
    # the team's is YEARLY_TARGET): see models/targets.py.
    yearly_target: int | None = None


class ReferenceItem(SQLModel, table=True):
    """One entry of a finite list (a channel, a barrier...), identified by kind and code."""

    __tablename__ = "reference_item"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    code: str = Field(max_length=40)
    label: str = Field(max_length=120)
    position: int = 0
    active: bool = True


class Partner(SQLModel, table=True):
    """An organisation people are oriented to, or that refers people to mediators."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=120)
    category: str = Field(max_length=40)
    active: bool = True
    # The « correspondant ressource »: the team's privileged contact at this partner.
    contact_name: str = Field(default="", max_length=80)
    contact_role: str = Field(default="", max_length=80)
    contact_phone: str = Field(default="", max_length=20)
    contact_email: str = Field(default="", max_length=120)
    referral_notes: str = Field(default="", max_length=500)

    @property
    def has_contact(self) -> bool:
        """Whether a correspondant is recorded."""
        return bool(self.contact_name or self.contact_phone or self.contact_email)


@dataclass(frozen=True, slots=True)
class Choice:
    """A code and the label shown on its button."""

    code: str
    label: str


def read_reference_file(path: Path = REFERENCE_FILE) -> dict[str, Any]:
    """Parse the reference data file."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


async def load_reference_data(*, session: AsyncSession, path: Path = REFERENCE_FILE) -> None:
    """Bring the reference tables in line with the file (insert, relabel, deactivate)."""
    data = read_reference_file(path)
    await _sync_items(session, data)
    await _sync_by_code(session, Neighbourhood, data.get("neighbourhoods", []))
    await _sync_by_code(session, Partner, data.get("partners", []))
    await session.flush()


async def _sync_items(session: AsyncSession, data: dict[str, Any]) -> None:
    existing = {(i.kind, i.code): i for i in (await session.exec(select(ReferenceItem))).all()}
    seen: set[tuple[str, str]] = set()
    for kind in Kind:
        for position, entry in enumerate(data.get(kind.value, [])):
            key = (kind.value, entry["code"])
            seen.add(key)
            active = bool(entry.get("enabled", True))
            item = existing.get(key)
            if item is None:
                session.add(
                    ReferenceItem(
                        kind=kind.value,
                        code=entry["code"],
                        label=entry["label"],
                        position=position,
                        active=active,
                    )
                )
            else:
                item.label, item.position, item.active = entry["label"], position, active
    for key, item in existing.items():
        if key not in seen:
            item.active = False


async def _sync_by_code(
    session: AsyncSession, table: type[Neighbourhood] | type[Partner], entries: list[dict]
) -> None:
    rows: Sequence[Any] = (await session.exec(select(table))).all()
    existing = {row.code: row for row in rows}
    seen = set()
    for entry in entries:
        seen.add(entry["code"])
        values = {k: v for k, v in entry.items() if k != "enabled"}
        values["active"] = bool(entry.get("enabled", True))
        if table is Neighbourhood:  # a target removed from the file is removed here too
            values.setdefault("yearly_target", None)
        row = existing.get(entry["code"])
        if row is None:
            session.add(table(**values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
    for code, row in existing.items():
        if code not in seen and not code.startswith("custom-"):
            row.active = False


async def choices(*, session: AsyncSession, kind: Kind) -> list[Choice]:
    """The active entries of one list, in the file's order."""
    rows = await session.exec(
        select(ReferenceItem)
        .where(ReferenceItem.kind == kind.value, col(ReferenceItem.active))
        .order_by(col(ReferenceItem.position))
    )
    return [Choice(r.code, r.label) for r in rows.all()]


async def labels(*, session: AsyncSession, kind: Kind) -> dict[str, str]:
    """Code → label for one list, inactive entries included (old records keep a label), in the
    file's order."""
    rows = await session.exec(
        select(ReferenceItem)
        .where(ReferenceItem.kind == kind.value)
        .order_by(col(ReferenceItem.position), col(ReferenceItem.id))
    )
    return {r.code: r.label for r in rows.all()}


async def active_codes(*, session: AsyncSession, kind: Kind) -> set[str]:
    """The codes a form may offer today."""
    return {c.code for c in await choices(session=session, kind=kind)}


def neighbourhood_name(connection: Executes, neighbourhood_id: int) -> str:
    """A neighbourhood's name, active or not (synchronous, on a connection)."""
    return str(connection.execute(_NEIGHBOURHOOD_NAME, {"id": neighbourhood_id}).scalar_one())


_NEIGHBOURHOOD_TABLE = Neighbourhood.__table__  # type: ignore[attr-defined]
_NEIGHBOURHOOD_NAME = core_select(_NEIGHBOURHOOD_TABLE.c.name).where(
    _NEIGHBOURHOOD_TABLE.c.id == bindparam("id")
)


async def neighbourhoods(*, session: AsyncSession) -> Sequence[Neighbourhood]:
    """Active neighbourhoods, by name."""
    rows = await session.exec(
        select(Neighbourhood).where(col(Neighbourhood.active)).order_by(Neighbourhood.name)
    )
    return rows.all()


async def partners(*, session: AsyncSession, category: str | None = None) -> Sequence[Partner]:
    """Active partners, optionally of one category, by name."""
    query = select(Partner).where(col(Partner.active))
    if category is not None:
        query = query.where(Partner.category == category)
    return (await session.exec(query.order_by(Partner.name))).all()


PARTNER_NAME_MAX = 120


def clean_partner_name(name: str) -> str:
    """A partner's name as typed: one plain line, 120 characters at most."""
    cleaned = plain_text(name)
    if not cleaned or len(cleaned) > PARTNER_NAME_MAX:
        raise DomainError("partner_name_invalid")
    return cleaned


async def add_partner(*, session: AsyncSession, name: str, category: str) -> Partner:
    """A partner typed in the field (« autre »), kept in the directory for next time."""
    cleaned = clean_partner_name(name)
    if category not in await active_codes(session=session, kind=Kind.PARTNER_CATEGORY):
        raise DomainError("choice_invalid")
    existing = (
        await session.exec(select(Partner).where(func.lower(Partner.name) == cleaned.lower()))
    ).first()
    if existing is not None:
        existing.active = True
        return existing
    partner = Partner(code=f"custom-{secrets.token_hex(4)}", name=cleaned, category=category)
    session.add(partner)
    await session.flush()
    return partner


CONTACT_LIMITS = {
    "contact_name": 80,
    "contact_role": 80,
    "contact_phone": 20,
    "contact_email": 120,
    "referral_notes": 500,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_contact_field(name: str, text: str) -> str:
    """One field of a correspondant, checked: a French phone number, an e-mail address, or a
    line of text within its length."""
    if name not in CONTACT_LIMITS:
        raise DomainError("choice_invalid")
    cleaned = plain_text(text, lines=name == "referral_notes")
    if not cleaned or len(cleaned) > CONTACT_LIMITS[name]:
        raise DomainError("contact_field_invalid", limit=CONTACT_LIMITS[name])
    if name == "contact_phone":
        return normalize_phone(cleaned)
    if name == "contact_email":
        if not _EMAIL.match(cleaned):
            raise DomainError("email_invalid")
        return cleaned.lower()
    return cleaned


def may_edit_directory(member: Member) -> bool:
    """Only coordinators add partners and edit correspondants."""
    return member.is_coordinator


def update_contact(partner: Partner, name: str, value: str | None) -> None:
    """Set (or with None, clear) one field of the partner's correspondant."""
    setattr(partner, name, "" if value is None else clean_contact_field(name, value))
