"""`/nouveau` (record a newly engaged person), person cards and `/personnes`."""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
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
from bot.callbacks import Nav, Page, PersonRef, Pick
from bot.context import BotContext
from bot.db import truncate_log
from bot.formatting import day
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
from models import audit, consent, people
from models.errors import DomainError
from models.people import Answer, Person, Profile, Sex, Status
from models.reference import Kind, Neighbourhood

logger = logging.getLogger(__name__)

FORM: Final = "nv"
COMMAND: Final = "nouveau"
CONVERSATION: Final = "nouveau"

TEXT_STEPS: Final = ("first_name", "phone", "note")
CHOICE_STEPS: Final = (
    "sex",
    "age_bracket",
    "residence",
    "channel",
    "referrer",
    "barriers",
    "registered_ft",
    "referent_contact",
    "rsa",
    "notice",
    "language",
    "consent",
)
STEPS: Final = (
    "first_name",
    "sex",
    "age_bracket",
    "residence",
    "channel",
    "referrer",
    "barriers",
    "registered_ft",
    "referent_contact",
    "rsa",
    "notice",
    "language",
    "consent",
    "phone",
    "note",
)
OPTIONAL: Final = frozenset({"phone", "note"})
SUMMARY: Final = "summary"
EDIT: Final = "edit"
DUPLICATE: Final = "duplicate"
REFERENCE_KINDS: Final = {
    "age_bracket": Kind.AGE_BRACKET,
    "residence": Kind.RESIDENCE,
    "channel": Kind.CHANNEL,
    "barriers": Kind.BARRIER,
}
STATIC_OPTIONS: Final = {
    "sex": texts.SEX_LABELS,
    "registered_ft": texts.ANSWER_LABELS,
    "referent_contact": texts.ANSWER_LABELS,
    "rsa": texts.ANSWER_LABELS,
    "notice": texts.NOTICE_LABELS,
    "consent": texts.CONSENT_LABELS,
}
# Which answers a change of this step makes meaningless.
DEPENDENTS: Final = {
    "channel": ("referrer",),
    "registered_ft": ("referent_contact",),
    "consent": ("phone", "note"),
    "notice": ("language", "notice_id", "notice_at"),
}


# --- The form's rules of navigation -------------------------------------------------------
def applies(step: str, values: dict[str, Any]) -> bool:
    """Whether `step` is asked, given the answers so far."""
    if step == "referrer":
        return values.get("channel") == "partner_referral"
    if step == "referent_contact":
        return values.get("registered_ft") == Answer.YES
    if step in ("phone", "note"):
        return values.get("consent") == "yes"
    if step == "language":
        return values.get("notice") == "show"
    return True


def next_step(values: dict[str, Any], after: str | None, *, editing: bool) -> str:
    """The step after `after`: when editing, only the steps still unanswered."""
    start = STEPS.index(after) + 1 if after in STEPS else 0
    for step in STEPS[start:]:
        if applies(step, values) and (not editing or step not in values):
            return step
    return SUMMARY


def set_value(values: dict[str, Any], step: str, value: object) -> None:
    """Record an answer and forget the answers it makes meaningless."""
    if values.get(step) != value:
        for dependent in DEPENDENTS.get(step, ()):
            values.pop(dependent, None)
    values[step] = value


def profile_from(values: dict[str, Any]) -> Profile:
    """The domain profile from the form's answers."""
    referent = values.get("referent_contact")
    referrer = values.get("referrer")
    return Profile(
        first_name=values["first_name"],
        sex=Sex(values["sex"]),
        age_bracket=values["age_bracket"],
        residence=values["residence"],
        channel=values["channel"],
        referred_by_partner_id=int(referrer) if referrer else None,
        barriers=list(values.get("barriers", [])),
        registered_ft=Answer(values["registered_ft"]),
        referent_contact_5m=Answer(referent) if referent else None,
        rsa=Answer(values["rsa"]),
        contact_consent=values.get("consent") == "yes",
        phone=values.get("phone"),
        note=values.get("note"),
    )


