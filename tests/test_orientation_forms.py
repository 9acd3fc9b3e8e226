"""/orienter, /contact and /sortie as forms: the person-picking step, the doors from a card,
and the taps of /orienter's common path, counted on the real bot."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import undefer
from sqlmodel import col, select

from bot import texts
from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions
from models import orientations
from models.orientations import ExitReason, Interaction, Orientation
from models.people import Person
from models.reference import Partner
from tests.conftest import Clock, User, engage_person
from tests.test_followups import member_of


class Thumb:
    """Taps buttons for a user and counts them."""

    def __init__(self, user: User) -> None:
        self.user, self.taps = user, 0

    async def tap(self, label: str) -> str:
        self.taps += 1
        return await self.user.tap(label)


async def only_orientation(sessions: Sessions) -> Orientation:
    async with sessions() as session:
        return (await session.exec(select(Orientation))).one()


async def test_orienter_common_path_takes_six_taps(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    await engage_person(sessions, clock, await member_of(sessions, mediator))
    thumb = Thumb(mediator)
    await mediator.send("/orienter")
    await thumb.tap("P-0001 Amina")
    assert "Vers France Travail : pour quoi" in await thumb.tap("France Travail")
    await thumb.tap("Accompagnement")
    await thumb.tap("Rendez-vous pris")
    await thumb.tap("Demain")
    assert "Orientation enregistrée" in await thumb.tap(texts.NEW_SAVE)
    assert thumb.taps == 6  # 7 before the partner of a one-partner category was chosen alone
    orientation = await only_orientation(sessions)
    async with sessions() as session:
        partner = await session.get_one(Partner, orientation.partner_id)
    assert (partner.code, orientation.purpose, orientation.mode) == (
        "france-travail",
        "support",
        "appointment",
    )
    assert orientation.appointment_on == dt.date(2026, 3, 11)


async def test_information_asks_no_appointment(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    await engage_person(sessions, clock, await member_of(sessions, mediator))
    thumb = Thumb(mediator)
    await mediator.send("/orienter")
    for label in ("P-0001", "PLIE", "Emploi"):
        await thumb.tap(label)
    summary = await thumb.tap("Information")
    assert summary.startswith("Vérifiez")
    assert "Rendez-vous : aucun" in summary
    await thumb.tap(texts.NEW_SAVE)
    assert thumb.taps == 5
    orientation = await only_orientation(sessions)
    assert (orientation.mode, orientation.appointment_on) == ("information", None)


async def test_changing_the_mode_to_information_drops_the_appointment(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    await engage_person(sessions, clock, await member_of(sessions, mediator))
    await mediator.send("/orienter")
    for label in ("P-0001", "France Travail", "Emploi", "Rendez-vous pris", "Demain"):
        await mediator.tap(label)
    await mediator.tap(texts.NEW_EDIT)
    assert "Comment" in await mediator.tap(texts.ORIENT_FIELD_NAMES["mode"])
    assert "Rendez-vous : aucun" in await mediator.tap("Information")
    await mediator.tap(texts.NEW_SAVE)
    orientation = await only_orientation(sessions)
    assert (orientation.mode, orientation.appointment_on) == ("information", None)


async def test_the_picker_offers_recent_people_and_refuses_a_closed_mediation(
    app: BotApplication, mediator: User, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    awa = await engage_person(sessions, clock, member, "Awa")
    await engage_person(sessions, clock, member, "Binta")
    async with sessions.begin() as session:
        await orientations.exit_person(
            session=session, actor=member, person_id=awa, reason=ExitReason.MOVED,
            on=clock().date(), today=services_of(app).today(), now=clock(),
        )  # fmt: skip
    assert "Quelle personne" in await mediator.send("/orienter")
    assert mediator.labels()[0] == "P-0002 Binta"  # open mediations only
    assert "P-0001 Awa" not in mediator.labels()
    assert "Résultats pour « awa »" in await mediator.send("awa")  # a search finds everyone
    refused = await mediator.tap("P-0001 Awa")
    assert refused.startswith(texts.domain_error("person_exited"))
    assert "Résultats pour « awa »" in refused  # the same question
    none = await mediator.send("Zoé")
    assert none.startswith("Personne ne correspond à « Zoé »")
    await mediator.send("binta")
    assert "P-0002 Binta : vers quel type" in await mediator.tap("P-0002 Binta")
    # /contact takes anyone followed, a closed mediation included.
    await mediator.send("/annuler")
    await mediator.send("/contact")
    await mediator.send("awa")
    assert "P-0001 Awa : quel contact" in await mediator.tap("P-0001 Awa")
    await mediator.tap("Entretien")
    async with sessions() as session:
        contact = (await session.exec(select(Interaction))).one()
    assert contact.person_id == awa


async def test_nobody_followed_yet(mediator: User, sessions: Sessions) -> None:
    for command in ("/orienter", "/contact", "/sortie"):
        assert await mediator.send(command) == texts.PICK_PERSON_EMPTY
        assert "Quelle personne" not in await mediator.send("amina")  # no form started


async def test_a_card_starts_each_form_with_its_person(
    mediator: User, sessions: Sessions, clock: Clock
) -> None:
    person_id = await engage_person(sessions, clock, await member_of(sessions, mediator))
    await mediator.press(f"ps:contact:{person_id}", message_id=1)
    assert mediator.last.text == "P-0001 Amina : quel contact ?"
    assert "Contact enregistré avec P-0001 Amina (appel)" in await mediator.tap("Appel")
    await mediator.press(f"ps:exit:{person_id}", message_id=1)
    assert "P-0001 Amina : pour quelle raison" in mediator.last.text
    assert texts.BACK not in mediator.labels()  # nothing before: the person was given
    await mediator.tap("Déménagement")
    await mediator.send("hier")
    assert "Médiation close" in await mediator.tap(texts.EXIT_CONFIRM_YES)
    async with sessions() as session:
        person = await session.get_one(Person, person_id)
    assert (person.status, person.exit_reason, person.exited_on) == (
        "exited",
        "moved",
        dt.date(2026, 3, 9),
    )


CATEGORIES = {  # label → the partner code chosen (the first listed when there are several)
    "France Travail": None,
    "Mission Locale / PRIJ": 0,
    "PLIE": None,
    "Ville de Paris": None,
    "Insertion et TZCLD": 0,
    "Organismes de formation": 0,
    "Employeurs": 0,
}
DAYS = {
    "Aujourd'hui": dt.date(2026, 3, 10),
    "Demain": dt.date(2026, 3, 11),
    "lundi": dt.date(2026, 3, 16),  # typed
    "Pas de rendez-vous": None,
}


async def answer(user: User, label: str, *, typing: bool) -> str:
    """A button, tapped or typed by its name (accents and case aside)."""
    return await (user.send(label.upper()) if typing else user.tap(label))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    category=st.sampled_from(sorted(CATEGORIES)),
    purposes=st.lists(st.sampled_from(sorted(texts.PURPOSE_LABELS)), min_size=1, max_size=2),
    mode=st.sampled_from(sorted(texts.MODE_LABELS)),
    when=st.sampled_from(sorted(DAYS)),
    note=st.sampled_from([None, "Cherche un CAP cuisine."]),
    typing=st.booleans(),
)
async def test_orienter_saves_exactly_what_was_chosen(
    mediator: User, sessions: Sessions, clock: Clock,
    category: str, purposes: list[str], mode: str, when: str, note: str | None, typing: bool,
) -> None:  # fmt: skip
    async with sessions() as session:
        person = (await session.exec(select(Person))).first()
    if person is None:
        await engage_person(sessions, clock, await member_of(sessions, mediator), consent=True)
    await mediator.send("/orienter")
    await mediator.tap("P-0001")
    await answer(mediator, category, typing=typing)
    partner_name = None
    if CATEGORIES[category] is not None:
        partner_name = mediator.labels()[CATEGORIES[category]]
        await mediator.tap(partner_name)
    for number, purpose in enumerate(purposes):  # a second purpose: Retour, then another
        if number:
            assert "pour quoi" in await mediator.tap(texts.BACK)
        await answer(mediator, texts.PURPOSE_LABELS[purpose], typing=typing)
    question = await answer(mediator, texts.MODE_LABELS[mode], typing=typing)
    if mode != "information":
        assert "Date du rendez-vous" in question
        question = await (mediator.send(when) if when == "lundi" else mediator.tap(when))
    assert "note" in question  # the person agreed to notes
    summary = await (mediator.send(note) if note else mediator.tap(texts.SKIP))
    assert summary.startswith("Vérifiez")
    assert "Orientation enregistrée" in await mediator.tap(texts.NEW_SAVE)
    async with sessions() as session:
        saved = (
            await session.exec(
                select(Orientation)
                .options(undefer(Orientation.note))  # type: ignore[arg-type]
                .order_by(col(Orientation.id).desc())
            )
        ).first()
        assert saved is not None
        partner = await session.get_one(Partner, saved.partner_id)
    expected_day = DAYS[when] if mode != "information" else None
    assert (saved.purpose, saved.mode, saved.appointment_on, saved.note) == (
        purposes[-1], mode, expected_day, note,
    )  # fmt: skip
    if partner_name is not None:
        assert partner.name == partner_name
    assert partner.category == {
        "France Travail": "france_travail", "Mission Locale / PRIJ": "mission_locale",
        "PLIE": "plie", "Ville de Paris": "ville_de_paris", "Insertion et TZCLD": "insertion",
        "Organismes de formation": "training", "Employeurs": "employer",
    }[category]  # fmt: skip
