"""The reminder sweep at 100,000 open orientations, 1,000 of them due."""

from __future__ import annotations

import datetime as dt
import time

from sqlmodel import select

from bench.harness import (
    Report,
    analyse,
    fresh_database,
    percentile,
    seed_open_orientations,
    timed,
)
from bot.context import Services
from bot.db import create_engine, make_sessions
from bot.settings import Settings
from jobs.reminders import send_due_reminders
from models import orientations
from models.base import pk, utcnow
from models.reference import Neighbourhood
from models.team import Member

SIZES = {"tiny": (1_000, 10), "full": (100_000, 1_000)}


def due_time(now: dt.datetime, index: int, due: int) -> dt.datetime:
    """The first `due` rows are due (oldest first), the others within the next month."""
    if index < due:
        return now - dt.timedelta(minutes=index + 1)
    return now + dt.timedelta(days=1 + index % 30)


class NullBot:
    """Sends nothing: the sweep's own cost, without Telegram's rate limit."""

    async def send_message(self, *_: object, **__: object) -> None:
        """Accept and drop."""


async def run(report: Report, kind: str, postgres_url: str, size: str, repeat: int) -> None:
    total, due = SIZES[size]
    label = f"{total} open / {due} due"
    url = await fresh_database(kind, postgres_url, "aveq_bench_sweep")
    engine = create_engine(url)
    sessions = make_sessions(engine)
    now = utcnow()
    async with sessions.begin() as session:
        nbh = (await session.exec(select(Neighbourhood))).first()
        member = Member(
            telegram_user_id=-1,
            display_name="bench",
            role="mediator",
            neighbourhood_id=nbh.id if nbh else None,
            joined_at=now,
        )
        session.add(member)
        await session.flush()
        await seed_open_orientations(
            session,
            mediator_ids=[pk(member)] * total,
            due=[due_time(now, i, due) for i in range(total)],
        )
    await analyse(url, sessions)

    async def idle_claim() -> None:
        async with sessions() as session:
            await orientations.claim_due_checks(
                session=session, now=now - dt.timedelta(days=1), limit=200
            )

    durations = await timed(idle_claim, repeat * 10)
    report.add(
        "sweep",
        kind,
        label,
        "idle sweep (nothing due) p50",
        percentile(durations, 0.5),
        "ms",
        "< 100 ms",
    )

    async def claim_all_due() -> None:
        """The sweep's claim of every due check, rolled back so that each run finds them."""
        async with sessions() as session:
            claimed = await orientations.claim_due_checks(session=session, now=now, limit=due)
            assert len(claimed) == due
            await session.rollback()

    durations = await timed(claim_all_due, repeat)
    report.add(
        "sweep", kind, label, f"claim of {due} due (1 transaction) p50",
        percentile(durations, 0.5), "ms", "< 100 ms",
    )  # fmt: skip
    settings = Settings(
        _env_file=None,
        database_url=url,
        telegram_bot_token="1:x",
        reminder_days="mon-sun",
        reminder_hours="00:00-23:59",
    )  # type: ignore[call-arg]
    services = Services(settings=settings, sessions=sessions, clock=lambda: now)
    started = time.perf_counter()
    sent = await send_due_reminders(bot=NullBot(), services=services, now=now)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    report.add(
        "sweep", kind, label, f"{sent} due claimed, sent (no-op) and recorded", elapsed, "ms"
    )
    report.add(
        "sweep", kind, label, "per reminder (record after send)", elapsed / max(sent, 1), "ms"
    )
    await engine.dispose()
