"""Person cards, `/personnes` and withdrawing consent from a card.

`/personnes` lists the people a member may see, a page at a time; a typed name or code
(`/personnes Aïssatou`, `/personnes P-0012`, or « 🔎 Chercher » then a typed message) finds
someone; coordinators narrow the list by neighbourhood, mediator and status. Every button of
a list carries its view (`PeopleView`: page and filters), so a card's « Retour » comes back
to the same page of the same list.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.callbacks import Page, PeopleView, PersonRef
from bot.context import BotContext
from bot.db import truncate_log
from bot.formatting import day, plural
from handlers.common import notice, show
from handlers.forms import Answers, Finished, Form, FormEngine, Text
from models import audit, consent, people
from models.errors import DomainError
from models.people import PeopleFilter, Person, Status, find_people

LIST: Final = PeopleView("ls")
ANY: Final = "all"


# --- Person cards -------------------------------------------------------------------------
async def card_text(context: BotContext, person: Person, *, follower: str | None = None) -> str:
    """A person's card: code, first name, status, dates, who follows them and, after an
    exit, its date and reason; never phone, note or barriers."""
    tz = context.services.settings.tz
    names = {n.id: n.name for n in await context.services.reference.neighbourhoods()}
    lines = [
        texts.PERSON_CARD.format(
            code=person.code,
            first_name=person.first_name,
            status=texts.STATUS_LABELS.get(person.status, person.status),
            neighbourhood=names.get(person.neighbourhood_id, ""),
            engaged=day(person.engaged_at, tz),
            last_contact=day(person.last_contact_at, tz),
        )
    ]
    if person.mediator_id == context.member.id:
        follower = texts.CARD_FOLLOWED_BY_YOU
    if follower:
        lines.append(texts.CARD_FOLLOWED_BY.format(name=follower))
    if person.status == Status.EXITED and person.exited_on is not None:
        reason = texts.EXIT_LABELS.get(person.exit_reason or "", texts.EXIT_LABELS["other"])
        lines.append(texts.CARD_EXITED.format(date=day(person.exited_on, tz), reason=reason))
    return "\n".join(lines)


async def show_card(update: Update, context: BotContext, person_id: int, back: PeopleView) -> None:
    """Show a person's card, if the member follows them (checked again on every press), with
    « Retour » to the list it was opened from."""
    services = context.services
    async with services.sessions.begin() as session:
        person = await people.get_person(
            session=session, viewer=context.member, person_id=person_id
        )
        follower = (
            await people.follower_names(session=session, mediator_ids=[person.mediator_id])
        ).get(person.mediator_id)
        await audit.record(
            session=session,
            at=services.clock(),
            member_id=context.member.id,
            action="open_card",
            subject=person.code,
        )
    markup = with_withdraw(card_keyboard(context, person), person)
    back_row = [InlineKeyboardButton(texts.BACK, callback_data=back.pack())]
    markup = InlineKeyboardMarkup([*markup.inline_keyboard, back_row])
    await show(update, await card_text(context, person, follower=follower), markup)


async def open_person(update: Update, context: BotContext) -> None:
    """A person's card from a button outside the lists (its « Retour »: the list)."""
    ref = PersonRef.pressed(update)
    if ref is None:
        await notice(update, texts.STALE_BUTTON)
        return
    await show_card(update, context, ref.person_id, LIST)


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
    ref = PersonRef.pressed(update)
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
    ref = PersonRef.pressed(update)
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


# --- /personnes ---------------------------------------------------------------------------
def filters_of(view: PeopleView) -> PeopleFilter:
    """The filters a view's buttons carry (unknown values: no filter)."""
    status = view.status if view.status in {s.value for s in Status} else None
    return PeopleFilter(
        neighbourhood_id=view.neighbourhood or None,
        mediator_id=view.mediator or None,
        status=Status(status) if status else None,
    )


def moved(view: PeopleView, *, action: str = "ls", page: int = 1, **changes: Any) -> PeopleView:
    """The same view with some fields changed: by default the list, on its first page."""
    return dataclasses.replace(view, action=action, page=page, person=0, **changes)


async def filter_labels(
    context: BotContext, session: AsyncSession, filters: PeopleFilter
) -> tuple[str, str, str]:
    """How each filter reads on its button: neighbourhood, mediator, status."""
    neighbourhood = mediator = status = texts.PEOPLE_FILTER_ANY
    if filters.neighbourhood_id is not None:
        names = {n.id: n.name for n in await context.services.reference.neighbourhoods()}
        neighbourhood = names.get(filters.neighbourhood_id, neighbourhood)
    if filters.mediator_id is not None:
        found = await people.follower_names(session=session, mediator_ids=[filters.mediator_id])
        mediator = found.get(filters.mediator_id, mediator)
    if filters.status is not None:
        status = texts.STATUS_LABELS[filters.status]
    return neighbourhood, mediator, status


