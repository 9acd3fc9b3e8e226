"""Partners close the loop (issue 16), Telegram side.

The mediator's « Demander au partenaire » (after an orientation is saved, on a reminder, on a
person's card) gives a message to forward, not protected, holding the links. A correspondant
who opens the Telegram link (`/start <code>`) sees the card and the answer buttons, whether or
not they are a member; nothing about their chat is stored.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import partner_links, texts
from bot.callbacks import ConfirmRef, PartnerReply, PersonRef
from bot.context import BotContext
from bot.formatting import day, short_day
from bot.messages import person_label
from handlers.common import notice, pressed, show
from models import confirmations, orientations
from models.confirmations import NotForUsReason, PartnerAnswer, State, TryLimiter
from models.errors import DomainError
from models.orientations import Orientation
from models.people import get_person
from models.reference import Partner

logger = logging.getLogger(__name__)

LIMITER_KEY: Final = "confirmation_tries"
TRIES_PER_MINUTE: Final = 5
DAYS_OFFERED: Final = 10  # working days offered for « rendez-vous fixé le… »
DIRECT: Final = ("started", "came_no_follow", "no_show", "unreachable")
START_WITH_CODE: Final = r"^/start(@\w+)?\s+[A-Za-z0-9_-]{24}\s*$"


# --- The mediator's side ------------------------------------------------------------------
async def ask(update: Update, context: BotContext) -> None:
    """« Demander au partenaire » for one orientation (after saving it, on a reminder)."""
    if (ref := await pressed(update, ConfirmRef)) is None:
        return
    await issue(update, context, ref.target)


async def issue(update: Update, context: BotContext, orientation_id: int) -> None:
    """Create a link for an orientation and give the mediator a message to forward."""
    services = context.services
    settings = services.settings
    async with services.sessions.begin() as session:
        issued = await confirmations.request_confirmation(
            session=session,
            actor=context.member,
            orientation_id=orientation_id,
            now=services.clock(),
            ttl=settings.confirmation_ttl,
        )
        orientation = await session.get_one(Orientation, orientation_id)
        person = await get_person(
            session=session, viewer=context.member, person_id=orientation.person_id
        )
        partner = await session.get_one(Partner, orientation.partner_id)
    email = partner.contact_email if settings.sends_email else ""
    username = context.bot.username
    telegram = (
        partner_links.telegram_link(username, issued.code)
        if username
        else texts.ASK_PARTNER_NO_USERNAME
    )
    web = partner_links.web_link(settings.public_url, issued.code) if settings.public_url else ""
    expires = day(issued.request.expires_at, settings.tz)
    card = issued.card
    text = texts.ASK_PARTNER_MESSAGE.format(
        mediator=card.mediator_first_name,
        code=card.person_code,
        initial=card.initial,
        date=day(card.oriented_on, settings.tz),
        telegram_link=telegram,
        web_line=texts.ASK_PARTNER_WEB_LINE.format(web_link=web) if web else "",
        expires=expires,
    )
    note = texts.ASK_PARTNER_NOTE.format(
        partner=partner.name,
        person=person_label(person),
        email_line=texts.ASK_PARTNER_EMAIL_LINE if email else "",
        code=person.code,
    )
    share = (
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts.ASK_PARTNER_SHARE, url=partner_links.share_url(web or telegram)
                    )
                ]
            ]
        )
        if web or username
        else None
    )
    revoke_button = InlineKeyboardButton(
        texts.ASK_PARTNER_REVOKE, callback_data=ConfirmRef("revoke", issued.request.id or 0).pack()
    )
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        # The one message sent without protect_content (the bot's default): it is for the
        # partner, to forward or copy; it holds the person's code and initial, no name.
        await chat.send_message(text, reply_markup=share, protect_content=False)
        await chat.send_message(note, reply_markup=InlineKeyboardMarkup([[revoke_button]]))
    if email:
        sent = await partner_links.email_link(
            settings, to=email, card=issued.card, code=issued.code, expires=expires
        )
        if sent:
            async with services.sessions.begin() as session:
                await confirmations.mark_emailed(
                    session=session, request_id=issued.request.id or 0, now=services.clock()
                )


async def ask_from_card(update: Update, context: BotContext) -> None:
    """« Demander au partenaire » on a person's card: their open orientation, or a choice."""
    if (ref := await pressed(update, PersonRef)) is None:
        return
    async with context.services.reads() as session:
        person = await get_person(session=session, viewer=context.member, person_id=ref.person_id)
        found = await orientations.pending_checks(session=session, viewer=context.member)
        mine = [o for o in found if o.person_id == person.id]
        names = {o.partner_id: (await session.get_one(Partner, o.partner_id)).name for o in mine}
    if not mine:
        raise DomainError("confirmation_settled")
    if len(mine) == 1:
        await issue(update, context, mine[0].id or 0)
        return
    buttons = [
        [
            InlineKeyboardButton(
                f"{texts.ASK_PARTNER} · {names[o.partner_id]}",
                callback_data=ConfirmRef("ask", o.id or 0).pack(),
            )
        ]
        for o in mine
    ]
    await show(update, person_label(person), InlineKeyboardMarkup(buttons), edit=False)


