"""Partners close the loop (issue 16), e-mail: with SMTP configured and an address on the
partner's card, the bot e-mails the web link itself; the message holds the link and no name."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from bot.app import BotApplication
from bot.db import Sessions
from bot.settings import Settings
from models.confirmations import ConfirmationRequest
from models.reference import Partner
from tests.conftest import TOKEN, Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI
from tests.test_confirmations_telegram import ask_link
from tests.test_followups import orient_directly

PUBLIC = "https://aveq.example.org"


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    received, port = Inbox(), free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield received, port
    finally:
        controller.stop()


@pytest.fixture
def settings(database_url: str, inbox: tuple[Inbox, int]) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        database_url=database_url,
        private_chat_messages_per_second=1000,
        public_url=PUBLIC,
        smtp_url=f"smtp://127.0.0.1:{inbox[1]}",  # type: ignore[arg-type]
        smtp_from="aveq@example.org",
    )


async def test_the_partner_gets_the_web_link_by_email_without_any_name(
    app: BotApplication,
    api: FakeBotAPI,
    sessions: Sessions,
    clock: Clock,
    inbox: tuple[Inbox, int],
) -> None:
    member, user_id = await add_member(sessions, clock, name="Samia Benali")
    async with sessions.begin() as session:
        partner = (await session.exec(select(Partner).where(Partner.code == "plie-paris"))).one()
        partner.contact_name = "Odile Correspondante"
        partner.contact_email = "odile@plie.example.org"
    person_id = await engage_person(sessions, clock, member, "Amina")
    oid = await orient_directly(app, sessions, clock, member, person_id)
    mediator = User(app, api, user_id)
    await mediator.send("/aide")
    code = await ask_link(mediator, oid)
    assert "e-mail" in mediator.last.text
    received, _ = inbox
    assert len(received.messages) == 1
    recipients, message = received.messages[0]
    assert recipients == ["odile@plie.example.org"]
    assert message["From"] == "aveq@example.org"
    body = message.get_payload(decode=True).decode()
    assert f"{PUBLIC}/c/{code}" in body
    assert "P-0001" in message["Subject"] + body
    assert "Samia" in body
    for name in ("Amina", "Benali", "Odile"):
        assert name not in body + str(message["Subject"])
    async with sessions() as session:
        request = (await session.exec(select(ConfirmationRequest))).one()
    assert request.emailed_at == clock()


async def test_no_address_no_email(
    app: BotApplication,
    api: FakeBotAPI,
    sessions: Sessions,
    clock: Clock,
    inbox: tuple[Inbox, int],
) -> None:
    member, user_id = await add_member(sessions, clock)
    person_id = await engage_person(sessions, clock, member, "Amina")
    oid = await orient_directly(app, sessions, clock, member, person_id)
    mediator = User(app, api, user_id)
    await mediator.send("/aide")
    await ask_link(mediator, oid)
    assert "e-mail" not in mediator.last.text
    assert inbox[0].messages == []
