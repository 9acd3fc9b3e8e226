"""Working days and reminder hours, computed in the team's time zone (DST included)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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


def add_workdays(day: dt.date, count: int, workdays: frozenset[int]) -> dt.date:
    """The date `count` working days after `day`."""
    current = day
    remaining = count
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() in workdays:
            remaining -= 1
    return current


@dataclass(frozen=True, slots=True)
class ReminderWindow:
    """When the bot may write to a member: working days, between two local times."""

    start: dt.time
    end: dt.time
    days: frozenset[int]
    tz: ZoneInfo

    def is_open(self, instant: dt.datetime) -> bool:
        """Whether a reminder may be sent at `instant`."""
        local = instant.astimezone(self.tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def opening_on(self, day: dt.date) -> dt.datetime:
        """The window's start on a local date, as a UTC instant."""
        return dt.datetime.combine(day, self.start, tzinfo=self.tz).astimezone(dt.UTC)

    def next_opening(self, instant: dt.datetime) -> dt.datetime:
        """`instant` itself when the window is open, else the next start of the window."""
        if self.is_open(instant):
            return instant
        local = instant.astimezone(self.tz)
        day = local.date()
        if local.time() >= self.start or day.weekday() not in self.days:
            day += dt.timedelta(days=1)
        while day.weekday() not in self.days:
            day += dt.timedelta(days=1)
        return self.opening_on(day)

    def last_day_before(self, day: dt.date) -> dt.date:
        """The last reminder day before `day` (a Friday for a Sunday or a Monday event)."""
        current = day - dt.timedelta(days=1)
        for _ in range(7):
            if current.weekday() in self.days:
                return current
            current -= dt.timedelta(days=1)
        return day - dt.timedelta(days=1)

    def workdays_later(self, instant: dt.datetime, count: int) -> dt.datetime:
        """The window's start `count` working days after `instant`'s local date."""
        local_day = instant.astimezone(self.tz).date()
        return self.opening_on(add_workdays(local_day, count, self.days))
