"""An update's own reads and writes on SQLite (`bot.hotpath`), and a record saved with its
write-ahead: all or nothing, after the async writers of this process, never in their way, the
loop free while another process writes; SQLite's log is checkpointed beside the updates."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db
from bot.app import BotApplication
from bot.hotpath import SqliteHotPath
from models.base import Executes
from models.errors import DomainError

METADATA = MetaData()
ITEM = Table(
    "item",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), unique=True, nullable=False),
    Column("size", Integer, nullable=False),
)
# The hot path takes statements built once, naming their columns, as the models' do.
ADD_ITEM = insert(ITEM).values(name=bindparam("name"), size=bindparam("size"))


async def fill(engine: AsyncEngine) -> None:
    """About 6,000 pages of log (SQLite checkpoints by itself at 1,000), in 30 commits."""
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    for start in range(0, 3000, 100):
        async with engine.begin() as conn:
            rows = [{"name": f"{i:06d}" + "x" * 200, "size": i} for i in range(start, start + 100)]
            await conn.execute(insert(ITEM), rows)
            await conn.execute(update(ITEM).values(size=ITEM.c.size + 1))


LOG_BYTES = 4096 * 1000 * 2  # twice what SQLite lets its log grow to by itself


@pytest.mark.parametrize("background", [True, False])
async def test_the_running_bot_checkpoints_beside_its_updates(
    tmp_path: Path, background: bool
) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}", background_checkpoints=background)
    log = path.with_name(path.name + "-wal")
    try:
        await fill(engine)
        if background:  # no commit paid for copying the log: it is all still there
            assert log.stat().st_size > LOG_BYTES
            assert path.stat().st_size < 100_000
            await db.checkpoint(engine)
        else:  # SQLite copied it inside the commits that crossed 1,000 pages, and reused it
            assert log.stat().st_size < LOG_BYTES
        assert path.stat().st_size > 1_000_000  # the rows are in the database file
    finally:
        await engine.dispose()


async def test_the_checkpoint_job_runs_on_sqlite_only(app: BotApplication) -> None:
    jobs = {job.name for job in app.job_queue.jobs()}
    sqlite = app.bot_data["services"].sessions.kw["bind"].dialect.name == "sqlite"
    assert ("wal_checkpoint" in jobs) is sqlite


@pytest.fixture
async def hot(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, db.Sessions, SqliteHotPath]]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hot.sqlite3'}")
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    sessions = db.make_sessions(engine)
    path = SqliteHotPath.for_engine(engine, db.writer_lock(sessions))
    assert path is not None
    yield engine, sessions, path
    await path.close()
    await engine.dispose()


async def names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.scalars(select(ITEM.c.name).order_by(ITEM.c.id))).all())


async def test_a_hot_write_commits_all_its_statements_or_none(
    hot: tuple[AsyncEngine, db.Sessions, SqliteHotPath],
) -> None:
    engine, _, path = hot
    await path.write([(ADD_ITEM, {"name": "a", "size": 1})])
    with pytest.raises(IntegrityError):
        await path.write(
            [(ADD_ITEM, {"name": "b", "size": 2}), (ADD_ITEM, {"name": "a", "size": 3})]
        )
    grow = update(ITEM).where(ITEM.c.name == "a").values(size=bindparam("size"))
    await path.write([(grow, {"size": 4})])
    assert await names(engine) == ["a"]  # not b: the failed write left nothing
    async with engine.connect() as conn:
        assert await conn.scalar(select(ITEM.c.size)) == 4  # the connection went on


async def test_a_hot_write_waits_for_the_async_writer_of_this_process(
    hot: tuple[AsyncEngine, db.Sessions, SqliteHotPath],
) -> None:
    """SQLite has one writer: the loop thread never waits on SQLite's lock for a transaction
    of its own process that needs the loop to finish (it would never finish)."""
    engine, sessions, path = hot
    async with sessions.begin() as session:
        connection = await session.connection()
        await connection.execute(insert(ITEM).values(name="async", size=1))
        waiting = asyncio.create_task(path.write([(ADD_ITEM, {"name": "hot", "size": 2})]))
        await asyncio.sleep(0)  # the hot write starts, finds the writer busy, and waits
        assert not waiting.done()
    await waiting
    assert await names(engine) == ["async", "hot"]


async def test_no_hot_path_where_another_connection_cannot_see_the_database(
    engine: AsyncEngine, sessions: db.Sessions
) -> None:
    memory = db.create_engine("sqlite+aiosqlite://")
    try:
        assert SqliteHotPath.for_engine(memory, db.writer_lock(db.make_sessions(memory))) is None
    finally:
        await memory.dispose()
    path = SqliteHotPath.for_engine(engine, db.writer_lock(sessions))
    assert (path is not None) is (engine.dialect.name == "sqlite")
    if path is not None:
        await path.close()


async def test_a_write_waits_with_the_loop_free_while_another_process_writes(
    hot: tuple[AsyncEngine, db.Sessions, SqliteHotPath], tmp_path: Path
) -> None:
    """While another process holds SQLite's write lock, a writing transaction of the bot
    waits without blocking the loop (other chats are served), and lands once it is free."""
    engine, sessions, _ = hot
    other = sqlite3.connect(tmp_path / "hot.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO item (name, size) VALUES ('other', 1)")

    async def write() -> None:
        async with sessions.begin() as session:
            connection = await session.connection()
            await connection.execute(insert(ITEM).values(name="ours", size=2))

    waiting = asyncio.create_task(write())
    await asyncio.sleep(0.05)  # the loop runs meanwhile (this sleep ends)
    assert not waiting.done()
    other.execute("COMMIT")
    other.close()
    await waiting
    assert await names(engine) == ["other", "ours"]


def record(name: str, *, refuse: bool = False) -> Callable[[Executes], str]:
    """A record's synchronous save (as /nouveau's): one row, or a refusal after writing it."""

    def write(connection: Executes) -> str:
        connection.execute(ADD_ITEM, {"name": name, "size": 1})
        if refuse:
            raise DomainError("choice_invalid")
        return name

    return write


async def test_a_save_commits_its_record_with_the_write_ahead_or_nothing(
    hot: tuple[AsyncEngine, db.Sessions, SqliteHotPath],
) -> None:
    engine, _, path = hot
    ahead = [(ADD_ITEM, {"name": "ahead", "size": 2})]
    assert await path.save(record("record"), ahead) == "record"
    with pytest.raises(DomainError):
        await path.save(record("refused", refuse=True), [(ADD_ITEM, {"name": "no", "size": 3})])
    with pytest.raises(IntegrityError):  # the write-ahead fails: the record goes too
        await path.save(record("lost"), ahead)
    assert await names(engine) == ["record", "ahead"]
    assert await path.save(record("again"), []) == "again"  # the connection went on
    assert await names(engine) == ["record", "ahead", "again"]


async def test_a_save_waits_for_the_async_writer_of_this_process(
    hot: tuple[AsyncEngine, db.Sessions, SqliteHotPath],
) -> None:
    engine, sessions, path = hot
    async with sessions.begin() as session:
        connection = await session.connection()
        await connection.execute(insert(ITEM).values(name="async", size=1))
        waiting = asyncio.create_task(path.save(record("hot"), []))
        await asyncio.sleep(0)
        assert not waiting.done()
    await waiting
    assert await names(engine) == ["async", "hot"]


async def test_a_save_waits_with_the_loop_free_while_another_process_writes(
    hot: tuple[AsyncEngine, db.Sessions, SqliteHotPath], tmp_path: Path
) -> None:
    engine, _, path = hot
    other = sqlite3.connect(tmp_path / "hot.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO item (name, size) VALUES ('other', 1)")
    waiting = asyncio.create_task(path.save(record("ours"), []))
    await asyncio.sleep(0.05)  # the loop runs meanwhile (this sleep ends)
    assert not waiting.done()
    other.execute("COMMIT")
    other.close()
    assert await waiting == "ours"
    assert await names(engine) == ["other", "ours"]
