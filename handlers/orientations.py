"""`/orienter`: put one of my people in contact with a partner, in a few taps (a form).

Also started from a person's card (« Orienter », and « Orienter maintenant » once a person is
saved) and from a reminder (« Réorienter »), in which case the new orientation replaces the
one being followed up. A category with one partner chooses it; « Information » asks no
appointment; the note is offered only when the person agreed to notes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from bot import keyboards, texts
from bot.callbacks import FollowUp, PersonRef
from bot.context import BotContext
from bot.dates import parse_day
from bot.formatting import day, plural
from bot.messages import ask_partner_button
from handlers import picking
from handlers.forms import (
    MORE,
    Answers,
    Asked,
    Choice,
    Finished,
    Form,
    FormEngine,
    Option,
    Summary,
    Text,
)
from models import orientations, reference
from models.base import pk
from models.errors import DomainError
from models.orientations import Mode, Purpose
from models.reference import Kind, Partner

CATEGORY, PARTNER, NEW_PARTNER = "category", "partner", "new_partner"
PURPOSE, MODE, APPOINTMENT = "purpose", "mode", "appointment"
PARTNER_NAME: Final = "partner_name"
REPLACES: Final = "replaces"
NEW: Final = "new"  # the « ➕ Autre partenaire » button
NO_APPOINTMENT: Final = "none"
APPOINTMENT_BUTTONS: Final = (
    (texts.ORIENT_TODAY, 0),
    (texts.ORIENT_TOMORROW, 1),
    (texts.ORIENT_NEXT_WEEK, 7),
)


# --- Where it starts -----------------------------------------------------------------------
async def begin(update: Update, context: BotContext) -> Answers:
    """The command (anyone followed?), a card (its person), or a reminder (its person, and
    the orientation the new one replaces, if that reminder is still unanswered)."""
    if (card := await picking.from_card(update, context, open_only=True)) is not None:
        return card
    if (reminded := await picking.from_reminder(update, context)) is not None:
        reminder, orientation, person = reminded
        if not orientation.is_open or orientation.seq != reminder.seq:
            raise DomainError("answer_already")
        return picking.given(person, open_only=True) | {REPLACES: orientation.id}
    return await picking.anyone_followed(context)


# --- The steps' questions, options and readings --------------------------------------------
def category_prompt(asked: Asked) -> str:
    return texts.ORIENT_CATEGORY.format(person=asked.answers[picking.LABEL])


def purpose_prompt(asked: Asked) -> str:
    """Says which partner, as a category with one partner chooses it without asking."""
    return texts.ORIENT_PURPOSE.format(partner=asked.answers[PARTNER_NAME])


async def categories(asked: Asked) -> list[Option]:
    found = await asked.context.services.reference.choices(Kind.PARTNER_CATEGORY)
    return [(c.code, c.label) for c in found]


async def partners(asked: Asked) -> list[Option]:
    """The category's partners (« ➕ Autre partenaire » is the step's `more`)."""
    listed = await asked.context.services.reference.partners(asked.answers[CATEGORY])
    return [(str(p.id), p.name) for p in listed]


async def partner_chosen(value: Any, asked: Asked) -> Answers:
    """A partner of the directory: its name, for the next question and the summary."""
    names = dict(await partners(asked))
    return {PARTNER_NAME: names[str(value)]}


def adding_partner(answers: Answers) -> bool:
    return answers.get(MORE) == PARTNER


def read_partner_name(text: str, asked: Asked) -> str:
    return reference.clean_partner_name(text)


async def partner_typed(value: Any, asked: Asked) -> Answers:
    return {PARTNER_NAME: value}


def appointment_asked(answers: Answers) -> bool:
    """« Information » books nothing: no appointment to ask."""
    return answers.get(MODE) != Mode.INFORMATION.value


async def appointment_options(asked: Asked) -> list[Option]:
    """Today, tomorrow, in a week (as dates: what is stored), or none."""
    today = asked.today
    return [
        ((today + dt.timedelta(days=offset)).isoformat(), label)
        for label, offset in APPOINTMENT_BUTTONS
    ] + [(NO_APPOINTMENT, texts.ORIENT_NO_APPOINTMENT)]


def read_appointment(text: str, asked: Asked) -> str:
    """A typed date (12/03, lundi...), within what the domain allows."""
    chosen = parse_day(text, today=asked.today, past=False)
    if chosen is None or not orientations.appointment_day_allowed(chosen, today=asked.today):
        raise DomainError("appointment_invalid")
    return chosen.isoformat()


def appointment_of(answers: Answers) -> dt.date | None:
    value = answers.get(APPOINTMENT)
    if not appointment_asked(answers) or not value or value == NO_APPOINTMENT:
        return None
    return dt.date.fromisoformat(value)


# --- The check before saving, and the save ------------------------------------------------
async def summary(asked: Asked) -> str:
    """Everything, for a last check (not the note itself: only /nouveau's summary may show
    what was typed, issue #6, 2)."""
    answers = asked.answers
    appointment = appointment_of(answers)
    note = picking.note_of(answers)
    return texts.ORIENT_SUMMARY.format(
        person=answers[picking.LABEL],
        partner=answers[PARTNER_NAME],
        purpose=texts.PURPOSE_LABELS[answers[PURPOSE]],
        mode=texts.MODE_LABELS[answers[MODE]],
        appointment=day(appointment, asked.context.services.settings.tz)
        if appointment
        else texts.NO_APPOINTMENT,
        note=(
            texts.NOTE_WRITTEN.format(length=plural(len(note), *texts.NOTE_LENGTH))
            if note
            else texts.NOT_GIVEN
        ),
    )


async def save(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Create the orientation (and the partner typed in, if any)."""
    services = context.services
    if adding_partner(answers):
        partner: Partner = await reference.add_partner(
            session=session, name=answers[NEW_PARTNER], category=answers[CATEGORY]
        )
        partner_id = pk(partner)
        services.reference.invalidate()
    else:
        partner_id = int(answers[PARTNER])
    orientation = await orientations.orient(
        session=session,
        actor=context.member,
        person_id=answers[picking.PERSON_ID],
        partner_id=partner_id,
        purpose=Purpose(answers[PURPOSE]),
        mode=Mode(answers[MODE]),
        appointment_on=appointment_of(answers),
        note=picking.note_of(answers),
        now=services.clock(),
        today=services.today(),
        policy=services.settings.followup_policy,
        replaces_id=answers.get(REPLACES),
    )
    check = orientation.next_check_at or services.clock()
    text = texts.ORIENT_SAVED.format(
        person=answers[picking.LABEL],
        partner=answers[PARTNER_NAME],
        check=day(services.settings.reminder_window.next_opening(check), services.settings.tz),
    )
    buttons = [[keyboards.contact_button(partner_id)], [ask_partner_button(pk(orientation))]]
    return Finished(text, InlineKeyboardMarkup(buttons))


TITLES: Final = texts.ORIENT_FIELD_NAMES
ORIENTER: Final = Form(
    key="or",
    command="orienter",
    begin=begin,
    also_on=(PersonRef.pattern("orient"), FollowUp.pattern("reorient")),
    steps=(
        picking.person_step(title=TITLES["person"], open_only=True),
        Choice(
            name=CATEGORY,
            title=TITLES[CATEGORY],
            prompt=category_prompt,
            options=categories,
            resets=(PARTNER, NEW_PARTNER, PARTNER_NAME, MORE),
        ),
        Choice(
            name=PARTNER,
            title=TITLES[PARTNER],
            prompt=texts.ORIENT_PARTNER,
            options=partners,
            columns=1,
            more=(NEW, texts.ORIENT_OTHER_PARTNER),
            accept=partner_chosen,
        ),
        Text(
            name=NEW_PARTNER,
            title=TITLES[NEW_PARTNER],
            prompt=texts.ORIENT_NEW_PARTNER,
            read=read_partner_name,
            applies=adding_partner,
            accept=partner_typed,
        ),
        Choice(
            name=PURPOSE,
            title=TITLES[PURPOSE],
            prompt=purpose_prompt,
            options=list(texts.PURPOSE_LABELS.items()),
        ),
        Choice(
            name=MODE,
            title=TITLES[MODE],
            prompt=texts.ORIENT_MODE,
            options=list(texts.MODE_LABELS.items()),
            columns=1,
        ),
        Choice(
            name=APPOINTMENT,
            title=TITLES[APPOINTMENT],
            prompt=texts.ORIENT_APPOINTMENT,
            options=appointment_options,
            read=read_appointment,
            applies=appointment_asked,
        ),
        picking.note_step(prompt=texts.ORIENT_NOTE, title=TITLES[picking.NOTE]),
        Summary(name="summary", text=summary),
    ),
    finish=save,
)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The /orienter form and its two other doors (a card, a reminder)."""
    return FormEngine(ORIENTER).handlers()