# --- Rendering ----------------------------------------------------------------------------
async def options(context: BotContext, step: str) -> list[tuple[str, str]]:
    """(code, label) of the buttons of a choice step."""
    if step in STATIC_OPTIONS:
        return list(STATIC_OPTIONS[step].items())
    cache = context.services.reference
    if step == "referrer":
        return [(str(p.id), p.name) for p in await cache.partners()]
    if step == "language":
        return await language_options(context)
    return [(c.code, c.label) for c in await cache.choices(REFERENCE_KINDS[step])]


async def render(update: Update, context: BotContext, draft: dict[str, Any], step: str) -> str:
    """Show `step` of the form and return it as the conversation state."""
    draft["step"] = step
    await checkpoint(update, context, conversation=CONVERSATION, state=step)
    values = draft["values"]
    back = bool(draft["history"]) or draft.get("editing", False)
    edit = update.callback_query is not None and not draft.pop(AFTER_NOTICE, False)
    if step == SUMMARY:
        await show(update, await summary_text(context, values), summary_keyboard(), edit=edit)
    elif step == EDIT:
        markup = keyboards.choices(
            FORM,
            EDIT,
            [(s, texts.NEW_FIELD_NAMES[s]) for s in STEPS if applies(s, values)],
            back=True,
        )
        await show(update, texts.NEW_EDIT_PROMPT, markup, edit=edit)
    elif step in TEXT_STEPS:
        markup = keyboards.nav_only(FORM, back=back, skip=step in OPTIONAL)
        await show(update, texts.NEW_PROMPTS[step], markup, edit=edit)
    else:
        multi = step == "barriers"
        markup = keyboards.choices(
            FORM,
            step,
            await options(context, step),
            columns=1 if step in ("referrer", "barriers", "channel", "notice", "language") else 2,
            selected=set(values.get("barriers", [])) if multi else None,
            back=back,
            validate=multi,
        )
        prompt = consent_prompt(context, values) if step == "consent" else None
        await show(update, prompt or texts.NEW_PROMPTS[step], markup, edit=edit)
    return step


async def summary_text(context: BotContext, values: dict[str, Any]) -> str:
    """Every answer, labelled, for a last check before saving."""
    cache = context.services.reference
    label_maps = {step: await cache.labels(kind) for step, kind in REFERENCE_KINDS.items()}
    partner_names = {str(p.id): p.name for p in await cache.partners()}
    label_maps.update(STATIC_OPTIONS)
    label_maps["referrer"] = partner_names
    label_maps["notice"] = texts.NOTICE_SUMMARY_LABELS
    if values.get("language"):
        label_maps["language"] = dict(await language_options(context))
    lines = [texts.NEW_SUMMARY_HEADER]
    for step in STEPS:
        if not applies(step, values):
            continue
        value = values.get(step)
        if step == "barriers":
            shown = ", ".join(label_maps[step].get(b, b) for b in value or []) or texts.NONE_LABEL
        elif value is None:
            shown = texts.NOT_GIVEN
        elif step in label_maps:
            shown = label_maps[step].get(str(value), str(value))
        else:
            shown = str(value)
        lines.append(texts.NEW_SUMMARY_LINE.format(field=texts.NEW_FIELD_NAMES[step], value=shown))
    return "\n".join(lines)


