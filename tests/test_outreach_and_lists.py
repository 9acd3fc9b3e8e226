"""/informes (counts only) and /personnes (scoped, paged)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.db import Sessions
from models.outreach import OutreachAction
from models.team import Role
from tests.conftest import Clock, User, add_member, engage_person


async def test_informed_count_with_buttons(mediator: User, sessions: Sessions) -> None:
    assert "quelle action" in await mediator.send("/informes")
    assert "Combien" in await mediator.tap("Tour de rue")
    assert "Quel jour" in await mediator.tap("10")
    saved = await mediator.tap("Aujourd'hui")
    assert (
        saved
        == "Enregistré : 10 personnes informées (tour de rue), le 10/03/2026, à La Chapelle Nord."
    )
    async with sessions() as session:
        action = (await session.exec(select(OutreachAction))).one()
    assert (action.kind, action.informed, action.day) == ("street_tour", 10, dt.date(2026, 3, 10))


async def test_one_person_informed_is_said_in_the_singular(mediator: User) -> None:
    await mediator.send("/informes")
    await mediator.tap("Tour de rue")
    await mediator.send("1")
    saved = await mediator.tap("Aujourd'hui")
    assert saved.startswith("Enregistré : 1 personne informée (tour de rue)")
    await mediator.send("/informes")
    await mediator.tap("Tour de rue")
    await mediator.send("2")
    assert (await mediator.tap("Hier")).startswith("Enregistré : 2 personnes informées")


async def test_informed_typed_count_and_date(mediator: User, sessions: Sessions) -> None:
    await mediator.send("/informes")
    await mediator.tap("Permanence")
    assert "nombre entier" in await mediator.send("douze")
    assert "Quel jour" in await mediator.send("23")
    assert "pas possible" in await mediator.send("12/03")  # in the future: refused
    assert "le 06/03/2026" in await mediator.send("06/03")
    async with sessions() as session:
        action = (await session.exec(select(OutreachAction))).one()
    assert (action.informed, action.day) == (23, dt.date(2026, 3, 6))


async def test_people_list_is_scoped_and_paged(app, api, sessions: Sessions, clock: Clock) -> None:
    samia, samia_id = await add_member(sessions, clock, name="Samia")
    karim, karim_id = await add_member(sessions, clock, name="Karim", neighbourhood="19e-sud")
    _, coordinator_id = await add_member(
        sessions, clock, role=Role.COORDINATOR, name="Claire", neighbourhood=None
    )
    for i in range(10):
        clock.advance(minutes=1)
        await engage_person(sessions, clock, samia, f"Awa{i}")
    await engage_person(sessions, clock, karim, "Yasmine")

    samia_chat = User(app, api, samia_id)
    first_page = await samia_chat.send("/personnes")
    assert "Personnes suivies (10) · page 1/2" in first_page
    assert "Awa9" in first_page
    assert "Yasmine" not in first_page
    second_page = await samia_chat.tap("Suivant")
    assert "page 2/2" in second_page
    assert "Awa0" in second_page

    karim_chat = User(app, api, karim_id)
    listing = await karim_chat.send("/personnes")
    assert "(1)" in listing
    assert "Yasmine" in listing
    assert "Awa" not in listing
    # A forged button naming Samia's person is refused, and shows nothing of her.
    await karim_chat.press("ps:open:1")
    assert api.alerts[-1][1] == "Vous ne pouvez pas agir sur cette fiche."
    assert "Awa0" not in karim_chat.last.text

    coordinator_chat = User(app, api, coordinator_id)
    assert "Toutes les personnes suivies (11)" in await coordinator_chat.send("/personnes")
    card = await coordinator_chat.tap("P-0011")
    assert "P-0011 · Yasmine" in card
    assert "19e Sud" in card


async def test_empty_list_points_to_nouveau(mediator: User) -> None:
    assert "/nouveau" in await mediator.send("/personnes")
