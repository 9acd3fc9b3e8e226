"""Update processing: the /nouveau flow and a follow-up answer through
`Application.process_update` with an offline bot, many users interleaved; then 200 chats at
once with a 50 ms Bot API, through the update queue and the per-chat processor."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import itertools
import json
import statistics
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, update
from telegram import Update
from telegram.ext import TypeHandler

from bench.flow import FLOW, LenientBotAPI, SlowRequest, payload
from bench.harness import Report, ensure_data_key, fresh_database, peak_rss_mib, percentile
from bot.app import build_application, settle_heap
from bot.db import Sessions, checkpoint, create_engine, make_sessions
from bot.settings import Settings
from models import team
from models.base import utcnow
from models.botstate import UserState
from models.reference import Neighbourhood
from models.team import Role
from tests.fakes import FakeBotAPI, RecordingRequest

SIZES = {"tiny": (5, 5), "full": (100, 200)}
WARM_UP_USERS = {"tiny": 2, "full": 20}
ROUNDS = {"tiny": 1, "full": 3}


async def make_members(sessions: Sessions, count: int, first_id: int) -> list[int]:
    now = utcnow()
    ids = []
    async with sessions.begin() as session:
        nbh = (await session.exec(Neighbourhood.__table__.select())).first()  # type: ignore[attr-defined]
        for i in range(count):
            issued = await team.create_invitation(
                session=session, role=Role.MEDIATOR, display_name=f"Bench {i}",
                neighbourhood_id=nbh.id, now=now, ttl=dt.timedelta(days=1),
            )  # fmt: skip
            await team.redeem_invitation(
                session=session, code=issued.code, telegram_user_id=first_id + i, now=now
            )
            ids.append(first_id + i)
    return ids


async def bare_cost(sessions: Sessions, user_ids: list[int], steps: int) -> list[float]:
    """The same kind of writes with SQLAlchemy Core: one transaction per update."""
    durations = []
    state = json.dumps({"drafts": {"nv": {"values": {"first_name": "Amina"}, "history": []}}})
    now = utcnow()
    async with sessions.begin() as session:
        conn = await session.connection()
        await conn.execute(
            insert(UserState.__table__),
            [{"user_id": u, "data": state, "updated_at": now} for u in user_ids],
        )  # type: ignore[attr-defined]
    for _ in range(steps):
        for user_id in user_ids:
            start = time.perf_counter()
            async with sessions.begin() as session:
                conn = await session.connection()
                await conn.execute(
                    update(UserState.__table__)
                    .where(UserState.__table__.c.user_id == user_id)
                    .values(data=state, updated_at=now)  # type: ignore[attr-defined]
                )
            durations.append((time.perf_counter() - start) * 1000)
    async with sessions.begin() as session:
        conn = await session.connection()
        await conn.execute(
            delete(UserState.__table__).where(UserState.__table__.c.user_id.in_(user_ids))
        )  # type: ignore[attr-defined]
    return durations


async def one_at_a_time(app: Any, api: FakeBotAPI, user_ids: list[int]) -> list[float]:
    """Every user's /nouveau flow, step by step, users interleaved, each update through
    `process_update` alone: the milliseconds each took."""
    durations = []
    for kind_, value in FLOW:
        for user_id in user_ids:
            update_ = Update.de_json(payload(api, user_id, kind_, value), app.bot)
            start = time.perf_counter()
            await app.process_update(update_)
            durations.append((time.perf_counter() - start) * 1000)
    return durations


async def through_queue(app: Any, api: FakeBotAPI, chat_ids: list[int]) -> tuple[float, bool, int]:
    """Every chat's /nouveau flow put on the update queue at once, processed as the bot does
    (jobs stopped, but SQLite's checkpoints: only updates are measured): wall time, whether
    every chat's updates ran in arrival order, and how many people were saved."""
    order: dict[int, list[int]] = defaultdict(list)
    total = len(chat_ids) * len(FLOW)
    completed: list[int] = []
    finished = asyncio.Event()

    async def seen(update_: Update, _: object) -> None:
        if update_.effective_chat is not None:
            order[update_.effective_chat.id].append(update_.update_id)

    async def last(update_: Update, _: object) -> None:
        completed.append(update_.update_id)
        if len(completed) >= total:
            finished.set()

    app.add_handler(TypeHandler(Update, seen), group=-10)  # arrival: before anything else
    app.add_handler(TypeHandler(Update, last), group=200)  # completion: after everything
    expected: dict[int, list[int]] = defaultdict(list)
    async with app:
        for job in app.job_queue.jobs():
            if job.name != "wal_checkpoint":  # it runs beside the updates, as in the bot
                job.schedule_removal()
        await app.start()
        started = time.perf_counter()
        for kind_, value in FLOW:
            for chat_id in chat_ids:
                data = payload(api, chat_id, kind_, value)
                expected[chat_id].append(data["update_id"])
                await app.update_queue.put(Update.de_json(data, app.bot))
        await asyncio.wait_for(finished.wait(), timeout=600)
        wall = time.perf_counter() - started
        await app.stop()
    in_order = all(order[c] == expected[c] for c in chat_ids)
    saved = sum(1 for c in chat_ids if any(m.text.startswith("Enregistré") for m in api.chat(c)))
    return wall, in_order, saved


def bot_application(
    settings: Settings,
    sessions: Sessions,
    request: RecordingRequest,
    *,
    rate_limited: bool = False,
) -> Any:
    """The bot as `python -m bot run` builds it (with a data key), heap settled, without
    Telegram's rate limit unless asked (the delivery benchmark measures that). The bot settles
    its heap once; here the bots of earlier measures are garbage, so what was frozen is handed
    back to the collector first."""
    ensure_data_key()
    gc.unfreeze()
    app = build_application(settings, sessions, request=request, rate_limited=rate_limited)
    settle_heap()
    return app


async def run(report: Report, kind: str, postgres_url: str, size: str, repeat: int) -> None:
    """One update at a time (latency-free), then through the update queue: the same users
    without latency, and 200 chats with a 50 ms Bot API."""
    _ = repeat  # every update is measured once; the sizes make the percentiles
    users, chats = SIZES[size]
    url = await fresh_database(kind, postgres_url, "aveq_bench_updates")
    engine = create_engine(url, background_checkpoints=True)  # as `python -m bot run` does
    sessions = make_sessions(engine)
    settings = Settings(_env_file=None, telegram_bot_token="1:bench", database_url=url)  # type: ignore[call-arg]
    label = f"{users} users x {len(FLOW)} updates"

    api = FakeBotAPI()
    app = bot_application(settings, sessions, RecordingRequest(api))
    user_ids = await make_members(sessions, users, 10_000)
    warm_up_ids = await make_members(sessions, WARM_UP_USERS[size], 40_000)
    async with app:
        # A bot that has been running for a minute: statements compiled (and, on PostgreSQL,
        # prepared on each pooled connection), caches filled. Not measured.
        await one_at_a_time(app, api, warm_up_ids)
        started = time.perf_counter()
        durations = await one_at_a_time(app, api, user_ids)
        wall = time.perf_counter() - started
    saved = sum(
        1 for u in user_ids if api.chat(u) and api.chat(u)[-1].text.startswith("Enregistré")
    )
    target = "< 10 ms" if kind == "sqlite" else "< 15 ms"
    report.add("updates", kind, label, "p50 per update", percentile(durations, 0.5), "ms")
    report.add("updates", kind, label, "p99 per update", percentile(durations, 0.99), "ms", target)
    per_second = len(durations) / wall
    # The 300/s target is for the bot as it runs (the queue measure below): one at a time,
    # PostgreSQL mostly waits on its round trips.
    report.add("updates", kind, label, "updates per second, one at a time", per_second, "/s")
    report.add("updates", kind, label, "people saved", saved, "", f"= {users}")
    bare = await bare_cost(sessions, [u + 500_000 for u in user_ids], len(FLOW))
    report.add(
        "updates", kind, label, "bare DB write p50 (Core, 1 tx)", percentile(bare, 0.5), "ms"
    )
    ratio = percentile(durations, 0.5) / percentile(bare, 0.5)
    report.add("updates", kind, label, "bot overhead vs bare DB (p50)", ratio, "x", "< 5 x")

    # The same flow through the update queue, as the bot runs: chats concurrently, each in
    # order. Without network latency first (the bot's own throughput), then with 50 ms per
    # Bot API call over 200 chats. Each a few rounds (new chats each time): the median.
    await checkpoint(engine)  # the running bot's job would have by now
    rounds = ROUNDS[size]
    for label, count, latency, first_id, target in (
        (f"{users} users, no latency", users, 0.0, 30_000, ">= 300 /s"),
        (f"{chats} chats, 50 ms API", chats, 0.05, 100_000, ">= 200 /s"),
    ):
        rates, saved, in_order = [], 0, True
        for round_ in range(rounds):
            api = LenientBotAPI()
            # The same bot: update ids never restart.
            api._update_ids = itertools.count(1_000_000 * (2 + round_ + 10 * bool(latency)))
            request = SlowRequest(api, latency) if latency else RecordingRequest(api)
            app = bot_application(settings, sessions, request)
            ids = await make_members(sessions, count, first_id + round_ * 1_000)
            wall, ordered, done = await through_queue(app, api, ids)
            rates.append(count * len(FLOW) / wall)
            saved, in_order = saved + done, in_order and ordered
        report.add("updates", kind, label, "people saved", saved, "", f"= {count * rounds}")
        figure = f"updates per second, median of {rounds}"
        report.add("updates", kind, label, figure, statistics.median(rates), "/s", target)
        report.add(
            "updates", kind, label, "every chat in arrival order", float(in_order), "bool", "= 1"
        )
    report.add("memory", kind, label, "peak RSS", peak_rss_mib(), "MiB", "< 250 MiB")
    await engine.dispose()
