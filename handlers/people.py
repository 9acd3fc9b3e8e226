"""`/nouveau`: record a newly engaged person (cards and `/personnes`: `handlers.directory`).

`/nouveau` is a form on the engine (`handlers.forms`), at its fewest taps: the first name, at
once checked against the people the mediator already follows (`people.similar_people`);
sex and age bracket on one keyboard; France Travail registration and recent contact with a
referent on one keyboard; the information notice and the consent on one keyboard (« Informée ·
d'accord »), the notice shown in the person's language when asked; phone and note offered by
the summary, never asked in turn. Saved: « Orienter maintenant » or « Nouvelle personne ».
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from bot import texts
from bot.callbacks import Nav, PersonRef
from bot.context import BotContext
from bot.formatting import day
from bot.persistence import DatabasePersistence
from handlers import directory, picking
from handlers.common import show, warn
from handlers.forms import (
    USE_BUTTONS,
    Answers,
    Asked,
    Choice,
    Finished,
    Form,
    FormEngine,
    MultiChoice,
    Option,
    Summary,
    Text,
    match_option,
    plain,
)
from models import audit, consent, people, reference
from models.base import Executes, pk
from models.errors import DomainError
from models.people import Answer, Profile, Sex
from models.reference import Kind

logger = logging.getLogger(__name__)
Worded = TypeVar("Worded")

FORM: Final = "nv"
COMMAND: Final = "nouveau"
NEW: Final = "new"  # at the duplicate check: « Non, c'est une autre personne »
OTHER: Final = "other"  # on the sex and age keyboard: another sex, or not said
SHOW: Final = "show"  # on the information and consent keyboard: show the notice first
SPLIT: Final = "."  # between the two codes of one button answering two questions
SHORT_SEXES: Final = (Sex.FEMALE, Sex.MALE)  # the sexes on the sex and age keyboard
# What the summary shows, in order (the answers behind several buttons are read apart).
FIELDS: Final = (
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


# --- The answers behind the combined keyboards ----------------------------------------------
# The sex and age keyboard's answer: « female.26_44 » from a button, or half of it typed
# (« female. » for « femme », « .26_44 » for « 26-44 »: the other half is then asked alone),
# or OTHER (both asked alone).
def halves(values: Answers) -> tuple[str | None, str | None]:
    """(sex, age bracket) as answered on the sex and age keyboard or on their own steps."""
    profile = values.get("profile")
    if profile is None:
        return None, None
    sex, _, age = ("", "", "") if profile == OTHER else profile.partition(SPLIT)
    return sex or values.get("sex") or None, age or values.get("age_bracket") or None


def sex_of(values: Answers) -> str | None:
    """The sex answered (on the sex and age keyboard, or on its own), or None."""
    return halves(values)[0]


def age_of(values: Answers) -> str | None:
    """The age bracket answered, or None."""
    return halves(values)[1]


def registration_of(values: Answers) -> tuple[str | None, str | None]:
    """(registered with France Travail, contact with a referent in 5 months) as answered."""
    answer = values.get("registration")
    if answer is None:
        return None, None
    registered, _, referent = answer.partition(SPLIT)
    return registered, referent or None


def consent_of(values: Answers) -> str | None:
    """« yes » or « no » for keeping contact details, as answered (with the notice or not)."""
    agreement = values.get("agreement")
    return values.get("consent") if agreement == SHOW else agreement


def continuing(values: Answers) -> bool:
    """Past the duplicate check as a new person (not « open the one I already follow »)."""
    return values.get("duplicate") == NEW


def shown(field: str, values: Answers) -> bool:
    """Whether the summary shows `field`, given the answers."""
    if field == "referrer":
        return values.get("channel") == "partner_referral"
    if field == "referent_contact":
        return registration_of(values)[0] == Answer.YES
    if field in ("phone", "note"):
        return consent_of(values) == "yes"
    if field == "language":
        return values.get("notice_id") is not None
    return True


def profile_from(values: Answers) -> Profile:
    """The domain profile from the form's answers."""
    registered, referent = registration_of(values)
    referrer = values.get("referrer")
    return Profile(
        first_name=values["first_name"],
        sex=Sex(sex_of(values) or Sex.UNSPECIFIED),
        age_bracket=age_of(values) or "",
        residence=values["residence"],
        channel=values["channel"],
        referred_by_partner_id=int(referrer) if referrer else None,
        barriers=list(values.get("barriers") or []),
        registered_ft=Answer(registered or Answer.UNKNOWN),
        referent_contact_5m=Answer(referent) if referent else None,
        rsa=Answer(values["rsa"]),
        contact_consent=consent_of(values) == "yes",
        phone=values.get("phone"),
        note=values.get("note"),
    )


