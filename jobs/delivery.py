"""How the jobs write to members: one bad recipient never stops a run.

PTB's `BadRequest` is a `NetworkError`, so "the network failed" and "Telegram refuses this
chat" must be told apart by hand:

- a real network failure (timeout, connection error, Telegram's rate limit after PTB's own
  retries): the run pauses (`Paused`); the next run resumes where it stopped;
- Telegram refusing the recipient (`chat not found`, bot blocked, account deleted): the member
  is skipped, marked unreachable, and tried again after a back-off (1 h, 6 h, then daily);
  coordinators are told once per episode (`tell_coordinators`);
- Telegram refusing one message for another reason (a bug of ours): that recipient is skipped
  for this run, logged as an error, nobody else waits.

Demo members (no real Telegram account) are never written to.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot import texts
from bot.context import Services
from bot.formatting import day
from models import audit, team
from models.base import pk
from models.team import Member, Unreachable

logger = logging.getLogger(__name__)

UNREACHABLE_NOTICE = "unreachable"
# What Telegram says when the chat itself is unknown (lower case; "Bad Request: " stripped).
CHAT_NOT_FOUND = ("chat not found", "user not found", "peer_id_invalid", "chat_id is empty")


Send = Callable[[], Awaitable[object]]


class Paused(Exception):
    """The network or Telegram's rate limit: stop this run, the next one resumes."""


def is_transient(error: TelegramError) -> bool:
    """A real network failure or Telegram's rate limit, not a refusal."""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


def refusal(error: TelegramError) -> Unreachable | None:
    """Why Telegram refuses the recipient for good, or None when the error is not about them."""
    text = error.message.lower()
    if isinstance(error, Forbidden):
        if "blocked" in text:
            return Unreachable.BLOCKED
        if "deactivated" in text:
            return Unreachable.DEACTIVATED
        return Unreachable.REFUSED
    if isinstance(error, ChatMigrated):
        return Unreachable.REFUSED
    if isinstance(error, BadRequest) and any(p in text for p in CHAT_NOT_FOUND):
        return Unreachable.CHAT_NOT_FOUND
    return None


async def to_member(
    *,
    services: Services,
    member: Member,
    now: dt.datetime,
    send: Send,
) -> bool:
    """Run `send` (what this member should get) unless they may not be written to now.
    True when it was delivered. Raises `Paused` on a network failure."""
    if not team.may_message(member, now):
        return False
    try:
        await send()
    except TelegramError as error:
        if is_transient(error):
            raise Paused from error
        reason = refusal(error)
        if reason is None:
            logger.error("Telegram refused a message to member %s: %s", member.id, error.message)
            return False
        logger.warning("Telegram refuses member %s (%s): retried later", member.id, reason)
        async with services.sessions.begin() as session:
            await team.mark_unreachable(
                session=session, member_id=pk(member), reason=reason, now=services.clock()
            )
        return False
    if member.unreachable_since is not None:
        async with services.sessions.begin() as session:
            await team.mark_reachable(session=session, member_id=pk(member))
        logger.info("Member %s is reachable again", member.id)
    return True


def notice_key(member: Member) -> str:
    """One notice per member and episode of unreachability."""
    since = member.unreachable_since
    return f"{member.id}:{since:%y%m%d%H%M%S}" if since else f"{member.id}:"


async def tell_coordinators(*, bot: Bot, services: Services) -> int:
    """Tell each coordinator, once, about each member Telegram refuses. Returns how many
    notices went out. A network failure leaves the rest for the next run."""
    now = services.clock()
    tz = services.settings.tz
    async with services.reads() as session:
        lost = await team.unreachable_members(session=session)
        if not lost:
            return 0
        coordinators = [m for m in await team.list_members(session=session) if m.is_coordinator]
        done = {
            pk(m): await audit.delivered_chats(
                session=session, kind=UNREACHABLE_NOTICE, period_key=notice_key(m)
            )
            for m in lost
        }
    sent = 0
    for member in lost:
        text = texts.UNREACHABLE_NOTICE.format(
            name=member.display_name,
            reason=texts.UNREACHABLE_REASONS.get(member.unreachable_reason or "", ""),
            since=day(member.unreachable_since or now, tz),
        )
        for coordinator in coordinators:
            if coordinator.id == member.id or coordinator.telegram_user_id in done[pk(member)]:
                continue
            chat_id = coordinator.telegram_user_id
            try:
                delivered = await to_member(
                    services=services, member=coordinator, now=now,
                    send=functools.partial(bot.send_message, chat_id, text),
                )  # fmt: skip
            except Paused:
                logger.warning("Unreachable-member notices paused by a network error")
                return sent
            if delivered:
                async with services.sessions.begin() as session:
                    await audit.mark_delivered(
                        session=session, kind=UNREACHABLE_NOTICE, period_key=notice_key(member),
                        chat_id=chat_id, now=services.clock(),
                    )  # fmt: skip
                sent += 1
    return sent
