"""Events, as the project officer, the mediators and the coordinators live them: the Café de
l'emploi of 29 March (DOMAIN.md) recreated in a chat, its reminders, and its figures."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot import digest
from bot.app import BotApplication, build_application
from bot.context import services_of
from bot.db import Sessions
from bot.settings import Settings
from jobs.digest import digest_content
from models.events import Event, Registration
from models.people import person_code
from models.stats import Period
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI, RecordingRequest

PARIS = ZoneInfo("Europe/Paris")
PARTNERS = (
    ("Groupe Accor", "Employeurs"),
    ("Table de Cana", "Employeurs"),
    ("La Grande Classe", "Organismes de formation"),
    ("IFEBAT", "Organismes de formation"),
)
SAMIA_PEOPLE = ("Amina", "Binta", "Chloé", "Djibril", "Elsa")
KARIM_PEOPLE = ("Farid", "Gisèle", "Hugo", "Inès")


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS).astimezone(dt.UTC)


@pytest.fixture
async def team(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> dict[str, Any]:
    clock.now = paris(2026, 3, 10, 10, 30)
    samia, samia_id = await add_member(
        sessions, clock, name="Samia", neighbourhood="fougeres-le-vau"
    )
    karim, karim_id = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    _, nadia_id = await add_member(
        sessions, clock, role=Role.PROJECT_OFFICER, name="Nadia", neighbourhood=None
    )
    _, claire_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    people = {}
    for member, names in ((samia, SAMIA_PEOPLE), (karim, KARIM_PEOPLE)):
        for name in names:
            clock.advance(minutes=1)
            people[name] = await engage_person(sessions, clock, member, name)
    return {
        "samia": User(app, api, samia_id),
        "karim": User(app, api, karim_id),
        "nadia": User(app, api, nadia_id),
        "claire": User(app, api, claire_id),
        "people": people,
    }


async def create_cafe(nadia: User) -> str:
    """The project officer creates the Café de l'emploi of 29/03, with four new partners."""
    assert "Quel type" in await nadia.send("/evenement")
    assert "Café de l'emploi" in await nadia.tap("Café de l'emploi")
    assert "Date" in await nadia.tap("Passer")
    assert "Heure" in await nadia.send("29/03")
    assert "quartier" in await nadia.tap("14:00")
    assert "Lieu" in await nadia.tap("Fougères-Le Vau")
    assert "thème" in await nadia.send("Centre social Étincelles, 65 rue des Haies")
    assert "Partenaires présents" in await nadia.send("Hôtellerie-restauration")
    for name, category in PARTNERS:
        assert "catégorie" in await nadia.tap("➕ Nouveau partenaire")
        assert "Nom du nouveau partenaire" in await nadia.tap(category)
        await nadia.send(name)
    assert "Valider (4)" in nadia.labels()
    summary = await nadia.tap("Valider")
    assert "Vérifiez" in summary
    return await nadia.tap("✅ Enregistrer")


async def open_event(user: User, *, past: bool = False) -> str:
    await user.send("/agenda")
    if past:
        await user.tap("🗂 Événements passés")
    return await user.tap("29/03/2026")


async def register(user: User, names: tuple[str, ...]) -> str:
    await open_event(user)
    text = await user.tap("➕ Inscrire mes personnes")
    for name in names:
        text = await user.tap(next(label for label in user.labels() if label.endswith(name)))
    return text


