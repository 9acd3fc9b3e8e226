"""The application factory: one place where handlers, jobs and services are put together."""

from __future__ import annotations

import gc
import logging
import secrets
import warnings
from typing import Any, cast

from sqlalchemy.exc import DBAPIError
from telegram import Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot import access, health, texts
from bot.context import SERVICES_KEY, BotContext, Clock, Services
from bot.db import Sessions
from bot.persistence import DatabasePersistence
from bot.processor import PerChatUpdateProcessor
from bot.ratelimit import TelegramRateLimiter
from bot.settings import Settings
from handlers import (
    confirmations,
    directory,
    event_creation,
    events,
    followups,
    orientations,
    outreach,
    partners,
    people,
    privacy,
    start,
    stats,
    team,
)
from jobs import schedule
from models import botstate
from models import team as team_model
from models.base import utcnow
from models.errors import DomainError

logger = logging.getLogger(__name__)

ACCESS_GROUP = -1
FEATURES_GROUP = 0
PERSIST_GROUP = 100
OVERALL_RATE_PER_SECOND = 29
# Young objects collected every 20,000 allocations instead of 700: an update allocates a few
# thousand (PTB objects, SQLAlchemy results), most gone at its end.
GC_YOUNG_THRESHOLD = 20_000

BotApplication = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


class AveqApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, handing the job leadership over when it shuts down (whatever the
    way it ran), so a follower replica takes over at once."""

    async def shutdown(self) -> None:
        """Release the leadership, then shut down as usual."""
        services = self.bot_data.get(SERVICES_KEY)
        if services is not None:
            await services.leadership.release()
        await super().shutdown()


def build_application(
    settings: Settings,
    sessions: Sessions,
    *,
    request: BaseRequest | None = None,
    clock: Clock = utcnow,
    rate_limited: bool = True,
) -> BotApplication:
    """Build the bot. `request` replaces the HTTP layer (tests pass a recording one);
    `rate_limited=False` only for benchmarks of the bot's own processing cost."""
    if settings.telegram_bot_token is None:
        raise ValueError(texts.CLI_NO_TOKEN)
    builder: Any = (  # PTB's builder changes type with each option; the result is typed below
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_url.removesuffix("/bot") + "/file/bot")
        .context_types(ContextTypes(context=BotContext))
        .persistence(DatabasePersistence(sessions, clock))
        .concurrent_updates(PerChatUpdateProcessor())
        .defaults(Defaults(tzinfo=settings.tz, protect_content=True))
        .post_init(on_startup)
        .application_class(AveqApplication)
    )
    if rate_limited:
        builder = builder.rate_limiter(
            TelegramRateLimiter(
                # One request every 1/29 s, never a burst: Telegram's 30 per second hold in
                # any sliding second, so no 429 costs a pause to every chat; and one new
                # message per second in a private chat.
                overall_max_rate=1,
                overall_time_period=1 / OVERALL_RATE_PER_SECOND,
                max_retries=5,
                private_rate=settings.private_chat_messages_per_second,
            )
        )
    if request is not None:
        builder = builder.request(request)
    # Each successful poll writes the heartbeat `python -m bot health` reads.
    heartbeat = health.Heartbeat(settings.heartbeat_file)
    updates = request or HTTPXRequest(connection_pool_size=1)  # PTB's own default
    builder = builder.get_updates_request(health.HeartbeatRequest(updates, heartbeat))
    application: BotApplication = builder.build()
    application.bot_data[SERVICES_KEY] = Services(
        settings=settings, sessions=sessions, clock=clock
    )
    application.bot_data[access.REFUSALS_KEY] = access.Refusals()
    register_handlers(application)
    schedule.register(application)
    if settings.webhook_url is not None and application.job_queue is not None:
        application.job_queue.run_repeating(
            health.webhook_job(heartbeat), interval=health.WEBHOOK_CHECK_SECONDS, first=5
        )
    return application


def settle_heap() -> None:
    """Once the bot is built, before it serves: collect, then move every object alive (modules,
    handlers, compiled statements: all kept until exit) out of the garbage collector's sight,
    and collect young objects less often.

    Measured (bench/updates.py): the full collections that kept walking those 220,000 objects
    were a third of the time of an update and most of its p99.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def register_handlers(application: BotApplication) -> None:
    """Every handler, in one place, ordered by group."""
    application.add_handler(TypeHandler(Update, access.guard), group=ACCESS_GROUP)
    with warnings.catch_warnings():
        # Our conversations mix buttons and typed answers on purpose and track them per user,
        # which is what PTB's per_message warning is about.
        warnings.filterwarnings("ignore", message=".*per_message", category=PTBUserWarning)
        features = (start, people, orientations, followups, outreach, event_creation, events)
        # Partners' confirmation links first: their /start <code> is not an invitation. The
        # people search late: its typed query never takes another conversation's answer. /stats
        # last: its figures stay open for another period, which must not take what is typed
        # for another conversation.
        for module in (confirmations, *features, partners, team, privacy, directory, stats):
            application.add_handlers(module.handlers(), group=FEATURES_GROUP)
    application.add_handlers(start.last_resort(), group=FEATURES_GROUP)
    application.add_handler(TypeHandler(Update, persist_now), group=PERSIST_GROUP)
    application.add_error_handler(on_error)


async def persist_now(update: Update, context: BotContext) -> None:
    """After every member's update: write what was not written ahead of the answer (drafts,
    conversation states), and remember the update as handled, so a redelivery is ignored."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or not context.has_member:
        return
    persistence = cast(DatabasePersistence, context.application.persistence)
    await persistence.after_update(
        context.application,
        user_id=user.id,
        chat_id=chat.id,
        update_id=update.update_id,
        marked=context.processed_recorded,
    )


async def on_error(update: object, context: BotContext) -> None:
    """The one error handler: a domain refusal is explained, anything else is apologised for.

    Processing of the update stops here: no later group runs after a failure (a failed access
    check must never let a feature handler through).
    """
    error = context.error
    if update is None and isinstance(error, NetworkError):
        # Polling while Telegram (or the network) is unreachable: PTB retries with a back-off.
        logger.warning("Telegram unreachable (%s); polling retries", type(error).__name__)
        return
    if isinstance(error, DomainError):
        text = texts.domain_error(error.key, error.params)
    elif isinstance(error, DBAPIError | OSError):
        logger.warning(
            "Database unavailable while handling update %s: %s",
            _update_id(update),
            type(error).__name__,
        )
        text = texts.DATABASE_UNAVAILABLE
    else:
        reference = secrets.token_hex(4)
        logger.error(
            "Error %s while handling update %s", reference, _update_id(update), exc_info=error
        )
        text = texts.ERROR.format(reference=reference)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await update.effective_chat.send_message(text)
    except TelegramError:  # the error path must never raise
        logger.warning("Could not tell the user about error on update %s", update.update_id)
    raise ApplicationHandlerStop


def _update_id(update: object) -> int | None:
    return update.update_id if isinstance(update, Update) else None


async def on_startup(application: BotApplication) -> None:
    """Learn the bot's username (for invitation links), load the reference data and show each
    member their menu.

    The reference data is loaded before the first update: after a restart Telegram hands over
    every update that waited at once, and 200 chats arriving together each waited 1–2 s for
    its first load (issue 18; docs/performance.md)."""
    services: Services = application.bot_data[SERVICES_KEY]
    async with services.sessions.begin() as session:
        if application.bot.username:
            await botstate.set_setting(
                session=session, key="bot_username", value=application.bot.username
            )
        members = await team_model.list_members(session=session)
        services.reference.observe(await botstate.reference_version(session=session))
    await services.reference.neighbourhoods()
    await application.bot.set_my_commands(access.default_commands())
    for member in members:
        await start.set_member_commands(application.bot, member)
