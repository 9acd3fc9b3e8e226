"""Erasure and retention leave nothing behind (issue 13, items 4 and 5): no first name left in
any SQLite file, no reminder about an erased person, and backups that are owner-only, rotated
and restorable."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot import backups
from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions, create_engine, make_sessions, upgrade_database
from jobs.retention import run_retention
from models import reference
from models.orientations import Orientation
from models.people import Person, name_key, with_contact_details
from tests.conftest import TEST_KEY, Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI
from tests.test_followups import member_of, orient_directly, reminders_to, sweep
from tests.test_privacy import engage_with_contact

ROOT = Path(__file__).resolve().parent.parent
NAME = "Zéphyrine"  # a first name no other row, text or file of the bot holds


def database_files(url: str) -> list[Path]:
    """The database and every file SQLite keeps beside it (-wal, -shm, -journal)."""
    database = Path(make_url(url).database or "")
    return sorted(database.parent.glob(database.name + "*"))


def files_naming(url: str, name: str) -> list[str]:
    """The database files whose raw bytes hold `name` (any case, accented or not)."""
    needles = {name.casefold().encode(), name_key(name).encode()}
    return [
        path.name
        for path in database_files(url)
        if any(needle in path.read_bytes().lower() for needle in needles)
    ]


def _secure_delete_off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=OFF")


@pytest.fixture
async def engine(engine: AsyncEngine) -> AsyncEngine:
    """As with an SQLite built without SECURE_DELETE on by default (Debian's has it on, most
    others not): every new connection starts with it off, then the bot's own pragmas run."""
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _secure_delete_off, insert=True)
        await engine.dispose()  # connections made from here on only
    return engine


@pytest.fixture
def sqlite_only(database_url: str) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("raw bytes of a file: SQLite only (PostgreSQL's storage is the server's)")
    return database_url


