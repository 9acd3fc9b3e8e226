"""The follow-up sweep: every few minutes, send each due check to its mediator, once.

The database decides what is due (`next_check_at`); nothing is scheduled per reminder, so
restarts and downtime lose nothing. Due checks are claimed in batches, sent outside any
transaction (no lock is held while Telegram answers) and each recorded once sent: a crash after
a send and before its record repeats at worst that one message.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot

from bot.context import BotContext, Services
from bot.messages import reminder_keyboard, reminder_text
from jobs import delivery
from models import orientations

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
    await delivery.tell_coordinators(bot=context.bot, services=services)


CLAIM_BATCH = 200  # about seven seconds of sending at Telegram's rate


async def send_due_reminders(*, bot: Bot, services: Services, now: dt.datetime) -> int:
    """Send every check due at `now`, oldest first. Returns how many were delivered.

    Checks are claimed in batches (one short transaction), then each is sent outside any
    transaction and recorded in its own: a crash between a send and its record repeats that one
    message once the claim lapses; a crash before sending delays the rest of the batch until the
    next process to run the jobs gives every claim back."""
    if services.leadership.first_run_of_term("reminders"):
        async with services.sessions.begin() as session:
            await orientations.release_claims(session=session)
    sent = 0
    while True:
        async with services.sessions.begin() as session:
            batch = await orientations.claim_due_checks(
                session=session, now=now, limit=CLAIM_BATCH
            )
        if not batch:
            return sent
        for index, orientation_id in enumerate(batch):
            try:
                sent += await _send(
                    bot=bot, services=services, orientation_id=orientation_id, now=now
                )
            except delivery.Paused:
                logger.warning("Reminder sweep paused by a network error; the next sweep resumes")
                async with services.sessions.begin() as session:
                    await orientations.release_claims(
                        session=session, orientation_ids=batch[index:]
                    )
                return sent


async def _send(*, bot: Bot, services: Services, orientation_id: int, now: dt.datetime) -> int:
    """Send one claimed check, then record it: 1 when delivered, 0 when not (a member who
    left, a demo member, or one Telegram refuses: tried again next working day). Raises
    `delivery.Paused` on a network failure, before anything is recorded."""
    async with services.reads() as session:
        due = await orientations.due_check(session=session, orientation_id=orientation_id)
    if due is None:  # erased meanwhile
        return 0
    policy, orientation = services.settings.followup_policy, due.orientation
    if not due.mediator.active:
        logger.warning("Orientation %s belongs to an inactive member", orientation.id)
    # The message shows the check as it will be recorded (its buttons carry the new seq).
    orientations.mark_reminded(orientation, now=now, policy=policy)
    chat_id = due.mediator.telegram_user_id
    delivered = await delivery.to_member(
        services=services, member=due.mediator, now=now,
        send=lambda: bot.send_message(
            chat_id,
            reminder_text(orientation, due.person, due.partner, services.settings.tz),
            reply_markup=reminder_keyboard(orientation),
        ),
    )  # fmt: skip
    async with services.sessions.begin() as session:
        await orientations.finish_reminder(
            session=session, orientation_id=orientation_id, now=now, policy=policy,
            delivered=delivered,
        )  # fmt: skip
    return int(delivered)
