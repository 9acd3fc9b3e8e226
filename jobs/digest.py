"""The weekly digest for coordinators and the weekly recap for each mediator.

Due at `DIGEST_CRON` (Monday 9:00, team time zone). A job checks every few minutes whether
this week's send is done; each chat's delivery is recorded, so the digest goes out exactly
once per week across restarts, downtime and daylight-saving changes, and a digest missed while
the bot was down goes out at start.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.triggers.cron import CronTrigger
from telegram import Bot
from telegram.error import Forbidden, NetworkError

from bot import charts, reports, texts
from bot.context import BotContext, Services
from bot.formatting import day
from bot.messages import reminder_keyboard, reminder_text
from models import audit, confirmations, orientations, stats, team
from models.base import pk
from models.people import Person
from models.reference import Partner
from models.stats import Period, Scope, ScopeKind
from models.team import Role

logger = logging.getLogger(__name__)

DIGEST, RECAP = "digest", "recap"
CHART_WEEKS = 12
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
    sent = await _send_digest(bot=bot, services=services, key=key, week=past_week, today=fire_day)
    sent += await _send_recaps(bot=bot, services=services, key=key, week=past_week, today=fire_day)
    return sent


async def digest_recipients(services: Services) -> list[int]:
    """The coordinators' group, or each active coordinator."""
    if services.settings.digest_chat_id is not None:
        return [services.settings.digest_chat_id]
    async with services.reads() as session:
        members = await team.list_members(session=session)
    return [m.telegram_user_id for m in members if m.role == Role.COORDINATOR]


async def digest_content(
    services: Services, week: Period, today: dt.date
) -> tuple[list[str], bytes]:
    """The digest's messages and chart."""
    tz = services.settings.tz
    target = services.settings.yearly_target
    year_to_date = Period(stats.year_of(today).start, min(week.end, today))
    async with services.reads() as session:
        labels = await reports.load_labels(session=session)
        of_week = await stats.compute(
            session=session, period=week, scope=Scope(), tz=tz, today=today, yearly_target=target,
            parallel=services.reads,
        )  # fmt: skip
        of_year = await stats.compute(
            session=session, period=year_to_date, scope=Scope(), tz=tz, today=today,
            yearly_target=target, parallel=services.reads,
        )  # fmt: skip
        weeks = stats.last_weeks(week.end, CHART_WEEKS)
        by_week = await stats.weekly_engaged(session=session, weeks=weeks, tz=tz)
        year_start = stats.year_of(week.end).start
        year_weeks = [
            Period(max(w.start, year_start), w.end)
            for w in stats.last_weeks(week.end, 53)
            if w.end >= year_start
        ]
        year_counts = await stats.weekly_engaged(session=session, weeks=year_weeks, tz=tz)
        start, end = week.bounds(tz)
        settled = await confirmations.settled_by_partners(session=session, start=start, end=end)
    text = "\n\n".join(
        [
            texts.DIGEST_HEADER.format(start=day(week.start, tz), end=day(week.end, tz)),
            reports.render(
                of_week,
                labels,
                scope_label=texts.DIGEST_WEEK,
                tz=tz,
                with_followups=False,
                with_target=False,
            ),
            reports.render(of_year, labels, scope_label=texts.DIGEST_YEAR, tz=tz),
            texts.DIGEST_PARTNER_CONFIRMED.format(count=settled),
        ]
    )
    cumulative, total = [], 0
    for counts in year_counts:
        total += sum(counts.values())
        cumulative.append(total)
    chart = charts.render_png(
        charts.ChartData(
            week_labels=[w.start.strftime("%d/%m") for w in weeks],
            weekly_by_neighbourhood=by_week,
            year_weeks=[w.start.strftime("%d/%m") for w in year_weeks],
            year_cumulative=cumulative,
            yearly_target=target,
        ),
        title=texts.CHART_TITLE,
        target_label=texts.CHART_TARGET.format(target=target),
        cumulative_label=texts.CHART_CUMULATIVE,
    )
    return reports.split(text), chart


async def _send_digest(
    *, bot: Bot, services: Services, key: str, week: Period, today: dt.date
) -> int:
    async with services.reads() as session:
        done = await audit.delivered_chats(session=session, kind=DIGEST, period_key=key)
    pending = [chat for chat in await digest_recipients(services) if chat not in done]
    if not pending:
        return 0
    messages, chart = await digest_content(services, week, today)
    sent = 0
    for chat_id in pending:
        try:
            for message in messages:
                await bot.send_message(chat_id, message)
            await bot.send_photo(chat_id, chart, caption=texts.CHART_CAPTION)
        except Forbidden:
            logger.warning("Digest refused by chat %s", chat_id)
            continue
        except NetworkError:
            logger.warning("Digest paused by a network error; the next run resumes")
            return sent
        async with services.sessions.begin() as session:
            await audit.mark_delivered(
                session=session, kind=DIGEST, period_key=key, chat_id=chat_id, now=services.clock()
            )
        sent += 1
    logger.info("Weekly digest %s sent to %d chats", key, sent)
    return sent


async def _send_recaps(
    *, bot: Bot, services: Services, key: str, week: Period, today: dt.date
) -> int:
    tz = services.settings.tz
    async with services.reads() as session:
        done = await audit.delivered_chats(session=session, kind=RECAP, period_key=key)
        mediators = [
            m
            for m in await team.list_members(session=session)
            if m.role == Role.MEDIATOR and m.telegram_user_id not in done
        ]
    sent = 0
    for mediator in mediators:
        async with services.reads() as session:
            figures = await stats.compute(
                session=session, period=week, scope=Scope(ScopeKind.MEDIATOR, mediator.id),
                tz=tz, today=today,
            )  # fmt: skip
            overdue = await orientations.overdue_checks(
                session=session, mediator_id=pk(mediator), limit=MAX_OVERDUE_BUTTONS
            )
            cards = []
            for orientation in overdue:
                person = await session.get_one(Person, orientation.person_id)
                partner = await session.get_one(Partner, orientation.partner_id)
                cards.append((reminder_text(orientation, person, partner, tz), orientation))
        text = texts.RECAP.format(
            start=day(week.start, tz),
            end=day(week.end, tz),
            informed=figures.informed,
            engaged=figures.engaged,
            oriented=figures.orientations.total,
            exits=sum(figures.exits_by_reason.values()),
            overdue=len(cards),
        )
        try:
            await bot.send_message(mediator.telegram_user_id, text)
            for card_text, orientation in cards:
                await bot.send_message(
                    mediator.telegram_user_id,
                    card_text,
                    reply_markup=reminder_keyboard(orientation),
                )
        except Forbidden:
            logger.warning("Recap refused by member %s", mediator.id)
            continue
        except NetworkError:
            logger.warning("Recaps paused by a network error; the next run resumes")
            return sent
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
