"""`/partenaires`: the partner directory with each partner's correspondant ressource, the
« Contacter le correspondant » button of reminders and orientations, and `/comite`: the
follow-up committee report for one partner and a period (message + XLSX, pseudonymised), a
form started by the command or from a partner's card."""

from __future__ import annotations

import asyncio
import math
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import committee_report, keyboards, texts
from bot.callbacks import PartnerRef
from bot.context import BotContext
from handlers import periods as picker
from handlers.common import notice, show
from handlers.forms import Answers, Asked, Choice, Finished, Form, FormEngine, Option, Text
from models import audit, committee, reference, stats
from models.base import pk
from models.errors import DomainError, NotAllowed, NotFound
from models.reference import Kind, Partner

NONE: Final = "-"
PARTNERS_PAGE: Final = 10  # partners a page of a category


def _button(label: str, action: str, key: object, extra: str = NONE) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PartnerRef(action, str(key), extra).pack())


def contact_text(partner: Partner, category: str) -> str:
    """A partner and its correspondant ressource."""
    if partner.has_contact:
        contact = texts.PARTNER_CONTACT.format(
            name=partner.contact_name or "–",
            role=texts.PARTNER_CONTACT_ROLE.format(value=partner.contact_role)
            if partner.contact_role
            else "",
            phone=texts.PARTNER_CONTACT_PHONE.format(value=partner.contact_phone)
            if partner.contact_phone
            else "",
            email=texts.PARTNER_CONTACT_EMAIL.format(value=partner.contact_email)
            if partner.contact_email
            else "",
            notes=texts.PARTNER_CONTACT_NOTES.format(value=partner.referral_notes)
            if partner.referral_notes
            else "",
        )
    else:
        contact = texts.PARTNER_NO_CONTACT
        if partner.referral_notes:
            contact += texts.PARTNER_CONTACT_NOTES.format(value=partner.referral_notes)
    return texts.PARTNER_CARD.format(name=partner.name, category=category, contact=contact)


async def directory(update: Update, context: BotContext) -> None:
    """/partenaires: the categories."""
    await _categories(update, context)


async def _categories(update: Update, context: BotContext) -> None:
    categories = await context.services.reference.choices(Kind.PARTNER_CATEGORY)
    buttons = [_button(c.label, "cat", c.code) for c in categories]
    await show(update, texts.DIRECTORY_TITLE, InlineKeyboardMarkup(keyboards.rows(buttons, 2)))


async def on_button(update: Update, context: BotContext) -> None:
    """Every directory and committee button."""
    ref = PartnerRef.pressed(update)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return
    member = context.member
    try:
        if ref.action == "cats":
            await _categories(update, context)
        elif ref.action == "cat":
            page = int(ref.extra) if ref.extra.isdigit() else 1
            await _partners_of(update, context, ref.key, page=page)
        elif ref.action == "show" and ref.key.isdigit():
            page = int(ref.extra) if ref.extra.isdigit() else 1
            await _partner_card(update, context, int(ref.key), page=page)
        elif ref.action == "contact" and ref.key.isdigit():
            await _send_contact(update, context, int(ref.key))
        elif ref.action == "edit" and ref.key.isdigit() and member.is_coordinator:
            await _edit_menu(update, int(ref.key))
        else:
            raise DomainError("not_allowed")
    except DomainError as error:
        await notice(update, texts.domain_error(error.key, error.params))


async def _category_label(context: BotContext, code: str) -> str:
    return (await context.services.reference.labels(Kind.PARTNER_CATEGORY)).get(code, code)


async def _partners_of(
    update: Update, context: BotContext, category: str, *, page: int = 1
) -> None:
    """The partners of a category, a page at a time."""
    codes = {c.code for c in await context.services.reference.choices(Kind.PARTNER_CATEGORY)}
    if category not in codes:
        raise DomainError("choice_invalid")
    async with context.services.reads() as session:
        listed = await reference.partners(session=session, category=category)
    pages = max(1, math.ceil(len(listed) / PARTNERS_PAGE))
    page = min(max(page, 1), pages)
    shown = listed[(page - 1) * PARTNERS_PAGE : page * PARTNERS_PAGE]
    rows = [[_button(p.name, "show", p.id, str(page))] for p in shown]
    if pager := keyboards.pager(
        "cat", page, pages, data=lambda n: PartnerRef("cat", category, str(n)).pack()
    ):
        rows.append(pager)
    if context.member.is_coordinator:
        rows.append([_button(texts.DIRECTORY_ADD, "add", category)])
    rows.append([_button(texts.DIRECTORY_BACK, "cats", NONE)])
    label = await _category_label(context, category)
    text = texts.DIRECTORY_CATEGORY.format(category=label)
    await show(
        update, text if listed else f"{text}\n{texts.DIRECTORY_EMPTY}", InlineKeyboardMarkup(rows)
    )


