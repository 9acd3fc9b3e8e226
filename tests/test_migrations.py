"""The migrations build exactly the schema the models declare, on the lane's database."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.db import create_engine, upgrade_database


async def test_migrations_match_the_models(empty_database_url: str) -> None:
    url = empty_database_url
    await asyncio.to_thread(upgrade_database, url)
    await asyncio.to_thread(upgrade_database, url)  # a second start changes nothing
    engine = create_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), SQLModel.metadata
            )
        )
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    await engine.dispose()
    assert diff == []
    assert version is not None


async def test_a_draft_and_a_handled_update_survive_the_change_of_their_keys(
    empty_database_url: str,
) -> None:
    # 0014 copies both tables into new ones on SQLite: a member's draft in progress and the
    # updates already handled are still there afterwards (a redelivery stays ignored).
    url = empty_database_url
    await asyncio.to_thread(upgrade_database, url, "0013")
    engine = create_engine(url)
    big = 7_000_000_000  # Telegram ids exceed 32 bits
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO user_state VALUES (:id, 'token', '2026-12-01 08:00:00')"),
            {"id": big},
        )
        await conn.execute(
            text("INSERT INTO processed_update VALUES (:id, '2026-12-01 08:00:00')"), {"id": big}
        )
    await asyncio.to_thread(upgrade_database, url)
    async with engine.connect() as conn:
        drafts = (await conn.execute(text("SELECT user_id, data FROM user_state"))).all()
        handled = (await conn.execute(text("SELECT update_id FROM processed_update"))).all()
    await engine.dispose()
    assert [tuple(row) for row in drafts] == [(big, "token")]
    assert [tuple(row) for row in handled] == [(big,)]
