"""Conversation state and drafts, so a restart never loses an answer (PTB persistence rows)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from sqlalchemy import BigInteger, Column, Text, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, dialect_of


class ConversationState(SQLModel, table=True):
    """The state of one ConversationHandler for one (chat, user) key."""

    __tablename__ = "conversation_state"

    name: str = Field(max_length=40, primary_key=True)
    key: str = Field(max_length=80, primary_key=True)
    state: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class UserState(SQLModel, table=True):
    """A member's in-progress drafts (PTB `user_data`), as JSON."""

    __tablename__ = "user_state"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    data: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update already handled: a redelivered or retried update is ignored."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: dt.datetime = Field(sa_type=UTCDateTime)


async def mark_processed(*, session: AsyncSession, update_id: int, now: dt.datetime) -> None:
    """Remember that this update was handled."""
    columns, keys = ("update_id", "at"), ("update_id",)
    statement = _upsert(dialect_of(session), ProcessedUpdate, columns, keys, update=False)
    await _write(session, statement, {"update_id": update_id, "at": now})


async def purge_processed(*, session: AsyncSession, before: dt.datetime) -> int:
    """Forget handled updates older than `before` (Telegram keeps updates 24 hours)."""
    result = await session.exec(delete(ProcessedUpdate).where(col(ProcessedUpdate.at) < before))
    return result.rowcount or 0


class AppSetting(SQLModel, table=True):
    """Small facts the bot learns at run time (e.g. its username, for invitation links)."""

    __tablename__ = "app_setting"

    key: str = Field(max_length=40, primary_key=True)
    value: str = Field(max_length=200)


def encode_key(key: tuple[int | str, ...]) -> str:
    """A conversation key as a string column."""
    return json.dumps(list(key))


def decode_key(text: str) -> tuple[int | str, ...]:
    """Back from the string column."""
    return tuple(json.loads(text))


async def load_conversations(*, session: AsyncSession, name: str) -> dict[tuple, Any]:
    """Every stored state of one conversation."""
    rows = await session.exec(select(ConversationState).where(ConversationState.name == name))
    return {decode_key(r.key): json.loads(r.state) for r in rows.all()}


async def _write(session: AsyncSession, statement: UpdateBase, params: dict[str, Any]) -> None:
    """Run a prebuilt statement on the session's connection: SQLAlchemy Core, not the ORM's
    bulk path, which annotates (and so re-keys) the statement on every call."""
    connection = await session.connection()
    await connection.execute(statement, params)


# The statements below run on every update: built once (per dialect) with bound parameters,
# so SQLAlchemy neither rebuilds them nor recomputes their cache key each time.
@functools.cache
def _upsert(
    dialect: str,
    table: type[SQLModel],
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    *,
    update: bool = True,
) -> UpdateBase:
    """INSERT ... ON CONFLICT DO UPDATE the other columns (or DO NOTHING): one statement."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values({c: bindparam(c) for c in columns})
    updates = {c: statement.excluded[c] for c in columns if c not in keys}
    if not update or not updates:
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


_DELETE_CONVERSATION = delete(ConversationState).where(
    col(ConversationState.name) == bindparam("name"),
    col(ConversationState.key) == bindparam("key"),
)
_DELETE_USER = delete(UserState).where(col(UserState.user_id) == bindparam("user_id"))


async def save_conversation(
    *, session: AsyncSession, name: str, key: tuple, state: object | None, now: dt.datetime
) -> None:
    """Store (or, for a finished conversation, delete) one state."""
    encoded = encode_key(key)
    if state is None:
        await _write(session, _DELETE_CONVERSATION, {"name": name, "key": encoded})
        return
    values = {"name": name, "key": encoded, "state": json.dumps(state), "updated_at": now}
    columns = ("name", "key", "state", "updated_at")
    statement = _upsert(dialect_of(session), ConversationState, columns, ("name", "key"))
    await _write(session, statement, values)


async def load_user_data(*, session: AsyncSession) -> dict[int, dict]:
    """Every member's drafts."""
    rows = await session.exec(select(UserState))
    return {r.user_id: json.loads(r.data) for r in rows.all()}


async def save_user_data(
    *, session: AsyncSession, user_id: int, data: dict, now: dt.datetime
) -> None:
    """Store one member's drafts; an empty dict stores nothing (non-members leave no row)."""
    if not data:
        await drop_user_data(session=session, user_id=user_id)
        return
    values = {"user_id": user_id, "data": json.dumps(data), "updated_at": now}
    columns = ("user_id", "data", "updated_at")
    await _write(session, _upsert(dialect_of(session), UserState, columns, ("user_id",)), values)


async def drop_user_data(*, session: AsyncSession, user_id: int) -> None:
    """Forget one member's drafts."""
    await _write(session, _DELETE_USER, {"user_id": user_id})


async def get_setting(*, session: AsyncSession, key: str) -> str | None:
    """A learnt fact, or None."""
    row = await session.get(AppSetting, key)
    return row.value if row else None


async def set_setting(*, session: AsyncSession, key: str, value: str) -> None:
    """Remember a fact."""
    row = await session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=value))
    else:
        row.value = value
    await session.flush()
