"""Registers the jobs on PTB's JobQueue. Jobs read their work from the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram.ext import Application

from bot import db, leader
from bot.context import services_of
from jobs import digest, events, housekeeping, reminders, retention

DRAFT_SWEEP_SECONDS = 60
DIGEST_CHECK_SECONDS = 600  # resumes a paused digest, retries refused members
DIGEST_CATCH_UP_SECONDS = 15  # after start: the digest missed while the bot was down
EVENT_CHECK_SECONDS = 600
# At the bot's measured peak (300 updates a second, ~5 pages each) the log grows 6 MB a second,
# and a long log slows every read (bench/updates.py: 20 % fewer updates a second once it held
# 48,000 pages). Every 2 seconds it stays under 3,000; at a team's pace, a few pages.
WAL_CHECKPOINT_SECONDS = 2


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Schedule every recurring job; on PostgreSQL only the leader replica runs them."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    services = services_of(application)
    settings = services.settings

    def gated(job: leader.Job) -> leader.Job:
        return leader.leader_only(services.leadership, job)

    once = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    queue.run_repeating(
        claim_leadership,
        interval=settings.leader_poll_seconds,
        first=0,
        name="leadership",
        job_kwargs=once,
    )
    queue.run_repeating(
        gated(housekeeping.expire_idle_drafts),
        interval=DRAFT_SWEEP_SECONDS,
        first=DRAFT_SWEEP_SECONDS,
        name="expire_idle_drafts",
        job_kwargs=once,
    )
    queue.run_repeating(
        gated(reminders.sweep),
        interval=settings.reminder_sweep_seconds,
        first=5,
        name="reminder_sweep",
        job_kwargs=once,
    )
    queue.run_repeating(
        gated(events.sweep),
        interval=EVENT_CHECK_SECONDS,
        first=10,
        name="event_reminders",
        job_kwargs=once,
    )
    # On time: at DIGEST_CRON itself. Also a check every few minutes, the first just after
    # start: a digest missed while the bot was down, paused by the network, or refused to
    # someone. One job with both triggers, so two sends never run side by side.
    started = dt.datetime.now(dt.UTC)
    digest_checks = IntervalTrigger(
        seconds=DIGEST_CHECK_SECONDS,
        start_date=started + dt.timedelta(seconds=DIGEST_CATCH_UP_SECONDS),
    )
    queue.run_custom(
        gated(digest.weekly),
        job_kwargs={"trigger": OrTrigger([settings.digest_trigger, digest_checks]), **once},
        name="weekly_digest",
    )
    if services.sessions.kw["bind"].dialect.name == "sqlite":
        queue.run_repeating(
            checkpoint_wal,
            interval=WAL_CHECKPOINT_SECONDS,
            first=WAL_CHECKPOINT_SECONDS,
            name="wal_checkpoint",
            job_kwargs=once,
        )
    queue.run_daily(
        gated(retention.daily),
        time=dt.time(3, 30, tzinfo=settings.tz),
        name="retention",
        job_kwargs=once,
    )


async def checkpoint_wal(context: Any) -> None:
    """SQLite's log copied into the database beside the updates, not inside one of them."""
    await db.checkpoint(services_of(context.application).sessions.kw["bind"])


async def claim_leadership(context: Any) -> None:
    """Keep the job leadership, or take it when the leader is gone."""
    await services_of(context.application).leadership.ensure()
