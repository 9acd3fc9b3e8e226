"""The daily data-protection pass: anonymise people after the retention period, purge the
drafts of departed members and the audit log past its own retention; then, on SQLite, empty the
write-ahead log, which still holds the page images from before the pass."""

from __future__ import annotations

import datetime as dt
import logging

from bot.context import BotContext, Services
from bot.db import truncate_log
from models import botstate, privacy

logger = logging.getLogger(__name__)

PROCESSED_UPDATES_KEPT = dt.timedelta(days=7)


async def daily(context: BotContext) -> None:
    """The JobQueue entry point."""
    await run_retention(context.services)


async def run_retention(services: Services) -> dict[str, int]:
    """One pass; safe to run any number of times."""
    now, settings = services.clock(), services.settings
    async with services.sessions.begin() as session:
        counts = {
            "anonymised": await privacy.apply_retention(
                session=session, now=now, months=settings.retention_months
            ),
            "drafts_purged": await privacy.purge_departed_state(session=session),
            "audit_purged": await privacy.purge_audit(
                session=session, now=now, months=settings.audit_retention_months
            ),
        }
        await botstate.purge_processed(session=session, before=now - PROCESSED_UPDATES_KEPT)
    await truncate_log(services.sessions.kw["bind"])
    if any(counts.values()):
        logger.info(
            "Retention: %(anonymised)d anonymised, %(drafts_purged)d drafts and "
            "%(audit_purged)d audit events purged",
            counts,
        )
    return counts
