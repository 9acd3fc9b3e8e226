"""Update processing: chats run concurrently, each chat's updates strictly in arrival order.

PTB's default processes one update at a time, so one slow chat delays every mediator. This
processor runs different chats in parallel and serialises the updates of one chat (which is
what `ConversationHandler` needs).

A chat's updates queue on their chat's lock *before* they take one of the concurrency slots:
PTB takes its slot first, so a stranger's burst of 320 messages held all 256 slots, each
waiting for its own chat, and a member's /aide waited 64 s behind them. Here the slots are
the processor's own, taken once the chat's turn has come, and PTB's are unbounded. A chat
with more than `max_backlog` updates waiting drops the newer ones (a flood, not a person).
Measured by `bench/flood.py` (five strangers queueing 300 messages each, ten members typing):
members' p99 338 ms on SQLite; 8.3 s before, with 60 messages each.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Awaitable
from typing import Any, Final

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES: Final = 256
MAX_BACKLOG: Final = 50


def chat_key(update: object) -> int | None:
    """The chat (or, failing that, user) an update belongs to."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, ordered within a chat, a bounded backlog per chat."""

    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        *,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        # PTB sizes its slots (taken before the chat's turn) from `max_concurrent_updates`:
        # unbounded while it does; the property then tells the processor's own.
        self._max = sys.maxsize
        super().__init__(sys.maxsize)
        self._max = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._max_backlog = max_backlog
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._waiting: dict[int | None, int] = {}
        self._flooding: set[int | None] = set()  # chats dropping updates (logged once)
        self.dropped = 0  # updates dropped from overlong backlogs, since start

    @property
    def max_concurrent_updates(self) -> int:
        """How many updates (of different chats) run at once."""
        return self._max

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run `coroutine` once every earlier update of the same chat is done and a slot is
        free; drop it if its chat already has `max_backlog` updates waiting."""
        key = chat_key(update)
        waiting = self._waiting.get(key, 0)
        if waiting > self._max_backlog:  # one running, `max_backlog` waiting
            self.dropped += 1
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            if key not in self._flooding:
                self._flooding.add(key)
                logger.warning("A chat has %s updates waiting: newer ones are dropped", waiting)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = waiting + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]
                self._flooding.discard(key)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
