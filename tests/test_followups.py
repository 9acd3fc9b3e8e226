"""Orientations and their follow-up, as a mediator lives them: orient, move the clock, get the
reminder, answer it, see the person's status and /suivis change."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions
from models import orientations
from models.orientations import Mode, Orientation, Purpose
from models.people import Person
from models.reference import Partner
from models.team import Member
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI

PARIS_OFFSET = dt.timedelta(hours=1)  # March before the change: UTC+1


async def sweep(app: BotApplication) -> None:
    await app.job_queue.get_jobs_by_name("reminder_sweep")[0].run(app)


async def member_of(sessions: Sessions, user: User) -> Member:
    async with sessions() as session:
        return (await session.exec(select(Member).where(Member.telegram_user_id == user.id))).one()


async def orientation_of(sessions: Sessions, orientation_id: int) -> Orientation:
    async with sessions() as session:
        return await session.get_one(Orientation, orientation_id)


async def person_of(sessions: Sessions, person_id: int) -> Person:
    async with sessions() as session:
        return await session.get_one(Person, person_id)


async def orient_directly(
    app: BotApplication, sessions: Sessions, clock: Clock, member: Member, person_id: int,
    appointment: dt.date | None = None,
) -> int:  # fmt: skip
    services = services_of(app)
    async with sessions.begin() as session:
        partner = (await session.exec(select(Partner).where(Partner.code == "plie-paris"))).one()
        orientation = await orientations.orient(
            session=session,
            actor=member,
            person_id=person_id,
            partner_id=partner.id,
            purpose=Purpose.SUPPORT,
            mode=Mode.APPOINTMENT,
            appointment_on=appointment,
            note=None,
            now=clock(),
            today=services.today(),
            policy=services.settings.followup_policy,
        )
        return orientation.id


def reminders_to(api: FakeBotAPI, user: User) -> list[str]:
    return [m.text for m in api.chat(user.id) if "Point à faire" in m.text]


async def test_orient_then_remind_then_answer(
    app: BotApplication, api: FakeBotAPI, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    assert "Quelle personne" in await mediator.send("/orienter")
    assert "vers quel type de partenaire" in await mediator.tap("P-0001 Amina")
    # One partner in the category: chosen without asking, and named.
    assert "Vers France Travail : pour quoi" in await mediator.tap("France Travail")
    assert "Comment" in await mediator.tap("Accompagnement")
    assert "Date du rendez-vous" in await mediator.tap("Rendez-vous pris")
    summary = await mediator.tap("Demain")  # no consent: no note asked
    assert "Rendez-vous : 11/03/2026" in summary
    saved = await mediator.tap("✅ Enregistrer")
    # Appointment Wednesday 11: two working days later is Friday 13.
    assert saved == (
        "Orientation enregistrée : P-0001 Amina vers France Travail. "
        "Je vous rappellerai de faire le point le 13/03/2026."
    )
    assert (await person_of(sessions, person_id)).status == "oriented"

    clock.now = dt.datetime(2026, 3, 13, 8, 59, tzinfo=dt.UTC) - PARIS_OFFSET
    await sweep(app)
    assert reminders_to(api, mediator) == []
    clock.advance(minutes=2)
    await sweep(app)
    [reminder] = reminders_to(api, mediator)
    assert "P-0001 Amina" in reminder
    assert "France Travail" in reminder
    assert "rendez-vous le 11/03/2026" in reminder
    assert "06" not in reminder.replace("2026", "")  # no phone in a reminder

    recorded = await mediator.tap("Venu·e, accompagnement démarré")
    assert "venu·e, accompagnement démarré" in recorded
    assert (await person_of(sessions, person_id)).status == "supported"
    assert "Aucun suivi en attente" in await mediator.send("/suivis")


async def test_person_search_forgives_accents_and_typos(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member, "Aïcha")
    await engage_person(sessions, clock, member, "Moussa")
    await mediator.send("/orienter")
    assert "Résultats pour « aicha »" in await mediator.send("aicha")
    assert mediator.labels()[0] == "P-0001 Aïcha"
    await mediator.send("Mousa")
    assert mediator.labels()[0] == "P-0002 Moussa"
    assert "Personne ne correspond" in await mediator.send("Zoé")
    await mediator.send("p2")
    assert mediator.labels()[0] == "P-0002 Moussa"


async def test_typed_appointment_dates(mediator: User, sessions: Sessions, clock: Clock) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member, consent=True)
    await mediator.send("/orienter")
    for label in ("P-0001", "Mission Locale / PRIJ", "PRIJ", "Formation", "Rendez-vous pris"):
        await mediator.tap(label)
    for bad in ("31/02", "01/01/2025", "bientôt"):
        before = len(mediator.api.chat(mediator.id))
        answer = await mediator.send(bad)
        # One message, not two (one new message per second in a chat): why, then the question.
        assert len(mediator.api.chat(mediator.id)) == before + 1
        assert answer.startswith("Je n'ai pas compris cette date")
        assert "Date du rendez-vous" in answer
    assert "note" in await mediator.send("lundi")  # consent given: the note is offered
    summary = await mediator.tap("Passer")
    assert "Rendez-vous : 16/03/2026" in summary


async def test_other_partner_is_added_to_the_directory(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member)
    await mediator.send("/orienter")
    await mediator.tap("P-0001")
    await mediator.tap("Associations")
    assert "Nom du partenaire" in await mediator.tap("➕ Autre partenaire")
    await mediator.send("Emmaüs Connect")
    for label in ("Droits et accès aux services", "Information"):  # no appointment to ask
        await mediator.tap(label)
    assert "vers Emmaüs Connect" in await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        partner = (
            await session.exec(select(Partner).where(Partner.name == "Emmaüs Connect"))
        ).one()
    assert partner.category == "association"


@pytest.mark.parametrize(
    ("label", "outcome", "status"),
    [
        ("Venu·e, accompagnement démarré", "started", "supported"),
        ("Venu·e, sans suite", "came_no_follow", "engaged"),
        ("Pas venu·e", "no_show", "engaged"),
        ("Relancer dans 7 jours", None, "oriented"),
    ],
)
async def test_each_answer_twice_leaves_the_expected_state(
    app: BotApplication, mediator: User, sessions: Sessions, clock: Clock,
    label: str, outcome: str | None, status: str,
) -> None:  # fmt: skip
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    orientation_id = await orient_directly(app, sessions, clock, member, person_id)
    clock.advance(days=7)
    await sweep(app)
    reminder = mediator.last
    [data] = [b["callback_data"] for b in reminder.buttons() if b["text"] == label]
    await mediator.press(data, reminder.message_id)
    first = await orientation_of(sessions, orientation_id)
    first_text = mediator.last.text
    await mediator.press(data, reminder.message_id)  # a double tap, before the edit shows
    second = await orientation_of(sessions, orientation_id)
    assert second.model_dump() == first.model_dump()
    assert second.outcome == outcome
    assert (await person_of(sessions, person_id)).status == status
    assert mediator.api.messages[(mediator.id, reminder.message_id)].text == first_text
    if outcome is None:
        assert second.next_check_at == clock() + dt.timedelta(days=7)
        assert "je vous relancerai le 24/03/2026" in first_text


async def test_forged_answer_on_another_mediators_orientation_changes_nothing(
    app: BotApplication, api: FakeBotAPI, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    orientation_id = await orient_directly(app, sessions, clock, member, person_id)
    before = await orientation_of(sessions, orientation_id)
    _, other_id = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    other = User(app, api, other_id)
    for data in (
        f"fu:started:{orientation_id}:{before.seq}",
        f"fu:reorient:{orientation_id}:{before.seq}",
        f"fu:close:{orientation_id}:{before.seq}",
        f"ps:exit:{person_id}",
        f"ps:orient:{person_id}",
    ):
        await other.press(data, message_id=1)
        assert api.alerts[-1][1] == "Vous ne pouvez pas agir sur cette fiche."
    assert (await orientation_of(sessions, orientation_id)).model_dump() == before.model_dump()
    assert (await person_of(sessions, person_id)).status == "oriented"
    for garbage in ("fu:started:abc:1", "fu:started:1", "fu:" + "9" * 60, "zz:1"):
        await other.press(garbage, message_id=1)
        assert "plus actif" in api.alerts[-1][1]


async def test_reorient_from_the_reminder(
    app: BotApplication, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    first_id = await orient_directly(app, sessions, clock, member, person_id)
    clock.advance(days=7)
    await sweep(app)
    assert "P-0001 Amina : vers quel type" in await mediator.tap("Réorienter")
    for label in (
        "Insertion et TZCLD",
        "Projets-19",
        "Emploi",
        "Information",
    ):
        await mediator.tap(label)
    await mediator.tap("✅ Enregistrer")
    assert (await orientation_of(sessions, first_id)).outcome == "reoriented"
    async with sessions() as session:
        open_ones = (
            await session.exec(select(Orientation).where(Orientation.outcome == None))  # noqa: E711
        ).all()
    assert [o.replaces_id for o in open_ones] == [first_id]
    assert (await person_of(sessions, person_id)).status == "oriented"


async def test_close_the_mediation_from_the_reminder_stops_reminders(
    app: BotApplication, api: FakeBotAPI, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    await orient_directly(app, sessions, clock, member, person_id)
    clock.advance(days=7)
    await sweep(app)
    assert "pour quelle raison" in await mediator.tap("Clore la médiation")
    assert "Date de sortie" in await mediator.tap("Formation qualifiante")
    assert "Clore la médiation de P-0001 Amina" in await mediator.tap("Aujourd'hui")
    assert "Médiation close pour P-0001 Amina (formation qualifiante), le 17/03/2026" in (
        await mediator.tap("Oui, clore")
    )
    person = await person_of(sessions, person_id)
    assert (person.status, person.exit_reason) == ("exited", "qualifying_training")
    clock.advance(days=30)
    sent = len(reminders_to(api, mediator))
    await sweep(app)
    assert len(reminders_to(api, mediator)) == sent
    # A closed mediation cannot be oriented again without a coordinator.
    await mediator.press(f"ps:orient:{person_id}", message_id=mediator.last.message_id)
    assert "close" in api.alerts[-1][1]


async def test_contact_updates_the_last_contact(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    clock.advance(days=3)
    await mediator.send("/contact")
    assert "quel contact" in await mediator.tap("P-0001")
    assert "Contact enregistré avec P-0001 Amina (appel), le 13/03/2026" in (
        await mediator.tap("Appel")
    )
    assert (await person_of(sessions, person_id)).last_contact_at == clock()


async def test_followups_lists_overdue_first(
    app: BotApplication, api: FakeBotAPI, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    late = await engage_person(sessions, clock, member, "Awa")
    soon = await engage_person(sessions, clock, member, "Binta")
    late_id = await orient_directly(app, sessions, clock, member, late)
    clock.advance(days=7)
    await sweep(app)  # first reminder (Tuesday 17)
    await orient_directly(app, sessions, clock, member, soon)
    for _ in range(2):  # two re-sends, three working days apart
        clock.now = services_of(app).settings.reminder_window.workdays_later(clock(), 3)
        await sweep(app)
    late_orientation = await orientation_of(sessions, late_id)
    assert late_orientation.reminders_sent == 3
    assert late_orientation.overdue
    assert len(reminders_to(api, mediator)) == 4  # Awa three times, Binta once
    before = len(api.chat(mediator.id))
    await mediator.send("/suivis")
    header, first, second = [m.text for m in api.chat(mediator.id)[before:]]
    assert header == "Vos points à faire : 2 en retard, 0 à venir."
    assert first.startswith("⚠️ Sans réponse après deux relances · Point à faire : P-0001 Awa")
    assert second.startswith("Point à faire : P-0002 Binta")