def worded(table: dict[str, Worded], values: Answers) -> Worded:
    """The wording of `table` for the person's recorded sex (« elle », « il », else neutral)."""
    return table.get(sex_of(values) or "", table["neutral"])


# --- How each typed answer is read ------------------------------------------------------------
def read_first_name(text: str, asked: Asked) -> str:
    """A first name or initials (models.people)."""
    return people.clean_first_name(text)


async def read_profile(text: str, asked: Asked) -> str:
    """A typed answer naming one half of the sex and age keyboard, or both in any order
    (« femme », « H », « 26-44 », « femme 26-44 »; accents and case ignored): the halves
    named, the other left to ask on its own."""
    sexes = list(texts.SEX_LABELS.items())
    ages = await age_options(asked)
    words = plain(text).split()
    for cut in range(len(words) + 1):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        for said_sex, said_age in ((head, tail), (tail, head)):
            sex = match_option(said_sex, sexes) if said_sex else ""
            age = match_option(said_age, ages) if said_age else ""
            if sex is not None and age is not None and (sex or age):
                return f"{sex}{SPLIT}{age}"
    raise DomainError(USE_BUTTONS)


def read_phone(text: str, asked: Asked) -> str:
    """A phone number, validated with phonenumbers (models.phones)."""
    return people.normalize_phone(text)


# --- The options of each choice -------------------------------------------------------------
async def duplicate_options(asked: Asked) -> list[Option]:
    """The people the mediator follows with this first name (accents and small typos
    forgiven), to open instead, and « another person »: alone when nobody is alike, the step
    is then answered without asking."""
    context, first_name = asked.context, asked.answers["first_name"]
    mediator_id = pk(context.member)
    persistence = cast(DatabasePersistence, context.application.persistence)
    similar = await persistence.read(
        lambda connection: people.similar_people(
            connection, mediator_id=mediator_id, first_name=first_name
        )
    )
    tz = context.services.settings.tz
    found = [
        (
            str(p.id),
            texts.NEW_DUPLICATE_OPEN.format(
                code=p.code, first_name=p.first_name, date=day(p.engaged_at, tz)
            ),
        )
        for p in similar
    ]
    return [*found, (NEW, texts.NEW_DUPLICATE_SAVE)]


async def profile_options(asked: Asked) -> list[Option]:
    """Sex and age bracket on one keyboard: women left, men right, one row per bracket; then
    another sex or not said (asked apart)."""
    brackets = await asked.context.services.reference.choices(Kind.AGE_BRACKET)
    found = [
        (
            f"{sex}{SPLIT}{bracket.code}",
            texts.SEX_AGE.format(sex=texts.SEX_SHORT[sex], age=bracket.label),
        )
        for bracket in brackets
        for sex in SHORT_SEXES
    ]
    return [*found, (OTHER, texts.SEX_AGE_OTHER)]


async def reference_options(kind: Kind, asked: Asked) -> list[Option]:
    return [(c.code, c.label) for c in await asked.context.services.reference.choices(kind)]


async def residence_options(asked: Asked) -> list[Option]:
    return await reference_options(Kind.RESIDENCE, asked)


async def channel_options(asked: Asked) -> list[Option]:
    return await reference_options(Kind.CHANNEL, asked)


async def barrier_options(asked: Asked) -> list[Option]:
    return await reference_options(Kind.BARRIER, asked)


async def age_options(asked: Asked) -> list[Option]:
    return await reference_options(Kind.AGE_BRACKET, asked)


async def referrer_options(asked: Asked) -> list[Option]:
    return [(str(p.id), p.name) for p in await asked.context.services.reference.partners()]


async def agreement_options(asked: Asked) -> list[Option]:
    """Already informed and agreeing, or refusing, in one tap; or the notice shown first."""
    agree, refuse = worded(texts.AGREEMENT_LABELS, asked.answers)
    return [("yes", agree), ("no", refuse), (SHOW, texts.NOTICE_SHOW)]


