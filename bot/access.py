"""Who may do what: the access check that runs before every handler, and commands per role.

The check also reads the member's chat state from the database (drafts, conversation states,
the reference data's version: `bot.persistence.DatabasePersistence.check`, one short read),
so that any replica continues any conversation. Someone who is not a member is answered once
an hour and otherwise ignored, without a message sent (`Refusals`): a stranger's flood costs
no message and no wait to the members.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Final, cast

from telegram import BotCommand, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.callbacks import PartnerReply
from bot.context import BotContext
from bot.persistence import DatabasePersistence
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


REFUSALS_KEY: Final = "refusals"  # where the application keeps its `Refusals` (bot_data)
REFUSAL_INTERVAL: Final = dt.timedelta(hours=1)
# `/start <code>` a non-member may send in that time (invitations, and a partner's confirmation
# links, several at once): each is answered by its handler, which limits wrong guesses itself.
CODE_TRIES_PER_INTERVAL: Final = 30
REMEMBERED_STRANGERS: Final = 100_000  # about 10 MB at most


@dataclass
class _Answered:
    since: dt.datetime
    refused: bool = False
    codes: int = 0


@dataclass
class Refusals:
    """Who was answered lately among non-members, in this process's memory only (nothing
    about them is stored): one refusal an hour each, and a few invitation-code tries; the rest
    is ignored without a word."""

    interval: dt.timedelta = REFUSAL_INTERVAL
    code_tries: int = CODE_TRIES_PER_INTERVAL
    limit: int = REMEMBERED_STRANGERS
    _answered: dict[int, _Answered] = field(default_factory=dict)

    def may_answer(self, user_id: int, *, now: dt.datetime, code: bool = False) -> bool:
        """Whether this non-member's update gets an answer (and count it); `code`: it is an
        invitation code, for the start handler to check."""
        seen = self._answered.get(user_id)
        if seen is None or now - seen.since >= self.interval:
            if len(self._answered) >= self.limit:
                self._forget_before(now - self.interval)
            seen = self._answered[user_id] = _Answered(since=now)
        if code:
            seen.codes += 1
            return seen.codes <= self.code_tries
        if seen.refused:
            return False
        seen.refused = True
        return True

    def _forget_before(self, instant: dt.datetime) -> None:
        self._answered = {u: a for u, a in self._answered.items() if a.since > instant}
        if len(self._answered) >= self.limit:  # a flood from that many accounts: start over
            self._answered.clear()


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
    """Let active members through, with their chat's state as the database holds it (read
    afresh, unless nothing else wrote since: `bot.hotpath.SqliteHotPath.access`); answer anyone
    else once an hour and stop the update."""
    if not isinstance(update, Update):
        return
    if PartnerReply.pressed(update):
        return  # a partner's answer to a confirmation link (issue 16): its handler checks it
    chat, user = update.effective_chat, update.effective_user
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        # Groups (the coordinators' digest group) are written to, never read.
        raise ApplicationHandlerStop
    services = context.services
    persistence = cast(DatabasePersistence, context.application.persistence)
    member, seen, state = await persistence.check(
        context.application, user_id=user.id, chat_id=chat.id, update_id=update.update_id
    )
    if seen:
        raise ApplicationHandlerStop  # a redelivery or a retry: handled once already
    if state is not None:
        services.reference.observe(state.reference_version)
    command = command_of(update.effective_message)
    if member is not None:
        context.member = member
        if command and command[0] in KNOWN_COMMANDS and not allowed(member.role, command[0]):
            await update.effective_message.reply_text(texts.COMMAND_NOT_FOR_ROLE)  # type: ignore[union-attr]
            raise ApplicationHandlerStop
        return
    refusals: Refusals = context.bot_data[REFUSALS_KEY]
    code = command is not None and command[0] == "start" and bool(command[1])
    if not refusals.may_answer(user.id, now=services.clock(), code=code):
        logger.debug("Ignored update %s from a non-member answered lately", update.update_id)
        raise ApplicationHandlerStop
    if code:
        return  # an invitation code: the start handler decides
    # A security trace, without message content.
    logger.info("Refused update %s from a non-member", update.update_id)
    if update.callback_query is not None:
        await update.callback_query.answer(texts.REFUSAL, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.REFUSAL)
    raise ApplicationHandlerStop
