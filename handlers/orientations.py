"""`/orienter`: put one of my people in contact with a partner, in a few taps.

Also entered from a person's card (« Orienter ») and from a reminder (« Réorienter »), in
which case the new orientation replaces the one being followed up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import drafts, keyboards, texts
from bot.callbacks import FollowUp, Nav, PersonRef, Pick
from bot.context import BotContext
from bot.dates import parse_day
from bot.formatting import day
from bot.messages import ask_partner_button, person_label
from handlers import picking
from handlers.common import (
    END,
    begin_draft,
    cancel_for,
    checkpoint,
    current_pick,
    delete_sensitive,
    notice,
    refuse_sensitive,
    remember_sensitive,
    show,
    warn,
    with_draft,
)
from models import orientations, reference
from models.base import pk
from models.errors import DomainError
from models.orientations import Mode, Purpose
from models.people import Person, clean_note
from models.reference import Kind, Partner

FORM: Final = "or"
COMMAND: Final = "orienter"
CONVERSATION: Final = "orienter"
PERSON, CATEGORY, PARTNER, NEW_PARTNER = picking.PERSON, "category", "partner", "newpartner"
PURPOSE, MODE, APPOINTMENT, NOTE, SUMMARY = "purpose", "mode", "appointment", "note", "summary"
TEXT_STEPS: Final = frozenset({PERSON, NEW_PARTNER, APPOINTMENT, NOTE})
APPOINTMENT_BUTTONS: Final = {
    "today": (texts.ORIENT_TODAY, 0),
    "tomorrow": (texts.ORIENT_TOMORROW, 1),
    "week": (texts.ORIENT_NEXT_WEEK, 7),
    "none": (texts.ORIENT_NO_APPOINTMENT, None),
}


def _begin(update: Update, context: BotContext) -> dict[str, Any]:
    draft = begin_draft(update, context, FORM)
    draft.update(history=[], replaces=None)
    return draft


async def start(update: Update, context: BotContext) -> object:
    """/orienter: which person?"""
    draft = _begin(update, context)
    return await goto(update, context, draft, PERSON)


async def start_from_card(update: Update, context: BotContext) -> object:
    """« Orienter » on a person's card."""
    ref = PersonRef.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return END
    person = await picking.chosen(context, str(ref.person_id))
    draft = _begin(update, context)
    return await with_person(update, context, draft, person)


async def start_from_reminder(update: Update, context: BotContext) -> object:
    """« Réorienter » on a reminder: the new orientation will replace the followed one."""
    ref = FollowUp.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return END
    async with context.services.reads() as session:
        orientation, person = await orientations.orientation_for(
            session=session, actor=context.member, orientation_id=ref.orientation_id
        )
    if not orientation.is_open or orientation.seq != ref.seq:
        await notice(update, texts.ANSWER_ALREADY)
        return END
    draft = _begin(update, context)
    draft["replaces"] = orientation.id
    return await with_person(update, context, draft, person, edit=False)


async def with_person(
    update: Update, context: BotContext, draft: dict[str, Any], person: Person, edit: bool = True
) -> object:
    """The person is known: go on to the partner."""
    orientations_guard(person)
    draft.update(person_id=person.id, person=person_label(person), consent=person.contact_consent)
    return await goto(update, context, draft, CATEGORY, edit=edit)


def orientations_guard(person: Person) -> None:
    """A closed mediation cannot be oriented (the domain says so again at save)."""
    if person.status == "exited":
        raise DomainError("person_exited")


async def goto(
    update: Update, context: BotContext, draft: dict[str, Any], step: str, *, edit: bool = True
) -> object:
    """Show `step`, after storing it (a restart continues here)."""
    previous = draft.get("step")
    if previous and previous != step and not draft.pop("going_back", False):
        draft["history"].append(previous)
    draft["step"] = step
    await checkpoint(update, context, conversation=CONVERSATION, state=step)
    edit = edit and update.callback_query is not None
    if step == PERSON:
        if not await picking.ask_person(update, context, FORM, edit=edit):
            drafts.drop(context.member_data, FORM)
            await checkpoint(update, context, conversation=CONVERSATION, state=END)
            return END
        return step
    if step == CATEGORY:
        found = await context.services.reference.choices(Kind.PARTNER_CATEGORY)
        markup = keyboards.choices(FORM, CATEGORY, [(c.code, c.label) for c in found])
        await show(update, texts.ORIENT_CATEGORY.format(person=draft["person"]), markup, edit=edit)
    elif step == PARTNER:
        listed = await context.services.reference.partners(draft["category"])
        options = [(str(p.id), p.name) for p in listed] + [("new", texts.ORIENT_OTHER_PARTNER)]
        markup = keyboards.choices(FORM, PARTNER, options, columns=1)
        await show(update, texts.ORIENT_PARTNER, markup, edit=edit)
    elif step == NEW_PARTNER:
        await show(update, texts.ORIENT_NEW_PARTNER, keyboards.nav_only(FORM), edit=edit)
    elif step == PURPOSE:
        markup = keyboards.choices(FORM, PURPOSE, list(texts.PURPOSE_LABELS.items()))
        await show(update, texts.ORIENT_PURPOSE, markup, edit=edit)
    elif step == MODE:
        markup = keyboards.choices(FORM, MODE, list(texts.MODE_LABELS.items()), columns=1)
        await show(update, texts.ORIENT_MODE, markup, edit=edit)
    elif step == APPOINTMENT:
        options = [(code, label) for code, (label, _) in APPOINTMENT_BUTTONS.items()]
        markup = keyboards.choices(FORM, APPOINTMENT, options)
        await show(update, texts.ORIENT_APPOINTMENT, markup, edit=edit)
    elif step == NOTE:
        await show(update, texts.ORIENT_NOTE, keyboards.nav_only(FORM, skip=True), edit=edit)
    else:
        await show(update, summary_text(context, draft), summary_keyboard(), edit=edit)
    return step


