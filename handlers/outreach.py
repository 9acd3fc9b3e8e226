"""`/informes`: how many people were informed at an outreach action (counts, no identities)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import BaseHandler

from bot import texts
from bot.context import BotContext
from bot.dates import parse_day
from bot.formatting import day, plural
from handlers.forms import Answers, Asked, Choice, Finished, Form, FormEngine, Number, Option
from models import outreach
from models.errors import DomainError
from models.reference import Kind, Neighbourhood

QUICK_COUNTS: Final = ("1", "2", "3", "5", "8", "10", "15", "20")
DAYS_AGO: Final = (
    ("0", texts.INFORMED_TODAY),
    ("1", texts.INFORMED_YESTERDAY),
    ("2", texts.INFORMED_BEFORE_YESTERDAY),
)


async def kinds(asked: Asked) -> list[Option]:
    """The outreach kinds of the reference data."""
    found = await asked.context.services.reference.choices(Kind.OUTREACH)
    return [(k.code, k.label) for k in found]


def typed_day(text: str, asked: Asked) -> str:
    """A typed date, in the past: how many days ago."""
    chosen = parse_day(text, today=asked.today, past=True)
    if chosen is None or chosen > asked.today:
        raise DomainError("date_out_of_range")
    return str((asked.today - chosen).days)


async def may_record(update: Update, context: BotContext) -> Answers:
    """Only a member with a neighbourhood records counts."""
    outreach.recording_neighbourhood(context.member)
    return {}


async def save(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Record the count (the domain checks the day and the count again)."""
    services = context.services
    today = services.today()
    action = await outreach.record_informed(
        session=session,
        member=context.member,
        kind=answers["kind"],
        informed=answers["count"],
        day=today - dt.timedelta(days=int(answers["day"])),
        today=today,
        now=services.clock(),
    )
    neighbourhood = await session.get_one(Neighbourhood, action.neighbourhood_id)
    kind_label = (await services.reference.labels(Kind.OUTREACH))[action.kind]
    return Finished(
        texts.INFORMED_SAVED.format(
            informed=plural(action.informed, *texts.COUNT_INFORMED),
            kind=kind_label.lower(),
            date=day(action.day, services.settings.tz),
            neighbourhood=neighbourhood.name,
        )
    )


INFORMES: Final = Form(
    key="inf",
    command="informes",
    begin=may_record,
    steps=(
        Choice(name="kind", prompt=texts.INFORMED_KIND, options=kinds),
        Number(
            name="count",
            prompt=texts.INFORMED_COUNT,
            options=[(n, n) for n in QUICK_COUNTS],
            maximum=outreach.MAX_INFORMED_PER_ACTION,
            invalid=texts.INFORMED_COUNT_INVALID,
        ),
        Choice(name="day", prompt=texts.INFORMED_DAY, options=DAYS_AGO, columns=3, read=typed_day),
    ),
    finish=save,
)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The /informes conversation."""
    return FormEngine(INFORMES).handlers()
