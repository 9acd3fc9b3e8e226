"""Domain rules without Telegram, on the lane's database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from bot.dates import parse_day
from bot.db import Sessions
from models import people, reference
from models.errors import DomainError
from models.people import Answer, Person, Profile, Sex
from models.reference import Kind, ReferenceItem
from tests.conftest import Clock, add_member


def profile(**changes: object) -> Profile:
    base = Profile(
        first_name="Amina",
        sex=Sex.FEMALE,
        age_bracket="under_26",
        residence="qpv",
        channel="word_of_mouth",
        barriers=["french"],
        registered_ft=Answer.YES,
        referent_contact_5m=Answer.NO,
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


async def test_reference_reload_relabels_and_retires_without_touching_people(
    sessions: Sessions, clock: Clock, tmp_path: Path
) -> None:
    member, _ = await add_member(sessions, clock)
    async with sessions.begin() as session:
        person = await people.engage(
            session=session, mediator=member, profile=profile(), now=clock()
        )
    edited = reference.REFERENCE_FILE.read_text(encoding="utf-8")
    edited = edited.replace('label = "Niveau de français"', 'label = "Maîtrise du français"')
    edited = edited.replace(
        'code = "digital"\nlabel = "Numérique"',
        'code = "digital"\nlabel = "Numérique"\nenabled = false',
    )
    changed = tmp_path / "reference.toml"
    changed.write_text(edited, encoding="utf-8")
    for _ in range(2):  # idempotent
        async with sessions.begin() as session:
            await reference.load_reference_data(session=session, path=changed)
    async with sessions() as session:
        labels = await reference.labels(session=session, kind=Kind.BARRIER)
        offered = await reference.active_codes(session=session, kind=Kind.BARRIER)
        count = len(
            (
                await session.exec(select(ReferenceItem).where(ReferenceItem.kind == "barrier"))
            ).all()
        )
        barriers = await people.barriers_of(session=session, person_id=person.id)
    assert labels["french"] == "Maîtrise du français"
    assert "digital" not in offered
    assert "health" not in offered
    assert count == 10
    assert barriers == ["french"]


async def test_health_barrier_is_off_by_default(sessions: Sessions) -> None:
    async with sessions() as session:
        assert "health" not in await reference.active_codes(session=session, kind=Kind.BARRIER)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"phone": "0612345678"}, "consent_required"),
        ({"note": "note"}, "consent_required"),
        ({"barriers": ["health"]}, "choice_invalid"),
        ({"age_bracket": "ancient"}, "choice_invalid"),
        ({"registered_ft": Answer.NO}, "choice_invalid"),  # referent answer without registration
        ({"first_name": "   "}, "first_name_invalid"),
        ({"first_name": "x" * 41}, "first_name_too_long"),
        ({"contact_consent": True, "phone": "0012"}, "phone_invalid"),
        ({"contact_consent": True, "note": "n" * 281}, "note_too_long"),
    ],
)
async def test_engage_refuses_what_the_rules_forbid(
    sessions: Sessions, clock: Clock, changes: dict, key: str
) -> None:
    member, _ = await add_member(sessions, clock)
    with pytest.raises(DomainError) as error:
        async with sessions.begin() as session:
            await people.engage(
                session=session, mediator=member, profile=profile(**changes), now=clock()
            )
    assert error.value.key == key
    async with sessions() as session:
        assert (await session.exec(select(Person))).all() == []


async def test_duplicates_forgive_accents_case_and_small_typos(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    other, _ = await add_member(sessions, clock, name="Karim")
    async with sessions.begin() as session:
        for first_name in ("Aïssatou", "Aïcha"):
            await people.engage(
                session=session, mediator=member, profile=profile(first_name=first_name),
                now=clock(),
            )  # fmt: skip
        await people.engage(
            session=session, mediator=other, profile=profile(first_name="Aïcha"), now=clock()
        )
    async with sessions() as session:

        async def similar(first_name: str) -> list[str]:
            found = await people.likely_duplicates(
                session=session, mediator=member, first_name=first_name
            )
            assert all(p.mediator_id == member.id for p in found)
            return [p.first_name for p in found]

        assert await similar("AICHA") == ["Aïcha"]
        assert await similar("Aissatou") == ["Aïssatou"]
        assert await similar("Aisatou") == ["Aïssatou"]
        assert await similar("Ai") == []  # a whole name, not the start of one
        assert await similar("Moussa") == []


def test_person_codes_round_trip() -> None:
    assert people.person_code(421) == "P-0421"
    for text in ("P-0421", "p421", "421", " P 0421 "):
        assert people.parse_person_code(text) == 421
    assert people.parse_person_code("Amina") is None


@pytest.mark.parametrize(
    ("text", "past", "expected"),
    [
        ("12/03", False, dt.date(2026, 3, 12)),
        ("12/03/2026", False, dt.date(2026, 3, 12)),
        ("06/03", True, dt.date(2026, 3, 6)),
        ("12/03", True, dt.date(2025, 3, 12)),
        ("lundi", False, dt.date(2026, 3, 16)),
        ("lundi", True, dt.date(2026, 3, 9)),
        ("Demain", False, dt.date(2026, 3, 11)),
        ("31/02", False, None),
        ("bonjour", False, None),
    ],
)
def test_typed_dates(text: str, past: bool, expected: dt.date | None) -> None:
    assert parse_day(text, today=dt.date(2026, 3, 10), past=past) == expected
