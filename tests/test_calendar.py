"""Working days, reminder hours and due dates, across weekends and daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from models.calendar import ReminderWindow, add_workdays, parse_days, parse_hours
from models.orientations import FollowUpPolicy, first_check_at

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
