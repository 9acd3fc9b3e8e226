"""Hostile input, property-based, on the text steps added with events and the directory: a
clear French answer every time, and nothing stored that breaks the rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from bot import texts
from bot.app import BotApplication
from bot.db import Sessions
from handlers.events import parse_time
from models import events, reference
from models.errors import DomainError
from models.events import Event
from models.people import Person
from models.team import Role
from tests.conftest import Clock, User, add_member
from tests.fakes import FakeBotAPI
from tests.test_reliability import HOSTILE


def attempt(clean: Any, *args: Any, **kwargs: Any) -> tuple[Any, DomainError | None]:
    """The cleaned value, or the refusal."""
    try:
        return clean(*args, **kwargs), None
    except DomainError as error:
        return None, error


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


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=HOSTILE, place=HOSTILE)
async def test_hostile_event_title_and_place(
    officer: User, sessions: Sessions, title: str, place: str
) -> None:
    await officer.send("/evenement")
    await officer.tap("Forum")
    title = title.lstrip("/") or " "
    await officer.process(typed(officer, title))
    answer = officer.last.text
    if "Date" not in answer:  # refused: said why, and the same question again
        assert answer.startswith("Indiquez un titre")
        assert "Titre ?" in answer
        await officer.tap("Passer")
    await officer.send("29/03")
    await officer.tap("14:00")
    await officer.tap("Porte de Vanves")
    await officer.process(typed(officer, place.lstrip("/") or " "))
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


@given(text=HOSTILE, field=st.sampled_from(sorted(reference.CONTACT_LIMITS)))
def test_correspondant_fields_are_clean_or_refused_with_a_sentence(text: str, field: str) -> None:
    value, error = attempt(reference.clean_contact_field, field, text)
    if error is not None:
        assert error.key in texts.DOMAIN_ERRORS
        return
    assert 0 < len(value) <= reference.CONTACT_LIMITS[field]
    if field == "contact_phone":
        assert value.startswith("+")
    if field == "contact_email":
        assert value.count("@") == 1


@given(text=HOSTILE)
def test_typed_times_are_real_times_or_none(text: str) -> None:
    moment = parse_time(text)
    assert moment is None or (0 <= moment.hour <= 23 and 0 <= moment.minute <= 59)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(count=HOSTILE, day=HOSTILE)
async def test_hostile_informed_count_and_day(
    mediator: User, sessions: Sessions, count: str, day: str
) -> None:
    await mediator.send("/informes")
    await mediator.tap("Permanence")
    await mediator.process(typed(mediator, count.lstrip("/") or " "))
    answer = mediator.last.text
    if "Quel jour" not in answer:  # refused: a reason, then the same question
        assert "nombre" in answer
        await mediator.tap("5")
    await mediator.process(typed(mediator, day.lstrip("/") or " "))
    answer = mediator.last.text
    assert answer.startswith("✅") or "Quel jour" in answer
    await mediator.send("/annuler")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(phone=HOSTILE, note=HOSTILE)
async def test_hostile_phone_and_note(
    mediator: User, sessions: Sessions, phone: str, note: str
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Moussa")
    for label in ("Homme", "26-44 ans", "Autre", "Événement", "Valider (0)", "Non", "Oui"):
        await mediator.tap(label)
    await mediator.tap("Oui, elle ou il accepte")
    await mediator.process(typed(mediator, phone.lstrip("/") or " "))
    answer = mediator.last.text
    if "note" not in answer.lower():  # refused: a reason, then the same question
        assert "n'est pas reconnu" in answer
        assert "téléphone" in answer
        await mediator.tap("Passer")
    await mediator.process(typed(mediator, note.lstrip("/") or " "))
    answer = mediator.last.text
    assert "Vérifiez" in answer or "note" in answer.lower()
    await mediator.send("/annuler")
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Person))).one() == 0
