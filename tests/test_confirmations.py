"""Partners close the loop (issue 16), the domain: single-use codes, the answer through the
reminder's own state machine, refusals, and the figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.db import Sessions
from models import audit, confirmations, orientations
from models.calendar import ReminderWindow, parse_days
from models.confirmations import NotForUsReason, PartnerAnswer, State
from models.errors import DomainError
from models.orientations import Answer, FollowUpPolicy, Mode, Orientation, Purpose
from models.people import Person, Status
from models.reference import Partner
from models.team import Member, Role
from tests.conftest import Clock, add_member, engage_person

PARIS = ZoneInfo("Europe/Paris")
POLICY = FollowUpPolicy(
    window=ReminderWindow(dt.time(9), dt.time(18, 30), parse_days("mon-fri"), PARIS)
)
TTL = dt.timedelta(days=7)


async def orient(sessions: Sessions, clock: Clock, member: Member, name: str = "Amina") -> int:
    person_id = await engage_person(sessions, clock, member, name)
    async with sessions.begin() as session:
        partner = (await session.exec(select(Partner).where(Partner.code == "plie-paris"))).one()
        made = await orientations.orient(
            session=session, actor=member, person_id=person_id, partner_id=partner.id or 0,
            purpose=Purpose.TRAINING, mode=Mode.APPOINTMENT, appointment_on=None, note=None,
            now=clock(), today=clock().astimezone(PARIS).date(), policy=POLICY,
        )  # fmt: skip
        return made.id or 0


async def ask(sessions: Sessions, clock: Clock, member: Member, orientation_id: int) -> str:
    async with sessions.begin() as session:
        issued = await confirmations.request_confirmation(
            session=session, actor=member, orientation_id=orientation_id, now=clock(), ttl=TTL
        )
    return issued.code


async def reply(
    sessions: Sessions,
    clock: Clock,
    code: str,
    answer: PartnerAnswer,
    *,
    reason: NotForUsReason | None = None,
    on: dt.date | None = None,
    channel: str = "web",
) -> confirmations.Confirmation:
    async with sessions.begin() as session:
        return await confirmations.confirm(
            session=session, code=code, answer=answer, now=clock(),
            today=clock().astimezone(PARIS).date(), policy=POLICY, channel=channel,
            reason=reason, appointment_on=on,
        )  # fmt: skip


async def get(sessions: Sessions, orientation_id: int) -> tuple[Orientation, Person]:
    async with sessions() as session:
        orientation = await session.get_one(Orientation, orientation_id)
        return orientation, await session.get_one(Person, orientation.person_id)


async def test_a_code_is_stored_hashed_and_shows_only_code_initial_purpose_mode_date_first_name(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock, name="Samia Benali")
    oid = await orient(sessions, clock, member, "Amina")
    code = await ask(sessions, clock, member, oid)
    assert confirmations.looks_like_code(code)
    async with sessions() as session:
        stored = (await session.exec(select(confirmations.ConfirmationRequest))).one()
        found = await confirmations.lookup(session=session, code=code, now=clock())
    assert code not in repr(stored.model_dump())
    assert stored.expires_at == clock() + TTL
    assert found.state == State.PENDING
    assert found.card is not None
    shown = dataclasses.asdict(found.card)
    assert shown == {
        "programme": confirmations.PROGRAMME_NAME,
        "person_code": f"P-{(await get(sessions, oid))[1].id:04d}",
        "initial": "A",
        "purpose": "training",
        "mode": "appointment",
        "oriented_on": clock(),
        "mediator_first_name": "Samia",
    }
    assert "Amina" not in repr(shown)
    assert "Benali" not in repr(shown)


async def test_the_partners_answer_settles_the_orientation_once_and_its_reminder(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    oid = await orient(sessions, clock, member)
    code = await ask(sessions, clock, member, oid)
    clock.advance(days=2)
    first = await reply(sessions, clock, code, PartnerAnswer.STARTED, channel="telegram")
    assert first.accepted
    assert first.changed
    orientation, person = await get(sessions, oid)
    assert orientation.outcome == "started"
    assert orientation.confirmed_by_partner_at == clock()
    assert orientation.next_check_at is None
    assert person.status == Status.SUPPORTED
    # The reminder is settled: nothing is due, ever, and /suivis no longer lists it.
    async with sessions.begin() as session:
        due = await orientations.claim_due_checks(
            session=session, now=clock() + dt.timedelta(days=60), limit=10
        )
        pending = await orientations.pending_checks(session=session, viewer=member)
    assert due == []
    assert list(pending) == []
    # Second use: refused, nothing changes.
    clock.advance(hours=1)
    second = await reply(sessions, clock, code, PartnerAnswer.NO_SHOW)
    assert not second.accepted
    assert second.state == State.ANSWERED
    assert (await get(sessions, oid))[0].outcome == "started"
    async with sessions() as session:
        logged = await audit.events(session=session, action="partner_confirmation")
    assert [e.detail for e in logged] == ["started via telegram"]
    assert logged[0].member_id is None


async def test_expired_revoked_and_forged_codes_change_nothing(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    expired_id = await orient(sessions, clock, member, "Amina")
    revoked_id = await orient(sessions, clock, member, "Binta")
    expired = await ask(sessions, clock, member, expired_id)
    revoked = await ask(sessions, clock, member, revoked_id)
    async with sessions.begin() as session:
        request = await confirmations.pending_request(
            session=session, orientation_id=revoked_id, now=clock()
        )
        assert request is not None
        await confirmations.revoke(
            session=session, actor=member, request_id=request.id or 0, now=clock()
        )
    clock.advance(days=7, seconds=1)
    for code, state in (
        (expired, State.EXPIRED),
        (revoked, State.REVOKED),
        ("A" * 24, State.UNKNOWN),
        (expired[:-1] + ("x" if expired[-1] != "x" else "y"), State.UNKNOWN),
        ("../../etc/passwd", State.UNKNOWN),
        ("", State.UNKNOWN),
    ):
        result = await reply(sessions, clock, code, PartnerAnswer.STARTED)
        assert (result.accepted, result.state) == (False, state), code
    for oid in (expired_id, revoked_id):
        orientation, _ = await get(sessions, oid)
        assert orientation.outcome is None
        assert orientation.confirmed_by_partner_at is None


async def test_a_new_link_revokes_the_previous_one_and_only_followers_may_ask_or_revoke(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    other, _ = await add_member(
        sessions, clock, name="Karim Haddad", neighbourhood="fougeres-le-vau"
    )
    oid = await orient(sessions, clock, member)
    old = await ask(sessions, clock, member, oid)
    new = await ask(sessions, clock, member, oid)
    assert (await reply(sessions, clock, old, PartnerAnswer.NO_SHOW)).state == State.REVOKED
    with pytest.raises(DomainError):
        await ask(sessions, clock, other, oid)
    assert (await reply(sessions, clock, new, PartnerAnswer.NO_SHOW)).accepted


async def test_the_mediators_later_answer_wins(sessions: Sessions, clock: Clock) -> None:
    member, _ = await add_member(sessions, clock)
    oid = await orient(sessions, clock, member)
    code = await ask(sessions, clock, member, oid)
    await reply(sessions, clock, code, PartnerAnswer.NO_SHOW)
    orientation, person = await get(sessions, oid)
    assert (orientation.outcome, person.status) == ("no_show", Status.ENGAGED)
    clock.advance(days=1)
    async with sessions.begin() as session:
        result = await orientations.answer(
            session=session, actor=member, orientation_id=oid, action=Answer.STARTED,
            seq=orientation.seq, now=clock(),
        )  # fmt: skip
    assert result.changed
    orientation, person = await get(sessions, oid)
    assert orientation.outcome == "started"
    assert orientation.confirmed_by_partner_at is None
    assert person.status == Status.SUPPORTED


async def test_a_mediators_answer_first_leaves_the_partners_answer_without_effect(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    oid = await orient(sessions, clock, member)
    code = await ask(sessions, clock, member, oid)
    orientation, _ = await get(sessions, oid)
    async with sessions.begin() as session:
        await orientations.answer(
            session=session, actor=member, orientation_id=oid, action=Answer.CAME_NO_FOLLOW,
            seq=orientation.seq, now=clock(),
        )  # fmt: skip
        found = await confirmations.lookup(session=session, code=code, now=clock())
    assert found.state == State.SETTLED
    assert found.card is None
    late = await reply(sessions, clock, code, PartnerAnswer.STARTED)
    assert late.accepted
    assert not late.changed
    orientation, _ = await get(sessions, oid)
    assert orientation.outcome == "came_no_follow"
    assert orientation.confirmed_by_partner_at is None


async def test_an_appointment_moves_the_check_after_it_and_keeps_the_orientation_open(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    oid = await orient(sessions, clock, member)
    code = await ask(sessions, clock, member, oid)
    on = dt.date(2026, 3, 20)  # a Friday
    with pytest.raises(DomainError):  # no date: refused before the code is used
        await reply(sessions, clock, code, PartnerAnswer.APPOINTMENT)
    with pytest.raises(DomainError):
        await reply(sessions, clock, code, PartnerAnswer.APPOINTMENT, on=dt.date(2030, 1, 1))
    result = await reply(sessions, clock, code, PartnerAnswer.APPOINTMENT, on=on)
    assert result.accepted
    assert result.changed
    orientation, person = await get(sessions, oid)
    assert orientation.is_open
    assert orientation.appointment_on == on
    assert orientation.next_check_at is not None
    assert orientation.next_check_at.astimezone(PARIS).date() == dt.date(2026, 3, 24)
    assert person.status == Status.ORIENTED


async def test_not_for_us_needs_a_coded_reason(sessions: Sessions, clock: Clock) -> None:
    member, _ = await add_member(sessions, clock)
    oid = await orient(sessions, clock, member)
    code = await ask(sessions, clock, member, oid)
    with pytest.raises(DomainError):
        await reply(sessions, clock, code, PartnerAnswer.NOT_FOR_US)
    result = await reply(
        sessions, clock, code, PartnerAnswer.NOT_FOR_US, reason=NotForUsReason.NO_PLACE
    )
    assert result.request is not None
    assert result.request.reason == "no_place"
    orientation, person = await get(sessions, oid)
    assert orientation.outcome == "not_for_us"
    assert person.status == Status.ENGAGED


async def test_figures_per_partner_and_the_weeks_count(sessions: Sessions, clock: Clock) -> None:
    member, _ = await add_member(sessions, clock)
    start = clock()
    answered = [await orient(sessions, clock, member, n) for n in ("Amina", "Binta", "Awa")]
    by_team = await orient(sessions, clock, member, "Yasmina")
    unanswered = await orient(sessions, clock, member, "Farid")
    codes = [await ask(sessions, clock, member, oid) for oid in answered]
    await ask(sessions, clock, member, unanswered)
    for days, code in zip((1, 2, 4), codes, strict=True):
        clock.now = start + dt.timedelta(days=days)
        await reply(sessions, clock, code, PartnerAnswer.STARTED)
    orientation, _ = await get(sessions, by_team)
    async with sessions.begin() as session:
        await orientations.answer(
            session=session, actor=member, orientation_id=by_team, action=Answer.NO_SHOW,
            seq=orientation.seq, now=clock(),
        )  # fmt: skip
        partner_id = orientation.partner_id
        figures = await confirmations.partner_figures(
            session=session, start=start, end=clock(), partner_ids=[partner_id]
        )
        week = await confirmations.settled_by_partners(
            session=session,
            start=start + dt.timedelta(days=1, hours=12),
            end=clock() + dt.timedelta(seconds=1),
        )
    figure = figures[partner_id]
    assert (figure.sent, figure.answered, figure.median_days) == (4, 3, 2.0)
    assert figure.by_partner == {"started": 3}
    assert figure.by_team == {"no_show": 1}
    assert week == 2


def test_the_try_limiter_allows_a_few_tries_a_minute_per_key() -> None:
    limiter = confirmations.TryLimiter(tries=3, per=60)
    assert [limiter.allow("chat", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("other", now=3)
    assert not limiter.allow("chat", now=59)
    assert limiter.allow("chat", now=61)


async def test_a_project_officer_cannot_ask_for_someone_elses_orientation(
    sessions: Sessions, clock: Clock
) -> None:
    member, _ = await add_member(sessions, clock)
    officer, _ = await add_member(sessions, clock, role=Role.PROJECT_OFFICER, name="Léa Roux")
    oid = await orient(sessions, clock, member)
    with pytest.raises(DomainError):
        await ask(sessions, clock, officer, oid)


async def test_the_committee_report_and_the_export_show_the_partners_confirmations(
    sessions: Sessions, clock: Clock
) -> None:
    from bot import committee_report, confirmation_figures, exports
    from models import committee
    from models.stats import Period

    member, _ = await add_member(sessions, clock)
    by_partner = await orient(sessions, clock, member, "Amina")
    waiting = await orient(sessions, clock, member, "Binta")
    by_team = await orient(sessions, clock, member, "Awa")
    code = await ask(sessions, clock, member, by_partner)
    await ask(sessions, clock, member, waiting)
    clock.advance(days=3)
    await reply(sessions, clock, code, PartnerAnswer.UNREACHABLE)
    orientation, _ = await get(sessions, by_team)
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    async with sessions.begin() as session:
        await orientations.answer(
            session=session, actor=member, orientation_id=by_team, action=Answer.STARTED,
            seq=orientation.seq, now=clock(),
        )  # fmt: skip
        report = await committee.report(
            session=session, partner_id=orientation.partner_id, period=period, tz=PARIS
        )
        labels = await committee_report.load_labels(session=session)
        exported = await confirmation_figures.export_table(
            session=session, period=period, tz=PARIS
        )
    text = "\n".join(committee_report.render(report, labels, tz=PARIS))
    assert "Confirmations par le partenaire : 2 demandes, 1 réponse, délai médian 3 j" in text
    assert "Issues données par le partenaire : injoignable : 1." in text
    assert "Issues données par l'équipe : venu·e, accompagnement démarré : 1." in text
    sheet = committee_report.tables(report, labels, tz=PARIS)[-1]
    assert sheet.name == "Confirmations"
    # one line per partner: 2 requests, 1 answered (50 %) after 3 days; of the 2 outcomes
    # given, 1 by the partner and 1 by the team
    assert sheet.rows == [["PLIE de Paris", 2, 1, 0.5, 3.0, 1, 1, 0.5]]
    assert exported.rows == sheet.rows
    async with sessions() as session:
        data = await exports.gather(
            session=session, period=period, tz=PARIS, today=clock().date(), now=clock()
        )
    given_by = {row[0]: row[-1] for row in exports.orientations_table(data).rows}
    assert given_by == {by_partner: "le partenaire", waiting: "", by_team: "l'équipe"}


async def test_correcting_a_partners_started_undoes_only_the_support_it_gave(
    sessions: Sessions, clock: Clock
) -> None:
    """The path never goes back (test_status.py), save this correction: the partner said
    « accompagnement démarré », the mediator learns the person never came. A support recorded
    on another orientation stays."""
    member, _ = await add_member(sessions, clock)
    oid = await orient(sessions, clock, member)
    await reply(sessions, clock, await ask(sessions, clock, member, oid), PartnerAnswer.STARTED)
    orientation, person = await get(sessions, oid)
    assert person.status == Status.SUPPORTED
    async with sessions.begin() as session:
        await orientations.answer(
            session=session, actor=member, orientation_id=oid, action=Answer.NO_SHOW,
            seq=orientation.seq, now=clock(),
        )  # fmt: skip
    orientation, person = await get(sessions, oid)
    assert (orientation.outcome, person.status) == ("no_show", Status.ENGAGED)

    # Supported through the mediator's own answer first: the partner's later word on another
    # orientation, corrected, leaves the person supported.
    first = await orient(sessions, clock, member, "Binta")
    _, binta = await get(sessions, first)
    async with sessions.begin() as session:
        [row] = (await session.exec(select(Orientation).where(Orientation.id == first))).all()
        await orientations.answer(
            session=session, actor=member, orientation_id=first, action=Answer.STARTED,
            seq=row.seq, now=clock(),
        )  # fmt: skip
        partner = (await session.exec(select(Partner).where(Partner.code == "plie-paris"))).one()
        second = await orientations.orient(
            session=session, actor=member, person_id=binta.id or 0, partner_id=partner.id or 0,
            purpose=Purpose.TRAINING, mode=Mode.APPOINTMENT, appointment_on=None, note=None,
            now=clock(), today=clock().astimezone(PARIS).date(), policy=POLICY,
        )  # fmt: skip
        second_id = second.id or 0
    code = await ask(sessions, clock, member, second_id)
    await reply(sessions, clock, code, PartnerAnswer.STARTED)
    orientation, person = await get(sessions, second_id)
    async with sessions.begin() as session:
        await orientations.answer(
            session=session, actor=member, orientation_id=second_id, action=Answer.NO_SHOW,
            seq=orientation.seq, now=clock(),
        )  # fmt: skip
    orientation, person = await get(sessions, second_id)
    assert (orientation.outcome, person.status) == ("no_show", Status.SUPPORTED)