def filter_rows(
    view: PeopleView, labels: tuple[str, str, str]
) -> list[list[InlineKeyboardButton]]:
    """The coordinator's three filter buttons, each saying what it is set to."""
    neighbourhood, mediator, status = labels

    def button(text: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text, callback_data=moved(view, action=action).pack())

    return [
        [
            button(texts.PEOPLE_FILTER_NEIGHBOURHOOD.format(value=neighbourhood), "fn"),
            button(texts.PEOPLE_FILTER_MEDIATOR.format(value=mediator), "fm"),
        ],
        [button(texts.PEOPLE_FILTER_STATUS.format(value=status), "fs")],
    ]


def search_row() -> list[InlineKeyboardButton]:
    """« 🔎 Chercher »: ask for a name or a code."""
    find = PeopleView("find").pack()
    return [InlineKeyboardButton(texts.PEOPLE_SEARCH_BUTTON, callback_data=find)]


def person_button(person: Person, view: PeopleView) -> InlineKeyboardButton:
    """A person of a list: opens the card, which comes back to `view`."""
    opened = dataclasses.replace(view, action="open", person=person.id or 0)
    return InlineKeyboardButton(
        f"{person.code} · {person.first_name}", callback_data=opened.pack()
    )


def person_line(context: BotContext, person: Person) -> str:
    """One line of a list: code, first name, status, last contact."""
    return texts.PEOPLE_LINE.format(
        code=person.code,
        first_name=person.first_name,
        status=texts.STATUS_LABELS.get(person.status, person.status),
        last_contact=day(person.last_contact_at, context.services.settings.tz),
    )


async def show_list(update: Update, context: BotContext, view: PeopleView) -> None:
    """A page of the people the member may see, narrowed by the view's filters."""
    member, size = context.member, context.services.settings.people_page_size
    filtering = people.may_filter_people(member)
    filters = filters_of(view) if filtering else PeopleFilter()
    page = max(1, view.page)
    async with context.services.reads() as session:
        rows, total = await people.filtered_people(
            session=session, viewer=member, filters=filters, offset=(page - 1) * size, limit=size
        )
        pages = max(1, math.ceil(total / size))
        if page > pages:  # the list shrank since the button was sent: its last page
            page = pages
            rows, total = await people.filtered_people(
                session=session, viewer=member, filters=filters, offset=(page - 1) * size,
                limit=size,
            )  # fmt: skip
        labels = await filter_labels(context, session, filters) if filtering else None
    view = moved(view, page=page)
    narrowed = filters != PeopleFilter()
    chosen = (filters.neighbourhood_id, filters.mediator_id, filters.status)
    described = ", ".join(
        label for label, on in zip(labels or ("",) * 3, chosen, strict=True) if on is not None
    )
    keyboard: list[list[InlineKeyboardButton]] = []
    if total == 0 and not narrowed:
        await show(update, texts.PEOPLE_EMPTY)
        return
    if total == 0:
        lines = [texts.PEOPLE_FILTERED_EMPTY.format(filters=described)]
    else:
        if narrowed:
            header = texts.PEOPLE_HEADER_FILTERED.format(
                count=plural(total, *texts.PEOPLE_PERSON),
                filters=described,
                page=page,
                pages=pages,
            )
        else:
            template = texts.PEOPLE_HEADER_ALL if member.is_coordinator else texts.PEOPLE_HEADER
            header = template.format(total=total, page=page, pages=pages)
        lines = [header, *(person_line(context, p) for p in rows)]
        keyboard = keyboards.rows([person_button(p, view) for p in rows], 2)
        if pager := keyboards.pager(
            "people", page, pages, data=lambda n: moved(view, page=n).pack()
        ):
            keyboard.append(pager)
    if labels is not None:
        keyboard.extend(filter_rows(view, labels))
    keyboard.append(search_row())
    lines.append("")
    lines.append(texts.PEOPLE_SEARCH_HINT)
    await show(update, "\n".join(lines), InlineKeyboardMarkup(keyboard))


