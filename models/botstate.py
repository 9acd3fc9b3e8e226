"""Conversation state and drafts, so a restart never loses an answer (PTB persistence rows).

Drafts hold what a member typed before saving (a first name, a phone, a note, « P-0001
Prénom »): they are stored encrypted with the data key (`models.crypto`), as one token per
member, so neither the database, its backups nor SQLite's write-ahead log hold them in clear.

Every replica reads a chat's state from here at each update (`CHAT_STATE`, within the access
check's one statement, `models.team.ACCESS`), so two processes behind one webhook continue each
other's conversations.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import logging
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    Text,
    bindparam,
    delete,
    event,
    literal_column,
    union_all,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import crypto
from models.base import UTCDateTime, dialect_of
from models.reference import Neighbourhood, Partner, ReferenceItem

logger = logging.getLogger(__name__)

DRAFTS_KEY: Final = "drafts"  # where `bot.drafts` keeps the drafts inside a member's data
REFERENCE_VERSION: Final = "reference_version"


# The key of the two tables every update writes (its drafts, its mark): a 64-bit integer, on
# SQLite declared INTEGER, so that it is the row's own id and each write changes one B-tree,
# not a table and its key's index (`bench/`: a write-ahead's transaction 17 -> 11 µs, issue 18).
ROWID_KEY = BigInteger().with_variant(Integer(), "sqlite")


class ConversationState(SQLModel, table=True):
    """The state of one ConversationHandler for one (chat, user) key."""

    __tablename__ = "conversation_state"

    name: str = Field(max_length=40, primary_key=True)
    # Read by key alone, every update (`CHAT_STATE`): an index of its own.
    key: str = Field(max_length=80, primary_key=True, index=True)
    state: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class UserState(SQLModel, table=True):
    """A member's in-progress drafts (PTB `user_data`): JSON, encrypted (a Fernet token)."""

    __tablename__ = "user_state"

    user_id: int = Field(sa_column=Column(ROWID_KEY, primary_key=True, autoincrement=False))
    data: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update already handled: a redelivered or retried update is ignored."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(ROWID_KEY, primary_key=True, autoincrement=False))
    at: dt.datetime = Field(sa_type=UTCDateTime)


async def mark_processed(*, session: AsyncSession, update_id: int, now: dt.datetime) -> None:
    """Remember that this update was handled."""
    await _write(session, *processed_write(dialect_of(session), update_id=update_id, now=now))


def processed_write(dialect: str, *, update_id: int, now: dt.datetime) -> Write:
    """The statement (and its parameters) remembering that this update was handled."""
    columns, keys = ("update_id", "at"), ("update_id",)
    statement = _upsert(dialect, ProcessedUpdate, columns, keys, update=False)
    return statement, {"update_id": update_id, "at": now}


async def purge_processed(*, session: AsyncSession, before: dt.datetime) -> int:
    """Forget handled updates older than `before` (Telegram keeps updates 24 hours)."""
    result = await session.exec(delete(ProcessedUpdate).where(col(ProcessedUpdate.at) < before))
    return result.rowcount or 0


class AppSetting(SQLModel, table=True):
    """Small facts the bot learns at run time (e.g. its username, for invitation links)."""

    __tablename__ = "app_setting"

    key: str = Field(max_length=40, primary_key=True)
    value: str = Field(max_length=200)


@functools.lru_cache(maxsize=4096)  # read and written with every update of its chat
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


Write = tuple[UpdateBase, dict[str, Any]]  # a prebuilt statement and its parameters


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
    write = conversation_write(dialect_of(session), name=name, key=key, state=state, now=now)
    await _write(session, *write)


def conversation_write(
    dialect: str, *, name: str, key: tuple, state: object | None, now: dt.datetime
) -> Write:
    """The statement storing (or, for a finished conversation, deleting) one state."""
    encoded = encode_key(key)
    if state is None:
        return _DELETE_CONVERSATION, {"name": name, "key": encoded}
    values = {"name": name, "key": encoded, "state": json.dumps(state), "updated_at": now}
    columns = ("name", "key", "state", "updated_at")
    return _upsert(dialect, ConversationState, columns, ("name", "key")), values


# The last token this process sealed for each member (with the keys of the moment), and its
# JSON: a member's next update reads back the token their last one wrote, and decrypting it
# (Fernet: HMAC, then AES) was the largest cost of that read (issue 18). Another replica's
# token, or any token once the keys changed, is decrypted as before.
_SEALED: dict[int, tuple[MultiFernet, str, str]] = {}
REMEMBERED_TOKENS: Final = 10_000  # a team is tens of people


