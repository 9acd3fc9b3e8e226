"""Choosing one of my people, a step of the form engine's vocabulary shared by /orienter,
/contact and /sortie: recent people offered at once as buttons; a typed code or first name
(accents and small typos forgiven) shows the people it matches, or says none does and asks
again. A form started from a person's card or a reminder already knows the person (`given`),
and the step is not asked."""

from __future__ import annotations

from typing import Any, Final

from telegram import Update

from bot import texts
from bot.callbacks import FollowUp, PersonRef
from bot.context import BotContext
from bot.messages import person_label
from handlers.forms import Answers, Asked, Narrowed, Option, Search, Text
from models import orientations, people
from models.errors import DomainError, NotFound
from models.orientations import Orientation
from models.people import Person, clean_note

PERSON: Final = "person"  # the step, and its answer: the person's id as a button code
PERSON_ID: Final = "person_id"  # the id as a number (what erasure looks for in drafts)
LABEL: Final = "person_label"  # « P-0012 Amina », for the next questions
CONSENT: Final = "consent"  # whether the person agreed to notes
GIVEN: Final = "_person_given"  # the form began with its person (card, reminder)
QUERY: Final = "_person_query"  # the last typed search that found someone
QUERY_MAX: Final = 60
NOTE: Final = "note"


def shown(query: str) -> str:
    """A typed search as it may be echoed in the chat: printable, one line, short."""
    return " ".join("".join(c for c in query if c.isprintable()).split())[:40]


def answers_for(person: Person) -> Answers:
    """What choosing `person` answers: their id, label and consent to notes."""
    return {
        PERSON: str(person.id),
        PERSON_ID: person.id,
        LABEL: person_label(person),
        CONSENT: bool(person.contact_consent),
    }


def given(person: Person, *, open_only: bool) -> Answers:
    """The answers of a form started from a button naming `person` (the step is skipped)."""
    if open_only:
        orientations.require_open_mediation(person)
    return answers_for(person) | {GIVEN: True}


async def one_followed(context: BotContext, person_id: int) -> Person:
    """A person the member may act on (NotFound otherwise, which says so)."""
    async with context.services.reads() as session:
        return await people.get_person(session=session, viewer=context.member, person_id=person_id)


async def from_card(update: Update, context: BotContext, *, open_only: bool) -> Answers | None:
    """A form started from a person's card: that person, if the member may act on them (and,
    with `open_only`, their mediation is open); None when the form did not start from a card."""
    card = PersonRef.pressed(update)
    if card is None:
        return None
    return given(await one_followed(context, card.person_id), open_only=open_only)


async def from_reminder(
    update: Update, context: BotContext
) -> tuple[FollowUp, Orientation, Person] | None:
    """A form started from a follow-up reminder: the button, its orientation and person, if
    the member may act on them; None when the form did not start from a reminder."""
    reminder = FollowUp.pressed(update)
    if reminder is None:
        return None
    async with context.services.reads() as session:
        orientation, person = await orientations.orientation_for(
            session=session, actor=context.member, orientation_id=reminder.orientation_id
        )
    return reminder, orientation, person


async def anyone_followed(context: BotContext) -> Answers:
    """A form started by its command: refused when the member follows nobody yet."""
    async with context.services.reads() as session:
        recent = await orientations.recent_people(session=session, viewer=context.member, limit=1)
    if not recent:
        raise DomainError("nobody_followed")
    return {}


async def _options(asked: Asked) -> list[Option]:
    """The people matching the last search, else the most recent ones."""
    viewer = asked.context.member
    async with asked.context.services.reads() as session:
        query = asked.answers.get(QUERY)
        if query:
            found: Any = await people.find_people(session=session, viewer=viewer, text=query)
        else:
            found = await orientations.recent_people(session=session, viewer=viewer)
    return [(str(p.id), person_label(p)) for p in found]


def _prompt(asked: Asked) -> str:
    query = asked.answers.get(QUERY)
    return texts.PICK_PERSON_FOUND.format(query=shown(query)) if query else texts.PICK_PERSON


async def _search(text: str, asked: Asked) -> Narrowed:
    """A typed code or name: the people it matches become the buttons."""
    query = text[:QUERY_MAX]
    async with asked.context.services.reads() as session:
        found = await people.find_people(session=session, viewer=asked.context.member, text=query)
    if not found:
        raise DomainError("person_none", query=shown(query))
    return Narrowed({QUERY: query})


def person_step(*, title: str = "", open_only: bool) -> Search:
    """The person step: with `open_only`, a person whose mediation is closed is refused with
    the reason (orienting, closing); otherwise anyone the member follows (a contact)."""

    async def accept(value: Any, asked: Asked) -> Answers:
        if not str(value).isdigit():
            raise NotFound()
        person = await one_followed(asked.context, int(value))
        if open_only:
            orientations.require_open_mediation(person)
        return answers_for(person)

    return Search(
        name=PERSON,
        title=title,
        prompt=_prompt,
        options=_options,
        columns=1,
        read=_search,
        accept=accept,
        applies=lambda answers: not answers.get(GIVEN),
    )


# --- The note about the chosen person (only with their consent) -----------------------------
def consented(answers: Answers) -> bool:
    """Whether the chosen person agreed to notes: the note is offered only then."""
    return bool(answers.get(CONSENT))


def read_note(text: str, asked: Asked) -> str:
    return clean_note(text)


def note_step(*, prompt: str, title: str = "") -> Text:
    """The optional short note about the chosen person, offered when they agreed to notes;
    the member's message leaves the chat."""
    return Text(
        name=NOTE,
        title=title,
        prompt=prompt,
        read=read_note,
        optional=True,
        sensitive=True,
        applies=consented,
    )


def note_of(answers: Answers) -> str | None:
    """The note to save: none when the person (changed meanwhile) did not agree to notes."""
    return answers.get(NOTE) if consented(answers) else None
