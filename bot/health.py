"""`python -m bot health`: is this bot process alive and in touch with Telegram and its database?

The running bot writes a heartbeat file (`HEARTBEAT_FILE`, under data/) after each successful
exchange that proves it receives updates: in polling mode each successful `getUpdates` (one
every ten seconds or so, updates or not); in webhook mode, once a minute, a `getWebhookInfo`
saying Telegram is not piling up updates it fails to deliver. The health command (Docker
Compose's health check) reads that file's age and pings the database; it prints one French line
and exits 0 (healthy) or 1. The file is per process: each container checks its own bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text
from telegram.error import TelegramError
from telegram.ext import ContextTypes
from telegram.request import BaseRequest, RequestData

from bot import texts
from bot.db import create_engine
from bot.settings import Settings

logger = logging.getLogger(__name__)

WRITE_EVERY = dt.timedelta(seconds=10)  # at most one write per ten seconds
WEBHOOK_CHECK_SECONDS = 60
DATABASE_TIMEOUT_SECONDS = 10


class Heartbeat:
    """The heartbeat file of one bot process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last: dt.datetime | None = None

    def beat(self, now: dt.datetime | None = None) -> None:
        """Record a successful exchange (throttled; a failure to write is logged, not raised)."""
        now = now or dt.datetime.now(dt.UTC)
        if self._last is not None and now - self._last < WRITE_EVERY:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(self.path.name + ".tmp")
            partial.write_text(now.isoformat())
            os.replace(partial, self.path)
        except OSError as error:
            logger.warning("Could not write the heartbeat file: %s", type(error).__name__)
            return
        self._last = now

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        """Time since the last recorded beat; None when there is none (or it is unreadable)."""
        try:
            last = dt.datetime.fromisoformat(self.path.read_text().strip())
        except (OSError, ValueError):
            return None
        return now - last


class HeartbeatRequest(BaseRequest):
    """The HTTP layer of `getUpdates`, unchanged, except that a successful poll beats."""

    def __init__(self, inner: BaseRequest, heartbeat: Heartbeat) -> None:
        self.inner = inner
        self.heartbeat = heartbeat

    @property
    def read_timeout(self) -> float | None:
        """The wrapped layer's."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Open the wrapped layer."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the wrapped layer."""
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send through the wrapped layer; a 200 to `getUpdates` is a heartbeat."""
        status, body = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200 and url.endswith("/getUpdates"):
            self.heartbeat.beat()
        return status, body


def webhook_job(heartbeat: Heartbeat) -> Any:
    """The job a webhook process runs every minute: Telegram reachable, webhook set, and not
    failing to deliver what it holds → a heartbeat."""

    async def check_webhook(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            info = await context.bot.get_webhook_info()
        except TelegramError as error:
            logger.warning("Webhook check failed: %s", type(error).__name__)
            return
        now = dt.datetime.now(dt.UTC)
        failing = (
            info.pending_update_count > 0
            and info.last_error_date is not None
            and now - info.last_error_date < dt.timedelta(seconds=2 * WEBHOOK_CHECK_SECONDS)
        )
        if info.url and not failing:
            heartbeat.beat(now)

    return check_webhook


async def database_reachable(settings: Settings) -> str | None:
    """None when `SELECT 1` answers in time, else the error's type name."""
    engine = create_engine(settings.database_url)
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure is the answer, never a traceback
        return type(error).__name__
    finally:
        await engine.dispose()
    return None


async def check(settings: Settings, now: dt.datetime | None = None) -> tuple[bool, str]:
    """(healthy, the French sentence saying why)."""
    now = now or dt.datetime.now(dt.UTC)
    problem = await database_reachable(settings)
    if problem is not None:
        return False, texts.HEALTH_DATABASE_DOWN.format(error=problem)
    age = Heartbeat(settings.heartbeat_file).age(now)
    if age is None:
        return False, texts.HEALTH_NO_HEARTBEAT.format(path=settings.heartbeat_file)
    seconds = max(0, int(age.total_seconds()))
    if seconds > settings.health_max_age_seconds:
        return False, texts.HEALTH_STALE.format(
            seconds=seconds, limit=settings.health_max_age_seconds
        )
    return True, texts.HEALTH_OK.format(seconds=seconds)
