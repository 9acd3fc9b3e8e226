"""Joining (`/start <code>`), `/aide`, and the answers of last resort."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import access, texts
from bot.context import BotContext
from handlers.common import notice, show
from models import team
from models.errors import DomainError

logger = logging.getLogger(__name__)


def help_text(role: str) -> str:
    """One line per command of the role."""
    lines = [texts.HELP_HEADER]
    lines += [
        texts.HELP_LINE.format(command=c, description=texts.COMMAND_DESCRIPTIONS[c])
        for c in access.COMMANDS_BY_ROLE[team.Role(role)]
    ]
    lines.append(texts.HELP_FOOTER)
    return "\n".join(lines)


async def set_member_commands(bot: Bot, member: team.Member) -> None:
    """Show the member's own command menu in their chat with the bot."""
    try:
        await bot.set_my_commands(
            access.commands_for(member.role), scope=BotCommandScopeChat(member.telegram_user_id)
        )
    except TelegramError:  # cosmetic: the commands work without the menu
        logger.warning("Could not set the command menu of member %s", member.id)


async def start(update: Update, context: BotContext) -> None:
    """/start <code> joins the team; /start alone greets a member."""
    user = update.effective_user
    if context.has_member:
        member = context.member
        await show(
            update,
            texts.WELCOME_BACK.format(name=member.display_name, help=help_text(member.role)),
        )
        return
    if user is None or not context.args:
        await show(update, texts.REFUSAL)
        return
    services = context.services
    try:
        async with services.sessions.begin() as session:
            member = await team.redeem_invitation(
                session=session,
                code=context.args[0],
                telegram_user_id=user.id,
                now=services.clock(),
            )
    except DomainError as error:
        logger.info("Refused an invitation code in update %s", update.update_id)
        await show(update, texts.domain_error(error.key, error.params))
        return
    logger.info("Member %s joined as %s", member.id, member.role)
    context.member = member
    await set_member_commands(context.bot, member)
    await tell_inviter(context, member)
    await show(
        update,
        texts.WELCOME.format(
            name=member.display_name,
            role=texts.ROLE_LABELS[member.role],
            help=help_text(member.role),
        ),
    )


async def tell_inviter(context: BotContext, member: team.Member) -> None:
    """The coordinator who invited is told that the invitee joined (never blocks the join)."""
    async with context.services.reads() as session:
        inviter = await team.inviter_of(session=session, member_id=member.id or 0)
    if inviter is None:
        return
    text = texts.INVITE_JOINED.format(
        name=member.display_name, role=texts.ROLE_LABELS[member.role]
    )
    try:
        await context.bot.send_message(inviter.telegram_user_id, text)
    except TelegramError:  # the inviter blocked the bot or left: the join stands
        logger.warning("Could not tell member %s that their invitee joined", inviter.id)


async def help_command(update: Update, context: BotContext) -> None:
    """/aide: what this member can do, one line per command."""
    await show(update, help_text(context.member.role))


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/annuler outside any conversation."""
    await show(update, texts.NOTHING_TO_CANCEL)


async def unknown(update: Update, context: BotContext) -> None:
    """Anything no other handler took: a pointer to the help."""
    await show(update, texts.NOT_UNDERSTOOD)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button whose conversation is over."""
    await notice(update, texts.STALE_BUTTON)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/start and /aide."""
    return [CommandHandler("start", start), CommandHandler("aide", help_command)]


def last_resort() -> list[BaseHandler[Update, BotContext, Any]]:
    """Registered after every feature: what nobody else answered."""
    return [
        CommandHandler("annuler", nothing_to_cancel),
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.ALL, unknown),
    ]