async def test_the_cafe_de_l_emploi_of_29_march_end_to_end(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, team: dict[str, Any]
) -> None:
    nadia, samia, karim, claire = (team[k] for k in ("nadia", "samia", "karim", "claire"))
    saved = await create_cafe(nadia)
    assert saved.startswith("✅ Événement enregistré.")
    assert "📅 Café de l'emploi\n" in saved  # its title is its kind: said once
    assert "dimanche 29 mars 2026 à 14:00" in saved
    assert "Fougères-Le Vau" in saved
    assert "Thème : Hôtellerie-restauration" in saved
    assert "Groupe Accor, IFEBAT, La Grande Classe, Table de Cana" in saved
    async with sessions() as session:
        event = (await session.exec(select(Event))).one()
    # 14:00 in Paris on the night clocks go forward is 12:00 UTC.
    assert event.starts_at == dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.UTC)

    # Everyone in the team sees it in the agenda.
    for user in (samia, karim, claire):
        assert "Café de l'emploi, Fougères-Le Vau" in await user.send("/agenda")

    # Mediators register their own people from buttons.
    listed = await register(samia, SAMIA_PEOPLE)
    assert all(f"✅ {person_code(team['people'][n])} {n}" in samia.labels() for n in SAMIA_PEOPLE)
    assert "Vos personnes" in listed
    await register(karim, KARIM_PEOPLE)
    card = await open_event(karim)
    assert "Inscrit·es : 9" in card
    assert "Farid" in card
    assert "Amina" not in card  # a mediator sees only their own people

    # Not yet started: no attendance buttons for the project officer.
    card = await open_event(nadia)
    assert "✅ Présences" not in nadia.labels()

    # On the day, the project officer records who came: 8 of the 9, and 6 without registering.
    clock.now = paris(2026, 3, 29, 14, 30)
    await open_event(nadia)
    attendance = await nadia.tap("✅ Présences")
    assert all(n in attendance or any(n in b for b in nadia.labels()) for n in KARIM_PEOPLE)
    for name in (*SAMIA_PEOPLE, *KARIM_PEOPLE[:3]):
        await nadia.tap(next(label for label in nadia.labels() if label.endswith(name)))
    assert sum(label.startswith("✅") for label in nadia.labels()) == 8
    assert "sans inscription" in await nadia.tap("👥 Sans inscription")
    assert "Indiquez un nombre" in await nadia.send("six")
    card = await nadia.send("6")
    assert "Inscrit·es : 9 · venu·es : 8 · sans inscription : 6 · total présent·es : 14" in card

    # Ten days later, what changed for them: six outcomes, and the summary.
    clock.now = paris(2026, 4, 8, 10, 0)
    await open_event(nadia, past=True)
    await nadia.tap("🎯 Changements de situation")
    outcomes = {
        "Amina": "Entretien obtenu",
        "Binta": "Entretien obtenu",
        "Chloé": "Embauche",
        "Djibril": "Entrée en formation",
        "Elsa": "Inscription au RPE",
        "Farid": "Entretien obtenu",
    }
    for name, outcome in outcomes.items():
        person = f"{person_code(team['people'][name])} {name}"
        assert "qu'est-ce qui a changé" in await nadia.tap(f"{person} :")
        await nadia.tap(outcome)
        assert f"{person} : {outcome}" in nadia.labels()
    await nadia.tap("📝 Bilan")
    card = await nadia.send("Six personnes ont changé de situation après les entretiens.")
    assert "Changements de situation : 6 (Entretien obtenu 3, Embauche 1" in card
    assert "Bilan : Six personnes" in card

    # Its figures: /stats for March, the digest of that week, the export.
    await claire.send("/stats")
    await claire.tap("Toute l'équipe")
    figures = await claire.send("01/03/2026-31/03/2026")
    line = (
        "Événements : 1 (Café de l'emploi 1) · 14 participant·es, dont 8 inscrit·es venu·es et "
        "6 sans inscription · changements de situation : 6 (Entretien obtenu 3, Embauche 1, "
        "Entrée en formation 1, Inscription au RPE 1)"
    )
    assert line in figures
    services = services_of(app)
    week = Period(dt.date(2026, 3, 23), dt.date(2026, 3, 29))
    at = dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)
    await digest_content(services, week, at)  # the digest builds; its « Événements » detail:
    assert line in digest.detail("events", await digest.gather(services, week, at), services)
    await claire.send("/export")
    await claire.tap("Cette année")
    await api.wait_until(lambda a: len([f for f in a.files if f[1] == "document"]) == 2)
    (_, xlsx, *_), _zip = [params for _, kind, params in api.files if kind == "document"]
    workbook = load_workbook(io.BytesIO(xlsx))
    rows = list(workbook["Événements"].iter_rows(values_only=True))
    assert rows[1][1:4] == ("Café de l'emploi", "Café de l'emploi", "Fougères-Le Vau")
    assert rows[1][6:11] == (9, 8, 6, 14, 6)
    march = next(
        r
        for r in workbook["Indicateurs"].iter_rows(values_only=True)
        if r[:2] == ("mars 2026", "Toute l'équipe")
    )
    assert march[-3:] == (1, 14, 6)
    everything = " ".join(
        str(c) for s in workbook for r in s.iter_rows(values_only=True) for c in r
    )
    assert not any(name in everything for name in (*SAMIA_PEOPLE, *KARIM_PEOPLE))


async def test_a_mediator_registers_only_their_own_people(
    api: FakeBotAPI, sessions: Sessions, clock: Clock, team: dict[str, Any]
) -> None:
    await create_cafe(team["nadia"])
    karim = team["karim"]
    amina = team["people"]["Amina"]  # Samia's
    await open_event(karim)
    await karim.tap("➕ Inscrire mes personnes")
    assert not any("Amina" in label for label in karim.labels())
    assert "Code" in await karim.tap("🔢 Inscrire par code")
    assert "Aucune de vos personnes" in await karim.send(person_code(amina))
    async with sessions() as session:
        event = (await session.exec(select(Event))).one()
    await karim.press(f"ev:reg:{event.id}:{amina}")
    assert "ne pouvez pas" in api.alerts[-1][1]
    # The project officer registers no one and cannot be tricked into it either.
    await team["nadia"].press(f"ev:reg:{event.id}:{amina}")
    assert "ne pouvez pas" in api.alerts[-1][1]
    # Garbage and forged event buttons: a clear answer, nothing stored.
    await karim.press("ev:att:99999:1")
    await karim.press("ev:o_hired:1:1")
    await karim.press("ev:%%%:1:1")
    async with sessions() as session:
        assert (await session.exec(select(Registration))).all() == []
    # Samia registers Amina by typing her code; the project officer sees every attendee.
    samia = team["samia"]
    await open_event(samia)
    await samia.tap("➕ Inscrire mes personnes")
    await samia.tap("🔢 Inscrire par code")
    listed = await samia.send(person_code(amina).lower())
    assert f"✅ {person_code(amina)} Amina" in samia.labels(), listed
    await register(karim, ("Farid",))
    clock.now = paris(2026, 3, 29, 13, 0)
    await open_event(team["nadia"])
    await team["nadia"].tap("✅ Présences")
    labels = team["nadia"].labels()
    assert any(label.endswith("Amina") for label in labels)
    assert any(label.endswith("Farid") for label in labels)
    # Her registration is part of her record (right of access).
    await team["claire"].send(f"/donnees {person_code(amina)}")
    ((_, record, *_),) = [params for _, kind, params in api.files if kind == "document"]
    assert '"event": "Café de l\'emploi"' in record.decode()


