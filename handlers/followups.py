"""Follow-up: answers to reminders, `/suivis`, `/contact` and `/sortie` (closing a mediation)."""

from __future__ import annotations

import datetime as dt
import math
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
from bot.callbacks import FollowUp, Nav, Page, PersonRef, Pick
from bot.context import BotContext
from bot.dates import parse_day
from bot.formatting import day
from bot.messages import person_label, reminder_keyboard, reminder_text
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
from models import orientations
from models.errors import DomainError
from models.orientations import Answer, ContactKind, ExitReason, Orientation
from models.people import Person, Status, clean_note
from models.reference import Partner

MAX_DUE_SHOWN: Final = 10  # a page of /suivis
ALL_PENDING: Final = 2_000  # /suivis pages through at most this many open orientations


# --- Reminder answers ---------------------------------------------------------------------
async def on_answer(update: Update, context: BotContext) -> None:
    """Venu·e / sans suite / pas venu·e / relancer: record, then show what was recorded."""
    ref = FollowUp.unpack(update.callback_query.data if update.callback_query else None)
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
    page = 1
    if update.callback_query is not None:
        parsed = Page.unpack(update.callback_query.data)
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
CONTACT_FORM: Final = "ct"
CONTACT_CONVERSATION: Final = "contact"
KIND, NOTE = "kind", "note"


def _begin(update: Update, context: BotContext, form: str) -> dict[str, Any]:
    draft = begin_draft(update, context, form)
    draft["step"] = picking.PERSON
    return draft


async def _pick_person_first(
    update: Update, context: BotContext, form: str, conversation: str
) -> object:
    """Start a conversation at the person picker (ends at once if nobody is followed yet)."""
    _begin(update, context, form)
    await checkpoint(update, context, conversation=conversation, state=picking.PERSON)
    if not await picking.ask_person(update, context, form):
        drafts.drop(context.member_data, form)
        await checkpoint(update, context, conversation=conversation, state=END)
        return END
    return picking.PERSON


async def contact_start(update: Update, context: BotContext) -> object:
    """/contact: which person?"""
    return await _pick_person_first(update, context, CONTACT_FORM, CONTACT_CONVERSATION)


async def contact_from_card(update: Update, context: BotContext) -> object:
    """« Noter un contact » on a person's card."""
    ref = PersonRef.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return END
    draft = _begin(update, context, CONTACT_FORM)
    return await contact_kind(
        update, context, draft, await picking.chosen(context, str(ref.person_id))
    )


async def contact_kind(
    update: Update, context: BotContext, draft: dict[str, Any], person: Person, edit: bool = True
) -> str:
    """Which kind of contact."""
    draft.update(person_id=person.id, person=person_label(person), consent=person.contact_consent)
    draft["step"] = KIND
    await checkpoint(update, context, conversation=CONTACT_CONVERSATION, state=KIND)
    markup = keyboards.choices(CONTACT_FORM, KIND, list(texts.CONTACT_LABELS.items()), back=False)
    await show(update, texts.CONTACT_KIND.format(person=draft["person"]), markup, edit=edit)
    return KIND


