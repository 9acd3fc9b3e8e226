"""Delivery: reminders to as many chats through the real sending path (HTTP, PTB's rate limiter)
against a local fake Bot API that enforces Telegram's limits and answers 429 past them."""

from __future__ import annotations

import collections
import datetime as dt
import time
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bench.fakebotapi import FakeBotAPI, FakeBotServer
from bench.harness import Report, fresh_database, peak_rss_mib, seed_open_orientations
from bot.app import build_application, settle_heap
from bot.context import services_of
from bot.db import create_engine, make_sessions
from bot.settings import Settings
from jobs.reminders import send_due_reminders
from models import demo
from models.base import utcnow
from models.orientations import Orientation
from models.reference import Neighbourhood
from models.team import Member

SIZES = {"tiny": 20, "full": 1_000}
TOKEN = "42:delivery-bench"


class TelegramLimits(FakeBotAPI):
    """30 messages per second overall, one per second per chat; 429 with retry_after past them."""

    def __init__(self) -> None:
        super().__init__()
        self.recent: collections.deque[float] = collections.deque()
        self.per_chat: dict[int, float] = {}
        self.refused = 0

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "sendMessage":
            now = time.monotonic()
            while self.recent and now - self.recent[0] >= 1:
                self.recent.popleft()
            chat = int(params["chat_id"])
            if len(self.recent) >= 30 or now - self.per_chat.get(chat, -10.0) < 1:
                self.refused += 1
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                }
            self.recent.append(now)
            self.per_chat[chat] = now
        return super().handle(method, params)


async def run(report: Report, kind: str, postgres_url: str, size: str, repeat: int) -> None:
    """Send `size` due reminders to as many chats; count time, rate, 429s and losses."""
    _ = repeat
    count = SIZES[size]
    url = await fresh_database(kind, postgres_url, "aveq_bench_delivery")
    engine = create_engine(url)
    sessions = make_sessions(engine)
    now = utcnow()
    async with sessions.begin() as session:
        nbh = (await session.exec(select(Neighbourhood))).first()
        members = [
            {"telegram_user_id": 3_000_000 + i, "display_name": f"m{i}", "role": "mediator",
             "neighbourhood_id": nbh.id if nbh else None, "active": True, "joined_at": now}
            for i in range(count)
        ]  # fmt: skip
        member_ids = await demo.bulk_insert(await session.connection(), Member, members)
        await seed_open_orientations(
            session, mediator_ids=member_ids, due=[now - dt.timedelta(minutes=1)] * count
        )

    api = TelegramLimits()
    server = FakeBotServer(api, TOKEN)
    await server.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        database_url=url,
        telegram_api_base_url=server.base_url,
        reminder_days="mon-sun",
        reminder_hours="00:00-23:59",
    )
    app = build_application(settings, sessions)
    settle_heap()
    label = f"{count} reminders / {count} chats"
    async with app:
        started = time.perf_counter()
        sent = await send_due_reminders(bot=app.bot, services=services_of(app), now=now)
        wall = time.perf_counter() - started
    await server.stop()
    async with sessions() as session:
        recorded = (
            await session.exec(
                select(func.count())
                .select_from(Orientation)
                .where(col(Orientation.reminders_sent) == 1)
            )
        ).one()
    delivered = len(api.method_calls("sendMessage"))  # refused calls are not recorded
    report.add("delivery", kind, label, "wall time", wall, "s")
    report.add(
        "delivery", kind, label, "achieved rate / 30 per s", (sent / wall) / 30, "share", ">= 0.9"
    )
    report.add("delivery", kind, label, "429 received", api.refused, "", "= 0")
    report.add("delivery", kind, label, "lost (due, not delivered)", count - delivered, "", "= 0")
    report.add("delivery", kind, label, "recorded once", recorded, "", f"= {count}")
    report.add("memory", kind, label, "peak RSS", peak_rss_mib(), "MiB", "< 250 MiB")
    await engine.dispose()
