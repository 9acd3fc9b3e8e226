"""The central error handler, and what the bot does when it starts."""

from __future__ import annotations

import logging
import traceback

import pytest
from sqlmodel import select

from bot.app import on_startup
from bot.db import Sessions
from models import crypto, people
from models.botstate import AppSetting
from tests.conftest import User
from tests.test_nouveau import walk_to_summary


async def test_unexpected_error_apologises_logs_and_keeps_running(
    mediator: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await walk_to_summary(mediator)

    def broken(*_: object, **__: object) -> None:  # the save's own write (/nouveau's `save`)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(people, "add_person", broken)
    caplog.set_level(logging.INFO)
    await mediator.tap("✅ Enregistrer")
    apology = mediator.api.alerts[-1][1]
    assert apology.startswith("Désolé, un problème est survenu")
    reference = apology.rsplit(" ", 1)[-1].rstrip(".")
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert reference in record.getMessage()
    assert "update" in record.getMessage()
    assert record.exc_info is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Amina" not in logged
    assert "+33612345678" not in logged
    # Nothing was lost: the summary is still there, and saving works once the fault is gone.
    monkeypatch.undo()
    assert "Enregistré : P-0001" in await mediator.tap("✅ Enregistrer")


async def test_a_failing_statement_logs_no_value_of_the_person(
    mediator: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An error raised while the person's values are bound to the INSERT (SQLAlchemy's
    StatementError, whose message lists the parameters) is logged without them."""
    await walk_to_summary(mediator)

    def broken(value: str) -> str:
        raise RuntimeError("no key")

    monkeypatch.setattr(crypto, "encrypt", broken)  # the phone is encrypted as it is bound
    caplog.set_level(logging.INFO)
    await mediator.tap("✅ Enregistrer")
    assert mediator.api.alerts[-1][1].startswith("Désolé, un problème est survenu")
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert record.exc_info is not None
    logged = "".join(traceback.format_exception(*record.exc_info))
    assert "RuntimeError" in logged
    assert "INSERT" in logged
    for value in ("Amina", "+33612345678", "612345678"):
        assert value not in logged


async def test_startup_sets_menus_and_remembers_the_username(
    app, api, mediator: User, coordinator: User, sessions: Sessions
) -> None:
    await on_startup(app)
    menus = api.method_calls("setMyCommands")
    default = next(m for m in menus if "scope" not in m)
    assert [c["command"] for c in default["commands"]] == ["start"]
    scoped = {
        m["scope"]["chat_id"]: [c["command"] for c in m["commands"]] for m in menus if "scope" in m
    }
    assert "nouveau" in scoped[mediator.id]
    assert "inviter" in scoped[coordinator.id]
    assert "inviter" not in scoped[mediator.id]
    async with sessions() as session:
        # (the other setting, the reference data's version, is the replicas' business)
        stored = (
            await session.exec(select(AppSetting).where(AppSetting.key == "bot_username"))
        ).one()
    assert (stored.key, stored.value) == ("bot_username", "aveq_test_bot")
