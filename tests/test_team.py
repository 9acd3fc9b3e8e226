"""Joining by invitation, /inviter, /equipe, commands per role, /aide."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from bot.access import COMMANDS_BY_ROLE
from bot.db import Sessions
from models import team
from models.errors import DomainError
from models.team import Invitation, Member, Role
from tests.conftest import Clock, User


def code_in(text: str) -> str:
    match = re.search(r"/start (\S+)", text)
    assert match, text
    return match.group(1)


async def test_coordinator_invites_a_mediator_who_joins(
    app, api, coordinator: User, sessions: Sessions
) -> None:
    assert "rôle" in await coordinator.send("/inviter")
    assert "Nom" in await coordinator.tap("médiateur·rice emploi")
    assert "quartier" in await coordinator.send("Samir Haddad")
    ready = await coordinator.tap("Fougères-Le Vau")
    assert "https://t.me/aveq_test_bot?start=" in ready
    code = code_in(ready)

    newcomer = User(app, api)
    welcome = await newcomer.send(f"/start {code}")
    assert "Bienvenue Samir Haddad" in welcome
    assert "médiateur·rice emploi" in welcome
    assert "/nouveau" in welcome
    menu = api.method_calls("setMyCommands")[-1]
    assert [c["command"] for c in menu["commands"]] == list(COMMANDS_BY_ROLE[Role.MEDIATOR])
    assert menu["scope"] == {"type": "chat", "chat_id": newcomer.id}
    assert "Prénom" in await newcomer.send("/nouveau")

    # Single use: a second person with the same code is refused.
    intruder = User(app, api)
    assert "n'est pas valable" in await intruder.send(f"/start {code}")
    async with sessions() as session:
        invitation = (
            await session.exec(select(Invitation).where(Invitation.role == "mediator"))
        ).one()
    assert code not in invitation.code_hash
    assert len(invitation.code_hash) == 64


async def test_project_officer_invitation_skips_neighbourhood(coordinator: User) -> None:
    await coordinator.send("/inviter")
    await coordinator.tap("chargé·e de projet emploi")
    ready = await coordinator.send("Léa Dubois")
    assert "Invitation créée pour Léa Dubois (chargé·e de projet emploi)" in ready


async def test_expired_invitation_is_refused(app, api, sessions: Sessions, clock: Clock) -> None:
    async with sessions.begin() as session:
        issued = await team.create_invitation(
            session=session,
            role=Role.COORDINATOR,
            display_name="Claire",
            now=clock(),
            ttl=dt.timedelta(days=7),
        )
    clock.advance(days=7, seconds=1)
    assert "n'est pas valable" in await User(app, api).send(f"/start {issued.code}")


async def test_team_list_and_help(coordinator: User, mediator: User) -> None:
    listing = await coordinator.send("/equipe")
    assert "Claire Martin : coordinateur·rice" in listing
    assert "Samia Benali : médiateur·rice emploi, La Chapelle Nord" in listing
    assert coordinator.labels() == ["Désactiver Samia Benali"]
    assert "Samia Benali" in await mediator.send("/equipe")
    assert mediator.labels() == [], "only coordinators get the deactivate buttons"
    help_text = await mediator.send("/aide")
    for command in COMMANDS_BY_ROLE[Role.MEDIATOR]:
        assert f"/{command} :" in help_text


async def test_mediator_cannot_deactivate_by_forged_button(
    mediator: User, coordinator: User, sessions: Sessions
) -> None:
    async with sessions() as session:
        target = (await session.exec(select(Member).where(Member.role == "coordinator"))).one()
    await mediator.press(f"tm:offok:{target.id}", message_id=1)
    assert "ne pouvez pas" in mediator.api.alerts[-1][1]
    async with sessions() as session:
        assert (await session.get_one(Member, target.id)).active


async def test_domain_rules_of_invitations(sessions: Sessions, clock: Clock) -> None:
    async with sessions.begin() as session:
        with pytest.raises(DomainError) as error:
            await team.create_invitation(
                session=session,
                role=Role.MEDIATOR,
                display_name="X",
                now=clock(),
                ttl=dt.timedelta(days=1),
            )
        assert error.value.key == "neighbourhood_required"
        issued = await team.create_invitation(
            session=session,
            role=Role.COORDINATOR,
            display_name="  Claire   Martin ",
            now=clock(),
            ttl=dt.timedelta(days=1),
        )
        member = await team.redeem_invitation(
            session=session, code=issued.code, telegram_user_id=42, now=clock()
        )
        assert member.display_name == "Claire Martin"
        with pytest.raises(DomainError):
            await team.redeem_invitation(
                session=session, code=issued.code, telegram_user_id=43, now=clock()
            )
        with pytest.raises(DomainError) as error:
            await team.deactivate_member(
                session=session, actor=member, member_id=member.id, now=clock()
            )
        assert error.value.key == "cannot_deactivate_self"
