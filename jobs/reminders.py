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
from models.people import Person
from models.reference import Partner
from models.team import Member

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


async def send_due_reminders(*, bot: Bot, services: Services, now: dt.datetime) -> int:
    """Send every check due at `now`, oldest first. Returns how many were delivered."""
    policy = services.settings.followup_policy
    tz = services.settings.tz
    sent = 0
    while True:
        async with services.sessions.begin() as session:
            due = await orientations.due_checks(session=session, now=now, limit=1)
            if not due:
                return sent
            orientation = due[0]
            mediator = await session.get_one(Member, orientation.mediator_id)
            if not mediator.active:
                logger.warning("Orientation %s belongs to an inactive member", orientation.id)
                orientations.postpone(orientation, now=now, policy=policy)
                continue
            person = await session.get_one(Person, orientation.person_id)
            partner = await session.get_one(Partner, orientation.partner_id)
            orientations.mark_reminded(orientation, now=now, policy=policy)
            try:
                await bot.send_message(
                    mediator.telegram_user_id,
                    reminder_text(orientation, person, partner, tz),
                    reply_markup=reminder_keyboard(orientation),
                )
            except (Forbidden, BadRequest):
                # The member blocked the bot, or the chat is gone: retrying now cannot help.
                logger.warning("Reminder for orientation %s refused by Telegram", orientation.id)
                await session.rollback()
                async with services.sessions.begin() as retry:
                    again = await retry.get_one(orientations.Orientation, orientation.id)
                    orientations.postpone(again, now=now, policy=policy)
                continue
            except (RetryAfter, NetworkError):
                # Transient: nothing recorded, the next sweep sends it.
                logger.warning("Reminder sweep paused by a network error; will retry")
                await session.rollback()
                return sent
            sent += 1