async def test_sqlite_connections_zero_what_they_delete(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("an SQLite pragma")
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA secure_delete")).scalar() == 1


async def test_erasure_leaves_the_first_name_in_no_database_file(
    app: BotApplication,
    mediator: User,
    coordinator: User,
    sessions: Sessions,
    clock: Clock,
    sqlite_only: str,
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_with_contact(sessions, clock, member, NAME)
    await orient_directly(app, sessions, clock, member, person_id)
    assert files_naming(sqlite_only, NAME) != []  # the search finds it
    await coordinator.send("/effacer P-0001")
    assert "effacées" in await coordinator.tap("Oui, effacer")
    assert files_naming(sqlite_only, NAME) == []
    async with sessions() as session:
        assert (await session.get_one(Person, person_id)).first_name == "Anonyme"


async def test_retention_leaves_the_first_name_in_no_database_file(
    app: BotApplication, sessions: Sessions, clock: Clock, sqlite_only: str
) -> None:
    member, _ = await add_member(sessions, clock)
    clock.now = dt.datetime(2024, 3, 10, 10, 0, tzinfo=dt.UTC)
    await engage_with_contact(sessions, clock, member, NAME)
    clock.now = dt.datetime(2025, 6, 1, 10, 0, tzinfo=dt.UTC)
    await engage_person(sessions, clock, member, "Amina")  # kept, in the same pages
    assert files_naming(sqlite_only, NAME) != []
    clock.now = dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)
    assert (await run_retention(services_of(app)))["anonymised"] == 1
    assert files_naming(sqlite_only, NAME) == []
    assert files_naming(sqlite_only, "Amina") != []


async def test_an_erased_persons_due_check_is_never_reminded(
    app: BotApplication,
    api: FakeBotAPI,
    mediator: User,
    coordinator: User,
    sessions: Sessions,
    clock: Clock,
) -> None:
    member = await member_of(sessions, mediator)
    erased = await engage_person(sessions, clock, member, NAME)
    kept = await engage_person(sessions, clock, member, "Amina")
    erased_check = await orient_directly(app, sessions, clock, member, erased)
    await orient_directly(app, sessions, clock, member, kept)
    clock.advance(days=7)  # both checks due
    await coordinator.send("/effacer P-0001")
    await coordinator.tap("Oui, effacer")
    await sweep(app)
    [reminder] = reminders_to(api, mediator)
    assert "P-0002 Amina" in reminder
    clock.advance(days=30)
    await sweep(app)
    assert all("P-0001" not in text for text in reminders_to(api, mediator))
    assert "P-0001" not in await mediator.send("/suivis")
    async with sessions() as session:
        orientation = await session.get_one(Orientation, erased_check)
        person = await session.get_one(Person, erased)
    assert (orientation.outcome, orientation.next_check_at) == ("closed", None)
    assert person.status == "oriented"  # the figures keep what the person was


async def test_retention_closes_the_anonymised_peoples_checks(
    app: BotApplication, api: FakeBotAPI, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    clock.now = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC)
    person_id = await engage_person(sessions, clock, member, NAME)
    await orient_directly(app, sessions, clock, member, person_id)  # due since March 2024
    clock.now = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    assert (await run_retention(services_of(app)))["anonymised"] == 1
    await sweep(app)
    assert reminders_to(api, mediator) == []
    async with sessions() as session:
        still_open = (
            await session.exec(select(Orientation).where(Orientation.outcome == None))  # noqa: E711
        ).all()
    assert still_open == []


# --- Backups ---------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_file(tmp_path: Path, clock: Clock) -> str:
    """A migrated SQLite file holding one person, Amina, with a phone."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}"
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    sessions = make_sessions(engine)
    async with sessions.begin() as session:
        await reference.load_reference_data(session=session)
    member, _ = await add_member(sessions, clock)
    await engage_with_contact(sessions, clock, member, "Amina")
    await engine.dispose()
    return url


async def people_in(path: Path) -> list[tuple[str, str | None]]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with make_sessions(engine)() as session:
            found = await session.exec(select(Person).options(*with_contact_details()))
            return [(p.first_name, p.phone) for p in found.all()]
    finally:
        await engine.dispose()


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets anyone read new files: only an explicit mode keeps a backup private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


async def test_a_backup_is_owner_only_from_its_first_byte(
    sqlite_file: str, tmp_path: Path, clock: Clock, open_umask: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def no_chmod(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a backup is created private, never made private afterwards")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    done = backups.backup_sqlite(sqlite_file, tmp_path / "backups", clock())
    monkeypatch.undo()
    assert oct(done.path.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "backups").stat().st_mode & 0o777) == "0o700"
    assert done.path.name == "aveq-20260310-093000.sqlite3"
    assert await people_in(done.path) == [("Amina", "+33611223344")]


async def test_backups_keep_the_newest_n(sqlite_file: str, tmp_path: Path, clock: Clock) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    (folder / "aveq-manual.sqlite3").write_text("not named like one")
    made = []
    for _ in range(4):
        made.append(backups.backup_sqlite(sqlite_file, folder, clock(), keep=2))
        clock.advance(days=1)
    assert [len(d.removed) for d in made] == [0, 0, 1, 1]
    assert sorted(p.name for p in folder.iterdir()) == [
        "aveq-20260312-093000.sqlite3",
        "aveq-20260313-093000.sqlite3",
        "aveq-manual.sqlite3",
        "notes.txt",
    ]
    assert await people_in(made[-1].path) == [("Amina", "+33611223344")]
    with pytest.raises(FileExistsError):  # the same second: a copy is never overwritten
        backups.backup_sqlite(sqlite_file, folder, clock() - dt.timedelta(days=1))
    assert len(backups.backups_in(folder)) == 2


async def test_backup_command_rotates(sqlite_file: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in (1, 2, 3):
        (folder / f"aveq-2020010{day}-120000.sqlite3").write_bytes(b"")
    env = {**os.environ, "DATABASE_URL": sqlite_file, "DATA_ENCRYPTION_KEY": TEST_KEY}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", "--to", str(folder), "--keep", "2", cwd=ROOT,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = (part.decode() for part in await process.communicate())
    assert process.returncode == 0, err
    new, older = backups.backups_in(folder)
    assert older.name == "aveq-20200103-120000.sqlite3"
    assert str(new) in out
    assert "les 2 plus récentes (anciennes supprimées : 2)" in out
    assert oct(new.stat().st_mode & 0o777) == "0o600"
    assert await people_in(new) == [("Amina", "+33611223344")]


def test_backup_refuses_what_is_not_an_sqlite_file(tmp_path: Path) -> None:
    for url in ("sqlite+aiosqlite:///:memory:", "postgresql+asyncpg://aveq@localhost/aveq"):
        with pytest.raises(backups.NotSQLite):
            backups.backup_sqlite(url, tmp_path / "backups", dt.datetime.now(dt.UTC))
    assert not (tmp_path / "backups").exists()


async def test_backup_command_on_postgresql_points_to_pg_dump(empty_database_url: str) -> None:
    if empty_database_url.startswith("sqlite"):
        pytest.skip("the PostgreSQL lane's answer")
    env = {**os.environ, "DATABASE_URL": empty_database_url, "DATA_ENCRYPTION_KEY": TEST_KEY}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = (part.decode() for part in await process.communicate())
    assert process.returncode == 2
    assert "pg_dump" in err
