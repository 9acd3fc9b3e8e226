"""An update's own reads and writes on PostgreSQL (`bot.hotpath.PostgresHotPath`): asyncpg's
own pool, all or nothing, SQLAlchemy's errors without a person's data, a lost connection
replaced for the next update, the pool closed at shutdown. Run on the PostgreSQL lane."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import cast

import asyncpg
import pytest
from sqlalchemy import bindparam, event, insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import BotApplication, build_application
from bot.db import Sessions
from bot.hotpath import PostgresHotPath, SqliteHotPath
from bot.persistence import DatabasePersistence
from bot.settings import Settings
from tests.conftest import Clock, User, add_member
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_hotpath import ITEM, METADATA, names

ADD = insert(ITEM).values(name=bindparam("name"), size=bindparam("size"))


@pytest.fixture
async def hot(engine: AsyncEngine) -> AsyncIterator[PostgresHotPath]:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL lane")
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    path = PostgresHotPath.for_engine(engine)
    assert path is not None
    yield path
    await path.close()
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.drop_all)


def dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def backend(path: PostgresHotPath) -> int:
    """The server process of the connection the hot path's next statement takes."""
    pid: int = await path._run(lambda connection: connection.fetchval("SELECT pg_backend_pid()"))
    return pid


async def alive(engine: AsyncEngine, pid: int) -> bool:
    connection = await asyncpg.connect(dsn(engine))
    try:
        found = await connection.fetchval("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid)
        return found is not None
    finally:
        await connection.close()


def terminate_behind_the_loop(engine: AsyncEngine, pid: int) -> None:
    """The server ends this connection while the event loop is blocked (a restart the bot has
    not noticed yet): the loop finds out only when it uses the connection."""
    thread = threading.Thread(target=asyncio.run, args=(terminate(engine, pid),))
    thread.start()
    thread.join()


async def terminate(engine: AsyncEngine, pid: int) -> None:
    """End this server process, and wait until it is gone (its goodbye then sent)."""
    connection = await asyncpg.connect(dsn(engine))
    try:
        await connection.execute("SELECT pg_terminate_backend($1)", pid)
        gone = "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)"
        for _ in range(500):
            if await connection.fetchval(gone, pid):
                return
        raise AssertionError(f"server process {pid} still there")
    finally:
        await connection.close()


async def test_a_member_s_update_takes_the_hot_path_not_the_engine(
    app: BotApplication, sessions: Sessions, clock: Clock, api: FakeBotAPI
) -> None:
    """A tap reads (membership, the chat's state) and writes ahead without a connection of
    SQLAlchemy's engine: on a SQLite file through `sqlite3`, on PostgreSQL through asyncpg."""
    engine = sessions.kw["bind"]
    hot = cast(DatabasePersistence, app.persistence)._hot
    expected = PostgresHotPath if engine.dialect.name == "postgresql" else SqliteHotPath
    assert isinstance(hot, expected)
    _, user_id = await add_member(sessions, clock)
    user = User(app, api, user_id)
    await user.send("/nouveau")
    await user.send("Awa")
    taken: list[object] = []

    def checkout(*args: object) -> None:
        taken.append(args)

    event.listen(engine.sync_engine, "checkout", checkout)
    try:
        assert "Où habite-t-elle" in await user.tap("F · 26-44 ans")
    finally:
        event.remove(engine.sync_engine, "checkout", checkout)
    assert taken == []


async def test_a_write_commits_all_its_statements_or_none(
    hot: PostgresHotPath, engine: AsyncEngine
) -> None:
    await hot.write([(ADD, {"name": "a", "size": 1})])
    with pytest.raises(IntegrityError):
        await hot.write([(ADD, {"name": "b", "size": 2}), (ADD, {"name": "a", "size": 3})])
    await hot.write([(ADD, {"name": "c", "size": 4}), (ADD, {"name": "d", "size": 5})])
    assert sorted(await names(engine)) == ["a", "c", "d"]  # not b: the failed write left nothing


async def test_an_error_shows_no_value_of_its_statement(
    hot: PostgresHotPath, engine: AsyncEngine
) -> None:
    """PostgreSQL names the duplicate value in its detail, asyncpg the value it could not
    encode in its message: neither reaches the error the bot logs (`bot.app.on_error`)."""
    await hot.write([(ADD, {"name": "Amina", "size": 1})])
    with pytest.raises(IntegrityError) as duplicate:
        await hot.write([(ADD, {"name": "Amina", "size": 2})])
    with pytest.raises(DBAPIError) as wrong_type:
        await hot.write([(ADD, {"name": "x", "size": "Amina"})])
    for raised in (duplicate.value, wrong_type.value):
        assert "Amina" not in str(raised)
        assert "Amina" not in str(raised.orig)
    assert wrong_type.value.__cause__ is None  # nor does the traceback's chain quote it
    assert await names(engine) == ["Amina"]


async def test_a_connection_lost_is_replaced_within_the_same_update(
    hot: PostgresHotPath, engine: AsyncEngine
) -> None:
    """The server restarted while the bot held its connections: the update that finds its
    connection gone runs again on a new one and is answered (its reads and its write-ahead
    can run twice), the other idle connections are dropped too."""

    async def access() -> object:
        return await hot.access(user_id=1, chat_id=1, update_id=1)

    assert await access() == (None, False, None)
    first = await backend(hot)
    terminate_behind_the_loop(engine, first)
    assert await access() == (None, False, None)
    second = await backend(hot)
    assert second != first
    # Closed while the bot waited between updates: the same.
    await terminate(engine, second)
    assert await access() == (None, False, None)
    assert await backend(hot) not in {first, second}


async def test_the_pool_closes_with_the_application(
    settings: Settings, sessions: Sessions, clock: Clock, engine: AsyncEngine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL lane")
    _, user_id = await add_member(sessions, clock)
    telegram = FakeBotAPI()
    application = build_application(
        settings, sessions, request=RecordingRequest(telegram), clock=clock
    )
    async with application:
        await User(application, telegram, user_id).send("/aide")
        hot = cast(DatabasePersistence, application.persistence)._hot
        assert isinstance(hot, PostgresHotPath)
        pid = await backend(hot)
        assert await alive(engine, pid)
    for _ in range(50):  # the server forgets a closed connection within milliseconds
        if not await alive(engine, pid):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the hot path's connection outlived the application")
