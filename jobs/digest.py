"""The weekly digest for coordinators and the weekly recap for each mediator.

Due at `DIGEST_CRON` (Monday 9:00, team time zone): a cron job fires at that minute, and a
check every few minutes resumes a send a network failure paused and retries members Telegram
refused (jobs/delivery.py). Each chat's delivery is recorded, so the digest goes out exactly
once per week across restarts, downtime and daylight-saving changes, and a digest missed while
the bot was down goes out at start. Members who joined after this week's send time wait for
next week's (nothing to show them about a week they were not there).
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.triggers.cron import CronTrigger
from telegram import Bot
from telegram.error import TelegramError

from bot import digest, texts
from bot.context import BotContext, Services
from bot.digest import Digest
from bot.formatting import day, plural
from bot.messages import reminder_keyboard, reminder_text
from jobs import delivery
from models import audit, orientations, stats, team
from models.base import pk
from models.people import Person
from models.reference import Partner
from models.stats import Period, Scope, ScopeKind
from models.team import Member, Role

logger = logging.getLogger(__name__)

DIGEST, RECAP = "digest", "recap"
MAX_OVERDUE_BUTTONS = 5


def latest_fire(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest scheduled instant at or before `now`, within the past eight days."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(days=8))
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return latest


async def weekly(context: BotContext) -> None:
    """The JobQueue entry point."""
    await send_weekly(bot=context.bot, services=context.services)


async def send_weekly(*, bot: Bot, services: Services) -> int:
    """Send this week's digest and recaps to every chat that has not had them yet."""
    now = services.clock()
    fire = latest_fire(services.settings.digest_trigger, now)
    if fire is None:
        return 0
    tz = services.settings.tz
    fire_day = fire.astimezone(tz).date()
    key = fire_day.isoformat()
    past_week = stats.week_of(fire_day - dt.timedelta(days=7))
    try:
        sent = await _send_digest(
            bot=bot, services=services, key=key, week=past_week, today=fire_day, fire=fire
        )
        sent += await _send_recaps(
            bot=bot, services=services, key=key, week=past_week, today=fire_day, fire=fire
        )
    except delivery.Paused:
        logger.warning("Weekly digest paused by a network error; the next check resumes")
        return 0
    finally:
        await delivery.tell_coordinators(bot=bot, services=services)
    return sent


async def digest_recipients(services: Services, fire: dt.datetime) -> list[Member] | int:
    """The coordinators' group chat id, or each active coordinator who was already in the team
    when this week's digest fell due."""
    if services.settings.digest_chat_id is not None:
        return services.settings.digest_chat_id
    async with services.reads() as session:
        members = await team.list_members(session=session)
    return [m for m in members if m.role == Role.COORDINATOR and m.joined_at <= fire]


async def digest_content(services: Services, week: Period, now: dt.datetime) -> Digest:
    """The digest's first message, its buttons and its chart, every figure read at `now`."""
    return await digest.build(services, week, now)


async def _send_digest(
    *, bot: Bot, services: Services, key: str, week: Period, today: dt.date, fire: dt.datetime
) -> int:
    async with services.reads() as session:
        done = await audit.delivered_chats(session=session, kind=DIGEST, period_key=key)
    recipients = await digest_recipients(services, fire)
    now = services.clock()
    if isinstance(recipients, int):  # the coordinators' group
        pending: list[tuple[int, Member | None]] = [(recipients, None)]
    else:
        pending = [(m.telegram_user_id, m) for m in recipients if team.may_message(m, now)]
    pending = [(chat, member) for chat, member in pending if chat not in done]
    if not pending:
        return 0
    content = await digest_content(services, week, services.clock())
    sent = 0
    for chat_id, member in pending:

        async def send(chat_id: int = chat_id) -> None:
            await bot.send_message(chat_id, content.text, reply_markup=content.keyboard)
            await bot.send_photo(chat_id, content.chart, caption=texts.CHART_CAPTION)

        if member is not None:
            delivered = await delivery.to_member(
                services=services, member=member, now=now, send=send
            )
        else:
            delivered = await _to_group(send)
        if not delivered:
            continue
        async with services.sessions.begin() as session:
            await audit.mark_delivered(
                session=session, kind=DIGEST, period_key=key, chat_id=chat_id, now=services.clock()
            )
        sent += 1
    logger.info("Weekly digest %s sent to %d chats", key, sent)
    return sent


async def _to_group(send: delivery.Send) -> bool:
    """The coordinators' group (DIGEST_CHAT_ID): a refusal is logged, tried again next check."""
    try:
        await send()
    except TelegramError as error:
        if delivery.is_transient(error):
            raise delivery.Paused from error
        logger.error("Telegram refuses the digest in DIGEST_CHAT_ID: %s", error.message)
        return False
    return True


async def _send_recaps(
    *, bot: Bot, services: Services, key: str, week: Period, today: dt.date, fire: dt.datetime
) -> int:
    tz, now = services.settings.tz, services.clock()
    async with services.reads() as session:
        done = await audit.delivered_chats(session=session, kind=RECAP, period_key=key)
        mediators = [
            m
            for m in await team.list_members(session=session)
            if m.role == Role.MEDIATOR
            and m.telegram_user_id not in done
            and m.joined_at <= fire
            and team.may_message(m, now)
        ]
    sent = 0
    for mediator in mediators:
        async with services.reads() as session:
            figures = await stats.compute(
                session=session, period=week, scope=Scope(ScopeKind.MEDIATOR, mediator.id),
                tz=tz, today=today, now=now,
            )  # fmt: skip
            overdue = await orientations.overdue_checks(
                session=session, mediator_id=pk(mediator), now=now, limit=MAX_OVERDUE_BUTTONS
            )
            cards = []
            for orientation in overdue:
                person = await session.get_one(Person, orientation.person_id)
                partner = await session.get_one(Partner, orientation.partner_id)
                cards.append((reminder_text(orientation, person, partner, tz), orientation))
        text = texts.RECAP.format(
            start=day(week.start, tz),
            end=day(week.end, tz),
            informed=plural(figures.informed, *texts.COUNT_INFORMED),
            engaged=plural(figures.engaged, *texts.COUNT_ENGAGED),
            oriented=plural(figures.orientations.total, *texts.COUNT_ORIENTATIONS),
            exits=plural(sum(figures.exits_by_reason.values()), *texts.COUNT_EXITS),
            overdue=sum(f.late for f in figures.followups.values()),
        )

        async def send(
            chat_id: int = mediator.telegram_user_id,
            text: str = text,
            cards: list[tuple[str, orientations.Orientation]] = cards,
        ) -> None:
            await bot.send_message(chat_id, text)
            for card_text, orientation in cards:
                await bot.send_message(
                    chat_id, card_text, reply_markup=reminder_keyboard(orientation)
                )

        if not await delivery.to_member(services=services, member=mediator, now=now, send=send):
            continue
        async with services.sessions.begin() as session:
            await audit.mark_delivered(
                session=session,
                kind=RECAP,
                period_key=key,
                chat_id=mediator.telegram_user_id,
                now=services.clock(),
            )
        sent += 1
    return sent
