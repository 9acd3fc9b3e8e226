"""The follow-up sweep: every few minutes, send each due check to its mediator, once.

The database decides what is due (`next_check_at`); nothing is scheduled per reminder, so
restarts and downtime lose nothing. Each reminder is claimed, sent and recorded in its own
transaction: a crash after sending and before the commit repeats at worst that one message.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.context import BotContext, Services
from bot.messages import reminder_keyboard, reminder_text
from models import orientations
from models.base import pk
from models.orientations import Orientation

logger = logging.getLogger(__name__)


async def sweep(context: BotContext) -> None:
    """The JobQueue entry point: only within the reminder hours."""
    services = context.services
    now = services.clock()
    if not services.settings.reminder_window.is_open(now):
        return
    sent = await send_due_reminders(bot=context.bot, services=services, now=now)
    if sent:
        logger.info("Sent %d follow-up reminders", sent)


class _Undeliverable(Exception):
    """Telegram refused this reminder for good (bot blocked, chat gone): roll back, postpone."""

    def __init__(self, orientation_id: int) -> None:
        super().__init__(orientation_id)
        self.orientation_id = orientation_id


class _Transient(Exception):
    """The network or Telegram's rate limit: roll back, the next sweep sends it."""


async def send_due_reminders(*, bot: Bot, services: Services, now: dt.datetime) -> int:
    """Send every check due at `now`, oldest first. Returns how many were delivered."""
    policy = services.settings.followup_policy
    sent = 0
    while True:
        try:
            delivered = await _send_next(bot=bot, services=services, now=now)
        except _Undeliverable as refused:
            logger.warning(
                "Reminder for orientation %s refused by Telegram", refused.orientation_id
            )
            async with services.sessions.begin() as session:
                orientation = await session.get_one(Orientation, refused.orientation_id)
                orientations.postpone(orientation, now=now, policy=policy)
            continue
        except _Transient:
            logger.warning("Reminder sweep paused by a network error; the next sweep resumes")
            return sent
        if delivered is None:
            return sent
        sent += delivered


async def _send_next(*, bot: Bot, services: Services, now: dt.datetime) -> int | None:
    """Claim the oldest due check, send it, record it, in one transaction: 1 when delivered,
    0 when skipped, None when nothing is due."""
    policy = services.settings.followup_policy
    async with services.sessions.begin() as session:
        due = await orientations.next_due_check(session=session, now=now)
        if due is None:
            return None
        orientation, mediator, person, partner = (
            due.orientation,
            due.mediator,
            due.person,
            due.partner,
        )
        if not mediator.active:
            logger.warning("Orientation %s belongs to an inactive member", orientation.id)
            orientations.postpone(orientation, now=now, policy=policy)
            return 0
        orientations.mark_reminded(orientation, now=now, policy=policy)
        try:
            await bot.send_message(
                mediator.telegram_user_id,
                reminder_text(orientation, person, partner, services.settings.tz),
                reply_markup=reminder_keyboard(orientation),
            )
        except (Forbidden, BadRequest) as exc:
            raise _Undeliverable(pk(orientation)) from exc
        except (RetryAfter, NetworkError) as exc:
            raise _Transient from exc
    return 1
