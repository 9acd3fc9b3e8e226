"""The SQLite driver the bot uses (one thread round trip per statement) answers exactly as
SQLAlchemy's own aiosqlite adapter; SQLite's log is checkpointed beside the updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot import db
from bot.app import BotApplication

METADATA = MetaData()
ITEM = Table(
    "item",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), unique=True, nullable=False),
    Column("size", Integer, nullable=False),
)


async def scenario(engine: AsyncEngine) -> list[Any]:
    """Every kind of statement the bot sends, and what SQLAlchemy makes of each answer."""
    seen: list[Any] = []
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
        inserted = await conn.execute(insert(ITEM).values(name="a", size=1))
        seen.append(("pk", inserted.inserted_primary_key))
        many = await conn.execute(insert(ITEM), [{"name": n, "size": 2} for n in "bcd"])
        seen.append(("many", many.rowcount))
        returned = await conn.execute(
            insert(ITEM).values(name="e", size=3).returning(ITEM.c.id, ITEM.c.name)
        )
        seen.append(("returning", returned.all()))
        changed = await conn.execute(update(ITEM).where(ITEM.c.size == 2).values(size=5))
        seen.append(("updated", changed.rowcount))
    async with engine.connect() as conn:
        await conn.begin()
        await conn.execute(insert(ITEM).values(name="f", size=6))
        with pytest.raises(IntegrityError):
            await conn.execute(insert(ITEM).values(name="a", size=7))  # duplicate name
        await conn.rollback()
    async with engine.connect() as conn:
        result = await conn.execute(select(ITEM).order_by(ITEM.c.id))
        seen.append(("columns", list(result.keys())))
        seen.append(("first", result.fetchone()))
        seen.append(("two more", result.fetchmany(2)))
        seen.append(("rest", result.fetchall()))
        seen.append(("scalar", await conn.scalar(text("SELECT count(*) FROM item"))))
        seen.append(("none", (await conn.execute(select(ITEM).where(ITEM.c.id < 0))).all()))
    return seen


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    ours = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ours.sqlite3'}")
    stock = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.sqlite3'}")
    yield ours, stock
    await ours.dispose()
    await stock.dispose()


async def test_answers_as_sqlalchemys_own_adapter(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, stock = engines
    expected = await scenario(stock)
    assert await scenario(ours) == expected
    # The failed transaction left nothing behind, and the names are what was inserted.
    assert ("rest", [(4, "d", 5), (5, "e", 3)]) in expected
    assert ("scalar", 5) in expected


async def test_one_round_trip_to_sqlites_thread_per_statement(
    engines: tuple[AsyncEngine, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, _ = engines
    await scenario(ours)
    calls: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    reads = db.read_only(ours)
    async with reads.connect() as conn:
        assert (await conn.execute(select(ITEM.c.name).where(ITEM.c.id == 1))).all() == [("a",)]
    assert len(calls) == 1  # no cursor opened or closed apart, no rollback of nothing
    calls.clear()
    async with ours.begin() as conn:
        await conn.execute(update(ITEM).where(ITEM.c.id == 1).values(size=9))
    assert len(calls) == 2  # BEGIN IMMEDIATE with the update, then COMMIT


async def test_a_transaction_begins_with_its_first_statement(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, _ = engines
    await scenario(ours)
    other = db.create_engine(str(ours.url))
    try:
        async with ours.connect() as conn:
            await conn.begin()  # nothing sent yet: another writer is not held up
            async with other.begin() as elsewhere:
                await elsewhere.execute(update(ITEM).where(ITEM.c.id == 1).values(size=10))
            await conn.execute(update(ITEM).where(ITEM.c.id == 1).values(size=11))
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw.in_transaction  # the update ran inside BEGIN IMMEDIATE
            async with conn.begin_nested():  # a savepoint inside it works as usual
                await conn.execute(update(ITEM).where(ITEM.c.id == 1).values(size=12))
            await conn.rollback()
        async with ours.begin():
            pass  # a transaction without a statement leaves nothing behind
        reads = db.read_only(ours)
        async with reads.connect() as conn:
            streamed = await conn.stream(select(ITEM.c.size).where(ITEM.c.id == 1))
            assert [row.size async for row in streamed] == [10]  # the rollback undid 11, 12
            raw = (await conn.get_raw_connection()).driver_connection
            assert not raw.in_transaction
        async with ours.begin() as conn:  # a first statement streamed still begins
            streamed = await conn.stream(select(ITEM.c.size).where(ITEM.c.id == 1))
            assert [row.size async for row in streamed] == [10]
            assert (await conn.get_raw_connection()).driver_connection.in_transaction
    finally:
        await other.dispose()


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


async def test_writes_held_until_the_commit_go_in_one_call_or_not_at_all(
    engines: tuple[AsyncEngine, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, _ = engines
    await scenario(ours)
    sessions = db.make_sessions(ours)
    calls: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    async def held(*statements: Any, fail: bool = False) -> None:
        async with sessions.begin() as session:
            await db.hold_writes_until_commit(session)
            connection = await session.connection()
            for statement in statements:
                await connection.execute(*statement)
            assert calls == []  # nothing sent before the commit
            if fail:
                raise RuntimeError("the update failed before its commit")

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    await held(
        (insert(ITEM).values(name="g", size=1),),
        (update(ITEM).where(ITEM.c.name == "g").values(size=2),),
        (insert(ITEM), [{"name": "h", "size": 3}, {"name": "i", "size": 4}]),
    )
    assert calls == ["_commit_all"]  # BEGIN, the three writes and COMMIT in one call
    calls.clear()
    taken = insert(ITEM).values(name="g", size=6)
    with pytest.raises(IntegrityError):
        await held((insert(ITEM).values(name="j", size=5),), (taken,))
    calls.clear()
    with pytest.raises(RuntimeError):
        await held((insert(ITEM).values(name="k", size=7),), fail=True)
    async with ours.connect() as conn:
        rows = (await conn.execute(select(ITEM.c.name, ITEM.c.size).where(ITEM.c.id > 5))).all()
    assert rows == [("g", 2), ("h", 3), ("i", 4)]  # neither j nor k: each all or nothing
    async with sessions.begin() as session:  # the connection goes on as usual afterwards
        connection = await session.connection()
        await connection.execute(update(ITEM).where(ITEM.c.name == "g").values(size=8))
    async with ours.connect() as conn:
        assert await conn.scalar(select(ITEM.c.size).where(ITEM.c.name == "g")) == 8
