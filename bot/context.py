"""The typed callback context and the long-lived services every callback may use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, CallbackContext, ExtBot

from bot.db import Sessions, make_read_sessions, read_only
from bot.leader import Leadership
from bot.reference_cache import ReferenceCache
from bot.settings import Settings
from models.team import Member

SERVICES_KEY = "services"

Clock = Callable[[], dt.datetime]


@dataclass(slots=True)
class Services:
    """Created once by the application factory, held in `bot_data` (never persisted)."""

    settings: Settings
    sessions: Sessions
    clock: Clock
    reference: ReferenceCache = field(init=False)
    reads: Sessions = field(init=False)
    read_engine: AsyncEngine = field(init=False)
    leadership: Leadership = field(init=False)

    def __post_init__(self) -> None:
        self.reads = make_read_sessions(self.sessions.kw["bind"])
        self.read_engine = read_only(self.sessions.kw["bind"])  # a read without the ORM
        self.reference = ReferenceCache(self.reads)
        self.leadership = Leadership(self.sessions.kw["bind"])

    def today(self) -> dt.date:
        """Today's date where the team works."""
        return self.clock().astimezone(self.settings.tz).date()


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Callback context carrying the services and the member the access check found."""

    __slots__ = ("_member", "processed_recorded")

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._member: Member | None = None
        self.processed_recorded = False  # the update was recorded as handled with its effects

    @property
    def services(self) -> Services:
        """Settings, database sessions and clock."""
        return services_of(self.application)

    @property
    def member(self) -> Member:
        """The active member who sent this update (set by the access check)."""
        if self._member is None:
            raise RuntimeError("no member on this context: the access check did not run")
        return self._member

    @member.setter
    def member(self, value: Member) -> None:
        self._member = value

    @property
    def member_data(self) -> dict[Any, Any]:
        """The member's own persisted data (drafts); always present for a user's update."""
        if self.user_data is None:
            raise RuntimeError("this update has no user")
        return self.user_data

    @property
    def has_member(self) -> bool:
        """True once the access check has found an active member."""
        return self._member is not None


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The services of an application built by `bot.app.build_application`."""
    return application.bot_data[SERVICES_KEY]
