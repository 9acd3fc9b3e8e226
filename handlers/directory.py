"""Person cards, `/personnes` and withdrawing consent from a card."""

from __future__ import annotations

import math
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.callbacks import Page, PersonRef
from bot.context import BotContext
from bot.db import truncate_log
from bot.formatting import day
from handlers.common import notice, show
from models import audit, consent, people
from models.people import Person, Status


# --- Person cards and /personnes ----------------------------------------------------------
async def card_text(context: BotContext, person: Person) -> str:
    """A person's card: code, first name, status, dates; never phone, note or barriers."""
    tz = context.services.settings.tz
    names = {n.id: n.name for n in await context.services.reference.neighbourhoods()}
    return texts.PERSON_CARD.format(
        code=person.code,
        first_name=person.first_name,
        status=texts.STATUS_LABELS.get(person.status, person.status),
        neighbourhood=names.get(person.neighbourhood_id, ""),
        engaged=day(person.engaged_at, tz),
        last_contact=day(person.last_contact_at, tz),
    )


async def open_person(update: Update, context: BotContext) -> None:
    """Show a person's card, if the member follows them (checked again on every press)."""
    ref = PersonRef.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return
    services = context.services
    async with services.sessions.begin() as session:
        person = await people.get_person(
            session=session, viewer=context.member, person_id=ref.person_id
        )
        await audit.record(
            session=session,
            at=services.clock(),
            member_id=context.member.id,
            action="open_card",
            subject=person.code,
        )
    await show(
        update,
        await card_text(context, person),
        with_withdraw(card_keyboard(context, person), person),
    )


def card_keyboard(context: BotContext, person: Person) -> InlineKeyboardMarkup:
    """What can be done from a card: orient, note a contact, close; re-open (coordinators: an
    exited person, or a supported one whose support ended)."""
    pid = person.id or 0
    reopen = PersonRef("reopen", pid).pack()
    if person.status == Status.EXITED:
        if not context.member.is_coordinator:
            return InlineKeyboardMarkup([])
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(texts.CARD_REOPEN, callback_data=reopen)]]
        )
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.CARD_ORIENT, callback_data=PersonRef("orient", pid).pack()
                ),
                InlineKeyboardButton(
                    texts.CARD_CONTACT, callback_data=PersonRef("contact", pid).pack()
                ),
            ],
            [InlineKeyboardButton(texts.CARD_EXIT, callback_data=PersonRef("exit", pid).pack())],
            *(
                [
                    [
                        InlineKeyboardButton(
                            texts.ASK_PARTNER, callback_data=PersonRef("confirm", pid).pack()
                        )
                    ]
                ]
                if person.status in (Status.ORIENTED, Status.SUPPORTED)
                else []
            ),
            *(
                [[InlineKeyboardButton(texts.CARD_REOPEN_SUPPORT, callback_data=reopen)]]
                if person.status == Status.SUPPORTED and context.member.is_coordinator
                else []
            ),
        ]
    )


# --- Withdrawing consent from the card (coordinators, and the mediator who follows) --------
def with_withdraw(markup: InlineKeyboardMarkup, person: Person) -> InlineKeyboardMarkup:
    """The card's buttons, and « Retirer l'accord » while the person's consent holds."""
    if not person.contact_consent:
        return markup
    withdraw = PersonRef("withdraw", person.id or 0).pack()
    button = InlineKeyboardButton(texts.CONSENT_WITHDRAW, callback_data=withdraw)
    return InlineKeyboardMarkup([*markup.inline_keyboard, [button]])


async def withdraw_ask(update: Update, context: BotContext) -> None:
    """« Retirer l'accord »: say what is erased, and confirm."""
    ref = PersonRef.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return
    async with context.services.reads() as session:
        person = await people.get_person(
            session=session, viewer=context.member, person_id=ref.person_id
        )
    if not person.contact_consent:
        await notice(update, texts.domain_error("consent_not_given"))
        return
    yes = PersonRef("unconsent", ref.person_id).pack()
    no = PersonRef("open", ref.person_id).pack()
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.CONSENT_WITHDRAW_YES, callback_data=yes)],
            [InlineKeyboardButton(texts.CONSENT_WITHDRAW_NO, callback_data=no)],
        ]
    )
    label = f"{person.code} ({person.first_name})"
    await show(update, texts.CONSENT_WITHDRAW_CONFIRM.format(person=label), markup)


async def withdraw(update: Update, context: BotContext) -> None:
    """Confirmed: phone and notes erased at once, recorded and audited (authorization
    checked again); then SQLite's log is emptied so no old page keeps them."""
    ref = PersonRef.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return
    services = context.services
    async with services.sessions.begin() as session:
        person = await consent.withdraw(
            session=session, viewer=context.member, person_id=ref.person_id,
            now=services.clock(),
        )  # fmt: skip
    await show(update, texts.CONSENT_WITHDRAWN.format(code=person.code))
    await truncate_log(services.sessions.kw["bind"])  # after the answer: it may wait


async def list_people(update: Update, context: BotContext) -> None:
    """/personnes: the people I follow (everyone, for a coordinator), a page at a time."""
    page = 1
    if update.callback_query is not None:
        parsed = Page.unpack(update.callback_query.data)
        page = parsed.page if parsed else 1
    size = context.services.settings.people_page_size
    async with context.services.reads() as session:
        rows, total = await people.visible_people(
            session=session, viewer=context.member, offset=(page - 1) * size, limit=size
        )
    if total == 0:
        await show(update, texts.PEOPLE_EMPTY)
        return
    pages = max(1, math.ceil(total / size))
    tz = context.services.settings.tz
    header = texts.PEOPLE_HEADER_ALL if context.member.is_coordinator else texts.PEOPLE_HEADER
    lines = [header.format(total=total, page=min(page, pages), pages=pages)]
    buttons = []
    for person in rows:
        lines.append(
            texts.PEOPLE_LINE.format(
                code=person.code,
                first_name=person.first_name,
                status=texts.STATUS_LABELS.get(person.status, person.status),
                last_contact=day(person.last_contact_at, tz),
            )
        )
        buttons.append(
            InlineKeyboardButton(
                f"{person.code} · {person.first_name}",
                callback_data=PersonRef("open", person.id or 0).pack(),
            )
        )
    keyboard = keyboards.rows(buttons, 2)
    if pager := keyboards.pager("people", page, pages):
        keyboard.append(pager)
    await show(update, "\n".join(lines), InlineKeyboardMarkup(keyboard))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Everything this module answers, in order."""
    return [
        CommandHandler("personnes", list_people),
        CallbackQueryHandler(list_people, pattern=Page.pattern("people")),
        CallbackQueryHandler(open_person, pattern=PersonRef.pattern("open")),
        CallbackQueryHandler(withdraw_ask, pattern=PersonRef.pattern("withdraw")),
        CallbackQueryHandler(withdraw, pattern=PersonRef.pattern("unconsent")),
    ]