async def _load(context: BotContext, partner_id: int) -> Partner:
    async with context.services.reads() as session:
        partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFound()
    return partner


async def partner_card(
    context: BotContext, partner: Partner, *, page: int = 1
) -> tuple[str, InlineKeyboardMarkup]:
    """A partner's card and its buttons (edit and committee for coordinators), « Retour » to
    the page of its category it was opened from."""
    text = contact_text(partner, await _category_label(context, partner.category))
    rows = []
    if context.member.is_coordinator:
        rows.append([_button(texts.PARTNER_EDIT, "edit", pk(partner))])
        rows.append([_button(texts.PARTNER_COMMITTEE, "period", pk(partner))])
    rows.append([_button(texts.DIRECTORY_BACK, "cat", partner.category, str(page))])
    return text, InlineKeyboardMarkup(rows)


async def _partner_card(
    update: Update, context: BotContext, partner_id: int, *, page: int = 1
) -> None:
    text, markup = await partner_card(context, await _load(context, partner_id), page=page)
    await show(update, text, markup)


async def _send_contact(update: Update, context: BotContext, partner_id: int) -> None:
    """The contact card as a new message: the reminder it was asked from stays as it is."""
    partner = await _load(context, partner_id)
    text = contact_text(partner, await _category_label(context, partner.category))
    await show(update, text, edit=False)


async def _edit_menu(update: Update, partner_id: int) -> None:
    buttons = [
        _button(label, "field", partner_id, field)
        for field, label in texts.PARTNER_CONTACT_FIELDS.items()
    ]
    rows = keyboards.rows(buttons, 2)
    rows.append([_button(texts.BACK, "show", partner_id)])
    await show(update, texts.PARTNER_EDIT_WHICH, InlineKeyboardMarkup(rows))


# --- Committee: a form ----------------------------------------------------------------------
CATEGORY, PARTNER, GIVEN = "category", "partner", "given"
CATEGORY_LABEL, PARTNER_LABEL = "category_label", "partner_label"  # for the questions


async def committee_begin(update: Update, context: BotContext) -> Answers:
    """/comite (coordinators), or a partner card's « Rapport pour le comité » (its partner)."""
    if not stats.may_export(context.member):
        raise NotAllowed()
    ref = PartnerRef.pressed(update)
    if ref is None:
        return {}
    if not ref.key.isdigit():
        raise NotFound()
    partner = await _load(context, int(ref.key))
    return {
        GIVEN: True,
        CATEGORY: partner.category,
        PARTNER: str(pk(partner)),
        PARTNER_LABEL: partner.name,
    }


def choosing(answers: Answers) -> bool:
    """The category and partner are asked unless the form started from a partner's card."""
    return not answers.get(GIVEN)


async def committee_partners(context: BotContext) -> list[Partner]:
    async with context.services.reads() as session:
        return list(await reference.partners(session=session))


async def committee_categories(asked: Asked) -> list[Option]:
    """The categories that have partners."""
    used = {p.category for p in await committee_partners(asked.context)}
    choices = await asked.context.services.reference.choices(Kind.PARTNER_CATEGORY)
    return [(c.code, c.label) for c in choices if c.code in used]


async def category_partners(asked: Asked) -> list[Option]:
    category = asked.answers.get(CATEGORY)
    listed = await committee_partners(asked.context)
    return [(str(pk(p)), p.name) for p in listed if p.category == category]


async def category_chosen(value: Any, asked: Asked) -> Answers:
    return {CATEGORY_LABEL: await _category_label(asked.context, str(value))}


async def partner_chosen(value: Any, asked: Asked) -> Answers:
    return {PARTNER_LABEL: dict(await category_partners(asked)).get(str(value), "?")}


