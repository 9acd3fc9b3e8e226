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
from bot.context import services_of
from bot.db import Sessions
from bot.settings import Settings
from models import demo, stats
from models.audit import AuditEvent
from models.events import Event, Registration
from models.people import Person
from models.stats import Period, Scope
from models.team import Role
from tests.conftest import TOKEN, Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI, RecordingRequest

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
        assert "Nouvelles personnes accrochées : 3" in body
        assert "Amina" not in body
        _, photo = photos_to(api, team[coordinator])
        assert png_size(photo) == (1000, 800)
    for mediator, engaged in (("samia", 2), ("karim", 1)):
        _, recap = texts_to(api, team[mediator], "Votre semaine")
        assert f"{engaged} accrochées" in recap
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
    assert "Yanis" not in figures
    await samia.press("st:show:team:0:month", message_id=samia.last.message_id)
    assert "ne pouvez pas" in api.alerts[-1][1]
    await samia.press(f"st:show:med:{team['samia_member'].id + 1}:month", message_id=1)
    assert "ne pouvez pas" in api.alerts[-1][1]
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
    assert "pas compris" in await claire.send("31/03/2026-01/03/2026")


async def test_export_workbook_matches_the_engine_and_holds_no_identity(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, team: dict[str, Any]
) -> None:
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    claire = User(app, api, team["claire"])
    assert "Exporter quelle période" in await claire.send("/export")
    await claire.tap("Ce mois")
    assert any("Export du 01/03/2026 au 20/03/2026" in m.text for m in api.chat(claire.id))
    documents = [(params[0], params[1]) for chat, kind, params in api.files if kind == "document"]
    (xlsx_name, xlsx), (zip_name, archive) = documents
    assert xlsx_name == "aveq-export-2026-03-01-2026-03-20.xlsx"
    assert zip_name == "aveq-export-2026-03-01-2026-03-20-csv.zip"
    workbook = load_workbook(io.BytesIO(xlsx))
    assert workbook.sheetnames == [
        "Indicateurs",
        "Personnes",
        "Orientations",
        "Sorties",
        "Informés",
        "Événements",
        "Partenaires",
        "Confirmations",
    ]
    indicators = list(workbook["Indicateurs"].iter_rows(values_only=True))
    assert indicators[0][:4] == (
        "Mois",
        "Périmètre",
        "Personnes informées",
        "Nouvelles personnes accrochées",
    )
    team_row = next(r for r in indicators if r[1] == "Toute l'équipe")
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
        first_csv = files.read(files.namelist()[1]).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(first_csv), delimiter=";"))[0] == "Code"
    for identity in ("Amina", "Binta", "Yanis", "+33"):
        assert identity not in everything
    async with sessions() as session:
        event = (await session.exec(select(AuditEvent))).one()
    assert (event.action, event.detail) == ("export", "2026-03-01..2026-03-20")


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
