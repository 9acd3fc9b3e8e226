"""The partner directory, the correspondant reached from a reminder, and the committee report
on a data set whose figures are worked out here by hand."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot import texts
from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions
from bot.reports import percent
from models import committee, orientations
from models.orientations import Answer, Mode, Purpose
from models.reference import Partner
from models.stats import Period
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS).astimezone(dt.UTC)


async def partner_id(sessions: Sessions, code: str) -> int:
    async with sessions() as session:
        return (await session.exec(select(Partner.id).where(Partner.code == code))).one() or 0


async def orient(
    app: BotApplication, sessions: Sessions, member: Member, person: int, partner: int,
    created: dt.datetime, appointment: dt.date | None, reply: Answer | None,
) -> None:  # fmt: skip
    policy = services_of(app).settings.followup_policy
    async with sessions.begin() as session:
        made = await orientations.orient(
            session=session, actor=member, person_id=person, partner_id=partner,
            purpose=Purpose.SUPPORT, mode=Mode.APPOINTMENT if appointment else Mode.INFORMATION,
            appointment_on=appointment, note=None, now=created, today=created.date(),
            policy=policy,
        )  # fmt: skip
        if reply is not None:
            await orientations.answer(
                session=session, actor=member, orientation_id=made.id or 0, action=reply,
                seq=made.seq, now=created + dt.timedelta(days=20),
            )  # fmt: skip


@pytest.fixture
async def committee_data(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> dict[str, Any]:
    """Orientations to France Travail, written out with what the committee must read:

    created     appointment (days)   outcome
    05/01       12/01 (7)            support started
    20/01       23/01 (3)            came, no follow-up
    02/02       16/02 (14)           did not come
    10/02       –                    support started
    01/03       11/03 (10)           pending
    02/04       –                    support started     (outside Q1)
    15/02 to the Mission Locale: another partner, never counted.
    Q1: 5 orientations, 4 known, 1 pending; median wait of 7, 3, 14, 10 = 8.5 days;
    came 3 of 4 = 75 %; started 2 of 4 = 50 %.
    """
    clock.now = paris(2026, 1, 2, 10)
    samia, _ = await add_member(sessions, clock, name="Samia")
    people = [await engage_person(sessions, clock, samia, f"Yasmina{i}") for i in range(7)]
    ft = await partner_id(sessions, "france-travail")
    ml = await partner_id(sessions, "mission-locale-paris")
    rows = [
        (paris(2026, 1, 5, 10), dt.date(2026, 1, 12), Answer.STARTED),
        (paris(2026, 1, 20, 10), dt.date(2026, 1, 23), Answer.CAME_NO_FOLLOW),
        (paris(2026, 2, 2, 10), dt.date(2026, 2, 16), Answer.NO_SHOW),
        (paris(2026, 2, 10, 10), None, Answer.STARTED),
        (paris(2026, 3, 1, 10), dt.date(2026, 3, 11), None),
        (paris(2026, 4, 2, 10), None, Answer.STARTED),
    ]
    for person, (created, appointment, reply) in zip(people, rows, strict=False):
        await orient(app, sessions, samia, person, ft, created, appointment, reply)
    await orient(app, sessions, samia, people[6], ml, paris(2026, 2, 15, 10), None, Answer.STARTED)
    return {"ft": ft, "people": people}


async def test_committee_figures_on_a_hand_built_data_set(
    sessions: Sessions, committee_data: dict[str, Any]
) -> None:
    async with sessions() as session:
        report = await committee.report(
            session=session, partner_id=committee_data["ft"],
            period=Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31)), tz=PARIS,
        )  # fmt: skip
    assert report.total == 5
    assert report.known == 4
    assert report.pending == 1
    assert report.median_days_to_appointment == 8.5
    assert report.share_came == 0.75
    assert report.share_started == 0.5
    assert [r.days_to_appointment for r in report.rows] == [7, 3, 14, None, 10]


async def test_committee_report_in_a_chat_and_as_a_workbook(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock,
    committee_data: dict[str, Any],
) -> None:  # fmt: skip
    clock.now = paris(2026, 4, 10, 11)
    _, claire_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    claire = User(app, api, claire_id)
    assert "quelle catégorie" in await claire.send("/comite")
    # France Travail is the only partner of its category: no partner step.
    assert "sur quelle période" in await claire.tap("France Travail")
    await claire.tap("Cette année")
    (text,) = [m.text for m in api.chat(claire_id) if m.text.startswith("📊 Comité")]
    # The year so far adds the April orientation: 6, 5 known; came 4/5, started 3/5.
    assert "Du 01/01/2026 au 10/04/2026" in text
    assert "Orientations : 6 (issue connue : 5, en attente : 1)" in text
    assert "8,5 jours (sur 4 rendez-vous fixés)" in text
    assert f"Personnes venues : {percent(0.8)}" in text
    assert f"accompagnement démarré : {percent(0.6)}" in text
    assert "Yasmina" not in text  # codes only
    ((name, xlsx, *_),) = [params for _, kind, params in api.files if kind == "document"]
    assert name == "aveq-comite-france-travail-2026-01-01-2026-04-10.xlsx"
    workbook = load_workbook(io.BytesIO(xlsx))
    summary = dict(workbook["Synthèse"].iter_rows(min_row=2, values_only=True))
    assert summary["Orientations"] == 6
    assert summary["Délai médian jusqu'au premier rendez-vous (jours)"] == 8.5
    assert summary["Part des personnes venues (issues connues)"] == 0.8
    rows = list(workbook["Orientations"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 6
    assert all(str(r[0]).startswith("P-") for r in rows)
    # Mediators have no committee reports.
    samia = User(app, api, (await add_member(sessions, clock, name="Sam2"))[1])
    assert "pas disponible" in await samia.send("/comite")
    await samia.press(f"pa:report:{committee_data['ft']}:year", message_id=1)
    assert "ne pouvez pas" in api.alerts[-1][1]


@pytest.fixture
async def claire(app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock) -> User:
    """A coordinator."""
    _, claire_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    return User(app, api, claire_id)


async def test_committee_steps_go_back_to_the_partners_of_the_category(claire: User) -> None:
    await claire.send("/comite")
    assert await claire.tap("Employeurs") == "Employeurs : quel partenaire ?"
    assert (await claire.tap("Groupe Accor")).startswith("Comité avec Groupe Accor : sur quelle")
    assert await claire.tap(texts.BACK) == "Employeurs : quel partenaire ?"
    assert (await claire.tap(texts.BACK)).startswith(texts.COMMITTEE_TITLE)


async def test_committee_report_from_a_partner_card_for_a_typed_period(
    api: FakeBotAPI, clock: Clock, committee_data: dict[str, Any], claire: User
) -> None:
    clock.now = paris(2026, 4, 10, 11)
    await claire.send("/partenaires")
    await claire.tap("France Travail")  # the category
    await claire.tap("France Travail")  # its partner's card
    asked = await claire.tap(texts.PARTNER_COMMITTEE)
    assert asked.startswith("Comité avec France Travail : sur quelle période ?")
    assert claire.labels()[:7] == list(texts.PERIOD_PRESETS.values())
    assert "La date 31/02/2026 n'existe pas" in await claire.send("31/02/2026-31/03/2026")
    await claire.send("T1 2026")
    (text,) = [m.text for m in api.chat(claire.id) if m.text.startswith("📊 Comité")]
    assert "Du 01/01/2026 au 31/03/2026" in text
    assert "Orientations : 5 (issue connue : 4, en attente : 1)" in text
    ((name, *_),) = [params for _, kind, params in api.files if kind == "document"]
    assert name == "aveq-comite-france-travail-2026-01-01-2026-03-31.xlsx"


async def test_directory_edit_and_contact_from_a_reminder(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2026, 3, 2, 10)  # a Monday
    samia_member, samia_id = await add_member(sessions, clock, name="Samia")
    _, claire_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    claire, samia = User(app, api, claire_id), User(app, api, samia_id)
    await claire.send("/partenaires")
    await claire.tap("France Travail")
    card = await claire.tap("France Travail")
    assert "Pas encore de correspondant·e ressource" in card
    for field, value in (
        ("Nom", "Julie Moreau"),
        ("Fonction", "Conseillère entreprises"),
        ("Téléphone", "01 44 55 66 77"),
        ("E-mail", "julie.moreau@exemple"),
        ("Comment orienter", "Appeler le mardi matin ; préciser « AVEQ »."),
    ):
        await claire.tap("✏️ Modifier le contact")
        assert f"{field} ?" in await claire.tap(field)
        answer = await claire.send(value)
        if value == "julie.moreau@exemple":  # refused; the question stays open
            assert "adresse e-mail n'est pas reconnue" in answer
            await claire.send("julie.moreau@exemple.fr")
            assert "E-mail : julie.moreau@exemple.fr" in claire.last.text
    card = claire.last.text
    assert "Correspondant·e ressource : Julie Moreau" in card
    assert "Téléphone : +33144556677" in card
    assert "E-mail : julie.moreau@exemple.fr" in card
    assert "Comment orienter : Appeler le mardi matin" in card

    # A mediator cannot edit the directory.
    ft = await partner_id(sessions, "france-travail")
    await samia.press(f"pa:edit:{ft}:-", message_id=1)
    assert "ne pouvez pas" in api.alerts[-1][1]
    await samia.press(f"pa:field:{ft}:contact_name", message_id=1)
    assert "n'est plus actif" in api.alerts[-1][1]

    # From a follow-up reminder, the mediator reaches the correspondant.
    person = await engage_person(sessions, clock, samia_member, "Amina")
    await orient(app, sessions, samia_member, person, ft, clock.now, None, None)
    clock.now = paris(2026, 3, 16, 10)
    await app.job_queue.get_jobs_by_name("reminder_sweep")[0].run(app)
    assert "📇 Contact du partenaire" in samia.labels()
    contact = await samia.tap("📇 Contact du partenaire")
    assert "Julie Moreau" in contact
    assert "+33144556677" in contact
    # The reminder itself is still there, with its answers.
    assert any("France Travail" in m.text and m.buttons() for m in api.chat(samia_id))
