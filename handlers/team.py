"""The team: `/inviter` (coordinators), `/equipe`, deactivation."""

from __future__ import annotations

import contextlib
from typing import Any, Final
from urllib.parse import urlencode

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.callbacks import HandoverRef, InvitationRef, MemberRef, Nav
from bot.context import BotContext
from bot.formatting import day
from handlers.common import Data, notice, pressed, show
from handlers.forms import Answers, Asked, Choice, Finished, Form, FormEngine, Option, Text
from models import audit, botstate, handover, team
from models.base import pk
from models.errors import DomainError
from models.reference import Neighbourhood
from models.team import Member, Role

ROLE, NAME, NEIGHBOURHOOD = "role", "name", "neighbourhood"
INVITABLE: Final = (Role.MEDIATOR, Role.PROJECT_OFFICER, Role.COORDINATOR)


def confirm_keyboard(yes: str, data: str) -> InlineKeyboardMarkup:
    """« Oui, … » (its callback `data`) beside « Annuler », for /equipe's irreversible actions."""
    cancel = InlineKeyboardButton(texts.CANCEL, callback_data=Nav("tm", "cancel").pack())
    return InlineKeyboardMarkup([[InlineKeyboardButton(yes, callback_data=data), cancel]])


def invitation_link(username: str | None, code: str) -> str | None:
    """The deep link that opens the bot with the code, when the bot's username is known."""
    return f"https://t.me/{username}?start={code}" if username else None


# --- /inviter: a form -------------------------------------------------------------------------
def neighbourhood_label(area: Neighbourhood) -> str:
    """« La Chapelle Nord (18e) », but « 19e Sud (Danube…) » as is: its name says it already."""
    if area.arrondissement and area.arrondissement not in area.name:
        return f"{area.name} ({area.arrondissement})"
    return area.name


async def neighbourhoods(asked: Asked) -> list[Option]:
    return [
        (str(n.id), neighbourhood_label(n))
        for n in await asked.context.services.reference.neighbourhoods()
    ]


def read_name(text: str, asked: Asked) -> str:
    return team.clean_name(text)


def for_a_mediator(answers: Answers) -> bool:
    """A neighbourhood is asked only of a mediator's invitation."""
    return answers.get(ROLE) == Role.MEDIATOR


