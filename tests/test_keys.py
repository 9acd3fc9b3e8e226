"""Encryption keys: rotation while the bot runs, a start that refuses keys that cannot read
what is stored, lists that never decrypt, and what `python -m bot` creates owner-only."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text
from sqlalchemy.orm import undefer
from sqlmodel import select

from bot import __main__ as cli
from bot import texts
from bot.app import BotApplication
from bot.db import Sessions, create_engine, make_sessions
from bot.settings import Settings
from models import crypto, people
from models.orientations import Interaction, Orientation
from models.people import Answer, Person, Profile, Sex
from tests.conftest import TEST_KEY, TOKEN, Clock, User, add_member, engage_person
from tests.test_followups import member_of, orient_directly

ROOT = Path(__file__).resolve().parent.parent
CONTACT = people.with_contact_details()


@pytest.fixture
def key_file(tmp_path: Path) -> Iterator[Path]:
    """The bot's keys come from a key file, as with the default set-up (not from the
    environment): the process follows the file."""
    path = tmp_path / "keys" / "encryption.key"
    crypto.create_key_file(path)
    crypto.configure_from_file(path)
    yield path
    crypto.configure([TEST_KEY])


@pytest.fixture
def settings(database_url: str, key_file: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        database_url=database_url,
        private_chat_messages_per_second=1000,
        data_encryption_key=None,
        data_encryption_key_file=key_file,
    )


async def walk_to_phone(user: User, name: str) -> None:
    """/nouveau up to the phone step (the person consents)."""
    assert "Prénom ou initiales" in await user.send("/nouveau")
    await user.send(name)
    await user.tap("Femme")
    await user.tap("Moins de 26 ans")
    await user.tap("QPV")
    await user.tap("Bouche-à-oreille")
    await user.tap("Valider")
    await user.tap("Non")
    await user.tap("Non")
    await user.tap("Déjà informé·e")
    assert "téléphone" in await user.tap("Oui, la personne accepte")


async def record_with_contact(user: User, name: str, phone: str, note: str) -> str:
    """/nouveau with consent, a phone and a note, saved; returns the confirmation."""
    await walk_to_phone(user, name)
    assert "note" in await user.send(phone)
    assert "Vérifiez" in await user.send(note)
    return await user.tap("✅ Enregistrer")


async def stored(url: str) -> dict[str, tuple[str | None, str | None, list[str | None]]]:
    """Every person's phone, note and contact notes, read back by a process that starts now
    (its keys from the key file, as `python -m bot` configures them)."""
    engine = create_engine(url)
    try:
        async with make_sessions(engine)() as session:
            found = (await session.exec(select(Person).options(*CONTACT))).all()
            notes = (
                await session.exec(
                    select(Interaction).options(undefer(Interaction.note))  # type: ignore[arg-type]
                )
            ).all()
    finally:
        await engine.dispose()
    return {
        p.first_name: (p.phone, p.note, [i.note for i in notes if i.person_id == p.id])
        for p in found
    }


async def raw_tokens(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        rows = await session.exec(  # type: ignore[call-overload]
            text(
                "SELECT phone FROM person WHERE phone IS NOT NULL UNION ALL "
                "SELECT note FROM person WHERE note IS NOT NULL UNION ALL "
                "SELECT note FROM interaction WHERE note IS NOT NULL"
            )
        )
        return [token for (token,) in rows]


async def test_rotation_while_the_bot_runs_loses_no_phone_or_note(
    app: BotApplication,
    mediator: User,
    sessions: Sessions,
    clock: Clock,
    settings: Settings,
    key_file: Path,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "P-0001" in await record_with_contact(
        mediator, "Amina", "06 12 34 56 78", "Cherche un CAP cuisine."
    )
    [old_key] = crypto.read_key_file(key_file)
    # A transaction of the running bot that encrypted just before the key file changed...
    late = crypto.cipher().encrypt(b"+33611223344").decode()

    assert await cli.rotate_key(settings) == 0

    keys = crypto.read_key_file(key_file)
    assert keys[1:] == [old_key], "the old key is kept"
    assert keys[0] != old_key, "a new key first"
    assert "valeurs rechiffrées" in capsys.readouterr().out
    # ...and commits after the command's pass.
    async with sessions.begin() as session:
        await session.exec(  # type: ignore[call-overload]
            text("UPDATE person SET phone = :late WHERE first_name = 'Amina'"),
            params={"late": late},
        )

    # The bot keeps running: lists, cards, and new phones and notes.
    assert "P-0001" in await mediator.send("/personnes")
    assert "P-0002" in await record_with_contact(
        mediator, "Binta", "06 98 76 54 32", "Emploi de nuit, CAP cuisine."
    )
    await mediator.send("/contact")
    await mediator.tap("P-0001")
    await mediator.tap("Appel")
    assert "Contact enregistré" in await mediator.send("Rappeler pour le CAP cuisine.")
    newest = Fernet(keys[0])
    async with sessions() as session:
        binta = (await session.exec(text("SELECT phone FROM person WHERE id = 2"))).one()  # type: ignore[call-overload]
    assert crypto.decrypts(newest, binta[0]), "the running bot writes with the new key at once"

    # Restart: the keys are read from the file again; everything reads back.
    crypto.configure_from_file(key_file)
    expected = {
        "Amina": ("+33611223344", "Cherche un CAP cuisine.", ["Rappeler pour le CAP cuisine."]),
        "Binta": ("+33698765432", "Emploi de nuit, CAP cuisine.", []),
    }
    assert await stored(database_url) == expected

    # The next rotation re-encrypts the late value and only then drops the oldest key.
    assert await cli.rotate_key(settings) == 0
    after = crypto.read_key_file(key_file)
    assert after[1] == keys[0]
    assert old_key not in after
    crypto.configure_from_file(key_file)
    assert await stored(database_url) == expected
    only_file_keys = MultiFernet([Fernet(k) for k in after])
    assert all(crypto.decrypts(only_file_keys, t) for t in await raw_tokens(sessions))
    assert all(crypto.decrypts(Fernet(after[0]), t) for t in await raw_tokens(sessions))


async def test_a_value_under_another_key_is_read_once_the_key_file_has_it(
    sessions: Sessions, clock: Clock, key_file: Path
) -> None:
    """A process whose file gained a key (a rotation by another process) reads its values at
    once, without waiting for its next look at the file."""
    member, _ = await add_member(sessions, clock)
    person_id = await engage_with_phone(sessions, clock, member)
    fresh = crypto.new_key()
    crypto.write_key_file(key_file, [fresh, *crypto.read_key_file(key_file)])
    token = Fernet(fresh).encrypt(b"+33611223344").decode()
    async with sessions.begin() as session:
        await session.exec(  # type: ignore[call-overload]
            text("UPDATE person SET phone = :t WHERE id = :id"),
            params={"t": token, "id": person_id},
        )
    async with sessions() as session:
        person = await session.get_one(Person, person_id, options=CONTACT)
    assert person.phone == "+33611223344"

    # A key file that no longer lists a key this process used: what it wrote still reads here.
    crypto.write_key_file(key_file, [crypto.new_key()])
    async with sessions.begin() as session:
        person = await session.get_one(Person, person_id, options=CONTACT)
        assert person.note == "Cherche un CAP cuisine."
        person.note = "Rappeler lundi."
    async with sessions() as session:
        person = await session.get_one(Person, person_id, options=CONTACT)
    assert (person.phone, person.note) == ("+33611223344", "Rappeler lundi.")


async def engage_with_phone(sessions: Sessions, clock: Clock, member: object) -> int:
    async with sessions.begin() as session:
        person = await people.engage(
            session=session,
            mediator=member,  # type: ignore[arg-type]
            profile=Profile(
                first_name="Amina", sex=Sex.FEMALE, age_bracket="26_44", residence="qpv",
                channel="event", registered_ft=Answer.NO, contact_consent=True,
                phone="06 11 22 33 44", note="Cherche un CAP cuisine.",
            ),
            now=clock(),
        )  # fmt: skip
        return person.id or 0


# --- The start check ------------------------------------------------------------------------
@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, empty_database_url: str
) -> Iterator[Path]:
    """`python -m bot`'s entry point in this process: settings from the environment, a new
    database, the key file under tmp_path; umask, logging and keys given back afterwards."""
    key_path = tmp_path / "cli" / "encryption.key"
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "DATA_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY_FILE", str(key_path))
    monkeypatch.setattr(cli, "configure_logging", lambda _level: None)
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        yield key_path
    finally:
        os.umask(umask)
        crypto.configure([TEST_KEY])


def refusal(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip()


async def add_phone(url: str, clock: Clock) -> int:
    """A person with a phone and a note, written with the keys `main` configured."""
    engine = create_engine(url)
    try:
        sessions = make_sessions(engine)
        member, _ = await add_member(sessions, clock)
        return await engage_with_phone(sessions, clock, member)
    finally:
        await engine.dispose()


async def forget_the_probe(url: str) -> None:
    """As a database written before the probe existed."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM app_setting WHERE key = 'encryption_probe'"))
    await engine.dispose()


