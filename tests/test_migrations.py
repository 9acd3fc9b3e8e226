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