@with_draft(CONTACT_FORM, "contact")
async def contact_pick(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Person or kind chosen."""
    pick = await current_pick(update, draft)
    if pick is None:
        return None
    if pick.step == picking.PERSON:
        return await contact_kind(
            update, context, draft, await picking.chosen(context, pick.value)
        )
    if pick.step == KIND and pick.value in texts.CONTACT_LABELS:
        draft["kind"] = pick.value
        if not draft["consent"]:
            return await contact_save(update, context, draft)
        draft["step"] = NOTE
        await checkpoint(update, context, conversation=CONTACT_CONVERSATION, state=NOTE)
        return await contact_ask_note(update)
    await notice(update, texts.STALE_BUTTON)
    return None


async def contact_ask_note(update: Update) -> str:
    """The optional note (the person consented to it)."""
    markup = keyboards.nav_only(CONTACT_FORM, back=False, skip=True)
    await show(update, texts.CONTACT_NOTE, markup, edit=update.callback_query is not None)
    return NOTE


@with_draft(CONTACT_FORM, "contact")
async def contact_text(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """A typed person search, or the note."""
    text = update.effective_message.text if update.effective_message else None
    if draft["step"] == picking.PERSON and text:
        await picking.search(update, context, CONTACT_FORM, text)
        return picking.PERSON
    if draft["step"] == NOTE and text:
        try:
            draft["note"] = clean_note(text)
        except DomainError as error:  # why, then the same question, in one message
            await refuse_sensitive(update, context)
            warn(texts.domain_error(error.key, error.params))
            return await contact_ask_note(update)
        remember_sensitive(update, draft)
        return await contact_save(update, context, draft)
    if draft["step"] == NOTE:  # a photo, a voice message...: it may hold the note all the same
        await refuse_sensitive(update, context)
    await show(update, texts.USE_BUTTONS, edit=False)
    return None


@with_draft(CONTACT_FORM, "contact")
async def contact_nav(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Passer (the note) or Annuler."""
    nav = Nav.unpack(update.callback_query.data if update.callback_query else None)
    if nav is not None and nav.action == "skip" and draft["step"] == NOTE:
        draft["note"] = None
        return await contact_save(update, context, draft)
    if nav is not None and nav.action == "cancel":
        return await contact_cancel(update, context)
    await notice(update, texts.STALE_BUTTON)
    return None


async def contact_save(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Record the contact; confirm once committed."""
    services = context.services
    async with services.sessions.begin() as session:
        interaction = await orientations.record_contact(
            session=session,
            actor=context.member,
            person_id=draft["person_id"],
            kind=ContactKind(draft["kind"]),
            note=draft.get("note"),
            now=services.clock(),
        )
        await checkpoint(
            update,
            context,
            conversation=CONTACT_CONVERSATION,
            state=END,
            session=session,
            without=CONTACT_FORM,
        )
    drafts.drop(context.member_data, CONTACT_FORM)
    await delete_sensitive(update, context, draft)
    await show(
        update,
        texts.CONTACT_SAVED.format(
            person=draft["person"],
            kind=texts.CONTACT_LABELS[interaction.kind].lower(),
            date=day(interaction.at, services.settings.tz),
        ),
    )
    return END


contact_cancel = cancel_for(CONTACT_FORM, CONTACT_CONVERSATION)


# --- /sortie ------------------------------------------------------------------------------
EXIT_FORM: Final = "ex"
EXIT_CONVERSATION: Final = "sortie"
REASON, DATE, CONFIRM = "reason", "date", "confirm"


async def exit_start(update: Update, context: BotContext) -> object:
    """/sortie: which person?"""
    return await _pick_person_first(update, context, EXIT_FORM, EXIT_CONVERSATION)


async def exit_from_elsewhere(update: Update, context: BotContext) -> object:
    """« Clore la médiation » on a reminder or on a person's card."""
    data = update.callback_query.data if update.callback_query else None
    card = PersonRef.unpack(data)
    reminder = FollowUp.unpack(data)
    if card is not None:
        person = await picking.chosen(context, str(card.person_id))
    elif reminder is not None:
        async with context.services.reads() as session:
            _, person = await orientations.orientation_for(
                session=session, actor=context.member, orientation_id=reminder.orientation_id
            )
    else:
        await notice(update, texts.STALE_BUTTON)
        return END
    draft = _begin(update, context, EXIT_FORM)
    return await exit_reason(update, context, draft, person, edit=card is not None)


async def exit_reason(
    update: Update, context: BotContext, draft: dict[str, Any], person: Person, edit: bool = True
) -> str:
    """Why the mediation ends."""
    if person.status == "exited":
        raise DomainError("person_exited")
    draft.update(person_id=person.id, person=person_label(person), step=REASON)
    await checkpoint(update, context, conversation=EXIT_CONVERSATION, state=REASON)
    markup = keyboards.choices(
        EXIT_FORM, REASON, list(texts.EXIT_LABELS.items()), columns=1, back=False
    )
    await show(update, texts.EXIT_REASON.format(person=draft["person"]), markup, edit=edit)
    return REASON


async def exit_ask_date(update: Update, context: BotContext, draft: dict[str, Any]) -> str:
    """When: today by default."""
    draft["step"] = DATE
    await checkpoint(update, context, conversation=EXIT_CONVERSATION, state=DATE)
    markup = keyboards.choices(
        EXIT_FORM, DATE, [("0", texts.INFORMED_TODAY), ("1", texts.INFORMED_YESTERDAY)]
    )
    await show(update, texts.EXIT_DATE, markup, edit=update.callback_query is not None)
    return DATE


async def exit_confirm(
    update: Update, context: BotContext, draft: dict[str, Any], on: dt.date
) -> str:
    """Ask to confirm: closing stops every reminder about this person."""
    draft.update(on=on.isoformat(), step=CONFIRM)
    await checkpoint(update, context, conversation=EXIT_CONVERSATION, state=CONFIRM)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.EXIT_CONFIRM_YES, callback_data=Nav(EXIT_FORM, "save").pack()
                )
            ],
            keyboards.nav_row(EXIT_FORM),
        ]
    )
    text = texts.EXIT_CONFIRM.format(
        person=draft["person"],
        reason=texts.EXIT_LABELS[draft["reason"]].lower(),
        date=day(on, context.services.settings.tz),
    )
    await show(update, text, markup, edit=update.callback_query is not None)
    return CONFIRM


