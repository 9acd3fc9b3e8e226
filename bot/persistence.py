"""PTB persistence over the bot's own database: conversation states and drafts survive restarts
and are shared by every replica.

Only `user_data` (drafts, stored encrypted) and conversation states are stored; chat data, bot
data and callback data are not used. The drafts and the conversation's next state are
written with the update's mark before the answer (`write_ahead`, from `checkpoint`), so a
process killed mid-conversation loses nothing that was answered; `after_update` then writes
what a handler changed without writing it ahead (usually nothing), instead of PTB's pass.

Nothing is loaded at start: each update's access check (`check`) reads, in one short read,
the sender's membership, whether the update was handled already and, for a member, the chat's
drafts and states, so with several replicas any of them continues a conversation another one
began. On a SQLite file, when no other connection wrote since this member's last update in
the chat ended (`after_update` → `settled`), only the update's mark is read
(`SqliteHotPath.access`). These reads and writes take `bot.hotpath`: on a SQLite file
synchronous, in the loop's thread; on PostgreSQL asyncpg connections of their own, without
SQLAlchemy's async engine.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import Application, BasePersistence, ConversationHandler, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot import drafts
from bot.context import Clock
from bot.db import Sessions, make_read_sessions, read_only, writer_lock
from bot.hotpath import PostgresHotPath, SqliteHotPath
from models import botstate, team
from models.base import Executes
from models.botstate import ChatState, Write
from models.team import Member

T = TypeVar("T")
NOTHING = json.dumps(None)  # how an absent conversation state is remembered as written


@dataclass(frozen=True, slots=True)
class Ahead:
    """What an update writes ahead of its answer: a member's drafts, the next state of one
    conversation in a chat (None: ended), and the update as handled."""

    user_id: int
    data: dict[Any, Any]
    conversation: str
    key: ConversationKey
    state: object | None
    update_id: int


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Stores drafts and conversation states in `user_state` and `conversation_state`."""

    def __init__(self, sessions: Sessions, clock: Clock, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions
        self._clock = clock
        engine = sessions.kw["bind"]
        self._dialect: str = engine.dialect.name
        self._read_engine = read_only(engine)
        self._reads = make_read_sessions(engine)
        self._hot = SqliteHotPath.for_engine(
            engine, writer_lock(sessions)
        ) or PostgresHotPath.for_engine(engine)
        self._members = team.KnownMembers()  # the async path's (the hot path has its own)
        # What was last written, so neither `after_update` nor PTB's pass (once a minute)
        # writes it again.
        self._written_users: dict[int, str] = {}
        self._written_conversations: dict[tuple[str, str], str] = {}

    async def check(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        user_id: int,
        chat_id: int,
        update_id: int,
    ) -> tuple[Member | None, bool, ChatState | None]:
        """The access check's read: the active member who sent the update (or None), whether
        the update was handled already, and for a member's new update the chat's state, which
        then replaces what this process held (another replica may have moved it on); None
        instead when what it holds is the database's (on SQLite, nothing else wrote since:
        `SqliteHotPath.access`)."""
        if self._hot is not None:
            member, seen, found = await self._hot.access(
                user_id=user_id, chat_id=chat_id, update_id=update_id
            )
        else:
            async with self._read_engine.connect() as connection:
                member, seen, found = await team.access_check(
                    connection=connection, user_id=user_id, chat_id=chat_id, update_id=update_id,
                    known=self._members,
                )  # fmt: skip
        if found is not None:
            self._replace_chat(application, user_id=user_id, chat_id=chat_id, found=found)
        return member, seen, found

    async def _commit(self, writes: Sequence[Write]) -> None:
        """These writes, committed together."""
        if self._hot is not None:
            await self._hot.write(writes)
            return
        async with self._sessions.begin() as session:  # SQLite in memory: its writer lock
            await _execute(await session.connection(), writes)

    def _ahead(self, ahead: Ahead) -> tuple[list[Write], Callable[..., None]]:
        """The write-ahead's statements, and what to call once they are committed."""
        user_id, data = ahead.user_id, ahead.data
        user_json, state_json = json.dumps(data), json.dumps(ahead.state)
        slot = (ahead.conversation, botstate.encode_key(ahead.key))
        now, dialect = self._clock(), self._dialect
        writes = [
            botstate.user_data_write(dialect, user_id=user_id, data=data, now=now, plain=user_json)
        ]
        if self._written_conversations.get(slot, NOTHING) != state_json:  # most steps: same
            writes.append(
                botstate.conversation_write(
                    dialect, name=ahead.conversation, key=ahead.key, state=ahead.state, now=now
                )
            )
        writes.append(botstate.processed_write(dialect, update_id=ahead.update_id, now=now))

        def remember(*_: object) -> None:
            self._written_users[user_id] = user_json
            self._written_conversations[slot] = state_json

        return writes, remember

    async def write_ahead(self, ahead: Ahead, *, session: AsyncSession | None = None) -> None:
        """Commit a member's drafts, one conversation state and the update as handled, together,
        before answering. With `session`, these writes join the caller's transaction (the one
        saving a record), and count as written once it commits."""
        writes, remember = self._ahead(ahead)
        if session is not None:
            await _execute(await session.connection(), writes)
            event.listen(session.sync_session, "after_commit", remember, once=True)
            return
        await self._commit(writes)
        remember()

    async def save_ahead(self, work: Callable[[Executes], T], ahead: Ahead) -> T:
        """`work` (a record's checks and writes, on a synchronous connection) and the
        write-ahead, committed together before answering; what `work` returned. On a SQLite
        file, in the loop's thread (`bot.hotpath`); otherwise through the async engine (on
        PostgreSQL, 1 update in 11 of /nouveau: the hot path's p50 does not need it)."""
        writes, remember = self._ahead(ahead)
        if isinstance(self._hot, SqliteHotPath):
            result = await self._hot.save(work, writes)
        else:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                result = await connection.run_sync(work)
                await _execute(connection, writes)
        remember()
        return result

    async def read(self, work: Callable[[Executes], T]) -> T:
        """A short read (`work`, on a synchronous connection) for an update: on a SQLite file
        in the loop's thread (`bot.hotpath`), otherwise on the async engine's read-only
        connection."""
        if isinstance(self._hot, SqliteHotPath):
            return await self._hot.read(work)
        async with self._read_engine.connect() as connection:
            return await connection.run_sync(work)

    async def after_update(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        user_id: int,
        chat_id: int,
        update_id: int,
        marked: bool,
    ) -> None:
        """After a member's update: what its handlers changed and did not write ahead (the
        member's drafts, their conversations' states in this chat) and, unless `marked`, the
        update as handled, in one commit; nothing at all when everything was written ahead.

        This replaces PTB's own persistence pass after each update, which deep-copied the
        drafts and held one lock for every chat across a `gather` of its writes: with 200
        chats at once, each update's pass waited for the event loop's turn behind all the
        others' (issue 18). PTB's pass still runs once a minute, and finds nothing new."""
        now, dialect = self._clock(), self._dialect
        writes: list[Write] = []
        data = application.user_data.get(user_id) or {}
        user_json = json.dumps(data)
        if self._written_users.get(user_id, "{}") != user_json:
            writes.append(
                botstate.user_data_write(
                    dialect, user_id=user_id, data=data, now=now, plain=user_json
                )
            )
        key = (chat_id, user_id)
        encoded = botstate.encode_key(key)
        states: list[tuple[tuple[str, str], str]] = []
        for name, conversations in application._conversation_handler_conversations.items():
            state = conversations.data.get(key)  # PTB's TrackingDict: its plain dict, read
            state_json = NOTHING if state is None else json.dumps(state)
            if self._written_conversations.get((name, encoded), NOTHING) != state_json:
                writes.append(
                    botstate.conversation_write(dialect, name=name, key=key, state=state, now=now)
                )
                states.append(((name, encoded), state_json))
        if not marked:
            writes.append(botstate.processed_write(dialect, update_id=update_id, now=now))
        if writes:
            await self._commit(writes)
            self._written_users[user_id] = user_json
            self._written_conversations.update(states)
        if self._hot is not None:
            self._hot.settled(user_id=user_id, chat_id=chat_id)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Nothing at start: each member's drafts are read with their update (`check`)."""
        return {}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store one member's drafts (an empty dict leaves no row), unless already stored."""
        encoded = json.dumps(data)
        if self._written_users.get(user_id, "{}") == encoded:
            return
        now = self._clock()
        await self._commit(
            [botstate.user_data_write(self._dialect, user_id=user_id, data=data, now=now)]
        )
        self._written_users[user_id] = encoded

    async def drop_user_data(self, user_id: int) -> None:
        """Forget a member's drafts."""
        now = self._clock()
        await self._commit(
            [botstate.user_data_write(self._dialect, user_id=user_id, data={}, now=now)]
        )
        self._written_users.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Done by `check`, once it knows the sender is a member."""

    async def get_conversations(self, name: str) -> ConversationDict:
        """Nothing at start: each chat's states are read with its update (`check`)."""
        return {}

    def _replace_chat(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        user_id: int,
        chat_id: int,
        found: ChatState,
    ) -> None:
        """Replace what this process holds of a member's drafts and of their conversations'
        states in `chat_id` with what the database holds."""
        key = (chat_id, user_id)
        user_data = application.user_data[user_id]
        user_data.clear()
        user_data.update(found.user_data or {})
        if found.user_data:
            self._written_users[user_id] = found.user_json
        else:
            self._written_users.pop(user_id, None)
        encoded = botstate.encode_key(key)
        # PTB's own dicts of each persistent conversation, written without marking them as
        # changed (nothing needs writing back): a private attribute of PTB 22.
        conversations = application._conversation_handler_conversations
        for name, states in conversations.items():
            state = found.conversations.get(name)
            if state is None or state == ConversationHandler.END:
                states.data.pop(key, None)
                self._written_conversations[(name, encoded)] = NOTHING
            else:
                states.data[key] = state
                self._written_conversations[(name, encoded)] = json.dumps(state)

    async def expire_drafts(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        now: dt.datetime,
        idle: dt.timedelta,
    ) -> list[tuple[int, int, dict[str, Any]]]:
        """Drop every draft idle for longer than `idle`, read from the database (any replica
        may have touched it last), here and in this process's copy (which PTB's own pass
        would otherwise write back): (user id, chat id, the draft) of each one dropped."""
        async with self._reads() as session:  # most sweeps find nothing: no write lock
            stored = await botstate.load_user_data(session=session)
        if not any(drafts.expired(stored, now=now, idle=idle)):
            return []
        dropped: list[tuple[int, int, dict[str, Any]]] = []
        async with self._sessions.begin() as session:
            stored = await botstate.load_user_data(session=session)
            for user_id, form, chat_id in list(drafts.expired(stored, now=now, idle=idle)):
                dropped.append((user_id, chat_id, drafts.drop(stored[user_id], form) or {}))
            for user_id in {user_id for user_id, _, _ in dropped}:
                data = stored[user_id]
                await botstate.save_user_data(session=session, user_id=user_id, data=data, now=now)
        for user_id in {user_id for user_id, _, _ in dropped}:
            self._written_users[user_id] = json.dumps(stored[user_id])
            if user_id in application.user_data:
                application.user_data[user_id].clear()
                application.user_data[user_id].update(stored[user_id])
        return dropped

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store (or delete, when ended) one conversation state, unless already stored."""
        slot, encoded = (name, botstate.encode_key(key)), json.dumps(new_state)
        if self._written_conversations.get(slot) == encoded:
            return
        write = botstate.conversation_write(
            self._dialect, name=name, key=key, state=new_state, now=self._clock()
        )
        await self._commit([write])
        self._written_conversations[slot] = encoded

    # Chat data, bot data and callback data are not stored.
    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Not stored."""
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not stored."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not stored."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not stored."""

    async def get_bot_data(self) -> dict[Any, Any]:
        """Not stored."""
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not stored."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not stored."""

    async def get_callback_data(self) -> CDCData | None:
        """Not stored."""
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        """Not stored."""

    async def flush(self) -> None:
        """Every write is already committed: close the hot path's connections (at shutdown)."""
        if self._hot is not None:
            await self._hot.close()


async def _execute(connection: AsyncConnection, writes: Sequence[Write]) -> None:
    """These statements, in order, in the connection's transaction (the async twin of
    `bot.hotpath`'s run of them)."""
    for statement, params in writes:
        await connection.execute(statement, params)
