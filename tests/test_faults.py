"""Real bot processes against the fake Bot API, killed with SIGKILL in the middle of a reminder
sweep: what Telegram received is compared with what the database says. On PostgreSQL, two
replicas share the database: the leader is killed and the follower takes over the jobs."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.db import Sessions, create_engine, make_sessions
from bot.settings import Settings
from models import orientations, reference
from models.orientations import Mode, Orientation, Purpose
from models.team import Role
from tests.conftest import TOKEN, Clock, add_member, engage_person
from tests.fakes import FakeBotAPI, FakeBotServer
from tests.test_end_to_end import ROOT, bot_env

REMINDERS = 20
HELD_AFTER = 5
CODE = re.compile(r"Point à faire : (P-\d+)")


@pytest.fixture
async def server() -> AsyncIterator[FakeBotServer]:
    fake = FakeBotServer(FakeBotAPI(), TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


async def run_cli(env: dict[str, str], *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output


async def seed_due_reminders(url: str) -> list[int]:
    """Four mediators with REMINDERS orientations in all, whose checks fell due weeks ago."""
    engine = create_engine(url)
    sessions: Sessions = make_sessions(engine)
    policy = Settings(_env_file=None, database_url=url).followup_policy  # type: ignore[call-arg]
    month_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    clock = Clock(month_ago)
    members = [
        (await add_member(sessions, clock, role=Role.MEDIATOR, user_id=700 + i))[0]
        for i in range(4)
    ]
    ids = []
    async with sessions() as session:
        partner_id = (await reference.partners(session=session))[0].id or 0
    for i in range(REMINDERS):
        member = members[i % len(members)]
        person = await engage_person(sessions, clock, member, f"Awa{i}")
        async with sessions.begin() as session:
            made = await orientations.orient(
                session=session, actor=member, person_id=person, partner_id=partner_id,
                purpose=Purpose.SUPPORT, mode=Mode.INFORMATION, appointment_on=None, note=None,
                now=month_ago, today=month_ago.date(), policy=policy,
            )  # fmt: skip
            ids.append(made.id or 0)
    await engine.dispose()
    return ids


async def database_counts(url: str) -> dict[str, int]:
    """Reminders recorded as sent, by person code."""
    engine = create_engine(url)
    async with make_sessions(engine)() as session:
        rows = (await session.exec(select(Orientation))).all()
    await engine.dispose()
    return {f"P-{o.person_id:04d}": o.reminders_sent for o in rows}


def delivered(api: FakeBotAPI) -> Counter[str]:
    """Reminders Telegram received, by person code."""
    return Counter(
        match.group(1)
        for params in api.method_calls("sendMessage")
        if (match := CODE.search(str(params.get("text", ""))))
    )


def sweeping_env(server: FakeBotServer, url: str) -> dict[str, str]:
    env = bot_env(server, url)
    env.update(
        REMINDER_HOURS="00:00-23:59",
        REMINDER_DAYS="mon-sun",
        REMINDER_SWEEP_SECONDS="10",
        LEADER_POLL_SECONDS="1",
        DIGEST_CRON="0 9 29 2 *",  # no digest in these tests
    )
    return env


class BotProcess:
    """`python -m bot` with its output copied to a log file and watched line by line."""

    def __init__(self, process: Any, log: Path) -> None:
        self.process, self.log = process, log
        self.output: list[str] = []
        self._changed = asyncio.Condition()
        self._pump = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, env: dict[str, str], log: Path) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        return cls(process, log)

    async def _read(self) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            async for raw in self.process.stdout:
                line = raw.decode(errors="replace")
                out.write(line)
                async with self._changed:
                    self.output.append(line)
                    self._changed.notify_all()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.output)

    async def wait_for(self, text: str, within: float = 30) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: self.said(text))

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        await self._pump

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await self.process.wait()
            await self._pump


async def test_kill_during_a_reminder_sweep_loses_and_doubles_nothing(
    server: FakeBotServer, empty_database_url: str, tmp_path: Path
) -> None:
    env = sweeping_env(server, empty_database_url)
    await run_cli(env, "migrate")
    await seed_due_reminders(empty_database_url)
    log = tmp_path / "bot.log"
    server.hold("sendMessage", after=HELD_AFTER)
    bot = await BotProcess.start(env, log)
    try:
        # Telegram hangs on the sixth reminder: the process is killed while waiting for it.
        async with asyncio.timeout(60):
            await server.holding.wait()
        await bot.kill()
        assert sum(delivered(server.api).values()) == HELD_AFTER
        bot = await BotProcess.start(env, log)
        await server.wait_for(lambda api: sum(delivered(api).values()) >= REMINDERS, within=60)
    finally:
        await bot.stop()
    sent = delivered(server.api)
    recorded = await database_counts(empty_database_url)
    assert len(sent) == REMINDERS
    assert set(sent.values()) == {1}, "a reminder was sent twice"
    assert recorded == dict(sent), "the database and Telegram disagree"
    logs = "".join(bot.output)
    assert "Sent" in logs
    assert "Awa" not in logs
    assert TOKEN not in logs


async def test_two_replicas_the_leader_killed_the_follower_takes_over(
    server: FakeBotServer, empty_database_url: str, tmp_path: Path
) -> None:
    if not empty_database_url.startswith("postgresql"):
        pytest.skip(
            "replicas share a PostgreSQL database; the embedded SQLite file is one process"
        )
    env = sweeping_env(server, empty_database_url)
    await run_cli(env, "migrate")
    await seed_due_reminders(empty_database_url)
    leader_log, follower_log = tmp_path / "leader.log", tmp_path / "follower.log"
    server.hold("sendMessage", after=HELD_AFTER)
    leader = await BotProcess.start(env, leader_log)
    follower = None
    try:
        async with asyncio.timeout(60):
            await server.holding.wait()
        assert leader.said("This instance now runs the scheduled jobs")
        follower = await BotProcess.start(env, follower_log)
        await follower.wait_for("Another instance runs the scheduled jobs")
        assert sum(delivered(server.api).values()) == HELD_AFTER
        await leader.kill()
        await follower.wait_for("This instance now runs the scheduled jobs")
        await server.wait_for(lambda api: sum(delivered(api).values()) >= REMINDERS, within=60)
    finally:
        await leader.stop()
        if follower is not None:
            await follower.stop()
    sent = delivered(server.api)
    assert len(sent) == REMINDERS
    assert set(sent.values()) == {1}, "a reminder was sent twice"
    assert await database_counts(empty_database_url) == dict(sent)