async def phone_of(url: str, person_id: int) -> str | None:
    engine = create_engine(url)
    try:
        async with make_sessions(engine)() as session:
            return (await session.get_one(Person, person_id, options=CONTACT)).phone
    finally:
        await engine.dispose()


def test_start_refuses_keys_that_cannot_read_what_is_stored(
    cli_env: Path, empty_database_url: str, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = texts.CLI_KEYS_REFUSED.format(source=cli_env)
    assert cli.main(["migrate"]) == 0  # new database: a new key
    original = cli_env.read_text()
    person_id = asyncio.run(add_phone(empty_database_url, clock))

    cli_env.unlink()  # lost
    assert cli.main(["migrate"]) == 2
    assert refusal(capsys) == refused
    assert not cli_env.exists(), "no new key may replace the lost one"

    for content in (crypto.new_key() + "\n", "", "\n\n", "pas une clé\n", "\x00\xff garbage"):
        cli_env.write_text(content)  # replaced, empty, corrupt
        cli_env.chmod(0o600)
        assert cli.main(["migrate"]) == 2, repr(content)
        assert refusal(capsys) == refused
        assert cli_env.read_text() == content, "the operator's file is left as it is"

    cli_env.write_text(original)  # the backed-up key is back
    assert cli.main(["migrate"]) == 0
    assert asyncio.run(phone_of(empty_database_url, person_id)) == "+33611223344"


def test_a_database_from_before_the_probe_is_checked_on_its_values(
    cli_env: Path, empty_database_url: str, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    asyncio.run(add_phone(empty_database_url, clock))
    asyncio.run(forget_the_probe(empty_database_url))
    cli_env.write_text(crypto.new_key() + "\n")
    assert cli.main(["migrate"]) == 2
    assert refusal(capsys) == texts.CLI_KEYS_REFUSED.format(source=cli_env)


# --- Lists and pickers never decrypt ----------------------------------------------------------
async def test_a_value_no_key_reads_breaks_no_list_or_picker(
    app: BotApplication, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    amina = await engage_with_phone(sessions, clock, member)
    await engage_person(sessions, clock, member, "Binta")
    orientation_id = await orient_directly(app, sessions, clock, member, amina)
    foreign = Fernet(crypto.new_key())  # e.g. written while the key file was replaced
    async with sessions.begin() as session:
        for statement, value in (
            ("UPDATE person SET phone = :v WHERE id = :id", amina),
            ("UPDATE person SET note = :v WHERE id = :id", amina),
            ("UPDATE orientation SET note = :v WHERE id = :id", orientation_id),
        ):
            token = foreign.encrypt(b"Cherche un CAP cuisine.").decode()
            await session.exec(text(statement), params={"v": token, "id": value})  # type: ignore[call-overload]
        session.add(
            Interaction(person_id=amina, member_id=member.id, kind="call", at=clock(), note="x")
        )
    async with sessions.begin() as session:
        await session.exec(  # type: ignore[call-overload]
            text("UPDATE interaction SET note = :v"), params={"v": foreign.encrypt(b"x").decode()}
        )

    listed = await mediator.send("/personnes")
    assert "P-0001" in listed
    assert "P-0002" in listed
    assert "P-0001 · Amina" in await mediator.tap("P-0001")  # the card shows no phone or note
    await mediator.send("/orienter")
    assert "P-0001" in " ".join(mediator.labels())
    await mediator.send("/annuler")
    await mediator.send("/orienter")
    await mediator.send("amina")
    assert "P-0001" in " ".join(mediator.labels())
    await mediator.send("/annuler")
    await mediator.send("/contact")
    assert "P-0001" in " ".join(mediator.labels())
    await mediator.send("/annuler")
    assert "P-0001 Amina" in await mediator.send("/suivis")
    async with sessions() as session:
        assert (await session.get_one(Orientation, orientation_id)).person_id == amina


# --- Owner-only files -------------------------------------------------------------------------
def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "DATA_ENCRYPTION_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'aveq.sqlite3'}",
        DATA_ENCRYPTION_KEY_FILE=str(tmp_path / "data" / "encryption.key"),
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0o022,  # the usual umask: files 0644, folders 0755
    )


def modes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder.parent)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in [folder, *sorted(folder.rglob("*"))]
    }


def test_what_python_m_bot_creates_is_owner_only(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    found = modes(tmp_path / "data")
    assert {"data/aveq.sqlite3", "data/encryption.key"} <= set(found)
    assert found == {name: "0o700" if name == "data" else "0o600" for name in found}


def test_an_older_readable_database_is_tightened(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    (tmp_path / "data" / "aveq.sqlite3").chmod(0o644)  # as an earlier version left it
    result = run_cli(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert modes(tmp_path / "data")["data/aveq.sqlite3"] == "0o600"


async def test_rotation_goes_in_short_transactions_and_misses_no_row(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    for _ in range(3):
        await engage_with_phone(sessions, clock, member)
    fresh = Fernet(crypto.new_key())
    rotating = MultiFernet([fresh, Fernet(TEST_KEY)])
    done = await crypto.rotate_in_batches(sessions=sessions, rotating=rotating, batch=2)
    assert (done.rewritten, done.unreadable) == (6, 0)
    assert all(crypto.decrypts(fresh, t) for t in await raw_tokens(sessions))
