"""Hostile input, property-based, on the text steps added with events and the directory: a
clear French answer every time, and nothing stored that breaks the rules."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import undefer
from sqlmodel import col, func, select

from bot import texts
from bot.app import BotApplication
from bot.callbacks import EventRef
from bot.dates import parse_time
from bot.db import Sessions
from models import events, reference, team
from models.base import pk
from models.errors import DomainError
from models.events import Event, EventDraft
from models.orientations import Interaction, Orientation
from models.people import Person, clean_note
from models.reference import Neighbourhood, Partner
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI
from tests.test_reliability import HOSTILE

SUMMARY = [undefer(Event.summary)]  # type: ignore[arg-type]


def attempt(clean: Any, *args: Any, **kwargs: Any) -> tuple[Any, DomainError | None]:
    """The cleaned value, or the refusal."""
    try:
        return clean(*args, **kwargs), None
    except DomainError as error:
        return None, error


IN_A_CHAT = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def answer_text(text: str) -> str:
    """A generated text as a member could send it as an answer: not a command, not empty."""
    return text.lstrip("/") or " "


def typed(user: User, text: str) -> dict:
    payload = user.message_update("x")
    payload["message"]["text"] = text
    payload["message"].pop("entities", None)
    return payload


@pytest.fixture
async def officer(app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock) -> User:
    _, user_id = await add_member(
        sessions, clock, role=Role.PROJECT_OFFICER, name="Nadia", neighbourhood=None
    )
    return User(app, api, user_id)


@settings(IN_A_CHAT, max_examples=30)
@given(title=HOSTILE, place=HOSTILE)
async def test_hostile_event_title_and_place(
    officer: User, sessions: Sessions, title: str, place: str
) -> None:
    await officer.send("/evenement")
    await officer.tap("Forum")
    await officer.process(typed(officer, answer_text(title)))
    answer = officer.last.text
    if "Date" not in answer:  # refused: said why, and the same question again
        assert answer.startswith("Indiquez un titre")
        assert "Titre ?" in answer
        await officer.tap("Passer")
    await officer.send("29/03")
    await officer.tap("14:00")
    await officer.tap("Porte de Vanves")
    await officer.process(typed(officer, answer_text(place)))
    answer = officer.last.text
    assert "thème" in answer or (answer.startswith("Indiquez le lieu") and "Lieu ?" in answer)
    await officer.send("/annuler")
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Event))).one() == 0


@given(text=HOSTILE)
def test_event_texts_are_clean_or_refused_with_a_sentence(text: str) -> None:
    for limit, key in ((events.TITLE_MAX, "event_title_invalid"), (events.PLACE_MAX, "x")):
        cleaned, error = attempt(events.clean_text, text, limit=limit, key=key)
        if error is not None:
            assert error.key == key
            continue
        assert 0 < len(cleaned) <= limit
        assert cleaned == cleaned.strip()
        assert all(c.isprintable() for c in cleaned)
        assert "\u200b" not in cleaned
    summary, error = attempt(events.clean_summary, text)
    if error is not None:
        assert error.key in texts.DOMAIN_ERRORS
    else:
        assert 0 < len(summary) <= events.SUMMARY_MAX
        assert all(c.isprintable() or c == "\n" for c in summary)


@given(text=HOSTILE, field=st.sampled_from(sorted(reference.CONTACT_LIMITS)))
def test_correspondant_fields_are_clean_or_refused_with_a_sentence(text: str, field: str) -> None:
    value, error = attempt(reference.clean_contact_field, field, text)
    if error is not None:
        assert error.key in texts.DOMAIN_ERRORS
        return
    assert 0 < len(value) <= reference.CONTACT_LIMITS[field]
    assert all(c.isprintable() or c == "\n" for c in value)  # PostgreSQL refuses NUL
    if field == "contact_phone":
        assert value.startswith("+")
    if field == "contact_email":
        assert value.count("@") == 1


@given(text=HOSTILE)
def test_partner_and_member_names_are_one_plain_line_or_refused(text: str) -> None:
    for clean, limit in ((reference.clean_partner_name, 120), (team.clean_name, 80)):
        name, error = attempt(clean, text)
        if error is not None:
            assert error.key in texts.DOMAIN_ERRORS
            continue
        assert 0 < len(name) <= limit
        assert name == name.strip()
        assert all(c.isprintable() for c in name)


@given(text=HOSTILE)
def test_typed_times_are_real_times_or_none(text: str) -> None:
    moment = parse_time(text)
    assert moment is None or (0 <= moment.hour <= 23 and 0 <= moment.minute <= 59)


@IN_A_CHAT
@given(count=HOSTILE, day=HOSTILE)
async def test_hostile_informed_count_and_day(
    mediator: User, sessions: Sessions, count: str, day: str
) -> None:
    await mediator.send("/informes")
    await mediator.tap("Permanence")
    await mediator.process(typed(mediator, answer_text(count)))
    answer = mediator.last.text
    if "Quel jour" not in answer:  # refused: a reason, then the same question
        assert "nombre" in answer
        await mediator.tap("5")
    await mediator.process(typed(mediator, answer_text(day)))
    answer = mediator.last.text
    # Accepted (a date, or a word naming a button: « H » is « Hier ») or asked again.
    assert answer.startswith("Enregistré : 5 personnes informées") or "Quel jour" in answer
    await mediator.send("/annuler")


@IN_A_CHAT
@given(phone=HOSTILE, note=HOSTILE)
async def test_hostile_phone_and_note(
    mediator: User, sessions: Sessions, phone: str, note: str
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Moussa")
    for label in ("H · 26-44 ans", "Autre", "Événement", "Valider (0)", "Non", "Oui"):
        await mediator.tap(label)
    await mediator.tap("✅ Informé · d'accord")
    await mediator.tap("📞 Téléphone")
    await mediator.process(typed(mediator, answer_text(phone)))
    answer = mediator.last.text
    if "Vérifiez" not in answer:  # refused: a reason, then the same question
        assert "n'est pas reconnu" in answer
        assert "téléphone" in answer
        await mediator.tap("Passer")
    await mediator.tap("📝 Note")
    await mediator.process(typed(mediator, answer_text(note)))
    answer = mediator.last.text
    assert "Vérifiez" in answer or "note" in answer.lower()
    await mediator.send("/annuler")
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Person))).one() == 0


async def member_of(sessions: Sessions, user: User) -> Member:
    async with sessions() as session:
        return (await session.exec(select(Member).where(Member.telegram_user_id == user.id))).one()


@pytest.fixture
async def consenting(mediator: User, sessions: Sessions, clock: Clock) -> int:
    """P-0001, followed by the mediator, who agreed to be contacted (so notes are offered)."""
    return await engage_person(sessions, clock, await member_of(sessions, mediator), consent=True)


@IN_A_CHAT
@given(search=HOSTILE, day=HOSTILE, note=HOSTILE)
async def test_hostile_orientation_search_date_and_note(
    mediator: User, consenting: int, sessions: Sessions, search: str, day: str, note: str
) -> None:
    await mediator.send("/orienter")
    await mediator.process(typed(mediator, answer_text(search)))
    answer = mediator.last.text
    assert answer.startswith((texts.PICK_PERSON_FOUND[:12], texts.PICK_PERSON_NONE[:12]))
    assert all(c.isprintable() or c.isspace() for c in answer)
    await mediator.send("/annuler")
    await mediator.send("/orienter")
    for label in ("P-0001", "Mission Locale / PRIJ", "PRIJ", "Formation", "Rendez-vous pris"):
        await mediator.tap(label)
    await mediator.process(typed(mediator, answer_text(day)))
    answer = mediator.last.text
    if "note" not in answer:  # refused: why, then the same question
        assert answer.startswith("Je n'ai pas compris cette date")
        assert "Date du rendez-vous" in answer
        await mediator.tap("Pas de rendez-vous")
    await mediator.process(typed(mediator, answer_text(note)))
    answer = mediator.last.text
    if not answer.startswith("Vérifiez"):
        assert answer.startswith("La note")
        assert "Une note courte ?" in answer
    await mediator.send("/annuler")
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Orientation))).one() == 0


@IN_A_CHAT
@given(note=HOSTILE)
async def test_hostile_contact_note_is_saved_clean_or_asked_again(
    mediator: User, consenting: int, sessions: Sessions, note: str
) -> None:
    await mediator.send("/contact")
    await mediator.tap("P-0001")
    assert "Une note courte ?" in await mediator.tap("Appel")
    text = answer_text(note)
    await mediator.process(typed(mediator, text))
    answer = mediator.last.text
    if not answer.startswith("Contact enregistré"):
        assert answer.startswith("La note")
        assert "Une note courte ?" in answer
        await mediator.send("/annuler")
        return
    # The note never goes back through Telegram: the confirmation is exactly this.
    assert re.fullmatch(
        r"Contact enregistré avec P-0001 Amina \(appel\), le \d\d/\d\d/\d{4}\.", answer
    )
    async with sessions() as session:
        latest = (
            await session.exec(
                select(Interaction)
                .options(undefer(Interaction.note))  # type: ignore[arg-type]
                .order_by(col(Interaction.id).desc())
            )
        ).first()
    assert latest is not None
    assert latest.note == clean_note(text)


@IN_A_CHAT
@given(day=HOSTILE)
async def test_hostile_exit_date(
    mediator: User, consenting: int, sessions: Sessions, clock: Clock, day: str
) -> None:
    await mediator.send("/sortie")
    await mediator.tap("P-0001")
    await mediator.tap("Déménagement")
    await mediator.process(typed(mediator, answer_text(day)))
    answer = mediator.last.text
    if not answer.startswith("Clore la médiation"):
        assert answer.index("Date de sortie ?") > 0  # after the reason
    await mediator.send("/annuler")
    async with sessions() as session:
        assert (await session.get_one(Person, consenting)).status != "exited"


@pytest.fixture
async def started_event(sessions: Sessions, clock: Clock, officer: User) -> int:
    """An event that began an hour ago: the project officer may write its summary."""
    async with sessions.begin() as session:
        member = (
            await session.exec(select(Member).where(Member.telegram_user_id == officer.id))
        ).one()
        nbh = (await session.exec(select(Neighbourhood))).first()
        assert nbh is not None
        draft = EventDraft(
            kind="job_cafe", title="Café de l'emploi", neighbourhood_id=pk(nbh), place="Salle",
            starts_at=clock() - dt.timedelta(hours=1),
        )  # fmt: skip
        event = await events.create_event(session=session, member=member, draft=draft, now=clock())
        assert event.id is not None
        return event.id


@IN_A_CHAT
@given(summary=HOSTILE)
async def test_hostile_event_summary(
    officer: User, started_event: int, sessions: Sessions, summary: str
) -> None:
    async with sessions() as session:
        before = (await session.get_one(Event, started_event, options=SUMMARY)).summary
    await officer.press(EventRef("ask_summary", started_event, 0).pack(), message_id=1)
    assert officer.last.text == texts.EVENT_ASK_SUMMARY
    text = answer_text(summary)
    await officer.process(typed(officer, text))
    answer = officer.last.text
    async with sessions() as session:
        stored = (await session.get_one(Event, started_event, options=SUMMARY)).summary
    if texts.EVENT_ASK_SUMMARY in answer:  # refused: why, then the same question
        assert answer.index(texts.EVENT_ASK_SUMMARY) > 0
        await officer.send("/annuler")
        assert stored == before  # the summary already saved is kept
        return
    assert stored == events.clean_summary(text)
    assert f"Bilan : {stored}" in answer


@IN_A_CHAT
@given(value=HOSTILE, field=st.sampled_from(sorted(texts.PARTNER_CONTACT_FIELDS)))
async def test_hostile_correspondant_fields(
    coordinator: User, sessions: Sessions, value: str, field: str
) -> None:
    query = select(Partner).where(Partner.code == "france-travail")
    async with sessions() as session:
        before = getattr((await session.exec(query)).one(), field)
    await coordinator.send("/partenaires")
    await coordinator.tap("France Travail")
    await coordinator.tap("France Travail")
    await coordinator.tap("✏️ Modifier le contact")
    question = texts.PARTNER_ASK_FIELD.format(field=texts.PARTNER_CONTACT_FIELDS[field])
    await coordinator.tap(texts.PARTNER_CONTACT_FIELDS[field])
    text = answer_text(value)
    await coordinator.process(typed(coordinator, text))
    answer = coordinator.last.text
    async with sessions() as session:
        stored = getattr((await session.exec(query)).one(), field)
    if question in answer:  # refused: why, then the same question; the saved value is kept
        assert answer.index(question) > 0
        assert stored == before
        await coordinator.send("/annuler")
        return
    assert stored == reference.clean_contact_field(field, text)
