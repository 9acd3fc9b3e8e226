"""Sending as Telegram wants it: one new message a second in a private chat, other chats never
waiting for a busy one, a digest to 200 coordinators through 429s, ten minutes without
network. PTB's own waits (after a 429, between polling retries) pass in virtual time."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest
from aiolimiter import AsyncLimiter
from telegram.ext import _aioratelimiter as aioratelimiter
from telegram.ext._utils import networkloop

from bot import texts
from bot.app import build_application
from bot.db import Sessions
from bot.ratelimit import TelegramRateLimiter
from bot.settings import Settings
from models.team import Member, Role
from tests.conftest import Clock, User, add_member
from tests.fakes import FakeBotAPI, RecordingRequest


class VirtualWaits:
    """Stands for `asyncio` in PTB's rate limiter: its waits after a 429 pass in virtual time
    (recorded, then added to the clock the fake Telegram reads), the rest is the real module."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept: list[float] = []
        self._passed = asyncio.Condition()

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += seconds
        async with self._passed:
            self._passed.notify_all()
        await asyncio.sleep(0)

    async def reached(self, seconds: float) -> None:
        """Wait until `seconds` of virtual waiting have passed."""
        async with asyncio.timeout(60), self._passed:
            await self._passed.wait_for(lambda: self.offset >= seconds)

    def now(self) -> float:
        return asyncio.get_running_loop().time() + self.offset


class TimedRequest(RecordingRequest):
    """Records the method, chat, time and status of every call."""

    def __init__(self, api: FakeBotAPI, now: Any = None) -> None:
        super().__init__(api)
        self.times: list[tuple[str, int | None, float, int]] = []
        self._now = now or (lambda: asyncio.get_running_loop().time())

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        params = dict(request_data.parameters) if request_data else {}
        chat = int(params["chat_id"]) if params.get("chat_id") else None
        at = self._now()
        status, body = await super().do_request(url, method, request_data, **kw)
        self.times.append((url.rsplit("/", 1)[-1], chat, at, status))
        return status, body


async def test_one_new_message_per_second_in_a_private_chat(
    settings: Settings, sessions: Sessions, api: FakeBotAPI, clock: Clock
) -> None:
    real = settings.model_copy(update={"private_chat_messages_per_second": 1})
    request = TimedRequest(api)
    app = build_application(real, sessions, request=request, clock=clock)
    async with app:
        await asyncio.gather(
            *(app.bot.send_message(chat, f"m{i}") for i, chat in enumerate([11, 11, 11, 22, 33]))
        )
    sent = [(chat, t) for method, chat, t, _ in request.times if method == "sendMessage"]
    to_11 = [t for chat, t in sent if chat == 11]
    assert len(to_11) == 3
    # about a second apart (without the limiter: microseconds); the times are taken when each
    # request starts, a little after the limiter let it go, and a loaded machine delays one
    # start more than the next: a few hundredths of a second were seen lost that way
    assert to_11[1] - to_11[0] >= 0.9
    assert to_11[2] - to_11[1] >= 0.9
    others = [t for chat, t in sent if chat != 11]
    assert all(t < to_11[1] for t in others), "other chats do not wait for chat 11"


async def test_a_digest_to_200_coordinators_through_429s(
    settings: Settings, sessions: Sessions, api: FakeBotAPI, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    waits = VirtualWaits()
    monkeypatch.setattr(aioratelimiter, "asyncio", waits)
    async with sessions.begin() as session:
        for i in range(200):
            session.add(
                Member(
                    telegram_user_id=900_000 + i,
                    display_name=f"Coordination {i}",
                    role=Role.COORDINATOR.value,
                    joined_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),  # before that week's digest
                )
            )
    api.throttle_every, api.retry_after = 10, 3  # a tenth of the calls refused
    request = TimedRequest(api, waits.now)
    app = build_application(settings, sessions, request=request, clock=clock)
    limiter = app.bot.rate_limiter
    assert isinstance(limiter, TelegramRateLimiter)
    # Pacing at 29 a second is tested with the delivery benchmark; here only the 429s matter.
    limiter._base_limiter = AsyncLimiter(1000, 1)
    clock.now = dt.datetime(2026, 3, 9, 8, 5, tzinfo=dt.UTC)  # Monday 9:05 in Paris
    async with app:
        await app.job_queue.get_jobs_by_name("weekly_digest")[0].run(app)
    headers = Counter(  # what Telegram accepted (a refused call delivers nothing)
        chat for (chat, _), sent in api.messages.items() if sent.text.startswith("Bonjour")
    )
    calls = [(m, c, t, status) for m, c, t, status in request.times if m.startswith("send")]
    refused = [(c, t) for _, c, t, status in calls if status == 429]
    assert len(refused) == len(calls) // 10  # one call in ten refused
    delivered = Counter(c for _, c, _, status in calls if status == 200)
    assert set(headers) == {900_000 + i for i in range(200)}
    assert all(count == 1 for count in headers.values()), "a digest went out twice"
    per_chat = set(delivered.values())  # the texts and the chart, each once, to everyone
    assert len(per_chat) == 1
    assert per_chat.pop() >= 2
    for chat, refused_at in refused:
        next_call = min(t for _, c, t, _ in calls if c == chat and t > refused_at)
        assert next_call >= refused_at + 3, "retried before retry_after"
    assert waits.slept
    assert min(waits.slept) >= 3  # PTB waits retry_after (and a little more)


