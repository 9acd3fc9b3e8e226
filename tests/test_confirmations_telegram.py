"""Partners close the loop (issue 16), Telegram side: the mediator's link message, the
correspondant's card and one-tap answer without an account, refusals and the flood limit."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import select

from bot.app import BotApplication
from bot.callbacks import ConfirmRef
from bot.db import Sessions
from models.botstate import UserState
from models.orientations import Orientation
from models.people import Person
from models.team import Member
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import BOT_USERNAME, FakeBotAPI
from tests.test_followups import orient_directly

LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]{{24}})")


async def setup(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> tuple[User, Member, int]:
    member, user_id = await add_member(sessions, clock, name="Samia Benali")
    mediator = User(app, api, user_id)
    person_id = await engage_person(sessions, clock, member, "Amina")
    oid = await orient_directly(app, sessions, clock, member, person_id)
    await mediator.send("/aide")
    return mediator, member, oid


async def ask_link(mediator: User, oid: int) -> str:
    await mediator.press(ConfirmRef("ask", oid).pack())
    return code_in(mediator)


def code_in(mediator: User) -> str:
    """The code in the message to forward (just before the mediator's note)."""
    forwardable = mediator.api.chat(mediator.id)[-2]
    match = LINK.search(forwardable.text)
    assert match, forwardable.text
    return match.group(1)


async def orientation(sessions: Sessions, oid: int) -> Orientation:
    async with sessions() as session:
        return await session.get_one(Orientation, oid)


async def test_ask_gives_a_forwardable_message_with_the_link_and_a_share_button(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    mediator, _, oid = await setup(app, api, sessions, clock)
    code = await ask_link(mediator, oid)
    forwardable, note = api.chat(mediator.id)[-2:]
    assert "P-0001 (prénom commençant par A)" in forwardable.text
    assert "Samia" in forwardable.text
    for private in ("Amina", "Benali", "PLIE"):
        assert private not in forwardable.text, "the partner sees a code and an initial"
    assert "P-0001 Amina" in note.text
    assert "PLIE" in note.text
    assert "/c/" not in forwardable.text, "no web link without PUBLIC_URL"
    sent = [p for m, p in api.calls if m == "sendMessage" and code in str(p.get("text"))]
    assert sent[0].get("protect_content") in (False, "false", "False")
    assert note.protect_content, "the note to the mediator stays protected"
    share = [b for b in forwardable.buttons() if b["text"] == "Partager"]
    assert share[0]["url"].startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2F")
    assert "Annuler la demande" in mediator.labels()


async def test_a_non_member_answers_in_one_tap_and_the_mediator_is_told_once(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    mediator, _, oid = await setup(app, api, sessions, clock)
    code = await ask_link(mediator, oid)
    partner = User(app, api)
    card = await partner.send(f"/start {code}")
    assert "P-0001" in card
    assert "prénom commençant par A" in card
    assert "Samia" in card
    assert "Formation" not in card  # the purpose is the orientation's own: support
    assert "Accompagnement" in card
    assert "Rendez-vous pris" in card
    for private in ("Amina", "Benali", "PLIE", "+33"):
        assert private not in card
    assert partner.labels() == [
        "Venu·e, accompagnement démarré",
        "Venu·e, sans suite",
        "Rendez-vous fixé le…",
        "Pas venu·e",
        "Injoignable",
        "Pas pour nous…",
    ]
    again = _answer_data(api, partner)
    told_before = len(api.chat(mediator.id))
    thanks = await partner.tap("Venu·e, accompagnement démarré")
    assert thanks.startswith("Merci, c'est enregistré")
    settled = await orientation(sessions, oid)
    assert settled.outcome == "started"
    assert settled.confirmed_by_partner_at == clock()
    told = api.chat(mediator.id)[told_before:]
    assert len(told) == 1
    assert "a répondu pour P-0001 Amina : venu·e, accompagnement démarré" in told[0].text
    # Second use, by tap or by link: one sentence, nothing changes.
    await partner.press(again)
    assert "Déjà répondu" in partner.last.text
    assert "Déjà répondu" in await partner.send(f"/start {code}")
    assert len(api.chat(mediator.id)) == told_before + 1
    assert (await orientation(sessions, oid)).outcome == "started"
    # Nothing kept about the correspondant: no member, no stored chat state.
    async with sessions() as session:
        members = (await session.exec(select(Member.telegram_user_id))).all()
        states = (await session.exec(select(UserState))).all()
    assert partner.id not in members
    assert all(s.user_id != partner.id for s in states)


def _answer_data(api: FakeBotAPI, partner: User) -> str:
    """The « venu·e » button of the card the correspondant was first shown."""
    for sent in api.chat(partner.id):
        for button in sent.buttons():
            if button["text"].startswith("Venu·e, sans suite"):
                return button["callback_data"]
    raise AssertionError("no card")


async def test_the_mediator_corrects_the_partners_answer(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    mediator, _, oid = await setup(app, api, sessions, clock)
    code = await ask_link(mediator, oid)
    partner = User(app, api)
    await partner.send(f"/start {code}")
    await partner.tap("Pas venu·e")
    assert (await orientation(sessions, oid)).outcome == "no_show"
    await mediator.tap("Venu·e, accompagnement démarré")
    corrected = await orientation(sessions, oid)
    assert corrected.outcome == "started"
    assert corrected.confirmed_by_partner_at is None


async def test_appointment_and_not_for_us_ask_one_more_tap(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    mediator, member, oid = await setup(app, api, sessions, clock)
    person2 = await engage_person(sessions, clock, member, "Binta")
    oid2 = await orient_directly(app, sessions, clock, member, person2)
    first, second = await ask_link(mediator, oid), await ask_link(mediator, oid2)
    partner = User(app, api)
    await partner.send(f"/start {first}")
    assert "Quel jour" in await partner.tap("Rendez-vous fixé le…")
    assert "Que s'est-il passé" in await partner.tap("Retour")
    await partner.tap("Rendez-vous fixé le…")
    await partner.tap("ven. 13 mars")
    booked = await orientation(sessions, oid)
    assert booked.outcome is None
    assert booked.appointment_on == dt.date(2026, 3, 13)
    assert "rendez-vous fixé le" in api.last(mediator.id).text
    await partner.send(f"/start {second}")
    assert "Pourquoi" in await partner.tap("Pas pour nous…")
    assert "plus de place" in await partner.tap("Plus de place")
    assert (await orientation(sessions, oid2)).outcome == "not_for_us"


async def test_revoked_forged_and_flooded_codes_change_nothing(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    mediator, _, oid = await setup(app, api, sessions, clock)
    revoked = await ask_link(mediator, oid)
    assert "Demande annulée" in await mediator.tap("Annuler la demande")
    partner = User(app, api)
    assert "annulé" in await partner.send(f"/start {revoked}")
    assert "pas valable" in await partner.send("/start " + "B" * 24)
    valid = await ask_link(mediator, oid)
    guesser = User(app, api)
    answers = [await guesser.send(f"/start {'x' * 23}{i}") for i in range(6)]
    assert ["pas valable" in a for a in answers] == [True] * 5 + [False]
    assert "Trop d'essais" in answers[-1]
    assert "Trop d'essais" in await guesser.send(f"/start {valid}"), "the flood stops valid tries"
    assert (await orientation(sessions, oid)).outcome is None
    expired_partner = User(app, api)
    clock.advance(days=7, seconds=1)
    assert "expiré" in await expired_partner.send(f"/start {valid}")
    assert (await orientation(sessions, oid)).outcome is None


async def test_the_button_is_on_the_reminder_and_on_the_card(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    mediator, _, _ = await setup(app, api, sessions, clock)
    clock.advance(days=8)
    await mediator.send("/suivis")
    assert "Demander au partenaire" in mediator.labels()
    await mediator.tap("Demander au partenaire")
    assert code_in(mediator)
    async with sessions() as session:
        person = (await session.exec(select(Person))).one()
    await mediator.send("/personnes")
    await mediator.tap(f"{person.code} ")
    await mediator.tap("Demander au partenaire")
    assert code_in(mediator)


async def test_the_digest_counts_the_follow_ups_partners_settled_this_week(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    from bot.context import services_of
    from jobs.digest import digest_content
    from models.stats import Period

    mediator, _, oid = await setup(app, api, sessions, clock)
    code = await ask_link(mediator, oid)
    partner = User(app, api)
    await partner.send(f"/start {code}")
    await partner.tap("Venu·e, sans suite")
    week = Period(dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    monday = dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC)
    digest = await digest_content(services_of(app), week, monday)
    assert "1 suivi confirmé par les partenaires cette semaine" in digest.text
    before = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    digest = await digest_content(services_of(app), before, monday - dt.timedelta(days=7))
    assert "confirmé par les partenaires" not in digest.text  # none: no line on the phone
