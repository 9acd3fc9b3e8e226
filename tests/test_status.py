"""The person's status machine, enforced in models/, and the flows that move it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import texts
from bot.app import BotApplication
from bot.db import Sessions
from bot.settings import Settings
from models import orientations
from models.audit import AuditEvent
from models.base import pk
from models.errors import DomainError
from models.orientations import Answer, ContactKind, ExitReason, Mode, Orientation, Purpose
from models.people import Person, Status, change_status
from models.reference import Partner
from models.team import Member, Role
from tests.conftest import Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI
from tests.test_followups import member_of, orient_directly, person_of, sweep


def test_transitions_table() -> None:
    mediator = Member(
        telegram_user_id=1, display_name="m", role=Role.MEDIATOR, joined_at=dt.datetime.now(dt.UTC)
    )
    coordinator = Member(
        telegram_user_id=2,
        display_name="c",
        role=Role.COORDINATOR,
        joined_at=dt.datetime.now(dt.UTC),
    )
    person = Person(status="engaged")  # type: ignore[call-arg]
    with pytest.raises(DomainError, match="transition_invalid"):
        change_status(person, Status.SUPPORTED, by=mediator)
    change_status(person, Status.ORIENTED, by=mediator)
    change_status(person, Status.SUPPORTED, by=mediator)
    change_status(person, Status.EXITED, by=mediator)
    with pytest.raises(DomainError, match="person_exited"):
        change_status(person, Status.ORIENTED, by=coordinator)
    with pytest.raises(DomainError, match="coordinator_only"):
        change_status(person, Status.ENGAGED, by=mediator)
    change_status(person, Status.ENGAGED, by=coordinator)
    assert person.status == "engaged"


async def test_exit_then_reopen_by_a_coordinator(
    api: FakeBotAPI,
    mediator: User,
    coordinator: User,
    sessions: Sessions,
    clock: Clock,
    app: BotApplication,
) -> None:
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    await orient_directly(app, sessions, clock, member, person_id)
    await mediator.send("/sortie")
    await mediator.tap("P-0001")
    await mediator.tap("Déménagement")
    await mediator.send("lundi")  # typed: last Monday
    assert "le 09/03/2026" in await mediator.tap("Oui, clore")
    async with sessions() as session:
        person = await session.get_one(Person, person_id)
        open_ones = await orientations.pending_checks(session=session, viewer=member)
    assert (person.status, person.exit_reason, person.exited_on) == (
        "exited",
        "moved",
        dt.date(2026, 3, 9),
    )
    assert open_ones == []
    # The mediator's card offers only the way back; the coordinator's offers to re-open.
    await mediator.press(f"ps:open:{person_id}", message_id=mediator.last.message_id)
    assert mediator.labels() == ["◀ Retour"]
    await mediator.press(f"ps:reopen:{person_id}", message_id=mediator.last.message_id)
    assert "coordination" in api.alerts[-1][1]
    await coordinator.send("/personnes")
    await coordinator.tap("P-0001")
    assert "Médiation rouverte pour P-0001 Amina" in await coordinator.tap("Rouvrir la médiation")
    async with sessions() as session:
        assert (await session.get_one(Person, person_id)).status == "engaged"


async def test_a_person_referred_by_a_partner(mediator: User, sessions: Sessions) -> None:
    await mediator.send("/nouveau")
    await mediator.send("Yanis")
    for label in ("H · Moins de 26 ans", "QVA"):
        await mediator.tap(label)
    assert "Quel partenaire l'a orienté ?" in await mediator.tap("Orienté·e par un partenaire")
    assert "Freins" in await mediator.tap("PRIJ (Mission Locale)")
    for label in ("Valider (0)", "Ne sait pas", "Non", "Informé · refuse"):
        await mediator.tap(label)
    assert "Orienté·e par : PRIJ (Mission Locale)" in mediator.last.text
    await mediator.tap("✅ Enregistrer")
    async with sessions() as session:
        person = (await session.exec(select(Person))).one()
        assert person.channel == "partner_referral"
        assert person.referred_by_partner_id is not None


async def test_reminder_across_the_spring_change_goes_out_at_nine_paris(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 3, 27, 10, 0, tzinfo=dt.UTC)  # Friday, before the change
    member, user_id = await add_member(sessions, clock)
    person_id = await engage_person(sessions, clock, member)
    # Appointment that Friday: two working days later is Tuesday 31, 9:00 Paris = 7:00 UTC.
    await orient_directly(
        app, sessions, clock, member, person_id, appointment=dt.date(2026, 3, 27)
    )
    user = User(app, api, user_id)
    clock.now = dt.datetime(2026, 3, 31, 6, 59, tzinfo=dt.UTC)
    await sweep(app)
    assert not any("Point à faire" in m.text for m in api.chat(user_id))
    clock.now = dt.datetime(2026, 3, 31, 7, 0, tzinfo=dt.UTC)
    await sweep(app)
    assert sum("Point à faire" in m.text for m in api.chat(user_id)) == 1
    assert user.labels()[0] == "Venu·e, accompagnement démarré"


async def test_exit_reasons_are_the_programme_s(sessions: Sessions, clock: Clock) -> None:
    member, _ = await add_member(sessions, clock)
    person_id = await engage_person(sessions, clock, member)
    with pytest.raises(DomainError, match="date_out_of_range"):
        async with sessions.begin() as session:
            await orientations.exit_person(
                session=session, actor=member, person_id=person_id, reason=ExitReason.DURABLE_JOB,
                on=dt.date(2026, 3, 11), today=dt.date(2026, 3, 10), now=clock(),
            )  # fmt: skip
    assert len(ExitReason) == 9


# --- The path never goes back (issue 13, item 12) -------------------------------------------

RANK = {
    Status.SPOTTED: 0,
    Status.ENGAGED: 1,
    Status.ORIENTED: 2,
    Status.SUPPORTED: 3,
    Status.EXITED: 4,
}
ACTIONS = st.sampled_from(
    [
        "orient",
        "reorient",
        *(f"answer:{a.value}" for a in Answer),
        "stale_answer",
        "contact",
        "exit",
        "reopen_by_mediator",
        "reopen_by_coordinator",
    ]
)


async def _act(
    session: AsyncSession, action: str, *, mediator: Member, coordinator: Member,
    person_id: int, partner_id: int, now: dt.datetime, settings: Settings,
) -> None:  # fmt: skip
    open_ones = (
        await session.exec(
            select(Orientation)
            .where(Orientation.person_id == person_id, col(Orientation.outcome).is_(None))
            .order_by(col(Orientation.id))
        )
    ).all()
    closed = (
        await session.exec(
            select(Orientation).where(
                Orientation.person_id == person_id, col(Orientation.outcome).is_not(None)
            )
        )
    ).all()
    policy = settings.followup_policy
    if action in ("orient", "reorient"):
        replaces = open_ones[-1].id if action == "reorient" and open_ones else None
        await orientations.orient(
            session=session, actor=mediator, person_id=person_id, partner_id=partner_id,
            purpose=Purpose.SUPPORT, mode=Mode.APPOINTMENT, appointment_on=None, note=None,
            now=now, today=now.date(), policy=policy, replaces_id=replaces,
        )  # fmt: skip
    elif action.startswith("answer:") and open_ones:
        target = open_ones[0]
        await orientations.answer(
            session=session, actor=mediator, orientation_id=pk(target),
            action=Answer(action.split(":")[1]), seq=target.seq, now=now,
        )  # fmt: skip
    elif action == "stale_answer" and closed:
        await orientations.answer(
            session=session, actor=mediator, orientation_id=pk(closed[0]),
            action=Answer.NO_SHOW, seq=closed[0].seq - 1, now=now,
        )  # fmt: skip
    elif action == "contact":
        await orientations.record_contact(
            session=session, actor=mediator, person_id=person_id, kind=ContactKind.CALL,
            note=None, now=now,
        )  # fmt: skip
    elif action == "exit":
        await orientations.exit_person(
            session=session, actor=mediator, person_id=person_id, reason=ExitReason.MOVED,
            on=now.date(), today=now.date(), now=now,
        )  # fmt: skip
    elif action.startswith("reopen"):
        actor = coordinator if action == "reopen_by_coordinator" else mediator
        await orientations.reopen(session=session, actor=actor, person_id=person_id, now=now)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(ACTIONS, min_size=1, max_size=14))
async def test_the_status_never_goes_back_except_by_a_coordinator_reopening(
    sessions: Sessions, clock: Clock, settings: Settings, steps: list[str]
) -> None:
    """Every action on one person, in any order: the status only moves forward along
    repéré → accroché → orienté → accompagné → sorti, save that an oriented person whose last
    open orientation ended without support is accroché·e again, and save the coordinator's
    re-opening. A refused action changes nothing."""
    mediator, _ = await add_member(sessions, clock)
    coordinator, _ = await add_member(sessions, clock, role=Role.COORDINATOR, neighbourhood=None)
    person_id = await engage_person(sessions, clock, mediator)
    async with sessions() as session:
        partner_id = pk((await session.exec(select(Partner).limit(1))).one())
    for action in steps:
        clock.advance(hours=3)
        before = (await person_of(sessions, person_id)).status
        reopened = False
        try:
            async with sessions.begin() as session:
                await _act(
                    session, action, mediator=mediator, coordinator=coordinator,
                    person_id=person_id, partner_id=partner_id, now=clock(), settings=settings,
                )  # fmt: skip
                reopened = action == "reopen_by_coordinator"
        except DomainError:
            assert (await person_of(sessions, person_id)).status == before, action
            continue
        after = Status((await person_of(sessions, person_id)).status)
        async with sessions() as session:
            still_open = (
                await session.exec(
                    select(func.count())
                    .select_from(Orientation)
                    .where(Orientation.person_id == person_id, col(Orientation.outcome).is_(None))
                )
            ).one()
        trail = f"{steps}: {action} took {before} to {after}"
        if reopened:
            assert (Status(before), after) in {
                (Status.EXITED, Status.ENGAGED),
                (Status.SUPPORTED, Status.ENGAGED),
                (Status.SUPPORTED, Status.ORIENTED),
            }, trail
        elif (Status(before), after) == (Status.ORIENTED, Status.ENGAGED):
            assert action.startswith("answer:"), trail
            assert still_open == 0, trail
        else:
            assert RANK[after] >= RANK[Status(before)], trail
        # The status says what is open: no open orientation for an accroché·e or sorti·e
        # person, at least one for an orienté·e one.
        if after in (Status.ENGAGED, Status.EXITED):
            assert still_open == 0, trail
        if after == Status.ORIENTED:
            assert still_open > 0, trail


async def test_support_started_then_a_no_show_elsewhere_keeps_the_person_supported(
    app: BotApplication, api: FakeBotAPI, mediator: User, coordinator: User, sessions: Sessions,
    clock: Clock,
) -> None:  # fmt: skip
    """The sequence seen: orient → « Venu·e, accompagnement démarré » → orient again →
    « Pas venu·e »: still accompagné·e. Only a coordinator's re-opening (audited) ends it."""
    member = await member_of(sessions, mediator)
    person_id = await engage_person(sessions, clock, member)
    await orient_directly(app, sessions, clock, member, person_id)
    clock.advance(days=7)
    await sweep(app)
    await mediator.tap("Venu·e, accompagnement démarré")
    assert (await person_of(sessions, person_id)).status == "supported"
    await orient_directly(app, sessions, clock, member, person_id)
    assert (await person_of(sessions, person_id)).status == "supported"
    clock.advance(days=7)
    await sweep(app)
    await mediator.tap("Pas venu·e")
    assert (await person_of(sessions, person_id)).status == "supported"
    # The mediator's card offers no way back; the coordinator's does.
    await mediator.send("/personnes")
    await mediator.tap("P-0001")
    assert texts.CARD_REOPEN_SUPPORT not in mediator.labels()
    await mediator.press(f"ps:reopen:{person_id}", message_id=mediator.last.message_id)
    assert "coordination" in api.alerts[-1][1]
    assert (await person_of(sessions, person_id)).status == "supported"
    await coordinator.send("/personnes")
    await coordinator.tap("P-0001")
    answer = await coordinator.tap(texts.CARD_REOPEN_SUPPORT)
    assert "P-0001 Amina : accompagnement terminé, de nouveau accroché·e." in answer
    assert (await person_of(sessions, person_id)).status == "engaged"
    async with sessions() as session:
        entries = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "reopen"))
        ).all()
    assert [(e.subject, e.detail) for e in entries] == [("P-0001", "supported")]
