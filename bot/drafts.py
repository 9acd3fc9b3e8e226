"""In-progress answers of a conversation ("drafts"), kept in PTB `user_data` (persisted).

A draft records when it was last touched; a sweep ends drafts idle for longer than the
conversation timeout, so nothing half-typed lingers, even across restarts. Drafts are stored
encrypted (`models.botstate`), and a draft naming a person who is erased or anonymised is
dropped (`models.botstate.forget_people_in_drafts`, which looks for `person_id`): keep
people in drafts by id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from models.botstate import DRAFTS_KEY

__all__ = ["CHAT", "DRAFTS_KEY", "SHOWN", "TOUCHED", "drop", "expired", "get", "start", "touch"]

TOUCHED = "touched"
CHAT = "chat"
SHOWN = "shown"  # the form has shown its result and stays open (/stats): it expires quietly


def start(user_data: dict[str, Any], form: str, *, now: dt.datetime, chat_id: int) -> dict:
    """Begin a fresh draft for `form`, replacing any previous one."""
    draft: dict[str, Any] = {TOUCHED: now.isoformat(), CHAT: chat_id}
    user_data.setdefault(DRAFTS_KEY, {})[form] = draft
    return draft


def get(user_data: dict[str, Any], form: str) -> dict | None:
    """The draft of `form`, or None."""
    return user_data.get(DRAFTS_KEY, {}).get(form)


def touch(draft: dict[str, Any], *, now: dt.datetime) -> None:
    """Record activity on a draft."""
    draft[TOUCHED] = now.isoformat()


def drop(user_data: dict[str, Any], form: str) -> dict | None:
    """Forget the draft of `form` (saved, cancelled or expired)."""
    drafts = user_data.get(DRAFTS_KEY, {})
    draft = drafts.pop(form, None)
    if not drafts:
        user_data.pop(DRAFTS_KEY, None)
    return draft


def expired(
    all_user_data: Mapping[int, dict[str, Any]], *, now: dt.datetime, idle: dt.timedelta
) -> Iterator[tuple[int, str, int]]:
    """(user id, form, chat id) of every draft idle for longer than `idle`."""
    for user_id, user_data in all_user_data.items():
        for form, draft in list(user_data.get(DRAFTS_KEY, {}).items()):
            try:
                idle_for = now - dt.datetime.fromisoformat(draft[TOUCHED])
            except (KeyError, TypeError, ValueError):  # unreadable: treat as abandoned
                idle_for = idle
            if idle_for >= idle:
                yield user_id, form, draft.get(CHAT, user_id)
