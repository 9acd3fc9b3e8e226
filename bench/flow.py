"""The /nouveau flow every update benchmark sends, and the fake Bot API it is answered by.

Light on purpose: the peers benchmark imports it in processes that never load this bot."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.fakebotapi import FakeBotAPI, RecordingRequest, Sent

# The /nouveau flow, as callback data or text, after "/nouveau" and the first name.
FLOW = [
    ("text", "/nouveau"),
    ("text", "Amina"),
    ("tap", "pk:nv:profile:female.26_44"),
    ("tap", "pk:nv:residence:qpv"),
    ("tap", "pk:nv:channel:word_of_mouth"),
    ("tap", "pk:nv:barriers:french"),
    ("tap", "nv:nv:done"),
    ("tap", "pk:nv:registration:no"),
    ("tap", "pk:nv:rsa:no"),
    ("tap", "pk:nv:agreement:no"),
    ("tap", "nv:nv:save"),
]


class LenientBotAPI(FakeBotAPI):
    """Updates are queued before the bot answers: buttons may name a message not sent yet."""

    def _m_editMessageText(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            self.messages[key] = Sent(key[0], key[1], "")
        return super()._m_editMessageText(params)


class SlowRequest(RecordingRequest):
    """The offline Bot API, answering each call after a realistic round trip."""

    def __init__(self, api: FakeBotAPI, latency: float) -> None:
        super().__init__(api)
        self.latency = latency

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Wait, then answer (a simulated network, in a benchmark only)."""
        await asyncio.sleep(self.latency)
        return await super().do_request(*args, **kwargs)


def payload(api: FakeBotAPI, user_id: int, kind: str, value: str) -> dict[str, Any]:
    """A Telegram update for one step of one user."""
    who = {"id": user_id, "is_bot": False, "first_name": "Bench"}
    chat = {"id": user_id, "type": "private"}
    if kind == "text":
        message: dict[str, Any] = {
            "message_id": next(api._ids),
            "date": 0,
            "chat": chat,
            "from": who,
            "text": value,
        }
        if value.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(value)}]
        return api.new_update({"message": message})
    sent = api.chat(user_id)
    message_id = sent[-1].message_id if sent else 1
    return api.new_update(
        {
            "callback_query": {
                "id": f"{user_id}-{time.perf_counter_ns()}",
                "from": who,
                "chat_instance": "1",
                "data": value,
                "message": {"message_id": message_id, "date": 0, "chat": chat, "text": "…"},
            }
        }
    )
