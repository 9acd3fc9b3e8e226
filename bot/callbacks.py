"""Typed callback data: a short prefix plus fields, packed and parsed by one pair of methods.

`Pick("nv", "sex", "female").pack()` → `"pk:nv:sex:female"`; `Pick.unpack(...)` gives it back, or
None for anything forged, truncated or stale. Telegram allows 64 bytes.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:
    from telegram import Update

MAX_CALLBACK_BYTES = 64
_SEPARATOR = ":"
_SAFE = re.compile(r"^[A-Za-z0-9_\-.]*$")


_FIELD_TYPES: dict[type, tuple[tuple[str, object], ...]] = {}


def _field_types(cls: type) -> tuple[tuple[str, object], ...]:
    """Each field's name and type, in order (resolved once per class: every tap parses one)."""
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return _FIELD_TYPES[cls]


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackData:
    """Base of every callback payload. Subclasses set `prefix` and declare int/str fields."""

    prefix: ClassVar[str] = ""

    def pack(self) -> str:
        """The string sent to Telegram."""
        parts = [self.prefix]
        for f in dataclasses.fields(self):
            value = str(getattr(self, f.name))
            if not _SAFE.match(value):
                raise ValueError(f"unsafe callback value for {f.name}")
            parts.append(value)
        data = _SEPARATOR.join(parts)
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError("callback data over 64 bytes")
        return data

    @classmethod
    def unpack(cls, data: object) -> Self | None:
        """Parse `data`, or None when it is not a well-formed payload of this kind."""
        if not isinstance(data, str):
            return None
        parts = data.split(_SEPARATOR)
        fields = _field_types(cls)
        if len(parts) != len(fields) + 1 or parts[0] != cls.prefix:
            return None
        values: dict[str, object] = {}
        for (name, kind), raw in zip(fields, parts[1:], strict=True):
            if not _SAFE.match(raw) or not raw:
                return None
            if kind is int:
                if not raw.isdigit() or len(raw) > 12:
                    return None
                values[name] = int(raw)
            else:
                values[name] = raw
        return cls(**values)

    @classmethod
    def pressed(cls, update: Update) -> Self | None:
        """The payload of the button pressed in `update`: None for no button, or another kind."""
        query = update.callback_query
        return cls.unpack(query.data if query is not None else None)

    @classmethod
    def pattern(cls, *leading: str) -> str:
        """A regex for CallbackQueryHandler matching this kind (and optional leading fields)."""
        head = _SEPARATOR.join([cls.prefix, *leading])
        return f"^{re.escape(head)}{_SEPARATOR}"


@dataclasses.dataclass(frozen=True, slots=True)
class Pick(CallbackData):
    """A choice in a form step: form, step, chosen code."""

    prefix: ClassVar[str] = "pk"
    form: str
    step: str
    value: str


@dataclasses.dataclass(frozen=True, slots=True)
class Nav(CallbackData):
    """A navigation button in a form: back, skip, done, save, edit, cancel..."""

    prefix: ClassVar[str] = "nv"
    form: str
    action: str


@dataclasses.dataclass(frozen=True, slots=True)
class Page(CallbackData):
    """A page of a list."""

    prefix: ClassVar[str] = "pg"
    listing: str
    page: int


@dataclasses.dataclass(frozen=True, slots=True)
class PersonRef(CallbackData):
    """Open a person's card."""

    prefix: ClassVar[str] = "ps"
    action: str
    person_id: int


@dataclasses.dataclass(frozen=True, slots=True)
class MemberRef(CallbackData):
    """An action on a team member (deactivate, confirm)."""

    prefix: ClassVar[str] = "tm"
    action: str
    member_id: int


@dataclasses.dataclass(frozen=True, slots=True)
class FollowUp(CallbackData):
    """A reminder button: what to record, on which orientation, for which reminder (`seq`)."""

    prefix: ClassVar[str] = "fu"
    action: str
    orientation_id: int
    seq: int


@dataclasses.dataclass(frozen=True, slots=True)
class EventRef(CallbackData):
    """An event button: what to do, on which event, on what (a person, a registration, a page
    or an outcome's index; 0 when nothing)."""

    prefix: ClassVar[str] = "ev"
    action: str
    event_id: int
    target: int


@dataclasses.dataclass(frozen=True, slots=True)
class PartnerRef(CallbackData):
    """A directory button: what to do, on which category or partner, and one more value (a
    contact field, a page; "-" when nothing)."""

    prefix: ClassVar[str] = "pa"
    action: str
    key: str
    extra: str = "-"


@dataclasses.dataclass(frozen=True, slots=True)
class ConfirmRef(CallbackData):
    """A mediator's button about a partner confirmation: ask (an orientation, or a person's
    open orientations from the card) or revoke (a request)."""

    prefix: ClassVar[str] = "cr"
    action: str
    target: int


@dataclasses.dataclass(frozen=True, slots=True)
class PartnerReply(CallbackData):
    """A correspondant's button: what (`a` answer, `m` more choices, `r` reason, `d` day),
    its value, and the request's code (the chat keeps nothing else)."""

    prefix: ClassVar[str] = "pc"
    step: str
    value: str
    code: str


@dataclasses.dataclass(frozen=True, slots=True)
class HandoverRef(CallbackData):
    """Handing a departed mediator's people over: pick (`to_id` 0), then confirm."""

    prefix: ClassVar[str] = "ho"
    action: str
    from_id: int
    to_id: int


@dataclasses.dataclass(frozen=True, slots=True)
class PeopleView(CallbackData):
    """A view of /personnes, carried by its buttons so « Retour » finds it again: what to
    show (`ls` the list, `fn`/`fm`/`fs` a filter's choices, `open` a card, `find` the search),
    the page, the filters (0 / "all": none) and the person (0 when none)."""

    prefix: ClassVar[str] = "pl"
    action: str
    page: int = 1
    neighbourhood: int = 0
    mediator: int = 0
    status: str = "all"
    person: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class DigestRef(CallbackData):
    """A digest button: which breakdown, for which week (its Monday as yyyymmdd)."""

    prefix: ClassVar[str] = "dg"
    what: str
    week: int


@dataclasses.dataclass(frozen=True, slots=True)
class InvitationRef(CallbackData):
    """A pending invitation's button under /equipe: revoke, confirm."""

    prefix: ClassVar[str] = "iv"
    action: str
    invitation_id: int
