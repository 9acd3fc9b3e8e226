"""/personnes and /suivis without dead ends: typed search, coordinators' filters, cards that
say who follows the person and how the mediation ended, « Retour » to the same page and
filters, pages to the last follow-up."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot import texts
from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions
from models import orientations, reference
from models.events import Event
from models.orientations import ExitReason, Mode, Purpose
from models.reference import Partner
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI

SUD = "19e Sud (Danube, Chaufourniers, Algérie)"


async def orient(
    app: BotApplication, sessions: Sessions, clock: Clock, member: Member, person_id: int
) -> None:
    services = services_of(app)
    async with sessions.begin() as session:
        partner = (await session.exec(select(Partner).where(Partner.code == "plie-paris"))).one()
        await orientations.orient(
            session=session, actor=member, person_id=person_id, partner_id=partner.id or 0,
            purpose=Purpose.SUPPORT, mode=Mode.APPOINTMENT, appointment_on=None, note=None,
            now=clock(), today=services.today(), policy=services.settings.followup_policy,
        )  # fmt: skip


async def test_typed_name_or_code_finds_a_person(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    samia, samia_id = await add_member(sessions, clock, name="Samia")
    karim, _ = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    for name in ("Aïssatou", "Awa", "Moussa"):
        clock.advance(minutes=1)
        await engage_person(sessions, clock, samia, name)
    await engage_person(sessions, clock, karim, "Aïssa")  # P-0004, not Samia's
    user = User(app, api, samia_id)

    found = await user.send("/personnes Aissatou")
    assert found.startswith("Recherche : 1 personne trouvée.")
    assert "P-0001 · Aïssatou" in found
    assert "P-0004" not in found
    assert "Aïssa ·" not in found
    assert "P-0003 · Moussa" in await user.send("/personnes P-0003")
    assert "aucune personne trouvée" in await user.send("/personnes P-0004")
    assert "aucune personne trouvée" in await user.send("/personnes Zoé")
    assert await user.send("/personnes !!") == texts.DOMAIN_ERRORS["search_invalid"]

    # /personnes, « Chercher », then a typed message.
    listing = await user.send("/personnes")
    assert "/personnes suivi d'un prénom" in listing
    assert await user.tap("🔎 Chercher") == texts.PEOPLE_SEARCH_PROMPT
    assert "Tapez quelques lettres" in await user.send("?!")  # asked again, with the reason
    found = await user.send("mousa")  # a typo
    assert "P-0003 · Moussa" in found
    card = await user.tap("P-0003")
    assert "P-0003 · Moussa" in card
    assert "Suivi·e par : vous" in card
    assert "Personnes suivies (3)" in await user.tap("◀ Retour")
    # The search ended: a later message is no search.
    assert "Recherche" not in await user.send("Awa")


async def test_coordinator_filters_and_back_to_the_same_page(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    samia, _ = await add_member(sessions, clock, name="Samia")
    karim, _ = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    _, claire_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    for i in range(10):
        clock.advance(minutes=1)
        await engage_person(sessions, clock, karim, f"Karim{i}")  # P-0001..P-0010
    for i in range(3):
        clock.advance(minutes=1)
        await engage_person(sessions, clock, samia, f"Samia{i}")  # P-0011..P-0013
    services = services_of(app)
    async with sessions.begin() as session:
        await orientations.exit_person(
            session=session, actor=karim, person_id=2, reason=ExitReason.MOVED,
            on=dt.date(2026, 3, 9), today=services.today(), now=clock(),
        )  # fmt: skip
    claire = User(app, api, claire_id)

    assert "Toutes les personnes suivies (13) · page 1/2" in await claire.send("/personnes")
    assert await claire.tap("Quartier : tous") == texts.PEOPLE_FILTER_ASK_NEIGHBOURHOOD
    page = await claire.tap("19e Sud")
    assert "Quartier : 19e Sud" in " ".join(claire.labels())
    assert page.startswith(f"10 personnes · {SUD} · page 1/2")
    assert "Samia0" not in page
    second = await claire.tap("Suivant")
    assert "page 2/2" in second
    assert "Karim0" in second
    assert "Karim1" in second
    card = await claire.tap("P-0002")
    assert "Suivi·e par : Karim" in card
    assert "Sorti·e le 09/03/2026 : Déménagement" in card
    back = await claire.tap("◀ Retour")
    assert back.startswith(f"10 personnes · {SUD} · page 2/2")  # the same page, same filter

    await claire.tap("Statut : tous")
    narrowed = await claire.tap("sorti·e")
    assert narrowed.startswith(f"1 personne · {SUD}, sorti·e · page 1/1")
    assert "P-0002" in narrowed
    await claire.tap("Suivi·e par : tous")
    assert f"Aucune personne ne correspond à ces filtres ({SUD}, Samia, sorti·e)" in (
        await claire.tap("Samia")
    )
    await claire.tap("Quartier : 19e Sud")
    await claire.tap("Tous les quartiers")
    await claire.tap("Statut : sorti·e")
    everyone = await claire.tap("Tous les statuts")
    assert everyone.startswith("3 personnes · Samia · page 1/1")
    assert "Karim" not in everyone


async def test_a_mediator_cannot_filter_beyond_their_people(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    samia, samia_id = await add_member(sessions, clock, name="Samia")
    karim, _ = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    await engage_person(sessions, clock, samia, "Awa")
    await engage_person(sessions, clock, karim, "Yasmine")
    user = User(app, api, samia_id)
    await user.send("/personnes")
    assert not any(label.startswith("Quartier") for label in user.labels())
    await user.press(f"pl:ls:1:0:{karim.id}:all:0")  # forged: Karim's people
    assert "Awa" in user.last.text
    assert "Yasmine" not in user.last.text
    await user.press("pl:fm:1:0:0:all:0")
    assert api.alerts[-1][1] == texts.STALE_BUTTON
    await user.press("pl:open:1:0:0:all:2")
    assert api.alerts[-1][1] == "Vous ne pouvez pas agir sur cette fiche."


async def test_coordinator_followups_page_to_the_last(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    samia, _ = await add_member(sessions, clock, name="Samia")
    _, claire_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    for i in range(23):
        clock.advance(minutes=1)
        person_id = await engage_person(sessions, clock, samia, f"Awa{i}")
        await orient(app, sessions, clock, samia, person_id)
    claire = User(app, api, claire_id)

    await claire.send("/suivis")
    first = [m.text for m in api.chat(claire_id)]
    assert texts.FOLLOWUPS_HEADER.format(due=0, later=23) in first
    assert claire.last.text == "Suivis · page 1/3"
    assert "P-0001 Awa0" in first[-2]
    assert "P-0011" not in first[-2]
    assert await claire.tap("Suivant") == "Suivis · page 2/3"
    assert "P-0011 Awa10" in api.chat(claire_id)[-2].text
    assert await claire.tap("Suivant") == "Suivis · page 3/3"
    last_page = api.chat(claire_id)[-2].text
    assert "P-0023 Awa22" in last_page
    assert "P-0020" not in last_page
    assert claire.labels() == [texts.PREVIOUS]  # the way back, no further
    assert await claire.tap("◀ Précédent") == "Suivis · page 2/3"


async def test_agenda_pages_to_older_events(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    claire_member, claire_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    async with sessions.begin() as session:
        nbh = (await reference.neighbourhoods(session=session))[0]
        for i in range(12):
            session.add(
                Event(
                    kind="cafe_emploi", title=f"Café {i:02d}", place="Salle",
                    neighbourhood_id=nbh.id or 0, starts_at=clock() - dt.timedelta(days=30 - i),
                    created_by_id=claire_member.id or 0, created_at=clock(),
                )
            )  # fmt: skip
    claire = User(app, api, claire_id)
    await claire.send("/agenda")
    first = await claire.tap(texts.EVENT_BUTTON_PAST)
    assert "Café 11" in first
    assert "Café 01" not in first
    assert "0 présent·e, aucun changement" in first
    older = await claire.tap("Suivant")
    assert "Café 01" in older
    assert "Café 00" in older
    assert "Café 11" not in older
    assert "Suivant ▶" not in claire.labels()
    assert "Café 11" in await claire.tap("◀ Précédent")


async def test_partners_of_a_category_page_and_come_back(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    _, samia_id = await add_member(sessions, clock, name="Samia")
    async with sessions.begin() as session:
        for i in range(12):
            await reference.add_partner(
                session=session, name=f"Employeur {i:02d}", category="employer"
            )
        listed = await reference.partners(session=session, category="employer")
    names = [p.name for p in listed]
    user = User(app, api, samia_id)
    await user.send("/partenaires")
    await user.tap("Employeurs")
    assert names[0] in user.labels()
    assert names[10] not in user.labels()
    await user.tap("Suivant")
    assert names[-1] in user.labels()
    assert names[0] not in user.labels()
    await user.tap(names[-1])
    await user.tap(texts.DIRECTORY_BACK)
    assert names[-1] in user.labels()  # the page it was opened from
    assert texts.PREVIOUS in user.labels()


async def test_a_page_button_sent_before_the_filters_still_works(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    samia, samia_id = await add_member(sessions, clock, name="Samia")
    for i in range(10):
        clock.advance(minutes=1)
        await engage_person(sessions, clock, samia, f"Awa{i}")
    user = User(app, api, samia_id)
    await user.send("/personnes")
    await user.press("pg:people:2")
    assert "Personnes suivies (10) · page 2/2" in user.last.text
    await user.press("pl:ls:9:0:0:all:0")  # beyond the end: the last page
    assert "page 2/2" in user.last.text
