"""Exports that never freeze the bot, and the digest's chart.

While a coordinator's export of SIZES people runs (read and built in a process of its own,
`bot.exports.build`), mediators in other chats go through the /nouveau flow, one update every
PACE seconds: each update's time through `Application.process_update` is measured, before the
export (the baseline) and while it runs. Target: a p99 under 50 ms during the export. Then the
chart of a full year, drawn CHART_RUNS times (target: under 150 ms).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import multiprocessing
import resource
import time
from typing import Any
from zoneinfo import ZoneInfo

from bench.flow import FLOW, LenientBotAPI, payload
from bench.harness import (
    RESULTS,
    Report,
    analyse,
    database_url,
    ensure_data_key,
    fresh_database,
    peak_rss_mib,
    percentile,
    reset_peak_rss,
)
from bench.indicators import existing_people
from bench.updates import make_members
from bot import charts, texts
from bot.app import build_application
from bot.callbacks import Pick
from bot.db import create_engine, make_sessions
from bot.settings import Settings
from handlers import periods, stats
from models import demo, team
from models.base import utcnow
from models.team import Role
from tests.fakes import RecordingRequest

SIZES = {"tiny": 300, "full": 200_000}
MEDIATORS = {"tiny": 4, "full": 40}
PACE = 0.01  # seconds between two of the other chats' updates (100 a second offered)
CHART_RUNS = {"tiny": 3, "full": 20}
TZ = ZoneInfo("Europe/Paris")
MAX_EXPORT_SECONDS = 900
EXPORT_THIS_YEAR = Pick(stats.EXPORT.key, periods.PERIOD, "year").pack()  # « Cette année »


async def _coordinator(sessions: Any, telegram_id: int) -> None:
    async with sessions.begin() as session:
        issued = await team.create_invitation(
            session=session, role=Role.COORDINATOR, display_name="Bench coordination",
            now=utcnow(), ttl=dt.timedelta(days=1),
        )  # fmt: skip
        await team.redeem_invitation(
            session=session, code=issued.code, telegram_user_id=telegram_id, now=utcnow()
        )


async def _updates_while(
    app: Any, api: LenientBotAPI, users: list[int], running: Any, limit: int
) -> list[float]:
    """The /nouveau flow of `users`, round after round, one update every PACE seconds, while
    `running()` (or `limit` updates); each update's duration in ms."""
    durations: list[float] = []
    step = 0
    while running() and len(durations) < limit:
        user = users[step % len(users)]
        kind, value = FLOW[(step // len(users)) % len(FLOW)]
        update = payload(api, user, kind, value)
        started = time.perf_counter()
        await app.process_update(app.update_from(update))
        durations.append((time.perf_counter() - started) * 1000)
        step += 1
        await asyncio.sleep(PACE)
    return durations


async def run(report: Report, kind: str, postgres_url: str, size: str, repeat: int) -> None:
    """Generate (or reuse) SIZES people, then measure the other chats during an export."""
    _ = repeat
    people = SIZES[size]
    label = f"export of {people} people"
    name = f"aveq_bench_export_{people}"
    # drafts are encrypted: without a key every update of the flow fails, and a data set kept
    # from an earlier run needs the key it was made with
    ensure_data_key(RESULTS / "data" / f"{name}-{kind}.key")
    url = database_url(kind, postgres_url, name)
    now = utcnow()
    if await existing_people(url) < people:  # the generator adds a few: reuse what is there
        url = await fresh_database(kind, postgres_url, name)
        engine = create_engine(url)
        started = time.perf_counter()
        async with make_sessions(engine).begin() as session:
            counts = await demo.generate(
                session=session,
                size=demo.DemoSize(people=people, interactions_per_person=0.2, years=1),
                now=now, seed=11,
            )  # fmt: skip
        report.add(
            "generate", kind, label, f"rows: {sum(counts.values())}",
            time.perf_counter() - started, "s",
        )  # fmt: skip
        await engine.dispose()
    engine = create_engine(url, background_checkpoints=True)
    sessions = make_sessions(engine)
    await analyse(url, sessions)
    settings = Settings(_env_file=None, telegram_bot_token="1:bench", database_url=url)  # type: ignore[call-arg]
    api = LenientBotAPI()
    # update ids this data set has not seen: a kept data set remembers the updates of earlier
    # runs as handled, and the bot ignores a redelivered update (nothing would be measured)
    api._update_ids = itertools.count(int(time.time()) % 10**6 * 1000)
    # As `python -m bot run` builds it, Telegram's rate limiter included (its waits are in the
    # figures, the same before and during the export).
    app: Any = build_application(settings, sessions, request=RecordingRequest(api))
    app.update_from = lambda data: _update(app, data)
    coordinator = 10**9 + int(time.time()) % 10**6 * 1000  # new members on a reused data set
    await _coordinator(sessions, coordinator)
    users = await make_members(sessions, MEDIATORS[size], coordinator + 1)
    reset_peak_rss()
    async with app:
        await _updates_while(app, api, users, lambda: True, len(FLOW) * len(users))  # warm-up
        baseline = await _updates_while(app, api, users, lambda: True, 300)
        await app.process_update(app.update_from(payload(api, coordinator, "text", "/export")))
        started = time.perf_counter()
        await app.process_update(
            app.update_from(payload(api, coordinator, "tap", EXPORT_THIS_YEAR))
        )
        answered = (time.perf_counter() - started) * 1000

        deadline = time.perf_counter() + MAX_EXPORT_SECONDS

        def exporting() -> bool:
            sent = sum(1 for chat, k, _ in api.files if chat == coordinator)
            return sent < 2 and time.perf_counter() < deadline

        during = await _updates_while(app, api, users, exporting, 10**9)
        wall = time.perf_counter() - started
        if time.perf_counter() >= deadline:
            raise RuntimeError("the export was not delivered within MAX_EXPORT_SECONDS")
    await engine.dispose()
    multiprocessing.active_children()  # reaps the export's process: its peak RSS is counted
    files = [content for chat, kind_, (_, content, _) in api.files if chat == coordinator]
    report.add("exports", kind, label, "export button answered in", answered, "ms")
    report.add("exports", kind, label, "export built and sent in", wall, "s")
    report.add("exports", kind, label, "workbook size", len(files[0]) / 2**20, "MiB")
    report.add(
        "exports", kind, label, "other updates, no export: p99", percentile(baseline, 0.99), "ms"
    )
    report.add("exports", kind, label, "other updates during export", len(during), "")
    report.add(
        "exports", kind, label, "other updates during export: p50", percentile(during, 0.5), "ms"
    )
    report.add(
        "exports", kind, label, "other updates during export: p99", percentile(during, 0.99),
        "ms", "< 50 ms",
    )  # fmt: skip
    report.add("memory", kind, label, "peak RSS, export", peak_rss_mib(), "MiB")
    export_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report.add("memory", kind, label, "peak RSS, the export's own process", export_rss, "MiB")
    if kind == "sqlite":  # the chart does not touch the database: measured once
        chart(report, size)


def _update(app: Any, data: dict[str, Any]) -> Any:
    from telegram import Update

    return Update.de_json(data, app.bot)


def chart(report: Report, size: str) -> None:
    """The digest's chart for a full year and eight neighbourhoods."""
    days = [dt.date(2026, 1, 4) + dt.timedelta(days=7 * i) for i in range(52)]
    data = charts.ChartData(
        year_weeks=days, year_cumulative=[16 * i for i in range(52)], yearly_target=800,
        areas=[charts.Area(f"Quartier {i}", 60 + 9 * i, 100 if i % 3 == 0 else None)
               for i in range(8)],
    )  # fmt: skip
    words = charts.ChartTexts(
        title=texts.CHART_TITLE.format(year=2026), cumulative=texts.CHART_CUMULATIVE,
        target_pace=texts.CHART_TARGET.format(target=800),
        x_axis=texts.CHART_X_AXIS.format(year=2026), y_axis=texts.CHART_Y_AXIS,
        areas_title=texts.CHART_AREAS_TITLE.format(year=2026),
        areas_axis=texts.CHART_AREAS_AXIS, area_target=texts.CHART_AREA_TARGET,
        status=texts.CHART_STATUS,
    )  # fmt: skip
    started = time.perf_counter()
    charts.render_png(data, words)  # the first one imports matplotlib and loads the fonts
    first = (time.perf_counter() - started) * 1000
    durations = []
    for _ in range(CHART_RUNS[size]):
        started = time.perf_counter()
        charts.render_png(data, words)
        durations.append((time.perf_counter() - started) * 1000)
    label = "585 x 960 px, 52 weeks, 8 areas"
    report.add("chart", "-", label, "first render (import, fonts)", first, "ms")
    report.add("chart", "-", label, "render p50", percentile(durations, 0.5), "ms", "< 150 ms")
    report.add("chart", "-", label, "render max", max(durations), "ms")
