"""An update's own reads and writes on SQLite, synchronous, in the event loop's thread.

Every member's update reads the same things (is the sender a member, was this update handled
already, the chat's drafts and conversation states) and writes the same things before its
answer (the drafts, the conversation's next state, the update as handled). On SQLite these
go through the standard library's `sqlite3`, called directly from the loop: a read is about
20 µs, a committed write-ahead about 60 µs (WAL, `synchronous=NORMAL`: no fsync per commit).
Through aiosqlite each statement was a hand-off to its thread and back to the loop, about
100 µs each when a core is free and milliseconds when both are busy (p50 rose 6.5× under
CPU contention), and SQLAlchemy's async session around them cost more than the SQL. Measured
with `python -m bench --peers` (docs/performance.md): p50 one at a time 1.74 → see the table.

Everything else (reports, exports, jobs, the web page, a write that saves a record together
with the write-ahead) stays on the async engine. PostgreSQL takes the async path for all.

Why it is safe to block the loop here:
- reads never wait: WAL lets them run beside a writer;
- a write first takes this process's writer lock (`bot.db.writer_lock`), the one every async
  writing session of this process takes, so no writer of ours holds SQLite's lock while the
  loop waits; another process writing (a CLI command) makes it wait at most that
  process's transaction (`busy_timeout`).
The statements are the models' own (`models.team.access_check_now`,
`models.botstate.load_chat_state_now`, `models.botstate.*_write`): one definition of each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db
from models import botstate, team
from models.botstate import ChatState, Write
from models.team import Member


class SqliteHotPath:
    """The access check and the write-ahead of every update, on SQLite's own driver."""

    def __init__(self, engine: Engine, writer: asyncio.Lock) -> None:
        self._engine = engine
        self._writer = writer

    @classmethod
    def for_engine(cls, engine: AsyncEngine, writer: asyncio.Lock | None) -> SqliteHotPath | None:
        """The hot path of a SQLite file database (None for PostgreSQL, or an in-memory
        SQLite that another connection could not see)."""
        if engine.dialect.name != "sqlite" or writer is None or db.is_memory_sqlite(engine.url):
            return None
        url = make_url(engine.url).set(drivername="sqlite")
        # Autocommit: reads begin nothing; writes say BEGIN IMMEDIATE and COMMIT themselves.
        # Pooled connections are checked in after each use, with nothing to reset.
        sync = create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
        event.listen(sync, "connect", db.sqlite_pragmas(background_checkpoints=False))
        return cls(sync, writer)

    def access(
        self, *, user_id: int, chat_id: int, update_id: int
    ) -> tuple[Member | None, bool, ChatState | None]:
        """The active member who sent this update (or None), whether it was handled already,
        and, for a member's new update, the chat's state: one short read."""
        with self._engine.connect() as connection:
            member, seen = team.access_check_now(
                connection=connection, telegram_user_id=user_id, update_id=update_id
            )
            if member is None or seen:
                return member, seen, None
            state = botstate.load_chat_state_now(
                connection=connection, user_id=user_id, key=(chat_id, user_id)
            )
        return member, seen, state

    async def write(self, writes: Sequence[Write]) -> None:
        """Commit these statements together, once no other writer of this process is on."""
        async with self._writer:
            with self._engine.connect() as connection:
                raw = connection.connection.dbapi_connection
                connection.exec_driver_sql(db.BEGIN)
                try:
                    for statement, params in writes:
                        connection.execute(statement, params)
                    connection.exec_driver_sql("COMMIT")
                except BaseException:
                    if raw is not None and raw.in_transaction:
                        connection.exec_driver_sql("ROLLBACK")
                    raise

    def close(self) -> None:
        """Close the pooled connections."""
        self._engine.dispose()