async def revoke(update: Update, context: BotContext) -> None:
    """« Annuler la demande »: the link stops working."""
    if (ref := await pressed(update, ConfirmRef)) is None:
        return
    services = context.services
    async with services.sessions.begin() as session:
        await confirmations.revoke(
            session=session, actor=context.member, request_id=ref.target, now=services.clock()
        )
    await show(update, texts.ASK_PARTNER_REVOKED)


# --- The correspondant's side -------------------------------------------------------------
def _limiter(context: BotContext) -> TryLimiter:
    limiter = context.bot_data.get(LIMITER_KEY)
    if limiter is None:
        limiter = context.bot_data[LIMITER_KEY] = TryLimiter(tries=TRIES_PER_MINUTE, per=60)
    return limiter


def answer_keyboard(code: str) -> InlineKeyboardMarkup:
    """One button per answer; « rendez-vous » and « pas pour nous » ask one more thing."""
    labels = texts.CONFIRM_ANSWER_LABELS
    rows = [
        [InlineKeyboardButton(labels[a], callback_data=PartnerReply("a", a, code).pack())]
        for a in ("started", "came_no_follow")
    ]
    rows.append(
        [
            InlineKeyboardButton(
                labels["appointment"], callback_data=PartnerReply("m", "appointment", code).pack()
            )
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(labels[a], callback_data=PartnerReply("a", a, code).pack())
            for a in ("no_show", "unreachable")
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                labels["not_for_us"], callback_data=PartnerReply("m", "not_for_us", code).pack()
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def _days(today: dt.date) -> list[dt.date]:
    days: list[dt.date] = []
    current = today
    while len(days) < DAYS_OFFERED:
        if current.weekday() < 6:  # partners receive on Saturdays too, never on Sundays
            days.append(current)
        current += dt.timedelta(days=1)
    return days


def more_keyboard(kind: str, code: str, today: dt.date) -> InlineKeyboardMarkup:
    """The reasons of « pas pour nous », or the days of « rendez-vous fixé le… »."""
    back = [
        InlineKeyboardButton(
            texts.CONFIRM_BACK, callback_data=PartnerReply("m", "back", code).pack()
        )
    ]
    if kind == "not_for_us":
        rows = [
            [InlineKeyboardButton(label, callback_data=PartnerReply("r", reason, code).pack())]
            for reason, label in texts.CONFIRM_REASON_LABELS.items()
        ]
        return InlineKeyboardMarkup([*rows, back])
    buttons = [
        InlineKeyboardButton(
            short_day(d), callback_data=PartnerReply("d", d.strftime("%Y%m%d"), code).pack()
        )
        for d in _days(today)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup([*rows, back])


def _forget_chat(update: Update, context: BotContext) -> None:
    """Nothing about the correspondant's chat is kept in memory either (members' are)."""
    if context.has_member:
        return
    if update.effective_user is not None:
        context.application.drop_user_data(update.effective_user.id)
    if update.effective_chat is not None:
        context.application.drop_chat_data(update.effective_chat.id)


async def open_link(update: Update, context: BotContext) -> None:
    """/start <code>: the card and the answer buttons, or one polite sentence."""
    chat = update.effective_chat
    code = context.args[0] if context.args else ""
    if chat is None:
        return
    limiter = _limiter(context)
    if limiter.exhausted(chat.id):
        await show(update, texts.CONFIRM_TOO_MANY, edit=False)
        return
    services = context.services
    async with services.reads() as session:
        found = await confirmations.lookup(session=session, code=code, now=services.clock())
    if found.state == State.UNKNOWN:
        limiter.record(chat.id)
    if found.card is None:
        logger.info("Refused a confirmation code in update %s (%s)", update.update_id, found.state)
        await show(update, texts.CONFIRM_REFUSED[found.state.value], edit=False)
        _forget_chat(update, context)
        return
    text = partner_links.card_text(found.card, services.settings.tz)
    await show(update, text, answer_keyboard(code), edit=False)
    _forget_chat(update, context)


async def on_reply(update: Update, context: BotContext) -> None:
    """A correspondant's button: more choices, or the answer itself."""
    query = update.callback_query
    ref = PartnerReply.unpack(query.data if query else None)
    chat = update.effective_chat
    if query is None or ref is None or chat is None:
        await notice(update, texts.CONFIRM_REFUSED["unknown"])
        return
    limiter = _limiter(context)
    if limiter.exhausted(chat.id):
        await query.answer(texts.CONFIRM_TOO_MANY, show_alert=True)
        return
    services = context.services
    settings = services.settings
    if ref.step == "m":
        async with services.reads() as session:
            found = await confirmations.lookup(
                session=session, code=ref.code, now=services.clock()
            )
        if found.state == State.UNKNOWN:
            limiter.record(chat.id)
        if found.card is None:
            await show(update, texts.CONFIRM_REFUSED[found.state.value])
        elif ref.value == "back":
            await show(
                update, partner_links.card_text(found.card, settings.tz), answer_keyboard(ref.code)
            )
        else:
            question = (
                texts.CONFIRM_ASK_REASON if ref.value == "not_for_us" else texts.CONFIRM_ASK_DAY
            )
            markup = more_keyboard(ref.value, ref.code, services.today())
            await show(update, question, markup)
        _forget_chat(update, context)
        return
    answer, reason, on = _parse(ref)
    if answer is None:
        await notice(update, texts.STALE_BUTTON)
        return
    async with services.sessions.begin() as session:
        result = await confirmations.confirm(
            session=session,
            code=ref.code,
            answer=answer,
            now=services.clock(),
            today=services.today(),
            policy=settings.followup_policy,
            channel="telegram",
            reason=reason,
            appointment_on=on,
        )
    if not result.accepted:
        if result.state == State.UNKNOWN:
            limiter.record(chat.id)
        logger.info(
            "Refused a confirmation answer in update %s (%s)", update.update_id, result.state
        )
        await show(update, texts.CONFIRM_REFUSED[result.state.value])
        _forget_chat(update, context)
        return
    logger.info("A partner answered a confirmation request in update %s", update.update_id)
    await show(
        update,
        texts.CONFIRM_THANKS.format(
            answer=partner_links.answer_label(result, settings.tz).lower()
        ),
    )
    await partner_links.tell_mediator(context.bot, result, settings.tz)
    _forget_chat(update, context)


def _parse(
    ref: PartnerReply,
) -> tuple[PartnerAnswer | None, NotForUsReason | None, dt.date | None]:
    if ref.step == "a" and ref.value in DIRECT:
        return PartnerAnswer(ref.value), None, None
    if ref.step == "r" and ref.value in {r.value for r in NotForUsReason}:
        return PartnerAnswer.NOT_FOR_US, NotForUsReason(ref.value), None
    if ref.step == "d" and len(ref.value) == 8 and ref.value.isdigit():
        try:
            on = dt.datetime.strptime(ref.value, "%Y%m%d").date()  # noqa: DTZ007 - a date only
        except ValueError:
            return None, None, None
        return PartnerAnswer.APPOINTMENT, None, on
    return None, None, None


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The correspondant's link and buttons; the mediator's ask and revoke buttons."""
    return [
        CommandHandler("start", open_link, filters=filters.Regex(START_WITH_CODE)),
        CallbackQueryHandler(on_reply, pattern=PartnerReply.pattern()),
        CallbackQueryHandler(ask, pattern=ConfirmRef.pattern("ask")),
        CallbackQueryHandler(revoke, pattern=ConfirmRef.pattern("revoke")),
        CallbackQueryHandler(ask_from_card, pattern=PersonRef.pattern("confirm")),
    ]
