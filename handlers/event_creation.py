"""`/evenement`: a new event, as a form (type, title, date, time, neighbourhood, place, theme,
partners present — from the directory or typed in — then a last check)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import BaseHandler

from bot import texts
from bot.context import BotContext
from bot.dates import parse_day, parse_time
from handlers.events import describe, event_card
from handlers.forms import (
    MORE,
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
)
from models import events, reference
from models.base import pk
from models.errors import DomainError
from models.events import EventDraft
from models.reference import Kind

QUICK_TIMES: Final = ("0900", "0930", "1000", "1400", "1430", "1800")
NEW: Final = "new"  # the « ➕ Nouveau partenaire » button
NEW_PARTNERS: Final = "new_partners"  # [name, category] of each partner typed in


# --- How each answer is read ----------------------------------------------------------------
def read_title(text: str, asked: Asked) -> str:
    return events.clean_text(text, limit=events.TITLE_MAX, key="event_title_invalid")


def read_day(text: str, asked: Asked) -> str:
    chosen = parse_day(text, today=asked.today, past=False)
    if chosen is None:
        raise DomainError("date_out_of_range")
    return chosen.isoformat()


def read_time(text: str, asked: Asked) -> str:
    moment = parse_time(text)
    if moment is None:
        raise DomainError("time_invalid")
    return moment.strftime("%H%M")


def read_place(text: str, asked: Asked) -> str:
    return events.clean_text(text, limit=events.PLACE_MAX, key="event_place_invalid")


def read_theme(text: str, asked: Asked) -> str:
    return events.clean_text(text, limit=events.THEME_MAX, key="event_theme_invalid")


def read_partner_name(text: str, asked: Asked) -> str:
    return reference.clean_partner_name(text)


# --- The options ------------------------------------------------------------------------
async def neighbourhoods(asked: Asked) -> list[Option]:
    return [(str(n.id), n.name) for n in await asked.context.services.reference.neighbourhoods()]


async def partners(asked: Asked) -> list[Option]:
    """The directory, then the partners typed in during this form."""
    directory = await asked.context.services.reference.partners()
    typed = asked.answers.get(NEW_PARTNERS, [])
    return [(str(p.id), p.name) for p in directory] + [
        (f"n{i}", name) for i, (name, _) in enumerate(typed)
    ]


async def categories(asked: Asked) -> list[Option]:
    found = await asked.context.services.reference.choices(Kind.PARTNER_CATEGORY)
    return [(c.code, c.label) for c in found]


def adding_partner(answers: Answers) -> bool:
    return answers.get(MORE) == "partners"


def add_typed_partner(answers: Answers) -> str:
    """The partner just typed joins the list, chosen; back to the list."""
    typed = answers.setdefault(NEW_PARTNERS, [])
    typed.append([answers.pop("new_name"), answers.pop("new_category")])
    answers.setdefault("partners", []).append(f"n{len(typed) - 1}")
    answers.pop(MORE, None)
    return "partners"


def title_prompt(asked: Asked) -> str:
    return texts.EVENT_PROMPTS["title"].format(
        default=texts.EVENT_KIND_LABELS[asked.answers["kind"]]
    )


# --- The check before saving, and the save --------------------------------------------------
def starts_at(context: BotContext, answers: Answers) -> dt.datetime:
    time = answers["time"]
    local = dt.datetime.combine(
        dt.date.fromisoformat(answers["day"]),
        dt.time(int(time[:2]), int(time[2:])),
        tzinfo=context.services.settings.tz,
    )
    return local.astimezone(dt.UTC)


def title_of(answers: Answers) -> str:
    return answers.get("title") or texts.EVENT_KIND_LABELS[answers["kind"]]


def chosen_partners(answers: Answers) -> tuple[list[int], list[list[str]]]:
    """The directory's partners chosen (ids), and the typed ones kept ([name, category])."""
    codes = answers.get("partners", [])
    typed = answers.get(NEW_PARTNERS, [])
    known = [int(c) for c in codes if c.isdigit()]
    new = [typed[int(c[1:])] for c in codes if c.startswith("n") and c[1:].isdigit()]
    return known, new


async def summary(asked: Asked) -> str:
    context, answers = asked.context, asked.answers
    cache = context.services.reference
    names = {str(n.id): n.name for n in await cache.neighbourhoods()}
    partner_names = {p.id: p.name for p in await cache.partners()}
    known, new = chosen_partners(answers)
    card = describe(
        title=title_of(answers),
        kind=answers["kind"],
        starts_at=starts_at(context, answers),
        place=answers["place"],
        neighbourhood=names.get(answers["neighbourhood"], "?"),
        theme=answers.get("theme") or "",
        partners=[partner_names.get(i, "?") for i in known] + [name for name, _ in new],
        context=context,
    )
    return texts.EVENT_SUMMARY.format(card=card)


async def save(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Create the event (and the partners typed in)."""
    known, new = chosen_partners(answers)
    partner_ids = list(known)
    for name, category in new:
        partner = await reference.add_partner(session=session, name=name, category=category)
        partner_ids.append(pk(partner))
    event = await events.create_event(
        session=session,
        member=context.member,
        draft=EventDraft(
            kind=answers["kind"],
            title=title_of(answers),
            starts_at=starts_at(context, answers),
            neighbourhood_id=int(answers["neighbourhood"]),
            place=answers["place"],
            theme=answers.get("theme") or "",
            partner_ids=partner_ids,
        ),
        now=context.services.clock(),
    )
    text, markup = await event_card(session, context, event)
    if new:
        context.services.reference.invalidate()
    return Finished(texts.EVENT_SAVED.format(card=text), markup)


PROMPTS, TITLES = texts.EVENT_PROMPTS, texts.EVENT_FIELD_NAMES
EVENEMENT: Final = Form(
    key="evt",
    command="evenement",
    steps=(
        Choice(
            name="kind",
            title=TITLES["kind"],
            prompt=PROMPTS["kind"],
            options=list(texts.EVENT_KIND_LABELS.items()),
        ),
        Text(
            name="title",
            title=TITLES["title"],
            prompt=title_prompt,
            read=read_title,
            optional=True,
        ),
        Text(name="day", title=TITLES["day"], prompt=PROMPTS["day"], read=read_day),
        Choice(
            name="time",
            title=TITLES["time"],
            prompt=PROMPTS["time"],
            options=[(t, f"{t[:2]}:{t[2:]}") for t in QUICK_TIMES],
            columns=3,
            read=read_time,
        ),
        Choice(
            name="neighbourhood",
            title=TITLES["neighbourhood"],
            prompt=PROMPTS["neighbourhood"],
            options=neighbourhoods,
            columns=1,
        ),
        Text(name="place", title=TITLES["place"], prompt=PROMPTS["place"], read=read_place),
        Text(
            name="theme",
            title=TITLES["theme"],
            prompt=PROMPTS["theme"],
            read=read_theme,
            optional=True,
        ),
        MultiChoice(
            name="partners",
            title=TITLES["partners"],
            prompt=PROMPTS["partners"],
            options=partners,
            more=(NEW, texts.EVENT_NEW_PARTNER),
        ),
        Choice(
            name="new_category",
            prompt=PROMPTS["newcategory"],
            options=categories,
            applies=adding_partner,
        ),
        Text(
            name="new_name",
            prompt=PROMPTS["newname"],
            read=read_partner_name,
            applies=adding_partner,
            after=add_typed_partner,
        ),
        Summary(name="confirm", text=summary),
    ),
    finish=save,
)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The /evenement form."""
    return FormEngine(EVENEMENT).handlers()
