"""Small helpers shared by the conversation modules: answering, drafts, cancelling."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, cast

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot import drafts, sensitive, texts
from bot.callbacks import Pick
from bot.context import BotContext
from bot.persistence import DatabasePersistence

logger = logging.getLogger(__name__)

END = ConversationHandler.END
DraftCallback = Callable[[Update, BotContext, dict[str, Any]], Coroutine[Any, Any, Any]]
Callback = Callable[[Update, BotContext], Coroutine[Any, Any, Any]]


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
        await query.answer()
        try:
            await query.edit_message_text(text, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        return
    if query is not None:
        await query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(text, reply_markup=markup)


async def notice(update: Update, text: str) -> None:
    """A short answer that does not replace the current step (alert on a button, else message)."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


def begin_draft(update: Update, context: BotContext, form: str) -> dict[str, Any]:
    """A fresh draft for `form`, replacing any earlier one (whose messages holding a phone or
    a note are still to delete), bound to this chat."""
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else context.member.telegram_user_id
    previous = drafts.get(context.member_data, form)
    draft = drafts.start(context.member_data, form, now=context.services.clock(), chat_id=chat_id)
    sensitive.carry_over(previous, draft)
    return draft


async def checkpoint(
    update: Update,
    context: BotContext,
    *,
    conversation: str,
    state: object,
    session: AsyncSession | None = None,
    without: str | None = None,
) -> None:
    """Commit the drafts, the conversation's next state and the update as handled *before*
    answering.

    PTB writes persistence after the callback returns; a process killed between our answer
    and that write would forget an answer the user saw accepted. Writing ahead closes that
    window (PTB's own pass afterwards finds nothing new to write). With `session`, the writes
    join the caller's transaction (the one that saves the record): the record, the end of the
    conversation and the update's mark commit together, so a redelivered update saves nothing
    twice.
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    data = context.member_data  # serialised and encrypted at once: no copy needed
    if without is not None:  # the same minus one draft (its own dict is left alone)
        data = {**data, drafts.DRAFTS_KEY: dict(data.get(drafts.DRAFTS_KEY, {}))}
        drafts.drop(data, without)
    persistence = cast(DatabasePersistence, context.application.persistence)
    await persistence.write_ahead(
        user_id=user.id, data=data, conversation=conversation, key=(chat.id, user.id),
        state=None if state == END else state, update_id=update.update_id, session=session,
    )  # fmt: skip
    context.processed_recorded = True


async def current_pick(update: Update, draft: dict[str, Any]) -> Pick | None:
    """The button pressed, if it belongs to the step the draft is at; otherwise say the
    button is no longer active (an old message, a redelivery) and give None."""
    pick = Pick.unpack(update.callback_query.data if update.callback_query else None)
    if pick is None or pick.step != draft.get("step"):
        await notice(update, texts.STALE_BUTTON)
        return None
    return pick


def with_draft(form: str, command: str) -> Callable[[DraftCallback], Callback]:
    """Give a state callback its draft; a conversation whose draft is gone ends politely."""

    def decorate(callback: DraftCallback) -> Callback:
        @functools.wraps(callback)
        async def wrapper(update: Update, context: BotContext) -> object:
            draft = drafts.get(context.member_data, form)
            if draft is None:
                await show(update, texts.SESSION_GONE.format(command=command), edit=False)
                return END
            drafts.touch(draft, now=context.services.clock())
            return await callback(update, context, draft)

        return wrapper

    return decorate


def cancel_for(form: str, conversation: str) -> Callback:
    """A /annuler (or « Annuler » button) callback that drops `form`'s draft."""

    async def cancel(update: Update, context: BotContext) -> int:
        """Abandon the conversation; nothing is saved, no phone or note stays in the chat."""
        draft = drafts.drop(context.member_data, form)
        await checkpoint(update, context, conversation=conversation, state=END)
        await delete_sensitive(update, context, draft)
        await show(update, texts.CANCELLED)
        return END

    cancel.__name__ = f"cancel_{form}"
    return cancel


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