async def consent_options(asked: Asked) -> list[Option]:
    return [("yes", worded(texts.CONSENT_YES, asked.answers)), ("no", texts.CONSENT_NO)]


# --- The prompts that use the person's sex ----------------------------------------------------
def prompt_of(table: dict[str, str]) -> Callable[[Asked], str]:
    """A question worded for the person's recorded sex, from its `table` in texts."""

    def prompt(asked: Asked) -> str:
        return worded(table, asked.answers)

    return prompt


def agreement_prompt(asked: Asked) -> str:
    """Inform, then ask: the consent question and the line read aloud, on one screen."""
    question = worded(texts.NEW_CONSENT_QUESTION, asked.answers)
    return "\n\n".join((texts.NOTICE_PROMPT, question, texts.CONSENT_SCRIPT))


def consent_prompt(asked: Asked) -> str:
    """The consent question, the line the mediator reads aloud, and the question in the
    person's language when the notice was shown in another one."""
    context, values = asked.context, asked.answers
    parts = [worded(texts.NEW_CONSENT_QUESTION, values), texts.CONSENT_SCRIPT]
    language = values.get("language")
    found = notices(context).get(language) if language not in (None, "fr") else None
    if found is not None and found.question:
        question = consent.render_question(found, notice_values(context))
        parts.append(texts.CONSENT_QUESTION_FOR_PERSON.format(question=question))
    return "\n\n".join(parts)


# --- The information notice before the consent question (GDPR art. 13) -------------------
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


async def language_options(asked: Asked) -> list[Option]:
    """The languages, the ones this mediator used most first; unreviewed ones said so."""
    context = asked.context
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


def notice_wanted(values: Answers) -> bool:
    """The notice is to be shown (asked, and the files can be read)."""
    return continuing(values) and values.get("agreement") == SHOW and not values.get("unshown")


async def check_notices(update: Update, context: BotContext, values: Answers) -> bool:
    """« Montrer l'information » while the files cannot be read: say so, ask for consent."""
    values.pop("unshown", None)
    if values.get("agreement") == SHOW and not notices(context):
        warn(texts.NOTICE_UNAVAILABLE)
        values["unshown"] = True
    return False


async def show_notice(update: Update, context: BotContext, values: Answers) -> bool:
    """Send the notice in the language chosen as one message (and its voice message, if any),
    store the exact text of this version on first use; the consent question comes below."""
    services, language = context.services, values["language"]
    found = notices(context).get(language)
    if found is None:
        warn(texts.NOTICE_UNAVAILABLE)
        values["unshown"] = True
        return False
    text = consent.render(found, notice_values(context))
    now = services.clock()
    async with services.sessions.begin() as session:
        version = await consent.notice_version(session=session, notice=found, text=text, now=now)
    values.update(notice_id=version.id, notice_at=now.isoformat())
    await show(update, texts.NOTICE_SENT.format(language=found.name_fr, version=found.version))
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text)
        if found.audio is not None and found.audio.is_file():
            await chat.send_voice(found.audio.read_bytes())
        elif found.audio is not None:
            logger.warning("The voice file of the %s notice is missing", language)
    return True


# --- The summary, and saving ------------------------------------------------------------------
async def summary_text(asked: Asked) -> str:
    """Every answer, labelled, for a last check before saving."""
    context, values = asked.context, asked.answers
    cache = context.services.reference
    registered, referent = registration_of(values)
    notice_state = "show" if values.get("notice_id") is not None else "skip"
    given = {
        "sex": sex_of(values),
        "age_bracket": age_of(values),
        "registered_ft": registered,
        "referent_contact": referent,
        "notice": notice_state,
        "consent": consent_of(values),
    }
    labels: dict[str, dict[str, str]] = {
        "sex": texts.SEX_LABELS,
        "age_bracket": await cache.labels(Kind.AGE_BRACKET),
        "residence": await cache.labels(Kind.RESIDENCE),
        "channel": await cache.labels(Kind.CHANNEL),
        "barriers": await cache.labels(Kind.BARRIER),
        "referrer": {str(p.id): p.name for p in await cache.partners()},
        "registered_ft": texts.ANSWER_LABELS,
        "referent_contact": texts.ANSWER_LABELS,
        "rsa": texts.ANSWER_LABELS,
        "notice": texts.NOTICE_SUMMARY_LABELS,
        "consent": texts.ANSWER_LABELS,
    }
    if values.get("notice_id") is not None:
        labels["language"] = dict(await language_options(asked))
    lines = [texts.NEW_SUMMARY_HEADER]
    for field in FIELDS:
        if not shown(field, values):
            continue
        value = given[field] if field in given else values.get(field)
        if field == "barriers":
            text = ", ".join(labels[field].get(b, b) for b in value or []) or texts.NONE_LABEL
        elif value is None:
            text = texts.NOT_GIVEN_NOTE if field == "note" else texts.NOT_GIVEN
        elif field in labels:
            text = labels[field].get(str(value), str(value))
        else:
            text = str(value)
        lines.append(texts.NEW_SUMMARY_LINE.format(field=texts.NEW_FIELD_NAMES[field], value=text))
    return "\n".join(lines)


