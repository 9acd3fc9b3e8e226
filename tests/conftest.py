"""Fixtures: a fresh database per test (SQLite in memory, or PostgreSQL when
TEST_DATABASE_URL is set), an offline application, a clock the tests move, and users."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from telegram import Update

import models  # noqa: F401 - every table on the metadata
from bench import fakebotapi
from bot import texts
from bot.__main__ import configure_logging
from bot.app import BotApplication, build_application
from bot.db import Sessions, create_engine, make_sessions
from bot.hotpath import PostgresHotPath
from bot.persistence import DatabasePersistence
from bot.settings import Settings
from models import crypto, people, reference, team
from models.base import pk
from models.people import Answer, Profile, Sex
from models.team import Member, Role
from tests.fakes import FakeBotAPI, RecordingRequest

TOKEN = "123456:TEST-TOKEN-never-logged"
PG_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
START = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)  # a Tuesday, 10:30 in Paris


TEST_KEY = Fernet.generate_key().decode()


# What the test people are called and what is noted about them: none of it may reach a log line.
SECRETS_OF_TEST_PEOPLE = (
    "Amina", "Binta", "Moussa", "Yanis", "Awa", "Yasmina", "Farid", "Djibril",
    "+3361", "+3369", "+3378", "06 12 34", "06 98 76", "CAP cuisine", TOKEN.split(":")[1],
)  # fmt: skip


# What the bot's messages may never hold (first names are shown, with the code, by design).
SECRETS_IN_REPLIES = (
    "+3361122", "06 11 22", "+336123", "+33698765432", "06 98 76", "CAP cuisine",
    "emploi de nuit", TOKEN, TOKEN.split(":")[1],
)  # fmt: skip


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def no_personal_data_in_logs() -> Iterator[None]:
    """Every test, logged at DEBUG with the production floors on library loggers: no line may
    hold a test person's name, phone or note, or the token."""
    root = logging.getLogger()
    previous = root.level
    configure_logging("DEBUG")
    collect = _Collect()
    collect.setFormatter(logging.Formatter("%(name)s %(message)s %(exc_text)s"))
    root.addHandler(collect)
    try:
        yield
    finally:
        root.removeHandler(collect)
        root.setLevel(previous)
    leaked = [line for line in collect.lines for s in SECRETS_OF_TEST_PEOPLE if s in line]
    assert not leaked, f"personal data or the token in the logs: {leaked[:3]}"


