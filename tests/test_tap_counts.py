"""The main flows' common paths, walked on the real Application, their taps and typed messages
counted; the README's table « Taps of the main flows » states exactly these counts, and its
command table lists exactly the commands the bot answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from telegram.ext import CommandHandler, ConversationHandler

from bot import access, texts
from bot.app import BotApplication
from bot.db import Sessions
from models.team import Role
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


class Typed(str):
    """A message typed in a common path (the rest are buttons tapped)."""

    __slots__ = ()


# Each flow's common path (after its command), and what its last message says.
COMMON_PATHS: dict[str, tuple[tuple[str, ...], str]] = {
    "/informes": (("Tour de rue", "5", texts.INFORMED_TODAY), "Enregistré : 5 personnes"),
    "/contact": (("P-0001", "Appel", texts.SKIP), "Contact enregistré avec P-0001 Awa"),
    "/sortie": (
        ("P-0001", "Déménagement", "Aujourd'hui", "Oui, clore"),
        "Médiation close pour P-0001 Awa",
    ),
    # Support at France Travail (its category's one partner: not asked), an appointment booked
    # tomorrow, saved; the person did not agree to notes (one more tap to pass it otherwise).
    "/orienter": (
        ("P-0001", "France Travail", "Accompagnement", "Rendez-vous pris", "Demain",
         "✅ Enregistrer"),
        "Orientation enregistrée",
    ),
    # First name typed, the usual answers (no barrier), informed and agreeing, saved.
    "/nouveau": (
        (Typed("Yasmina"), "F · 26-44 ans", "QPV", "Bouche-à-oreille", "Valider (0)",
         "Oui · contact ces 5 derniers mois", "Non", "✅ Informée · d'accord", "✅ Enregistrer"),
        "Enregistré : P-0002 (Yasmina)",
    ),
    # A Café de l'emploi: no title, date and place typed, no theme, one partner present.
    "/evenement": (
        ("Café de l'emploi", texts.SKIP, Typed("29/03"), "14:00", "La Chapelle Nord",
         Typed("Centre social"), texts.SKIP, "France Travail", "Valider (1)", texts.NEW_SAVE),
        "Événement enregistré",
    ),
}  # fmt: skip
ROLES = {"/evenement": Role.PROJECT_OFFICER}


@pytest.mark.parametrize("command", sorted(COMMON_PATHS))
async def test_common_path_taps_are_the_readmes(
    command: str, app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    """Walked on the real bot, counted, and equal to the README's table."""
    role = ROLES.get(command, Role.MEDIATOR)
    area = "la-chapelle-nord" if role is Role.MEDIATOR else None
    member, user_id = await add_member(sessions, clock, role=role, neighbourhood=area)
    if role is Role.MEDIATOR:
        # Awa agreed to be contacted, except on /orienter's path (it would offer a note).
        await engage_person(sessions, clock, member, "Awa", consent=command != "/orienter")
    user = Counting(app, api, user_id)
    await user.send(command)
    path, saved = COMMON_PATHS[command]
    for text in path:
        await (user.send(text) if isinstance(text, Typed) else user.tap(text))
    assert saved in user.last.text
    assert user.counted == readme_counts()[command]


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
