"""Column types and helpers shared by every table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

UTC = dt.UTC


class HasId(Protocol):
    """A table row with an integer primary key."""

    id: int | None


class Rows(Protocol):
    """What a statement gave back, as the synchronous domain functions read it."""

    def __iter__(self) -> Iterator[Any]: ...

    def first(self) -> Any: ...

    def scalar_one(self) -> Any: ...


class Executes(Protocol):
    """The connection a synchronous domain function writes or reads with: SQLAlchemy's
    `Connection`, or, for an update's own records on a SQLite file, `bot.hotpath`'s (the same
    statements, each compiled once). Statements passed are built once, at import."""

    def execute(self, statement: Any, parameters: Any = None, /) -> Rows: ...


def pk(row: HasId) -> int:
    """The id of a row that has been flushed (a domain function's precondition)."""
    if row.id is None:
        raise ValueError("row has no id yet: flush it first")
    return row.id


def plain_text(text: str, *, lines: bool = False) -> str:
    """What a person meant to type: printable characters only (no control, zero-width or
    direction marks, which a database may refuse and a screen hides), spaces folded; with
    `lines`, line breaks kept between non-empty lines."""
    kept = "".join(c for c in text if c.isprintable() or c.isspace())
    if not lines:
        return " ".join(kept.split())
    return "\n".join(" ".join(line.split()) for line in kept.splitlines() if line.strip())


def dialect_of(session: AsyncSession) -> str:
    """The database a session talks to: "sqlite" or "postgresql"."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware UTC (the default clock)."""
    return dt.datetime.now(UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC instant on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Refuse naive datetimes, store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Give back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