async def issue(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Create the invitation (audited); its code and link, as a message that travels."""
    services = context.services
    now = services.clock()
    neighbourhood = answers.get(NEIGHBOURHOOD)  # a role changed since forgets it (`resets`)
    issued = await team.create_invitation(
        session=session,
        role=Role(answers[ROLE]),
        display_name=answers[NAME],
        neighbourhood_id=int(neighbourhood) if neighbourhood else None,
        created_by=context.member,
        now=now,
        ttl=services.settings.invitation_ttl,
    )
    username = await botstate.get_setting(session=session, key="bot_username")
    await audit.record(
        session=session,
        at=now,
        member_id=context.member.id,
        action="invite",
        subject=issued.invitation.display_name,
        detail=issued.invitation.role,
    )
    values = {
        "name": issued.invitation.display_name,
        "role": texts.ROLE_LABELS[issued.invitation.role],
        "expires": day(issued.invitation.expires_at, services.settings.tz),
        "code": issued.code,
    }
    link = invitation_link(username or context.bot.username, issued.code)
    if link is None:
        return Finished(texts.INVITE_READY_NO_LINK.format(**values), forwardable=True)
    share = InlineKeyboardButton(texts.INVITE_SHARE, url=share_url(link))
    return Finished(
        texts.INVITE_READY.format(link=link, **values),
        InlineKeyboardMarkup([[share]]),
        forwardable=True,
    )


def share_url(link: str) -> str:
    """Telegram's share dialog, opened on the invitation link."""
    return "https://t.me/share/url?" + urlencode({"url": link, "text": texts.INVITE_SHARE_TEXT})


INVITER: Final = Form(
    key="inv",
    command="inviter",
    steps=(
        Choice(
            name=ROLE,
            prompt=texts.INVITE_ROLE,
            options=[(r.value, texts.ROLE_LABELS[r.value]) for r in INVITABLE],
            columns=1,
            resets=(NEIGHBOURHOOD,),
        ),
        Text(name=NAME, prompt=texts.INVITE_NAME, read=read_name),
        Choice(
            name=NEIGHBOURHOOD,
            prompt=texts.INVITE_NEIGHBOURHOOD,
            options=neighbourhoods,
            columns=1,
            applies=for_a_mediator,
        ),
    ),
    finish=issue,
)


async def list_team(update: Update, context: BotContext) -> None:
    """/equipe: the active members; a coordinator gets a deactivate button for each."""
    async with context.services.reads() as session:
        members = await team.list_members(session=session)
    names = {n.id: n.name for n in await context.services.reference.neighbourhoods()}
    lines = [texts.TEAM_HEADER.format(count=len(members))]
    buttons = []
    for member in members:
        where = names.get(member.neighbourhood_id) if member.neighbourhood_id else None
        lines.append(
            texts.TEAM_LINE.format(
                name=member.display_name,
                role=texts.ROLE_LABELS[member.role],
                neighbourhood=texts.TEAM_NEIGHBOURHOOD.format(name=where) if where else "",
            )
            + _unreachable(member, context)
        )
        if context.member.is_coordinator and member.id != context.member.id:
            buttons.append(
                InlineKeyboardButton(
                    texts.TEAM_DEACTIVATE.format(name=member.display_name),
                    callback_data=MemberRef("off", member.id or 0).pack(),
                )
            )
    if context.member.is_coordinator:
        stalled_lines, stalled_buttons = await _stalled(context)
        lines[-1] += stalled_lines
        buttons = stalled_buttons + buttons
    markup = InlineKeyboardMarkup(keyboards.rows(buttons, 1)) if buttons else None
    await show(update, "\n".join(lines), markup)
    if context.member.is_coordinator:
        await list_pending(update, context)


async def coordinators_button(
    update: Update, context: BotContext, kind: type[Data]
) -> Data | None:
    """An /equipe button, read as `kind`, when a coordinator pressed it (checked again on each
    press, and in the domain); otherwise the refusal is said and None given."""
    if not context.member.is_coordinator:
        await notice(update, texts.domain_error("not_allowed"))
        return None
    return await pressed(update, kind)


# --- Pending invitations (issue 15), kept apart from the member actions above -------------
async def list_pending(update: Update, context: BotContext) -> None:
    """Under /equipe, for coordinators: the invitations not used yet, each revocable."""
    services = context.services
    async with services.reads() as session:
        pending = await team.pending_invitations(session=session, now=services.clock())
    chat = update.effective_chat
    if not pending or chat is None:
        return
    tz = services.settings.tz
    lines = [texts.PENDING_HEADER.format(count=len(pending))]
    buttons = []
    for invitation in pending:
        lines.append(
            texts.PENDING_LINE.format(
                name=invitation.display_name,
                role=texts.ROLE_LABELS[invitation.role],
                expires=day(invitation.expires_at, tz),
            )
        )
        buttons.append(
            InlineKeyboardButton(
                texts.PENDING_REVOKE.format(name=invitation.display_name),
                callback_data=InvitationRef("rv", invitation.id or 0).pack(),
            )
        )
    await chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(
        keyboards.rows(buttons, 1)))  # fmt: skip


