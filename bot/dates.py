"""Reading the dates and times people type: `12/03`, `12/03/2026`, `12-03-26`, `lundi`,
`demain`; `14h`, `14h30`, `14:30`."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
RELATIVE = {"aujourd'hui": 0, "aujourdhui": 0, "auj": 0, "demain": 1, "hier": -1}
_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2}|\d{4}))?$")
_TIME = re.compile(r"^(\d{1,2})\s*(?:h|:|heures?)?\s*(\d{2})?$")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def parse_day(text: str, *, today: dt.date, past: bool) -> dt.date | None:
    """The date meant by `text`, or None. A weekday or a day without a year is the nearest one
    in the past when `past` (what happened), in the future otherwise (what is planned)."""
    plain = _plain(text)
    if plain in RELATIVE:
        return today + dt.timedelta(days=RELATIVE[plain])
    if plain in WEEKDAYS:
        delta = (WEEKDAYS.index(plain) - today.weekday()) % 7
        if past:
            return today - dt.timedelta(days=(7 - delta) % 7)
        return today + dt.timedelta(days=delta)
    match = _NUMERIC.match(plain)
    if not match:
        return None
    day_, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    try:
        if year is not None:
            full_year = int(year) + 2000 if len(year) == 2 else int(year)
            return dt.date(full_year, month, day_)
        guess = dt.date(today.year, month, day_)
    except ValueError:
        return None
    if past and guess > today:
        return _same_day_other_year(guess, -1)
    if not past and guess < today - dt.timedelta(days=31):
        return _same_day_other_year(guess, +1)
    return guess


def _same_day_other_year(day: dt.date, step: int) -> dt.date | None:
    try:
        return day.replace(year=day.year + step)
    except ValueError:  # 29 February
        return None


def parse_time(text: str) -> dt.time | None:
    """`14h`, `14h30`, `14:30`, `9` → a time of day, or None."""
    match = _TIME.match(text.strip().lower())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        return None
    return dt.time(hours, minutes)
