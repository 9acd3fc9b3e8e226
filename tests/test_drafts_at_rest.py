"""What a member types before saving (drafts) is stored encrypted, and drafts naming a person
who is erased or anonymised are dropped."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions
from jobs.retention import run_retention
from models import botstate, crypto
from tests.conftest import TEST_KEY, Clock, User, engage_person
from tests.test_followups import member_of

PHONE_TYPED, PHONE_STORED = "06 98 76 54 32", "+33698765432"
NOTE = "Cherche un CAP cuisine en alternance."


def database_bytes(database_url: str) -> bytes:
    """Every byte SQLite keeps of the database: the file and its write-ahead log."""
    path = Path(make_url(database_url).database or "")
    files = [path, path.with_name(path.name + "-wal")]
    for file in files:
        assert file.exists()
    return b"".join(f.read_bytes() for f in files)


async def stored_drafts(sessions: Sessions) -> list[str]:
    """The `user_state` column as stored (no decryption)."""
    async with sessions() as session:
        return list((await session.exec(text("SELECT data FROM user_state"))).scalars())  # type: ignore[call-overload]


def assert_nowhere(secrets: list[str], stored: list[str], database_url: str) -> None:
    assert stored, "the flow in progress has a draft"
    for value in stored:
        assert value.startswith("gAAAAA")  # a Fernet token
        for secret in secrets:
            assert secret not in value
    if database_url.startswith("sqlite"):
        raw = database_bytes(database_url)
        for secret in secrets:
            assert secret.encode() not in raw, f"{secret!r} in the database files"


async def test_an_unfinished_nouveau_leaves_no_name_phone_or_note_in_clear(
    mediator: User, sessions: Sessions, database_url: str
) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Yasmina")
    for label in ("Femme", "Moins de 26 ans", "QPV", "Bouche-à-oreille", "Valider (0)"):
        await mediator.tap(label)
    for label in ("Oui", "Non", "Ne sait pas", "Déjà informé·e", "Oui, la personne accepte"):
        await mediator.tap(label)
    assert "note" in await mediator.send(PHONE_TYPED)
    summary = await mediator.send(NOTE)
    assert "Prénom : Yasmina" in summary  # the draft really holds them, readable by the bot
    assert "Vérifiez" in summary

    secrets = ["Yasmina", PHONE_TYPED, PHONE_STORED, "98 76 54", "CAP cuisine"]
    assert_nowhere(secrets, await stored_drafts(sessions), database_url)
    saved = await mediator.tap("✅ Enregistrer")
    assert "Enregistré : P-0001 (Yasmina)" in saved


async def test_an_unfinished_orienter_leaves_no_label_or_note_in_clear(
    mediator: User, sessions: Sessions, clock: Clock, database_url: str
) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member, "Yasmina", consent=True)
    await mediator.send("/orienter")
    for label in ("P-0001", "Mission Locale / PRIJ", "PRIJ", "Formation", "Information"):
        await mediator.tap(label)
    assert "note" in await mediator.send("lundi")
    summary = await mediator.send(NOTE)
    assert "P-0001 Yasmina" in summary

    assert_nowhere(["P-0001 Yasmina", "CAP cuisine"], await stored_drafts(sessions), database_url)


async def open_orientation_draft(mediator: User, sessions: Sessions, clock: Clock) -> int:
    """An /orienter left at its second step, for a person the mediator follows."""
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member, "Yasmina")
    await mediator.send("/orienter")
    assert "vers quel type" in await mediator.tap("P-0001 Yasmina")
    return person_id


async def drafts_of(sessions: Sessions) -> dict[int, dict]:
    async with sessions() as session:
        return await botstate.load_user_data(session=session)


async def test_erasing_a_person_drops_the_drafts_naming_them(
    mediator: User, coordinator: User, sessions: Sessions, clock: Clock
) -> None:
    await open_orientation_draft(mediator, sessions, clock)
    # Another draft of the coordinator's, naming nobody, stays.
    assert "Quel type" in await coordinator.send("/evenement")
    before = await drafts_of(sessions)
    assert "or" in before[mediator.id]["drafts"]
    kept = before[coordinator.id]

    await coordinator.send("/effacer P-0001")
    assert "effacées" in await coordinator.tap("Oui, effacer")

    after = await drafts_of(sessions)
    assert mediator.id not in after  # the mediator had no other draft: no row left
    assert after[coordinator.id] == kept
    # The mediator's conversation ends politely at their next answer, with nothing saved.
    assert "n'est plus en cours" in await mediator.tap("France Travail")


async def test_anonymising_drops_the_drafts_naming_the_person(
    app: BotApplication, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    person_id = await open_orientation_draft(mediator, sessions, clock)
    async with sessions.begin() as session:
        await session.exec(
            text(f"UPDATE person SET last_contact_at = '2020-01-01' WHERE id = {person_id}")  # type: ignore[call-overload]
        )
    assert (await run_retention(services_of(app)))["anonymised"] == 1
    assert mediator.id not in await drafts_of(sessions)
    assert "n'est plus en cours" in await mediator.tap("France Travail")


async def test_forget_person_in_drafts_keeps_other_people_and_other_forms(
    sessions: Sessions, clock: Clock
) -> None:
    now = clock()
    data = {
        "drafts": {
            "or": {"person_id": 7, "person": "P-0007 Yasmina", "touched": now.isoformat()},
            "ct": {"person_id": 8, "touched": now.isoformat()},
            "nv": {"values": {"first_name": "Awa"}, "touched": now.isoformat()},
        }
    }
    async with sessions.begin() as session:
        await botstate.save_user_data(session=session, user_id=1, data=data, now=now)
        await botstate.save_user_data(
            session=session, user_id=2, data={"drafts": {"ct": {"person_id": 7}}}, now=now
        )
    async with sessions.begin() as session:
        assert await botstate.forget_person_in_drafts(session=session, person_id=7) == 2
    async with sessions.begin() as session:
        assert await botstate.forget_person_in_drafts(session=session, person_id=7) == 0
    left = await drafts_of(sessions)
    assert set(left) == {1}
    assert set(left[1]["drafts"]) == {"ct", "nv"}
    assert left[1]["drafts"]["nv"]["values"] == {"first_name": "Awa"}


async def test_key_rotation_re_encrypts_drafts(sessions: Sessions, clock: Clock) -> None:
    data = {"drafts": {"or": {"person_id": 1, "person": "P-0001 Yasmina"}}}
    async with sessions.begin() as session:
        await botstate.save_user_data(session=session, user_id=1, data=data, now=clock())
    fresh = Fernet.generate_key().decode()
    try:
        async with sessions.begin() as session:
            rotating = MultiFernet([Fernet(fresh), Fernet(TEST_KEY)])
            assert await botstate.reencrypt_drafts(session=session, rotating=rotating) == 1
        crypto.configure([fresh])  # the old key is gone: the draft still reads
        assert await drafts_of(sessions) == {1: data}
    finally:
        crypto.configure([TEST_KEY])
    # Under a key no longer configured, a draft is abandoned, not an error.
    assert await drafts_of(sessions) == {}
