"""An update's own reads and writes without SQLAlchemy's execution around them: on a SQLite
file synchronous, in the event loop's thread (`SqliteHotPath`); on PostgreSQL through asyncpg
connections of their own (`PostgresHotPath`).

Every member's update reads the same things (is the sender a member, was this update handled
already, the chat's drafts and conversation states; on SQLite, only the mark when nothing else
wrote since: `SqliteHotPath.access`) and writes the same things before its answer (the drafts,
the conversation's next state, the update as handled). On a SQLite file
these run on one plain `sqlite3` connection, called from the loop itself: a bare commit in
WAL mode with `synchronous=NORMAL` costs about 6 µs (issue 18). Through aiosqlite, each
statement was a hand-off to its thread and back to the loop, and under CPU contention each
hand-off waited for a free core: p50 rose 6.5× with both cores busy, 1.05× now.

The statements are the models' own, built once with SQLAlchemy Core (`models.team.ACCESS`,
`models.botstate.CHAT_STATE`, `models.botstate.*_write`), compiled once for SQLite and run
with the same conversions of values SQLAlchemy makes (`Prepared`): SQLAlchemy's execution
machinery around a cached statement cost more than SQLite's work (22 % of an update's CPU in
a cProfile of 780 updates, against 3 % for `sqlite3` itself). The active member is built
again only when their row changed (`models.team.KnownMembers`).

Two more things an update of /nouveau does run here, on the same connection (`save`,
`read`): the save of the person with its write-ahead, and the duplicate check at the first
name. Through the async engine, each of their statements took about 4 hand-offs to
aiosqlite's thread and 0.2–0.45 ms of CPU (a bare SELECT in a session: 0.45 ms, 17 µs
synchronously): the save was 65 turns of the loop and 4.9 ms of CPU, the p99 of the flow.
Through SQLAlchemy's synchronous `Connection` over this connection, 3 turns and 1.3 ms, each
statement still 40–80 µs of SQLAlchemy's execution; now each runs compiled once
(`PreparedConnection`): the save's step p50 0.96 -> 0.69 ms, the first name's 0.59 -> 0.44 ms.
The domain functions they call (`models.people.add_person`, `models.consent.add_decision`,
`models.people.similar_people`) take any `models.base.Executes`: async callers and
PostgreSQL run the same functions on SQLAlchemy's `Connection` (`AsyncConnection.run_sync`).

Measured with `python -m bench --peers --rounds 3` (docs/performance.md), against the
stdlib-sqlite3 peer sending the same messages: p50 one at a time 1.39× (4.4× before the hot
path), p99 1.45× (13.6×), 200 chats at 50 ms 1.17× its rate (0.37×; the taps' answer and edit
sent together count there, `handlers.common.show`).

On PostgreSQL the access check and the write-ahead run the same statements, compiled once for
SQLAlchemy's asyncpg dialect (`Prepared`), on asyncpg connections opened with the engine's own
settings. Through the async engine a SELECT cost 0.72 ms of wall time (the pool's check-out
and its ping, the adapter's hand-offs), through asyncpg 0.11 ms; the write-ahead 1.26 ms and
0.52 ms (issue 18). Two more costs go, each measured interleaved on the same (throttled)
machine: the write-ahead's statements are sent as one (`_together`: data-modifying CTEs,
atomic by themselves), one round trip instead of BEGIN, each statement and COMMIT (a tap's
reads and writes 4.3 -> 3.0 ms); and the connections are kept in a list rather than
`asyncpg.create_pool`, whose check-out and check-in cost a third of that path's CPU (1.66 ->
1.12 ms). Dropping the engine's ping alone bought 10 % (3.6 -> 3.3 ms). A whole update, both
paths alternating in one process: p50 0.47–0.67× main's (3.19 ms quiet), CPU 0.53×
(docs/performance.md). The access check is one statement (`team.ACCESS`), one round trip:
p50 1.16–1.23 ms on a quiet machine, 1.30–2.23 ms with two (`bench --sections updates`).
/nouveau's save and duplicate check (2 updates in 11) stay on the async engine on PostgreSQL.

Everything else (reports, exports, jobs, the web page, other forms' saves) stays on the async
engine.

Why blocking the loop with SQLite is safe:
- reads do not wait: WAL lets them run beside a writer;
- a write runs only when no writing session of this process is open (`bot.db.writer_lock`,
  the lock they all hold), so no writer of ours holds SQLite's lock then; it waits in that
  lock's queue only while one is open; it never awaits between its BEGIN and its COMMIT, so
  no other update's work runs inside it;
- SQLite is never left to wait with the loop blocked (`busy_timeout=0` on this connection):
  when another process writes, `_until_free` tries again every millisecond, the loop free.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Final, NoReturn, TypeVar, cast

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import SelectBase

from bot import db
from models import team
from models.base import Executes
from models.botstate import ChatState, Write
from models.team import Member

T = TypeVar("T")
SQLITE: Final = pysqlite.dialect()
POSTGRESQL: Final = postgresql_asyncpg.dialect()
BUSY_WAIT: Final = 0.001  # seconds between two tries while another writer holds SQLite
# What asyncpg raises when a connection is gone (the server restarted or closed it, the
# network dropped), rather than a statement refused on a good connection.
LOST: Final = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # terminated by an administrator, a shutdown
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a protocol left mid-operation by a closed socket
    OSError,
)
POOL_SIZE: Final = 10  # PostgreSQL connections of the hot path (the engine's pool_size)


class Prepared:
    """A SQLAlchemy statement compiled once for one dialect, run on the driver's own connection
    with the same conversions of values SQLAlchemy makes (its columns' types' own processors):
    SQLAlchemy's execution machinery around a statement costs more than the database's work."""

    def __init__(self, statement: ClauseElement, dialect: Dialect = SQLITE) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = str(compiled)
        self._binds: list[tuple[str, Any, Callable[[Any], Any] | None, bool]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self._binds.append((bind.key, bind.value, convert, bind.required))
        self.columns: list[str] = []
        self._results: list[Callable[[Any], Any] | None] = []
        if isinstance(statement, SelectBase):
            for column in statement.selected_columns:
                self.columns.append(str(column.key))
                read = column.type.dialect_impl(dialect).result_processor(dialect, None)
                self._results.append(read)

    def parameters(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """The values in SQL order, converted as SQLAlchemy would."""
        values = []
        for key, default, process, required in self._binds:
            if key in params:
                value = params[key]
            elif required:  # as SQLAlchemy: a value left out is a mistake, not a NULL
                raise KeyError(f"a value is required for {key!r}")
            else:
                value = default
            values.append(process(value) if process is not None else value)
        return tuple(values)

    def raw(self, connection: sqlite3.Connection, params: dict[str, Any]) -> list[Any]:
        """Run it; its rows as SQLite gives them."""
        return connection.execute(self.sql, self.parameters(params)).fetchall()

    def convert(self, row: Sequence[Any]) -> list[Any]:
        """A row's values, converted as SQLAlchemy would."""
        return [p(v) if p is not None else v for p, v in zip(self._results, row, strict=True)]

    def rows(self, connection: sqlite3.Connection, params: dict[str, Any]) -> list[Any]:
        """Run it; its rows, converted as SQLAlchemy would (a write's RETURNING as given)."""
        rows = self.raw(connection, params)
        return [self.convert(row) for row in rows] if self.columns else rows


