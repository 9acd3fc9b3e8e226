"""Registers the jobs on PTB's JobQueue. Jobs read their work from the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram.ext import Application

from bot.context import services_of
from jobs import digest, events, housekeeping, reminders, retention

DRAFT_SWEEP_SECONDS = 60
DIGEST_CHECK_SECONDS = 600
EVENT_CHECK_SECONDS = 600


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Schedule every recurring job."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    queue.run_repeating(
        housekeeping.expire_idle_drafts,
        interval=DRAFT_SWEEP_SECONDS,
        first=DRAFT_SWEEP_SECONDS,
        name="expire_idle_drafts",
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )
    queue.run_repeating(
        reminders.sweep,
        interval=services_of(application).settings.reminder_sweep_seconds,
        first=5,
        name="reminder_sweep",
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    queue.run_repeating(
        events.sweep,
        interval=EVENT_CHECK_SECONDS,
        first=10,
        name="event_reminders",
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    queue.run_repeating(
        digest.weekly,
        interval=DIGEST_CHECK_SECONDS,
        first=15,
        name="weekly_digest",
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    queue.run_daily(
        retention.daily,
        time=dt.time(3, 30, tzinfo=services_of(application).settings.tz),
        name="retention",
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )
