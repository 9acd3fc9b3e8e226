"""The person's status machine, enforced in models/, and the flows that move it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.app import BotApplication
from bot.db import Sessions
from models import orientations
from models.errors import DomainError
from models.orientations import ExitReason
from models.people import Person, Status, change_status
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI
from tests.test_followups import member_of, orient_directly, sweep


def test_transitions_table() -> None:
    mediator = Member(
        telegram_user_id=1, display_name="m", role=Role.MEDIATOR, joined_at=dt.datetime.now(dt.UTC)
    )
    coordinator = Member(
        telegram_user_id=2,
        display_name="c",
        role=Role.COORDINATOR,
        joined_at=dt.datetime.now(dt.UTC),
    )
    person = Person(status="engaged")  # type: ignore[call-arg]
    with pytest.raises(DomainError, match="transition_invalid"):
        change_status(person, Status.SUPPORTED, by=mediator)
    change_status(person, Status.ORIENTED, by=mediator)
    change_status(person, Status.SUPPORTED, by=mediator)
    change_status(person, Status.EXITED, by=mediator)
    with pytest.raises(DomainError, match="person_exited"):
        change_status(person, Status.ORIENTED, by=coordinator)
    with pytest.raises(DomainError, match="coordinator_only"):
        change_status(person, Status.ENGAGED, by=mediator)
    change_status(person, Status.ENGAGED, by=coordinator)
    assert person.status == "engaged"


async def test_exit_then_reopen_by_a_coordinator(
    api: FakeBotAPI,
    mediator: User,
    coordinator: User,
    sessions: Sessions,
    clock: Clock,
    app: BotApplication,
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    await orient_directly(app, sessions, clock, member, person_id)
    await mediator.send("/sortie")
    await mediator.tap("P-0001")
    await mediator.tap("Déménagement")
    await mediator.send("lundi")  # typed: last Monday
    assert "le 09/03/2026" in await mediator.tap("Oui, clore")
    async with sessions() as session:
        person = await session.get_one(Person, person_id)
        open_ones = await orientations.pending_checks(session=session, viewer=member)
    assert (person.status, person.exit_reason, person.exited_on) == (
        "exited",
        "moved",
        dt.date(2026, 3, 9),
    )
    assert open_ones == []
    # The mediator's card offers nothing; the coordinator's offers to re-open.
    await mediator.press(f"ps:open:{person_id}", message_id=mediator.last.message_id)
    assert mediator.labels() == []
    await mediator.press(f"ps:reopen:{person_id}", message_id=mediator.last.message_id)
    assert "coordination" in api.alerts[-1][1]
    await coordinator.send("/personnes")
    await coordinator.tap("P-0001")
    assert "Médiation rouverte pour P-0001 Amina" in await coordinator.tap("Rouvrir la médiation")
    async with sessions() as session:
        assert (await session.get_one(Person, person_id)).status == "engaged"


async def test_a_person_referred_by_a_partner(mediator: User, sessions: Sessions) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Yanis")
    for label in ("Homme", "Moins de 26 ans", "QVA"):
        await mediator.tap(label)
    assert "Quel partenaire l'a orienté·e" in await mediator.tap("Orienté·e par un partenaire")
    assert "Freins" in await mediator.tap("PRIJ (Mission Locale)")
    for label in ("Valider (0)", "Ne sait pas", "Non", "Déjà informé·e", "Non"):
        await mediator.tap(label)
    assert "Orienté·e par : PRIJ (Mission Locale)" in mediator.last.text
    await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        person = (await session.exec(select(Person))).one()
        assert person.channel == "partner_referral"
        assert person.referred_by_partner_id is not None


async def test_reminder_across_the_spring_change_goes_out_at_nine_paris(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 3, 27, 10, 0, tzinfo=dt.UTC)  # Friday, before the change
    member, user_id = await add_member(sessions, clock)
    person_id = await engage_person(sessions, clock, member)
    # Appointment that Friday: two working days later is Tuesday 31, 9:00 Paris = 7:00 UTC.
    await orient_directly(
        app, sessions, clock, member, person_id, appointment=dt.date(2026, 3, 27)
    )
    user = User(app, api, user_id)
    clock.now = dt.datetime(2026, 3, 31, 6, 59, tzinfo=dt.UTC)
    await sweep(app)
    assert not any("Point à faire" in m.text for m in api.chat(user_id))
    clock.now = dt.datetime(2026, 3, 31, 7, 0, tzinfo=dt.UTC)
    await sweep(app)
    assert sum("Point à faire" in m.text for m in api.chat(user_id)) == 1
    assert user.labels()[0] == "Venu·e, accompagnement démarré"


async def test_exit_reasons_are_the_programme_s(sessions: Sessions, clock: Clock) -> None:
    member, _ = await add_member(sessions, clock)
    person_id = await engage_person(sessions, clock, member)
    with pytest.raises(DomainError, match="date_out_of_range"):
        async with sessions.begin() as session:
            await orientations.exit_person(
                session=session, actor=member, person_id=person_id, reason=ExitReason.DURABLE_JOB,
                on=dt.date(2026, 3, 11), today=dt.date(2026, 3, 10), now=clock(),
            )  # fmt: skip
    assert len(ExitReason) == 9