def seal(data: dict, *, user_id: int | None = None, plain: str | None = None) -> str:
    """A member's data as stored: JSON (`plain`, when the caller has it already), encrypted
    with the newest data key (remembered for `unseal` when `user_id` is given)."""
    plain = json.dumps(data) if plain is None else plain
    token = crypto.encrypt(plain)
    if user_id is not None:
        if len(_SEALED) >= REMEMBERED_TOKENS:
            _SEALED.clear()
        _SEALED[user_id] = (crypto.cipher(), token, plain)
    return token


def unseal(stored: str, *, user_id: int) -> dict:
    """Back from `seal`. Rows written before drafts were encrypted are plain JSON; a token no
    configured key opens (a key retired meanwhile) is an abandoned draft: nothing."""
    return opened(stored, user_id=user_id)[0]


def opened(stored: str, *, user_id: int) -> tuple[dict, str]:
    """`unseal`'s data, and its JSON."""
    if stored.startswith("{"):
        return dict(json.loads(stored)), stored
    sealed = _SEALED.get(user_id)
    if sealed is not None and sealed[1] == stored and sealed[0] is crypto.cipher():
        return dict(json.loads(sealed[2])), sealed[2]
    try:
        plain = crypto.decrypt(stored)
        return dict(json.loads(plain)), plain
    except (InvalidToken, ValueError):
        logger.warning("Drafts of user %s could not be read; they are dropped", user_id)
        return {}, "{}"


async def load_user_data(*, session: AsyncSession) -> dict[int, dict]:
    """Every member's drafts (none for a member whose drafts no configured key opens)."""
    rows = await session.exec(select(UserState))
    loaded = {r.user_id: unseal(r.data, user_id=r.user_id) for r in rows.all()}
    return {user_id: data for user_id, data in loaded.items() if data}


async def save_user_data(
    *, session: AsyncSession, user_id: int, data: dict, now: dt.datetime
) -> None:
    """Store one member's drafts, encrypted; an empty dict stores nothing (non-members leave
    no row)."""
    await _write(
        session, *user_data_write(dialect_of(session), user_id=user_id, data=data, now=now)
    )


def user_data_write(
    dialect: str, *, user_id: int, data: dict, now: dt.datetime, plain: str | None = None
) -> Write:
    """The statement storing one member's drafts (`plain`: their JSON, when the caller has it),
    encrypted (deleting the row when empty)."""
    if not data:
        _SEALED.pop(user_id, None)  # no copy of a dropped draft lingers in memory either
        return _DELETE_USER, {"user_id": user_id}
    token = seal(data, user_id=user_id, plain=plain)
    values = {"user_id": user_id, "data": token, "updated_at": now}
    columns = ("user_id", "data", "updated_at")
    return _upsert(dialect, UserState, columns, ("user_id",)), values


async def drop_user_data(*, session: AsyncSession, user_id: int) -> None:
    """Forget one member's drafts."""
    _SEALED.pop(user_id, None)
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


