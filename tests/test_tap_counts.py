"""The main flows' common paths, walked on the real Application, their taps and typed messages
counted; the README's table « Taps of the main flows » states exactly these counts, and its
command table lists exactly the commands the bot answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select
from telegram.ext import CommandHandler, ConversationHandler

from bot import access, texts
from bot.app import BotApplication
from bot.db import Sessions
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI

README = Path(__file__).resolve().parents[1] / "README.md"
TAPS_TITLE = "### Taps of the main flows"


class Counting(User):
    """A user whose button taps and typed messages (commands aside) are counted."""

    taps = 0
    typed = 0

    async def press(self, data: str, message_id: int | None = None) -> None:
        self.taps += 1
        await super().press(data, message_id)

    async def send(self, text: str) -> str:
        if not text.startswith("/"):
            self.typed += 1
        return await super().send(text)

    @property
    def counted(self) -> tuple[int, int]:
        return self.taps, self.typed


def readme_counts() -> dict[str, tuple[int, int]]:
    """`/command` → (taps, typed), from the README's table."""
    section = README.read_text(encoding="utf-8").split(TAPS_TITLE, 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(/\w+)` \| (\d+) \| (\d+) \|", section, flags=re.MULTILINE)
    return {command: (int(taps), int(typed)) for command, taps, typed in rows}


async def member_of(sessions: Sessions, user: User) -> Member:
    async with sessions() as session:
        return (await session.exec(select(Member).where(Member.telegram_user_id == user.id))).one()


@pytest.fixture
async def counting(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> Counting:
    """A mediator following Awa, who agreed to be contacted."""
    _, user_id = await add_member(sessions, clock, role=Role.MEDIATOR)
    user = Counting(app, api, user_id)
    await engage_person(sessions, clock, await member_of(sessions, user), "Awa", consent=True)
    return user


async def test_informes_common_path(counting: Counting) -> None:
    await counting.send("/informes")
    for label in ("Tour de rue", "5", texts.INFORMED_TODAY):
        await counting.tap(label)
    assert counting.last.text.startswith("Enregistré : 5 informé·es")
    assert counting.counted == readme_counts()["/informes"]


async def test_contact_common_path(counting: Counting) -> None:
    await counting.send("/contact")
    for label in ("P-0001", "Appel", texts.SKIP):
        await counting.tap(label)
    assert counting.last.text.startswith("Contact enregistré avec P-0001 Awa (appel)")
    assert counting.counted == readme_counts()["/contact"]


async def test_sortie_common_path(counting: Counting) -> None:
    await counting.send("/sortie")
    for label in ("P-0001", "Déménagement", "Aujourd'hui", "Oui, clore"):
        await counting.tap(label)
    assert counting.last.text.startswith("Médiation close pour P-0001 Awa")
    assert counting.counted == readme_counts()["/sortie"]


async def test_orienter_common_path(counting: Counting) -> None:
    """An appointment booked at France Travail for a (re)registration, tomorrow."""
    await counting.send("/orienter")
    path = ("P-0001", "France Travail", "France Travail", "(Ré)inscription", "Rendez-vous pris")
    for label in (*path, "Demain", texts.SKIP, "✅ Enregistrer"):
        await counting.tap(label)
    assert "France Travail" in counting.last.text
    taps, typed = counting.counted
    assert (taps, typed) == readme_counts()["/orienter"]


async def test_nouveau_common_path(counting: Counting) -> None:
    """First name typed, the usual answers, consent given, no phone, no note, saved."""
    await counting.send("/nouveau")
    await counting.send("Yasmina")
    for label in ("Femme", "26-44", "QPV", "Bouche-à-oreille", "Pas de qualification"):
        await counting.tap(label)
    for label in ("Valider (1)", "Oui", "Non", "Non", "Déjà informé·e", "Oui, elle ou il"):
        await counting.tap(label)
    while "Vérifiez" not in counting.last.text:  # phone and note: not given
        await counting.tap(texts.SKIP)
    await counting.tap("✅ Enregistrer")
    assert "Enregistré : P-0002 (Yasmina)" in counting.last.text
    assert counting.counted == readme_counts()["/nouveau"]


async def test_evenement_common_path(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    """A Café de l'emploi: no title, date and place typed, no theme, one partner present."""
    _, user_id = await add_member(
        sessions, clock, role=Role.PROJECT_OFFICER, name="Nadia Kaci", neighbourhood=None
    )
    officer = Counting(app, api, user_id)
    await officer.send("/evenement")
    await officer.tap("Café de l'emploi")
    await officer.tap(texts.SKIP)
    await officer.send("29/03")
    await officer.tap("14:00")
    await officer.tap("La Chapelle Nord")
    await officer.send("Centre social")
    await officer.tap(texts.SKIP)
    await officer.tap("France Travail")
    await officer.tap("Valider (1)")
    await officer.tap(texts.NEW_SAVE)
    assert "Centre social" in officer.last.text
    assert officer.counted == readme_counts()["/evenement"]


def test_readme_counts_every_main_flow() -> None:
    assert set(readme_counts()) == {
        "/nouveau", "/orienter", "/informes", "/contact", "/sortie", "/evenement",
    }  # fmt: skip


def test_readme_lists_exactly_the_commands_of_the_bot(app: BotApplication) -> None:
    """Every command the bot answers is in the README's command table, and no other."""
    answered: set[str] = set()
    for group in app.handlers.values():
        for handler in group:
            inner = (
                [*handler.entry_points, *handler.fallbacks]
                if isinstance(handler, ConversationHandler)
                else [handler]
            )
            for each in inner:
                if isinstance(each, CommandHandler):
                    answered |= set(each.commands)
    table = README.read_text(encoding="utf-8").split("## Commands", 1)[1].split("\n#", 1)[0]
    listed = set(re.findall(r"`/(\w+)`", table.split("\n\n", 2)[1]))
    assert listed == answered - {"start"}


def test_readme_says_who_may_use_each_command() -> None:
    """The command table's « who » column is the roles the bot opens each command to."""
    roles = {
        "mediators": Role.MEDIATOR,
        "project officer": Role.PROJECT_OFFICER,
        "coordinators": Role.COORDINATOR,
    }
    table = README.read_text(encoding="utf-8").split("## Commands", 1)[1].split("\n\n", 2)[1]
    for row in table.splitlines()[2:]:
        commands, who = row.split(" | ")[:2]
        who = re.sub(r"\([^)]*\)", "", who)
        said = set(Role) if "everyone" in who else {r for w, r in roles.items() if w in who}
        for command in re.findall(r"`/(\w+)`", commands):
            opened = {r for r, listed in access.COMMANDS_BY_ROLE.items() if command in listed}
            assert said == opened, f"/{command}: the README says {who.strip()!r}"
