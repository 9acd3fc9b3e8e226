"""The weekly digest, /stats, /export and the demo data, as coordinators and mediators see them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
import zipfile
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import col, func, select

from bot import reports
from bot.app import BotApplication, build_application
from bot.callbacks import Pick
from bot.context import services_of
from bot.db import Sessions
from bot.settings import Settings
from models import demo, stats
from models.audit import AuditEvent
from models.events import Event, Registration
from models.people import Person
from models.reference import Neighbourhood
from models.stats import Period, Scope
from models.team import Member, Role
from tests.conftest import TOKEN, Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_followups import orient_directly

PARIS_WINTER = dt.timedelta(hours=1)


async def run_digest(app: BotApplication) -> None:
    await app.job_queue.get_jobs_by_name("weekly_digest")[0].run(app)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def photos_to(api: FakeBotAPI, chat_id: int) -> list[bytes]:
    return [
        content for chat, kind, (_, content, _) in api.files if chat == chat_id and kind == "photo"
    ]


def texts_to(api: FakeBotAPI, chat_id: int, start: str) -> list[str]:
    return [m.text for m in api.chat(chat_id) if m.text.startswith(start)]


@pytest.fixture
async def team(sessions: Sessions, clock: Clock) -> dict[str, Any]:
    # Monday 2 March, 8:00 in Paris: the team is there before that week's digest (9:00).
    clock.now = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
    samia, samia_id = await add_member(sessions, clock, name="Samia")
    karim, karim_id = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    _, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    _, paul = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Paul", neighbourhood=None
    )
    for name in ("Amina", "Binta"):
        clock.advance(hours=1)
        await engage_person(sessions, clock, samia, name)
    await engage_person(sessions, clock, karim, "Yanis")
    return {
        "samia": samia_id,
        "karim": karim_id,
        "claire": claire,
        "paul": paul,
        "samia_member": samia,
        "karim_member": karim,
    }


async def test_digest_goes_out_once_per_week_across_restarts(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, settings: Settings,
    team: dict[str, Any],
) -> None:  # fmt: skip
    await run_digest(app)  # at first start, the digest of Monday 2 March (week of 23 February)
    assert len(texts_to(api, team["claire"], "Bonjour !")) == 1
    clock.now = dt.datetime(2026, 3, 9, 8, 59, tzinfo=dt.UTC) - PARIS_WINTER  # Monday 9, 8:59
    await run_digest(app)
    assert len(texts_to(api, team["claire"], "Bonjour !")) == 1
    clock.advance(minutes=2)
    await run_digest(app)
    await run_digest(app)
    await services_of(app).leadership.release()  # the first process is gone
    restarted = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    async with restarted:
        await run_digest(restarted)
    for coordinator in ("claire", "paul"):
        _, header = texts_to(api, team[coordinator], "Bonjour !")
        assert "semaine du 02/03/2026 au 08/03/2026" in header
        body = "\n".join(m.text for m in api.chat(team[coordinator]))
        assert "Semaine : 3 personnes accrochées" in body
        assert "Amina" not in body
        _, photo = photos_to(api, team[coordinator])
        assert png_size(photo) == (585, 960)  # shown 390 px wide on a phone, sharp
    for mediator, engaged in (
        ("samia", "2 personnes accrochées"),
        ("karim", "1 personne accrochée"),
    ):
        _, recap = texts_to(api, team[mediator], "Votre semaine")
        assert f": 0 personne informée, {engaged}, 0 orientation, 0 sortie.\n" in recap
    # The next Monday: a new digest.
    clock.advance(days=7)
    await run_digest(app)
    assert len(texts_to(api, team["claire"], "Bonjour !")) == 3


async def test_a_digest_missed_while_down_goes_out_at_start_once(
    app: BotApplication, api: FakeBotAPI, clock: Clock, team: dict[str, Any]
) -> None:
    clock.now = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)  # Wednesday: down since Monday
    await run_digest(app)
    await run_digest(app)
    assert len(texts_to(api, team["claire"], "Bonjour !")) == 1


@pytest.mark.parametrize(
    ("before", "at"),
    [
        # Monday 30 March 2026, the day after the spring change: 9:00 Paris is 7:00 UTC.
        (
            dt.datetime(2026, 3, 30, 6, 59, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC),
        ),
        # Monday 26 October 2026, the day after the autumn change: 9:00 Paris is 8:00 UTC.
        (
            dt.datetime(2026, 10, 26, 7, 59, tzinfo=dt.UTC),
            dt.datetime(2026, 10, 26, 8, 0, tzinfo=dt.UTC),
        ),
    ],
)
async def test_daylight_saving_mondays(
    app: BotApplication, api: FakeBotAPI, clock: Clock, team: dict[str, Any],
    before: dt.datetime, at: dt.datetime,
) -> None:  # fmt: skip
    clock.now = before - dt.timedelta(days=7, hours=-3)  # the Monday before, after its digest
    await run_digest(app)
    sent_before = len(texts_to(api, team["claire"], "Bonjour !"))
    clock.now = before
    await run_digest(app)
    assert len(texts_to(api, team["claire"], "Bonjour !")) == sent_before
    clock.now = at
    await run_digest(app)
    await run_digest(app)
    assert len(texts_to(api, team["claire"], "Bonjour !")) == sent_before + 1


async def test_digest_to_the_coordinators_group_when_set(
    api: FakeBotAPI, sessions: Sessions, clock: Clock, database_url: str, team: dict[str, Any]
) -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        database_url=database_url,
        digest_chat_id="-100555",  # type: ignore[call-arg]
    )
    app = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    async with app:
        clock.now = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
        await run_digest(app)
    assert len(texts_to(api, -100555, "Bonjour !")) == 1
    assert texts_to(api, team["claire"], "Bonjour !") == []


def test_long_texts_are_split_at_line_boundaries() -> None:
    lines = [f"ligne {i} " + "x" * 50 for i in range(200)]
    chunks = reports.split("\n".join(lines))
    assert len(chunks) > 1
    assert all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines
    assert reports.split("y" * 5000) == ["y" * 4096, "y" * 904]


async def test_a_mediator_sees_only_their_own_figures(
    app: BotApplication, api: FakeBotAPI, clock: Clock, team: dict[str, Any]
) -> None:
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    samia = User(app, api, team["samia"])
    assert "Samia : quelle période" in await samia.send("/stats")
    figures = await samia.tap("Ce mois")
    assert "Nouvelles personnes accrochées : 2" in figures
    assert "Objectif de l'année : 2 / 400" in figures  # her share of the team's 800
    assert "800" not in figures
    assert "Yanis" not in figures
    # Old or forged buttons for the team's or a colleague's figures: refused, nothing shown.
    shown = len(api.chat(samia.id))
    await samia.press(Pick("st", "scope", "team").pack(), message_id=samia.last.message_id)
    assert "plus actif" in api.alerts[-1][1]
    await samia.press(f"st:show:med:{team['samia_member'].id + 1}:month", message_id=1)
    assert "plus actif" in api.alerts[-1][1]
    assert len(api.chat(samia.id)) == shown
    assert samia.last.text == figures
    assert "pas disponible" in await samia.send("/export")


async def test_coordinator_stats_by_neighbourhood_and_typed_range(
    app: BotApplication, api: FakeBotAPI, clock: Clock, team: dict[str, Any]
) -> None:
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    claire = User(app, api, team["claire"])
    await claire.send("/stats")
    await claire.tap("Par quartier")
    assert "quelle période" in await claire.tap("19e Sud")
    figures = await claire.tap("Cette année")
    assert figures.startswith("📊 Quartier 19e Sud")
    assert "Nouvelles personnes accrochées : 1" in figures
    typed = await claire.send("01/03/2026-31/03/2026")
    assert "du 01/03/2026 au 31/03/2026" in typed
    assert "Nouvelles personnes accrochées : 1" in typed  # the last scope chosen
    assert "avant son début" in await claire.send("31/03/2026-01/03/2026")


def documents_to(api: FakeBotAPI, chat_id: int) -> list[tuple[str, bytes]]:
    return [(p[0], p[1]) for chat, kind, p in api.files if chat == chat_id and kind == "document"]


async def export_files(api: FakeBotAPI, chat_id: int) -> tuple[bytes, bytes]:
    """The workbook and the zip, once the export built in the background has sent both."""
    await api.wait_until(lambda a: len(documents_to(a, chat_id)) >= 2)
    (xlsx_name, xlsx), (zip_name, archive) = documents_to(api, chat_id)[-2:]
    assert xlsx_name.endswith(".xlsx")
    assert zip_name.endswith("-csv.zip")
    return xlsx, archive


async def test_export_workbook_matches_the_engine_and_holds_no_identity(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, team: dict[str, Any]
) -> None:
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    claire = User(app, api, team["claire"])
    assert "Exporter quelle période" in await claire.send("/export")
    answer = await claire.tap("Ce mois")
    assert answer.startswith("Préparation de l'export du 01/03/2026 au 20/03/2026…")
    xlsx, archive = await export_files(api, claire.id)
    names = [p[0] for chat, kind, p in api.files if kind == "document"]
    assert names == [
        "aveq-export-2026-03-01-2026-03-20.xlsx",
        "aveq-export-2026-03-01-2026-03-20-csv.zip",
    ]
    captions = [m.text for m in api.chat(claire.id) if m.document == "document"]
    assert captions[0].startswith("Export AVEQ du 01/03/2026 au 20/03/2026, généré le 20/03/2026")
    assert "du 01/03/2026 au 20/03/2026, générés le 20/03/2026 11:00" in captions[1]
    workbook = load_workbook(io.BytesIO(xlsx))
    assert workbook.sheetnames == [
        "Synthèse",
        "Définitions",
        "Indicateurs",
        "Personnes",
        "Orientations",
        "Sorties",
        "Personnes informées",
        "Événements",
        "Partenaires",
        "Confirmations",
    ]
    indicators = list(workbook["Indicateurs"].iter_rows(values_only=True))
    assert indicators[0][:4] == (
        "Période",
        "Périmètre",
        "Personnes informées",
        "Nouvelles personnes accrochées",
    )
    team_row = next(r for r in indicators if r[1] == "Toute l'équipe")
    assert team_row[0] == "mars 2026"
    area_row = next(r for r in indicators if r[1] == "La Chapelle Nord")
    assert area_row[:4] == ("du 01/03/2026 au 20/03/2026", "La Chapelle Nord", 0, 2)
    services = services_of(app)
    async with sessions() as session:
        engine = await stats.compute(
            session=session, period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 20)),
            scope=Scope(), tz=services.settings.tz, today=services.today(),
        )  # fmt: skip
    assert team_row[2:4] == (engine.informed, engine.engaged)
    people = list(workbook["Personnes"].iter_rows(values_only=True))
    assert [row[0] for row in people[1:]] == ["P-0001", "P-0002", "P-0003"]
    everything = repr([list(ws.iter_rows(values_only=True)) for ws in workbook])
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        for name in files.namelist():
            everything += files.read(name).decode("utf-8-sig")
        people_csv = next(n for n in files.namelist() if n.endswith("-personnes.csv"))
        first_csv = files.read(people_csv).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(first_csv), delimiter=";"))[0] == "Code"
    for identity in ("Amina", "Binta", "Yanis", "+33", "Samia", "Karim"):
        assert identity not in everything
    async with sessions() as session:
        event = (await session.exec(select(AuditEvent))).one()
    assert (event.action, event.detail) == ("export", "2026-03-01..2026-03-20")
    assert event.subject == "du 01/03/2026 au 20/03/2026"  # what /journal shows


async def test_demo_data_has_the_programme_s_shape(sessions: Sessions, clock: Clock) -> None:
    async with sessions.begin() as session:
        counts = await demo.generate(session=session, size=demo.DemoSize(people=400), now=clock())
    assert counts["people"] == 400
    async with sessions() as session:
        total = (await session.exec(select(func.count()).select_from(Person))).one()
        word_of_mouth = (
            await session.exec(
                select(func.count()).select_from(Person).where(Person.channel == "word_of_mouth")
            )
        ).one()
        registered = (
            await session.exec(
                select(func.count()).select_from(Person).where(Person.registered_ft == "yes")
            )
        ).one()
    assert total == 400
    assert 0.24 <= word_of_mouth / total <= 0.38
    assert 0.62 <= registered / total <= 0.78
    # Two events a month, each with people who registered before it, some of whom came.
    assert counts["events"] == 24
    async with sessions() as session:
        year = await stats.compute(
            session=session, period=stats.year_of(clock().date()), scope=Scope(),
            tz=ZoneInfo("Europe/Paris"), today=clock().date(),
        )  # fmt: skip
        late = (
            await session.exec(
                select(func.count())
                .select_from(Registration)
                .join(Event, col(Event.id) == col(Registration.event_id))
                .join(Person, col(Person.id) == col(Registration.person_id))
                .where(col(Person.engaged_at) >= col(Event.starts_at))
            )
        ).one()
    assert late == 0
    assert 0 < year.events.attended_registered <= year.events.registered
    assert 0 < year.events.changed < year.events.attended_registered
    with pytest.raises(demo.RealDataPresent):
        async with sessions.begin() as session:
            await demo.generate(session=session, size=demo.DemoSize(people=10), now=clock())


NEIGHBOURHOOD_CODES = (
    "la-chapelle-nord", "fougeres-le-vau", "19e-sud", "grand-belleville-amandiers",
    "villa-deste-bedier-oudine", "porte-de-vanves", "porte-brancion-perichaux",
)  # fmt: skip


async def busy_week(
    app: BotApplication, sessions: Sessions, clock: Clock, team: dict[str, Any]
) -> list[Member]:
    """Eight mediators, each with a follow-up past its date; six events in the coming week."""
    clock.now = dt.datetime(2026, 2, 16, 10, 0, tzinfo=dt.UTC)
    mediators = [team["samia_member"], team["karim_member"]]
    for index in range(6):
        member, _ = await add_member(
            sessions, clock, name=f"Médiatrice {index + 1} Longuenom",
            neighbourhood=NEIGHBOURHOOD_CODES[index],
        )  # fmt: skip
        mediators.append(member)
    for member in mediators:
        person = await engage_person(sessions, clock, member, "Zoé")
        await orient_directly(app, sessions, clock, member, person)  # due 23 February
    async with sessions.begin() as session:
        area = (await session.exec(select(Neighbourhood))).first()
        assert area is not None
        for day_of_march in (9, 10, 11, 12, 13, 14):
            session.add(
                Event(
                    kind="job_dating",
                    title=f"Job dating hôtellerie et restauration n°{day_of_march} avec Accor",
                    starts_at=dt.datetime(2026, 3, day_of_march, 13, 0, tzinfo=dt.UTC),
                    neighbourhood_id=area.id or 0,
                    place="Centre social",
                    created_by_id=mediators[0].id or 0,
                    created_at=clock(),
                )
            )
    return mediators


async def test_the_digest_fits_one_screen_and_its_buttons_answer_with_the_detail(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, team: dict[str, Any]
) -> None:
    mediators = await busy_week(app, sessions, clock, team)
    clock.now = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)  # Monday 9 March, 9:00 in Paris
    await run_digest(app)
    claire = User(app, api, team["claire"])
    (digest,) = [m for m in api.chat(claire.id) if m.text.startswith("Bonjour !")]
    text = digest.text
    assert len(text) <= 900, (len(text), text)
    assert "semaine du 02/03/2026 au 08/03/2026" in text
    assert "Semaine : 3 personnes accrochées" in text  # engaged on 2 March
    # The year, cut at the same instant as the rest: 8 in February + 3 on 2 March.
    assert "2026 : 11 / 800 accrochées" in text
    late_line = next(line for line in text.split("\n") if line.startswith("• Suivis en retard"))
    assert "Samia 1" in late_line
    assert "Médiatrice 6 Longuenom 1" in late_line
    assert "Événements cette semaine (6)" in text
    assert "et 3 de plus" in text
    assert [b["text"] for b in digest.buttons()] == [
        "Par quartier", "Par médiateur·rice", "Suivis en retard", "Événements",
    ]  # fmt: skip

    late = await claire.tap("Suivis en retard")
    assert late.startswith("⏰ Suivis en retard le 09/03/2026 09:00")
    assert "• Samia : 1 en retard sur 1 en attente" in late
    assert late.count("1 en retard sur 1 en attente") == 8
    by_mediator = await claire.tap("Par médiateur·rice")
    # The team's 800 shared among 8 active mediators: 100 each, never 800.
    assert "• Samia : 2 cette semaine, 3 dans l'année · sa part 100 (3\xa0%)" in by_mediator
    assert "800" not in by_mediator
    by_area = await claire.tap("Par quartier")
    assert "• La Chapelle Nord : 2 cette semaine, 4 dans l'année" in by_area
    assert "objectif" not in by_area  # no neighbourhood has a target of its own here
    agenda = await claire.tap("Événements")
    assert agenda.count("Job dating hôtellerie") == 6

    samia = User(app, api, team["samia"])
    await samia.press(digest.buttons()[2]["callback_data"], message_id=1)
    assert "ne pouvez pas" in api.alerts[-1][1]
    for forged in ("dg:late:20260310", "dg:what:20260309", "dg:late:20261399"):
        await claire.press(forged, message_id=digest.message_id)
        assert api.alerts[-1][1] == "Ce bouton n'est plus actif."
    assert len(mediators) == 8