_PREPARED: dict[tuple[int, str], Prepared] = {}


def prepared(statement: ClauseElement, dialect: Dialect = SQLITE) -> Prepared:
    """The statement compiled once (the models build each hot statement once)."""
    found = _PREPARED.get((id(statement), dialect.name))
    if found is None:
        found = _PREPARED[id(statement), dialect.name] = Prepared(statement, dialect)
        _KEEP.append(statement)  # its id stays its own
    return found


class PreparedConnection:
    """`models.base.Executes` on SQLite's own connection, for the domain functions an update
    runs here (`SqliteHotPath.save`, `read`): each statement compiled once (`prepared`), its
    values and rows converted as SQLAlchemy would; a list of values runs it for each. Through
    SQLAlchemy's synchronous `Connection` over the same connection, /nouveau's save (its
    checks, the person, their barriers and consent) took 0.33 ms of CPU, each statement 40–80
    µs of SQLAlchemy's execution around SQLite's few microseconds (issue 18). Column defaults
    computed in Python are not applied: the domain functions give every value."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, statement: ClauseElement, parameters: Any = None, /) -> PreparedRows:
        """Run `statement` (built once) with these values (a list: once for each)."""
        step = prepared(statement)
        if isinstance(parameters, list):
            self._connection.executemany(step.sql, [step.parameters(p) for p in parameters])
            return PreparedRows([])
        return PreparedRows(step.rows(self._connection, parameters or {}))


class PreparedRows:
    """A statement's rows, read as SQLAlchemy's result is (`models.base.Rows`)."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        """The one row's first value (as SQLAlchemy's, an error for none or several)."""
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0][0]


_KEEP: list[ClauseElement] = []


class SqliteHotPath:
    """The access check and the write-ahead of every update, on SQLite's own driver."""

    def __init__(self, path: str, writer: asyncio.Lock) -> None:
        self._path = path
        self._writer = writer
        self._connection: sqlite3.Connection | None = None
        self._members = team.KnownMembers()
        # `PRAGMA data_version`, which changes only when another connection (the async
        # engine, another process) commits, as each chat's (chat id, user id) update in
        # progress read it before checking its membership and state...
        self._checked: dict[tuple[int, int], int] = {}
        # ...and, once that update ended with everything it changed written (`settled`), as
        # of when what this process holds of the chat is what the database holds.
        self._settled: dict[tuple[int, int], int] = {}

    @classmethod
    def for_engine(cls, engine: AsyncEngine, writer: asyncio.Lock | None) -> SqliteHotPath | None:
        """The hot path of a SQLite file database (None for PostgreSQL, or an in-memory
        SQLite that another connection could not see)."""
        if engine.dialect.name != "sqlite" or writer is None or db.is_memory_sqlite(engine.url):
            return None
        return cls(str(make_url(engine.url).database), writer)

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)  # autocommit
            # The log is copied into the database by the bot's checkpoint job
            # (jobs/schedule.py), never inside one of these commits in the loop's thread.
            db.sqlite_pragmas(background_checkpoints=True)(connection, None)
            # Never wait inside SQLite with the loop blocked: a busy database is waited for
            # in `_until_free`, letting the loop run meanwhile.
            connection.execute("PRAGMA busy_timeout=0")
            self._connection = connection
        return self._connection

    async def _until_free(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run `work`; while another writer (another process) holds SQLite, try again every
        millisecond, the loop free meanwhile, up to SQLite's usual busy timeout."""
        deadline = time.monotonic() + db.SQLITE_BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                return work(self._open())
            except sqlite3.Error as error:
                if not _busy(error) or time.monotonic() > deadline:
                    # SQLAlchemy's exception, as from the async engine (`bot.app.on_error`).
                    raise DBAPIError.instance(None, None, error, sqlite3.Error) from error
            await asyncio.sleep(BUSY_WAIT)

    async def access(
        self, *, user_id: int, chat_id: int, update_id: int
    ) -> tuple[Member | None, bool, ChatState | None]:
        """The active member who sent this update (or None), whether it was handled already,
        and, for a member's new update, the chat's state: one statement (`team.ACCESS`), two for
        a stranger.

        When nothing but this connection wrote to the database since this member's last update
        in this chat checked them, and that update ended well (`settled`), their membership and
        the chat's state are as this process holds them: only the update's mark is read, and
        no state is returned (nothing to replace). The full read took 60 µs of an update's 0.70
        ms of CPU in `bench --peers` (the statement 30 µs, reading its rows 24 µs), this one 4
        µs."""

        def read(connection: sqlite3.Connection) -> tuple[Member | None, bool, ChatState | None]:
            params = team.access_params(user_id=user_id, chat_id=chat_id, update_id=update_id)
            key = (chat_id, user_id)
            version = connection.execute("PRAGMA data_version").fetchone()[0]
            if len(self._checked) >= team.REMEMBERED_MEMBERS:
                self._checked.clear()
            self._checked[key] = version
            if self._settled.pop(key, None) == version:
                member = self._members.last(user_id)
                if member is not None:
                    seen = prepared(team.SEEN_ONLY).raw(connection, params)[0][0]
                    return member, bool(seen), None
            access = prepared(team.ACCESS)
            rows = access.raw(connection, params)
            if not rows:
                handled = prepared(team.SEEN_ONLY).raw(connection, params)[0][0]
                return None, bool(handled), None
            return team.access_found(self._members, user_id, rows, _member_of(access))

        result: tuple[Member | None, bool, ChatState | None] = await self._until_free(read)
        return result

    def settled(self, *, user_id: int, chat_id: int) -> None:
        """This member's update in this chat ended with everything it changed written, by
        this connection: what this process holds of the chat is what the database holds."""
        version = self._checked.pop((chat_id, user_id), None)
        if version is None:
            return
        if len(self._settled) >= team.REMEMBERED_MEMBERS:
            self._settled.clear()
        self._settled[chat_id, user_id] = version

    async def write(self, writes: Sequence[Write]) -> None:
        """Commit these statements together, once no other writer of this process is on."""
        await self._one_writer(
            lambda connection: _transaction(connection, lambda c: _run(c, writes))
        )

    async def save(self, work: Callable[[Executes], T], writes: Sequence[Write]) -> T:
        """Run `work` (a record's checks and writes, `models.base.Executes`) and then `writes`
        in one transaction, committed before this returns; `work`'s result. `work` raising (a
        `DomainError`) rolls everything back.

        Through aiosqlite, saving a person from /nouveau (its checks, the person, their
        barriers and consent, the write-ahead: 7 statements) took 65 turns of the event loop
        and 4.9 ms of CPU, the p99 of the flow (issue 18; docs/performance.md)."""

        def both(connection: sqlite3.Connection) -> T:
            result = work(PreparedConnection(connection))
            _run(connection, writes)
            return result

        result: T = await self._one_writer(lambda connection: _transaction(connection, both))
        return result

    async def read(self, work: Callable[[Executes], T]) -> T:
        """Run `work` (reads, `models.base.Executes`), outside any transaction: WAL lets it
        read beside a writer. Through aiosqlite, /nouveau's duplicate check (one SELECT) took
        24 turns of the event loop and 1.1 ms of CPU more than a step without a read (issue
        18)."""
        result: T = await self._until_free(lambda connection: work(PreparedConnection(connection)))
        return result

    async def _one_writer(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run a writing `work` once no other writer of this process is on."""
        if not self._writer.locked():
            # No writing transaction of this process is open: this one starts and ends here,
            # the loop never leaving it (unless another process writes), so it needs no turn
            # in the lock's queue. Queued, each write waited for a turn of the loop after the
            # one before it: with 200 chats at once, a convoy of 30–40 updates (issue 18).
            result: T = await self._until_free(work)
            return result
        async with self._writer:
            return cast(T, await self._until_free(work))

    async def close(self) -> None:
        """Close the connection (opened again if used again: another connection, whose
        `data_version` counts afresh, so nothing held is trusted after it)."""
        self._checked.clear()
        self._settled.clear()
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresHotPath:
    """The access check and the write-ahead of every update, on asyncpg connections of its own
    (at most `POOL_SIZE`, kept open between updates)."""

    def __init__(self, engine: AsyncEngine) -> None:
        # The engine's own connection settings (host, user, password, database, the URL's
        # query), as SQLAlchemy's asyncpg dialect gives them to `asyncpg.connect`.
        _, self._settings = engine.dialect.create_connect_args(engine.url)
        self._settings.pop("prepared_statement_cache_size", None)  # the dialect's own
        self._dbapi = engine.dialect.loaded_dbapi
        self._idle: list[asyncpg.Connection] = []
        self._slots = asyncio.Semaphore(POOL_SIZE)
        self._members = team.KnownMembers()

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> PostgresHotPath | None:
        """The hot path of a PostgreSQL database reached through asyncpg (None otherwise)."""
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "asyncpg":
            return None
        return cls(engine)

    async def _run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `work` (autocommit statements) on an idle connection, or a new one; asyncpg's
        errors as the async engine raises them (`bot.app.on_error` expects SQLAlchemy's
        DBAPIError).

        An idle connection may have been closed by the server without this process knowing
        yet (a restart, a network cut): when one turns out lost, every idle one is dropped
        (a restart closed them all) and `work` runs once more, on a new connection, so the
        first update after a restart is answered. Running twice is safe for everything this
        path runs: reads, and writes whose second run changes nothing (upserts, an insert
        that does nothing on conflict). SQLAlchemy's pool pings each connection it lends
        instead: one more round trip on every update.

        Not `asyncpg.create_pool`: its check-out and check-in (a task to shield the check-in,
        a reset) cost a third of a tap's CPU on this path (1.66 -> 1.12 ms, interleaved)."""
        async with self._slots:
            reused = bool(self._idle)
            try:
                try:
                    return await self._attempt(work)
                except LOST:
                    if not reused:
                        raise
                    while self._idle:  # none is in use: `_attempt` gave it back
                        self._idle.pop().terminate()
                    return await self._attempt(work)
            except (asyncpg.PostgresError, *LOST) as error:
                _raise_as_sqlalchemy(error, self._dbapi)

    async def _attempt(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`work` on an idle connection or a new one, kept idle after unless it was lost."""
        connection = await self._connection()
        try:
            result = await work(connection)
        except LOST:
            connection.terminate()
            raise
        except asyncpg.PostgresError:  # a statement refused: the connection is still good
            self._keep(connection)
            raise
        except BaseException:  # cancelled mid-statement: its state unknown, not used again
            connection.terminate()
            raise
        self._keep(connection)
        return result

    async def _connection(self) -> asyncpg.Connection:
        """The connection used last, unless the server closed it meanwhile, or a new one."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
        return await asyncpg.connect(**self._settings)

    def _keep(self, connection: asyncpg.Connection) -> None:
        """Back among the idle ones, if still open (a refused statement leaves it usable:
        every statement here commits or fails alone, no transaction is left open)."""
        if not connection.is_closed():
            self._idle.append(connection)

    async def access(
        self, *, user_id: int, chat_id: int, update_id: int
    ) -> tuple[Member | None, bool, ChatState | None]:
        """The active member who sent this update (or None), whether it was handled already,
        and, for a member's new update, the chat's state: one statement (`team.ACCESS`), two for
        a stranger."""

        async def read(
            connection: asyncpg.Connection,
        ) -> tuple[Member | None, bool, ChatState | None]:
            params = team.access_params(user_id=user_id, chat_id=chat_id, update_id=update_id)
            access = prepared(team.ACCESS, POSTGRESQL)
            rows = await connection.fetch(access.sql, *access.parameters(params))
            if not rows:
                handled = prepared(team.SEEN_ONLY, POSTGRESQL)
                seen = await connection.fetchval(handled.sql, *handled.parameters(params))
                return None, bool(seen), None
            return team.access_found(self._members, user_id, rows, _member_of(access))

        return await self._run(read)

    def settled(self, *, user_id: int, chat_id: int) -> None:
        """Nothing to remember: on PostgreSQL every update reads its chat's state (no
        version tells that another replica did not move it on)."""

    async def write(self, writes: Sequence[Write]) -> None:
        """Commit these statements together: as one statement, atomic by itself, in one
        round trip (`_together`)."""
        sql, values = _together(writes)
        await self._run(lambda connection: connection.execute(sql, *values))

    async def close(self) -> None:
        """Close the idle connections (at shutdown, when none is in use)."""
        while self._idle:
            await self._idle.pop().close()


def _together(writes: Sequence[Write]) -> tuple[str, list[Any]]:
    """These statements as one, the first ones as data-modifying CTEs of the last
    (`WITH w0 AS (INSERT ...), w1 AS (DELETE ...) INSERT ...`): PostgreSQL runs them all or
    none, on one snapshot, so each must touch rows of its own (the write-ahead's drafts,
    conversation state and update mark do). One round trip instead of BEGIN, each statement,
    COMMIT. The SQL is built once for each sequence of statements; only the values change."""
    steps = [(prepared(statement, POSTGRESQL), params) for statement, params in writes]
    values = [value for step, params in steps for value in step.parameters(params)]
    key = tuple(id(step) for step, _ in steps)  # prepared statements are kept for good
    sql = _TOGETHER.get(key)
    if sql is None:
        sql = _TOGETHER[key] = _one_statement([step.sql for step, _ in steps])
    return sql, values


_TOGETHER: dict[tuple[int, ...], str] = {}


def _one_statement(statements: Sequence[str]) -> str:
    """`_together`'s SQL: each statement's placeholders renumbered after those before it."""
    parts: list[str] = []
    shift = 0
    for sql in statements:
        parts.append(_shifted(sql, shift))
        shift += max((int(number) for number in _PLACEHOLDER.findall(sql)), default=0)
    *first, last = parts
    if not first:
        return last
    return "WITH " + ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(first)) + " " + last


def _shifted(sql: str, shift: int) -> str:
    """A statement's placeholders renumbered: $1 is $(1 + shift)."""
    return _PLACEHOLDER.sub(lambda number: f"${int(number[1]) + shift}", sql)


_PLACEHOLDER: Final = re.compile(r"\$(\d+)")  # the models' hot SQL has no other "$"


def _raise_as_sqlalchemy(error: Exception, dbapi: Any) -> NoReturn:
    """Raise asyncpg's error as the async engine does: translated by SQLAlchemy's asyncpg
    adapter (a constraint's violation is an IntegrityError), with no statement values. A value
    refused (asyncpg could not encode it, or PostgreSQL could not read it) is quoted in the
    message: then neither the message nor asyncpg's error is kept, only the SQLSTATE."""
    for kind in type(error).__mro__:
        translate = dbapi._asyncpg_error_translate.get(kind)
        if translate is not None:
            if isinstance(error, asyncpg.DataError | ValueError):
                state = getattr(error, "sqlstate", None) or "22000"
                orig = translate(f"invalid value (SQLSTATE {state})")
                raise DBAPIError.instance(None, None, orig, dbapi.Error) from None
            orig = translate(str(error.args[0]), error)
            raise DBAPIError.instance(None, None, orig, dbapi.Error) from error
    raise error


def _member_of(access: Prepared) -> Callable[[Sequence[Any]], Member | None]:
    """How `team.access_found` builds the member of an `ACCESS` row the driver gave: its
    values converted as SQLAlchemy would."""
    return lambda row: team.active_member(access.convert(row))


def _transaction(connection: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
    """`body` in one write transaction: committed, or rolled back when it raises."""
    connection.execute(db.BEGIN)
    try:
        result = body(connection)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return result


def _run(connection: sqlite3.Connection, writes: Sequence[Write]) -> None:
    """These statements, prepared once, on this connection."""
    for statement, params in writes:
        step = prepared(statement)
        connection.execute(step.sql, step.parameters(params))


def _busy(error: BaseException | None) -> bool:
    """Whether SQLite refused because another connection holds its write lock."""
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