async def test_ten_minutes_without_network(
    settings: Settings, sessions: Sessions, api: FakeBotAPI, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    waits = VirtualWaits()  # PTB's polling back-off, in virtual time
    monkeypatch.setattr(networkloop, "asyncio", waits)
    _, user_id = await add_member(sessions, clock)
    app = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    user = User(app, api, user_id)  # here its messages reach the bot through polling
    async with app:
        app.job_queue.scheduler.remove_all_jobs()  # only polling and answers matter here
        await app.start()
        await app.updater.start_polling(timeout=1)
        api.down = True
        await waits.reached(1)  # the first getUpdates failed
        for command in ("/aide", "/personnes", "/agenda"):  # typed while the bot is cut off
            api.pending.append(user.message_update(command))
        await waits.reached(600)
        attempts = api.unreachable_calls
        assert app.updater.running, "the bot gave up"
        assert attempts <= 40, f"{attempts} calls in ten minutes: a busy loop"
        assert max(waits.slept) <= 30  # and it never waits longer than half a minute
        api.down = False
        await api.wait_until(lambda a: len(a.chat(user_id)) >= 3, within=60)
        await app.updater.stop()
        await app.stop()
    answers = [m.text for m in api.chat(user_id)]
    assert answers[0].startswith("Voici ce que vous pouvez faire")
    assert "personne" in answers[1].lower()
    assert answers[2].startswith("📅 Agenda")


class AnswerAfterEdit(RecordingRequest):
    """Telegram as seen from a slow network: a tap's answer comes back only once the next
    step's edit has been sent too. A bot that waits for the answer before editing never edits."""

    def __init__(self, api: FakeBotAPI) -> None:
        super().__init__(api)
        self.edit_sent = asyncio.Event()

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith("/answerCallbackQuery"):
            await asyncio.wait_for(self.edit_sent.wait(), timeout=10)
        if url.endswith("/editMessageText"):
            self.edit_sent.set()
        return await super().do_request(url, method, *args, **kwargs)


async def test_a_tap_is_answered_and_the_next_step_shown_in_one_round_trip(
    settings: Settings, sessions: Sessions, clock: Clock, api: FakeBotAPI
) -> None:
    _, user_id = await add_member(sessions, clock)
    request = AnswerAfterEdit(api)
    app = build_application(settings, sessions, request=request, clock=clock)
    async with app:
        mediator = User(app, api, user_id)
        await mediator.send("/nouveau")
        assert "Sexe" in await mediator.send("Amina")
        assert "Où habite-t-elle" in await mediator.tap("F · Moins de 26 ans")
    assert api.method_calls("answerCallbackQuery")  # the spinner stopped too


class TooOldToAnswer(RecordingRequest):
    """Telegram refusing to answer taps, as it does for a tap replayed after a restart (more
    than 15 s old)."""

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith("/answerCallbackQuery"):
            self.api.calls.append(("answerCallbackQuery", {}))
            refusal = "Bad Request: query is too old and response timeout expired"
            body = {"ok": False, "error_code": 400, "description": refusal}
            return 400, json.dumps(body).encode()
        return await super().do_request(url, method, *args, **kwargs)


async def test_a_tap_too_old_to_answer_still_shows_the_next_step(
    settings: Settings, sessions: Sessions, clock: Clock, api: FakeBotAPI
) -> None:
    _, user_id = await add_member(sessions, clock)
    app = build_application(settings, sessions, request=TooOldToAnswer(api), clock=clock)
    async with app:
        mediator = User(app, api, user_id)
        await mediator.send("/nouveau")
        await mediator.send("Amina")
        assert "Où habite-t-elle" in await mediator.tap("F · Moins de 26 ans")
        assert "repérée" in await mediator.tap("QPV")  # the conversation goes on
    assert len(api.method_calls("answerCallbackQuery")) == 2  # each tap's answer was tried
    apology = texts.ERROR.split("{", 1)[0]
    assert not [m for m in api.chat(user_id) if m.text.startswith(apology)]
