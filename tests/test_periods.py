"""The period step shared by /stats, /export and /comite, and the periods people type."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import texts
from bot.app import BotApplication, build_application
from bot.db import Sessions
from bot.settings import Settings
from handlers import periods as picker
from models import periods, stats
from models.stats import Period, Scope, ScopeKind
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person, kill
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_hostile_input import IN_A_CHAT, typed
from tests.test_reliability import HOSTILE

TODAY = dt.date(2026, 3, 20)


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("week", dt.date(2026, 3, 16), TODAY),
        ("month", dt.date(2026, 3, 1), TODAY),
        ("last_month", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("last_quarter", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        ("year", dt.date(2026, 1, 1), TODAY),
        ("last_year", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("all", periods.PROGRAMME_START, TODAY),
    ],
)
def test_presets(code: str, start: dt.date, end: dt.date) -> None:
    assert periods.preset(code, TODAY) == Period(start, end)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("01/01/2026-31/03/2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (" 1/1/26 au 31/3/26 ", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("01.02.2026 – 15.02.2026", dt.date(2026, 2, 1), dt.date(2026, 2, 15)),
        ("T1 2026", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("t4 2025", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        ("2e trimestre 2026", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        ("S2 2025", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("Février 2024", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("03/2026", dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
    ],
)
def test_typed_periods(text: str, start: dt.date, end: dt.date) -> None:
    assert periods.LOOKS_LIKE.match(text)
    assert periods.parse(text) == Period(start, end)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("31/02/2026-01/03/2026", "La date 31/02/2026 n'existe pas."),
        ("31/03/2026-01/03/2026", "La fin de la période est avant son début."),
        ("T5 2026", "Je n'ai pas compris cette période."),
        ("1850", "L'année doit être entre 2000 et 2100."),
        ("13/2026", "La date 13/2026 n'existe pas."),
        ("01/01/2026-" + "9" * 80, "Je n'ai pas compris cette période."),
    ],
)
def test_wrong_periods_are_explained_in_french(text: str, answer: str) -> None:
    said = picker.typed(text)
    assert isinstance(said, str)
    assert said.startswith(answer)
    assert "Exemples : 01/01/2026-31/03/2026, T1 2026" in said


@given(text=st.one_of(HOSTILE, st.from_regex(periods.LOOKS_LIKE, fullmatch=False)))
def test_any_text_is_a_period_or_a_french_answer(text: str) -> None:
    period = picker.typed(text)  # every refusal's sentence filled in, never another error
    if isinstance(period, str):
        assert period.endswith(texts.PERIOD_EXAMPLES)
    else:
        assert period.start <= period.end
        assert periods.FIRST_YEAR <= period.start.year <= period.end.year <= periods.LAST_YEAR


@given(
    first=st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)),
    second=st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)),
    separator=st.sampled_from(["-", " - ", " au ", "–", " à "]),
)
def test_a_written_range_reads_back_as_itself(
    first: dt.date, second: dt.date, separator: str
) -> None:
    start, end = sorted((first, second))
    text = f"{start:%d/%m/%Y}{separator}{end:%d/%m/%Y}"
    assert periods.parse(text) == Period(start, end)


@given(year=st.integers(2000, 2100), quarter=st.integers(1, 4))
def test_quarters_and_years(year: int, quarter: int) -> None:
    period = periods.parse(f"T{quarter} {year}")
    assert period.start == dt.date(year, 3 * quarter - 2, 1)
    assert period.end.month == 3 * quarter
    assert (period.end + dt.timedelta(days=1)).day == 1
    assert periods.parse(str(year)) == Period(dt.date(year, 1, 1), dt.date(year, 12, 31))


@pytest.fixture
async def people(sessions: Sessions, clock: Clock) -> dict[str, Any]:
    clock.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    samia, samia_id = await add_member(sessions, clock, name="Samia")
    karim, _ = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    claire_member, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    for name in ("Amina", "Binta"):
        await engage_person(sessions, clock, samia, name)
    await engage_person(sessions, clock, karim, "Yanis")
    clock.now = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)
    return {"samia": samia_id, "claire": claire, "claire_member": claire_member.id}


async def test_a_typed_period_applies_to_the_scope_last_chosen(
    app: BotApplication, api: FakeBotAPI, people: dict[str, Any]
) -> None:
    """The bug of the issue: a period typed after choosing a mediator showed the scope of the
    previous button pressed (here the 19e Sud)."""
    claire = User(app, api, people["claire"])
    await claire.send("/stats")
    await claire.tap("Par quartier")
    await claire.tap("19e Sud")
    assert (await claire.tap("Cette année")).startswith("📊 Quartier 19e Sud")
    assert await claire.tap("◀ Retour") == texts.STATS_PICK_NEIGHBOURHOOD
    assert texts.BACK in claire.labels()
    assert (await claire.tap("◀ Retour")) == texts.STATS_SCOPE
    await claire.tap("Par médiateur·rice")
    assert "Samia : quelle période" in await claire.tap("Samia")
    assert claire.labels() == [
        *texts.PERIOD_PRESETS.values(), texts.BACK, texts.CANCEL,
    ]  # fmt: skip
    figures = await claire.send("01/03/2026-31/03/2026")
    assert figures.startswith("📊 Samia · du 01/03/2026 au 31/03/2026")
    assert "Nouvelles personnes accrochées : 2" in figures
    # A wrong period is explained and loses nothing: the next one is for Samia still.
    assert "n'existe pas" in await claire.send("30/02/2026-31/03/2026")
    assert (await claire.send("T1 2026")).startswith("📊 Samia · du 01/01/2026 au 31/03/2026")
    last_quarter = await claire.tap("Le trimestre dernier")
    assert last_quarter.startswith("📊 Samia · du 01/10/2025 au 31/12/2025")
    # Closed: the figures stay, without their buttons; a period typed now is one's own.
    assert await claire.tap(texts.CANCEL) == last_quarter
    assert claire.labels() == []
    assert (await claire.send("T1 2026")).startswith("📊 Toute l'équipe")


async def test_a_mediator_cannot_type_their_way_to_someone_else(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, people: dict[str, Any]
) -> None:
    samia = User(app, api, people["samia"])
    await samia.send("/stats")
    assert "◀ Retour" not in samia.labels()  # her period step is the first screen
    assert (await samia.send("2026")).startswith("📊 Samia")
    # A coordinator who becomes a mediator with the team's figures open sees them no more.
    claire = User(app, api, people["claire"])
    await claire.send("/stats")
    assert (await claire.tap("Toute l'équipe")).startswith("Toute l'équipe : quelle période")
    assert (await claire.send("2026")).startswith("📊 Toute l'équipe")
    async with sessions.begin() as session:
        (await session.get_one(Member, people["claire_member"])).role = Role.MEDIATOR
    refused = await claire.tap("Le mois dernier")
    assert refused.startswith("Vous ne pouvez pas")
    assert "📊" not in refused
    assert "Vous ne pouvez pas" in await claire.send("2025")


async def test_figures_left_open_expire_without_a_word(
    app: BotApplication, api: FakeBotAPI, clock: Clock, people: dict[str, Any]
) -> None:
    """The figures stay open for another period; once idle, /stats ends without telling the
    member a « saisie » was abandoned (nothing was being typed), unlike a form left half done."""
    samia = User(app, api, people["samia"])
    await samia.send("/stats")
    assert (await samia.tap("Ce mois")).startswith("📊 Samia")
    said = len(api.chat(samia.id))
    clock.advance(minutes=16)
    await app.job_queue.get_jobs_by_name("expire_idle_drafts")[0].run(app)
    assert len(api.chat(samia.id)) == said
    await samia.send("/stats")
    assert "Samia : quelle période" in samia.last.text


async def test_figures_left_open_survive_a_restart(
    settings: Settings, sessions: Sessions, clock: Clock, people: dict[str, Any]
) -> None:
    telegram = FakeBotAPI()
    first = build_application(settings, sessions, request=RecordingRequest(telegram), clock=clock)
    await first.initialize()
    claire = User(first, telegram, people["claire"])
    await claire.send("/stats")
    await claire.tap("Par médiateur·rice")
    await claire.tap("Samia")
    assert (await claire.tap("Ce mois")).startswith("📊 Samia · du 01/03/2026 au 20/03/2026")
    kill(first)  # no shutdown, no flush

    second = build_application(settings, sessions, request=RecordingRequest(telegram), clock=clock)
    async with second:
        again = User(second, telegram, people["claire"])
        assert (await again.send("T4 2025")).startswith("📊 Samia · du 01/10/2025 au 31/12/2025")
        assert await again.tap("◀ Retour") == texts.STATS_PICK_MEDIATOR


def test_only_coordinators_choose_whose_figures() -> None:
    samia = Member(id=7, telegram_user_id=70, display_name="Samia", role=Role.MEDIATOR)
    claire = Member(id=8, telegram_user_id=80, display_name="Claire", role=Role.COORDINATOR)
    karim = Scope(ScopeKind.MEDIATOR, 9)
    assert stats.own_scope(samia) == Scope(ScopeKind.MEDIATOR, 7)
    assert stats.may_see(samia, Scope(ScopeKind.MEDIATOR, 7))
    assert not stats.may_see(samia, karim)
    assert not stats.may_see(samia, Scope())
    assert stats.own_scope(claire) == Scope()
    assert stats.may_see(claire, karim)
    assert stats.may_choose_scope(claire)
    assert not stats.may_export(samia)
    assert stats.may_export(claire)


@settings(IN_A_CHAT, max_examples=20)
@given(text=st.from_regex(periods.LOOKS_LIKE, fullmatch=False).filter(lambda t: t.strip()))
async def test_hostile_typed_periods_get_an_answer(
    app: BotApplication, api: FakeBotAPI, people: dict[str, Any], text: str
) -> None:
    claire = User(app, api, people["claire"])
    before = len(api.chat(claire.id))
    await claire.process(typed(claire, text.lstrip("/") or "2026"))
    answers = api.chat(claire.id)[before:]
    assert len(answers) == 1
    assert answers[0].text.startswith("📊") or "Exemples" in answers[0].text