def summary_text(context: BotContext, draft: dict[str, Any]) -> str:
    """Everything, for a last check."""
    appointment = draft.get("appointment")
    tz = context.services.settings.tz
    return texts.ORIENT_SUMMARY.format(
        person=draft["person"],
        partner=draft["partner_name"],
        purpose=texts.PURPOSE_LABELS[draft["purpose"]],
        mode=texts.MODE_LABELS[draft["mode"]],
        appointment=day(dt.date.fromisoformat(appointment), tz)
        if appointment
        else texts.NO_APPOINTMENT,
        # Not the note itself: only /nouveau's summary may show what was typed (issue #6, 2).
        note=texts.NOTE_WRITTEN.format(length=len(draft["note"]))
        if draft.get("note")
        else texts.NOT_GIVEN,
    )


def summary_keyboard() -> InlineKeyboardMarkup:
    """Enregistrer, Retour, Annuler."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.NEW_SAVE, callback_data=Nav(FORM, "save").pack())],
            keyboards.nav_row(FORM),
        ]
    )


def after_appointment(draft: dict[str, Any]) -> str:
    """The note is asked only when the person agreed to keep notes."""
    return NOTE if draft.get("consent") else SUMMARY


@with_draft(FORM, COMMAND)
async def on_pick(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """A button of the current step."""
    pick = await current_pick(update, draft)
    if pick is None:
        return None
    if pick.step == PERSON:
        return await with_person(update, context, draft, await picking.chosen(context, pick.value))
    if pick.step == CATEGORY:
        draft["category"] = pick.value
        return await goto(update, context, draft, PARTNER)
    if pick.step == PARTNER:
        if pick.value == "new":
            return await goto(update, context, draft, NEW_PARTNER)
        async with context.services.reads() as session:
            partner = await session.get(Partner, int(pick.value)) if pick.value.isdigit() else None
        if partner is None or not partner.active:
            await notice(update, texts.STALE_BUTTON)
            return None
        draft.update(partner_id=partner.id, partner_name=partner.name, new_partner=None)
        return await goto(update, context, draft, PURPOSE)
    if pick.step == PURPOSE and pick.value in texts.PURPOSE_LABELS:
        draft["purpose"] = pick.value
        return await goto(update, context, draft, MODE)
    if pick.step == MODE and pick.value in texts.MODE_LABELS:
        draft["mode"] = pick.value
        return await goto(update, context, draft, APPOINTMENT)
    if pick.step == APPOINTMENT and pick.value in APPOINTMENT_BUTTONS:
        offset = APPOINTMENT_BUTTONS[pick.value][1]
        today = context.services.today()
        draft["appointment"] = (
            None if offset is None else (today + dt.timedelta(days=offset)).isoformat()
        )
        return await goto(update, context, draft, after_appointment(draft))
    await notice(update, texts.STALE_BUTTON)
    return None


@with_draft(FORM, COMMAND)
async def on_text(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Typed answers: a person to find, a new partner, a date, a note."""
    text = update.effective_message.text if update.effective_message else None
    step = draft["step"]
    if step not in TEXT_STEPS or not text:
        if step == NOTE:  # a photo, a voice message...: it may hold the note all the same
            await refuse_sensitive(update, context)
        warn(texts.USE_BUTTONS)
        return await goto(update, context, draft, step, edit=False)
    if step == PERSON:
        await picking.search(update, context, FORM, text)
        return PERSON
    if step == NEW_PARTNER:
        try:
            name = reference.clean_partner_name(text)
        except DomainError as error:
            warn(texts.domain_error(error.key, error.params))
            return await goto(update, context, draft, NEW_PARTNER, edit=False)
        draft.update(partner_id=None, partner_name=name, new_partner=name)
        return await goto(update, context, draft, PURPOSE, edit=False)
    if step == APPOINTMENT:
        today = context.services.today()
        chosen = parse_day(text, today=today, past=False)
        if chosen is None or not (
            today - dt.timedelta(days=orientations.APPOINTMENT_MAX_PAST_DAYS)
            <= chosen
            <= today + dt.timedelta(days=orientations.APPOINTMENT_MAX_FUTURE_DAYS)
        ):
            warn(texts.ORIENT_APPOINTMENT_INVALID)
            return await goto(update, context, draft, APPOINTMENT, edit=False)
        draft["appointment"] = chosen.isoformat()
        return await goto(update, context, draft, after_appointment(draft), edit=False)
    try:
        draft["note"] = clean_note(text)
    except DomainError as error:
        await refuse_sensitive(update, context)
        warn(texts.domain_error(error.key, error.params))
        return await goto(update, context, draft, NOTE, edit=False)
    remember_sensitive(update, draft)
    return await goto(update, context, draft, SUMMARY, edit=False)


