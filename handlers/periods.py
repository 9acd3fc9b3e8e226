"""The period picker shared by /stats and /export: seven buttons (this week, this month, last
month, last quarter, this year, last year, since the start), « Retour », or a typed period
(`01/01/2026-31/03/2026`, `T1 2026`, `2025`).

The picker remembers, in the member's data, what it was shown for (the action and the scope):
a period typed next applies to exactly that, whichever button was pressed before. When the
form engine lands, this becomes one of its step types.
"""

from __future__ import annotations

from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import keyboards, texts
from bot.callbacks import StatsRef
from bot.context import BotContext
from handlers.common import show
from models import periods
from models.stats import Period, Scope, ScopeKind

PENDING: Final = "period_picker"


def keyboard(action: str, scope: Scope, *, back: StatsRef | None) -> InlineKeyboardMarkup:
    """One button per preset, two per row, then « Retour » when there is somewhere to go."""
    buttons = [
        InlineKeyboardButton(
            texts.PERIOD_PRESETS[code],
            callback_data=StatsRef(action, scope.kind.value, scope.id or 0, code).pack(),
        )
        for code in periods.PRESETS
    ]
    rows = keyboards.rows(buttons, 2)
    if back is not None:
        rows.append([InlineKeyboardButton(texts.BACK, callback_data=back.pack())])
    return InlineKeyboardMarkup(rows)


def remember(context: BotContext, action: str, scope: Scope) -> None:
    """What a typed period will apply to."""
    context.member_data[PENDING] = [action, scope.kind.value, scope.id or 0]


def pending(context: BotContext) -> tuple[str, Scope] | None:
    """The action and scope the picker was last shown for, if any."""
    stored: Any = context.member_data.get(PENDING)
    if not isinstance(stored, list) or len(stored) != 3:
        return None
    action, kind, scope_id = stored
    if kind not in {k.value for k in ScopeKind}:
        return None
    return str(action), Scope(ScopeKind(kind), int(scope_id) or None)


async def ask(
    update: Update,
    context: BotContext,
    *,
    action: str,
    scope: Scope,
    prompt: str,
    back: StatsRef | None,
    edit: bool = True,
) -> None:
    """Show the picker under `prompt` and remember what it is for."""
    remember(context, action, scope)
    await show(
        update, f"{prompt}\n{texts.PERIOD_HINT}", keyboard(action, scope, back=back), edit=edit
    )


def typed(text: str) -> Period | str:
    """The period typed, or the French sentence saying what is wrong with it."""
    try:
        return periods.parse(text)
    except periods.PeriodInvalid as error:
        return texts.PERIOD_ERRORS[error.key].format(**error.params) + texts.PERIOD_EXAMPLES
