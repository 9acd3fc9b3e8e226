"""Sending as Telegram wants it: one new message a second in a private chat, and other chats
never wait for a busy one."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app import build_application
from bot.db import Sessions
from bot.settings import Settings
from tests.conftest import Clock
from tests.fakes import FakeBotAPI, RecordingRequest


class TimedRequest(RecordingRequest):
    """Records the method, chat, loop time and status of every call."""

    def __init__(self, api: FakeBotAPI) -> None:
        super().__init__(api)
        self.times: list[tuple[str, int | None, float, int]] = []

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        params = dict(request_data.parameters) if request_data else {}
        chat = int(params["chat_id"]) if params.get("chat_id") else None
        at = asyncio.get_running_loop().time()
        status, body = await super().do_request(url, method, request_data, **kw)
        self.times.append((url.rsplit("/", 1)[-1], chat, at, status))
        return status, body


async def test_one_new_message_per_second_in_a_private_chat(
    settings: Settings, sessions: Sessions, api: FakeBotAPI, clock: Clock
) -> None:
    real = settings.model_copy(update={"private_chat_messages_per_second": 1})
    request = TimedRequest(api)
    app = build_application(real, sessions, request=request, clock=clock)
    async with app:
        await asyncio.gather(
            *(app.bot.send_message(chat, f"m{i}") for i, chat in enumerate([11, 11, 11, 22, 33]))
        )
    sent = [(chat, t) for method, chat, t, _ in request.times if method == "sendMessage"]
    to_11 = [t for chat, t in sent if chat == 11]
    assert len(to_11) == 3
    assert to_11[1] - to_11[0] >= 0.99
    assert to_11[2] - to_11[1] >= 0.99
    others = [t for chat, t in sent if chat != 11]
    assert all(t < to_11[1] for t in others), "other chats do not wait for chat 11"