async def on_invitation_action(update: Update, context: BotContext) -> None:
    """Revoke a pending invitation: ask to confirm, then do it (coordinators only, checked
    again on each press and in the domain)."""
    ref = await coordinators_button(update, context, InvitationRef)
    if ref is None:
        return
    if ref.action not in ("rv", "rvok"):
        await notice(update, texts.STALE_BUTTON)
        return
    services = context.services
    if ref.action == "rv":
        async with services.reads() as session:
            pending = await team.pending_invitations(session=session, now=services.clock())
        invitation = next((i for i in pending if i.id == ref.invitation_id), None)
        if invitation is None:
            await notice(update, texts.domain_error("invitation_not_pending"))
            return
        markup = confirm_keyboard(
            texts.PENDING_CONFIRM_YES, InvitationRef("rvok", ref.invitation_id).pack()
        )
        await show(update, texts.PENDING_CONFIRM.format(name=invitation.display_name), markup)
        return
    try:
        async with services.sessions.begin() as session:
            invitation = await team.revoke_invitation(
                session=session, actor=context.member, invitation_id=ref.invitation_id,
                now=services.clock(),
            )  # fmt: skip
            await audit.record(
                session=session, at=services.clock(), member_id=context.member.id,
                action="revoke_invitation", subject=invitation.display_name,
            )  # fmt: skip
    except DomainError as error:
        await notice(update, texts.domain_error(error.key, error.params))
        return
    await show(update, texts.PENDING_REVOKED.format(name=invitation.display_name))


def _unreachable(member: Member, context: BotContext) -> str:
    """« injoignable depuis... » after a member Telegram refuses."""
    if member.unreachable_since is None:
        return ""
    return texts.TEAM_UNREACHABLE.format(
        since=day(member.unreachable_since, context.services.settings.tz),
        reason=texts.UNREACHABLE_REASONS.get(member.unreachable_reason or "", ""),
    )


async def _stalled(context: BotContext) -> tuple[str, list[InlineKeyboardButton]]:
    """Deactivated members who still follow people, each with a « Confier » button."""
    async with context.services.reads() as session:
        stalled = await handover.stalled(session=session)
    if not stalled:
        return "", []
    lines = [texts.TEAM_STALLED_HEADER]
    buttons = []
    for member, work in stalled:
        lines.append(
            texts.TEAM_STALLED_LINE.format(
                name=member.display_name, people=work.people, orientations=work.orientations
            )
        )
        buttons.append(_handover_button(member))
    return "\n".join(lines), buttons


def _handover_button(member: Member) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        texts.TEAM_HANDOVER.format(name=member.display_name),
        callback_data=HandoverRef("pick", pk(member), 0).pack(),
    )


async def on_member_action(update: Update, context: BotContext) -> None:
    """Deactivate a member: ask to confirm, then do it (the role is checked in the domain)."""
    if (ref := await coordinators_button(update, context, MemberRef)) is None:
        return
    services = context.services
    if ref.action == "off":
        async with services.reads() as session:
            target = await session.get(team.Member, ref.member_id)
        if target is None or not target.active:
            await notice(update, texts.STALE_BUTTON)
            return
        markup = confirm_keyboard(texts.TEAM_CONFIRM_YES, MemberRef("offok", ref.member_id).pack())
        await show(update, texts.TEAM_CONFIRM.format(name=target.display_name), markup)
        return
    try:
        async with services.sessions.begin() as session:
            target = await team.deactivate_member(
                session=session,
                actor=context.member,
                member_id=ref.member_id,
                now=services.clock(),
            )
            await audit.record(
                session=session,
                at=services.clock(),
                member_id=context.member.id,
                action="deactivate",
                subject=target.display_name,
            )
        async with services.reads() as session:
            work = await handover.open_work(session=session, member_id=pk(target))
            coordinators = [
                m
                for m in await team.list_members(session=session)
                if m.is_coordinator and m.id != context.member.id
            ]
    except DomainError as error:
        await notice(update, texts.domain_error(error.key, error.params))
        return
    with contextlib.suppress(TelegramError):  # the menu is cosmetic; access is already refused
        await context.bot.delete_my_commands(scope=BotCommandScopeChat(target.telegram_user_id))
    if not work:
        await show(update, texts.TEAM_DEACTIVATED.format(name=target.display_name))
        return
    values = {
        "name": target.display_name,
        "people": work.people,
        "orientations": work.orientations,
    }
    await show(
        update,
        texts.TEAM_DEACTIVATED_WORK.format(**values),
        InlineKeyboardMarkup([[_handover_button(target)]]),
    )
    # The other coordinators learn it too: nobody else would notice reminders that stopped.
    notice_text = texts.TEAM_DEACTIVATION_NOTICE.format(by=context.member.display_name, **values)
    for coordinator in coordinators:
        if not team.may_message(coordinator, services.clock()):
            continue
        with contextlib.suppress(TelegramError):  # a refusal is the reminder jobs' business
            await context.bot.send_message(coordinator.telegram_user_id, notice_text)