async def send_report(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """The committee report as a message (its first part; the rest and the workbook, built
    off the event loop, follow); the export is audited in the same transaction."""
    if not stats.may_export(context.member):
        raise NotAllowed()
    services = context.services
    tz = services.settings.tz
    period = picker.chosen(answers, services.today())
    built = await committee.report(
        session=session, partner_id=int(answers[PARTNER]), period=period, tz=tz
    )
    labels = await committee_report.load_labels(session=session)
    await audit.record(
        session=session, at=services.clock(), member_id=context.member.id,
        action="committee", subject=built.partner.code,
        detail=f"{period.start.isoformat()}..{period.end.isoformat()}",
    )  # fmt: skip
    first, *rest = committee_report.render(built, labels, tz=tz)
    stem = f"aveq-comite-{built.partner.code}-{period.start.isoformat()}-{period.end.isoformat()}"

    async def then(update: Update) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        for chunk in rest:
            await chat.send_message(chunk)
        workbook = await asyncio.to_thread(committee_report.to_xlsx_bytes, built, labels, tz=tz)
        await chat.send_document(InputFile(workbook, filename=f"{stem}.xlsx"))

    return Finished(first, then=then)


COMMITTEE: Final = Form(
    key="cm",
    command="comite",
    begin=committee_begin,
    also_on=(PartnerRef.pattern("period"),),
    steps=(
        Choice(
            name=CATEGORY,
            prompt=texts.COMMITTEE_TITLE,
            options=committee_categories,
            applies=choosing,
            resets=(PARTNER,),
            accept=category_chosen,
        ),
        Choice(
            name=PARTNER,
            prompt=lambda asked: texts.COMMITTEE_PARTNER.format(
                category=asked.answers[CATEGORY_LABEL]
            ),
            options=category_partners,
            columns=1,
            applies=choosing,
            accept=partner_chosen,
        ),
        picker.step(
            lambda asked: texts.COMMITTEE_PERIOD.format(partner=asked.answers[PARTNER_LABEL])
        ),
    ),
    finish=send_report,
)


# --- Editing a correspondant, adding a partner (coordinators): a form ------------------------
async def edit_or_add(update: Update, context: BotContext) -> Answers:
    """« Nom », « Téléphone »… of a partner, or « Ajouter un partenaire » to a category."""
    ref = PartnerRef.pressed(update)
    if not reference.may_edit_directory(context.member):
        raise DomainError("stale_button")  # never shown to them: an old or forged button
    if ref is not None and ref.action == "field" and ref.extra in texts.PARTNER_CONTACT_FIELDS:
        return {"partner": int(ref.key), "field": ref.extra}
    if ref is not None and ref.action == "add":
        return {"category": ref.key, "label": await _category_label(context, ref.key)}
    raise DomainError("choice_invalid")


def adding(answers: Answers) -> bool:
    return "category" in answers


def read_name(text: str, asked: Asked) -> str:
    return reference.clean_partner_name(text)


def read_field(text: str, asked: Asked) -> str:
    return reference.clean_contact_field(asked.answers["field"], text)


async def apply(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Add the partner, or change (or clear) the correspondant's field; show the card."""
    if adding(answers):
        partner = await reference.add_partner(
            session=session, name=answers["name"], category=answers["category"]
        )
    else:
        found = await session.get(Partner, answers["partner"])
        if found is None:
            raise NotFound()
        partner = found
        reference.update_contact(partner, answers["field"], answers["value"])
    context.services.reference.invalidate()
    text, markup = await partner_card(context, partner)
    return Finished(f"{texts.PARTNER_SAVED}\n\n{text}", markup)


PARTNER_EDIT: Final = Form(
    key="par",
    command="partenaires",
    conversation="partenaire",
    starts_on=r"^pa:(field|add):",
    begin=edit_or_add,
    steps=(
        Text(
            name="name",
            prompt=lambda asked: texts.DIRECTORY_ASK_NAME.format(category=asked.answers["label"]),
            read=read_name,
            applies=adding,
        ),
        Text(
            name="value",
            prompt=lambda asked: texts.PARTNER_ASK_FIELD.format(
                field=texts.PARTNER_CONTACT_FIELDS[asked.answers["field"]]
            ),
            read=read_field,
            optional=True,
            skip=texts.PARTNER_CLEAR,
            applies=lambda answers: not adding(answers),
        ),
    ),
    finish=apply,
)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/partenaires, /comite, their buttons, and the typed values of coordinators."""
    return [
        *FormEngine(PARTNER_EDIT).handlers(),
        *FormEngine(COMMITTEE).handlers(),
        CommandHandler("partenaires", directory),
        CallbackQueryHandler(on_button, pattern=PartnerRef.pattern()),
    ]
