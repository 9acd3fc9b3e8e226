"""The information notice (GDPR art. 13) before the consent question, in the person's language,
and the consent record: what the person was shown, what they said, and its withdrawal."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest
from bidi import get_display
from sqlalchemy import text
from sqlmodel import select

from bot.app import BotApplication
from bot.callbacks import PersonRef
from bot.context import services_of
from bot.db import Sessions
from models import audit, consent, orientations, people
from models.consent import ConsentRecord, NoticeVersion
from models.orientations import Interaction, Mode, Orientation, Purpose
from models.people import Person
from models.reference import Partner
from tests.conftest import Clock, User, add_member
from tests.fakes import FakeBotAPI
from tests.test_followups import member_of
from tests.test_privacy import engage_with_contact

LANGUAGES = {"fr", "fr-facile", "en", "ar", "es", "pt", "ro"}
# Long values, as an operator might set them: the notices must still fit one message.
VALUES = consent.NoticeSettings(
    operator="Association Exemple pour l'emploi (Paris 20e)",
    retention_months=24,
    contact="+33 1 23 45 67 89 · dpo@association-exemple.fr",
)


def notice_files(folder: Path = consent.NOTICES_DIR) -> dict[str, dict]:
    return {
        path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.toml"))
    }


# --- The files -----------------------------------------------------------------------------
def test_every_language_file_has_the_keys_of_the_french_one_and_a_text() -> None:
    files = notice_files()
    assert set(files) >= LANGUAGES
    reference = set(files["fr"])
    for language, data in files.items():
        missing = reference - set(data)
        assert not missing, f"{language}.toml lacks {sorted(missing)}"
        for key in ("text", "question", "contact", "name", "version"):
            assert str(data[key]).strip(), f"{language}.toml: empty {key}"
        assert data["direction"] in {"ltr", "rtl"}


def test_every_placeholder_is_filled_and_every_notice_fits_one_message() -> None:
    for language, notice in consent.load_notices().items():
        shown = consent.render(notice, VALUES)
        question = consent.render_question(notice, VALUES)
        for part in (shown, question):
            assert not {"{", "}"} & set(part), f"{language}: a placeholder is left"
        assert "Association Exemple pour l'emploi (Paris 20e)" in shown, language
        assert "dpo@association-exemple.fr" in shown, language
        assert len(shown) <= consent.MAX_MESSAGE, language
        # Aim: about a third of a message, for someone who reads little.
        assert len(shown) < 1_600, (language, len(shown))
    # Without a contact set, its line is left out rather than shown half empty.
    french = consent.render(consent.load_notices()["fr"], VALUES.__class__("AVEQ", 24))
    assert "écrivez à" not in french
    assert "24\xa0mois" in french  # Babel's own wording of the retention, per language


def test_retention_is_worded_by_each_language_s_own_rules() -> None:
    notices = consent.load_notices()
    assert "24 de luni" in consent.render(notices["ro"], VALUES)
    assert "24 شهرًا" in consent.render(notices["ar"], VALUES)
    assert "6 أشهر" in consent.render(notices["ar"], VALUES.__class__("AVEQ", 6))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.replace('reviewed_by = ""\n', ""), "missing reviewed_by"),
        (lambda s: s.split('text = """')[0] + 'text = """\n  \n"""\n', "text is empty"),
        (lambda s: s.replace("{retention}", "{retention_years}"), "unknown placeholder"),
        (lambda s: s.replace('direction = "ltr"', 'direction = "up"'), "direction"),
    ],
)
def test_a_broken_notice_file_is_refused(tmp_path: Path, change, reason: str) -> None:
    source = (consent.NOTICES_DIR / "fr.toml").read_text(encoding="utf-8")
    (tmp_path / "fr.toml").write_text(change(source), encoding="utf-8")
    with pytest.raises(consent.NoticeError, match=reason):
        consent.load_notices(tmp_path)