async def on_handover(update: Update, context: BotContext) -> None:
    """Hand a deactivated mediator's people over: choose who takes them, confirm, move."""
    if (ref := await coordinators_button(update, context, HandoverRef)) is None:
        return
    services = context.services
    async with services.reads() as session:
        source = await session.get(team.Member, ref.from_id)
        work = await handover.open_work(session=session, member_id=ref.from_id)
        targets = await handover.candidates(session=session, excluding=ref.from_id)
    if source is None or source.active or not work:
        await notice(update, texts.STALE_BUTTON)
        return
    names = {pk(m): m.display_name for m in targets}
    cancel_row = [InlineKeyboardButton(texts.CANCEL, callback_data=Nav("tm", "cancel").pack())]
    if ref.action == "pick":
        if not targets:
            await show(update, texts.TEAM_HANDOVER_NO_TARGET)
            return
        buttons = [
            InlineKeyboardButton(
                m.display_name, callback_data=HandoverRef("to", pk(source), pk(m)).pack()
            )
            for m in targets
        ]
        text = texts.TEAM_HANDOVER_TO.format(
            name=source.display_name, people=work.people, orientations=work.orientations
        )
        await show(update, text, InlineKeyboardMarkup([*keyboards.rows(buttons, 1), cancel_row]))
        return
    if ref.to_id not in names:
        await notice(update, texts.STALE_BUTTON)
        return
    if ref.action == "to":
        confirm = HandoverRef("ok", pk(source), ref.to_id).pack()
        markup = confirm_keyboard(texts.TEAM_HANDOVER_YES, confirm)
        text = texts.TEAM_HANDOVER_CONFIRM.format(name=source.display_name, to=names[ref.to_id])
        await show(update, text, markup)
        return
    try:
        async with services.sessions.begin() as session:
            done = await handover.hand_over(
                session=session, actor=context.member, from_id=ref.from_id, to_id=ref.to_id,
                now=services.clock(),
            )  # fmt: skip
    except DomainError as error:
        await notice(update, texts.domain_error(error.key, error.params))
        return
    values = {
        "name": done.source.display_name,
        "to": done.target.display_name,
        "people": done.people,
        "orientations": done.orientations,
    }
    await show(update, texts.TEAM_HANDOVER_DONE.format(**values))
    with contextlib.suppress(TelegramError):  # the reminders will reach them anyway
        await context.bot.send_message(
            done.target.telegram_user_id,
            texts.TEAM_HANDOVER_RECEIVED.format(by=context.member.display_name, **values),
        )


async def on_team_cancel(update: Update, context: BotContext) -> None:
    """The « Annuler » of a confirmation."""
    await show(update, texts.CANCELLED)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/inviter, /equipe and member actions."""
    return [
        *FormEngine(INVITER).handlers(),
        CommandHandler("equipe", list_team),
        CallbackQueryHandler(on_member_action, pattern=MemberRef.pattern()),
        CallbackQueryHandler(on_handover, pattern=HandoverRef.pattern()),
        CallbackQueryHandler(on_team_cancel, pattern=Nav.pattern("tm")),
        CallbackQueryHandler(on_invitation_action, pattern=InvitationRef.pattern()),
    ]
