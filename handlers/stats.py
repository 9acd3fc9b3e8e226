"""`/stats` (figures for a period and a scope) and `/export` (the funders' files).

Coordinators choose the scope (team, neighbourhood, mediator); everybody else sees their own
figures, and a forged button asking for someone else's is refused.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot import digest, exports, keyboards, reports, texts
from bot.callbacks import DigestRef, StatsRef
from bot.context import BotContext
from bot.formatting import day, moment
from handlers import periods as picker
from handlers.common import notice, show
from models import audit, periods, reference, stats, team
from models.base import pk
from models.errors import NotAllowed
from models.stats import Period, Scope, ScopeKind
from models.team import Role

SCOPES: Final = StatsRef("scopes", ScopeKind.TEAM.value, 0, "-")


def own_scope(context: BotContext) -> Scope:
    """The team for coordinators, oneself for everybody else."""
    member = context.member
    if member.is_coordinator:
        return Scope()
    return Scope(ScopeKind.MEDIATOR, pk(member))


def allowed(context: BotContext, scope: Scope) -> bool:
    """Coordinators see any scope; others only their own figures."""
    return context.member.is_coordinator or scope == own_scope(context)


def back_from_period(context: BotContext, scope: Scope) -> StatsRef | None:
    """Where « Retour » leads from a scope's period picker: its list, or the scope menu."""
    if not context.member.is_coordinator:
        return None
    if scope.kind == ScopeKind.TEAM:
        return SCOPES
    return StatsRef("list", scope.kind.value, 0, "-")


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
        await ask_period(update, context, own_scope(context), edit=False)
        return
    await scope_menu(update, context, edit=False)


async def scope_menu(update: Update, context: BotContext, *, edit: bool = True) -> None:
    """Toute l'équipe / Par quartier / Par médiateur·rice."""
    context.member_data.pop(picker.PENDING, None)  # nothing to type a period for yet
    choices = (
        (texts.STATS_SCOPE_TEAM, StatsRef("period", ScopeKind.TEAM.value, 0, "-")),
        (texts.STATS_SCOPE_NEIGHBOURHOOD, StatsRef("list", ScopeKind.NEIGHBOURHOOD.value, 0, "-")),
        (texts.STATS_SCOPE_MEDIATOR, StatsRef("list", ScopeKind.MEDIATOR.value, 0, "-")),
    )
    buttons = [[InlineKeyboardButton(label, callback_data=ref.pack())] for label, ref in choices]
    await show(update, texts.STATS_SCOPE, InlineKeyboardMarkup(buttons), edit=edit)


async def ask_period(
    update: Update, context: BotContext, scope: Scope, *, edit: bool = True
) -> None:
    """The period picker for one scope's figures."""
    label = await scope_label(context, scope)
    await picker.ask(
        update, context, action="show", scope=scope, back=back_from_period(context, scope),
        prompt=texts.STATS_PERIOD.format(scope=label), edit=edit,
    )  # fmt: skip


async def on_button(update: Update, context: BotContext) -> None:
    """Every /stats and /export button; the scope is checked again on each press."""
    ref = StatsRef.unpack(update.callback_query.data if update.callback_query else None)
    if ref is None or ref.kind not in {k.value for k in ScopeKind}:
        await notice(update, texts.STALE_BUTTON)
        return
    scope = Scope(ScopeKind(ref.kind), ref.scope_id or None)
    if ref.action in ("list", "scopes"):
        if not context.member.is_coordinator:
            raise NotAllowed()
        if ref.action == "scopes":
            await scope_menu(update, context)
        else:
            await list_scopes(update, context, scope.kind)
        return
    if not allowed(context, scope) or (
        ref.action == "export" and not context.member.is_coordinator
    ):
        raise NotAllowed()
    if ref.action == "period":
        await ask_period(update, context, scope)
        return
    period = periods.preset(ref.period, context.services.today())
    if period is None or ref.action not in ("show", "export"):
        await notice(update, texts.STALE_BUTTON)
        return
    await use_period(update, context, ref.action, scope, period)


async def use_period(
    update: Update, context: BotContext, action: str, scope: Scope, period: Period
) -> None:
    """The figures, or the export, of the period chosen (by a button or typed)."""
    if action == "export":
        context.member_data.pop(picker.PENDING, None)  # a period typed later exports nothing
        await send_export(update, context, period)
        return
    picker.remember(context, "show", scope)
    markup = picker.keyboard("show", scope, back=back_from_period(context, scope))
    await show(update, await figures_text(context, scope, period), markup)


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
    rows = keyboards.rows(buttons, 1)
    rows.append([InlineKeyboardButton(texts.BACK, callback_data=SCOPES.pack())])
    context.member_data.pop(picker.PENDING, None)
    await show(update, prompt, InlineKeyboardMarkup(rows))


