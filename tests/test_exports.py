"""The funders' workbook, opened as a funder would: French everywhere, real percentages,
dates as dates, nobody named; the CSVs as French spreadsheets read them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import pickle
import re
import zipfile
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import select

from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions
from models import demo, events, orientations, people, reference, stats
from models.errors import DomainError, NotAllowed, NotFound
from models.people import Person
from models.reference import ReferenceItem
from models.team import Member, Role
from tests.conftest import Clock, User, add_member
from tests.fakes import FakeBotAPI
from tests.test_reporting import export_files

ENUMS = (
    people.Sex, people.Answer, people.Status, orientations.Purpose, orientations.Mode,
    orientations.Outcome, orientations.Answer, orientations.ExitReason, orientations.ContactKind,
    events.EventKind, events.EventOutcome, Role,
)  # fmt: skip
PERCENT = "0.0%"


async def every_code(sessions: Sessions) -> set[str]:
    """Every code the data may hold: none of them may reach a funder's cell."""
    codes = {member.value for enum in ENUMS for member in enum}
    async with sessions() as session:
        codes |= set((await session.exec(select(ReferenceItem.code))).all())
        codes |= {"engaged", "supported", "accompanied", "tripartite", "yes", "no", "unknown"}
        codes |= {"None", "none", "null", "nan", "True", "False"}
    return codes


async def names_of_people(sessions: Sessions) -> set[str]:
    async with sessions() as session:
        names = set((await session.exec(select(Person.first_name))).all())
        names |= set((await session.exec(select(Member.display_name))).all())
    return {n for n in names if n}


def header_row(sheet: Worksheet) -> int:
    """The row of a sheet's column titles: the one just above the frozen rows."""
    return int(re.sub(r"\D", "", sheet.freeze_panes or "A2")) - 1


async def test_the_workbook_is_one_a_funder_accepts_as_is(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC)
    async with sessions.begin() as session:
        await demo.generate(session=session, size=demo.DemoSize(people=150), now=clock())
    _, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire Coordinatrice", neighbourhood=None
    )
    coordinator = User(app, api, claire)
    await coordinator.send("/export")
    await coordinator.tap("Cette année")
    xlsx, archive = await export_files(api, claire)
    workbook = load_workbook(io.BytesIO(xlsx))
    codes, names = await every_code(sessions), await names_of_people(sessions)
    name_pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b")
    problems: list[str] = []
    for sheet in workbook:
        top = header_row(sheet)
        headers = [c.value for c in sheet[top]]
        if sheet.title not in ("Synthèse", "Définitions"):
            assert str(sheet.auto_filter.ref).startswith(f"A{top}:"), sheet.title
        assert sheet.freeze_panes == f"A{top + 1}"
        assert all(
            (sheet.column_dimensions[chr(65 + i)].width or 0) >= 8 for i in range(len(headers))
        )
        for row in sheet.iter_rows():
            for cell in row:
                value, where = cell.value, f"{sheet.title}!{cell.coordinate}"
                if isinstance(value, str):
                    parts = {value.strip(), *(p.strip() for p in value.split(","))}
                    if parts & codes:
                        problems.append(f"{where}: code {value!r}")
                    if name_pattern.search(value):
                        problems.append(f"{where}: a name in {value!r}")
                elif isinstance(value, float):
                    title = str(headers[cell.column - 1] or "")
                    if cell.number_format != PERCENT and "jours" not in title:
                        problems.append(f"{where}: share {value} as {cell.number_format!r}")
                elif isinstance(value, dt.datetime | dt.date) and not str(
                    cell.number_format
                ).upper().startswith("DD/MM/YYYY"):
                    problems.append(f"{where}: date as {cell.number_format!r}")
    assert problems == []

    summary = workbook["Synthèse"]
    cover = {row[0]: row[1] for row in summary.iter_rows(max_row=5, values_only=True)}
    assert cover["Opérateur"] == services_of(app).settings.operator_name
    assert cover["Période"] == "du 01/01/2026 au 30/06/2026"
    generated = cover["Date de génération"]
    assert (generated.date(), generated.hour) == (dt.date(2026, 6, 30), 12)  # Paris time
    lines = {
        row[0]: row[1:]
        for row in summary.iter_rows(min_row=header_row(summary) + 1, values_only=True)
    }
    async with sessions() as session:
        engine = await stats.compute(
            session=session, period=stats.Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
            scope=stats.Scope(), tz=app.bot_data["services"].settings.tz,
            today=dt.date(2026, 6, 30),
        )  # fmt: skip
        sex = await reference.labels(session=session, kind=reference.Kind.RESIDENCE)
    engaged = engine.engaged
    assert engaged > 20
    assert lines["Nouvelles personnes accrochées"][:3] == (engaged, None, None)  # the base
    assert lines["Personnes informées"][0] == engine.informed
    women = engine.engaged_by["sex"].get("female", 0)
    assert lines["Femme"][:3] == (
        women,
        pytest.approx(women / engaged),
        "des personnes accrochées",
    )
    assert lines[sex["qpv"]][0] == engine.engaged_by["residence"].get("qpv", 0)
    for title in (
        "Personnes accrochées par sexe", "Personnes accrochées par âge",
        "Personnes accrochées par lieu de résidence", "Personnes accrochées par canal de repérage",
        "Freins (plusieurs par personne)", "Inscription à France Travail",
        "Contact avec un·e référent·e du Réseau pour l'emploi depuis moins de 5 mois",
        "Bénéficiaires du RSA", "Orientations", "Suites des orientations", "Sorties",
        "Événements",
    ):  # fmt: skip
        assert title in lines, title
        row = next(c for c in summary["A"] if c.value == title)
        assert row.font.b, title
    assert lines["Orientations faites"][0] == engine.orientations.total
    assert "Accompagnements démarrés" in lines
    definitions = [row[0] for row in workbook["Définitions"].iter_rows(values_only=True)]
    assert "Public prioritaire O2R" in definitions
    assert "Suivis en retard" in definitions

    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        raw = {name.rsplit("-", 1)[-1]: files.read(name) for name in files.namelist()}
    assert all(content.startswith("\ufeff".encode()) for content in raw.values())
    summary_csv = list(
        csv.reader(io.StringIO(raw["synthese.csv"].decode("utf-8-sig")), delimiter=";")
    )
    women_line = next(line for line in summary_csv if line[:1] == ["Femme"])
    assert re.fullmatch(r"\d+,\d %", women_line[2]), women_line
    people_csv = list(
        csv.reader(io.StringIO(raw["personnes.csv"].decode("utf-8-sig")), delimiter=";")
    )
    assert people_csv[0][:3] == ["Code", "Quartier", "Date d'accrochage"]
    assert all(re.fullmatch(r"\d\d/\d\d/2026", line[2]) for line in people_csv[1:])


