"""`/stats` (figures for a period and a scope) and `/export` (the funders' files), as forms.

Coordinators choose the scope (Toute l'équipe, a neighbourhood, a mediator), then the period;
everybody else sees their own figures and is asked only the period (`models.stats` says who
sees what, and is asked again when the figures are shown). The figures stay above the period
step: another period is one tap, or one typed period, away; « Retour » leads to another scope.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot import digest, exports, reports, texts
from bot.callbacks import DigestRef
from bot.context import BotContext
from bot.formatting import day, moment
from handlers import periods as picker
from handlers.common import notice, show
from handlers.forms import Answers, Asked, Choice, Finished, Form, FormEngine, Option
from models import audit, periods, reference, stats, team
from models.errors import NotAllowed
from models.stats import Period, Scope, ScopeKind
from models.team import Role

SCOPE, NEIGHBOURHOOD, MEDIATOR = "scope", "neighbourhood", "mediator"
CHOOSES, LABEL = "chooses", "label"  # in the answers: may choose a scope; the scope's name


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


# --- /stats ----------------------------------------------------------------------------------
async def begin(update: Update, context: BotContext) -> Answers:
    """Coordinators choose a scope; everybody else goes straight to their own period."""
    member = context.member
    if stats.may_choose_scope(member):
        return {CHOOSES: True}
    return {LABEL: await scope_label(context, stats.own_scope(member))}


SCOPES: Final = (
    (ScopeKind.TEAM.value, texts.STATS_SCOPE_TEAM),
    (ScopeKind.NEIGHBOURHOOD.value, texts.STATS_SCOPE_NEIGHBOURHOOD),
    (ScopeKind.MEDIATOR.value, texts.STATS_SCOPE_MEDIATOR),
)


async def scope_chosen(value: Any, asked: Asked) -> Answers:
    """The team is named at once; a neighbourhood or a mediator once chosen."""
    return {LABEL: texts.SCOPE_TEAM} if value == ScopeKind.TEAM.value else {}


async def neighbourhoods(asked: Asked) -> list[Option]:
    return [(str(n.id), n.name) for n in await asked.context.services.reference.neighbourhoods()]


async def mediators(asked: Asked) -> list[Option]:
    async with asked.context.services.reads() as session:
        members = await team.list_members(session=session)
    return [(str(m.id), m.display_name) for m in members if m.role == Role.MEDIATOR]


def one_of(
    kind: ScopeKind,
    prompt: str,
    options: Callable[[Asked], Awaitable[list[Option]]],
    label: str,
) -> Choice:
    """The step naming one neighbourhood or one mediator (`kind`), for a coordinator who chose
    that kind of scope; the name chosen is kept for the questions (`label`)."""

    async def named(value: Any, asked: Asked) -> Answers:
        return {LABEL: label.format(name=dict(await options(asked)).get(str(value), "?"))}

    return Choice(
        name=NEIGHBOURHOOD if kind == ScopeKind.NEIGHBOURHOOD else MEDIATOR,
        prompt=prompt,
        options=options,
        columns=1,
        applies=lambda answers: bool(answers.get(CHOOSES)) and answers.get(SCOPE) == kind.value,
        accept=named,
    )


def scope_of(answers: Answers, context: BotContext) -> Scope:
    """The scope answered (a coordinator's choice), or the member's own."""
    kind = answers.get(SCOPE) if answers.get(CHOOSES) else None
    if kind == ScopeKind.NEIGHBOURHOOD.value:
        return Scope(ScopeKind.NEIGHBOURHOOD, int(answers[NEIGHBOURHOOD]))
    if kind == ScopeKind.MEDIATOR.value:
        return Scope(ScopeKind.MEDIATOR, int(answers[MEDIATOR]))
    if kind == ScopeKind.TEAM.value:
        return Scope()
    return stats.own_scope(context.member)


async def show_figures(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """The figures of the scope and period chosen, with the period asked again under them;
    the scope is checked again (a member who is no longer a coordinator, a forged draft)."""
    scope = scope_of(answers, context)
    if not stats.may_see(context.member, scope):
        raise NotAllowed()
    period = picker.chosen(answers, context.services.today())
    return Finished(await figures_text(context, scope, period), again=picker.PERIOD)


STATS: Final = Form(
    key="st",
    command="stats",
    begin=begin,
    steps=(
        Choice(
            name=SCOPE,
            prompt=texts.STATS_SCOPE,
            options=SCOPES,
            columns=1,
            applies=lambda answers: bool(answers.get(CHOOSES)),
            resets=(NEIGHBOURHOOD, MEDIATOR),
            accept=scope_chosen,
        ),
        one_of(
            ScopeKind.NEIGHBOURHOOD,
            texts.STATS_PICK_NEIGHBOURHOOD,
            neighbourhoods,
            texts.SCOPE_NEIGHBOURHOOD,
        ),
        one_of(ScopeKind.MEDIATOR, texts.STATS_PICK_MEDIATOR, mediators, texts.SCOPE_MEDIATOR),
        picker.step(lambda asked: texts.STATS_PERIOD.format(scope=asked.answers.get(LABEL, ""))),
    ),
    finish=show_figures,
)


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
    """A period typed outside any conversation (`T1 2026`, `2025`...): one's own figures (the
    team's for coordinators); inside /stats, the form reads it for the scope chosen."""
    text = update.effective_message.text if update.effective_message else ""
    period = picker.typed(text or "")
    if isinstance(period, str):
        await show(update, period)
        return
    await show(update, await figures_text(context, stats.own_scope(context.member), period))


# --- /export ---------------------------------------------------------------------------------
async def export_begin(update: Update, context: BotContext) -> Answers:
    """Coordinators only."""
    if not stats.may_export(context.member):
        raise NotAllowed()
    return {}


async def export(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """« Préparation de l'export… » at once; the files follow, built in the background."""
    if not stats.may_export(context.member):
        raise NotAllowed()
    period = picker.chosen(answers, context.services.today())
    tz = context.services.settings.tz
    text = texts.EXPORT_PREPARING.format(start=day(period.start, tz), end=day(period.end, tz))

    async def then(update: Update) -> None:
        await send_export(update, context, period)

    return Finished(text, then=then)


EXPORT: Final = Form(
    key="xp",
    command="export",
    begin=export_begin,
    steps=(picker.step(texts.EXPORT_PERIOD),),
    finish=export,
)


async def send_export(update: Update, context: BotContext, period: Period) -> None:
    """Once the member is told: build the files in the background, in a process of their own
    (`exports.build`), so that no chat waits."""
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
    """Build in another process, record who exported which period, send with captions."""
    services = context.services
    tz, now = services.settings.tz, services.clock()
    span = {"start": day(period.start, tz), "end": day(period.end, tz)}
    request = exports.Request(
        database_url=services.read_engine.url.render_as_string(hide_password=False),
        period=period, tz=tz.key, today=services.today(), now=now,
        operator=services.settings.operator_name, yearly_target=services.settings.yearly_target,
    )  # fmt: skip
    try:
        built = await exports.build(request)
    except Exception:
        # The button was answered long ago (« Préparation… »): say so in the chat, then let
        # `on_error` log it with its reference.
        await context.bot.send_message(chat_id, texts.EXPORT_FAILED.format(**span))
        raise
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
    ref = DigestRef.pressed(update)
    week = digest.week_of_key(ref.week) if ref is not None else None
    if ref is None or week is None or ref.what not in digest.DETAILS:
        await notice(update, texts.STALE_BUTTON)
        return
    services = context.services
    figures = await digest.gather(services, week, services.clock())
    await show(update, digest.detail(ref.what, figures, services), edit=False)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/export and /stats (the export first: a period typed for it is never taken for one
    of /stats' figures left open), digest buttons, a period typed outside them."""
    return [
        *FormEngine(EXPORT).handlers(),
        *FormEngine(STATS).handlers(),
        CallbackQueryHandler(on_digest_button, pattern=DigestRef.pattern()),
        MessageHandler(filters.Regex(periods.LOOKS_LIKE) & ~filters.COMMAND, typed_period),
    ]
