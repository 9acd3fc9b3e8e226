"""Reminders about events: the day before (the last reminder day before it), each mediator
with registered people gets the list so they can remind them; a week after, the project
officer is asked for the outcomes if none were recorded. Both only within the reminder
hours, and each once per chat and event (a delivery record, so restarts and downtime neither
lose nor double them)."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callbacks import EventRef
from bot.context import BotContext, Services
from bot.formatting import day, long_day
from bot.messages import person_label
from jobs import delivery
from models import audit, events, reference, team
from models.base import pk
from models.team import Member

logger = logging.getLogger(__name__)

EVE, OUTCOMES = "event_eve", "event_outcomes"
LOOK_AHEAD = dt.timedelta(days=8)


async def sweep(context: BotContext) -> None:
    """The JobQueue entry point: only within the reminder hours."""
    services = context.services
    now = services.clock()
    if not services.settings.reminder_window.is_open(now):
        return
    sent = await send_event_reminders(bot=context.bot, services=services, now=now)
    if sent:
        logger.info("Sent %d event reminders", sent)
    await delivery.tell_coordinators(bot=context.bot, services=services)


def _open_button(event_id: int, action: str = "open", label: str = texts.EVENT_OPEN) -> list:
    return [InlineKeyboardButton(label, callback_data=EventRef(action, event_id, 0).pack())]


async def _deliver(
    *, bot: Bot, services: Services, kind: str, key: str, member: Member, text: str,
    markup: InlineKeyboardMarkup, now: dt.datetime,
) -> bool:  # fmt: skip
    """Send once: skip a chat that already had it; record the delivery once sent. A member
    Telegram refuses is tried again after a back-off (jobs/delivery.py)."""
    chat_id = member.telegram_user_id
    async with services.reads() as session:
        if chat_id in await audit.delivered_chats(session=session, kind=kind, period_key=key):
            return False
    delivered = await delivery.to_member(
        services=services, member=member, now=now,
        send=lambda: bot.send_message(chat_id, text, reply_markup=markup),
    )  # fmt: skip
    if delivered:
        async with services.sessions.begin() as session:
            await audit.mark_delivered(
                session=session, kind=kind, period_key=key, chat_id=chat_id, now=now
            )
    return delivered


async def send_event_reminders(*, bot: Bot, services: Services, now: dt.datetime) -> int:
    """Send the eve lists and the outcome requests due at `now`. Returns how many were sent."""
    tz = services.settings.tz
    window = services.settings.reminder_window
    today = now.astimezone(tz).date()
    async with services.reads() as session:
        coming = await events.eve_reminders(session=session, now=now, until=now + LOOK_AHEAD)
        asked = await events.awaiting_outcomes(session=session, now=now)
        officers = await events.project_officers(session=session)
        names = {n.id: n.name for n in await reference.neighbourhoods(session=session)}
        creators = {pk(m): m for m in await team.list_members(session=session)}
    # "The day before" is the last reminder day before the event: Friday for a Sunday café.
    eves = [
        eve
        for eve in coming
        if window.last_day_before(eve.event.starts_at.astimezone(tz).date()) <= today
    ]
    sent = 0
    try:
        for eve in eves:
            local = eve.event.starts_at.astimezone(tz)
            text = texts.EVENT_EVE_REMINDER.format(
                when=texts.EVENT_WHEN.format(
                    day=long_day(local, tz), time=local.strftime("%H:%M")
                ),
                title=eve.event.title,
                neighbourhood=names.get(eve.event.neighbourhood_id, "?"),
                place=eve.event.place,
                people=", ".join(person_label(p) for p in eve.people),
            )
            sent += await _deliver(
                bot=bot, services=services, kind=EVE, key=str(pk(eve.event)),
                member=eve.mediator, text=text,
                markup=InlineKeyboardMarkup([_open_button(pk(eve.event))]), now=now,
            )  # fmt: skip
        for event in asked:
            # The project officer; without one, whoever created the event (a coordinator).
            creator = creators.get(event.created_by_id)
            fallback = [creator] if creator is not None else []
            recipients = list(officers or fallback)
            text = texts.EVENT_OUTCOMES_REQUEST.format(
                title=event.title, day=day(event.starts_at, tz)
            )
            markup = InlineKeyboardMarkup(
                [
                    _open_button(pk(event), "outcomes", texts.EVENT_BUTTON_OUTCOMES),
                    _open_button(pk(event), "ask_summary", texts.EVENT_BUTTON_SUMMARY),
                ]
            )
            for member in recipients:
                sent += await _deliver(
                    bot=bot, services=services, kind=OUTCOMES, key=str(pk(event)),
                    member=member, text=text, markup=markup, now=now,
                )  # fmt: skip
    except delivery.Paused:
        logger.warning("Event reminders paused by a network error; the next sweep resumes")
    return sent
