"""Telegram's limits on sending: about 30 messages a second in all, 20 a minute in a group, and
one a second in a private chat. PTB's AIORateLimiter handles the first two and retries after a
429; this adds the third, for new messages only (edits and button answers are what the member
is waiting for, and Telegram does not count them the same way)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

from aiolimiter import AsyncLimiter
from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

NEW_MESSAGES: Final = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendContact",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
    }
)
MAX_IDLE_LIMITERS: Final = 1000


class TelegramRateLimiter(AIORateLimiter):
    """AIORateLimiter, plus at most `private_rate` new messages per second in a private chat."""

    def __init__(self, *, private_rate: float = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_rate = private_rate
        self._private: dict[int, AsyncLimiter] = {}

    def _private_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._private.get(chat_id)
        if limiter is None:
            if len(self._private) >= MAX_IDLE_LIMITERS:  # forget chats that are quiet now
                self._private = {
                    c: lim for c, lim in self._private.items() if not lim.has_capacity(1)
                }
            limiter = self._private[chat_id] = AsyncLimiter(self._private_rate, 1)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Wait for the private chat's turn, then for the overall and group limits."""
        chat_id = data.get("chat_id")
        if endpoint in NEW_MESSAGES and isinstance(chat_id, int) and chat_id > 0:
            async with self._private_limiter(chat_id):
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
