"""Delivery: reminders to as many chats through the real sending path (HTTP, PTB's rate limiter)
against a local fake Bot API that enforces Telegram's limits and answers 429 past them."""

from __future__ import annotations

import collections
import datetime as dt
import time
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import col, select

from bench.harness import Report, fresh_database, peak_rss_mib
from bot.app import build_application
from bot.context import services_of
from bot.db import create_engine, make_sessions
from bot.settings import Settings
from jobs.reminders import send_due_reminders
from models.base import utcnow
from models.orientations import Orientation
from models.people import Person
from models.reference import Neighbourhood, Partner
from models.team import Member
from tests.fakes import FakeBotAPI, FakeBotServer

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
        partner = (await session.exec(select(Partner))).first()
        conn = await session.connection()
        members = [
            {"telegram_user_id": 3_000_000 + i, "display_name": f"m{i}", "role": "mediator",
             "neighbourhood_id": nbh.id, "active": True, "joined_at": now}
            for i in range(count)
        ]  # fmt: skip
        member_table = Member.__table__  # type: ignore[attr-defined]
        returning = insert(member_table).returning(member_table.c.id, sort_by_parameter_order=True)
        member_ids = (await conn.execute(returning, members)).scalars().all()
        person_table = Person.__table__  # type: ignore[attr-defined]
        people = [
            {"first_name": "X", "first_name_key": "x", "sex": "female", "age_bracket": "26_44",
             "residence": "qpv", "channel": "other", "neighbourhood_id": nbh.id, "mediator_id": m,
             "registered_ft": "no", "rsa": "no", "contact_consent": False, "status": "oriented",
             "engaged_at": now, "last_contact_at": now}
            for m in member_ids
        ]  # fmt: skip
        returning = insert(person_table).returning(person_table.c.id, sort_by_parameter_order=True)
        person_ids = (await conn.execute(returning, people)).scalars().all()
        rows = [
            {"person_id": p, "mediator_id": m, "partner_id": partner.id, "purpose": "support",
             "mode": "information", "created_at": now, "reminders_sent": 0, "overdue": False,
             "seq": 0, "next_check_at": now - dt.timedelta(minutes=1)}
            for p, m in zip(person_ids, member_ids, strict=True)
        ]  # fmt: skip
        await conn.execute(insert(Orientation.__table__), rows)  # type: ignore[attr-defined]

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
    report.add("memory", kind, label, "peak RSS so far", peak_rss_mib(), "MiB", "< 250 MiB")
    await engine.dispose()
