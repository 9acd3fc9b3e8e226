"""Conversations left idle end on their own, with a message, and nothing half-saved."""

from __future__ import annotations

import logging
from typing import cast

from telegram.error import TelegramError

from bot import drafts, sensitive, texts
from bot.context import BotContext
from bot.formatting import plural
from bot.persistence import DatabasePersistence

logger = logging.getLogger(__name__)


async def expire_idle_drafts(context: BotContext) -> None:
    """Drop every draft idle for longer than the conversation timeout and tell its author."""
    services = context.services
    idle = services.settings.conversation_timeout
    persistence = cast(DatabasePersistence, context.application.persistence)
    # From the database: another replica may have handled the member's last answer.
    found = await persistence.expire_drafts(context.application, now=services.clock(), idle=idle)
    for user_id, chat_id, draft in found:
        # A phone or a note typed in the abandoned flow leaves the chat too.
        enabled = services.settings.delete_sensitive_messages
        await sensitive.delete(context.bot, chat_id, sensitive.take(draft), enabled=enabled)
        if draft.get(drafts.SHOWN):  # its result was shown (/stats' figures): nothing lost
            continue
        minutes = plural(round(idle.total_seconds() / 60), *texts.EXPIRED_MINUTES)
        try:
            await context.bot.send_message(chat_id, texts.EXPIRED.format(minutes=minutes))
        except TelegramError:
            logger.warning("Could not tell user %s that a draft expired", user_id)
