"""Conversations left idle end on their own, with a message, and nothing half-saved."""

from __future__ import annotations

import logging

from telegram.error import TelegramError

from bot import drafts, sensitive, texts
from bot.context import BotContext

logger = logging.getLogger(__name__)


async def expire_idle_drafts(context: BotContext) -> None:
    """Drop every draft idle for longer than the conversation timeout and tell its author."""
    services = context.services
    idle = services.settings.conversation_timeout
    application = context.application
    found = list(drafts.expired(application.user_data, now=services.clock(), idle=idle))
    for user_id, form, chat_id in found:
        draft = drafts.drop(application.user_data[user_id], form)
        application.mark_data_for_update_persistence(user_ids=user_id)
        # A phone or a note typed in the abandoned flow leaves the chat too.
        enabled = services.settings.delete_sensitive_messages
        await sensitive.delete(context.bot, chat_id, sensitive.take(draft), enabled=enabled)
        minutes = round(idle.total_seconds() / 60)
        try:
            await context.bot.send_message(chat_id, texts.EXPIRED.format(minutes=minutes))
        except TelegramError:
            logger.warning("Could not tell user %s that a draft expired", user_id)
    if found:
        await application.update_persistence()
