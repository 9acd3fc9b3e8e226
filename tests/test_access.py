"""Non-members get one refusal, whatever they send, and leave no trace in the database."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from bot.db import Sessions
from bot.texts import REFUSAL
from models import team
from models.team import Role
from tests.conftest import Clock, User, add_member
from tests.fakes import FakeBotAPI

USER_TABLES = ("member", "person", "user_state", "conversation_state", "outreach_action")


async def row_counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            t: (await session.exec(text(f"SELECT count(*) FROM {t}"))).one()[0]  # type: ignore[call-overload]
            for t in USER_TABLES
        }


@pytest.mark.parametrize("message", ["/nouveau", "bonjour", "/personnes", "/start", "/start faux"])
async def test_text_and_commands_are_refused(app, api, sessions: Sessions, message: str) -> None:
    stranger = User(app, api)
    before = await row_counts(sessions)
    answer = await stranger.send(message)
    expected = REFUSAL if message != "/start faux" else "n'est pas valable"
    assert expected in answer
    assert await row_counts(sessions) == before


async def test_photos_buttons_edits_contacts_are_refused(
    app, api, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    # One stranger for each kind of update: a stranger is answered once an hour (see below).
    caplog.set_level(logging.DEBUG)
    before = await row_counts(sessions)
    assert await User(app, api).send_photo() == REFUSAL
    stranger = User(app, api)
    contact = stranger.message_update("")
    del contact["message"]["text"]
    contact["message"]["contact"] = {"phone_number": "+33612345678", "first_name": "Secret"}
    await stranger.process(contact)
    assert stranger.last.text == REFUSAL
    stranger = User(app, api)
    edited = stranger.message_update("texte modifié très personnel")
    edited["edited_message"] = edited.pop("message")
    await stranger.process(edited)
    assert stranger.last.text == REFUSAL
    await User(app, api).press("pk:nv:sex:female", message_id=1)
    assert api.alerts[-1][1] == REFUSAL
    assert await row_counts(sessions) == before
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Refused update" in logged
    for secret in ("+33612345678", "Secret", "très personnel"):
        assert secret not in logged


async def test_group_messages_are_ignored(app, api) -> None:
    stranger = User(app, api)
    update = stranger.message_update("/nouveau")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Coordination"}
    await stranger.process(update)
    assert api.method_calls("sendMessage") == []


async def test_a_mediator_cannot_use_coordinator_commands(mediator: User) -> None:
    assert "pas disponible pour votre rôle" in await mediator.send("/inviter")


async def test_deactivated_member_is_refused(mediator: User, coordinator: User) -> None:
    await coordinator.send("/equipe")
    await coordinator.tap("Désactiver Samia Benali")
    assert "désactivé" in await coordinator.tap("Oui, désactiver")
    assert await mediator.send("/nouveau") == REFUSAL


async def test_a_member_deactivated_mid_form_is_refused_at_the_next_tap(
    mediator: User, coordinator: User, api: FakeBotAPI
) -> None:
    # Her chat's state is held by the process since her last answer: the coordinator's
    # change, written by another connection, is still read before her next tap.
    await mediator.send("/nouveau")
    assert "Sexe" in await mediator.send("Amina")
    await coordinator.send("/equipe")
    await coordinator.tap("Désactiver Samia Benali")
    assert "désactivé" in await coordinator.tap("Oui, désactiver")
    asked = mediator.last.text
    await mediator.tap("F · Moins de 26 ans")
    assert api.alerts[-1][1] == REFUSAL
    assert mediator.last.text == asked  # nothing more asked


async def test_a_deactivation_while_her_update_runs_is_seen_at_her_next_one(
    app, sessions: Sessions, clock: Clock
) -> None:
    # Her update has checked her membership and waits on Telegram; a coordinator deactivates
    # her (another connection); another mediator's update reads the database meanwhile; then
    # hers ends well. Her next update must still read what the coordinator wrote.
    persistence = app.persistence
    coordinator, _ = await add_member(sessions, clock, role=Role.COORDINATOR, name="Nadia")
    samia, samia_id = await add_member(sessions, clock)
    _, karim_id = await add_member(sessions, clock, name="Karim")
    member, _, _ = await persistence.check(app, user_id=samia_id, chat_id=samia_id, update_id=1)
    assert member is not None
    async with sessions.begin() as session:
        await team.deactivate_member(
            session=session, actor=coordinator, member_id=samia.id, now=clock()
        )
    await persistence.check(app, user_id=karim_id, chat_id=karim_id, update_id=2)
    await persistence.after_update(
        app, user_id=samia_id, chat_id=samia_id, update_id=1, marked=False
    )
    member, _, _ = await persistence.check(app, user_id=samia_id, chat_id=samia_id, update_id=3)
    assert member is None
