"""The funders' export: an XLSX workbook and the same tables as CSV files in a zip.

Pseudonymised: people appear by code only; no first name, phone or note is ever written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import confirmation_figures, texts
from bot.reports import Labels, load_labels
from models import committee, events, exports, reference, stats
from models.base import pk
from models.orientations import Outcome
from models.stats import Period, Scope, ScopeKind


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet (and one CSV file)."""

    name: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True, slots=True)
class Export:
    """The files to send."""

    xlsx: bytes
    zip: bytes
    stem: str


def months_of(period: Period) -> list[Period]:
    """The calendar months the period touches, clipped to it."""
    months = []
    cursor = period.start.replace(day=1)
    while cursor <= period.end:
        month = stats.month_of(cursor)
        months.append(Period(max(month.start, period.start), min(month.end, period.end)))
        cursor = month.end + dt.timedelta(days=1)
    return months


def indicator_row(month: Period, scope_label: str, ind: stats.Indicators) -> list[Any]:
    """One line of the Indicateurs sheet."""
    by_outcome = ind.orientations.by_outcome
    return [
        month.start.strftime("%Y-%m"),
        scope_label,
        ind.informed,
        ind.engaged,
        ind.engaged_by.get("age_bracket", {}).get("under_26", 0),
        ind.engaged_by.get("sex", {}).get("female", 0),
        ind.registered,
        ind.accompanied,
        ind.o2r_priority,
        ind.orientations.total,
        by_outcome.get(Outcome.STARTED.value, 0),
        by_outcome.get(Outcome.NO_SHOW.value, 0),
        sum(ind.exits_by_reason.values()),
        ind.events.events,
        ind.events.attendees,
        ind.events.changed,
    ]


async def build_tables(
    *, session: AsyncSession, period: Period, tz: ZoneInfo, today: dt.date
) -> list[Table]:
    """Every sheet, computed from the indicator engine and the pseudonymised rows."""
    labels = await load_labels(session=session)
    indicator_rows = []
    neighbourhoods = await reference.neighbourhoods(session=session)
    for month in months_of(period):
        scopes = [(texts.SCOPE_TEAM, Scope())] + [
            (n.name, Scope(ScopeKind.NEIGHBOURHOOD, n.id)) for n in neighbourhoods
        ]
        for label, scope in scopes:
            figures = await stats.compute(
                session=session, period=month, scope=scope, tz=tz, today=today
            )
            indicator_rows.append(indicator_row(month, label, figures))
    return [
        Table(texts.EXPORT_SHEET_INDICATORS, list(texts.EXPORT_INDICATOR_HEADERS), indicator_rows),
        _table(
            texts.EXPORT_SHEET_PEOPLE,
            texts.EXPORT_PEOPLE_HEADERS,
            await exports.people_rows(session=session, period=period, tz=tz),
            labels,
        ),
        _table(
            texts.EXPORT_SHEET_ORIENTATIONS,
            texts.EXPORT_ORIENTATION_HEADERS,
            await exports.orientation_rows(session=session, period=period, tz=tz),
            labels,
        ),
        _table(
            texts.EXPORT_SHEET_EXITS,
            texts.EXPORT_EXIT_HEADERS,
            await exports.exit_rows(session=session, period=period),
            labels,
        ),
        _table(
            texts.EXPORT_SHEET_INFORMED,
            texts.EXPORT_INFORMED_HEADERS,
            await exports.informed_rows(session=session, period=period),
            labels,
        ),
        await _events_table(session, period, tz),
        await _partners_table(session, period, tz, labels),
        await confirmation_figures.export_table(session=session, period=period, tz=tz),
    ]


async def _events_table(session: AsyncSession, period: Period, tz: ZoneInfo) -> Table:
    """One line per event: what, where, who was there, what changed (no one named)."""
    start, end = period.bounds(tz)
    outcome_codes = list(texts.EVENT_OUTCOME_LABELS)
    headers = [*texts.EXPORT_EVENT_HEADERS.values(), *texts.EVENT_OUTCOME_LABELS.values()]
    names = {n.id: n.name for n in await reference.neighbourhoods(session=session)}
    rows = []
    for event in await events.in_period(session=session, start=start, end=end):
        figures = await events.figures(session=session, event_id=pk(event))
        partners = await events.partners_of(session=session, event_id=pk(event))
        rows.append(
            [
                event.starts_at.astimezone(tz).date(),
                texts.EVENT_KIND_LABELS.get(event.kind, event.kind),
                event.title,
                names.get(event.neighbourhood_id, "?"),
                event.theme,
                ", ".join(p.name for p in partners),
                figures.registered,
                figures.attended_registered,
                figures.unregistered,
                figures.attendees,
                figures.changed,
                *(figures.outcomes.get(code, 0) for code in outcome_codes),
            ]
        )
    return Table(texts.EXPORT_SHEET_EVENTS, headers, rows)


async def _partners_table(
    session: AsyncSession, period: Period, tz: ZoneInfo, labels: Labels
) -> Table:
    """The committee figures of every partner that received orientations in the period."""
    rows = []
    for partner_id in await committee.partners_oriented_to(session=session, period=period, tz=tz):
        report = await committee.report(
            session=session, partner_id=partner_id, period=period, tz=tz
        )
        median = report.median_days_to_appointment
        rows.append(
            [
                report.partner.name,
                labels.of("partner_category", report.partner.category),
                report.total,
                report.known,
                report.pending,
                median if median is not None else "",
                round(report.share_came, 3) if report.share_came is not None else "",
                round(report.share_started, 3) if report.share_started is not None else "",
            ]
        )
    return Table(texts.EXPORT_SHEET_PARTNERS, list(texts.EXPORT_PARTNER_HEADERS), rows)


# Which label list translates which column's codes.
_LABELLED = {
    "sex": "sex",
    "age_bracket": "age_bracket",
    "residence": "residence",
    "channel": "channel",
    "purpose": "purpose",
    "category": "partner_category",
    "exit_reason": "exit",
    "reason": "exit",
    "outcome": "outcome",
    "kind": "outreach",
}


def _table(
    name: str, headers: dict[str, str], rows: Sequence[dict[str, Any]], labels: Labels
) -> Table:
    values = []
    for row in rows:
        line = []
        for key in headers:
            value = row.get(key)
            if key in _LABELLED and value:
                value = labels.of(_LABELLED[key], str(value))
            elif key == "barriers" and value:
                value = ", ".join(labels.of("barrier", b) for b in str(value).split(","))
            line.append(value)
        values.append(line)
    return Table(name, list(headers.values()), values)


def to_xlsx(tables: list[Table]) -> bytes:
    """An XLSX workbook, one sheet per table, bold headers."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for table in tables:
        sheet = workbook.create_sheet(table.name)
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_zip(tables: list[Table], stem: str) -> bytes:
    """The same tables as UTF-8 CSV files (with BOM, for spreadsheet programs) in a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            text = io.StringIO()
            writer = csv.writer(text, delimiter=";")
            writer.writerow(table.headers)
            writer.writerows(table.rows)
            archive.writestr(f"{stem}-{table.name.lower()}.csv", "\ufeff" + text.getvalue())
    return buffer.getvalue()


async def build(*, session: AsyncSession, period: Period, tz: ZoneInfo, today: dt.date) -> Export:
    """The workbook and the zip for a period."""
    tables = await build_tables(session=session, period=period, tz=tz, today=today)
    stem = f"aveq-export-{period.start.isoformat()}-{period.end.isoformat()}"
    return Export(xlsx=to_xlsx(tables), zip=to_zip(tables, stem), stem=stem)
