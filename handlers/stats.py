"""`/stats` (figures for a period and a scope) and `/export` (the funders' files).

Coordinators choose the scope (team, neighbourhood, mediator); everybody else sees their own
figures, and a forged button asking for someone else's is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import exports, keyboards, reports, texts
from bot.callbacks import StatsRef
from bot.context import BotContext
from bot.formatting import day
from handlers.common import notice, show
from models import audit, reference, stats, team
from models.base import pk
from models.errors import NotAllowed
from models.stats import Period, Scope, ScopeKind
from models.team import Role

PROGRAMME_START: Final = dt.date(2022, 11, 1)
RANGE: Final = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*(?:-|–|au|à)\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$"
)
LAST_SCOPE: Final = "stats_scope"


def period_for(code: str, today: dt.date) -> Period | None:
    """The period a button names."""
    if code == "week":
        return Period(stats.week_of(today).start, today)
    if code == "month":
        return Period(stats.month_of(today).start, today)
    if code == "year":
        return Period(stats.year_of(today).start, today)
    if code == "all":
        return Period(PROGRAMME_START, today)
    return None


def parse_range(text: str) -> Period | None:
    """`01/01/2026-31/03/2026` → a period, or None (impossible dates, end before start)."""
    match = RANGE.match(text)
    if not match:
        return None
    d1, m1, y1, d2, m2, y2 = (int(g) for g in match.groups())
    try:
        start, end = dt.date(y1, m1, d1), dt.date(y2, m2, d2)
    except ValueError:
        return None
    return Period(start, end) if start <= end else None


def own_scope(context: BotContext) -> Scope:
    """The team for coordinators, oneself for everybody else."""
    member = context.member
    if member.is_coordinator:
        return Scope()
    return Scope(ScopeKind.MEDIATOR, pk(member))


def allowed(context: BotContext, scope: Scope) -> bool:
    """Coordinators see any scope; others only their own figures."""
    return context.member.is_coordinator or scope == own_scope(context)


def period_keyboard(action: str, scope: Scope) -> InlineKeyboardMarkup:
    """Cette semaine / Ce mois / Cette année / Depuis le début."""
    buttons = [
        InlineKeyboardButton(
            label, callback_data=StatsRef(action, scope.kind.value, scope.id or 0, code).pack()
        )
        for code, label in texts.PERIOD_LABELS.items()
    ]
    return InlineKeyboardMarkup(keyboards.rows(buttons, 2))


async def scope_label(context: BotContext, scope: Scope) -> str:
    """How a scope is named in a title."""
    async with context.services.reads() as session:
        if scope.kind == ScopeKind.NEIGHBOURHOOD:
            found = await session.get(reference.Neighbourhood, scope.id)
            return texts.SCOPE_NEIGHBOURHOOD.format(name=found.name if found else "?")
        if scope.kind == ScopeKind.MEDIATOR:
            member = await session.get(team.Member, scope.id)
            return texts.SCOPE_MEDIATOR.format(name=member.display_name if member else "?")
    return texts.SCOPE_TEAM


async def start(update: Update, context: BotContext) -> None:
    """/stats: coordinators choose a scope; others go straight to the period."""
    if not context.member.is_coordinator:
        scope = own_scope(context)
        label = await scope_label(context, scope)
        await show(update, texts.STATS_PERIOD.format(scope=label), period_keyboard("show", scope))
        return
    choices = (
        (texts.STATS_SCOPE_TEAM, StatsRef("period", ScopeKind.TEAM.value, 0, "-")),
        (texts.STATS_SCOPE_NEIGHBOURHOOD, StatsRef("list", ScopeKind.NEIGHBOURHOOD.value, 0, "-")),
        (texts.STATS_SCOPE_MEDIATOR, StatsRef("list", ScopeKind.MEDIATOR.value, 0, "-")),
    )
    buttons = [[InlineKeyboardButton(label, callback_data=ref.pack())] for label, ref in choices]
    await show(update, texts.STATS_SCOPE, InlineKeyboardMarkup(buttons))


async def on_button(update: Update, context: BotContext) -> None:
    """Every /stats and /export button; the scope is checked again on each press."""
    ref = StatsRef.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None or ref.kind not in {k.value for k in ScopeKind}:
        await notice(update, texts.STALE_BUTTON)
        return
    scope = Scope(ScopeKind(ref.kind), ref.scope_id or None)
    if ref.action == "list":
        await list_scopes(update, context, scope.kind)
        return
    if not allowed(context, scope) or (
        ref.action == "export" and not context.member.is_coordinator
    ):
        raise NotAllowed()
    if ref.action == "period":
        label = await scope_label(context, scope)
        await show(update, texts.STATS_PERIOD.format(scope=label), period_keyboard("show", scope))
        return
    period = period_for(ref.period, context.services.today())
    if period is None:
        await notice(update, texts.STALE_BUTTON)
        return
    if ref.action == "show":
        context.member_data[LAST_SCOPE] = [scope.kind.value, scope.id or 0]
        await show(
            update, await figures_text(context, scope, period), period_keyboard("show", scope)
        )
    elif ref.action == "export":
        await send_export(update, context, period)
    else:
        await notice(update, texts.STALE_BUTTON)


async def list_scopes(update: Update, context: BotContext, kind: ScopeKind) -> None:
    """Neighbourhoods or mediators as buttons (coordinators only)."""
    if not context.member.is_coordinator:
        raise NotAllowed()
    async with context.services.reads() as session:
        if kind == ScopeKind.NEIGHBOURHOOD:
            options = [(n.id, n.name) for n in await reference.neighbourhoods(session=session)]
            prompt = texts.STATS_PICK_NEIGHBOURHOOD
        else:
            members = await team.list_members(session=session)
            options = [(m.id, m.display_name) for m in members if m.role == Role.MEDIATOR]
            prompt = texts.STATS_PICK_MEDIATOR
    buttons = [
        InlineKeyboardButton(
            name, callback_data=StatsRef("period", kind.value, oid or 0, "-").pack()
        )
        for oid, name in options
    ]
    await show(update, prompt, InlineKeyboardMarkup(keyboards.rows(buttons, 1)))


async def figures_text(context: BotContext, scope: Scope, period: Period) -> str:
    """The figures, as text (aggregates only)."""
    services = context.services
    async with services.reads() as session:
        figures = await stats.compute(
            session=session, period=period, scope=scope, tz=services.settings.tz,
            today=services.today(), yearly_target=services.settings.yearly_target,
            parallel=services.reads,
        )  # fmt: skip
        labels = await reports.load_labels(session=session)
    label = await scope_label(context, scope)
    text = reports.render(figures, labels, scope_label=label, tz=services.settings.tz)
    return reports.split(text)[0]


async def typed_range(update: Update, context: BotContext) -> None:
    """A typed period (01/01/2026-31/03/2026), for the scope chosen last (or one's own)."""
    text = update.effective_message.text if update.effective_message else ""
    period = parse_range(text or "")
    if period is None:
        await show(update, texts.STATS_RANGE_INVALID)
        return
    stored = context.member_data.get(LAST_SCOPE)
    scope = Scope(ScopeKind(stored[0]), stored[1] or None) if stored else own_scope(context)
    if not allowed(context, scope):
        scope = own_scope(context)
    await show(update, await figures_text(context, scope, period), period_keyboard("show", scope))


async def export_start(update: Update, context: BotContext) -> None:
    """/export: which period."""
    await show(update, texts.EXPORT_PERIOD, period_keyboard("export", Scope()))


async def send_export(update: Update, context: BotContext, period: Period) -> None:
    """Build the workbook and the zip, record who exported what, send both."""
    services = context.services
    async with services.sessions.begin() as session:
        built = await exports.build(
            session=session, period=period, tz=services.settings.tz, today=services.today()
        )
        await audit.record(
            session=session, at=services.clock(), member_id=context.member.id, action="export",
            detail=f"{period.start.isoformat()}..{period.end.isoformat()}",
        )  # fmt: skip
    tz = services.settings.tz
    await show(
        update, texts.EXPORT_READY.format(start=day(period.start, tz), end=day(period.end, tz))
    )
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_document(InputFile(built.xlsx, filename=f"{built.stem}.xlsx"))
    await chat.send_document(InputFile(built.zip, filename=f"{built.stem}-csv.zip"))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/stats, /export, their buttons, typed periods."""
    return [
        CommandHandler("stats", start),
        CommandHandler("export", export_start),
        CallbackQueryHandler(on_button, pattern=StatsRef.pattern()),
        MessageHandler(filters.Regex(RANGE) & ~filters.COMMAND, typed_range),
    ]
