"""Flood: strangers send bursts of messages while a member uses the bot. The member's answers
must not wait behind them (issue 13, item 7: 320 messages made a member's /aide wait 64 s).

The bot runs as `python -m bot run` does: update queue, per-chat processor, Telegram's rate
limits (one new message a second in a private chat), a Bot API answering in 50 ms. Every
stranger's burst is queued at once; then ten members send /aide in turn, one every 110 ms (each
member every 1.1 s: Telegram lets the bot answer a person once a second), each timed from the
moment it is queued to the end of its processing (its answer sent).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from bench.flow import LenientBotAPI, SlowRequest, payload
from bench.harness import Report, fresh_database, percentile
from bench.updates import bot_application, make_members
from bot.db import create_engine, make_sessions
from bot.settings import Settings
from bot.texts import REFUSAL

# strangers, messages each, members, the members' /aide messages in all
SIZES = {"tiny": (2, 30, 4, 4), "full": (5, 300, 10, 40)}
MEMBER_EVERY_SECONDS = 0.11
API_LATENCY_SECONDS = 0.05
STRANGER_IDS = 900_000


async def run(report: Report, kind: str, postgres_url: str, size: str, repeat: int) -> None:
    """Strangers' bursts queued at once, members' /aide timed through them."""
    _ = repeat  # each /aide is one sample
    strangers, burst, members, samples = SIZES[size]
    url = await fresh_database(kind, postgres_url, "aveq_bench_flood")
    engine = create_engine(url, background_checkpoints=True)
    sessions = make_sessions(engine)
    settings = Settings(_env_file=None, telegram_bot_token="1:bench", database_url=url)  # type: ignore[call-arg]
    member_ids = await make_members(sessions, members, 10_000)
    api = LenientBotAPI()
    app: Any = bot_application(
        settings, sessions, SlowRequest(api, API_LATENCY_SECONDS), rate_limited=True
    )

    queued: dict[int, float] = {}
    waited: list[float] = []
    all_answered = asyncio.Event()

    async def done(update: Update, _: object) -> None:
        """After every other group: the member's update is fully handled."""
        started = queued.pop(update.update_id, None)
        if started is not None:
            waited.append((time.perf_counter() - started) * 1000)
            if len(waited) == samples:
                all_answered.set()

    app.add_handler(TypeHandler(Update, done), group=200)
    async with app:
        for job in app.job_queue.jobs():
            if job.name != "wal_checkpoint":
                job.schedule_removal()
        await app.start()
        started = time.perf_counter()
        for stranger, _message in itertools.product(range(strangers), range(burst)):
            data = payload(api, STRANGER_IDS + stranger, "text", "bonjour")
            await app.update_queue.put(Update.de_json(data, app.bot))
        for sample in range(samples):
            data = payload(api, member_ids[sample % members], "text", "/aide")
            queued[data["update_id"]] = time.perf_counter()
            await app.update_queue.put(Update.de_json(data, app.bot))
            await asyncio.sleep(MEMBER_EVERY_SECONDS)  # a person typing: a benchmark only
        await asyncio.wait_for(all_answered.wait(), timeout=900)
        await app.update_queue.join()  # and every stranger's update handled
        wall = time.perf_counter() - started
        await app.stop()
    refusals = sum(
        1 for s in range(strangers) for m in api.chat(STRANGER_IDS + s) if m.text == REFUSAL
    )
    dropped = getattr(app.update_processor, "dropped", 0)
    await engine.dispose()

    label = f"{strangers} strangers x {burst} msgs"
    report.add("flood", kind, label, "member /aide p50", percentile(waited, 0.5), "ms")
    report.add(
        "flood", kind, label, "member /aide p99", percentile(waited, 0.99), "ms", "< 2000 ms"
    )
    report.add("flood", kind, label, "member /aide max", max(waited), "ms")
    report.add("flood", kind, label, "refusals sent", refusals, "", f"= {strangers}")
    report.add("flood", kind, label, "stranger updates dropped", dropped, "")
    report.add("flood", kind, label, "everything handled in", wall, "s")
