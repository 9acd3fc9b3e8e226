"""Working days and reminder hours, computed in the team's time zone (DST included).

A working day is one of the configured week days (`REMINDER_DAYS`) that is not a public holiday
(`PUBLIC_HOLIDAYS`, France's by default, from the `holidays` package).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Container
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

NO_HOLIDAYS: frozenset[dt.date] = frozenset()

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon-sun`, `mon,wed,fri` → weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            start, end = DAY_NAMES.index(first), DAY_NAMES.index(last)
            if end < start:
                raise ValueError(f"day range backwards: {part}")
            days.update(range(start, end + 1))
        else:
            days.add(DAY_NAMES.index(part))
    if not days:
        raise ValueError("no day given")
    return frozenset(days)


def parse_hours(text: str) -> tuple[dt.time, dt.time]:
    """`09:00-18:30` → (09:00, 18:30)."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"hours must look like 09:00-18:30, not {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    if end <= start:
        raise ValueError("the end of the reminder hours must come after their start")
    return start, end


@functools.cache
def public_holidays(spec: str) -> Container[dt.date]:
    """`FR` → France's public holidays (any year, computed on demand); `FR-57` adds a
    subdivision's (Moselle: Good Friday, 26 December); empty → none."""
    spec = spec.strip()
    if not spec:
        return NO_HOLIDAYS
    country, _, subdiv = spec.partition("-")
    try:
        return holiday_calendars.country_holidays(country.upper(), subdiv=subdiv or None)
    except NotImplementedError as exc:
        raise ValueError(f"unknown country or subdivision {spec!r}") from exc


def is_workday(day: dt.date, workdays: frozenset[int], holidays: Container[dt.date]) -> bool:
    """One of the working week days, and not a public holiday."""
    return day.weekday() in workdays and day not in holidays


def add_workdays(
    day: dt.date,
    count: int,
    workdays: frozenset[int],
    holidays: Container[dt.date] = NO_HOLIDAYS,
) -> dt.date:
    """The date `count` working days after `day` (public holidays skipped)."""
    current = day
    remaining = count
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_workday(current, workdays, holidays):
            remaining -= 1
    return current


@dataclass(frozen=True, slots=True)
class ReminderWindow:
    """When the bot may write to a member: working days (public holidays excepted), between
    two local times."""

    start: dt.time
    end: dt.time
    days: frozenset[int]
    tz: ZoneInfo
    holidays: Container[dt.date] = field(default=NO_HOLIDAYS, compare=False, hash=False)

    def is_workday(self, day: dt.date) -> bool:
        """A working week day that is not a public holiday."""
        return is_workday(day, self.days, self.holidays)

    def is_open(self, instant: dt.datetime) -> bool:
        """Whether a reminder may be sent at `instant`."""
        local = instant.astimezone(self.tz)
        return self.is_workday(local.date()) and self.start <= local.time() < self.end

    def opening_on(self, day: dt.date) -> dt.datetime:
        """The window's start on a local date, as a UTC instant."""
        return dt.datetime.combine(day, self.start, tzinfo=self.tz).astimezone(dt.UTC)

    def next_opening(self, instant: dt.datetime) -> dt.datetime:
        """`instant` itself when the window is open, else the next start of the window."""
        if self.is_open(instant):
            return instant
        local = instant.astimezone(self.tz)
        day = local.date()
        if local.time() >= self.start or not self.is_workday(day):
            day += dt.timedelta(days=1)
        for _ in range(366):
            if self.is_workday(day):
                break
            day += dt.timedelta(days=1)
        return self.opening_on(day)

    def last_day_before(self, day: dt.date) -> dt.date:
        """The last reminder day before `day` (a Friday for a Sunday or a Monday event; the
        Thursday before Good Friday... for an event on Easter Monday)."""
        current = day - dt.timedelta(days=1)
        for _ in range(31):
            if self.is_workday(current):
                return current
            current -= dt.timedelta(days=1)
        return day - dt.timedelta(days=1)

    def workdays_later(self, instant: dt.datetime, count: int) -> dt.datetime:
        """The window's start `count` working days after `instant`'s local date."""
        local_day = instant.astimezone(self.tz).date()
        return self.opening_on(add_workdays(local_day, count, self.days, self.holidays))
