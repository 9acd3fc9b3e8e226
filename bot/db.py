"""The one async engine, its sessions, SQLite pragmas, and Alembic migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Generator
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool, StaticPool
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "aveq_read_only"
BEGIN = "BEGIN IMMEDIATE"
BUSY_WAIT: Final = 0.001  # seconds between two tries while another process writes to SQLite

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
    transaction mode (sqlalchemy#10226); the bot talks to PostgreSQL directly. An update takes
    two connections from the pool: the ping was six of its twelve round trips.
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
    if not is_memory_sqlite(url):  # another connection sees it: writes on the loop's thread
        _inline_engine(engine, background_checkpoints=background_checkpoints)
    return engine


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """The standard library's `sqlite3` behind the async engine, called in the event loop's
    own thread: SQLAlchemy's async layer runs it in a greenlet that never waits.

    The writing transactions of a SQLite file run on it (`_OneWriterAtATime`): saving a
    person through aiosqlite was about 60 hand-offs to its thread and back, each waiting for
    a free core under load, and that one update of the /nouveau flow was the p99 (issue 18:
    29 ms of CPU and 95 ms p50 under a load of 7 on 2 cores; after: see docs/performance.md).
    A write transaction holds SQLite's only write lock anyway: a thread gained nothing.
    Reads (reports, exports, indicators: long) stay on aiosqlite, beside the loop."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[Pool]:  # noqa: ARG003
        """A pool that waits with the loop free (never the case: one writer at a time)."""
        return AsyncAdaptedQueuePool


registry.register("sqlite.inline", __name__, "InlineSQLiteDialect")


class _Ready(Awaitable[None]):
    """An awaitable already done: awaiting it never gives the loop a turn."""

    def __await__(self) -> Generator[Any, None, None]:
        return (yield from ())


_READY: Final = _Ready()


class _InlineCursor(sqlite3.Cursor):
    """`sqlite3`'s cursor, as SQLAlchemy's async engine expects an async driver's to be."""

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        """Run the statement; SQLAlchemy's `AsyncConnection.execute` insists on an await."""
        await_(_READY)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
        """Run the statement for each set of parameters (one await, as `execute`)."""
        await_(_READY)
        return super().executemany(sql, seq_of_parameters)

    async def _async_soft_close(self) -> None:
        """Nothing to do: SQLAlchemy's async results call it on an async driver's cursor."""


class _InlineConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _InlineCursor) -> Any:
        """A cursor SQLAlchemy's async results accept."""
        return super().cursor(factory)


def _begin_when_free(conn: Any) -> None:
    """BEGIN IMMEDIATE on the loop's thread: while another process holds SQLite's write lock,
    try again every millisecond with the loop free, up to SQLite's usual busy timeout (this
    connection never waits inside SQLite: `busy_timeout=0`)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.exec_driver_sql(BEGIN)
            return
        except OperationalError as error:
            code = getattr(error.orig, "sqlite_errorcode", None)
            if code != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        await_(asyncio.sleep(BUSY_WAIT))


def _inline_engine(engine: AsyncEngine, *, background_checkpoints: bool) -> AsyncEngine:
    """The same SQLite file, through `InlineSQLiteDialect`, disposed of with `engine`."""
    url = make_url(engine.url).set(drivername="sqlite+inline")
    inline = create_async_engine(url, connect_args={"factory": _InlineConnection})
    pragmas = sqlite_pragmas(background_checkpoints=background_checkpoints)

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        pragmas(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    event.listen(inline.sync_engine, "connect", on_connect)
    event.listen(inline.sync_engine, "begin", _begin_when_free)
    event.listen(engine.sync_engine, "engine_disposed", lambda _: inline.sync_engine.dispose())
    _INLINE[engine.sync_engine] = inline
    return inline


_INLINE: weakref.WeakKeyDictionary[Engine, AsyncEngine] = weakref.WeakKeyDictionary()


class _OneWriterAtATime(async_sessionmaker[AsyncSession]):
    """SQLite has one writer at a time. Writing transactions of this process queue on an
    asyncio lock instead of in SQLite's busy handler, which sleeps up to 100 ms between tries:
    measured, chats handled concurrently were slower than one at a time without it. On a
    file, they run in the loop's thread (`InlineSQLiteDialect`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, class_=AsyncSession, expire_on_commit=False)
        self._writer = asyncio.Lock()
        self._inline = _INLINE.get(engine.sync_engine)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        """A writing transaction, once the previous one of this process has ended."""
        async with self._writer:
            if self._inline is None:
                async with super().begin() as session:
                    yield session
            else:
                async with self(bind=self._inline) as session, session.begin():
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
