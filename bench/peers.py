"""The bots a team would otherwise run, measured on the same flow beside this one.

`python -m bench --peers` runs each bot below in a process of its own (so its peak RSS is its
own) on the same 11 updates of /nouveau (`bench.updates.FLOW`), answered with the same texts
and keyboards, against the same fake Bot API:

- ours: this bot, as `python -m bot run` builds it (SQLite, write-ahead before each answer);
- textbook: PTB's own example: a ConversationHandler with PicklePersistence, updates handled
  one after another (PTB's default), state written every `update_interval` (60 s);
- stdlib: PTB with concurrent updates, each step's state written to SQLite through the
  standard library's `sqlite3` after the answer (WAL, synchronous=NORMAL, as ours);
- aiogram: aiogram 3, its FSM in memory, one update per chat at a time
  (`SimpleEventIsolation`), as aiogram's documentation recommends (the `bench` extra).

Each bot is measured for: p50/p99 of one update at a time; the same again while two busy
processes hold both cores (contention); 200 chats each waiting for its answer before sending
the next update, with 50 ms per Bot API call (updates per second, every chat in order, every
person saved); peak RSS. The table prints ours beside each peer with the ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    Defaults,
    MessageHandler,
    PicklePersistence,
    TypeHandler,
    filters,
)

from bench.fakebotapi import JSON_FIELDS, FakeBotAPI, RecordingRequest
from bench.flow import FLOW, LenientBotAPI, SlowRequest, payload
from bench.harness import RESULTS, Report, fresh_database, peak_rss_mib, percentile
from bot import texts  # the sentences only: no other module of this bot loads for a peer

PEERS = ("ours", "textbook", "stdlib", "aiogram")
SIZES = {"tiny": (5, 5), "full": (100, 200)}  # users one at a time, chats waiting at 50 ms
WARM_UP_USERS = {"tiny": 2, "full": 20}
LATENCY = 0.05
PROTECTED = Defaults(protect_content=True)  # as ours: members' messages cannot be forwarded
REFERENCE = Path(__file__).resolve().parent.parent / "models" / "reference_data.toml"


# --- the flow every peer runs: the same messages as ours, byte for byte ----------------------
# (texts, buttons, callback data, protected content: `tests/test_bench.py` compares them)
@dataclass(frozen=True)
class Step:
    """One question of /nouveau: its field, prompts (by the person's sex, see `gender`),
    buttons (code, label) and how many buttons a row holds."""

    name: str
    prompts: dict[str, str]
    options: tuple[tuple[str, str], ...]
    columns: int = 1
    multiple: bool = False


def _steps() -> tuple[tuple[Step, ...], dict[str, str], str]:
    data = tomllib.loads(REFERENCE.read_text(encoding="utf-8"))

    def listed(kind: str) -> tuple[tuple[str, str], ...]:
        return tuple(
            (e["code"], e["label"]) for e in data[kind] if e.get("enabled", True) is not False
        )

    profiles = tuple(
        (f"{sex}.{code}", texts.SEX_AGE.format(sex=short, age=label))
        for code, label in listed("age_bracket")
        for sex, short in texts.SEX_SHORT.items()
    )
    agreement = {
        gender: "\n\n".join((texts.NOTICE_PROMPT, question, texts.CONSENT_SCRIPT))
        for gender, question in texts.NEW_CONSENT_QUESTION.items()
    }
    same = dict.fromkeys(("female", "male", "neutral"))
    steps = (
        Step("profile", {g: texts.NEW_PROMPTS["profile"] for g in same},
             (*profiles, ("other", texts.SEX_AGE_OTHER)), columns=2),
        Step("residence", texts.NEW_RESIDENCE_PROMPTS, listed("residence"), columns=2),
        Step("channel", texts.NEW_CHANNEL_PROMPTS, listed("channel")),
        Step("barriers", {g: texts.NEW_PROMPTS["barriers"] for g in same}, listed("barrier"),
             multiple=True),
        Step("registration", texts.NEW_REGISTRATION_PROMPTS,
             tuple(texts.REGISTRATION_LABELS.items())),
        Step("rsa", texts.NEW_RSA_PROMPTS, tuple(texts.ANSWER_LABELS.items()), columns=3),
        Step("agreement", agreement, ()),
    )  # fmt: skip
    ages = dict(listed("age_bracket"))
    return steps, ages, data["neighbourhoods"][0]["name"]  # where bench.updates' members work


STEPS, AGES, NEIGHBOURHOOD = _steps()
LABELS = {step.name: dict(step.options) for step in STEPS}
CANCEL, BACK = "nv:nv:cancel", "nv:nv:back"
DONE, SAVE, EDIT, NEW = "nv:nv:done", "nv:nv:save", "nv:nv:edit", "nv:nv:new"


def gender(values: dict[str, Any]) -> str:
    """Whose questions: « female », « male », else « neutral » (from the profile's sex)."""
    sex = str(values.get("profile", "")).split(".", 1)[0]
    return sex if sex in texts.SEX_SHORT else "neutral"


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def keyboard(step: Step, values: dict[str, Any]) -> InlineKeyboardMarkup:
    """A step's options in rows of `columns`, « Valider (n) » for several choices, then
    Retour / Annuler."""
    options = step.options
    if step.name == "agreement":
        agree, refuse = texts.AGREEMENT_LABELS[gender(values)]
        options = (("yes", agree), ("no", refuse), ("show", texts.NOTICE_SHOW))
    chosen = (values.get(step.name) or []) if step.multiple else []
    buttons = [
        _button(("✅ " if code in chosen else "") + label, f"pk:nv:{step.name}:{code}")
        for code, label in options
    ]
    rows = [buttons[i : i + step.columns] for i in range(0, len(buttons), step.columns)]
    if step.multiple:
        rows.append([_button(texts.VALIDATE.format(count=len(chosen)), DONE)])
    rows.append([_button(texts.BACK, BACK), _button(texts.CANCEL, CANCEL)])
    return InlineKeyboardMarkup(rows)


def summary(values: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """Every answer, labelled, as ours shows it before saving."""
    sex, _, age = str(values["profile"]).partition(".")
    registration = values["registration"].split(".", 1)[0]
    shown = [
        ("first_name", values["first_name"]),
        ("sex", texts.SEX_LABELS.get(sex, sex)),
        ("age_bracket", AGES.get(age, age)),
        ("residence", LABELS["residence"][values["residence"]]),
        ("channel", LABELS["channel"][values["channel"]]),
        ("barriers", ", ".join(LABELS["barriers"][b] for b in values["barriers"])
         or texts.NONE_LABEL),
        ("registered_ft", texts.ANSWER_LABELS[registration]),
        ("rsa", texts.ANSWER_LABELS[values["rsa"]]),
        ("notice", texts.NOTICE_SUMMARY_LABELS["skip"]),
        ("consent", texts.ANSWER_LABELS[values["agreement"]]),
    ]  # fmt: skip
    lines = [texts.NEW_SUMMARY_HEADER]
    for name, value in shown:
        field = texts.NEW_FIELD_NAMES[name]
        lines.append(texts.NEW_SUMMARY_LINE.format(field=field, value=value))
    markup = InlineKeyboardMarkup(
        [
            [_button(texts.NEW_SAVE, SAVE)],
            [_button(texts.NEW_EDIT, EDIT), _button(texts.CANCEL, CANCEL)],
        ]
    )
    return "\n".join(lines), markup


@dataclass
class Reply:
    """What a step answers: a text, its keyboard, whether it edits the tapped message, and
    the form's values once saved."""

    text: str
    markup: InlineKeyboardMarkup | None
    edit: bool
    saved: dict[str, Any] | None = None


def advance(state: dict[str, Any], kind: str, value: str, saved: int = 0) -> Reply:
    """The framework-free flow: the draft in `state` moves by one answer (the same rules for
    every peer, so only the framework and the storage differ); `saved` people before this
    one (the new person's number)."""
    if kind == "text" and value == "/nouveau":
        state.clear()
        state.update(step=-1, values={})
        cancel = InlineKeyboardMarkup([[_button(texts.CANCEL, CANCEL)]])
        return Reply(texts.NEW_PROMPTS["first_name"], cancel, edit=False)
    values = state.setdefault("values", {})
    index = state.get("step", -1)
    if index == -1 and kind == "text":
        values["first_name"] = value.strip()
        state["step"] = 0
        return Reply(STEPS[0].prompts["neutral"], keyboard(STEPS[0], values), edit=False)
    if value == SAVE:
        number = saved + 1
        text = texts.NEW_SAVED.format(
            code=f"P-{number:04d}", first_name=values["first_name"], neighbourhood=NEIGHBOURHOOD
        )
        markup = InlineKeyboardMarkup(
            [
                [_button(texts.NEW_ORIENT_NOW, f"ps:orient:{number}")],
                [_button(texts.NEW_ANOTHER, NEW)],
            ]
        )
        return Reply(text, markup, edit=True, saved=dict(values))
    step = STEPS[index]
    if step.multiple and value != DONE:
        chosen = values.setdefault(step.name, [])
        code = value.rsplit(":", 1)[1]
        (chosen.remove if code in chosen else chosen.append)(code)
        return Reply(step.prompts[gender(values)], keyboard(step, values), edit=True)
    if not step.multiple:
        values[step.name] = value.rsplit(":", 1)[1]
    state["step"] = index + 1
    if index + 1 == len(STEPS):
        text, markup = summary(values)
        return Reply(text, markup, edit=True)
    following = STEPS[index + 1]
    return Reply(following.prompts[gender(values)], keyboard(following, values), edit=True)


# --- PTB peers --------------------------------------------------------------------------
async def _ptb_answer(update: Update, reply: Reply) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(reply.text, reply_markup=reply.markup)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(reply.text, reply_markup=reply.markup)


def _kind_value(update: Update) -> tuple[str, str]:
    if update.callback_query is not None:
        return "tap", update.callback_query.data or ""
    return "text", (update.effective_message.text if update.effective_message else "") or ""


def textbook_application(request: RecordingRequest, folder: Path) -> Application:
    """PTB's persistentconversationbot.py, on our flow."""
    asking = 1

    async def step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        state = context.user_data.setdefault("nouveau", {})  # type: ignore[union-attr]
        people = context.bot_data.setdefault("people", [])
        reply = advance(state, *_kind_value(update), saved=len(people))
        await _ptb_answer(update, reply)
        if reply.saved is not None:
            people.append(reply.saved)
            return ConversationHandler.END
        return asking

    persistence = PicklePersistence(folder / "textbook.pickle")
    app = (
        ApplicationBuilder()
        .token("1:peer")
        .request(request)
        .defaults(PROTECTED)
        .persistence(persistence)
        .build()
    )
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("nouveau", step)],
            states={
                asking: [
                    CallbackQueryHandler(step),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, step),
                ]
            },
            fallbacks=[],
            name="nouveau",
            persistent=True,
        )
    )
    return app


