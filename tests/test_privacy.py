"""Personal data as the CNIL expects: encryption at rest, retention, access, erasure, audit."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text
from sqlmodel import select

from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions, create_engine, make_sessions, upgrade_database
from jobs.retention import run_retention
from models import crypto, people, reference, stats
from models.people import Answer, Person, Profile, Sex
from models.stats import Period, Scope
from tests.conftest import TEST_KEY, Clock, User, add_member, engage_person
from tests.test_followups import member_of, orient_directly

CONTACT = people.with_contact_details()

ROOT = Path(__file__).resolve().parent.parent


async def engage_with_contact(sessions: Sessions, clock: Clock, member, name: str) -> int:
    async with sessions.begin() as session:
        person = await people.engage(
            session=session,
            mediator=member,
            profile=Profile(
                first_name=name, sex=Sex.FEMALE, age_bracket="26_44", residence="qpv",
                channel="event", registered_ft=Answer.NO, contact_consent=True,
                phone="06 11 22 33 44", note="Cherche un emploi de nuit.",
            ),
            now=clock(),
        )  # fmt: skip
        return person.id or 0


async def test_phones_and_notes_are_encrypted_at_rest(sessions: Sessions, clock: Clock) -> None:
    member, _ = await add_member(sessions, clock)
    person_id = await engage_with_contact(sessions, clock, member, "Amina")
    async with sessions() as session:
        raw = (
            await session.exec(text(f"SELECT phone, note FROM person WHERE id = {person_id}"))  # type: ignore[call-overload]
        ).one()
        person = await session.get_one(Person, person_id, options=CONTACT)
    for stored in raw:
        assert stored.startswith("gAAAAA")  # a Fernet token
        assert "611223344" not in stored
        assert "nuit" not in stored
    assert (person.phone, person.note) == ("+33611223344", "Cherche un emploi de nuit.")


async def test_key_rotation_rewrites_every_value(sessions: Sessions, clock: Clock) -> None:
    member, _ = await add_member(sessions, clock)
    person_id = await engage_with_contact(sessions, clock, member, "Amina")
    fresh = Fernet.generate_key().decode()
    try:
        async with sessions.begin() as session:
            rewritten = await crypto.reencrypt_all(
                session=session, rotating=MultiFernet([Fernet(fresh), Fernet(TEST_KEY)])
            )
        assert rewritten == 2
        crypto.configure([fresh])  # the old key is gone: values must still read
        async with sessions() as session:
            assert (
                await session.get_one(Person, person_id, options=CONTACT)
            ).phone == "+33611223344"
    finally:
        crypto.configure([TEST_KEY])


def test_key_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "encryption.key"
    keys = crypto.load_or_create_key_file(path)
    assert len(keys) == 1
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert crypto.load_or_create_key_file(path) == keys
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError):
        crypto.load_or_create_key_file(path)


async def test_retention_anonymises_exactly_the_people_due_and_keeps_the_figures(
    app: BotApplication, sessions: Sessions, clock: Clock
) -> None:
    services = services_of(app)
    member, _ = await add_member(sessions, clock)
    clock.now = dt.datetime(2024, 3, 10, 10, 0, tzinfo=dt.UTC)
    old = await engage_with_contact(sessions, clock, member, "Ancienne")
    await orient_directly(app, sessions, clock, member, old)
    clock.now = dt.datetime(2024, 3, 11, 10, 0, tzinfo=dt.UTC)
    recent = await engage_with_contact(sessions, clock, member, "Récente")
    period = Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))

    async def figures() -> stats.Indicators:
        async with sessions() as session:
            return await stats.compute(
                session=session, period=period, scope=Scope(), tz=services.settings.tz,
                today=dt.date(2024, 12, 31),
            )  # fmt: skip

    before = await figures()
    # 24 months and a day after the first person's last contact, a day short for the second.
    clock.now = dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)
    assert await run_retention(services) == {
        "anonymised": 1,
        "drafts_purged": 0,
        "audit_purged": 0,
    }
    assert (await run_retention(services))["anonymised"] == 0
    async with sessions() as session:
        gone = await session.get_one(Person, old, options=CONTACT)
        kept = await session.get_one(Person, recent, options=CONTACT)
    assert (gone.first_name, gone.phone, gone.note, gone.contact_consent) == (
        "Anonyme",
        None,
        None,
        False,
    )
    assert (gone.channel, gone.engaged_at) == (
        "event",
        dt.datetime(2024, 3, 10, 10, 0, tzinfo=dt.UTC),
    )
    assert (kept.first_name, kept.phone) == ("Récente", "+33611223344")
    after = await figures()
    assert (after.engaged, after.engaged_by, after.orientations.total) == (
        before.engaged, before.engaged_by, before.orientations.total,
    )  # fmt: skip


async def test_access_erase_and_journal(
    app: BotApplication,
    api,
    mediator: User,
    coordinator: User,
    sessions: Sessions,
    clock: Clock,
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_with_contact(sessions, clock, member, "Amina")
    await coordinator.send("/donnees P-0001")
    assert any("droit d'accès" in m.text for m in api.chat(coordinator.id))
    [(_, _, (filename, content, _))] = [f for f in api.files if f[0] == coordinator.id]
    record = json.loads(content)
    assert filename == "P-0001-donnees.json"
    assert record["person"]["first_name"] == "Amina"
    assert record["person"]["note"] == "Cherche un emploi de nuit."
    assert "pas disponible" in await mediator.send("/donnees P-0001")
    assert "Indiquez le code" in await coordinator.send("/effacer")
    assert "définitive" in await coordinator.send("/effacer P-0001")
    assert "effacées" in await coordinator.tap("Oui, effacer")
    async with sessions() as session:
        person = await session.get_one(Person, person_id, options=CONTACT)
    assert (person.first_name, person.phone, person.note) == ("Anonyme", None, None)
    journal = await coordinator.send("/journal")
    assert "Claire Martin · a effacé · P-0001" in journal
    assert "Claire Martin · a extrait le dossier · P-0001" in journal
    assert "Amina" not in journal


async def test_retention_dry_run_lists_codes_only(empty_database_url: str, clock: Clock) -> None:
    await asyncio.to_thread(upgrade_database, empty_database_url)
    engine = create_engine(empty_database_url)
    sessions = make_sessions(engine)
    async with sessions.begin() as session:
        await reference.load_reference_data(session=session)
    member, _ = await add_member(sessions, clock)
    clock.now = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    await engage_person(sessions, clock, member, "Oubliée")
    env = {**os.environ, "DATABASE_URL": empty_database_url, "DATA_ENCRYPTION_KEY": TEST_KEY}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "retention", "--dry-run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = (part.decode() for part in await process.communicate())
    assert process.returncode == 0, err
    assert "P-0001 · dernier contact le 01/01/2020" in out
    assert "Oubliée" not in out + err
    async with sessions() as session:
        assert (await session.exec(select(Person))).one().first_name == "Oubliée"
    await engine.dispose()


async def test_messages_holding_a_phone_or_a_note_are_deleted_once_saved(
    api,
    mediator: User,
) -> None:
    from tests.test_nouveau import walk_to_summary

    await walk_to_summary(mediator)  # types a phone and a note
    assert api.method_calls("deleteMessage") == []
    await mediator.tap("✅ Enregistrer")
    deleted = api.method_calls("deleteMessage")
    assert len(deleted) == 2
    assert {int(d["chat_id"]) for d in deleted} == {mediator.id}
    assert all(
        "+33" not in m.text and "restauration" not in m.text for m in api.chat(mediator.id)[-1:]
    )


async def test_backup_then_restore(empty_database_url: str, clock: Clock, tmp_path: Path) -> None:
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("the online backup is for the embedded SQLite file (pg_dump on PostgreSQL)")
    await asyncio.to_thread(upgrade_database, empty_database_url)
    engine = create_engine(empty_database_url)
    sessions = make_sessions(engine)
    async with sessions.begin() as session:
        await reference.load_reference_data(session=session)
    member, _ = await add_member(sessions, clock)
    await engage_with_contact(sessions, clock, member, "Amina")
    env = {**os.environ, "DATABASE_URL": empty_database_url, "DATA_ENCRYPTION_KEY": TEST_KEY}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", "--to", str(tmp_path / "backups"), cwd=ROOT,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = (part.decode() for part in await process.communicate())
    assert process.returncode == 0, err
    [copy] = (tmp_path / "backups").iterdir()
    assert str(copy) in out
    await engine.dispose()
    # Restore: the copy is a working database (with the same key).
    restored = create_engine(f"sqlite+aiosqlite:///{copy}")
    async with make_sessions(restored)() as session:
        person = (await session.exec(select(Person).options(*CONTACT))).one()
    await restored.dispose()
    assert (person.first_name, person.phone) == ("Amina", "+33611223344")