@with_draft(FORM, COMMAND)
async def on_nav(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Retour, Passer, Enregistrer, Annuler."""
    nav = Nav.unpack(update.callback_query.data if update.callback_query else None)
    action, step = (nav.action if nav else None), draft["step"]
    if action == "cancel":
        return await cancel(update, context)
    if action == "back" and draft["history"]:
        draft["going_back"] = True
        return await goto(update, context, draft, draft["history"].pop())
    if action == "skip" and step == NOTE:
        draft["note"] = None
        return await goto(update, context, draft, SUMMARY)
    if action == "save" and step == SUMMARY:
        return await save(update, context, draft)
    await notice(update, texts.STALE_BUTTON)
    return None


async def save(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Create the orientation (and a new partner if one was typed); confirm once committed."""
    services = context.services
    appointment = draft.get("appointment")
    async with services.sessions.begin() as session:
        partner_id = draft.get("partner_id")
        if partner_id is None:
            partner = await reference.add_partner(
                session=session, name=draft["new_partner"], category=draft["category"]
            )
            partner_id = pk(partner)
            services.reference.invalidate()
        orientation = await orientations.orient(
            session=session,
            actor=context.member,
            person_id=draft["person_id"],
            partner_id=partner_id,
            purpose=Purpose(draft["purpose"]),
            mode=Mode(draft["mode"]),
            appointment_on=dt.date.fromisoformat(appointment) if appointment else None,
            note=draft.get("note"),
            now=services.clock(),
            today=services.today(),
            policy=services.settings.followup_policy,
            replaces_id=draft.get("replaces"),
        )
        await checkpoint(
            update, context, conversation=CONVERSATION, state=END, session=session, without=FORM
        )
    drafts.drop(context.member_data, FORM)
    await delete_sensitive(update, context, draft)
    check = orientation.next_check_at or services.clock()
    await show(
        update,
        texts.ORIENT_SAVED.format(
            person=draft["person"],
            partner=draft["partner_name"],
            check=day(services.settings.reminder_window.next_opening(check), services.settings.tz),
        ),
        InlineKeyboardMarkup(
            [
                [keyboards.contact_button(orientation.partner_id)],
                [ask_partner_button(pk(orientation))],
            ]
        ),
    )
    return END


cancel = cancel_for(FORM, CONVERSATION)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button of an earlier step."""
    await notice(update, texts.STALE_BUTTON)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The /orienter conversation and its two other doors."""
    pick = CallbackQueryHandler(on_pick, pattern=Pick.pattern(FORM))
    typed = MessageHandler(~filters.COMMAND, on_text)
    return [
        ConversationHandler(
            entry_points=[
                CommandHandler(COMMAND, start),
                CallbackQueryHandler(start_from_card, pattern=PersonRef.pattern("orient")),
                CallbackQueryHandler(start_from_reminder, pattern=FollowUp.pattern("reorient")),
            ],
            states={
                step: [pick, typed]
                for step in (PERSON, CATEGORY, PARTNER, NEW_PARTNER, PURPOSE, MODE, APPOINTMENT)
            }
            | {NOTE: [typed], SUMMARY: []},
            fallbacks=[
                CommandHandler("annuler", cancel),
                CallbackQueryHandler(on_nav, pattern=Nav.pattern(FORM)),
                CallbackQueryHandler(stale_button, pattern=Pick.pattern(FORM)),
                MessageHandler(~filters.COMMAND, on_text),
            ],
            name=CONVERSATION,
            persistent=True,
            allow_reentry=True,
        )
    ]