def test_arabic_reads_right_to_left_with_latin_words_and_numbers_in_order() -> None:
    """What a phone shows: each line's direction comes from its first strong letter (Unicode
    bidi algorithm, as Telegram's apps apply it); `get_display` gives the visual order."""
    notice = consent.load_notices()["ar"]
    shown = consent.render(notice, VALUES) + "\n" + consent.render_question(notice, VALUES)
    lines = [line for line in shown.split("\n") if line.strip()]
    assert all(line.startswith(consent.RLM) for line in lines)
    visual = [get_display(line) for line in lines]
    everything = "\n".join(visual)
    # Values from the settings keep their own order inside the right-to-left text...
    assert "+33 1 23 45 67 89 · dpo@association-exemple.fr" in everything
    assert "Association Exemple pour l'emploi (Paris 20e)" in everything
    # ... and so do the Latin words and the number of the text.
    for kept in ("France Travail", "AVEQ", "Telegram", "cnil.fr", "24"):
        assert kept in everything
    # Without the marks, the same line of contact would come out scrambled on a phone.
    bare = "أو اكتب إلى: +33 1 23 45 67 89 · dpo@association-exemple.fr"
    assert "+33 1 23 45 67 89" not in get_display(bare)
    # Right-to-left: a line's first word in reading order is drawn at its right end.
    assert visual[0].rstrip(consent.RLM).endswith("معلومات"[::-1])


# --- In /nouveau -----------------------------------------------------------------------------
async def walk_to_notice(user: User) -> str:
    await user.send("/nouveau")
    await user.send("Amina")
    for label in ("Femme", "26-44 ans", "QPV", "Bouche-à-oreille", "Valider (0)", "Non"):
        await user.tap(label)
    return await user.tap("Non")  # RSA: the notice step comes next


async def record_of_only_person(sessions: Sessions) -> tuple[ConsentRecord, NoticeVersion | None]:
    async with sessions() as session:
        record = (await session.exec(select(ConsentRecord))).one()
        shown = await session.get(NoticeVersion, record.notice_id) if record.notice_id else None
    return record, shown


