"""Choosing one of my people, shared by /orienter, /contact and /sortie: recent people as
buttons, or a typed code or first name (accents and small typos forgiven)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import keyboards, texts
from bot.callbacks import Pick
from bot.context import BotContext
from bot.messages import person_label
from handlers.common import show
from models import orientations, people
from models.errors import NotFound
from models.people import Person

PERSON = "person"


def person_buttons(form: str, found: list[Person] | Any) -> InlineKeyboardMarkup:
    """One button per person, then Annuler."""
    rows = [
        [InlineKeyboardButton(person_label(p), callback_data=Pick(form, PERSON, str(p.id)).pack())]
        for p in found
    ]
    rows.append(keyboards.nav_row(form, back=False))
    return InlineKeyboardMarkup(rows)


async def ask_person(update: Update, context: BotContext, form: str, *, edit: bool = True) -> bool:
    """Show recent people; False when the member follows nobody yet."""
    async with context.services.reads() as session:
        recent = await orientations.recent_people(session=session, viewer=context.member)
    if not recent:
        await show(update, texts.PICK_PERSON_EMPTY, edit=edit)
        return False
    await show(update, texts.PICK_PERSON, person_buttons(form, recent), edit=edit)
    return True


async def search(update: Update, context: BotContext, form: str, query: str) -> None:
    """Answer a typed code or name with matching people as buttons."""
    async with context.services.reads() as session:
        found = await people.find_people(session=session, viewer=context.member, text=query[:60])
    shown = " ".join("".join(c for c in query if c.isprintable()).split())[:40]
    if not found:
        await show(update, texts.PICK_PERSON_NONE.format(query=shown), edit=False)
        return
    await show(
        update,
        texts.PICK_PERSON_FOUND.format(query=shown),
        person_buttons(form, found),
        edit=False,
    )


async def chosen(context: BotContext, value: str) -> Person:
    """The person a button names, checked again: only people the member follows."""
    if not value.isdigit():
        raise NotFound()
    async with context.services.reads() as session:
        return await people.get_person(
            session=session, viewer=context.member, person_id=int(value)
        )