async def begin(update: Update, context: BotContext) -> Answers:
    """Only a member attached to a neighbourhood records people (they are followed there)."""
    people.may_engage(context.member)
    return {}


async def finish(context: BotContext, values: Answers, session: AsyncSession) -> Finished:
    """The mediator said it is someone they already follow: that person's card instead."""
    services, member = context.services, context.member
    person = await people.get_person(
        session=session, viewer=member, person_id=int(values["duplicate"])
    )
    await audit.record(
        session=session, at=services.clock(), member_id=member.id, action="open_card",
        subject=person.code,
    )  # fmt: skip
    markup = directory.with_withdraw(directory.card_keyboard(context, person), person)
    return Finished(await directory.card_text(context, person), markup)


async def save(context: BotContext, values: Answers) -> Callable[[Executes], Finished] | None:
    """A new person: the person and their consent record, written on the database connection
    of the write-ahead (`handlers.forms.save_ahead`); None for someone already followed."""
    if not continuing(values):
        return None
    member, now, profile = context.member, context.services.clock(), profile_from(values)
    names = {n.id: n.name for n in await context.services.reference.neighbourhoods()}
    shown_id = values.get("notice_id") if values.get("agreement") == SHOW else None
    shown_at = dt.datetime.fromisoformat(values["notice_at"]) if shown_id else None

    def write(connection: Executes) -> Finished:
        person = people.add_person(connection, mediator=member, profile=profile, now=now)
        consent.add_decision(
            connection, person_id=person.id, given=profile.contact_consent, notice_id=shown_id,
            shown_at=shown_at, now=now,
        )  # fmt: skip
        neighbourhood = names.get(person.neighbourhood_id) or reference.neighbourhood_name(
            connection,
            person.neighbourhood_id,  # inactive
        )
        saved = texts.NEW_SAVED.format(
            code=person.code, first_name=person.first_name, neighbourhood=neighbourhood
        )
        return Finished(saved, after_saving(person.id))

    return write


def after_saving(person_id: int) -> InlineKeyboardMarkup:
    """No dead end: orient this person now, or record the next one."""
    orient = PersonRef("orient", person_id).pack()
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.NEW_ORIENT_NOW, callback_data=orient)],
            [InlineKeyboardButton(texts.NEW_ANOTHER, callback_data=Nav(FORM, NEW).pack())],
        ]
    )


def sex_asked_alone(values: Answers) -> bool:
    """Another sex or not said, or only the age bracket typed: the sex is asked on its own."""
    profile = values.get("profile")
    return continuing(values) and profile is not None and halves({"profile": profile})[0] is None


def age_asked_alone(values: Answers) -> bool:
    """Another sex or not said, or only the sex typed: the age bracket is asked on its own."""
    profile = values.get("profile")
    return continuing(values) and profile is not None and halves({"profile": profile})[1] is None


