"""SQLAlchemy's aiosqlite adapter, with fewer round trips to SQLite's thread.

aiosqlite runs each SQLite call on its own thread and wakes the event loop with the result.
SQLAlchemy's adapter makes three or four such calls per statement (open a cursor, execute,
fetch, close): with the rollbacks of nothing, twenty for an update, each a thread hand-off and
an event-loop wake-up, the largest part of its time (bench/updates.py). Here:
- a statement is one call: its cursor opened, executed, read and closed on the thread;
- a transaction's BEGIN goes with its first statement (`begin_with_next_statement`);
- writes nobody reads back can be held and sent with the commit, in one call
  (`defer_writes`): an update's write-ahead holds SQLite's one writer for one round trip.
An update now makes two calls: the access check's read, and that commit.

It relies on `aiosqlite.Connection._execute` (queue a function on the connection's thread),
which aiosqlite's own `Cursor` uses; `tests/test_sqlite_driver.py` fails if that changes.
Passed to SQLAlchemy through `create_async_engine(module=...)`, the documented way to give a
dialect another DBAPI module.
"""

from __future__ import annotations

import collections
import sqlite3
import weakref
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, int, int | None, list[Any]]


# A transaction's BEGIN waits here for the transaction's first statement, and goes to the
# thread in the same call: one round trip fewer per transaction, and the one writer's lock is
# held that much shorter. Cleared by the end of the transaction if no statement came.
_BEGIN_PENDING: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def begin_with_next_statement(dbapi_connection: Any, begin: str) -> bool:
    """Send `begin` together with this connection's next statement; False when it is not a
    connection of this driver (send it yourself)."""
    if not isinstance(dbapi_connection, OneRoundTripConnection):
        return False
    _BEGIN_PENDING[dbapi_connection._connection] = begin
    return True


def forget_begin(driver_connection: Any) -> None:
    """The transaction ended before any statement: its BEGIN is not sent."""
    _BEGIN_PENDING.pop(driver_connection, None)


# Writes whose answer nobody reads, held until the commit and sent with it in one call: the
# state an update writes ahead of its answer (three upserts) then holds SQLite's one writer for
# one round trip instead of four.
_DEFERRED: weakref.WeakKeyDictionary[Any, list[tuple[str, Any, bool]]] = (
    weakref.WeakKeyDictionary()
)


def defer_writes(dbapi_connection: Any) -> bool:
    """Until this transaction ends, hold its statements and send them with the commit (a
    failure then surfaces at the commit, and the whole transaction is rolled back). Only for
    writes whose result is not read. False when it is not a connection of this driver."""
    if not isinstance(dbapi_connection, OneRoundTripConnection):
        return False
    _DEFERRED.setdefault(dbapi_connection._connection, [])
    return True


def _commit_all(
    connection: sqlite3.Connection, begin: str | None, statements: list[tuple[str, Any, bool]]
) -> None:
    """On SQLite's thread: the whole transaction, committed, or rolled back on any failure."""
    if begin is not None:
        connection.execute(begin)
    try:
        for operation, parameters, many in statements:
            if many:
                connection.executemany(operation, parameters)
            else:
                connection.execute(operation, parameters if parameters is not None else ())
        connection.commit()
    except BaseException:
        if connection.in_transaction:
            connection.rollback()
        raise


def end_deferred(driver_connection: Any, *, commit: bool) -> bool:
    """At the end of a transaction: send the held writes with the commit (True: committed), or
    drop them (a rollback, or nothing was held: False)."""
    statements = _DEFERRED.pop(driver_connection, None)
    if not statements or not commit:
        return False
    begin = _BEGIN_PENDING.pop(driver_connection, None)
    await_(driver_connection._execute(_commit_all, driver_connection._conn, begin, statements))
    return True


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool, begin: str | None
) -> Outcome:
    """On SQLite's thread: begin if asked, execute, read every row, close the cursor."""
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneRoundTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose whole life is one call on SQLite's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False  # nothing left open on the thread to close

    def __init__(self, adapt_connection: Any) -> None:  # no cursor opened ahead of time
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows: collections.deque[Any] = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        """The columns of the last statement's result, None when it returned none."""
        return self._description

    @property
    def rowcount(self) -> int:
        """The rows the last statement changed."""
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        """The rowid of the last inserted row."""
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        """Rows are already in memory: `fetchmany()` gives one at a time by default."""
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        """Ignored: every row is read at once."""

    async def _call(self, operation: str, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        held = _DEFERRED.get(connection)
        if held is not None:
            held.append((operation, parameters, many))
            self._description, self._rowcount, self._lastrowid = None, -1, None
            self._rows = collections.deque()
            return
        async with self._adapt_connection._execute_mutex:
            begin = _BEGIN_PENDING.pop(connection, None)
            outcome = await connection._execute(
                _run, connection._conn, operation, parameters, many, begin
            )
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._call(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._call(operation, seq_of_parameters, many=True)

    def close(self) -> None:
        """Drop the rows not read."""
        self._rows.clear()


class StreamingCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """SQLAlchemy's server-side cursor (`stream()`), sending a pending BEGIN first."""

    __slots__ = ()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        begin = _BEGIN_PENDING.pop(connection, None)
        if begin is not None:
            await connection.execute(begin)
        return await super()._execute_async(operation, parameters)


class OneRoundTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's adapted aiosqlite connection, with the cursors above."""

    __slots__ = ()
    _cursor_cls = OneRoundTripCursor
    _ss_cursor_cls = StreamingCursor


class OneRoundTripDriver(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given instead of its own."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        """SQLAlchemy's connection, turned into the one above (same layout: no new slots)."""
        connection = super().connect(*arg, **kw)
        connection.__class__ = OneRoundTripConnection
        return connection


def driver() -> OneRoundTripDriver:
    """The module to pass as `create_async_engine(..., module=driver())`."""
    return OneRoundTripDriver(aiosqlite, sqlite3)
