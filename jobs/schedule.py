"""Registers the jobs on PTB's JobQueue. Jobs read their work from the database."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from jobs import housekeeping

DRAFT_SWEEP_SECONDS = 60


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