async def test_notice_shown_in_arabic_is_recorded_with_its_language_and_version(
    app: BotApplication, mediator: User, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    prompt = await walk_to_notice(mediator)
    assert "informer la personne" in prompt
    assert mediator.labels()[:2] == ["📄 Montrer l'information", "Déjà informé·e"]
    languages = await mediator.tap("📄 Montrer l'information")
    assert "tournez l'écran" in languages
    labels = mediator.labels()
    assert labels[0].startswith("français")  # nobody chose any yet: French first
    assert "arabe · العربية · traduction non relue" in labels
    assert {
        "anglais · English · traduction non relue",
        "roumain · Română · traduction non relue",
    } <= set(labels)
    before = len(api.chat(mediator.id))

    await mediator.tap("arabe")

    sent = api.chat(mediator.id)[before - 1 :]
    said, notice_message, question = sent[0].text, sent[1].text, sent[2].text
    assert "Information en arabe (version 1)" in said
    services = services_of(app)
    expected = consent.render(
        consent.load_notices()["ar"],
        consent.NoticeSettings(
            services.settings.operator_name, services.settings.retention_months
        ),
    )
    assert notice_message == expected  # one message, for the person
    assert notice_message.startswith(consent.RLM + "معلومات عن بياناتك")
    assert "coordonnées" in question
    assert "À lire à voix haute" in question
    assert "هل توافق على أن نحتفظ برقم هاتفك" in question
    assert "téléphone" in await mediator.tap("Oui, la personne accepte")
    await mediator.tap("Passer")
    summary = await mediator.tap("Passer")
    assert "Information : montrée" in summary
    assert "Langue de l'information : arabe · العربية" in summary
    clock.advance(minutes=2)
    assert "Enregistré : P-0001" in await mediator.tap("✅ Enregistrer")

    record, shown = await record_of_only_person(sessions)
    assert shown is not None
    assert (shown.language, shown.version, shown.direction) == ("ar", "1", "rtl")
    assert shown.text == expected
    assert record.given
    assert record.notice_shown_at == clock.now - dt.timedelta(minutes=2)
    assert record.withdrawn_at is None

    # The next time, this mediator's most used language comes first.
    await walk_to_notice(mediator)
    await mediator.tap("📄 Montrer l'information")
    assert mediator.labels()[0].startswith("arabe")


async def test_already_informed_skips_the_notice_in_one_tap(
    mediator: User, sessions: Sessions
) -> None:
    await walk_to_notice(mediator)
    question = await mediator.tap("Déjà informé·e")
    assert "coordonnées" in question
    assert "À lire à voix haute" in question
    await mediator.tap("Oui, la personne accepte")
    await mediator.tap("Passer")
    await mediator.tap("Passer")
    await mediator.tap("✅ Enregistrer")
    record, shown = await record_of_only_person(sessions)
    assert shown is None
    assert record.notice_shown_at is None
    assert record.given


async def test_consent_refused_means_no_phone_or_note_step(
    mediator: User, sessions: Sessions
) -> None:
    await walk_to_notice(mediator)
    await mediator.tap("📄 Montrer l'information")
    await mediator.tap("espagnol")
    summary = await mediator.tap("Non")
    assert "Vérifiez" in summary
    assert "Téléphone" not in summary
    assert "Note" not in summary
    assert "Passer" not in mediator.labels()
    await mediator.tap("✅ Enregistrer")
    record, shown = await record_of_only_person(sessions)
    assert not record.given
    assert shown is not None
    assert shown.language == "es"
    async with sessions() as session:
        query = select(Person).options(*people.with_contact_details())
        person = (await session.exec(query)).one()
    assert (person.phone, person.note, person.contact_consent) == (None, None, False)


async def test_the_voice_message_goes_with_the_notice(
    app: BotApplication, mediator: User, api: FakeBotAPI, tmp_path: Path
) -> None:
    folder = tmp_path / "notices"
    shutil.copytree(consent.NOTICES_DIR, folder)
    audio = b"OggS\x00\x02" + bytes(200)  # a stand-in voice file, generated here
    (folder / "ar.ogg").write_bytes(audio)
    arabic = folder / "ar.toml"
    arabic.write_text('audio = "ar.ogg"\n' + arabic.read_text(encoding="utf-8"), encoding="utf-8")
    services_of(app).settings.notices_dir = folder
    await walk_to_notice(mediator)
    await mediator.tap("📄 Montrer l'information")
    await mediator.tap("arabe")
    [(chat_id, _, upload)] = [f for f in api.files if f[1] == "voice"]
    assert chat_id == mediator.id
    assert upload[1] == audio
    kinds = [m.document for m in api.chat(mediator.id)[-3:]]
    assert kinds == [None, "voice", None]  # the notice, its voice, then the question


async def test_a_new_version_is_recorded_from_then_on_and_the_old_one_stays_readable(
    app: BotApplication, mediator: User, coordinator: User, api: FakeBotAPI,
    sessions: Sessions, tmp_path: Path,
) -> None:  # fmt: skip
    folder = tmp_path / "notices"
    shutil.copytree(consent.NOTICES_DIR, folder)
    services_of(app).settings.notices_dir = folder
    for first_name, version in (("Amina", "1"), ("Binta", "2")):
        if version == "2":
            french = folder / "fr.toml"
            source = french.read_text(encoding="utf-8")
            source = source.replace('version = "1"', 'version = "2"')
            source = source.replace("Information sur vos données", "Vos données, version deux")
            french.write_text(source, encoding="utf-8")
        await mediator.send("/nouveau")
        await mediator.send(first_name)
        for label in ("Femme", "26-44 ans", "QPV", "Bouche-à-oreille", "Valider (0)", "Non"):
            await mediator.tap(label)
        await mediator.tap("Non")
        await mediator.tap("📄 Montrer l'information")
        await mediator.tap("français")
        await mediator.tap("Non")
        await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        rows = (await session.exec(select(NoticeVersion).order_by(NoticeVersion.id))).all()
    assert [(r.language, r.version) for r in rows] == [("fr", "1"), ("fr", "2")]

    for code, version, title in (("P-0001", "1", "Information sur vos données"),
                                 ("P-0002", "2", "Vos données, version deux")):  # fmt: skip
        await coordinator.send(f"/donnees {code}")
        assert f"(version {version})" in coordinator.last.text or any(
            f"(version {version})" in m.text for m in api.chat(coordinator.id)[-2:]
        )
        content = api.files[-1][2][1]
        record = json.loads(content)["consent"]
        assert record["notice_version"] == version
        assert record["notice_text"].startswith(title)


# --- The record in /donnees, and withdrawal --------------------------------------------------
async def test_donnees_shows_the_record(
    mediator: User, coordinator: User, api: FakeBotAPI, sessions: Sessions
) -> None:
    await walk_to_notice(mediator)
    await mediator.tap("📄 Montrer l'information")
    await mediator.tap("arabe")
    await mediator.tap("Oui, la personne accepte")
    await mediator.tap("Passer")
    await mediator.tap("Passer")
    await mediator.tap("✅ Enregistrer")

    await coordinator.send("/donnees P-0001")

    said = next(m.text for m in api.chat(coordinator.id) if "droit d'accès" in m.text)
    assert "Information et accord :" in said
    assert "information montrée le 10/03/2026 10:30 en العربية (ar) (version 1)" in said
    assert "accord pour les coordonnées donné le 10/03/2026 10:30" in said
    assert "retiré" not in said
    [(_, _, (_, content, _))] = [f for f in api.files if f[0] == coordinator.id]
    record = json.loads(content)["consent"]
    assert record["notice_language"] == "ar"
    assert record["notice_version"] == "1"
    assert record["consent"] == "given"
    assert record["notice_text"].startswith(consent.RLM + "معلومات عن بياناتك")
    assert record["notice_reviewed_by"] is None  # not reviewed, said so


async def test_a_person_recorded_before_the_notice_has_no_record_said_so(
    sessions: Sessions, clock: Clock, mediator: User, coordinator: User
) -> None:
    member = await member_of(sessions, mediator)
    await engage_with_contact(sessions, clock, member, "Amina")
    await coordinator.send("/donnees P-0001")
    assert any("rien d'enregistré" in m.text for m in coordinator.api.chat(coordinator.id))


def file_bytes(database_url: str) -> bytes:
    path = Path(database_url.split("///", 1)[1])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def test_withdrawal_erases_phone_and_notes_at_once_and_is_audited(
    app: BotApplication, database_url: str, mediator: User, coordinator: User,
    sessions: Sessions, clock: Clock,
) -> None:  # fmt: skip
    member = await member_of(sessions, mediator)
    person_id = await engage_with_contact(sessions, clock, member, "Amina")
    services = services_of(app)
    async with sessions.begin() as session:
        plie = (await session.exec(select(Partner).where(Partner.code == "plie-paris"))).one()
        orientation = await orientations.orient(
            session=session, actor=member, person_id=person_id, partner_id=plie.id,
            purpose=Purpose.SUPPORT, mode=Mode.APPOINTMENT, appointment_on=None,
            note="Dossier suivi au PLIE.", now=clock(), today=services.today(),
            policy=services.settings.followup_policy,
        )  # fmt: skip
    async with sessions() as session:
        stored = (
            await session.exec(text(f"SELECT phone, note FROM person WHERE id = {person_id}"))  # type: ignore[call-overload]
        ).one()
        stored_orientation_note = (
            await session.exec(
                text(f"SELECT note FROM orientation WHERE id = {orientation.id}")  # type: ignore[call-overload]
            )
        ).one()[0]
    ciphertexts = [value.encode() for value in (*stored, stored_orientation_note)]
    on_sqlite = database_url.startswith("sqlite")
    if on_sqlite:  # the test can fail: the values are in the file before
        assert all(c in file_bytes(database_url) for c in ciphertexts)

    # Another mediator cannot withdraw it, even with a forged button.
    _, other_id = await add_member(sessions, clock, name="Karim Haddad")
    other = User(app, mediator.api, other_id)
    await other.press(PersonRef("withdraw", person_id).pack(), message_id=1)
    await other.press(PersonRef("unconsent", person_id).pack(), message_id=1)
    async with sessions() as session:
        kept = await session.get_one(Person, person_id, options=people.with_contact_details())
        assert kept.phone == "+33611223344"

    await mediator.send("/personnes")
    await mediator.tap("P-0001 · Amina")
    assert "Retirer l'accord (coordonnées)" in mediator.labels()
    confirm = await mediator.tap("Retirer l'accord")
    assert "téléphone et toutes ses notes seront effacés" in confirm
    assert "P-0001 : accord retiré" in await mediator.tap("Oui, retirer l'accord")

    async with sessions() as session:
        raw = (
            await session.exec(
                text(
                    "SELECT phone, note, contact_consent FROM person "  # type: ignore[call-overload]
                    f"WHERE id = {person_id}"
                )
            )
        ).one()
        notes = (
            await session.exec(select(Orientation.note).where(Orientation.person_id == person_id))
        ).all()
        contact_notes = (
            await session.exec(select(Interaction.note).where(Interaction.person_id == person_id))
        ).all()
        record = await session.get_one(ConsentRecord, person_id)
        events = await audit.events(session=session, action="withdraw_consent")
    assert (raw[0], raw[1], bool(raw[2])) == (None, None, False)
    assert set(notes) | set(contact_notes) == {None}
    assert record.withdrawn_at == clock.now
    assert [(e.subject, e.member_id) for e in events] == [("P-0001", member.id)]
    if on_sqlite:  # not in the database file nor in its log, in any form
        raw_bytes = file_bytes(database_url)
        for secret in (*ciphertexts, b"611223344", b"emploi de nuit", b"suivi au PLIE"):
            assert secret not in raw_bytes
    # The card no longer offers it; the journal says who did it.
    await mediator.send("/personnes")
    assert "P-0001 · Amina" in await mediator.tap("P-0001 · Amina")
    assert "Orienter" in mediator.labels()
    assert "Retirer l'accord (coordonnées)" not in mediator.labels()
    journal = await coordinator.send("/journal")
    assert "Samia Benali · a enregistré le retrait d'accord · P-0001" in journal
    await coordinator.send("/donnees P-0001")
    assert any("accord retiré le" in m.text for m in coordinator.api.chat(coordinator.id))


async def test_a_broken_notice_file_leaves_the_mediator_to_inform_by_voice(
    app: BotApplication, mediator: User, sessions: Sessions, tmp_path: Path
) -> None:
    folder = tmp_path / "notices"
    shutil.copytree(consent.NOTICES_DIR, folder)
    (folder / "en.toml").write_text('version = "2"\n', encoding="utf-8")  # an edit gone wrong
    services_of(app).settings.notices_dir = folder
    await walk_to_notice(mediator)
    question = await mediator.tap("📄 Montrer l'information")
    assert "n'a pas pu être affichée" in question
    assert "coordonnées" in question
    await mediator.tap("Non")
    await mediator.tap("✅ Enregistrer")
    record, shown = await record_of_only_person(sessions)
    assert shown is None
    assert not record.given


async def test_the_record_stays_out_of_stats_and_exports(
    mediator: User, coordinator: User, api: FakeBotAPI
) -> None:
    await walk_to_notice(mediator)
    await mediator.tap("📄 Montrer l'information")
    await mediator.tap("arabe")
    await mediator.tap("Non")
    await mediator.tap("✅ Enregistrer")
    await coordinator.send("/export")
    await coordinator.tap("Ce mois")  # the files follow, built off the event loop
    await api.wait_until(lambda a: sum(kind == "document" for _, kind, _ in a.files) >= 2)
    exported = [params for _, kind, params in api.files if kind == "document"]
    assert len(exported) == 2  # the workbook and the CSV zip
    everything = b""
    for _, content, _ in exported:
        everything += content
        if content.startswith(b"PK"):  # XLSX and zip: read every member
            with zipfile.ZipFile(io.BytesIO(content)) as files:
                everything += b"".join(files.read(name) for name in files.namelist())
    await coordinator.send("/stats")
    await coordinator.tap("Toute l'équipe")
    stats = await coordinator.tap("Ce mois")
    assert "Nouvelles personnes accrochées : 1" in stats
    for trace in ("العربية", "arabe", "notice", "معلومات"):
        assert trace.encode() not in everything
        assert trace not in stats
    assert b"P-0001" in everything  # the person is exported, without the record
