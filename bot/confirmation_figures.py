"""Partner confirmations in the committee report and the export (issue 16): requests sent,
answered by the partner, median days to the answer, outcomes by who gave them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import texts
from bot.formatting import number, plural
from models.confirmations import PartnerFigures, partner_figures
from models.reference import Partner
from models.stats import Period

if TYPE_CHECKING:
    from bot.exports import Table


def _outcomes(counts: dict[str, int]) -> str:
    if not counts:
        return texts.REPORT_NONE
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{texts.OUTCOME_LABELS.get(code, code)} : {n}" for code, n in ordered)


def summary(figures: PartnerFigures) -> str:
    """The lines added to the committee report's message."""
    median = figures.median_days
    return texts.COMMITTEE_CONFIRMATIONS.format(
        sent=plural(figures.sent, *texts.COMMITTEE_CONFIRMATIONS_SENT),
        answered=plural(figures.answered, *texts.COMMITTEE_CONFIRMATIONS_ANSWERED),
        median=texts.COMMITTEE_CONFIRMATIONS_DAYS.format(days=number(median))
        if median is not None
        else texts.COMMITTEE_CONFIRMATIONS_NO_MEDIAN,
        by_partner=_outcomes(figures.by_partner),
        by_team=_outcomes(figures.by_team),
    )


def row(name: str, figures: PartnerFigures) -> list[Any]:
    """One partner's line: its requests and answers, then the outcomes by who gave them (the
    detail of each outcome is in the « Orientations » sheet, column « Issue donnée par »)."""
    by_partner, by_team = sum(figures.by_partner.values()), sum(figures.by_team.values())
    given = by_partner + by_team
    return [
        name,
        figures.sent,
        figures.answered,
        figures.answered / figures.sent if figures.sent else None,
        figures.median_days,
        by_partner,
        by_team,
        by_partner / given if given else None,
    ]


def table(figures: list[tuple[str, PartnerFigures]]) -> Table:
    """The « Confirmations » sheet: one line per partner."""
    from bot.exports import INTEGER, PERCENT, Table  # the export imports this module

    return Table(
        texts.COMMITTEE_SHEET_CONFIRMATIONS,
        list(texts.COMMITTEE_CONFIRMATION_HEADERS),
        [row(name, figure) for name, figure in figures],
        [None, INTEGER, INTEGER, PERCENT, "0.0", INTEGER, INTEGER, PERCENT],
    )


async def export_table(*, session: AsyncSession, period: Period, tz: ZoneInfo) -> Table:
    """Every partner that received a request or an orientation in the period."""
    start, end = period.bounds(tz)
    partners = (await session.exec(select(Partner).order_by(col(Partner.name)))).all()
    figures = await partner_figures(
        session=session, start=start, end=end, partner_ids=[p.id or 0 for p in partners]
    )
    shown = [
        (p.name, figures[p.id or 0])
        for p in partners
        if figures[p.id or 0].sent or figures[p.id or 0].by_partner or figures[p.id or 0].by_team
    ]
    return table(shown)
