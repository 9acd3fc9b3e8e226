"""Small helpers shared by the handler modules: answering, warning, the messages that hold
personal data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextvars import ContextVar
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from bot import sensitive, texts
from bot.callbacks import CallbackData
from bot.context import BotContext

Data = TypeVar("Data", bound=CallbackData)

logger = logging.getLogger(__name__)

_warning: ContextVar[str | None] = ContextVar("aveq_warning", default=None)


def warn(text: str) -> None:
    """Say `text` at the top of the next message of this update: one message instead of two,
    as Telegram allows one new message per second in a chat."""
    _warning.set(text)


async def show(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None, *, edit: bool = True
) -> None:
    """Edit the message whose button was pressed, or send a new message when the user typed."""
    if (pending := _warning.get()) is not None:
        _warning.set(None)
        text = f"{pending}\n\n{text}"
    query = update.callback_query
    if query is not None and edit:
        # The tap's answer and the next step are sent together: the member waits one round
        # trip to Telegram, not two. `bench --peers`, 200 chats at a 50 ms Bot API: 1,530 ->
        # 1,835 updates a second, 1.17× the stdlib peer's, which answers, then edits. The
        # answer only stops the button's spinner: when it fails (a tap too old to answer,
        # replayed after a restart; a timeout), the step is shown all the same. Neither
        # request outlives this call (the chat's next update waits for both).

        async def edited() -> None:
            try:
                await query.edit_message_text(text, reply_markup=markup)
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    raise

        _, failed = await asyncio.gather(_answered(query), edited(), return_exceptions=True)
        if failed is not None:
            raise failed
        return
    if query is not None:
        await query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(text, reply_markup=markup)


async def _answered(query: CallbackQuery) -> None:
    """Answer a tap (the spinner stops); a refusal is logged, not raised."""
    try:
        await query.answer()
    except TelegramError as exc:
        logger.info("A tap was not answered (%s): its step is shown all the same", exc)


async def notice(update: Update, text: str) -> None:
    """A short answer that does not replace the current step (alert on a button, else message)."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def pressed(update: Update, kind: type[Data]) -> Data | None:
    """The button pressed, read as `kind`; for anything else (forged, truncated, of an older
    version) « Ce bouton n'est plus actif » is said and None given."""
    data = kind.pressed(update)
    if data is None:
        await notice(update, texts.STALE_BUTTON)
    return data


async def send_forwardable(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A message of its own, meant to be forwarded and copied (an invitation): sent without the
    `protect_content` every other message has (bot.app's Defaults). A pressed message, its
    buttons spent, says that the message follows."""
    query = update.callback_query
    if query is not None:
        await query.answer()
        with contextlib.suppress(TelegramError):  # an old message may no longer be edited
            await query.edit_message_text(texts.FORWARD_BELOW)
    if (chat := update.effective_chat) is not None:
        await chat.send_message(text, reply_markup=markup, protect_content=False)


def remember_sensitive(update: Update, draft: dict[str, Any]) -> None:
    """Note the id of the member's message holding a phone number or a note, to delete when
    the flow ends, however it ends (`bot.sensitive`)."""
    message = update.effective_message
    if message is not None and update.callback_query is None:
        sensitive.remember(draft, message.message_id)


async def delete_sensitive(
    update: Update, context: BotContext, draft: dict[str, Any] | None
) -> None:
    """The flow ended (saved, cancelled, given up): delete the member's own messages that
    held a phone or a note (DELETE_SENSITIVE_MESSAGES)."""
    chat = update.effective_chat
    if chat is not None:
        enabled = context.services.settings.delete_sensitive_messages
        await sensitive.delete(context.bot, chat.id, sensitive.take(draft), enabled=enabled)


async def refuse_sensitive(update: Update, context: BotContext) -> None:
    """A message typed at a phone or note step and refused (invalid, or not text): deleted at
    once, as it may hold a phone or a note all the same."""
    chat, message = update.effective_chat, update.effective_message
    if chat is not None and message is not None and update.callback_query is None:
        enabled = context.services.settings.delete_sensitive_messages
        await sensitive.delete(context.bot, chat.id, [message.message_id], enabled=enabled)
