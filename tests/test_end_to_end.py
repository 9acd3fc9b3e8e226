"""The real bot process, polling a fake Bot API server over HTTP, walked as users would:
CLI invitation → /start <code> → /inviter → a mediator joins → /nouveau, killed -9 in the
middle and restarted → the person is saved. Logs never hold the token or the person."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.db import create_engine, make_sessions
from models.people import Person, with_contact_details
from tests.conftest import TEST_KEY, TOKEN
from tests.fakes import FakeBotAPI, FakeBotServer

CONTACT = with_contact_details()

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def server() -> AsyncIterator[FakeBotServer]:
    fake = FakeBotServer(FakeBotAPI(), TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


class Phone:
    """A Telegram user talking to the bot through the fake server."""

    def __init__(self, server: FakeBotServer, user_id: int) -> None:
        self.server, self.id = server, user_id
        self._callbacks = 0

    def _user(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": "Test"}

    def _bot_said(self, expected: str):
        def check(api: FakeBotAPI) -> str | None:
            found = api.chat(self.id)
            if not found:
                return None
            shown = [found[-1].text, *(b["text"] for b in found[-1].buttons())]
            return found[-1].text if any(expected in part for part in shown) else None

        return check

    async def send(self, text: str, expect: str) -> str:
        message: dict[str, Any] = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": self.id, "type": "private"},
            "from": self._user(),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        await self.server.push({"message": message})
        return await self.server.wait_for(self._bot_said(expect))

    async def tap(self, label: str, expect: str) -> str:
        sent = self.server.api.last(self.id)
        matching = [b for b in sent.buttons() if b["text"].startswith(label)]
        assert matching, f"no button {label!r} under {sent.text!r}"
        button = matching[0]
        self._callbacks += 1
        await self.server.push(
            {
                "callback_query": {
                    "id": f"{self.id}-{self._callbacks}",
                    "from": self._user(),
                    "chat_instance": "1",
                    "data": button["callback_data"],
                    "message": {
                        "message_id": sent.message_id,
                        "date": 0,
                        "chat": {"id": self.id, "type": "private"},
                        "text": sent.text,
                    },
                }
            }
        )
        return await self.server.wait_for(self._bot_said(expect))


def bot_env(server: FakeBotServer, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.base_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="DEBUG",
        DATA_ENCRYPTION_KEY=TEST_KEY,
        PYTHONPATH=str(ROOT),
    )
    return env


async def start_bot(env: dict[str, str], log: Path, server: FakeBotServer) -> Any:
    polls = len(server.api.method_calls("getUpdates"))
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=out, stderr=out
        )
    await server.wait_for(lambda api: len(api.method_calls("getUpdates")) > polls)
    return process


async def test_invitation_to_saved_person_through_http(
    server: FakeBotServer, empty_database_url: str, tmp_path: Path
) -> None:
    env = bot_env(server, empty_database_url)
    log = tmp_path / "bot.log"
    invite = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "invite", "--role", "coordinator", "--name", "Claire Martin",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    printed = (await invite.communicate())[0].decode()
    assert invite.returncode == 0, printed
    code = re.search(r"/start (\S+)", printed).group(1)  # type: ignore[union-attr]

    bot = await start_bot(env, log, server)
    try:
        claire = Phone(server, 501)
        await claire.send(f"/start {code}", expect="Bienvenue Claire Martin")
        await claire.send("/inviter", expect="rôle")
        await claire.tap("médiateur", expect="Nom")
        await claire.send("Samia Benali", expect="quartier")
        ready = await claire.tap("La Chapelle Nord", expect="Invitation créée")
        assert f"https://t.me/{'aveq_test_bot'}?start=" in ready
        mediator_code = re.search(r"/start (\S+)", ready).group(1)  # type: ignore[union-attr]

        samia = Phone(server, 502)
        await samia.send(f"/start {mediator_code}", expect="Bienvenue Samia Benali")
        await samia.send("/nouveau", expect="Prénom")
        await samia.send("Amina", expect="Sexe")
        await samia.tap("F · Moins de 26 ans", expect="Où habite-t-elle")

        bot.send_signal(signal.SIGKILL)  # no shutdown, no flush
        await bot.wait()
        bot = await start_bot(env, log, server)

        await samia.tap("QPV", expect="repérée")
        await samia.tap("Action dans l'espace public", expect="Freins")
        await samia.tap("Mobilité", expect="✅ Mobilité")
        await samia.tap("Valider (1)", expect="France Travail")
        await samia.tap("Non", expect="RSA")
        await samia.tap("Oui", expect="À lire à voix haute")
        await samia.tap("✅ Informée · d'accord", expect="Vérifiez")
        await samia.tap("📞 Téléphone", expect="téléphone")
        await samia.send("06 98 76 54 32", expect="Vérifiez")
        await samia.tap("📝 Note", expect="note")
        await samia.send("Cherche un CAP cuisine", expect="Vérifiez")
        saved = await samia.tap("✅ Enregistrer", expect="Enregistré")
        assert "P-0001 (Amina)" in saved
        bot.send_signal(signal.SIGKILL)  # answered, so committed: killed at once, kept
        await bot.wait()
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await bot.wait()

    engine = create_engine(empty_database_url)
    async with make_sessions(engine)() as session:
        person = (await session.exec(select(Person).options(*CONTACT))).one()
    await engine.dispose()
    assert (person.first_name, person.channel, person.phone) == (
        "Amina",
        "public_space",
        "+33698765432",
    )
    logs = log.read_text(encoding="utf-8")
    assert "Starting the bot" in logs
    for secret in (TOKEN, TOKEN.split(":")[1], "Amina", "98 76", "+33698765432", "CAP cuisine"):
        assert secret not in logs
