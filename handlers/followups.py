"""Follow-up: answers to reminders, `/suivis`, `/contact` and `/sortie` (closing a mediation)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.callbacks import FollowUp, Page, PersonRef
from bot.context import BotContext
from bot.dates import parse_day
from bot.formatting import day
from bot.messages import person_label, reminder_keyboard, reminder_text
from handlers import picking
from handlers.common import notice, show
from handlers.forms import (
    Answers,
    Asked,
    Choice,
    Finished,
    Form,
    FormEngine,
    Option,
    Summary,
)
from models import orientations
from models.errors import DomainError
from models.orientations import Answer, ContactKind, ExitReason, Orientation
from models.people import Person, Status
from models.reference import Partner

MAX_DUE_SHOWN: Final = 10  # a page of /suivis
ALL_PENDING: Final = 2_000  # /suivis pages through at most this many open orientations
KIND = "kind"  # /contact's step after the person
REASON, DATE = "reason", "date"  # /sortie's steps


# --- Reminder answers ---------------------------------------------------------------------
async def on_answer(update: Update, context: BotContext) -> None:
    """Venu·e / sans suite / pas venu·e / relancer: record, then show what was recorded."""
    ref = FollowUp.pressed(update)
    if ref is None or ref.action not in {a.value for a in Answer}:
        await notice(update, texts.STALE_BUTTON)
        return
    services = context.services
    async with services.sessions.begin() as session:
        result = await orientations.answer(
            session=session,
            actor=context.member,
            orientation_id=ref.orientation_id,
            action=Answer(ref.action),
            seq=ref.seq,
            now=services.clock(),
        )
        partner = await session.get_one(Partner, result.orientation.partner_id)
    await show(update, answered_text(context, result.orientation, result.person, partner))


def answered_text(
    context: BotContext, orientation: Orientation, person: Person, partner: Partner
) -> str:
    """What the reminder becomes once answered (or what it already says)."""
    tz = context.services.settings.tz
    if orientation.outcome is None and orientation.next_check_at is not None:
        window = context.services.settings.reminder_window
        return texts.ANSWER_SNOOZED.format(
            person=person_label(person),
            partner=partner.name,
            date=day(window.next_opening(orientation.next_check_at), tz),
        )
    return texts.ANSWER_RECORDED.format(
        person=person_label(person),
        partner=partner.name,
        outcome=texts.OUTCOME_LABELS.get(orientation.outcome or "", ""),
        date=day(orientation.outcome_at or context.services.clock(), tz),
    )


async def list_followups(update: Update, context: BotContext) -> None:
    """/suivis: overdue checks first, then due ones, each with its buttons; then what is
    ahead; ten a page, with ‹ › to the others."""
    parsed = Page.pressed(update)
    page = parsed.page if parsed else 1
    services = context.services
    now, tz = services.clock(), services.settings.tz
    async with services.reads() as session:
        pending = await orientations.pending_checks(
            session=session, viewer=context.member, limit=ALL_PENDING
        )
        due = [o for o in pending if o.needs_update(now)]
        later = [o for o in pending if o not in due]
        pages = max(1, math.ceil(len(pending) / MAX_DUE_SHOWN))
        page = min(max(page, 1), pages)
        shown = [*due, *later][(page - 1) * MAX_DUE_SHOWN : page * MAX_DUE_SHOWN]
        people = {o.person_id: await session.get_one(Person, o.person_id) for o in shown}
        partners = {o.partner_id: await session.get_one(Partner, o.partner_id) for o in shown}
    if not pending:
        await show(update, texts.FOLLOWUPS_EMPTY)
        return
    await show(
        update, texts.FOLLOWUPS_HEADER.format(due=len(due), later=len(later)), edit=False
    )  # a page button: the new page comes below the old one
    chat = update.effective_chat
    if chat is None:
        return
    for orientation in (o for o in shown if o in due):
        person, partner = people[orientation.person_id], partners[orientation.partner_id]
        await chat.send_message(
            reminder_text(orientation, person, partner, tz),
            reply_markup=reminder_keyboard(orientation),
        )
    if ahead := [o for o in shown if o not in due]:
        lines = [texts.FOLLOWUPS_LATER]
        window = services.settings.reminder_window
        for orientation in ahead:
            check = window.next_opening(orientation.next_check_at or now)
            lines.append(
                texts.FOLLOWUPS_LATER_LINE.format(
                    person=person_label(people[orientation.person_id]),
                    partner=partners[orientation.partner_id].name,
                    date=day(check, tz),
                )
            )
        await chat.send_message("\n".join(lines))
    if pager := keyboards.pager("followups", page, pages):
        await chat.send_message(
            texts.FOLLOWUPS_PAGE.format(page=page, pages=pages),
            reply_markup=InlineKeyboardMarkup([pager]),
        )


# --- /contact -----------------------------------------------------------------------------
async def contact_begin(update: Update, context: BotContext) -> Answers:
    """The command (anyone followed?), or a card's « Noter un contact » (its person)."""
    if (card := await picking.from_card(update, context, open_only=False)) is not None:
        return card
    return await picking.anyone_followed(context)


def contact_prompt(asked: Asked) -> str:
    return texts.CONTACT_KIND.format(person=asked.answers[picking.LABEL])


