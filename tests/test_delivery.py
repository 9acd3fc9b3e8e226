"""Delivery never stops at one bad recipient; the digest goes out on time and only to those who
were there; demo members are never written to and can be removed; a departed mediator's people
are handed over."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from bot.app import BotApplication, build_application
from bot.db import Sessions
from bot.settings import Settings
from models import demo, handover, orientations, outreach, team
from models.audit import AuditEvent
from models.errors import DomainError, NotAllowed
from models.events import Event, EventPartner, Registration
from models.orientations import ContactKind, Interaction, Orientation
from models.outreach import OutreachAction
from models.people import Person, PersonBarrier
from models.team import Member, Role
from tests.conftest import TOKEN, Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_followups import orient_directly, reminders_to
from tests.test_settings_and_cli import ROOT, clean_env

PARIS = ZoneInfo("Europe/Paris")
CHAT_NOT_FOUND = (400, "Bad Request: chat not found")
KIND = "street_tour"


def paris(*args: int) -> dt.datetime:
    """A Paris wall-clock time as a UTC instant."""
    return dt.datetime(*args, tzinfo=PARIS).astimezone(dt.UTC)


async def run_job(app: BotApplication, name: str) -> None:
    await app.job_queue.get_jobs_by_name(name)[0].run(app)


def starting(api: FakeBotAPI, chat_id: int, start: str) -> list[str]:
    return [m.text for m in api.chat(chat_id) if m.text.startswith(start)]


def attempts_to(api: FakeBotAPI, chat_id: int) -> int:
    return sum(
        1
        for method, params in api.calls
        if method.startswith("send") and int(params.get("chat_id", 0)) == chat_id
    )


async def member_named(sessions: Sessions, name: str) -> Member:
    async with sessions() as session:
        return (await session.exec(select(Member).where(Member.display_name == name))).one()


# --- One bad recipient -------------------------------------------------------------------------


@pytest.fixture
async def crew(app: BotApplication, sessions: Sessions, clock: Clock) -> dict[str, int]:
    """Three coordinators and three mediators, each with a check due Tuesday 10 March at 10:00.
    Kevin and Bruno sit in the middle of their lists."""
    clock.now = paris(2026, 3, 2, 10, 0)
    ids: dict[str, int] = {}
    for name in ("Claire", "Kevin", "Paul"):
        _, ids[name] = await add_member(
            sessions, clock, role=Role.COORDINATOR, name=name, neighbourhood=None
        )
    clock.now = paris(2026, 3, 3, 10, 0)
    for name, person in (("Amel", "Awa"), ("Bruno", "Binta"), ("Chloé", "Farid")):
        member, ids[name] = await add_member(sessions, clock, name=name)
        person_id = await engage_person(sessions, clock, member, person)
        await orient_directly(app, sessions, clock, member, person_id)
        clock.advance(minutes=1)
    return ids


async def test_a_recipient_telegram_refuses_is_skipped_and_the_others_get_everything(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, crew: dict[str, int]
) -> None:
    kevin, bruno = crew["Kevin"], crew["Bruno"]
    api.refused_chats = {kevin: CHAT_NOT_FOUND, bruno: CHAT_NOT_FOUND}
    clock.now = paris(2026, 3, 9, 9, 0)  # Monday: digest and recaps
    await run_job(app, "weekly_digest")
    for name in ("Claire", "Paul"):
        assert len(starting(api, crew[name], "Bonjour !")) == 1, name
    for name in ("Amel", "Chloé"):
        assert len(starting(api, crew[name], "Votre semaine")) == 1, name
    clock.now = paris(2026, 3, 10, 10, 30)  # Tuesday: the checks are due
    await run_job(app, "reminder_sweep")
    for name in ("Amel", "Chloé"):
        assert len(reminders_to(api, User(app, api, crew[name]))) == 1, name
    assert api.chat(kevin) == []
    assert api.chat(bruno) == []
    for name in ("Kevin", "Bruno"):
        member = await member_named(sessions, name)
        assert member.unreachable_reason == "chat_not_found"
        assert member.unreachable_since == paris(2026, 3, 9, 9, 0)

    # Every coordinator Telegram accepts is told once about each, whatever runs afterwards.
    await run_job(app, "weekly_digest")
    await run_job(app, "reminder_sweep")
    for name in ("Claire", "Paul"):
        notices = starting(api, crew[name], "⚠️ Telegram refuse")
        assert len(notices) == 2, name
        assert any("Kevin" in n and "n'a jamais été démarré" in n for n in notices)
        assert any("Bruno" in n for n in notices)
    claire = User(app, api, crew["Claire"])
    team_list = await claire.send("/equipe")
    kevin_line = next(line for line in team_list.splitlines() if "Kevin" in line)
    assert "injoignable depuis le 09/03/2026" in kevin_line
    assert "injoignable" not in next(ln for ln in team_list.splitlines() if "Paul" in ln)


async def test_a_refused_member_is_retried_after_a_back_off_and_gets_the_digest_once_back(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, crew: dict[str, int]
) -> None:
    kevin = crew["Kevin"]
    api.refused_chats = {kevin: (403, "Forbidden: bot was blocked by the user")}
    clock.now = paris(2026, 3, 9, 9, 0)
    await run_job(app, "weekly_digest")
    assert attempts_to(api, kevin) == 1
    clock.now = paris(2026, 3, 9, 9, 50)  # within the first hour: not tried again
    await run_job(app, "weekly_digest")
    assert attempts_to(api, kevin) == 1
    clock.now = paris(2026, 3, 9, 10, 1)  # after an hour: tried, refused again
    await run_job(app, "weekly_digest")
    assert attempts_to(api, kevin) == 2
    member = await member_named(sessions, "Kevin")
    assert (member.unreachable_reason, member.delivery_failures) == ("blocked", 2)
    assert member.next_delivery_at == paris(2026, 3, 9, 16, 1)  # then six hours
    clock.now = paris(2026, 3, 9, 15, 0)
    await run_job(app, "weekly_digest")
    assert attempts_to(api, kevin) == 2
    api.refused_chats = {}  # Kevin unblocked the bot
    clock.now = paris(2026, 3, 9, 16, 5)
    await run_job(app, "weekly_digest")
    await run_job(app, "weekly_digest")
    assert len(starting(api, kevin, "Bonjour !")) == 1
    member = await member_named(sessions, "Kevin")
    assert (member.unreachable_since, member.delivery_failures) == (None, 0)
    for name in ("Claire", "Paul"):  # told once, in all
        assert len(starting(api, crew[name], "⚠️ Telegram refuse")) == 1
        assert len(starting(api, crew[name], "Bonjour !")) == 1


async def test_only_network_failures_pause_a_run(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, crew: dict[str, int]
) -> None:
    clock.now = paris(2026, 3, 9, 9, 0)
    api.faults["sendMessage"] = [
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    ]
    await run_job(app, "weekly_digest")
    assert starting(api, crew["Paul"], "Bonjour !") == []  # paused at the first recipient
    async with sessions() as session:
        lost = await team.unreachable_members(session=session)
    assert lost == []  # the network is nobody's fault
    await run_job(app, "weekly_digest")
    for name in ("Claire", "Kevin", "Paul"):
        assert len(starting(api, crew[name], "Bonjour !")) == 1, name


# --- The digest's timing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "due"),
    [
        ("0 9 * * mon", dt.datetime(2027, 1, 4, 9, 0, tzinfo=PARIS)),
        ("30 17 * * fri", dt.datetime(2027, 7, 2, 17, 30, tzinfo=PARIS)),  # summer time
    ],
)
async def test_the_digest_fires_at_its_cron_time(
    api: FakeBotAPI, sessions: Sessions, clock: Clock, database_url: str, cron: str,
    due: dt.datetime,
) -> None:  # fmt: skip
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        database_url=database_url,
        digest_cron=cron,
    )
    app = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    (job,) = app.job_queue.get_jobs_by_name("weekly_digest")
    trigger = job.job.trigger
    fires, instant = [], due - dt.timedelta(minutes=15)
    while instant <= due:  # every instant the job fires at in the quarter of an hour before
        instant = trigger.get_next_fire_time(None, instant)
        fires.append(instant)
        instant += dt.timedelta(microseconds=1)
    assert due in fires  # at the minute, not up to ten minutes later
    # And a check just after start catches up a digest missed while the bot was down.
    started = dt.datetime.now(dt.UTC)
    assert trigger.get_next_fire_time(None, started) - started < dt.timedelta(minutes=1)
    # Run at that instant, it sends.
    _, coordinator = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    async with app:
        clock.now = due.astimezone(dt.UTC)
        await run_job(app, "weekly_digest")
    assert len(starting(api, coordinator, "Bonjour !")) == 1


async def test_who_joined_after_the_send_time_waits_for_next_week(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2026, 3, 2, 10, 0)
    _, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    _, amel = await add_member(sessions, clock, name="Amel")
    clock.now = paris(2026, 3, 9, 9, 0)
    await run_job(app, "weekly_digest")
    clock.now = paris(2026, 3, 10, 11, 0)  # Tuesday: two newcomers
    _, nora = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Nora", neighbourhood=None
    )
    _, nadia = await add_member(sessions, clock, name="Nadia")
    clock.advance(minutes=10)
    await run_job(app, "weekly_digest")
    await run_job(app, "weekly_digest")
    assert len(starting(api, claire, "Bonjour !")) == 1
    assert len(starting(api, amel, "Votre semaine")) == 1
    assert api.chat(nora) == []  # no digest of a week before they came
    assert api.chat(nadia) == []  # no all-zero recap
    clock.now = paris(2026, 3, 16, 9, 0)  # next Monday: everyone
    await run_job(app, "weekly_digest")
    assert len(starting(api, nora, "Bonjour !")) == 1
    assert len(starting(api, nadia, "Votre semaine")) == 1
    assert len(starting(api, claire, "Bonjour !")) == 2


# --- Demo data ---------------------------------------------------------------------------------


async def test_demo_members_are_never_written_to(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2026, 3, 1, 10, 0)
    _, claire = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    clock.now = paris(2026, 3, 10, 10, 30)  # a Tuesday morning: every job has work
    async with sessions.begin() as session:
        counts = await demo.generate(
            session=session, size=demo.DemoSize(people=120), now=clock() - dt.timedelta(days=2)
        )
    assert counts["orientations"] > 0
    async with sessions() as session:
        due = (
            await session.exec(
                select(func.count())
                .select_from(Orientation)
                .where(col(Orientation.next_check_at) <= clock())
            )
        ).one()
    assert due > 0  # demo follow-ups are due
    for job in ("weekly_digest", "reminder_sweep", "event_reminders", "weekly_digest"):
        await run_job(app, job)
    assert len(starting(api, claire, "Bonjour !")) == 1  # the jobs did run
    written = {int(p["chat_id"]) for m, p in api.calls if "chat_id" in p}
    assert written == {claire}


async def test_demo_data_remove_deletes_everything_demo_made_and_nothing_else(
    sessions: Sessions, clock: Clock
) -> None:
    mediator, _ = await add_member(sessions, clock, name="Samia")
    coordinator, _ = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    real_person = await engage_person(sessions, clock, mediator, "Amina")
    async with sessions.begin() as session:
        await outreach.record_informed(
            session=session, member=mediator, kind=KIND, informed=4, day=clock().date(),
            today=clock().date(), now=clock(),
        )  # fmt: skip
        counts = await demo.generate(
            session=session, size=demo.DemoSize(people=60), now=clock(), force=True
        )
    async with sessions.begin() as session:  # a real coordinator met a demo person
        demo_person = (
            await session.exec(select(Person).where(Person.id != real_person).limit(1))
        ).one()
        await orientations.record_contact(
            session=session, actor=coordinator, person_id=demo_person.id,
            kind=ContactKind.CALL, note=None, now=clock(),
        )  # fmt: skip
    async with sessions.begin() as session:
        removed = await demo.remove(session=session)
    assert removed["people"] == counts["people"] == 60
    assert removed["events"] == counts["events"]
    assert removed["informed_actions"] == counts["informed_actions"]
    assert removed["orientations"] == counts["orientations"]
    assert removed["interactions"] == counts["interactions"] + 1
    async with sessions() as session:

        async def count(table: Any) -> int:
            return (await session.exec(select(func.count()).select_from(table))).one()

        members = (await session.exec(select(Member.display_name))).all()
        assert sorted(members) == ["Claire", "Samia"]
        assert [p.id for p in (await session.exec(select(Person))).all()] == [real_person]
        assert await count(PersonBarrier) == 0  # the real person was recorded without barrier
        for table in (Orientation, Interaction, Event, EventPartner, Registration):
            assert await count(table) == 0, table
        assert await count(OutreachAction) == 1
    async with sessions.begin() as session:
        assert set((await demo.remove(session=session)).values()) == {0}


def test_demo_data_remove_from_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "aveq.sqlite3"
    env = clean_env(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite+aiosqlite:///{database}")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "demo-data", *args], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    assert cli("--people", "30").returncode == 0
    removed = cli("--remove")
    assert removed.returncode == 0, removed.stderr
    assert "supprimées" in removed.stdout
    assert "30 personnes" in removed.stdout
    with sqlite3.connect(database) as db:
        for table in ("person", "member", "orientation", "event", "outreach_action"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    assert "Aucune donnée de démonstration" in cli("--remove").stdout


# --- A departed mediator's people --------------------------------------------------------------


async def test_a_deactivated_mediator_s_people_are_handed_over(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, coordinator: User
) -> None:
    clock.now = paris(2026, 3, 3, 10, 0)
    samia, samia_id = await add_member(sessions, clock, name="Samia")
    _, karim_id = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    _, paul_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Paul", neighbourhood=None
    )
    people = [await engage_person(sessions, clock, samia, n) for n in ("Amina", "Binta")]
    open_ids = [await orient_directly(app, sessions, clock, samia, p) for p in people]

    await coordinator.send("/equipe")
    assert "Voulez" not in await coordinator.tap("Désactiver Samia")
    deactivated = await coordinator.tap("Oui, désactiver")
    assert "Personnes suivies : 2, suivis en attente : 2" in deactivated
    assert coordinator.labels() == ["Confier les personnes de Samia"]
    told = api.last(paul_id).text  # the other coordinator is told
    assert "Claire Martin a désactivé l'accès de Samia" in told
    assert "/equipe" in told

    team_list = await coordinator.send("/equipe")
    assert "personnes encore à confier" in team_list
    assert "Samia : personnes suivies : 2, suivis en attente : 2" in team_list
    assert "À quel·le médiateur·rice" in await coordinator.tap("Confier les personnes de Samia")
    assert "Karim" in coordinator.labels()
    assert "Samia" not in coordinator.labels()
    assert "Confier à Karim" in await coordinator.tap("Karim")
    assert "confiées à Karim" in await coordinator.tap("Oui, confier")
    assert "vous confie les personnes suivies par Samia" in api.last(karim_id).text

    karim = await member_named(sessions, "Karim")
    async with sessions() as session:
        moved = (await session.exec(select(Person).where(col(Person.id).in_(people)))).all()
        oriented = (
            await session.exec(select(Orientation).where(col(Orientation.id).in_(open_ids)))
        ).all()
        audit = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "handover"))
        ).one()
    assert {p.mediator_id for p in moved} == {karim.id}
    assert {o.mediator_id for o in oriented} == {karim.id}
    assert audit.subject == "Samia"
    assert "Karim" in audit.detail
    assert "personnes encore à confier" not in await coordinator.send("/equipe")

    clock.now = paris(2026, 3, 10, 11, 0)  # the checks fall due: Karim gets them
    await run_job(app, "reminder_sweep")
    assert len(reminders_to(api, User(app, api, karim_id))) == 2
    assert reminders_to(api, User(app, api, samia_id)) == []


async def test_handover_rules(sessions: Sessions, clock: Clock) -> None:
    samia, _ = await add_member(sessions, clock, name="Samia")
    karim, _ = await add_member(sessions, clock, name="Karim")
    coordinator, _ = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    await engage_person(sessions, clock, samia, "Amina")
    async with sessions.begin() as session:
        with pytest.raises(DomainError, match="handover_source_active"):
            await handover.hand_over(
                session=session, actor=coordinator, from_id=samia.id, to_id=karim.id, now=clock()
            )
        await team.deactivate_member(
            session=session, actor=coordinator, member_id=samia.id, now=clock()
        )
        with pytest.raises(NotAllowed):
            await handover.hand_over(
                session=session, actor=karim, from_id=samia.id, to_id=karim.id, now=clock()
            )
        with pytest.raises(DomainError, match="handover_target_invalid"):  # not a mediator
            await handover.hand_over(
                session=session, actor=coordinator, from_id=samia.id, to_id=coordinator.id,
                now=clock(),
            )  # fmt: skip
        stalled = await handover.stalled(session=session)
        assert [(m.display_name, w.people, w.orientations) for m, w in stalled] == [
            ("Samia", 1, 0)
        ]
