"""The member's own messages holding a phone number or a note (DELETE_SENSITIVE_MESSAGES).

Every message typed at a phone or note step is deleted from the member's chat, whatever
becomes of the flow: refused (at once), saved, cancelled, replaced by a new start of the same
conversation, or left to expire (the housekeeping job). Until then their ids wait in the
conversation's draft, so a restart forgets none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

logger = logging.getLogger(__name__)

SENSITIVE = "sensitive"


def remember(draft: dict[str, Any], message_id: int) -> None:
    """Note the id of a message to delete when the flow ends."""
    draft.setdefault(SENSITIVE, []).append(message_id)


def take(draft: dict[str, Any] | None) -> list[int]:
    """The ids remembered in `draft`, forgotten there (each is deleted once)."""
    return list(draft.pop(SENSITIVE, [])) if draft else []


def carry_over(previous: dict[str, Any] | None, draft: dict[str, Any]) -> None:
    """A draft replacing another keeps the messages still to delete."""
    if ids := take(previous):
        draft[SENSITIVE] = ids


async def delete(bot: Bot, chat_id: int, message_ids: Iterable[int], *, enabled: bool) -> None:
    """Delete these messages of the member's chat (when the setting is on)."""
    if not enabled:
        return
    for message_id in message_ids:
        try:
            await bot.delete_message(chat_id, message_id)
        except TelegramError:  # too old (48 h) or already gone: nothing more to do
            logger.info("Could not delete a sensitive message in chat %s", chat_id)
