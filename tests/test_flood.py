"""Nobody can slow the bot for everyone: a stranger is answered once an hour, and one chat's
backlog neither holds the other chats' turns nor grows without end. (Timings: bench/flood.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.access import CODE_TRIES_PER_INTERVAL
from bot.app import BotApplication
from bot.processor import PerChatUpdateProcessor
from bot.texts import REFUSAL
from tests.conftest import Clock, User
from tests.fakes import FakeBotAPI


def refusals_to(api: FakeBotAPI, user: User) -> int:
    sent = sum(1 for m in api.chat(user.id) if m.text == REFUSAL)
    alerts = [text for query, text in api.alerts if query.startswith(f"{user.id}-")]
    return sent + alerts.count(REFUSAL)


async def test_a_stranger_is_answered_once_an_hour_then_ignored(
    app: BotApplication, api: FakeBotAPI, mediator: User, clock: Clock
) -> None:
    stranger = User(app, api)
    for text in ("bonjour", "/nouveau", "/aide", "allo ?"):
        await stranger.send(text)
    await stranger.press("pk:nv:sex:female", message_id=1)
    assert refusals_to(api, stranger) == 1
    assert len(api.chat(stranger.id)) == 1
    assert api.method_calls("answerCallbackQuery") == []  # not even a silent answer

    clock.advance(minutes=59)
    await stranger.send("toujours là")
    assert refusals_to(api, stranger) == 1
    clock.advance(minutes=2)
    await stranger.send("et maintenant ?")
    assert refusals_to(api, stranger) == 2

    other = User(app, api)  # each stranger gets their own refusal
    assert await other.send("bonjour") == REFUSAL
    assert "Voici ce que vous pouvez faire" in await mediator.send(
        "/aide"
    )  # members are never held back


async def test_invitation_codes_are_answered_a_few_times_an_hour(
    app: BotApplication, api: FakeBotAPI, clock: Clock
) -> None:
    stranger = User(app, api)
    for attempt in range(CODE_TRIES_PER_INTERVAL + 3):
        await stranger.send(f"/start faux{attempt}")
    answers = [m.text for m in api.chat(stranger.id)]
    assert len(answers) == CODE_TRIES_PER_INTERVAL
    assert all("n'est pas valable" in a for a in answers)
    clock.advance(hours=1)
    assert "n'est pas valable" in await stranger.send("/start encore")


def update_in(chat_id: int, update_id: int) -> Update:
    chat = {"id": chat_id, "type": "private"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "text": "x"}
    return Update.de_json({"update_id": update_id, "message": message}, None)


async def test_a_chat_waiting_for_its_turn_holds_no_slot_and_its_backlog_is_capped() -> None:
    # Two slots: the flooding chat's running update holds one; its waiting ones hold none.
    processor = PerChatUpdateProcessor(2, max_backlog=3)
    release = asyncio.Event()
    ran: list[tuple[int, int]] = []

    async def handle(chat_id: int, update_id: int, *, wait: bool = False) -> None:
        if wait:
            await release.wait()
        ran.append((chat_id, update_id))

    def submit(chat_id: int, update_id: int, **kwargs: Any) -> asyncio.Task[None]:
        coroutine = handle(chat_id, update_id, **kwargs)
        return asyncio.create_task(
            processor.process_update(update_in(chat_id, update_id), coroutine)
        )

    flood = [submit(666, 1, wait=True)] + [submit(666, n) for n in range(2, 12)]
    await asyncio.sleep(0)  # let them all queue (no time passes: the loop runs them once)
    # Another chat's update runs while the flooding chat is blocked (a deadlock otherwise).
    await asyncio.wait_for(submit(1, 100), timeout=10)
    assert ran == [(1, 100)]
    release.set()
    await asyncio.gather(*flood)
    assert ran == [(1, 100), (666, 1), (666, 2), (666, 3), (666, 4)]  # 1 running, 3 waiting
    assert processor.dropped == 7
    await submit(666, 12)  # the backlog drained: the chat is served again
    assert ran[-1] == (666, 12)