async def test_event_reminders_in_the_reminder_hours_and_once_across_restarts(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, settings: Settings,
    team: dict[str, Any],
) -> None:  # fmt: skip
    await create_cafe(team["nadia"])
    await register(team["samia"], ("Amina", "Binta"))
    samia, karim, nadia = (team[k].id for k in ("samia", "karim", "nadia"))

    def eve(chat_id: int) -> list[str]:
        return [m.text for m in api.chat(chat_id) if m.text.startswith("🔔 Bientôt")]

    def asked(chat_id: int) -> list[str]:
        return [m.text for m in api.chat(chat_id) if m.text.startswith("🎯 « Café")]

    async def sweep(application: BotApplication) -> None:
        await application.job_queue.get_jobs_by_name("event_reminders")[0].run(application)

    # Sunday's café: with reminders on working days, "the day before" is Friday 27.
    clock.now = paris(2026, 3, 26, 12, 0)
    await sweep(app)
    assert eve(samia) == []
    clock.now = paris(2026, 3, 27, 7, 30)  # before the reminder hours
    await sweep(app)
    assert eve(samia) == []
    clock.now = paris(2026, 3, 27, 9, 5)
    await sweep(app)
    (text,) = eve(samia)
    assert "dimanche 29 mars 2026 à 14:00" in text
    assert "Café de l'emploi (Fougères-Le Vau" in text
    assert "Amina" in text
    assert "Binta" in text
    assert "Chloé" not in text
    assert eve(karim) == []  # no one registered
    await sweep(app)
    await services_of(app).leadership.release()  # the first process is gone
    restarted = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    async with restarted:
        await sweep(restarted)
    assert len(eve(samia)) == 1

    # A week after, nobody recorded outcomes: the project officer is asked, once.
    clock.now = paris(2026, 4, 3, 10, 0)  # Friday: five days after
    await sweep(app)
    assert asked(nadia) == []
    clock.now = paris(2026, 4, 5, 12, 0)  # a week after, but a Sunday
    await sweep(app)
    assert asked(nadia) == []
    clock.now = paris(2026, 4, 6, 8, 30)  # Monday, before the reminder hours
    await sweep(app)
    assert asked(nadia) == []
    clock.now = paris(2026, 4, 6, 9, 30)  # in the hours, but Easter Monday: a public holiday
    await sweep(app)
    assert asked(nadia) == []
    clock.now = paris(2026, 4, 7, 9, 30)  # Tuesday
    await sweep(app)
    await sweep(app)
    async with restarted:
        await sweep(restarted)
    (request,) = asked(nadia)
    assert "29/03/2026" in request
    assert asked(samia) == []


async def test_an_event_reminder_telegram_refuses_waits_and_the_others_go_out(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, team: dict[str, Any]
) -> None:
    await create_cafe(team["nadia"])
    await register(team["samia"], SAMIA_PEOPLE[:1])
    await register(team["karim"], KARIM_PEOPLE[:1])
    samia, karim = team["samia"].id, team["karim"].id
    api.refused_chats = {samia: (403, "Forbidden: bot was blocked by the user")}

    def eve(chat_id: int) -> list[str]:
        return [m.text for m in api.chat(chat_id) if m.text.startswith("🔔 Bientôt")]

    async def sweep() -> None:
        await app.job_queue.get_jobs_by_name("event_reminders")[0].run(app)

    clock.now = paris(2026, 3, 27, 9, 5)  # Friday: the last reminder day before the café
    await sweep()
    assert len(eve(karim)) == 1
    assert eve(samia) == []
    async with sessions() as session:
        member = (await session.exec(select(Member).where(Member.telegram_user_id == samia))).one()
    assert member.unreachable_reason == "blocked"
    api.refused_chats = {}  # Samia unblocked the bot: tried again after the back-off
    clock.now = paris(2026, 3, 27, 9, 30)
    await sweep()
    assert eve(samia) == []
    clock.now = paris(2026, 3, 27, 10, 10)
    await sweep()
    await sweep()
    assert len(eve(samia)) == 1
    assert len(eve(karim)) == 1
