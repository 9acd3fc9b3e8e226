"""The reminder sweep: quiet hours, downtime, restarts, and Telegram saying 429."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.app import BotApplication, build_application
from bot.context import services_of
from bot.db import Sessions
from bot.settings import Settings
from models import orientations
from models.orientations import Orientation
from models.team import Member
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_followups import orient_directly, reminders_to, sweep


def paris(*args: int) -> dt.datetime:
    """A March 2026 Paris wall-clock time (UTC+1) as a UTC instant."""
    return dt.datetime(*args, tzinfo=dt.UTC) - dt.timedelta(hours=1)


async def setup_due(
    app: BotApplication, sessions: Sessions, clock: Clock, count: int, spacing_minutes: int
) -> tuple[int, list[int]]:
    """`count` orientations falling due `spacing_minutes` apart; returns the chat and ids."""
    member, user_id = await add_member(sessions, clock)
    ids = []
    for i in range(count):
        person_id = await engage_person(sessions, clock, member, f"Awa{i}")
        ids.append(await orient_directly(app, sessions, clock, member, person_id))
        clock.advance(minutes=spacing_minutes)
    return user_id, ids


async def test_after_two_hours_of_downtime_every_due_check_is_sent_once_in_order(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock, settings: Settings
) -> None:
    clock.now = paris(2026, 3, 3, 9, 0)
    user_id, ids = await setup_due(app, sessions, clock, count=5, spacing_minutes=20)
    # Due from Tuesday 10 at 9:00 to 10:20. The bot is down from 9:00 to 11:00.
    clock.now = paris(2026, 3, 10, 11, 0)
    await services_of(app).leadership.release()  # the first process is gone
    restarted = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    async with restarted:
        await sweep(restarted)
        await sweep(restarted)  # a second sweep finds nothing more
    user = User(app, api, user_id)
    sent = reminders_to(api, user)
    assert [text.split("\n")[0] for text in sent] == [
        f"Point à faire : P-000{i + 1} Awa{i}" for i in range(5)
    ]
    async with sessions() as session:
        rows = (await session.exec(select(Orientation).order_by(Orientation.id))).all()
    assert [o.reminders_sent for o in rows] == [1] * 5
    assert [o.id for o in rows] == ids


async def test_quiet_hours_and_weekends(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2026, 3, 6, 19, 0)  # a Friday evening
    user_id, _ = await setup_due(app, sessions, clock, count=1, spacing_minutes=0)
    user = User(app, api, user_id)
    for instant in (
        paris(2026, 3, 13, 19, 5),
        paris(2026, 3, 14, 10, 0),
        paris(2026, 3, 16, 8, 59),
    ):
        clock.now = instant
        await sweep(app)
        assert reminders_to(api, user) == []
    clock.now = paris(2026, 3, 16, 9, 0)  # Monday morning
    await sweep(app)
    assert len(reminders_to(api, user)) == 1


async def test_weekend_days_when_configured(
    api: FakeBotAPI, sessions: Sessions, clock: Clock, database_url: str
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token="1:x",
        database_url=database_url,
        reminder_days="mon-sun",
        followup_delay_days=0,
    )
    app = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    async with app:
        clock.now = paris(2026, 3, 14, 10, 0)  # Saturday
        user_id, _ = await setup_due(app, sessions, clock, count=1, spacing_minutes=0)
        await sweep(app)
        assert len(reminders_to(api, User(app, api, user_id))) == 1


async def test_429_then_200_delivers_and_records_once(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2026, 3, 3, 10, 0)
    user_id, [orientation_id] = await setup_due(app, sessions, clock, count=1, spacing_minutes=0)
    clock.now = paris(2026, 3, 10, 10, 30)
    api.faults["sendMessage"] = [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        )
    ]
    await sweep(app)
    attempts = [c for c in api.method_calls("sendMessage") if c["chat_id"] == user_id]
    assert len(attempts) == 2  # refused once, then delivered
    assert len(reminders_to(api, User(app, api, user_id))) == 1
    async with sessions() as session:
        orientation = await session.get_one(Orientation, orientation_id)
    assert orientation.reminders_sent == 1


async def test_network_down_keeps_the_reminder_for_the_next_sweep(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2026, 3, 3, 10, 0)
    user_id, [orientation_id] = await setup_due(app, sessions, clock, count=1, spacing_minutes=0)
    clock.now = paris(2026, 3, 10, 10, 30)
    api.faults["sendMessage"] = [
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    ]
    await sweep(app)
    async with sessions() as session:
        assert (await session.get_one(Orientation, orientation_id)).reminders_sent == 0
    clock.advance(minutes=5)
    await sweep(app)
    assert len(reminders_to(api, User(app, api, user_id))) == 1


async def test_a_member_who_blocked_the_bot_does_not_stall_the_others(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2026, 3, 3, 10, 0)
    blocked_id, [blocked_orientation] = await setup_due(app, sessions, clock, 1, 0)
    other_id, _ = await setup_due(app, sessions, clock, 1, 0)
    clock.now = paris(2026, 3, 10, 11, 0)
    api.faults["sendMessage"] = [
        (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"})
    ]
    await sweep(app)
    assert len(reminders_to(api, User(app, api, other_id))) == 1
    async with sessions() as session:
        postponed = await session.get_one(Orientation, blocked_orientation)
        members = (await session.exec(select(Member))).all()
    assert postponed.reminders_sent == 0
    assert postponed.next_check_at == services_of(app).settings.reminder_window.workdays_later(
        clock(), 1
    )
    assert len(members) == 2
    assert blocked_id != other_id


async def test_a_check_answered_while_its_reminder_is_on_the_way_stays_closed(
    app: BotApplication, sessions: Sessions, clock: Clock
) -> None:
    """The sweep claims due checks, then sends outside any transaction: a mediator may answer in
    between. Recording the send must not re-arm a closed orientation, and the claim is dropped."""
    clock.now = paris(2026, 3, 3, 9, 0)
    await setup_due(app, sessions, clock, count=1, spacing_minutes=0)
    clock.now = paris(2026, 3, 10, 10, 0)
    policy = services_of(app).settings.followup_policy
    async with sessions.begin() as session:
        claimed = await orientations.claim_due_checks(session=session, now=clock(), limit=10)
    assert len(claimed) == 1
    async with sessions.begin() as session:  # a second sweep meanwhile finds nothing to send
        assert await orientations.claim_due_checks(session=session, now=clock(), limit=10) == []
    async with sessions.begin() as session:
        orientation = await session.get_one(Orientation, claimed[0])
        member = await session.get_one(Member, orientation.mediator_id)
        await orientations.answer(
            session=session, actor=member, orientation_id=claimed[0],
            action=orientations.Answer.STARTED, seq=orientation.seq, now=clock(),
        )  # fmt: skip
    async with sessions.begin() as session:
        await orientations.finish_reminder(
            session=session, orientation_id=claimed[0], now=clock(), policy=policy,
            delivered=True,
        )  # fmt: skip
    async with sessions() as session:
        orientation = await session.get_one(Orientation, claimed[0])
    assert orientation.outcome == "started"
    assert (orientation.next_check_at, orientation.reminders_sent) == (None, 0)
    assert orientation.claimed_until is None
