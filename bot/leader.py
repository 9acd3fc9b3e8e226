"""Which replica runs the jobs. On PostgreSQL several bot processes may share one database
(webhook replicas behind a load balancer); only one of them must send reminders, digests and
expiry notices. The leader holds a session-level advisory lock on a connection of its own; when
it dies, PostgreSQL drops the connection and the lock with it, and the next follower to try
takes it (every `LEADER_POLL_SECONDS`, so within a minute). On SQLite there is one process by
construction, and it always leads.

Reminders are also claimed with `FOR UPDATE SKIP LOCKED`, so even two leaders for a moment
(a network partition) could not send one reminder twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger(__name__)

# Any 64-bit number unique to this application: "AVEQ" in ASCII.
LOCK_KEY = 0x41564551


class Leadership:
    """Whether this process is the one that runs the jobs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self.single_process = engine.dialect.name == "sqlite"
        self._following = False
        self._term = 1 if self.single_process else 0  # one more each time the lock is taken
        self._started: set[tuple[str, int]] = set()

    @property
    def is_leader(self) -> bool:
        """True while this process holds the lock (always on SQLite)."""
        return self.single_process or self._connection is not None

    def first_run_of_term(self, job: str) -> bool:
        """True the first time `job` asks since this process last took the leadership: the
        moment to clean up after a leader that died mid-work."""
        if (job, self._term) in self._started:
            return False
        self._started.add((job, self._term))
        return True

    async def ensure(self) -> bool:
        """Lead if possible: keep the lock if held and alive, otherwise try to take it."""
        if self.single_process:
            return True
        async with self._lock:
            if self._connection is not None:
                try:
                    await self._connection.execute(text("SELECT 1"))
                    return True
                except (DBAPIError, OperationalError, OSError):
                    logger.warning("Lost the connection that held the job leadership")
                    await self._drop()
            return await self._try_acquire()

    async def _try_acquire(self) -> bool:
        connection: AsyncConnection | None = None
        try:
            connection = await self._engine.connect()
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            )
            acquired = bool(result.scalar())
        except (DBAPIError, OperationalError, OSError):
            logger.warning("Could not reach the database to claim the job leadership")
            if connection is not None:
                await connection.invalidate()
                await connection.close()
            return False
        if not acquired:
            await connection.close()
            if not self._following:
                logger.info("Another instance runs the scheduled jobs; this one stands by")
                self._following = True
            return False
        logger.info("This instance now runs the scheduled jobs")
        self._connection, self._following = connection, False
        self._term += 1
        return True

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except (DBAPIError, OperationalError, OSError):
                pass

    async def release(self) -> None:
        """Give the lock back (at shutdown), so a follower takes over at once."""
        if self.single_process:
            return
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is None:
                return
            try:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
                await connection.close()
            except (DBAPIError, OperationalError, OSError):
                await connection.invalidate()


Job = Callable[[Any], Coroutine[Any, Any, Any]]


def leader_only(leadership: Leadership, job: Job) -> Job:
    """A job that does nothing on a follower."""

    @functools.wraps(job)
    async def run(context: Any) -> Any:
        if not await leadership.ensure():
            return None
        return await job(context)

    return run