NOUVEAU: Final = Form(
    key=FORM,
    command=COMMAND,
    begin=begin,
    also_on=(f"^{re.escape(Nav(FORM, NEW).pack())}$",),
    steps=(
        Text(
            name="first_name",
            prompt=texts.NEW_PROMPTS["first_name"],
            read=read_first_name,
            title=texts.NEW_FIELD_NAMES["first_name"],
            resets=("duplicate",),
        ),
        Choice(
            name="duplicate",
            prompt=texts.NEW_DUPLICATE,
            options=duplicate_options,
            columns=1,
            title=texts.NEW_DUPLICATE_TITLE,
        ),
        Choice(
            name="profile",
            prompt=texts.NEW_PROMPTS["profile"],
            options=profile_options,
            read=read_profile,
            title=texts.NEW_FIELD_NAMES["profile"],
            applies=continuing,
            resets=("sex", "age_bracket"),
        ),
        Choice(
            name="sex",
            prompt=texts.NEW_PROMPTS["sex"],
            options=list(texts.SEX_LABELS.items()),
            title=texts.NEW_FIELD_NAMES["sex"],
            applies=sex_asked_alone,
        ),
        Choice(
            name="age_bracket",
            prompt=prompt_of(texts.NEW_AGE_PROMPTS),
            options=age_options,
            title=texts.NEW_FIELD_NAMES["age_bracket"],
            applies=age_asked_alone,
        ),
        Choice(
            name="residence",
            prompt=prompt_of(texts.NEW_RESIDENCE_PROMPTS),
            options=residence_options,
            title=texts.NEW_FIELD_NAMES["residence"],
            applies=continuing,
        ),
        Choice(
            name="channel",
            prompt=prompt_of(texts.NEW_CHANNEL_PROMPTS),
            options=channel_options,
            columns=1,
            title=texts.NEW_FIELD_NAMES["channel"],
            applies=continuing,
            resets=("referrer",),
        ),
        Choice(
            name="referrer",
            prompt=prompt_of(texts.NEW_REFERRER_PROMPTS),
            options=referrer_options,
            columns=1,
            title=texts.NEW_FIELD_NAMES["referrer"],
            applies=lambda v: continuing(v) and v.get("channel") == "partner_referral",
        ),
        MultiChoice(
            name="barriers",
            prompt=texts.NEW_PROMPTS["barriers"],
            options=barrier_options,
            title=texts.NEW_FIELD_NAMES["barriers"],
            applies=continuing,
        ),
        Choice(
            name="registration",
            prompt=prompt_of(texts.NEW_REGISTRATION_PROMPTS),
            options=list(texts.REGISTRATION_LABELS.items()),
            columns=1,
            title=texts.NEW_FIELD_NAMES["registered_ft"],
            applies=continuing,
        ),
        Choice(
            name="rsa",
            prompt=prompt_of(texts.NEW_RSA_PROMPTS),
            options=list(texts.ANSWER_LABELS.items()),
            columns=3,
            title=texts.NEW_FIELD_NAMES["rsa"],
            applies=continuing,
        ),
        Choice(
            name="agreement",
            prompt=agreement_prompt,
            options=agreement_options,
            columns=1,
            title=texts.NEW_FIELD_NAMES["notice"],
            applies=continuing,
            effect=check_notices,
            resets=("language", "notice_id", "notice_at", "consent", "phone", "note"),
        ),
        Choice(
            name="language",
            prompt=texts.NEW_PROMPTS["language"],
            options=language_options,
            columns=1,
            title=texts.NEW_FIELD_NAMES["language"],
            applies=notice_wanted,
            effect=show_notice,
        ),
        Choice(
            name="consent",
            prompt=consent_prompt,
            options=consent_options,
            title=texts.NEW_FIELD_NAMES["consent"],
            resets=("phone", "note"),
            applies=lambda v: continuing(v) and v.get("agreement") == SHOW,
        ),
        Text(
            name="phone",
            prompt=texts.NEW_PROMPTS["phone"],
            read=read_phone,
            optional=True,
            sensitive=True,
            offered=True,
            title=texts.NEW_ADD_PHONE,
            applies=lambda v: continuing(v) and consent_of(v) == "yes",
        ),
        Text(
            name="note",
            prompt=texts.NEW_PROMPTS["note"],
            read=picking.read_note,
            optional=True,
            sensitive=True,
            offered=True,
            title=texts.NEW_ADD_NOTE,
            applies=lambda v: continuing(v) and consent_of(v) == "yes",
        ),
        Summary(name="summary", text=summary_text, applies=continuing),
    ),
    finish=finish,
    save=save,
)
ENGINE: Final = FormEngine(NOUVEAU)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Everything this module answers, in order."""
    return [
        *ENGINE.handlers(),
    ]
