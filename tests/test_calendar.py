"""Working days, reminder hours and due dates, across weekends and daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlmodel import select

from bot.app import BotApplication
from bot.db import Sessions
from bot.settings import Settings
from models.calendar import (
    ReminderWindow,
    add_workdays,
    parse_days,
    parse_hours,
    public_holidays,
)
from models.orientations import FollowUpPolicy, Orientation, first_check_at
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI
from tests.test_followups import orient_directly, reminders_to, sweep

PARIS = ZoneInfo("Europe/Paris")
WINDOW = ReminderWindow(
    start=dt.time(9), end=dt.time(18, 30), days=parse_days("mon-fri"), tz=PARIS
)


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def test_parsing() -> None:
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("mon-sun") == frozenset(range(7))
    assert parse_days("mon,wed") == frozenset({0, 2})
    assert parse_hours("09:00-18:30") == (dt.time(9), dt.time(18, 30))
    with pytest.raises(ValueError, match="after their start"):
        parse_hours("18:00-09:00")
    with pytest.raises(ValueError, match="must look like"):
        parse_hours("9h-18h")
    with pytest.raises(ValueError, match="not in tuple"):
        parse_days("lundi-vendredi")


@pytest.mark.parametrize(
    ("instant", "expected_open"),
    [
        (paris(2026, 3, 10, 8, 59), False),
        (paris(2026, 3, 10, 9, 0), True),
        (paris(2026, 3, 10, 18, 29), True),
        (paris(2026, 3, 10, 18, 30), False),
        (paris(2026, 3, 14, 11, 0), False),  # Saturday
        (paris(2026, 3, 30, 9, 30), True),  # the Monday after the spring change
        (paris(2026, 10, 26, 9, 30), True),  # the Monday after the autumn change
    ],
)
def test_window(instant: dt.datetime, expected_open: bool) -> None:
    assert WINDOW.is_open(instant) is expected_open


def test_a_check_due_at_night_or_at_the_weekend_goes_out_the_next_working_morning() -> None:
    assert WINDOW.next_opening(paris(2026, 3, 10, 20, 0)) == paris(2026, 3, 11, 9, 0)
    assert WINDOW.next_opening(paris(2026, 3, 13, 19, 0)) == paris(2026, 3, 16, 9, 0)
    assert WINDOW.next_opening(paris(2026, 3, 14, 7, 0)) == paris(2026, 3, 16, 9, 0)
    assert WINDOW.next_opening(paris(2026, 3, 16, 7, 0)) == paris(2026, 3, 16, 9, 0)


def test_daylight_saving_weeks_keep_nine_o_clock_local() -> None:
    # Spring forward on Sunday 29 March 2026, fall back on Sunday 25 October 2026.
    spring = WINDOW.next_opening(paris(2026, 3, 27, 19, 0))
    autumn = WINDOW.next_opening(paris(2026, 10, 23, 19, 0))
    assert spring.astimezone(dt.UTC) == dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)
    assert autumn.astimezone(dt.UTC) == dt.datetime(2026, 10, 26, 8, 0, tzinfo=dt.UTC)


def test_follow_up_dates() -> None:
    policy = FollowUpPolicy(window=WINDOW)
    created = paris(2026, 3, 10, 15, 0).astimezone(dt.UTC)
    # Appointment on Thursday: two working days later is Monday, 9:00 Paris.
    due = first_check_at(created_at=created, appointment_on=dt.date(2026, 3, 12), policy=policy)
    assert due == paris(2026, 3, 16, 9, 0)
    # No appointment: seven days after the orientation.
    due = first_check_at(created_at=created, appointment_on=None, policy=policy)
    assert due == created + dt.timedelta(days=7)
    # Delay 0: due at once.
    now_policy = FollowUpPolicy(window=WINDOW, delay_days=0)
    assert first_check_at(created_at=created, appointment_on=None, policy=now_policy) == created
    assert add_workdays(dt.date(2026, 3, 27), 1, WINDOW.days) == dt.date(2026, 3, 30)


# --- French public holidays (issue 13, item 13) ---------------------------------------------

FR_WINDOW = ReminderWindow(
    start=dt.time(9),
    end=dt.time(18, 30),
    days=parse_days("mon-fri"),
    tz=PARIS,
    holidays=public_holidays("FR"),
)


@pytest.mark.parametrize(
    "holiday",
    [
        dt.date(2026, 4, 6),  # Easter Monday
        dt.date(2026, 5, 1),
        dt.date(2026, 5, 8),
        dt.date(2026, 5, 14),  # Ascension
        dt.date(2026, 5, 25),  # Whit Monday
        dt.date(2026, 7, 14),
        dt.date(2026, 12, 25),
        dt.date(2027, 3, 29),  # Easter Monday
        dt.date(2027, 5, 6),  # Ascension
        dt.date(2027, 5, 17),  # Whit Monday
        dt.date(2027, 11, 11),
    ],
)
def test_no_reminder_on_a_french_public_holiday(holiday: dt.date) -> None:
    assert holiday.weekday() < 5  # a week day, quiet only because it is a holiday
    assert not FR_WINDOW.is_open(paris(holiday.year, holiday.month, holiday.day, 10, 0))
    assert FR_WINDOW.next_opening(
        paris(holiday.year, holiday.month, holiday.day, 10, 0)
    ).date() > (holiday)
    assert WINDOW.is_open(paris(holiday.year, holiday.month, holiday.day, 10, 0))  # none set


def test_due_dates_and_resends_skip_public_holidays() -> None:
    policy = FollowUpPolicy(window=FR_WINDOW)
    created = paris(2026, 3, 30, 15, 0).astimezone(dt.UTC)
    # Appointment Thursday 2 April 2026: Friday 3, (Easter Monday 6), Tuesday 7.
    due = first_check_at(created_at=created, appointment_on=dt.date(2026, 4, 2), policy=policy)
    assert due == paris(2026, 4, 7, 9, 0)
    # Appointment Friday 26 March 2027: Easter Monday 29 skipped → Tuesday 30, Wednesday 31.
    due = first_check_at(created_at=created, appointment_on=dt.date(2027, 3, 26), policy=policy)
    assert due == paris(2027, 3, 31, 9, 0)
    # A reminder on Wednesday 13 May 2026 is re-sent three working days later: Ascension
    # Thursday 14 skipped → Friday 15, Monday 18, Tuesday 19.
    assert FR_WINDOW.workdays_later(paris(2026, 5, 13, 10, 0), 3) == paris(2026, 5, 19, 9, 0)
    # Wednesday 5 May 2027, three working days: (Ascension 6), Friday 7, Monday 10, Tuesday 11.
    assert FR_WINDOW.workdays_later(paris(2027, 5, 5, 10, 0), 3) == paris(2027, 5, 11, 9, 0)
    # A check falling due over the Whit weekend goes out on Tuesday.
    assert FR_WINDOW.next_opening(paris(2026, 5, 23, 12, 0)) == paris(2026, 5, 26, 9, 0)
    assert FR_WINDOW.next_opening(paris(2027, 5, 14, 19, 0)) == paris(2027, 5, 18, 9, 0)
    # Christmas on a Friday 2026: Thursday 24 → Monday 28.
    assert FR_WINDOW.next_opening(paris(2026, 12, 24, 19, 0)) == paris(2026, 12, 28, 9, 0)
    # The eve of an event on Tuesday after Easter Monday is the Friday before.
    assert FR_WINDOW.last_day_before(dt.date(2026, 4, 7)) == dt.date(2026, 4, 3)
    assert FR_WINDOW.last_day_before(dt.date(2027, 5, 7)) == dt.date(2027, 5, 5)


def test_public_holidays_setting() -> None:
    def window(**env: str) -> ReminderWindow:
        return Settings(_env_file=None, **env).reminder_window  # type: ignore[call-arg,arg-type]

    easter_monday = paris(2026, 4, 6, 10, 0)
    assert not window().is_open(easter_monday)  # FR by default
    assert window(public_holidays="").is_open(easter_monday)  # empty: disabled
    good_friday = paris(2026, 4, 3, 10, 0)
    assert window().is_open(good_friday)
    assert not window(public_holidays="FR-57").is_open(good_friday)  # Alsace-Moselle
    with pytest.raises(ValidationError, match="unknown country"):
        window(public_holidays="XX")


async def test_a_check_due_on_easter_monday_2027_goes_out_on_tuesday(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = paris(2027, 3, 22, 10, 0).astimezone(dt.UTC)  # a week before Easter Monday
    member, user_id = await add_member(sessions, clock)
    person_id = await engage_person(sessions, clock, member)
    await orient_directly(app, sessions, clock, member, person_id)  # due 7 days later
    user = User(app, api, user_id)
    clock.now = paris(2027, 3, 29, 11, 0).astimezone(dt.UTC)
    await sweep(app)
    assert reminders_to(api, user) == []
    clock.now = paris(2027, 3, 30, 9, 0).astimezone(dt.UTC)
    await sweep(app)
    assert len(reminders_to(api, user)) == 1
    # Not answered: re-sent three working days later (Wednesday 31, Thursday 1, Friday 2).
    async with sessions() as session:
        orientation = (await session.exec(select(Orientation))).one()
    assert orientation.next_check_at == paris(2027, 4, 2, 9, 0)