async def test_an_export_is_answered_at_once_and_built_in_another_process(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, monkeypatch: Any
) -> None:
    """The tap is answered before any file is built; the files are read and built by another
    process (this one would fail), and another member is served meanwhile."""
    from bot import exports

    def not_here(*_: Any, **__: Any) -> None:
        raise AssertionError("the export was built in the bot's process")

    monkeypatch.setattr(exports, "gather", not_here)
    monkeypatch.setattr(exports, "render", not_here)
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    _, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    _, samia = await add_member(sessions, clock, name="Samia")
    coordinator, mediator = User(app, api, claire), User(app, api, samia)
    await coordinator.send("/export")
    answer = await coordinator.tap("Le mois dernier")
    assert answer.startswith("Préparation de l'export du 01/02/2026 au 28/02/2026…")
    assert "/nouveau" in await mediator.send("/aide")
    xlsx, _ = await export_files(api, claire)
    cover = load_workbook(io.BytesIO(xlsx))["Synthèse"]
    assert "du 01/02/2026 au 28/02/2026" in " ".join(
        str(cell) for row in cover.iter_rows(values_only=True) for cell in row if cell
    )


async def test_a_failed_export_is_said_in_the_chat(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, monkeypatch: Any
) -> None:
    """The button was answered (« Préparation… ») long before the files fail: the coordinator
    is told in the chat, with the period, instead of waiting for files that never come."""
    from bot import exports

    async def broken(_: exports.Request) -> exports.Export:
        raise BrokenProcessPool("the export's process died")

    monkeypatch.setattr(exports, "build", broken)
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    _, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    coordinator = User(app, api, claire)
    await coordinator.send("/export")
    await coordinator.tap("Le mois dernier")
    said = await api.wait_until(
        lambda a: [m for m in a.chat(claire) if "n'a pas pu être préparé" in m.text]
    )
    assert "L'export du 01/02/2026 au 28/02/2026 n'a pas pu être préparé" in said[0].text
    assert "/export" in said[0].text
    assert api.files == []


def test_a_refusal_crosses_from_the_export_process_intact() -> None:
    """Errors come back from the export's process pickled: a refusal keeps its kind and its
    sentence's key and parameters (NotFound once broke the pool instead)."""
    for error in (NotFound(), NotAllowed(), DomainError("period_invalid", day="30/02/2025")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert (back.key, back.params) == (error.key, error.params)


async def test_a_typed_period_exports_that_period_once(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    _, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    coordinator = User(app, api, claire)
    await coordinator.send("/export")
    assert "La date 30/02/2025 n'existe pas" in await coordinator.send("01/02/2025-30/02/2025")
    answer = await coordinator.send("T4 2025")
    assert answer.startswith("Préparation de l'export du 01/10/2025 au 31/12/2025…")
    await export_files(api, claire)
    names = [p[0] for chat, kind, p in api.files if kind == "document"]
    assert names[0] == "aveq-export-2025-10-01-2025-12-31.xlsx"
    # The form is over: a period typed now shows figures, it does not export again.
    assert (await coordinator.send("2025")).startswith("📊 Toute l'équipe · du 01/01/2025")
    assert len([f for f in api.files if f[1] == "document"]) == 2
