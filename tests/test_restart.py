"""A process killed in the middle of /nouveau continues at the same step once restarted."""

from __future__ import annotations

from sqlmodel import select

from bot.app import build_application
from bot.db import Sessions
from bot.settings import Settings
from models.botstate import ConversationState, UserState
from models.people import Person
from tests.conftest import Clock, User, add_member, kill
from tests.fakes import FakeBotAPI, RecordingRequest


async def test_restart_mid_conversation_continues_the_same_step(
    settings: Settings, sessions: Sessions, clock: Clock
) -> None:
    _, user_id = await add_member(sessions, clock)
    telegram = FakeBotAPI()  # Telegram keeps the chat while the bot process dies
    first = build_application(settings, sessions, request=RecordingRequest(telegram), clock=clock)
    await first.initialize()
    user = User(first, telegram, user_id)
    await user.send("/nouveau")
    await user.send("Amina")
    assert "Où habite-t-elle" in await user.tap("F · 26-44 ans")
    # The process dies here: no shutdown, no flush. Whatever is not in the database is lost.
    kill(first)

    second = build_application(settings, sessions, request=RecordingRequest(telegram), clock=clock)
    async with second:
        again = User(second, telegram, user_id)
        assert "Comment a-t-elle été repérée" in await again.tap("QPV")
        for label in (
            "Bouche-à-oreille",
            "Valider (0)",
            "Non",
            "Non",
            "Informée · refuse",
        ):
            await again.tap(label)
        summary = again.last.text
        assert "Prénom : Amina" in summary
        assert "Sexe : Femme" in summary
        await again.tap("✅ Enregistrer")
    async with sessions() as session:
        person = (await session.exec(select(Person))).one()
        assert (person.first_name, person.sex, person.age_bracket) == ("Amina", "female", "26_44")
        # Nothing of the finished conversation lingers.
        assert (await session.exec(select(UserState))).all() == []
        states = (await session.exec(select(ConversationState))).all()
        assert all(s.state == "-1" for s in states)