async def contact_save(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Record the contact (the note, if the person agreed to notes)."""
    services = context.services
    interaction = await orientations.record_contact(
        session=session,
        actor=context.member,
        person_id=answers[picking.PERSON_ID],
        kind=ContactKind(answers[KIND]),
        note=picking.note_of(answers),
        now=services.clock(),
    )
    return Finished(
        texts.CONTACT_SAVED.format(
            person=answers[picking.LABEL],
            kind=texts.CONTACT_LABELS[interaction.kind].lower(),
            date=day(interaction.at, services.settings.tz),
        )
    )


CONTACT: Final = Form(
    key="ct",
    command="contact",
    begin=contact_begin,
    also_on=(PersonRef.pattern("contact"),),
    steps=(
        picking.person_step(open_only=False),
        Choice(name=KIND, prompt=contact_prompt, options=list(texts.CONTACT_LABELS.items())),
        picking.note_step(prompt=texts.CONTACT_NOTE),
    ),
    finish=contact_save,
)


# --- /sortie ------------------------------------------------------------------------------
async def exit_begin(update: Update, context: BotContext) -> Answers:
    """The command (anyone followed?), a card's or a reminder's « Clore la médiation » (its
    person, whose mediation must be open)."""
    if (card := await picking.from_card(update, context, open_only=True)) is not None:
        return card
    if (reminded := await picking.from_reminder(update, context)) is not None:
        return picking.given(reminded[2], open_only=True)
    return await picking.anyone_followed(context)


def reason_prompt(asked: Asked) -> str:
    return texts.EXIT_REASON.format(person=asked.answers[picking.LABEL])


async def exit_days(asked: Asked) -> list[Option]:
    """Today or yesterday (as dates: what is stored)."""
    today = asked.today
    return [
        (today.isoformat(), texts.INFORMED_TODAY),
        ((today - dt.timedelta(days=1)).isoformat(), texts.INFORMED_YESTERDAY),
    ]


def read_exit_day(text: str, asked: Asked) -> str:
    """A typed date (12/03, lundi...), within what the domain allows."""
    on = parse_day(text, today=asked.today, past=True)
    if on is None or not orientations.exit_day_allowed(on, today=asked.today):
        raise DomainError("date_out_of_range")
    return on.isoformat()


async def exit_summary(asked: Asked) -> str:
    """Closing stops every reminder about this person: asked to confirm."""
    answers = asked.answers
    return texts.EXIT_CONFIRM.format(
        person=answers[picking.LABEL],
        reason=texts.EXIT_LABELS[answers[REASON]].lower(),
        date=day(dt.date.fromisoformat(answers[DATE]), asked.context.services.settings.tz),
    )


async def exit_save(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Close the mediation."""
    services = context.services
    on = dt.date.fromisoformat(answers[DATE])
    await orientations.exit_person(
        session=session,
        actor=context.member,
        person_id=answers[picking.PERSON_ID],
        reason=ExitReason(answers[REASON]),
        on=on,
        today=services.today(),
        now=services.clock(),
    )
    return Finished(
        texts.EXIT_SAVED.format(
            person=answers[picking.LABEL],
            reason=texts.EXIT_LABELS[answers[REASON]].lower(),
            date=day(on, services.settings.tz),
        )
    )


EXIT_TITLES: Final = texts.EXIT_FIELD_NAMES
SORTIE: Final = Form(
    key="ex",
    command="sortie",
    begin=exit_begin,
    also_on=(PersonRef.pattern("exit"), FollowUp.pattern("close")),
    steps=(
        picking.person_step(title=EXIT_TITLES[picking.PERSON], open_only=True),
        Choice(
            name=REASON,
            title=EXIT_TITLES[REASON],
            prompt=reason_prompt,
            options=list(texts.EXIT_LABELS.items()),
            columns=1,
        ),
        Choice(
            name=DATE,
            title=EXIT_TITLES[DATE],
            prompt=texts.EXIT_DATE,
            options=exit_days,
            read=read_exit_day,
        ),
        Summary(name="confirm", text=exit_summary, save=texts.EXIT_CONFIRM_YES),
    ),
    finish=exit_save,
)


async def reopen(update: Update, context: BotContext) -> None:
    """« Rouvrir la médiation » (coordinators): an exited person, or a supported person whose
    support ended, back to accroché·e."""
    ref = PersonRef.pressed(update)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return
    async with context.services.sessions.begin() as session:
        reopened = await orientations.reopen(
            session=session,
            actor=context.member,
            person_id=ref.person_id,
            now=context.services.clock(),
        )
    label = person_label(reopened.person)
    if reopened.previous == Status.SUPPORTED:
        status = texts.STATUS_LABELS[reopened.person.status]
        await show(update, texts.REOPENED_SUPPORT.format(person=label, status=status))
        return
    await show(update, texts.REOPENED.format(person=label))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Reminder answers, /suivis, /contact, /sortie, re-opening."""
    answers = "|".join(a.value for a in Answer)
    return [
        CallbackQueryHandler(on_answer, pattern=f"^fu:({answers}):"),
        CommandHandler("suivis", list_followups),
        CallbackQueryHandler(list_followups, pattern=Page.pattern("followups")),
        *FormEngine(CONTACT).handlers(),
        *FormEngine(SORTIE).handlers(),
        CallbackQueryHandler(reopen, pattern=PersonRef.pattern("reopen")),
    ]
