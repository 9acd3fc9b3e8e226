"""Duplicate updates, double taps, hostile input, and a database that goes away."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select
from telegram import Update

from bot.app import BotApplication
from bot.context import services_of
from bot.db import Sessions, create_engine
from models import team
from models.people import Person
from tests.conftest import User
from tests.test_nouveau import walk_to_summary


async def count_people(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(Person))).one()


async def test_the_same_update_delivered_twice_saves_once(
    mediator: User, sessions: Sessions
) -> None:
    await walk_to_summary(mediator, consent=False)
    summary = mediator.last
    [save] = [b["callback_data"] for b in summary.buttons() if b["text"] == "✅ Enregistrer"]
    payload = mediator.callback_update(save, summary.message_id)
    await mediator.process(payload)
    await mediator.process(payload)  # a webhook retry, or a redelivery after a crash
    assert await count_people(sessions) == 1
    confirmations = [m for m in mediator.api.chat(mediator.id) if m.text.startswith("Enregistré")]
    assert len(confirmations) == 1


async def test_a_double_tap_saves_once(mediator: User, sessions: Sessions) -> None:
    await walk_to_summary(mediator, consent=False)
    summary = mediator.last
    [save] = [b["callback_data"] for b in summary.buttons() if b["text"] == "✅ Enregistrer"]
    await mediator.press(save, summary.message_id)
    await mediator.press(save, summary.message_id)  # two distinct updates, same button
    assert await count_people(sessions) == 1


async def test_database_down_answers_and_recovers(
    mediator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = team.active_member  # the access check's answer, on either database's path
    calls = {"n": 0}

    def flaky(row: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("server restarting"))
        return real(row)

    monkeypatch.setattr(team, "active_member", flaky)
    answer = await mediator.send("/nouveau")
    assert (
        answer
        == "Service momentanément indisponible, rien n'a été perdu. Réessayez dans un instant."
    )
    assert "Prénom" in await mediator.send("/nouveau")


HOSTILE = st.one_of(
    st.text(min_size=0, max_size=5000),
    st.sampled_from(
        [
            "",
            " ",
            "\u200b\u200b",
            "\u202eenimA",
            "<b>Amina</b>",
            "*Amina* _x_ [a](http://x)",
            "'; DROP TABLE person; --",
            "😀" * 50,
            "31/02/2026",
            "\x00\x01",
        ]
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=HOSTILE)
async def test_hostile_first_names_get_a_clear_answer(
    mediator: User, sessions: Sessions, text: str
) -> None:
    await mediator.send("/nouveau")
    if not text or text.startswith("/"):
        text = text.lstrip("/") or " "
    payload = mediator.message_update("x")
    payload["message"]["text"] = text
    payload["message"].pop("entities", None)
    await mediator.app.process_update(Update.de_json(payload, mediator.app.bot))
    answer = mediator.last.text
    printable = [c for c in text if c.isprintable() and c not in string.whitespace]
    assert answer  # always an answer, in French
    assert answer.startswith("Sexe") or "Prénom ou initiales ?" in answer
    assert await count_people(sessions) == 0
    assert printable or "Sexe" not in answer
    await mediator.send("/annuler")


async def test_postgresql_dropping_every_connection_loses_nothing(
    app: BotApplication, mediator: User, database_url: str
) -> None:
    """What the bot sees of a PostgreSQL restart: every connection it holds is cut. The next
    update and the next job reconnect, without a restart of the bot."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server restart is a PostgreSQL matter; SQLite is a file in the process")
    services = services_of(app)
    await app.job_queue.get_jobs_by_name("reminder_sweep")[0].run(app)  # takes the leadership
    assert services.leadership.is_leader
    assert "Prénom" in await mediator.send("/nouveau")
    admin = create_engine(database_url)
    async with admin.connect() as conn:
        cut = await conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        assert cut.scalar_one() >= 1
    await admin.dispose()
    assert "Sexe" in await mediator.send("Amina")  # the same conversation goes on
    await app.job_queue.get_jobs_by_name("reminder_sweep")[0].run(app)
    assert services.leadership.is_leader  # the lock came back on a new connection


async def test_an_answer_that_wrote_nothing_ahead_is_still_given_once(mediator: User) -> None:
    """/aide changes no draft and no conversation: its update is marked handled after it,
    so a redelivery is not answered a second time."""
    payload = mediator.message_update("/aide")
    await mediator.process(payload)
    answers = len(mediator.api.chat(mediator.id))
    await mediator.process(payload)  # a webhook retry, or a redelivery after a crash
    assert answers > 0
    assert len(mediator.api.chat(mediator.id)) == answers
