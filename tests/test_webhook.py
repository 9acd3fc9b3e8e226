"""Webhook mode (PTB's built-in server): Telegram's secret token is required on every request."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from pydantic import ValidationError
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import BotApplication
from bot.settings import Settings
from tests.conftest import TOKEN, User

SECRET = "s3cret-token-of-the-webhook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_requests_without_the_secret_are_refused_and_run_no_handler(
    app: BotApplication, mediator: User
) -> None:
    seen: list[int] = []
    done = asyncio.Event()

    async def record(update: Update, _: object) -> None:
        seen.append(update.update_id)
        done.set()

    app.add_handler(TypeHandler(Update, record), group=200)
    port = free_port()
    await app.updater.start_webhook(  # type: ignore[union-attr]
        listen="127.0.0.1", port=port, url_path="telegram",
        webhook_url="https://bot.example.org/telegram", secret_token=SECRET,
    )  # fmt: skip
    await app.start()
    try:
        url = f"http://127.0.0.1:{port}/telegram"
        forged = mediator.message_update("/nouveau")
        genuine = mediator.message_update("/nouveau")
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=forged) as response:
                assert response.status == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
            async with http.post(url, json=forged, headers=wrong) as response:
                assert response.status == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with http.post(url, json=genuine, headers=right) as response:
                assert response.status == 200
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
    assert seen == [genuine["update_id"]]
    assert "Prénom" in mediator.last.text


def test_webhook_mode_needs_a_real_secret() -> None:
    base = {"_env_file": None, "telegram_bot_token": TOKEN, "webhook_url": "https://x.org"}
    for bad in (None, "short", "changeme", "has spaces in it!!!!"):
        with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
            Settings(**base, webhook_secret=bad)  # type: ignore[arg-type]
    assert Settings(**base, webhook_secret=SECRET).webhook_url == "https://x.org"  # type: ignore[arg-type]