@pytest.fixture(autouse=True, scope="session")
def encryption_key() -> str:
    """Phones and notes are encrypted at rest, in the tests too."""
    crypto.configure([TEST_KEY])
    return TEST_KEY


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.drop_all)
            await conn.run_sync(SQLModel.metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """On the PostgreSQL lane, the schema is created once per run; in CI, no server fails."""
    if PG_URL is None:
        return None
    try:
        asyncio.run(_reset_postgres(PG_URL))
    except Exception as exc:  # any failure to connect fails (CI) or skips the lane
        message = f"PostgreSQL lane cannot reach {PG_URL}: {exc!r}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return PG_URL


@pytest.fixture
def database_url(postgres_url: str | None, tmp_path: Path) -> str:
    """The database of this lane: PostgreSQL, or a fresh SQLite file (WAL, as in production)."""
    return postgres_url or f"sqlite+aiosqlite:///{tmp_path / 'aveq.sqlite3'}"


@pytest.fixture
async def empty_database_url(postgres_url: str | None, tmp_path: Path) -> str:
    """A database with no table at all (for migrations and the real process): a new SQLite
    file, or a PostgreSQL database created beside the test one."""
    if postgres_url is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    empty = f"{make_url(postgres_url).database}_empty"  # one per lane: lanes may run side by side
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{empty}"'))
    await admin.dispose()
    url = make_url(postgres_url).set(database=empty)
    return url.render_as_string(hide_password=False)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A fresh, empty database with its reference data."""
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            await conn.run_sync(SQLModel.metadata.create_all)
        else:
            tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    async with make_sessions(engine).begin() as session:
        await reference.load_reference_data(session=session)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    return make_sessions(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        database_url=database_url,
        heartbeat_file=tmp_path / "heartbeat",
        # Tests type faster than people: Telegram's one message a second per chat has its own
        # test (test_sending.py) and would only slow the others down.
        private_chat_messages_per_second=1000,
    )


@pytest.fixture(autouse=True)
def _known_bot_api_methods_only() -> Iterator[None]:
    """A call to a Bot API method the fake does not know fails the test, even when PTB turned
    it into a `NetworkError` that the bot caught: every fake made during the test is checked
    when the test ends (this fixture is set up first, so torn down last)."""
    fakebotapi.forget_instances()
    yield
    fakebotapi.assert_no_unknown_calls()


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """The offline Bot API. Afterwards, every text the bot sent or edited in any chat is
    searched for the test people's phones and notes and for the token: only the summary step of
    /nouveau may show a phone or note, to the mediator who just typed it."""
    fake = FakeBotAPI()
    yield fake
    nouveau_summary = texts.NEW_SUMMARY_LINE.format(
        field=texts.NEW_FIELD_NAMES["consent"], value=""
    ).rstrip()
    shown = [
        str(params.get("text") or params.get("caption") or "")
        for method, params in fake.calls
        if method.startswith(("send", "edit")) or method == "answerCallbackQuery"
    ]
    leaked = [
        text
        for text in shown
        for secret in SECRETS_IN_REPLIES
        if secret in text and nouveau_summary not in text
    ]
    assert not leaked, f"a phone, a note or the token in a message: {leaked[:3]}"


@pytest.fixture
async def app(
    settings: Settings, sessions: Sessions, api: FakeBotAPI, clock: Clock
) -> AsyncIterator[BotApplication]:
    """A real Application with an offline bot, initialised (getMe answered by the fake)."""
    application = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    async with application:
        yield application


def kill(app: BotApplication) -> None:
    """The bot's process killed: no shutdown, no flush. The system closes its connections:
    PostgreSQL's hot path pool is ended here, not left to the garbage collector."""
    hot = cast(DatabasePersistence, app.persistence)._hot
    if isinstance(hot, PostgresHotPath):
        for connection in hot._idle:
            connection.terminate()


_user_ids = itertools.count(100_000_001)


class User:
    """Someone writing to the bot: sends text, taps buttons, reads what the bot answered."""

    def __init__(self, app: BotApplication, api: FakeBotAPI, user_id: int | None = None) -> None:
        self.app, self.api = app, api
        self.id = user_id or next(_user_ids)
        self._callback_ids = itertools.count(1)

    def _user(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": "Test"}

    def message_update(self, text: str, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self.api._ids),
            "date": int(START.timestamp()),
            "chat": {"id": self.id, "type": "private"},
            "from": self._user(),
            "text": text,
            **extra,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.api.new_update({"message": message})

    def callback_update(self, data: str, message_id: int | None = None) -> dict[str, Any]:
        message_id = message_id or self.api.last(self.id).message_id
        return self.api.new_update(
            {
                "callback_query": {
                    "id": f"{self.id}-{next(self._callback_ids)}",
                    "from": self._user(),
                    "chat_instance": str(self.id),
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(START.timestamp()),
                        "chat": {"id": self.id, "type": "private"},
                        "text": "…",
                    },
                }
            }
        )

    async def process(self, payload: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(payload, self.app.bot))

    async def send(self, text: str) -> str:
        """Send a text message; return the text of the bot's latest message."""
        await self.process(self.message_update(text))
        return self.last.text

    async def send_photo(self) -> str:
        update = self.message_update("")
        message = update["message"]
        del message["text"]
        message["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
        await self.process(update)
        return self.last.text

    async def press(self, data: str, message_id: int | None = None) -> None:
        await self.process(self.callback_update(data, message_id))

    async def tap(self, label: str) -> str:
        """Tap the button whose text is (or starts with) `label` on the latest keyboard."""
        for sent in reversed(self.api.chat(self.id)):
            for button in sent.buttons():
                if button["text"] == label or button["text"].startswith(label):
                    await self.press(button["callback_data"], sent.message_id)
                    return self.last.text
            if sent.buttons():
                labels = [b["text"] for b in sent.buttons()]
                raise AssertionError(f"no button {label!r} among {labels}")
        raise AssertionError("no keyboard in this chat")

    @property
    def last(self) -> Any:
        return self.api.last(self.id)

    def labels(self) -> list[str]:
        return [b["text"] for b in self.last.buttons()]


async def add_member(
    sessions: Sessions,
    clock: Clock,
    *,
    role: Role = Role.MEDIATOR,
    name: str = "Samia Benali",
    neighbourhood: str | None = "la-chapelle-nord",
    user_id: int | None = None,
) -> tuple[Member, int]:
    """Invite and redeem in one go; returns the member and their Telegram id."""
    user_id = user_id or next(_user_ids)
    async with sessions.begin() as session:
        nbh_id = None
        if neighbourhood:
            nbhs = {n.code: n.id for n in await reference.neighbourhoods(session=session)}
            nbh_id = nbhs[neighbourhood]
        issued = await team.create_invitation(
            session=session,
            role=role,
            display_name=name,
            neighbourhood_id=nbh_id,
            now=clock(),
            ttl=dt.timedelta(days=7),
        )
        member = await team.redeem_invitation(
            session=session, code=issued.code, telegram_user_id=user_id, now=clock()
        )
    return member, user_id


@pytest.fixture
async def mediator(app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock) -> User:
    _, user_id = await add_member(sessions, clock, role=Role.MEDIATOR)
    return User(app, api, user_id)


@pytest.fixture
async def coordinator(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> User:
    _, user_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire Martin", neighbourhood=None
    )
    return User(app, api, user_id)


async def engage_person(
    sessions: Sessions, clock: Clock, member: Member, name: str = "Amina", *, consent: bool = False
) -> int:
    """A person followed by `member`, recorded through the domain; returns its id."""
    async with sessions.begin() as session:
        person = await people.engage(
            session=session,
            mediator=member,
            profile=Profile(
                first_name=name,
                sex=Sex.FEMALE,
                age_bracket="26_44",
                residence="qpv",
                channel="event",
                registered_ft=Answer.NO,
                contact_consent=consent,
            ),
            now=clock(),
        )
        return pk(person)
