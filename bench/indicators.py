"""Indicator engine and digest text over growing data sets (reporting and performance issues)."""

from __future__ import annotations

import datetime as dt
import functools
import time
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.harness import (
    Report,
    analyse,
    database_url,
    fresh_database,
    peak_rss_mib,
    percentile,
    reset_peak_rss,
    timed,
)
from bot import reports
from bot.db import create_engine, make_read_sessions, make_sessions
from models import demo, stats
from models.base import utcnow
from models.people import Person
from models.stats import Period, Scope, ScopeKind

TZ = ZoneInfo("Europe/Paris")
# (people, interactions, years of history). The largest size is "years of national-scale
# data": 200,000 people over five years; "since the start" then covers all of them.
SIZES = {
    "tiny": [(100, 500, 1)],
    "full": [(2_000, 10_000, 1), (20_000, 100_000, 1), (200_000, 1_000_000, 5)],
}


async def figures_text(
    session: AsyncSession,
    labels: reports.Labels,
    period: Period,
    scope: Scope,
    today: dt.date,
    parallel: async_sessionmaker[AsyncSession],
) -> str:
    """What /stats and the digest do: the engine, then the French text."""
    figures = await stats.compute(
        session=session, period=period, scope=scope, tz=TZ, today=today, parallel=parallel
    )
    return reports.render(figures, labels, scope_label="bench", tz=TZ)


async def existing_people(url: str) -> int:
    """People already in a benchmark database (0 when it does not exist)."""
    engine = create_engine(url)
    try:
        async with make_sessions(engine)() as session:
            return (await session.exec(select(func.count()).select_from(Person))).one()
    except (OSError, DBAPIError):
        return 0
    finally:
        await engine.dispose()


async def run(
    report: Report, kind: str, postgres_url: str, size: str, repeat: int, *, reuse: bool = False
) -> None:
    """Generate each size (or, with `reuse`, keep what an earlier run generated), then time the
    engine for a year, a month, one neighbourhood and since the start."""
    for people, interactions, years in SIZES[size]:
        label = f"{people} p / {interactions} i / {years} y"
        name = f"aveq_bench_{people}_{years}y"
        url = database_url(kind, postgres_url, name)
        now = utcnow()
        if not (reuse and await existing_people(url) == people):
            url = await fresh_database(kind, postgres_url, name)
            engine = create_engine(url)
            started = time.perf_counter()
            async with make_sessions(engine).begin() as session:
                counts = await demo.generate(
                    session=session,
                    size=demo.DemoSize(
                        people=people, interactions_per_person=interactions / people, years=years
                    ),
                    now=now,
                    seed=7,
                )
            elapsed = time.perf_counter() - started
            report.add("generate", kind, label, f"rows: {sum(counts.values())}", elapsed, "s")
            await engine.dispose()
        engine = create_engine(url)
        sessions = make_sessions(engine)
        await analyse(url, sessions)
        reset_peak_rss()  # the bot's memory, not the generator's
        today = now.astimezone(TZ).date()
        cases = (
            (
                "indicators+text, 12 months, team",
                Period(today - dt.timedelta(days=364), today),
                Scope(),
            ),
            (
                "indicators+text, 30 days, team",
                Period(today - dt.timedelta(days=30), today),
                Scope(),
            ),
            (
                "indicators+text, 12 months, 1 area",
                Period(today - dt.timedelta(days=364), today),
                Scope(ScopeKind.NEIGHBOURHOOD, 1),
            ),
            (
                "indicators+text, since the start",
                Period(today - dt.timedelta(days=365 * years), today),
                Scope(),
            ),
        )
        async with sessions() as session:
            labels = await reports.load_labels(session=session)
            for name, period, scope in cases:
                call = functools.partial(
                    figures_text, session, labels, period, scope, today, make_read_sessions(engine)
                )
                durations = await timed(call, repeat)
                p50 = percentile(durations, 0.5)
                report.add("indicators", kind, label, f"{name} p50", p50, "ms", "< 1000 ms")
        report.add(
            "memory", kind, label, "peak RSS, indicators", peak_rss_mib(), "MiB", "< 250 MiB"
        )
        await engine.dispose()