async def show_filter(update: Update, context: BotContext, view: PeopleView) -> None:
    """The choices of one filter (coordinators), with « Tous » and « Retour »."""
    if not people.may_filter_people(context.member):
        await notice(update, texts.STALE_BUTTON)
        return
    choices: list[tuple[PeopleView, str]]
    if view.action == "fn":
        prompt = texts.PEOPLE_FILTER_ASK_NEIGHBOURHOOD
        found = await context.services.reference.neighbourhoods()
        choices = [(moved(view, neighbourhood=n.id or 0), n.name) for n in found]
        choices.append((moved(view, neighbourhood=0), texts.PEOPLE_FILTER_ALL_NEIGHBOURHOODS))
    elif view.action == "fm":
        prompt = texts.PEOPLE_FILTER_ASK_MEDIATOR
        async with context.services.reads() as session:
            members = await people.mediators_following(session=session)
        choices = [(moved(view, mediator=m.id or 0), m.display_name) for m in members]
        choices.append((moved(view, mediator=0), texts.PEOPLE_FILTER_ALL_MEDIATORS))
    else:
        prompt = texts.PEOPLE_FILTER_ASK_STATUS
        choices = [(moved(view, status=s.value), texts.STATUS_LABELS[s]) for s in Status]
        choices.append((moved(view, status=ANY), texts.PEOPLE_FILTER_ALL_STATUSES))
    buttons = [InlineKeyboardButton(label, callback_data=v.pack()) for v, label in choices]
    keyboard = keyboards.rows(buttons, 2)
    back = moved(view, page=view.page)
    keyboard.append([InlineKeyboardButton(texts.BACK, callback_data=back.pack())])
    await show(update, prompt, InlineKeyboardMarkup(keyboard))


async def found_people(
    context: BotContext, session: AsyncSession, query: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The people matching a typed name or code, one screen of them, and the ways on."""
    size = context.services.settings.people_page_size
    found = await find_people(session=session, viewer=context.member, text=query, limit=size + 1)
    shown = found[:size]
    count = plural(len(shown), *texts.PEOPLE_FOUND_FORMS) if shown else texts.PEOPLE_FOUND_NONE
    lines = [texts.PEOPLE_FOUND.format(count=count)]
    lines.extend(person_line(context, p) for p in shown)
    if len(found) > size:
        lines.append(texts.PEOPLE_FOUND_MORE.format(shown=size))
    keyboard = keyboards.rows([person_button(p, LIST) for p in shown], 2)
    keyboard.append(
        [
            InlineKeyboardButton(
                texts.PEOPLE_SEARCH_BUTTON, callback_data=PeopleView("find").pack()
            ),
            InlineKeyboardButton(texts.PEOPLE_BACK_TO_LIST, callback_data=LIST.pack()),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


async def list_people(update: Update, context: BotContext) -> None:
    """/personnes: the list (its first page), or `/personnes Aïssatou` / `P-0012`: a search."""
    typed = " ".join(context.args or ())
    if not typed:
        await show_list(update, context, LIST)
        return
    try:
        query = people.clean_search(typed)
    except DomainError as error:
        await show(update, texts.domain_error(error.key, error.params))
        return
    async with context.services.reads() as session:
        text, markup = await found_people(context, session, query)
    await show(update, text, markup)


async def on_view(update: Update, context: BotContext) -> None:
    """A button of a list, a filter or a card's « Retour »."""
    view = PeopleView.pressed(update)
    if view is None:
        await notice(update, texts.STALE_BUTTON)
    elif view.action == "ls":
        await show_list(update, context, view)
    elif view.action in ("fn", "fm", "fs"):
        await show_filter(update, context, view)
    elif view.action == "open" and view.person:
        await show_card(update, context, view.person, moved(view, page=view.page))
    else:
        await notice(update, texts.STALE_BUTTON)


async def old_page(update: Update, context: BotContext) -> None:
    """A page button of a list sent before the views carried their filters."""
    page = Page.pressed(update)
    await show_list(update, context, moved(LIST, page=page.page if page else 1))


def read_query(text: str, _: object) -> str:
    """A typed name or code (refused with the reason when it cannot be one)."""
    return people.clean_search(text)


async def search(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """The people the typed name or code finds."""
    text, markup = await found_people(context, session, answers["query"])
    return Finished(text, markup)


SEARCH: Final = Form(
    key="pq",
    command="personnes",
    conversation="recherche",
    starts_on=PeopleView.pattern("find"),
    steps=(Text(name="query", prompt=texts.PEOPLE_SEARCH_PROMPT, read=read_query),),
    finish=search,
)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Everything this module answers, in order."""
    return [
        *FormEngine(SEARCH).handlers(),
        CommandHandler("personnes", list_people),
        CallbackQueryHandler(on_view, pattern=PeopleView.pattern()),
        CallbackQueryHandler(old_page, pattern=Page.pattern("people")),
        CallbackQueryHandler(open_person, pattern=PersonRef.pattern("open")),
        CallbackQueryHandler(withdraw_ask, pattern=PersonRef.pattern("withdraw")),
        CallbackQueryHandler(withdraw, pattern=PersonRef.pattern("unconsent")),
    ]
