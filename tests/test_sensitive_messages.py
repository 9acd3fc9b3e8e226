"""A phone or a note typed at a phone or note step leaves the member's chat whatever becomes
of the flow: saved, refused, cancelled, replaced, or left to expire (DELETE_SENSITIVE_MESSAGES)."""

from __future__ import annotations

import pytest

from bot import texts
from bot.app import BotApplication
from bot.db import Sessions
from bot.settings import Settings
from models.people import NOTE_MAX
from tests.conftest import Clock, User, engage_person
from tests.fakes import FakeBotAPI
from tests.test_followups import member_of

TOO_LONG = "x" * (NOTE_MAX + 1)


async def typed(user: User, text: str) -> int:
    """Send `text`; return the id of the member's message."""
    update = user.message_update(text)
    await user.process(update)
    return int(update["message"]["message_id"])


def deleted(api: FakeBotAPI, user: User) -> set[int]:
    return {
        int(p["message_id"])
        for p in api.method_calls("deleteMessage")
        if int(p["chat_id"]) == user.id
    }


async def to_phone_step(user: User) -> None:
    assert "Prénom ou initiales" in await user.send("/nouveau")
    await user.send("Amina")
    await user.tap("Femme")
    await user.tap("Moins de 26 ans")
    await user.tap("QPV")
    await user.tap("Bouche-à-oreille")
    await user.tap("Valider")
    await user.tap("Non")
    await user.tap("Non")
    await user.tap("Déjà informé·e")
    assert "téléphone" in await user.tap("Oui, la personne accepte")


async def expire(app: BotApplication, clock: Clock) -> None:
    clock.advance(minutes=16)
    await app.job_queue.get_jobs_by_name("expire_idle_drafts")[0].run(app)


async def test_nouveau_saved_refused_and_edited(mediator: User, api: FakeBotAPI) -> None:
    await to_phone_step(mediator)
    refused = await typed(mediator, "06 12")
    assert refused in deleted(api, mediator), "a refused phone goes at once"
    assert "téléphone" in mediator.last.text
    phone = await typed(mediator, "06 12 34 56 78")
    note = await typed(mediator, "Cherche un CAP cuisine.")
    assert deleted(api, mediator) == {refused}, "nothing else before the flow ends"
    await mediator.tap("✏️ Modifier")
    await mediator.tap("Téléphone")
    phone_again = await typed(mediator, "06 98 76 54 32")
    assert "P-0001" in await mediator.tap("✅ Enregistrer")
    assert deleted(api, mediator) == {refused, phone, note, phone_again}


@pytest.mark.parametrize("how", ["/annuler", "button"])
async def test_nouveau_cancelled(
    mediator: User, api: FakeBotAPI, sessions: Sessions, how: str
) -> None:
    await to_phone_step(mediator)
    phone = await typed(mediator, "06 12 34 56 78")
    note = await typed(mediator, "Cherche un CAP cuisine.")
    if how == "button":
        await mediator.tap(texts.CANCEL)
    else:
        await mediator.send("/annuler")
    assert mediator.last.text == texts.CANCELLED
    assert deleted(api, mediator) == {phone, note}


async def test_nouveau_left_to_expire(
    app: BotApplication, mediator: User, api: FakeBotAPI, clock: Clock
) -> None:
    await to_phone_step(mediator)
    phone = await typed(mediator, "06 12 34 56 78")
    await expire(app, clock)
    assert "abandonnée" in mediator.last.text
    assert deleted(api, mediator) == {phone}


async def test_nouveau_started_again_then_cancelled(mediator: User, api: FakeBotAPI) -> None:
    await to_phone_step(mediator)
    phone = await typed(mediator, "06 12 34 56 78")
    await to_phone_step(mediator)  # /nouveau again: the first draft is replaced
    await mediator.send("/annuler")
    assert deleted(api, mediator) == {phone}


async def test_a_shared_contact_at_the_phone_step_goes_at_once(
    mediator: User, api: FakeBotAPI
) -> None:
    await to_phone_step(mediator)
    update = mediator.message_update("")
    del update["message"]["text"]
    update["message"]["contact"] = {"phone_number": "+33612345678", "first_name": "Amina"}
    await mediator.process(update)
    assert int(update["message"]["message_id"]) in deleted(api, mediator)


async def to_orientation_note(user: User) -> None:
    assert "Quelle personne" in await user.send("/orienter")
    await user.tap("P-0001 Amina")
    await user.tap("France Travail")
    await user.tap("France Travail")
    await user.tap("Accompagnement")
    await user.tap("Rendez-vous pris")
    assert "note" in await user.tap("Demain")


async def test_orientation_note_refused_then_cancelled_or_expired(
    app: BotApplication, mediator: User, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member, consent=True)
    await to_orientation_note(mediator)
    refused = await typed(mediator, TOO_LONG)
    assert deleted(api, mediator) == {refused}
    note = await typed(mediator, "Cherche un CAP cuisine.")
    await mediator.send("/annuler")
    assert deleted(api, mediator) == {refused, note}

    await to_orientation_note(mediator)
    left = await typed(mediator, "Cherche un CAP cuisine.")
    await expire(app, clock)
    assert deleted(api, mediator) == {refused, note, left}

    await to_orientation_note(mediator)
    saved = await typed(mediator, "Cherche un CAP cuisine.")
    assert "Orientation enregistrée" in await mediator.tap("✅ Enregistrer")
    assert deleted(api, mediator) == {refused, note, left, saved}


async def test_contact_note_refused_then_saved(
    mediator: User, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    member = await member_of(sessions, mediator)
    await engage_person(sessions, clock, member, consent=True)
    await mediator.send("/contact")
    await mediator.tap("P-0001")
    await mediator.tap("Appel")
    refused = await typed(mediator, TOO_LONG)
    assert deleted(api, mediator) == {refused}
    note = await typed(mediator, "Rappeler pour le CAP cuisine.")
    assert "Contact enregistré" in mediator.last.text
    assert deleted(api, mediator) == {refused, note}


async def test_nothing_is_deleted_when_the_setting_is_off(
    app: BotApplication, mediator: User, api: FakeBotAPI, settings: Settings, clock: Clock
) -> None:
    settings.delete_sensitive_messages = False
    await to_phone_step(mediator)
    await typed(mediator, "06 12")
    await typed(mediator, "06 12 34 56 78")
    await mediator.send("/annuler")
    await to_phone_step(mediator)
    await typed(mediator, "06 12 34 56 78")
    await expire(app, clock)
    assert api.method_calls("deleteMessage") == []
