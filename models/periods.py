"""Periods for /stats, /export and /comite: the presets behind the buttons, and the periods
people type (`01/01/2026-31/03/2026`, `T1 2026`, `2025`, `mars 2026`).

`parse` never raises anything but `PeriodInvalid`, whose `key` names the French sentence that
says what was wrong (tested with hypothesis on hostile input).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Final

from models.errors import DomainError
from models.stats import Period, month_of, week_of, year_of

PROGRAMME_START: Final = dt.date(2022, 11, 1)
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_TYPED: Final = 60
PRESETS: Final = (
    "week", "month", "last_month", "last_quarter", "year", "last_year", "all",
)  # fmt: skip
MONTHS: Final = (
    "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
    "octobre", "novembre", "decembre",
)  # fmt: skip

_DATE = r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})"
_RANGE = re.compile(rf"^{_DATE}\s*(?:-|–|—|au|a|jusqu'au|>)\s*{_DATE}$")
_QUARTER = re.compile(
    r"^(?:t|q|trimestre\s*)([1-4])\s*(\d{4})$|^([1-4])\s*(?:er|e|eme)?\s*trimestre\s*(\d{4})$"
)
_SEMESTER = re.compile(r"^s([12])\s*(\d{4})$|^([12])\s*(?:er|e|eme)?\s*semestre\s*(\d{4})$")
_YEAR = re.compile(r"^(?:annee\s*)?(\d{4})$")
_MONTH = re.compile(rf"^({'|'.join(MONTHS)})\s*(\d{{4}})$|^(\d{{1,2}})\s*/\s*(\d{{4}})$")
# What looks like an attempt at a period (the handler answers only these, so that a stray
# number typed outside any question is not taken for one).
LOOKS_LIKE: Final = re.compile(
    r"^\s*(?:\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]|\d{1,2}\s*/\s*\d{4}|[TtQqSs]\s*\d+\s+\d|"
    r"\d{4}\s*$|[1-4]\s*(?:er|e|ème|eme)?\s*(?:trimestre|semestre)|(?:trimestre|semestre|"
    r"ann[ée]e)\b|(?:"
    + "|".join(MONTHS).replace("fevrier", "f[ée]vrier").replace("aout", "ao[uû]t")
    + r"|d[ée]cembre)\s+\d)",
    re.IGNORECASE,
)


class PeriodInvalid(DomainError):
    """A typed period that cannot be used; `key` says why (texts.PERIOD_ERRORS)."""


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain.replace("’", "'"))


def quarter_of(day: dt.date) -> Period:
    """The calendar quarter of `day`."""
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return Period(first, month_of(dt.date(first.year, first.month + 2, 1)).end)


def preset(code: str, today: dt.date) -> Period | None:
    """The period a button names (None for an unknown code). Current periods end today."""
    if code == "week":
        return Period(week_of(today).start, today)
    if code == "month":
        return Period(month_of(today).start, today)
    if code == "last_month":
        return month_of(month_of(today).start - dt.timedelta(days=1))
    if code == "last_quarter":
        return quarter_of(quarter_of(today).start - dt.timedelta(days=1))
    if code == "year":
        return Period(year_of(today).start, today)
    if code == "last_year":
        return year_of(dt.date(today.year - 1, 1, 1))
    if code == "all":
        return Period(min(PROGRAMME_START, today), today)
    return None


def as_answer(period: Period) -> str:
    """A typed period as a form keeps it (JSON): `2026-01-01..2026-03-31`."""
    return f"{period.start.isoformat()}..{period.end.isoformat()}"


def answered(answer: str, today: dt.date) -> Period | None:
    """The period a form's answer names: a preset's code (as of `today`) or a typed period
    kept by `as_answer`; None for anything else."""
    found = preset(answer, today)
    if found is not None:
        return found
    start, separator, end = answer.partition("..")
    try:
        period = Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    except ValueError:
        return None
    return period if separator and period.start <= period.end else None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodInvalid("period_year", first=FIRST_YEAR, last=LAST_YEAR)
    return year


def _day(day: str, month: str, year: str) -> dt.date:
    try:
        return dt.date(_year(year), int(month), int(day))
    except ValueError:
        raise PeriodInvalid("period_date", day=f"{day}/{month}/{year}") from None


def parse(text: str) -> Period:
    """The period `text` names, or PeriodInvalid saying why not."""
    if len(text) > MAX_TYPED:
        raise PeriodInvalid("period_format")
    plain = _plain(text)
    if match := _RANGE.match(plain):
        start, end = _day(*match.groups()[:3]), _day(*match.groups()[3:])
        if end < start:
            raise PeriodInvalid("period_order")
        return Period(start, end)
    if match := _QUARTER.match(plain):
        quarter, year = (g for g in match.groups() if g is not None)
        first = dt.date(_year(year), 3 * int(quarter) - 2, 1)
        return quarter_of(first)
    if match := _SEMESTER.match(plain):
        half, year = (g for g in match.groups() if g is not None)
        start = dt.date(_year(year), 1 if half == "1" else 7, 1)
        end = dt.date(start.year, 6, 30) if half == "1" else dt.date(start.year, 12, 31)
        return Period(start, end)
    if match := _YEAR.match(plain):
        return year_of(dt.date(_year(match.group(1)), 1, 1))
    if match := _MONTH.match(plain):
        name, year, number, year2 = match.groups()
        month = MONTHS.index(name) + 1 if name else int(number)
        if not 1 <= month <= 12:
            raise PeriodInvalid("period_date", day=f"{number}/{year2}")
        return month_of(dt.date(_year(year or year2), month, 1))
    raise PeriodInvalid("period_format")
