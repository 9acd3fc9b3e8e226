"""Dates and numbers as French readers expect them (Babel, fr_FR)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LOCALE = "fr_FR"


def day(value: dt.date | dt.datetime, tz: ZoneInfo) -> str:
    """`25/11/2026` for a date or an instant (shown in the team's time zone)."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(tz).date()
    return format_date(value, format="short", locale=LOCALE)


def long_day(value: dt.date | dt.datetime, tz: ZoneInfo) -> str:
    """`mercredi 25 novembre 2026`."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(tz).date()
    return format_date(value, format="full", locale=LOCALE)


def short_day(value: dt.date) -> str:
    """`ven. 13 mars`: a day of the coming weeks, on a button."""
    return format_date(value, format="EEE d MMM", locale=LOCALE)


def moment(value: dt.datetime, tz: ZoneInfo) -> str:
    """`25/11/2026 14:30` in the team's time zone."""
    return format_datetime(value.astimezone(tz), "dd/MM/yyyy HH:mm", locale=LOCALE)


def number(value: float) -> str:
    """`1 234` with French grouping."""
    return format_decimal(value, locale=LOCALE)


def plural(count: float, one: str, other: str, **fields: object) -> str:
    """`one` or `other` by French plural rules (below 2 takes the singular), `{count}` filled
    in with French grouping, and any other `fields`: « 1 suivi confirmé », « 0 suivi
    confirmé », « 3 suivis confirmés », « 1,5 jour »."""
    form = Locale.parse(LOCALE).plural_form(count)
    return (one if form == "one" else other).format(count=number(count), **fields)
