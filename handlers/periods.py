"""The period step shared by the forms of /stats, /export and /comite: seven buttons (this
week, this month, last month, last quarter, this year, last year, since the start) or a typed
period (`01/01/2026-31/03/2026`, `T1 2026`, `2025`), refused with the reason in French.

The answer is kept as the preset's code, or the typed period's dates
(`models.periods.as_answer`); `chosen` gives the period back when the form finishes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from bot import texts
from handlers.forms import Answers, Asked, Choice
from models import periods
from models.errors import DomainError
from models.stats import Period

PERIOD: Final = "period"
OPTIONS: Final = tuple((code, texts.PERIOD_PRESETS[code]) for code in periods.PRESETS)


def typed(text: str) -> Period | str:
    """The period typed, or the French sentence saying what is wrong with it."""
    try:
        return periods.parse(text)
    except periods.PeriodInvalid as error:
        return texts.PERIOD_ERRORS[error.key].format(**error.params) + texts.PERIOD_EXAMPLES


def read(text: str, asked: Asked) -> str:
    """A typed period, as the form keeps it; refused with the reason and examples."""
    period = typed(text)
    if isinstance(period, str):
        raise DomainError("period_invalid", reason=period)
    return periods.as_answer(period)


def step(question: str | Callable[[Asked], str]) -> Choice:
    """The period step, under `question` (which names what the period is for)."""

    def prompt(asked: Asked) -> str:
        asking = question if isinstance(question, str) else question(asked)
        return f"{asking}\n{texts.PERIOD_HINT}"

    return Choice(
        name=PERIOD,
        prompt=prompt,
        options=OPTIONS,
        read=read,
    )


def chosen(answers: Answers, today: dt.date) -> Period:
    """The period answered, as of `today` (« this month » is the month it is used in)."""
    period = periods.answered(str(answers.get(PERIOD, "")), today)
    if period is None:
        raise DomainError("choice_invalid")
    return period
