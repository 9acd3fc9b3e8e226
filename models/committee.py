"""The follow-up committee with one partner: the orientations made to it over a period, what
became of them, and how long people waited for their first appointment. Pseudonymised:
people appear by code only.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.confirmations import PartnerFigures, partner_figures
from models.errors import NotFound
from models.orientations import Orientation, Outcome
from models.people import person_code
from models.reference import Partner
from models.stats import Period

CAME = (Outcome.STARTED.value, Outcome.CAME_NO_FOLLOW.value)
KNOWN = (*CAME, Outcome.NO_SHOW.value)


@dataclass(frozen=True, slots=True)
class CommitteeRow:
    """One orientation, as the committee reads it."""

    code: str
    created_on: dt.date
    purpose: str
    mode: str
    appointment_on: dt.date | None
    outcome: str | None
    outcome_on: dt.date | None

    @property
    def days_to_appointment(self) -> int | None:
        """Days from the orientation to the first appointment, when one was set."""
        if self.appointment_on is None:
            return None
        return (self.appointment_on - self.created_on).days


@dataclass(slots=True)
class CommitteeReport:
    """Everything the committee with `partner` needs for `period`."""

    partner: Partner
    period: Period
    rows: list[CommitteeRow] = field(default_factory=list)
    confirmations: PartnerFigures | None = None  # what the partner confirmed itself (#16)

    @property
    def total(self) -> int:
        """Orientations made to the partner in the period."""
        return len(self.rows)

    @property
    def known(self) -> int:
        """Orientations whose outcome is known: came and started, came, or did not come."""
        return sum(1 for r in self.rows if r.outcome in KNOWN)

    @property
    def pending(self) -> int:
        """Orientations still waiting for an answer."""
        return sum(1 for r in self.rows if r.outcome is None)

    @property
    def median_days_to_appointment(self) -> float | None:
        """Median wait for the first appointment, over orientations that had one."""
        waits = [r.days_to_appointment for r in self.rows if r.days_to_appointment is not None]
        return statistics.median(waits) if waits else None

    @property
    def share_came(self) -> float | None:
        """Share of known outcomes where the person came (support started or not)."""
        return sum(1 for r in self.rows if r.outcome in CAME) / self.known if self.known else None

    @property
    def share_started(self) -> float | None:
        """Share of known outcomes where the partner's support started."""
        if not self.known:
            return None
        return sum(1 for r in self.rows if r.outcome == Outcome.STARTED) / self.known

    def by_outcome(self) -> dict[str | None, int]:
        """How many orientations ended each way (None: still pending)."""
        counts: dict[str | None, int] = {}
        for row in self.rows:
            counts[row.outcome] = counts.get(row.outcome, 0) + 1
        return counts


async def report(
    *, session: AsyncSession, partner_id: int, period: Period, tz: ZoneInfo
) -> CommitteeReport:
    """The orientations to one partner created in the period, oldest first."""
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFound()
    start, end = period.bounds(tz)
    rows = await session.exec(
        select(Orientation)
        .where(
            Orientation.partner_id == partner_id,
            col(Orientation.created_at) >= start,
            col(Orientation.created_at) < end,
        )
        .order_by(col(Orientation.created_at), col(Orientation.id))
    )
    result = CommitteeReport(partner=partner, period=period)
    figures = await partner_figures(
        session=session, start=start, end=end, partner_ids=[partner_id]
    )
    result.confirmations = figures[partner_id]
    for o in rows.all():
        result.rows.append(
            CommitteeRow(
                code=person_code(o.person_id),
                created_on=o.created_at.astimezone(tz).date(),
                purpose=o.purpose,
                mode=o.mode,
                appointment_on=o.appointment_on,
                outcome=o.outcome,
                outcome_on=o.outcome_at.astimezone(tz).date() if o.outcome_at else None,
            )
        )
    return result


async def partners_oriented_to(
    *, session: AsyncSession, period: Period, tz: ZoneInfo
) -> list[int]:
    """The partners that received at least one orientation in the period."""
    start, end = period.bounds(tz)
    rows = await session.exec(
        select(Orientation.partner_id)
        .where(col(Orientation.created_at) >= start, col(Orientation.created_at) < end)
        .distinct()
        .order_by(col(Orientation.partner_id))
    )
    return list(rows.all())