@with_draft(EXIT_FORM, "sortie")
async def exit_pick(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Person, reason or day chosen."""
    pick = await current_pick(update, draft)
    if pick is None:
        return None
    if pick.step == picking.PERSON:
        return await exit_reason(update, context, draft, await picking.chosen(context, pick.value))
    if pick.step == REASON and pick.value in texts.EXIT_LABELS:
        draft["reason"] = pick.value
        return await exit_ask_date(update, context, draft)
    if pick.step == DATE and pick.value in ("0", "1"):
        on = context.services.today() - dt.timedelta(days=int(pick.value))
        return await exit_confirm(update, context, draft, on)
    await notice(update, texts.STALE_BUTTON)
    return None


@with_draft(EXIT_FORM, "sortie")
async def exit_text(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """A typed person search or date."""
    text = update.effective_message.text if update.effective_message else None
    if draft["step"] == picking.PERSON and text:
        await picking.search(update, context, EXIT_FORM, text)
        return picking.PERSON
    if draft["step"] == DATE and text:
        today = context.services.today()
        on = parse_day(text, today=today, past=True)
        if on is None or on > today:
            warn(texts.domain_error("date_out_of_range"))
            return await exit_ask_date(update, context, draft)
        return await exit_confirm(update, context, draft, on)
    await show(update, texts.USE_BUTTONS, edit=False)
    return None


@with_draft(EXIT_FORM, "sortie")
async def exit_nav(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Oui, clore / Retour / Annuler."""
    nav = Nav.unpack(update.callback_query.data if update.callback_query else None)
    action = nav.action if nav else None
    if action == "cancel":
        return await exit_cancel(update, context)
    if action == "back" and draft["step"] in (DATE, CONFIRM):
        if draft["step"] == CONFIRM:
            return await exit_ask_date(update, context, draft)
        async with context.services.reads() as session:
            person = await session.get_one(Person, draft["person_id"])
        return await exit_reason(update, context, draft, person)
    if action == "save" and draft["step"] == CONFIRM:
        return await exit_save(update, context, draft)
    await notice(update, texts.STALE_BUTTON)
    return None


async def exit_save(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Close the mediation; confirm once committed."""
    services = context.services
    on = dt.date.fromisoformat(draft["on"])
    async with services.sessions.begin() as session:
        await orientations.exit_person(
            session=session,
            actor=context.member,
            person_id=draft["person_id"],
            reason=ExitReason(draft["reason"]),
            on=on,
            today=services.today(),
            now=services.clock(),
        )
        await checkpoint(
            update,
            context,
            conversation=EXIT_CONVERSATION,
            state=END,
            session=session,
            without=EXIT_FORM,
        )
    drafts.drop(context.member_data, EXIT_FORM)
    await show(
        update,
        texts.EXIT_SAVED.format(
            person=draft["person"],
            reason=texts.EXIT_LABELS[draft["reason"]].lower(),
            date=day(on, services.settings.tz),
        ),
    )
    return END


exit_cancel = cancel_for(EXIT_FORM, EXIT_CONVERSATION)


async def reopen(update: Update, context: BotContext) -> None:
    """« Rouvrir la médiation » (coordinators): an exited person, or a supported person whose
    support ended, back to accroché·e."""
    ref = PersonRef.unpack(update.callback_query.data if update.callback_query else None)
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


async def stale(update: Update, context: BotContext) -> None:
    """A button of an earlier step."""
    await notice(update, texts.STALE_BUTTON)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Reminder answers, /suivis, /contact, /sortie, re-opening."""
    contact_pick_h = CallbackQueryHandler(contact_pick, pattern=Pick.pattern(CONTACT_FORM))
    contact_text_h = MessageHandler(~filters.COMMAND, contact_text)
    exit_pick_h = CallbackQueryHandler(exit_pick, pattern=Pick.pattern(EXIT_FORM))
    exit_text_h = MessageHandler(~filters.COMMAND, exit_text)
    answers = "|".join(a.value for a in Answer)
    return [
        CallbackQueryHandler(on_answer, pattern=f"^fu:({answers}):"),
        CommandHandler("suivis", list_followups),
        CallbackQueryHandler(list_followups, pattern=Page.pattern("followups")),
        ConversationHandler(
            entry_points=[
                CommandHandler("contact", contact_start),
                CallbackQueryHandler(contact_from_card, pattern=PersonRef.pattern("contact")),
            ],
            states={
                picking.PERSON: [contact_pick_h, contact_text_h],
                KIND: [contact_pick_h],
                NOTE: [contact_text_h],
            },
            fallbacks=[
                CommandHandler("annuler", contact_cancel),
                CallbackQueryHandler(contact_nav, pattern=Nav.pattern(CONTACT_FORM)),
                CallbackQueryHandler(stale, pattern=Pick.pattern(CONTACT_FORM)),
            ],
            name=CONTACT_CONVERSATION,
            persistent=True,
            allow_reentry=True,
        ),
        ConversationHandler(
            entry_points=[
                CommandHandler("sortie", exit_start),
                CallbackQueryHandler(exit_from_elsewhere, pattern=PersonRef.pattern("exit")),
                CallbackQueryHandler(exit_from_elsewhere, pattern=FollowUp.pattern("close")),
            ],
            states={
                picking.PERSON: [exit_pick_h, exit_text_h],
                REASON: [exit_pick_h],
                DATE: [exit_pick_h, exit_text_h],
                CONFIRM: [],
            },
            fallbacks=[
                CommandHandler("annuler", exit_cancel),
                CallbackQueryHandler(exit_nav, pattern=Nav.pattern(EXIT_FORM)),
                CallbackQueryHandler(stale, pattern=Pick.pattern(EXIT_FORM)),
            ],
            name=EXIT_CONVERSATION,
            persistent=True,
            allow_reentry=True,
        ),
        CallbackQueryHandler(reopen, pattern=PersonRef.pattern("reopen")),
    ]