async def figures_text(context: BotContext, scope: Scope, period: Period) -> str:
    """The figures, as text (aggregates only)."""
    services = context.services
    now = services.clock()  # one instant for every figure, late follow-ups included
    async with services.reads() as session:
        figures = await stats.compute(
            session=session, period=period, scope=scope, tz=services.settings.tz,
            today=now.astimezone(services.settings.tz).date(),
            yearly_target=services.settings.yearly_target, parallel=services.reads, now=now,
        )  # fmt: skip
        labels = await reports.load_labels(session=session)
    label = await scope_label(context, scope)
    text = reports.render(figures, labels, scope_label=label, tz=services.settings.tz)
    return reports.split(text)[0]


async def typed_period(update: Update, context: BotContext) -> None:
    """A typed period (`01/01/2026-31/03/2026`, `T1 2026`, `2025`...), for exactly what the
    picker was last shown for (its action and scope), or one's own figures."""
    text = update.effective_message.text if update.effective_message else ""
    action, scope = picker.pending(context) or ("show", own_scope(context))
    if not allowed(context, scope) or (action == "export" and not context.member.is_coordinator):
        action, scope = "show", own_scope(context)
    period = picker.typed(text or "")
    if isinstance(period, str):  # the picker stays as it was: type again or tap
        await show(update, period)
        return
    await use_period(update, context, action, scope, period)


async def export_start(update: Update, context: BotContext) -> None:
    """/export: which period."""
    if not context.member.is_coordinator:
        raise NotAllowed()
    await picker.ask(
        update, context, action="export", scope=Scope(), prompt=texts.EXPORT_PERIOD, back=None,
        edit=False,
    )  # fmt: skip


async def send_export(update: Update, context: BotContext, period: Period) -> None:
    """Answer at once, then build the files in the background: the database read by pages on
    the event loop, the workbook and the zip in a thread (CPU), so that no chat waits."""
    tz = context.services.settings.tz
    span = {"start": day(period.start, tz), "end": day(period.end, tz)}
    await show(update, texts.EXPORT_PREPARING.format(**span))
    chat = update.effective_chat
    if chat is None:
        return
    work = build_and_send(context, chat.id, period)
    if context.application.running:  # PTB awaits it at shutdown; errors reach on_error
        context.application.create_task(work, update=update, name="export")
        return
    with warnings.catch_warnings():  # driven by process_update alone (tests, scripts)
        warnings.simplefilter("ignore", PTBUserWarning)
        context.application.create_task(work, update=update, name="export")


async def build_and_send(context: BotContext, chat_id: int, period: Period) -> None:
    """Read, build off the loop, record who exported which period, send with captions."""
    services = context.services
    tz, now = services.settings.tz, services.clock()
    async with services.reads() as session:
        data = await exports.gather(
            session=session, period=period, tz=tz, today=services.today(), now=now,
            operator=services.settings.operator_name,
            yearly_target=services.settings.yearly_target,
        )  # fmt: skip
    built = await asyncio.to_thread(exports.render, data)
    span = {"start": day(period.start, tz), "end": day(period.end, tz)}
    async with services.sessions.begin() as session:
        await audit.record(
            session=session, at=services.clock(), member_id=context.member.id, action="export",
            subject=texts.EXPORT_AUDIT_SUBJECT.format(**span),
            detail=f"{period.start.isoformat()}..{period.end.isoformat()}",
        )  # fmt: skip
    generated = moment(now, tz)
    await context.bot.send_document(
        chat_id, InputFile(built.xlsx, filename=f"{built.stem}.xlsx"),
        caption=texts.EXPORT_CAPTION_XLSX.format(generated=generated, **span),
    )  # fmt: skip
    await context.bot.send_document(
        chat_id, InputFile(built.zip, filename=f"{built.stem}-csv.zip"),
        caption=texts.EXPORT_CAPTION_ZIP.format(generated=generated, **span),
    )  # fmt: skip


async def on_digest_button(update: Update, context: BotContext) -> None:
    """A digest's breakdown, as a new message under it: coordinators only, checked again on
    every press (a digest forwarded to a mediator, or a group member who is not one)."""
    if not context.member.is_coordinator:
        raise NotAllowed()
    ref = DigestRef.unpack(update.callback_query.data if update.callback_query else None)
    week = digest.week_of_key(ref.week) if ref is not None else None
    if ref is None or week is None or ref.what not in digest.DETAILS:
        await notice(update, texts.STALE_BUTTON)
        return
    services = context.services
    figures = await digest.gather(services, week, services.clock())
    await show(update, digest.detail(ref.what, figures, services), edit=False)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/stats, /export, their buttons, typed periods."""
    return [
        CommandHandler("stats", start),
        CommandHandler("export", export_start),
        CallbackQueryHandler(on_button, pattern=StatsRef.pattern()),
        CallbackQueryHandler(on_digest_button, pattern=DigestRef.pattern()),
        MessageHandler(filters.Regex(periods.LOOKS_LIKE) & ~filters.COMMAND, typed_period),
    ]
