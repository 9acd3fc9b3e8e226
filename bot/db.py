"""The one async engine, its sessions, SQLite pragmas, and Alembic migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "aveq_read_only"
BEGIN = "BEGIN IMMEDIATE"

Sessions = async_sessionmaker[AsyncSession]


def is_memory_sqlite(url: str | URL) -> bool:
    """Whether this SQLite URL names a database in memory (one connection sees it)."""
    database = make_url(url).database
    return database in (None, "", ":memory:") or "mode=memory" in str(url)


def sqlite_pragmas(*, background_checkpoints: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        """WAL, a busy timeout, foreign keys and secure deletion on every new SQLite connection.

        `secure_delete`: what a write removes (an erased first name, a dropped draft) is
        overwritten with zeros, in its page and in freed pages, instead of staying readable in
        the file's free space; `truncate_log` then removes the old copies kept in the log."""
        # pysqlite's own transaction handling would emit BEGIN lazily; SQLAlchemy emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        if background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    return on_connect


def _sqlite_begin_immediate(conn: Any) -> None:
    """Take the write lock at BEGIN: a read-then-write transaction then waits, never fails.
    Read-only sessions (`make_read_sessions`) begin nothing: each read runs on its own, beside
    the writer (WAL), as they do on PostgreSQL."""
    if conn.get_execution_options().get(READ_ONLY, False):
        return
    conn.exec_driver_sql(BEGIN)


def _ping_in_one_round_trip(engine: AsyncEngine) -> None:
    """Check a pooled PostgreSQL connection with one round trip (`;`) instead of three.

    SQLAlchemy's asyncpg adapter wraps its ping in BEGIN and ROLLBACK, for pgbouncer in
    transaction mode (sqlalchemy#10226); the bot talks to PostgreSQL directly. An update's
    access check and write-ahead take no connection of this pool (`bot.hotpath`); the save
    of /nouveau and its duplicate check take one each, as do reports, jobs and exports.
    """
    dialect = engine.sync_engine.dialect

    def do_ping(dbapi_connection: Any) -> bool:
        try:
            await_(dbapi_connection._connection.fetchrow(";"))
        except Exception as error:  # asyncpg's, made the DBAPI error SQLAlchemy expects
            dbapi_connection._handle_exception(error)
        return True

    dialect.do_ping = do_ping  # type: ignore[method-assign]


def create_engine(url: str, *, background_checkpoints: bool = False, **kwargs: Any) -> AsyncEngine:
    """Build the async engine for `url`, with the pragmas SQLite needs to behave like a server.

    `background_checkpoints` (the running bot): SQLite no longer copies its write-ahead log
    into the database inside whichever commit crosses 1,000 pages (4 MB), which made that
    update wait several milliseconds; `checkpoint` does it, from a job, beside the updates.
    """
    # An error's message never shows the values of its statement (a first name, a phone).
    kwargs.setdefault("hide_parameters", True)
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        engine = create_async_engine(url, **kwargs)
        if engine.dialect.driver == "asyncpg":
            _ping_in_one_round_trip(engine)
        return engine
    if is_memory_sqlite(url):
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        database = make_url(url).database
        if database:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)
    pragmas = sqlite_pragmas(background_checkpoints=background_checkpoints)
    event.listen(engine.sync_engine, "connect", pragmas)
    event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
    return engine


class _OneWriterAtATime(async_sessionmaker[AsyncSession]):
    """SQLite has one writer at a time. Writing transactions of this process queue on an
    asyncio lock instead of in SQLite's busy handler, which sleeps up to 100 ms between tries:
    measured, chats handled concurrently were slower than one at a time without it."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, class_=AsyncSession, expire_on_commit=False)
        self._writer = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        """A writing transaction, once the previous one of this process has ended."""
        async with self._writer, super().begin() as session:
            yield session


def writer_lock(sessions: Sessions) -> asyncio.Lock | None:
    """The lock every writing transaction of this process takes on SQLite (None otherwise):
    `bot.hotpath` takes it too before writing."""
    return sessions._writer if isinstance(sessions, _OneWriterAtATime) else None


async def checkpoint(engine: AsyncEngine) -> None:
    """Copy SQLite's write-ahead log into the database as far as no reader still needs it,
    without waiting for anyone (PASSIVE); the log is then reused from its start. PostgreSQL
    does its own."""
    if engine.dialect.name != "sqlite":
        return
    async with read_only(engine).connect() as connection:
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


async def truncate_log(engine: AsyncEngine) -> bool:
    """SQLite: copy the whole write-ahead log into the database and empty the log file, so the
    page images it kept from before an erasure are gone from the disk (with `secure_delete`,
    the database file holds no trace either). Waits (busy timeout) for readers and writers of
    the moment. Returns False when one held on longer and the log could not be emptied: the
    next erasure or retention pass, or the last connection closing, empties it.
    PostgreSQL: nothing to do (True)."""
    if engine.dialect.name != "sqlite":
        return True
    async with read_only(engine).connect() as connection:
        result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = result.one()[0]  # then the log's pages, and how many were copied
    if busy:
        logger.warning("The SQLite log could not be emptied after an erasure: still in use")
    return not busy


def make_sessions(engine: AsyncEngine) -> Sessions:
    """One session per unit of work (`.begin()` for writes); objects stay readable after
    commit."""
    if engine.dialect.name == "sqlite":
        return _OneWriterAtATime(engine)
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The engine for reads only, in autocommit: no BEGIN and COMMIT around them (two round
    trips fewer on PostgreSQL, whose default isolation gives each statement its own snapshot
    anyway), and on SQLite no write lock. Never write through it."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name != "sqlite":
        options["isolation_level"] = "AUTOCOMMIT"
    return engine.execution_options(**options)


def make_read_sessions(engine: AsyncEngine) -> Sessions:
    """Sessions over `read_only(engine)`: never write through them."""
    return async_sessionmaker(read_only(engine), class_=AsyncSession, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and at `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the migrations up to `revision`. Synchronous: call it outside a running loop."""
    logger.info("Applying database migrations")
    command.upgrade(alembic_config(url), revision)
