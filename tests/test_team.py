"""Joining by invitation, /inviter, /equipe, commands per role, /aide."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest
from sqlmodel import col, select

from bot.access import COMMANDS_BY_ROLE
from bot.db import Sessions
from models import team
from models.audit import AuditEvent
from models.errors import DomainError
from models.team import Invitation, Member, Role
from tests.conftest import Clock, User, add_member


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
    areas = coordinator.labels()
    assert "19e Sud (Danube, Chaufourniers, Algérie)" in areas  # its arrondissement said once
    assert any(label.endswith("(18e)") for label in areas)  # added where the name lacks it
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


async def test_inviter_takes_a_typed_role_goes_back_and_cancels(
    coordinator: User, sessions: Sessions
) -> None:
    """/inviter is a form: a role may be typed, « Retour » goes back a step, a changed role
    drops the neighbourhood question, and « Annuler » leaves no invitation."""
    await coordinator.send("/inviter")
    assert "Nom" in await coordinator.send("Médiateur")  # the button « médiateur·rice emploi »
    assert "quartier" in await coordinator.send("Samir Haddad")
    assert "Nom" in await coordinator.tap("◀ Retour")
    assert "rôle" in await coordinator.tap("◀ Retour")
    await coordinator.tap("coordinateur·rice")
    ready = await coordinator.send("Samir Haddad")
    assert "Invitation créée pour Samir Haddad (coordinateur·rice)" in ready
    await coordinator.send("/inviter")
    await coordinator.tap("chargé·e de projet emploi")
    assert "Rien n'a été enregistré" in await coordinator.tap("✖ Annuler")
    async with sessions() as session:
        created_by_claire = (
            await session.exec(
                select(Invitation).where(col(Invitation.created_by_id).is_not(None))
            )
        ).all()
    assert [(i.role, i.display_name, i.neighbourhood_id) for i in created_by_claire] == [
        ("coordinator", "Samir Haddad", None)
    ]


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


async def test_the_invitation_travels_and_the_inviter_hears_of_the_join(
    app, api, coordinator: User
) -> None:
    await coordinator.send("/inviter")
    await coordinator.tap("médiateur·rice emploi")
    prompt = await coordinator.send("Samir Haddad")
    assert coordinator.last.protect_content  # every other message stays protected
    assert "quartier" in prompt
    ready = await coordinator.tap("Fougères-Le Vau")
    invitation = coordinator.last
    assert ready.startswith("Invitation créée pour Samir Haddad")
    assert invitation.protect_content is False  # it can be forwarded and copied
    link = re.search(r"https://t\.me/aveq_test_bot\?start=\S+", ready)
    assert link
    (share,) = invitation.buttons()
    assert share["text"] == "📤 Partager"
    assert share["url"].startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2Faveq_test_bot")
    assert quote(link.group(0), safe="") in share["url"]

    newcomer = User(app, api)
    await newcomer.send(f"/start {code_in(ready)}")
    assert coordinator.last.text == (
        "✅ Samir Haddad a rejoint l'équipe (médiateur·rice emploi) avec votre invitation."
    )


async def test_pending_invitations_are_listed_and_can_be_revoked(
    app, api, coordinator: User, sessions: Sessions, clock: Clock
) -> None:
    codes = {}
    for name in ("Samir Haddad", "Léa Dubois"):
        await coordinator.send("/inviter")
        await coordinator.tap("chargé·e de projet emploi")
        codes[name] = code_in(await coordinator.send(name))
    listing = await coordinator.send("/equipe")
    assert listing.startswith("Invitations en attente (2) :")
    assert "• Samir Haddad : chargé·e de projet emploi, valable jusqu'au" in listing
    assert "Retirer l'invitation de Léa Dubois" in coordinator.labels()
    mediator_id = (await add_member(sessions, clock, name="Karim"))[1]
    mediator = User(app, api, mediator_id)
    await mediator.send("/equipe")
    assert "Invitations en attente" not in mediator.last.text  # coordinators only
    revoke = next(b["callback_data"] for b in coordinator.last.buttons() if "Léa" in b["text"])
    await mediator.press(revoke, message_id=mediator.last.message_id)
    assert "ne pouvez pas" in api.alerts[-1][1]
    assert "Son lien ne fonctionnera plus" in await coordinator.tap("Retirer l'invitation de Léa")
    assert "est retirée" in await coordinator.tap("Oui, retirer")
    assert "n'est pas valable" in await User(app, api).send(f"/start {codes['Léa Dubois']}")
    assert (await coordinator.send("/equipe")).startswith("Invitations en attente (1) :")
    await coordinator.press(revoke, message_id=coordinator.last.message_id)
    assert "n'est plus en attente" in api.alerts[-1][1]
    async with sessions() as session:
        journal = (await session.exec(select(AuditEvent.action, AuditEvent.subject))).all()
    assert ("revoke_invitation", "Léa Dubois") in journal
    assert "Bienvenue Samir Haddad" in await User(app, api).send(f"/start {codes['Samir Haddad']}")
