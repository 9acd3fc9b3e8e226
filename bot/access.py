"""Who may do what: the access check that runs before every handler, and commands per role."""

from __future__ import annotations

import logging
from typing import Final

from telegram import BotCommand, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.callbacks import PartnerReply
from bot.context import BotContext
from models import team
from models.team import Role

logger = logging.getLogger(__name__)

COMMANDS_BY_ROLE: Final[dict[Role, tuple[str, ...]]] = {
    Role.MEDIATOR: (
        "nouveau",
        "orienter",
        "suivis",
        "contact",
        "sortie",
        "informes",
        "personnes",
        "agenda",
        "partenaires",
        "stats",
        "equipe",
        "aide",
        "annuler",
    ),
    Role.PROJECT_OFFICER: (
        "evenement",
        "agenda",
        "partenaires",
        "personnes",
        "equipe",
        "aide",
        "annuler",
    ),
    Role.COORDINATOR: (
        "orienter",
        "suivis",
        "contact",
        "sortie",
        "personnes",
        "evenement",
        "agenda",
        "partenaires",
        "comite",
        "stats",
        "export",
        "donnees",
        "effacer",
        "journal",
        "equipe",
        "inviter",
        "aide",
        "annuler",
    ),
}
KNOWN_COMMANDS: Final = frozenset(c for cs in COMMANDS_BY_ROLE.values() for c in cs) | {"start"}


def commands_for(role: str) -> list[BotCommand]:
    """The menu of one role, for `setMyCommands`."""
    return [BotCommand(c, texts.COMMAND_DESCRIPTIONS[c]) for c in COMMANDS_BY_ROLE[Role(role)]]


def default_commands() -> list[BotCommand]:
    """The menu of someone not (yet) in the team."""
    return [BotCommand("start", texts.COMMAND_DESCRIPTIONS["start"])]


def command_of(message: Message | None) -> tuple[str, list[str]] | None:
    """The command a message starts with (without the bot's @name), and its arguments."""
    if message is None or not message.text or not message.entities:
        return None
    first = message.entities[0]
    if first.type != MessageEntityType.BOT_COMMAND or first.offset != 0:
        return None
    command = message.text[1 : first.length].split("@", 1)[0].lower()
    return command, message.text[first.length :].split()


def allowed(role: str, command: str) -> bool:
    """Whether `role` may use `command` (unknown commands are answered by the help)."""
    return command == "start" or command in COMMANDS_BY_ROLE[Role(role)]


async def guard(update: object, context: BotContext) -> None:
    """Let active members through; give anyone else one refusal and stop the update."""
    if not isinstance(update, Update):
        return
    if update.callback_query is not None and PartnerReply.unpack(update.callback_query.data):
        return  # a partner's answer to a confirmation link (issue 16): its handler checks it
    chat, user = update.effective_chat, update.effective_user
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        # Groups (the coordinators' digest group) are written to, never read.
        raise ApplicationHandlerStop
    async with context.services.read_engine.connect() as connection:
        member, seen = await team.access_check(
            connection=connection, telegram_user_id=user.id, update_id=update.update_id
        )
    if seen:
        raise ApplicationHandlerStop  # a redelivery or a retry: handled once already
    command = command_of(update.effective_message)
    if member is not None:
        context.member = member
        if command and command[0] in KNOWN_COMMANDS and not allowed(member.role, command[0]):
            await update.effective_message.reply_text(texts.COMMAND_NOT_FOR_ROLE)  # type: ignore[union-attr]
            raise ApplicationHandlerStop
        return
    if command is not None and command[0] == "start" and command[1]:
        return  # an invitation code: the start handler decides
    # A security trace, without message content.
    logger.info("Refused update %s from a non-member", update.update_id)
    if update.callback_query is not None:
        await update.callback_query.answer(texts.REFUSAL, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.REFUSAL)
    raise ApplicationHandlerStop