def _names_person(value: Any, person_ids: Collection[int]) -> bool:
    """Whether a draft (or any part of it) holds one of `person_ids` as a person id."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "person_id" and inner in person_ids:
                return True
            if key == "person_ids" and isinstance(inner, list):
                if any(i in person_ids for i in inner):
                    return True
            elif _names_person(inner, person_ids):
                return True
    elif isinstance(value, list):
        return any(_names_person(inner, person_ids) for inner in value)
    return False


async def forget_people_in_drafts(
    *, session: AsyncSession, person_ids: Collection[int], now: dt.datetime | None = None
) -> int:
    """Drop every member's draft that names one of these people (they are being erased or
    anonymised); the member's conversation then ends at its next answer. Returns drafts
    dropped."""
    wanted = set(person_ids)
    if not wanted:
        return 0
    dropped = 0
    for user_id, data in (await load_user_data(session=session)).items():
        drafts = data.get(DRAFTS_KEY)
        if not isinstance(drafts, dict):
            continue
        naming = [form for form, draft in drafts.items() if _names_person(draft, wanted)]
        if not naming:
            continue
        for form in naming:
            del drafts[form]
        if not drafts:
            del data[DRAFTS_KEY]
        dropped += len(naming)
        stamp = now or dt.datetime.now(dt.UTC)
        await save_user_data(session=session, user_id=user_id, data=data, now=stamp)
    return dropped


async def reencrypt_drafts(*, session: AsyncSession, rotating: MultiFernet) -> int:
    """Re-encrypt every member's drafts with `rotating`'s newest key (key rotation: drafts are
    one token per member, not an `EncryptedText` column); drafts no key opens are dropped.
    Returns rows rewritten or dropped."""
    connection = await session.connection()
    rows = (await connection.execute(core_select(_USER.c.user_id, _USER.c.data))).all()
    for user_id, stored in rows:
        try:
            if stored.startswith("{"):  # written before drafts were encrypted
                fresh = rotating.encrypt(stored.encode()).decode()
            else:
                fresh = rotating.rotate(stored.encode()).decode()
        except InvalidToken:  # no key opens it: an abandoned draft
            await drop_user_data(session=session, user_id=user_id)
            continue
        await connection.execute(
            _USER.update().where(_USER.c.user_id == user_id).values(data=fresh)
        )
    return len(rows)


async def forget_person_in_drafts(*, session: AsyncSession, person_id: int) -> int:
    """Drop every member's draft that names this person. Returns drafts dropped."""
    return await forget_people_in_drafts(session=session, person_ids=[person_id])


@dataclass(slots=True)
class ChatState:
    """What one update needs of the database's view of its chat: the member's drafts (None:
    no row), each conversation's state for the chat, and the reference data's version."""

    user_data: dict | None = None
    user_json: str = "{}"  # the drafts' JSON, as stored (before encryption)
    conversations: dict[str, object] = field(default_factory=dict)
    reference_version: str | None = None


_CONVERSATION = ConversationState.__table__  # type: ignore[attr-defined]
_USER = UserState.__table__  # type: ignore[attr-defined]
_SETTING = AppSetting.__table__  # type: ignore[attr-defined]
# Built once, SQLAlchemy Core, one round trip: it runs on every member's update.
CHAT_STATE = union_all(
    core_select(
        literal_column("'c'").label("kind"), _CONVERSATION.c.name, _CONVERSATION.c.state
    ).where(_CONVERSATION.c.key == bindparam("key")),
    core_select(literal_column("'u'"), literal_column("''"), _USER.c.data).where(
        _USER.c.user_id == bindparam("user_id")
    ),
    core_select(literal_column("'v'"), literal_column("''"), _SETTING.c.value).where(
        _SETTING.c.key == REFERENCE_VERSION
    ),
)


async def load_chat_state(
    *, connection: AsyncConnection, user_id: int, key: tuple[int | str, ...]
) -> ChatState:
    """A member's drafts, their conversations' states for the chat `key`, and the reference
    version, in one query."""
    params = {"key": encode_key(key), "user_id": user_id}
    return chat_state((await connection.execute(CHAT_STATE, params)).all(), user_id=user_id)


def chat_state(rows: Sequence[Sequence[Any]], *, user_id: int) -> ChatState:
    """What `CHAT_STATE` found, read."""
    found = ChatState()
    for kind, name, value in rows:
        if kind == "c":
            found.conversations[name] = json.loads(value)
        elif kind == "u":
            found.user_data, found.user_json = opened(value, user_id=user_id)
        else:
            found.reference_version = value
    return found


async def reference_version(*, session: AsyncSession) -> str | None:
    """The current version of the reference data (changes whenever it changes)."""
    return await get_setting(session=session, key=REFERENCE_VERSION)


_REFERENCE_TABLES: Final = (Partner, Neighbourhood, ReferenceItem)


def _bump_reference_version(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush that adds or changes a partner, neighbourhood or list entry: give the
    reference data a new version, in the same transaction, so every replica's cache
    (`bot.reference_cache`) reloads at its next update."""
    added_or_gone = itertools.chain(session.new, session.deleted)
    if not any(isinstance(row, _REFERENCE_TABLES) for row in added_or_gone) and not any(
        isinstance(row, _REFERENCE_TABLES) and session.is_modified(row) for row in session.dirty
    ):
        return
    connection: Connection = session.connection()
    dialect = connection.dialect.name
    statement = _upsert(dialect, AppSetting, ("key", "value"), ("key",))
    connection.execute(statement, {"key": REFERENCE_VERSION, "value": secrets.token_hex(8)})


event.listen(Session, "before_flush", _bump_reference_version)
