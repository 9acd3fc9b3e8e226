"""Two replicas of the bot on one database, behind one webhook: whichever receives an update
continues the conversation, and a partner added on one is offered by the other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.app import BotApplication, build_application
from bot.db import Sessions, create_engine, make_sessions
from bot.settings import Settings
from models.people import Person, with_contact_details
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_followups import member_of


@pytest.fixture
async def second(
    settings: Settings, database_url: str, api: FakeBotAPI, clock: Clock, app: BotApplication
) -> AsyncIterator[BotApplication]:
    """Another process of the bot: its own engine, caches and memory; the same database and
    the same Telegram."""
    engine = create_engine(database_url)
    replica = build_application(
        settings, make_sessions(engine), request=RecordingRequest(api), clock=clock
    )
    async with replica:
        yield replica
    await engine.dispose()


async def test_one_conversation_alternating_between_two_replicas(
    app: BotApplication,
    second: BotApplication,
    api: FakeBotAPI,
    sessions: Sessions,
    clock: Clock,
) -> None:
    _, user_id = await add_member(sessions, clock)
    replicas = [User(app, api, user_id), User(second, api, user_id)]
    steps = [
        ("send", "/nouveau", "Prénom ou initiales"),
        ("send", "Amina", "Sexe"),
        ("tap", "Femme", "Tranche d'âge"),
        ("tap", "Moins de 26 ans", "résidence"),
        ("tap", "QPV", "repéré"),
        ("tap", "Bouche-à-oreille", "Freins"),
        ("tap", "Pas de qualification", "Freins"),
        ("tap", "Valider (1)", "France Travail"),
        ("tap", "Oui", "5 derniers mois"),
        ("tap", "Non", "RSA"),
        ("tap", "Non", "coordonnées"),
        ("tap", "Déjà informé·e", "À lire à voix haute"),
        ("tap", "Oui, la personne accepte", "téléphone"),
        ("send", "06 12 34 56 78", "note"),
        ("send", "Cherche un emploi en restauration.", "Vérifiez"),
        ("tap", "✅ Enregistrer", "Enregistré : P-0001 (Amina)"),
    ]
    for number, (kind, value, expected) in enumerate(steps):
        user = replicas[number % 2]
        answer = await (user.send(value) if kind == "send" else user.tap(value))
        assert expected in answer, f"step {number} ({value}) on replica {number % 2 + 1}"
    async with sessions() as session:
        person = (await session.exec(select(Person).options(*with_contact_details()))).one()
    assert (person.first_name, person.phone) == ("Amina", "+33612345678")
    assert person.note == "Cherche un emploi en restauration."


async def association_partners(user: User) -> list[str]:
    """The partners /orienter offers for an association, then leave."""
    await user.send("/orienter")
    await user.tap("P-0001")
    await user.tap("Associations")
    labels = user.labels()
    await user.send("/annuler")
    return labels


async def test_a_partner_added_on_one_replica_is_offered_on_the_other(
    app: BotApplication,
    second: BotApplication,
    api: FakeBotAPI,
    mediator: User,
    sessions: Sessions,
    clock: Clock,
) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member)
    elsewhere = User(second, api, mediator.id)
    assert "Emmaüs Connect" not in await association_partners(elsewhere)  # its cache is filled

    await mediator.send("/orienter")
    await mediator.tap("P-0001")
    await mediator.tap("Associations")
    await mediator.tap("➕ Autre partenaire")
    await mediator.send("Emmaüs Connect")
    for label in ("Droits et accès aux services", "Information", "Pas de rendez-vous"):
        await mediator.tap(label)
    assert "vers Emmaüs Connect" in await mediator.tap("✅ Enregistrer")

    assert "Emmaüs Connect" in await association_partners(elsewhere)
    assert "Emmaüs Connect" in await association_partners(mediator)


async def test_a_draft_expired_by_one_replica_is_gone_on_the_other(
    app: BotApplication, second: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    _, user_id = await add_member(sessions, clock)
    here, there = User(app, api, user_id), User(second, api, user_id)
    await there.send("/nouveau")
    await there.send("Amina")
    clock.advance(minutes=16)
    await app.job_queue.get_jobs_by_name("expire_idle_drafts")[0].run(app)  # the leader's
    assert "abandonnée après 15 minutes" in here.last.text
    assert "n'est plus en cours" in await there.tap("Femme")
    async with sessions() as session:
        assert (await session.exec(select(Person))).all() == []
