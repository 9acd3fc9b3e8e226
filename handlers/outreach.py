"""`/informes`: how many people were informed at an outreach action (counts, no identities)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import drafts, keyboards, texts
from bot.callbacks import Nav, Pick
from bot.context import BotContext
from bot.dates import parse_day
from bot.formatting import day
from handlers.common import (
    END,
    begin_draft,
    cancel_for,
    checkpoint,
    current_pick,
    notice,
    show,
    warn,
    with_draft,
)
from models import outreach
from models.errors import DomainError
from models.reference import Kind, Neighbourhood

FORM: Final = "inf"
COMMAND: Final = "informes"
CONVERSATION: Final = "informes"
KIND, COUNT, DAY = "kind", "count", "day"
QUICK_COUNTS: Final = ("1", "2", "3", "5", "8", "10", "15", "20")
DAY_OFFSETS: Final = {
    "0": texts.INFORMED_TODAY,
    "1": texts.INFORMED_YESTERDAY,
    "2": texts.INFORMED_BEFORE_YESTERDAY,
}


async def start(update: Update, context: BotContext) -> object:
    """/informes: which action?"""
    if context.member.neighbourhood_id is None:
        await show(update, texts.NEW_NO_NEIGHBOURHOOD)
        return END
    draft = begin_draft(update, context, FORM)
    return await ask_kind(update, context, draft)


async def ask_kind(update: Update, context: BotContext, draft: dict[str, Any]) -> str:
    """The outreach kinds as buttons."""
    draft["step"] = KIND
    await checkpoint(update, context, conversation=CONVERSATION, state=KIND)
    kinds = await context.services.reference.choices(Kind.OUTREACH)
    markup = keyboards.choices(FORM, KIND, [(k.code, k.label) for k in kinds], back=False)
    await show(update, texts.INFORMED_KIND, markup)
    return KIND


async def ask_count(
    update: Update, context: BotContext, draft: dict[str, Any], edit: bool = True
) -> str:
    """How many, with quick buttons."""
    draft["step"] = COUNT
    await checkpoint(update, context, conversation=CONVERSATION, state=COUNT)
    markup = keyboards.choices(FORM, COUNT, [(n, n) for n in QUICK_COUNTS], columns=4)
    await show(update, texts.INFORMED_COUNT, markup, edit=edit)
    return COUNT


async def ask_day(
    update: Update, context: BotContext, draft: dict[str, Any], edit: bool = True
) -> str:
    """Which day: today, yesterday, or a typed date."""
    draft["step"] = DAY
    await checkpoint(update, context, conversation=CONVERSATION, state=DAY)
    markup = keyboards.choices(FORM, DAY, list(DAY_OFFSETS.items()), columns=3)
    await show(update, texts.INFORMED_DAY, markup, edit=edit)
    return DAY


@with_draft(FORM, COMMAND)
async def on_pick(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """A button of the current step."""
    pick = await current_pick(update, draft)
    if pick is None:
        return None
    if pick.step == KIND:
        draft["kind"] = pick.value
        return await ask_count(update, context, draft)
    if pick.step == COUNT and pick.value in QUICK_COUNTS:
        draft["count"] = int(pick.value)
        return await ask_day(update, context, draft)
    if pick.step == DAY and pick.value in DAY_OFFSETS:
        return await save(update, context, draft, offset=int(pick.value))
    await notice(update, texts.STALE_BUTTON)
    return None


@with_draft(FORM, COMMAND)
async def on_text(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """A typed count or date."""
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    today = context.services.today()
    if draft["step"] == COUNT:
        if not text.isdigit() or not 1 <= int(text) <= outreach.MAX_INFORMED_PER_ACTION:
            limit = outreach.MAX_INFORMED_PER_ACTION
            warn(texts.INFORMED_COUNT_INVALID.format(limit=limit))
            return await ask_count(update, context, draft, edit=False)
        draft["count"] = int(text)
        return await ask_day(update, context, draft, edit=False)
    if draft["step"] == DAY:
        chosen = parse_day(text, today=today, past=True)
        if chosen is None or chosen > today:
            warn(texts.domain_error("date_out_of_range"))
            return await ask_day(update, context, draft, edit=False)
        return await save(update, context, draft, offset=(today - chosen).days)
    warn(texts.USE_BUTTONS)
    return await ask_kind(update, context, draft)


@with_draft(FORM, COMMAND)
async def on_nav(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Retour and Annuler."""
    nav = Nav.unpack(update.callback_query.data if update.callback_query else None)
    if nav is not None and nav.action == "cancel":
        return await cancel(update, context)
    if nav is not None and nav.action == "back":
        if draft["step"] == DAY:
            return await ask_count(update, context, draft)
        return await ask_kind(update, context, draft)
    await notice(update, texts.STALE_BUTTON)
    return None


async def save(
    update: Update, context: BotContext, draft: dict[str, Any], *, offset: int
) -> object:
    """Record the count; confirm once committed."""
    services = context.services
    today = services.today()
    chosen = today - dt.timedelta(days=offset)
    try:
        async with services.sessions.begin() as session:
            action = await outreach.record_informed(
                session=session,
                member=context.member,
                kind=draft["kind"],
                informed=draft["count"],
                day=chosen,
                today=today,
                now=services.clock(),
            )
            neighbourhood = await session.get_one(Neighbourhood, action.neighbourhood_id)
            kind_label = (await services.reference.labels(Kind.OUTREACH))[action.kind]
            await checkpoint(
                update,
                context,
                conversation=CONVERSATION,
                state=END,
                session=session,
                without=FORM,
            )
    except DomainError as error:
        warn(texts.domain_error(error.key, error.params))
        return await ask_day(update, context, draft, edit=False)
    drafts.drop(context.member_data, FORM)
    await show(
        update,
        texts.INFORMED_SAVED.format(
            count=action.informed,
            kind=kind_label.lower(),
            date=day(action.day, services.settings.tz),
            neighbourhood=neighbourhood.name,
        ),
    )
    return END


cancel = cancel_for(FORM, CONVERSATION)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The /informes conversation."""
    pick = CallbackQueryHandler(on_pick, pattern=Pick.pattern(FORM))
    typed = MessageHandler(~filters.COMMAND, on_text)
    return [
        ConversationHandler(
            entry_points=[CommandHandler(COMMAND, start)],
            states={KIND: [pick, typed], COUNT: [pick, typed], DAY: [pick, typed]},
            fallbacks=[
                CommandHandler("annuler", cancel),
                CallbackQueryHandler(on_nav, pattern=Nav.pattern(FORM)),
            ],
            name=CONVERSATION,
            persistent=True,
            allow_reentry=True,
        )
    ]