def summary_keyboard() -> InlineKeyboardMarkup:
    """Enregistrer / Modifier / Annuler."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.NEW_SAVE, callback_data=Nav(FORM, "save").pack())],
            [
                InlineKeyboardButton(texts.NEW_EDIT, callback_data=Nav(FORM, "edit").pack()),
                InlineKeyboardButton(texts.CANCEL, callback_data=Nav(FORM, "cancel").pack()),
            ],
        ]
    )


async def advance(update: Update, context: BotContext, draft: dict[str, Any], current: str) -> str:
    """Move past `current` to the next step that needs an answer."""
    editing = draft.get("editing", False)
    if not editing:
        draft["history"].append(current)
    step = next_step(draft["values"], current, editing=editing)
    if step == SUMMARY:
        draft["editing"] = False
    return await render(update, context, draft, step)


# --- The information notice before the consent question (GDPR art. 13) -------------------
AFTER_NOTICE: Final = "after_notice"  # the next step is a new message, below the notice


def notice_values(context: BotContext) -> consent.NoticeSettings:
    """What the notices' placeholders say, from the operator's settings."""
    settings = context.services.settings
    return consent.NoticeSettings(
        operator=settings.operator_name,
        retention_months=settings.retention_months,
        contact=settings.privacy_contact,
    )


def notices(context: BotContext) -> dict[str, consent.Notice]:
    """The notice files, read afresh (an operator's edit counts from the next person on);
    none when an edit broke one (said in the log; the mediator informs by voice)."""
    try:
        return consent.load_notices(context.services.settings.notices_dir or consent.NOTICES_DIR)
    except consent.NoticeError as error:
        logger.error("The notice files cannot be used: %s", error)
        return {}


async def language_options(context: BotContext) -> list[tuple[str, str]]:
    """The languages, the ones this mediator used most first; unreviewed ones said so."""
    found = notices(context)
    async with context.services.reads() as session:
        used = await consent.most_used_languages(
            session=session, mediator_id=context.member.id or 0
        )
    choices = []
    for code in consent.order_languages(found, used):
        notice = found[code]
        label = notice.name_fr
        if notice.name.casefold() != notice.name_fr.casefold():
            label = f"{notice.name_fr} · {notice.name}"
        if not notice.reviewed:
            label = texts.NOTICE_NOT_REVIEWED.format(label=label)
        choices.append((code, label))
    return choices


def consent_prompt(context: BotContext, values: dict[str, Any]) -> str:
    """The consent question, the line the mediator reads aloud, and the question in the
    person's language when the notice was shown in another one."""
    parts = [texts.NEW_PROMPTS["consent"], texts.CONSENT_SCRIPT]
    language = values.get("language")
    notice = notices(context).get(language) if language not in (None, "fr") else None
    if notice is not None and notice.question:
        question = consent.render_question(notice, notice_values(context))
        parts.append(texts.CONSENT_QUESTION_FOR_PERSON.format(question=question))
    return "\n\n".join(parts)


async def show_notice(
    update: Update, context: BotContext, draft: dict[str, Any], language: str
) -> object:
    """Send the notice in `language` as one message (and its voice message, if any), store
    the exact text of this version on first use, then ask for consent below it."""
    services = context.services
    notice = notices(context).get(language)
    if notice is None:
        return await notice_unavailable(update, context, draft, "language")
    text = consent.render(notice, notice_values(context))
    now = services.clock()
    async with services.sessions.begin() as session:
        shown = await consent.notice_version(session=session, notice=notice, text=text, now=now)
    values = draft["values"]
    set_value(values, "language", language)
    values.update(notice_id=shown.id, notice_at=now.isoformat())
    await show(update, texts.NOTICE_SENT.format(language=notice.name_fr, version=notice.version))
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text)
        if notice.audio is not None and notice.audio.is_file():
            await chat.send_voice(notice.audio.read_bytes())
        elif notice.audio is not None:
            logger.warning("The voice file of the %s notice is missing", language)
    draft[AFTER_NOTICE] = True
    return await advance(update, context, draft, "language")


async def notice_unavailable(
    update: Update, context: BotContext, draft: dict[str, Any], step: str
) -> object:
    """The files cannot be read: say so and go on to the consent question."""
    warn(texts.NOTICE_UNAVAILABLE)
    set_value(draft["values"], "notice", "skip")
    return await advance(update, context, draft, step)


async def record_consent(
    session: AsyncSession, person: Person, values: dict[str, Any], *, now: dt.datetime
) -> None:
    """The consent record of a person just saved: the notice shown (or not) and the answer."""
    shown = values.get("notice") == "show" and values.get("notice_id") is not None
    await consent.record_decision(
        session=session,
        person=person,
        given=values.get("consent") == "yes",
        notice_id=values["notice_id"] if shown else None,
        shown_at=dt.datetime.fromisoformat(values["notice_at"]) if shown else None,
        now=now,
    )


# --- Callbacks ----------------------------------------------------------------------------
async def start_new(update: Update, context: BotContext) -> object:
    """/nouveau: begin recording a person just engaged in the street."""
    if context.member.neighbourhood_id is None:
        await show(update, texts.NEW_NO_NEIGHBOURHOOD)
        return END
    draft = begin_draft(update, context, FORM)
    draft.update(values={}, history=[], editing=False)
    return await render(update, context, draft, "first_name")


