"""The indicator engine on a small data set whose figures are written here by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot import reports
from bot.db import Sessions, make_read_sessions
from models import orientations, outreach, people, reference, stats
from models.calendar import ReminderWindow, parse_days
from models.orientations import Answer as Reply
from models.orientations import ExitReason, FollowUpPolicy, Mode, Orientation, Purpose
from models.people import Answer, Profile, Sex
from models.reference import Neighbourhood, Partner
from models.stats import Period, Scope, ScopeKind
from models.team import Member
from tests.conftest import Clock, add_member

PARIS = ZoneInfo("Europe/Paris")
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
POLICY = FollowUpPolicy(
    window=ReminderWindow(dt.time(9), dt.time(18, 30), parse_days("mon-fri"), PARIS)
)


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS).astimezone(dt.UTC)


async def engage(sessions: Sessions, member: Member, when: dt.datetime, **profile: object) -> int:
    defaults: dict[str, object] = {
        "first_name": "X",
        "sex": Sex.FEMALE,
        "age_bracket": "26_44",
        "residence": "qpv",
        "channel": "word_of_mouth",
        "registered_ft": Answer.NO,
    }
    defaults.update(profile)
    async with sessions.begin() as session:
        person = await people.engage(
            session=session,
            mediator=member,
            profile=Profile(**defaults),
            now=when,  # type: ignore[arg-type]
        )
        return person.id or 0


async def orient(
    sessions: Sessions, member: Member, person_id: int, partner: str, purpose: Purpose,
    when: dt.datetime, reply: Reply | None = None,
) -> None:  # fmt: skip
    async with sessions.begin() as session:
        partner_id = (await session.exec(select(Partner.id).where(Partner.code == partner))).one()
        made = await orientations.orient(
            session=session, actor=member, person_id=person_id, partner_id=partner_id,
            purpose=purpose, mode=Mode.INFORMATION, appointment_on=None, note=None,
            now=when, today=when.date(), policy=POLICY,
        )  # fmt: skip
        if reply is not None:
            await orientations.answer(
                session=session, actor=member, orientation_id=made.id, action=reply,
                seq=made.seq, now=when + dt.timedelta(days=7),
            )  # fmt: skip


async def inform(sessions: Sessions, member: Member, day: dt.date, count: int) -> None:
    async with sessions.begin() as session:
        await outreach.record_informed(
            session=session, member=member, kind="street_tour", informed=count, day=day,
            today=day, now=paris(day.year, day.month, day.day, 12),
        )  # fmt: skip


@pytest.fixture
async def data(sessions: Sessions, clock: Clock) -> dict[str, int]:
    samia, _ = await add_member(sessions, clock, name="Samia")
    karim, _ = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    p1 = await engage(
        sessions, samia, paris(2026, 3, 2, 10), age_bracket="under_26",
        registered_ft=Answer.YES, referent_contact_5m=Answer.NO,
        barriers=["french", "no_qualification"],
    )  # fmt: skip
    # The last evening of March in Paris: inside the period.
    p2 = await engage(
        sessions, samia, paris(2026, 3, 31, 23, 30), channel="public_space",
        residence="near_qpv", sex=Sex.MALE, barriers=["french"],
    )  # fmt: skip
    p3 = await engage(
        sessions, karim, paris(2026, 3, 15, 11), channel="drop_in", residence="qva",
        age_bracket="45_54", registered_ft=Answer.YES, referent_contact_5m=Answer.YES,
        barriers=["mobility"],
    )  # fmt: skip
    # 00:30 on 1 April in Paris is still 31 March in UTC: outside March for the team.
    await engage(sessions, samia, paris(2026, 4, 1, 0, 30))
    await engage(sessions, karim, paris(2026, 2, 28, 16))
    await inform(sessions, samia, dt.date(2026, 3, 5), 10)
    await inform(sessions, karim, dt.date(2026, 3, 20), 5)
    await inform(sessions, samia, dt.date(2026, 4, 1), 7)
    await orient(
        sessions,
        samia,
        p1,
        "france-travail",
        Purpose.SUPPORT,
        paris(2026, 3, 3, 10),
        Reply.STARTED,
    )
    await orient(
        sessions, karim, p3, "plie-paris", Purpose.TRAINING, paris(2026, 3, 16, 10), Reply.NO_SHOW
    )
    await orient(
        sessions, samia, p2, "mission-locale-paris", Purpose.JOB, paris(2026, 3, 31, 23, 45)
    )
    async with sessions.begin() as session:
        await orientations.exit_person(
            session=session, actor=karim, person_id=p3, reason=ExitReason.MOVED,
            on=dt.date(2026, 3, 25), today=dt.date(2026, 3, 25), now=paris(2026, 3, 25, 12),
        )  # fmt: skip
        nbh = (
            await session.exec(select(Neighbourhood.id).where(Neighbourhood.code == "19e-sud"))
        ).one()
    return {"samia": samia.id or 0, "karim": karim.id or 0, "19e-sud": nbh}


async def figures(sessions: Sessions, scope: Scope, period: Period = MARCH) -> stats.Indicators:
    async with sessions() as session:
        return await stats.compute(
            session=session, period=period, scope=scope, tz=PARIS, today=dt.date(2026, 4, 1)
        )


async def test_team_figures_for_march(sessions: Sessions, data: dict[str, int]) -> None:
    team = await figures(sessions, Scope())
    assert team.informed == 15
    assert team.engaged == 3
    assert team.engaged_by["channel"] == {"word_of_mouth": 1, "public_space": 1, "drop_in": 1}
    assert team.engaged_by["residence"] == {"qpv": 1, "near_qpv": 1, "qva": 1}
    assert team.engaged_by["age_bracket"] == {"under_26": 1, "26_44": 1, "45_54": 1}
    assert team.engaged_by["sex"] == {"female": 2, "male": 1}
    assert team.engaged_by["neighbourhood"] == {
        "La Chapelle Nord": 2,
        "19e Sud (Danube, Chaufourniers, Algérie)": 1,
    }
    assert team.engaged_by["mediator"] == {"Samia": 2, "Karim": 1}
    assert team.barriers == [("french", 2), ("mobility", 1), ("no_qualification", 1)]
    assert (team.registered, team.accompanied, team.o2r_priority) == (2, 1, 2)
    assert team.orientations.total == 3
    assert team.orientations.by_category == {"france_travail": 1, "plie": 1, "mission_locale": 1}
    assert team.orientations.by_purpose == {"support": 1, "training": 1, "job": 1}
    assert team.orientations.by_outcome == {"started": 1, "no_show": 1}
    assert team.orientations.rate(orientations.Outcome.STARTED) == 0.5
    assert team.exits_by_reason == {"moved": 1}
    assert team.followups == {"Samia": stats.FollowUpFigures(pending=1, late=0, unanswered=0)}
    assert team.year_engaged == 5
    assert team.weeks_left == 39
    assert team.weekly_pace_needed == pytest.approx(795 / 39)


async def test_mediator_and_neighbourhood_scopes(sessions: Sessions, data: dict[str, int]) -> None:
    samia = await figures(sessions, Scope(ScopeKind.MEDIATOR, data["samia"]))
    assert (samia.informed, samia.engaged, samia.orientations.total) == (10, 2, 2)
    assert samia.engaged_by["mediator"] == {"Samia": 2}
    assert samia.exits_by_reason == {}
    assert samia.year_engaged == 3
    karim_area = await figures(sessions, Scope(ScopeKind.NEIGHBOURHOOD, data["19e-sud"]))
    assert (karim_area.informed, karim_area.engaged) == (5, 1)
    assert karim_area.exits_by_reason == {"moved": 1}
    assert karim_area.orientations.by_outcome == {"no_show": 1}
    assert karim_area.followups == {}


async def test_period_boundaries_follow_paris_time(
    sessions: Sessions, data: dict[str, int]
) -> None:
    last_day = await figures(sessions, Scope(), Period(dt.date(2026, 3, 31), dt.date(2026, 3, 31)))
    assert last_day.engaged == 1
    april_first = await figures(
        sessions, Scope(), Period(dt.date(2026, 4, 1), dt.date(2026, 4, 1))
    )
    assert (april_first.engaged, april_first.informed) == (1, 7)


async def test_parallel_reads_give_the_same_figures(
    engine: AsyncEngine, sessions: Sessions, data: dict[str, int]
) -> None:
    sequential = await figures(sessions, Scope())
    async with sessions() as session:
        parallel = await stats.compute(
            session=session, period=MARCH, scope=Scope(), tz=PARIS, today=dt.date(2026, 4, 1),
            parallel=make_read_sessions(engine),
        )  # fmt: skip
    assert parallel == sequential


async def test_late_has_one_meaning_a_check_date_passed_without_an_answer(
    sessions: Sessions, data: dict[str, int]
) -> None:
    """The figures count as late exactly what /suivis shows as late (`needs_update`); the
    follow-ups whose reminders were ignored twice are a second, narrower figure."""
    march = await figures(sessions, Scope())
    assert march.followups["Samia"].late == 0  # due on 7 April: not late on 1 April
    later = paris(2026, 4, 20, 12)
    async with sessions() as session:
        at_20_april = await stats.compute(
            session=session, period=MARCH, scope=Scope(), tz=PARIS, today=later.date(),
            now=later,
        )  # fmt: skip
        open_ones = (
            await session.exec(select(Orientation).where(col(Orientation.outcome).is_(None)))
        ).all()
    assert at_20_april.followups == {
        "Samia": stats.FollowUpFigures(pending=1, late=1, unanswered=0)
    }
    assert sum(o.needs_update(later) for o in open_ones) == 1
    async with sessions.begin() as session:
        for orientation in (await session.exec(select(Orientation))).all():
            if orientation.outcome is None:
                orientation.overdue = True
    async with sessions() as session:
        ignored = await stats.compute(
            session=session, period=MARCH, scope=Scope(), tz=PARIS, today=later.date(),
            now=later,
        )  # fmt: skip
    assert ignored.followups["Samia"] == stats.FollowUpFigures(pending=1, late=1, unanswered=1)
    text = reports.followup_line(ignored.followups)
    assert text.startswith("Suivis en retard (date passée, sans réponse) : Samia 1")
    assert "sans réponse après deux relances : 1" in text


async def test_each_scope_has_its_own_target_never_the_team_s(
    sessions: Sessions, data: dict[str, int]
) -> None:
    samia = await figures(sessions, Scope(ScopeKind.MEDIATOR, data["samia"]))
    assert samia.yearly_target == 400  # 800 shared by the two active mediators
    assert "Objectif de l'année : 3 / 400" in reports.target_line(samia)
    area = await figures(sessions, Scope(ScopeKind.NEIGHBOURHOOD, data["19e-sud"]))
    assert area.yearly_target is None
    assert (
        reports.target_line(area)
        == "Dans l'année : 2 personnes accrochées (pas d'objectif propre)"
    )
    assert (await figures(sessions, Scope())).yearly_target == 800
    async with sessions.begin() as session:
        (await session.get_one(Neighbourhood, data["19e-sud"])).yearly_target = 120
    area = await figures(sessions, Scope(ScopeKind.NEIGHBOURHOOD, data["19e-sud"]))
    karim = await figures(sessions, Scope(ScopeKind.MEDIATOR, data["karim"]))
    samia = await figures(sessions, Scope(ScopeKind.MEDIATOR, data["samia"]))
    assert (area.yearly_target, karim.yearly_target, samia.yearly_target) == (120, 120, 680)
    assert "Objectif de l'année : 2 / 120" in reports.target_line(area)


async def test_neighbourhood_targets_come_from_the_reference_file(
    sessions: Sessions, tmp_path: Path
) -> None:
    text = reference.REFERENCE_FILE.read_text(encoding="utf-8").replace(
        'code = "porte-de-vanves"', 'code = "porte-de-vanves"\nyearly_target = 90', 1
    )
    edited = tmp_path / "reference_data.toml"
    edited.write_text(text, encoding="utf-8")
    async with sessions.begin() as session:
        await reference.load_reference_data(session=session, path=edited)
    async with sessions() as session:
        found = {n.code: n.yearly_target for n in await reference.neighbourhoods(session=session)}
    assert found["porte-de-vanves"] == 90
    assert found["19e-sud"] is None
    async with sessions.begin() as session:  # the target removed from the file: gone
        await reference.load_reference_data(session=session)
    async with sessions() as session:
        found = {n.code: n.yearly_target for n in await reference.neighbourhoods(session=session)}
    assert found["porte-de-vanves"] is None
