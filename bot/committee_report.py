"""The committee report as French text and as a workbook: codes only, never a name."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot import confirmation_figures, texts
from bot.exports import Table, to_xlsx
from bot.formatting import day, plural
from bot.reports import Labels, load_labels, percent, split
from models.committee import CommitteeReport

__all__ = ["load_labels", "render", "to_xlsx_bytes"]


def _outcome(labels: Labels, code: str | None) -> str:
    return labels.of("outcome", code) if code else texts.COMMITTEE_PENDING


def render(report: CommitteeReport, labels: Labels, *, tz: ZoneInfo) -> list[str]:
    """The figures, then one line per orientation; split into Telegram-sized messages."""
    median = report.median_days_to_appointment
    with_appointment = sum(1 for r in report.rows if r.appointment_on is not None)
    outcomes = " ; ".join(
        f"{_outcome(labels, code)} : {count}"
        for code, count in sorted(report.by_outcome().items(), key=lambda kv: -kv[1])
    )
    text = texts.COMMITTEE_REPORT.format(
        partner=report.partner.name,
        start=day(report.period.start, tz),
        end=day(report.period.end, tz),
        total=report.total,
        known=report.known,
        pending=report.pending,
        median=texts.COMMITTEE_MEDIAN.format(
            days=plural(round(median, 1), *texts.COMMITTEE_DAYS),
            appointments=plural(with_appointment, *texts.COMMITTEE_APPOINTMENTS),
        )
        if median is not None
        else texts.COMMITTEE_NO_MEDIAN,
        came=percent(report.share_came),
        started=percent(report.share_started),
        outcomes=outcomes or texts.REPORT_NONE,
    )
    if report.confirmations is not None:
        text += confirmation_figures.summary(report.confirmations)
    if report.rows:
        text += texts.COMMITTEE_LINES_TITLE
        for row in report.rows:
            appointment = (
                texts.COMMITTEE_LINE_APPOINTMENT.format(day=day(row.appointment_on, tz))
                if row.appointment_on
                else ""
            )
            text += "\n" + texts.COMMITTEE_LINE.format(
                code=row.code,
                created=day(row.created_on, tz),
                purpose=labels.of("purpose", row.purpose),
                appointment=appointment,
                outcome=_outcome(labels, row.outcome),
            )
    return split(text)


def tables(report: CommitteeReport, labels: Labels, *, tz: ZoneInfo) -> list[Table]:
    """The summary sheet and the orientations sheet."""
    names = texts.COMMITTEE_SUMMARY_ROWS
    median = report.median_days_to_appointment
    summary: list[list[Any]] = [
        [names["partner"], report.partner.name],
        [names["period"], f"{day(report.period.start, tz)} – {day(report.period.end, tz)}"],
        [names["total"], report.total],
        [names["known"], report.known],
        [names["pending"], report.pending],
        [names["median"], median if median is not None else ""],
        [names["came"], round(report.share_came, 3) if report.share_came is not None else ""],
        [
            names["started"],
            round(report.share_started, 3) if report.share_started is not None else "",
        ],
    ]
    rows = [
        [
            r.code,
            r.created_on,
            labels.of("purpose", r.purpose),
            texts.MODE_LABELS.get(r.mode, r.mode),
            r.appointment_on,
            r.days_to_appointment,
            _outcome(labels, r.outcome),
            r.outcome_on,
        ]
        for r in report.rows
    ]
    found = [
        Table(texts.COMMITTEE_SHEET_SUMMARY, list(texts.COMMITTEE_SUMMARY_HEADERS), summary),
        Table(texts.COMMITTEE_SHEET_ROWS, list(texts.COMMITTEE_ROW_HEADERS), rows),
    ]
    if report.confirmations is not None:
        found.append(confirmation_figures.table([(report.partner.name, report.confirmations)]))
    return found


def to_xlsx_bytes(report: CommitteeReport, labels: Labels, *, tz: ZoneInfo) -> bytes:
    """The workbook sent with the message."""
    return to_xlsx(tables(report, labels, tz=tz))