@with_draft(FORM, COMMAND)
async def on_text(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """A typed answer: first name, phone or note; invalid ones are asked again."""
    step = draft["step"]
    text = update.effective_message.text if update.effective_message else None
    if step not in TEXT_STEPS or not text:
        return await reprompt(update, context, draft)
    try:
        if step == "first_name":
            value = people.clean_first_name(text)
        elif step == "phone":
            value = people.normalize_phone(text)
        else:
            value = people.clean_note(text)
    except DomainError as error:
        if step in OPTIONAL:
            await refuse_sensitive(update, context)
        warn(texts.domain_error(error.key, error.params))
        return await render(update, context, draft, step)
    if step in OPTIONAL:
        remember_sensitive(update, draft)
    set_value(draft["values"], step, value)
    return await advance(update, context, draft, step)


@with_draft(FORM, COMMAND)
async def on_pick(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """A button of a choice step; barriers toggle until « Valider »."""
    step = draft["step"]
    pick = await current_pick(update, draft)
    if pick is None:
        return None
    if step == EDIT:
        if pick.value not in STEPS or not applies(pick.value, draft["values"]):
            await notice(update, texts.STALE_BUTTON)
            return None
        draft["editing"] = True
        return await render(update, context, draft, pick.value)
    if pick.value not in {code for code, _ in await options(context, step)}:
        await notice(update, texts.domain_error("choice_invalid"))
        return None
    values = draft["values"]
    if step == "language":
        return await show_notice(update, context, draft, pick.value)
    if step == "notice" and pick.value == "show" and not notices(context):
        return await notice_unavailable(update, context, draft, step)
    if step == "barriers":
        chosen = list(values.get("barriers", []))
        chosen.remove(pick.value) if pick.value in chosen else chosen.append(pick.value)
        values["barriers"] = chosen
        return await render(update, context, draft, step)
    set_value(values, step, pick.value)
    return await advance(update, context, draft, step)


@with_draft(FORM, COMMAND)
async def on_nav(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Retour, Passer, Valider, Enregistrer, Modifier, Annuler."""
    nav = Nav.unpack(update.callback_query.data if update.callback_query else None)
    step = draft["step"]
    action = nav.action if nav else None
    if action == "cancel":
        return await cancel(update, context)
    if action == "back":
        return await go_back(update, context, draft)
    if action == "skip" and step in OPTIONAL:
        set_value(draft["values"], step, None)
        return await advance(update, context, draft, step)
    if action == "done" and step == "barriers":
        draft["values"].setdefault("barriers", [])
        return await advance(update, context, draft, step)
    if action == "edit" and step == SUMMARY:
        return await render(update, context, draft, EDIT)
    if action == "save" and step == SUMMARY:
        return await save(update, context, draft, check_duplicates=True)
    if action == "force" and step == DUPLICATE:
        return await save(update, context, draft, check_duplicates=False)
    await notice(update, texts.STALE_BUTTON)
    return None


async def go_back(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """One step back (or back to the summary when editing)."""
    if draft.get("editing") or draft["step"] in (EDIT, DUPLICATE):
        draft["editing"] = False
        return await render(update, context, draft, SUMMARY)
    if draft["step"] == SUMMARY:
        return await render(update, context, draft, draft["history"].pop())
    if not draft["history"]:
        await notice(update, texts.STALE_BUTTON)
        return None
    return await render(update, context, draft, draft["history"].pop())


async def save(
    update: Update, context: BotContext, draft: dict[str, Any], *, check_duplicates: bool
) -> object:
    """Save the person unless the mediator already follows someone alike (then ask), in one
    transaction; confirm only once committed."""
    values, member, services = draft["values"], context.member, context.services
    names = {n.id: n.name for n in await services.reference.neighbourhoods()}
    async with services.sessions.begin() as session:
        similar = check_duplicates and await people.likely_duplicates(
            session=session,
            mediator=member,
            first_name=values["first_name"],
        )
        if similar:
            draft["step"] = DUPLICATE
            await checkpoint(
                update, context, conversation=CONVERSATION, state=DUPLICATE, session=session
            )
        else:
            person = await people.engage(
                session=session,
                mediator=member,
                profile=profile_from(values),
                now=services.clock(),
            )
            await record_consent(session, person, values, now=services.clock())
            neighbourhood = names.get(person.neighbourhood_id) or (
                (await session.get_one(Neighbourhood, person.neighbourhood_id)).name  # inactive
            )
            await checkpoint(
                update, context, conversation=CONVERSATION, state=END, session=session,
                without=FORM,
            )  # fmt: skip
    if similar:
        await show(update, duplicate_text(context, similar), duplicate_keyboard(similar))
        return DUPLICATE
    drafts.drop(context.member_data, FORM)
    await delete_sensitive(update, context, draft)
    await show(
        update,
        texts.NEW_SAVED.format(
            code=person.code, first_name=person.first_name, neighbourhood=neighbourhood
        ),
    )
    return END


def duplicate_text(context: BotContext, similar: list[Person] | Any) -> str:
    """The similar people, by code and first name only."""
    tz = context.services.settings.tz
    lines = [
        texts.NEW_DUPLICATE_LINE.format(
            code=p.code, first_name=p.first_name, date=day(p.engaged_at, tz)
        )
        for p in similar
    ]
    return texts.NEW_DUPLICATE.format(people="\n".join(lines))


def duplicate_keyboard(similar: Any) -> InlineKeyboardMarkup:
    """Open one of them, or save anyway."""
    buttons = [
        [
            InlineKeyboardButton(
                texts.NEW_DUPLICATE_OPEN.format(code=p.code),
                callback_data=PersonRef("open", p.id).pack(),
            )
        ]
        for p in similar
    ]
    buttons.append(
        [InlineKeyboardButton(texts.NEW_DUPLICATE_SAVE, callback_data=Nav(FORM, "force").pack())]
    )
    buttons.append(keyboards.nav_row(FORM))
    return InlineKeyboardMarkup(buttons)


@with_draft(FORM, COMMAND)
async def open_instead(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """From the duplicate warning: drop the draft and open the existing person."""
    drafts.drop(context.member_data, FORM)
    await delete_sensitive(update, context, draft)
    await open_person(update, context)
    return END


async def reprompt(update: Update, context: BotContext, draft: dict[str, Any]) -> object:
    """Something unexpected (free text on a button step, a photo...): ask the step again."""
    step = draft["step"]
    expected_text = step in TEXT_STEPS
    if step in OPTIONAL:  # a photo, a shared contact...: it may hold the phone all the same
        await refuse_sensitive(update, context)
    warn(texts.EXPECT_TEXT if expected_text else texts.USE_BUTTONS)
    return await render(update, context, draft, step)


reprompt_step = with_draft(FORM, COMMAND)(reprompt)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button of an earlier step (an old message, or a redelivered update): say so only."""
    await notice(update, texts.STALE_BUTTON)


cancel = cancel_for(FORM, CONVERSATION)


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


def conversation() -> ConversationHandler[BotContext]:
    """The /nouveau conversation, persisted so that a restart loses no answer."""
    text_input = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        step: [MessageHandler(text_input, on_text)] for step in TEXT_STEPS
    }
    for step in (*CHOICE_STEPS, EDIT):
        states[step] = [CallbackQueryHandler(on_pick, pattern=Pick.pattern(FORM, step))]
    states[DUPLICATE] = [CallbackQueryHandler(open_instead, pattern=PersonRef.pattern("open"))]
    states[SUMMARY] = []
    return ConversationHandler(
        entry_points=[CommandHandler(COMMAND, start_new)],
        states=states,
        fallbacks=[
            CommandHandler("annuler", cancel),
            CallbackQueryHandler(on_nav, pattern=Nav.pattern(FORM)),
            CallbackQueryHandler(stale_button, pattern=Pick.pattern(FORM)),
            MessageHandler(~filters.COMMAND, reprompt_step),
        ],
        name=CONVERSATION,
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Everything this module answers, in order."""
    return [
        conversation(),
        CommandHandler("personnes", list_people),
        CallbackQueryHandler(list_people, pattern=Page.pattern("people")),
        CallbackQueryHandler(open_person, pattern=PersonRef.pattern("open")),
        CallbackQueryHandler(withdraw_ask, pattern=PersonRef.pattern("withdraw")),
        CallbackQueryHandler(withdraw, pattern=PersonRef.pattern("unconsent")),
    ]