def stdlib_application(request: RecordingRequest, folder: Path) -> Application:
    """PTB with concurrent updates; each step's draft written to SQLite (stdlib `sqlite3`,
    in the loop thread) after the answer, the person saved at the last step."""
    db = sqlite3.connect(folder / f"stdlib-{time.time_ns()}.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE draft (user_id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    db.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    saved: list[int] = []  # one item per person saved (their number in the answer)

    async def step(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        row = db.execute("SELECT data FROM draft WHERE user_id = ?", (user.id,)).fetchone()
        state = json.loads(row[0]) if row else {}
        reply = advance(state, *_kind_value(update), saved=len(saved))
        if reply.saved is not None:
            saved.append(1)  # its number, taken before the answer's await: no other chat's
        await _ptb_answer(update, reply)
        with db:  # one transaction
            if reply.saved is not None:
                db.execute("INSERT INTO person (data) VALUES (?)", (json.dumps(reply.saved),))
                db.execute("DELETE FROM draft WHERE user_id = ?", (user.id,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO draft VALUES (?, ?)", (user.id, json.dumps(state))
                )

    app = (
        ApplicationBuilder()
        .token("1:peer")
        .request(request)
        .defaults(PROTECTED)
        .concurrent_updates(True)
        .build()
    )
    app.add_handler(TypeHandler(Update, step))
    return app


# --- aiogram peer (optional extra `bench`) ---------------------------------------------
def aiogram_bot(api: FakeBotAPI, latency: float) -> tuple[Any, Any]:
    """An aiogram 3 dispatcher on our flow (FSM in memory, one update per chat at a time)
    and a bot whose session answers from the fake Bot API."""
    from aiogram import Bot, Dispatcher, F
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.base import BaseSession
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
    from aiogram.types import CallbackQuery, Message

    class FakeSession(BaseSession):
        async def make_request(self, bot: Any, method: Any, timeout: Any = None) -> Any:  # noqa: ASYNC109, ARG002
            if latency:
                await asyncio.sleep(latency)
            params = {}
            for key, raw in method.model_dump(warnings=False).items():
                value = self.prepare_value(raw, bot=bot, files={})
                if value is not None:
                    params[key] = json.loads(value) if key in JSON_FIELDS else value
            status, body = api.handle(method.__api_method__, params)
            return self.check_response(
                bot=bot, method=method, status_code=status, content=json.dumps(body)
            )

        async def close(self) -> None:
            """Nothing to close."""

        async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
            raise NotImplementedError

    dispatcher = Dispatcher(storage=MemoryStorage(), events_isolation=SimpleEventIsolation())
    saved: list[dict[str, Any]] = []

    async def answer(state: FSMContext, kind: str, value: str) -> Reply:
        data = await state.get_data()
        draft = data.get("nouveau", {})
        reply = advance(draft, kind, value, saved=len(saved))
        if reply.saved is not None:
            saved.append(reply.saved)
            await state.clear()
        else:
            await state.update_data(nouveau=draft)
        return reply

    def markup(reply: Reply) -> Any:
        return reply.markup.to_dict() if reply.markup else None

    @dispatcher.message(F.text)
    async def on_text(message: Message, state: FSMContext) -> None:
        reply = await answer(state, "text", message.text or "")
        await message.answer(reply.text, reply_markup=markup(reply))

    @dispatcher.callback_query()
    async def on_tap(query: CallbackQuery, state: FSMContext) -> None:
        reply = await answer(state, "tap", query.data or "")
        await query.answer()
        if query.message is not None:
            await query.message.edit_text(reply.text, reply_markup=markup(reply))  # type: ignore[union-attr]

    protected = DefaultBotProperties(protect_content=True)
    bot = Bot("1:peer", session=FakeSession(), default=protected)
    return bot, dispatcher


# --- drivers ------------------------------------------------------------------------------
Submit = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Peer:
    """A running bot: how to hand it one update and wait until it is handled."""

    submit: Submit
    saved: Callable[[], int]
    order: dict[int, list[int]] = field(default_factory=dict)
    # Ours only lets members in: it registers them and gives their ids; any id does for a peer.
    members: Callable[[int, int], Awaitable[list[int]]] | None = None

    async def users(self, count: int, first: int) -> list[int]:
        """The Telegram ids of `count` users this bot answers, from `first` on."""
        if self.members is not None:
            return await self.members(count, first)
        return list(range(first, first + count))


async def one_at_a_time(
    peer: Peer, api: FakeBotAPI, user_ids: list[int]
) -> tuple[list[float], float]:
    """Every user's flow step by step, users interleaved, each update alone: the milliseconds
    each took, and the CPU time per update of the whole process (every thread), which other
    people's load on the machine distorts much less than the wall clock."""
    durations, cpu = [], 0.0
    for kind, value in FLOW:
        for user_id in user_ids:
            update = payload(api, user_id, kind, value)
            started, cpu_started = time.perf_counter(), time.process_time()
            await peer.submit(update)
            durations.append((time.perf_counter() - started) * 1000)
            cpu += time.process_time() - cpu_started
    return durations, cpu * 1000 / len(durations)


async def waiting_chats(peer: Peer, api: FakeBotAPI, chat_ids: list[int]) -> tuple[float, bool]:
    """Each chat sends its next update only once the previous one is handled: wall time,
    and whether every chat's updates were handled in the order sent."""
    sent: dict[int, list[int]] = {c: [] for c in chat_ids}

    async def chat(chat_id: int) -> None:
        for kind, value in FLOW:
            update = payload(api, chat_id, kind, value)
            sent[chat_id].append(update["update_id"])
            await peer.submit(update)

    started = time.perf_counter()
    await asyncio.gather(*(chat(c) for c in chat_ids))
    wall = time.perf_counter() - started
    return wall, all(peer.order.get(c) == sent[c] for c in chat_ids)


@contextlib.contextmanager
def busy_cores(count: int = 2) -> Iterator[None]:
    """Another program holding both cores (CPU contention)."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_spin, daemon=True) for _ in range(count)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.5)  # let them reach full speed (a benchmark, not a test)
        yield
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def _spin() -> None:
    while True:
        pass


@contextlib.asynccontextmanager
async def running(name: str, api: FakeBotAPI, latency: float, folder: Path) -> Any:
    """Start one bot on `api`; yield a Peer that submits updates to it."""
    request = SlowRequest(api, latency) if latency else RecordingRequest(api)
    order: dict[int, list[int]] = {}
    waiting: dict[int, asyncio.Future[None]] = {}

    def track(update_id: int, chat_id: int | None) -> None:
        if chat_id is not None:
            order.setdefault(chat_id, []).append(update_id)

    if name == "aiogram":
        from aiogram.types import Update as AiogramUpdate

        bot, dispatcher = aiogram_bot(api, latency)
        saved_list: list[Any] = []

        @dispatcher.update.outer_middleware()
        async def record(handler: Any, event: Any, data: dict[str, Any]) -> Any:
            chat = data.get("event_chat")
            track(event.update_id, chat.id if chat else None)
            return await handler(event, data)

        async def submit_aiogram(update: dict[str, Any]) -> None:
            await dispatcher.feed_update(bot, AiogramUpdate.model_validate(update))

        def saved_aiogram() -> int:
            return sum(1 for c in order if api.chat(c) and api.last(c).text.startswith("Enreg"))

        _ = saved_list
        yield Peer(submit_aiogram, saved_aiogram, order)
        await bot.session.close()
        return

    if name == "ours":
        from bench.updates import bot_application, make_members
        from bot.db import create_engine, make_sessions
        from bot.settings import Settings

        database = f"aveq_bench_peers_{os.getpid()}"  # two runs at once: one file each
        url = await fresh_database("sqlite", "", database)
        engine = create_engine(url, background_checkpoints=True)
        sessions = make_sessions(engine)
        settings = Settings(_env_file=None, telegram_bot_token="1:bench", database_url=url)  # type: ignore[call-arg]
        app = bot_application(settings, sessions, request)
    elif name == "textbook":
        app = textbook_application(request, folder)
    else:
        app = stdlib_application(request, folder)

    async def seen(update: Update, _: object) -> None:
        track(update.update_id, update.effective_chat.id if update.effective_chat else None)

    async def handled(update: Update, _: object) -> None:
        future = waiting.pop(update.update_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    app.add_handler(TypeHandler(Update, seen), group=-10)
    app.add_handler(TypeHandler(Update, handled), group=200)
    async with app:
        if app.job_queue is not None:
            for job in app.job_queue.jobs():
                if job.name != "wal_checkpoint":
                    job.schedule_removal()
        await app.start()

        async def submit(update: dict[str, Any]) -> None:
            future = asyncio.get_running_loop().create_future()
            waiting[update["update_id"]] = future
            await app.update_queue.put(Update.de_json(update, app.bot))
            await future

        def saved() -> int:
            return sum(1 for c in order if api.chat(c) and api.last(c).text.startswith("Enreg"))

        peer = Peer(submit, saved, order)
        if name == "ours":
            peer.members = lambda n, first: make_members(sessions, n, first)
        yield peer
        await app.stop()
    if name == "ours":
        await engine.dispose()
        for leftover in (RESULTS / "data").glob(f"{database}.sqlite3*"):
            leftover.unlink()


async def measure(report: Report, name: str, size: str) -> None:
    """Every figure of one bot, in this process."""
    users, chats = SIZES[size]
    with tempfile.TemporaryDirectory() as folder:
        api = LenientBotAPI()
        async with running(name, api, 0.0, Path(folder)) as peer:
            warm = await peer.users(WARM_UP_USERS[size], 40_000)
            await one_at_a_time(peer, api, warm)
            gc.collect()
            quiet, cpu = await one_at_a_time(peer, api, await peer.users(users, 10_000))
            with busy_cores():
                busy, _ = await one_at_a_time(peer, api, await peer.users(users, 20_000))
        label = f"{users} users x {len(FLOW)}"
        report.add("peers", name, label, "p50 one at a time", percentile(quiet, 0.5), "ms")
        report.add("peers", name, label, "p99 one at a time", percentile(quiet, 0.99), "ms")
        report.add("peers", name, label, "CPU per update, one at a time", cpu, "ms")
        rise = percentile(busy, 0.5) / percentile(quiet, 0.5)
        report.add("peers", name, label, "p50 rise, both cores busy", rise, "x")

        api = LenientBotAPI()
        async with running(name, api, LATENCY, Path(folder)) as peer:
            chat_ids = await peer.users(chats, 100_000)
            cpu_started = time.process_time()
            wall, ordered = await waiting_chats(peer, api, chat_ids)
            cpu = (time.process_time() - cpu_started) * 1000 / (chats * len(FLOW))
            saved = peer.saved()
        label = f"{chats} chats waiting, 50 ms API"
        report.add("peers", name, label, "updates per second", chats * len(FLOW) / wall, "/s")
        report.add("peers", name, label, "CPU per update, chats waiting", cpu, "ms")
        report.add("peers", name, label, "every chat in order", float(ordered), "bool")
        report.add("peers", name, label, "people saved", saved, "", f"= {chats}")
    report.add("peers", name, "whole run", "peak RSS", peak_rss_mib(), "MiB")


async def run(report: Report, kind: str, postgres_url: str, size: str, repeat: int) -> None:
    """`kind` is the peer's name here (each peer in its own process, like a database)."""
    _ = postgres_url, repeat
    await measure(report, kind, size)


def print_comparison(report: Report) -> None:
    """Ours beside each peer: the median of each figure over the rounds, and the median of
    the ratios (ours / peer) of each round, each bot of a round measured minutes apart."""
    figures: dict[str, dict[str, dict[int, float]]] = {}
    for row in report.rows:
        if row.section == "peers":
            by_peer = figures.setdefault(row.figure, {})
            by_peer.setdefault(row.database, {})[row.round] = row.value
    others = [p for p in PEERS if p != "ours"]
    rounds = len({row.round for row in report.rows})
    print(f"\n{'figure':<40}{'ours':>10}" + "".join(f"{p:>22}" for p in others))
    for figure, values in figures.items():
        ours = values.get("ours", {})
        cells = []
        for peer in others:
            theirs = values.get(peer)
            if not theirs:
                cells.append(f"{'—':>22}")
                continue
            ratios = [ours[r] / theirs[r] for r in theirs if r in ours and theirs[r]]
            shown = f"{statistics.median(theirs.values()):>12.2f}"
            cells.append(
                f"{shown} ({statistics.median(ratios):>5.2f}×)" if ratios else f"{shown:>22}"
            )
        mine = f"{statistics.median(ours.values()):>10.2f}" if ours else f"{'—':>10}"
        print(f"{figure:<40}{mine}" + "".join(cells))
    if rounds > 1:
        print(f"(medians of {rounds} rounds; each ratio: the median of the rounds' ratios)")
