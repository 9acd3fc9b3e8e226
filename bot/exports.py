"""The funders' export: an XLSX workbook a funder accepts as is, and the same tables as CSV
files (as French spreadsheets read them) in a zip.

Sheets: « Synthèse » (cover: programme, operator, period, date of generation; then the State's
O2R figures for the period, each a count and a share), « Définitions » (how each figure is
counted), « Indicateurs » (the team month by month, each neighbourhood over the period),
then one line per person, orientation, exit, outreach action, event and partner. French
labels in every cell, real percentages (`0.0%`), dates as dd/mm/yyyy, fitted column widths,
frozen headers, autofilters. Pseudonymised: people appear by code only; no name of anyone,
phone or note.

Two halves: `gather` reads the database (async, by pages), and `render` builds the files (pure
CPU: labels, workbook, zip). The bot runs both in a process of its own, spawned for one export
and gone after it (`build`): its reads, its CPU and its memory (about 700 MiB for 200,000
people) never touch the bot's process, whose other chats keep their pace. When the files were
built in a thread of the bot's process and read on its event loop, other chats' p99 rose from
26 ms to 83–123 ms during an export of 200,000 people (bench/exports.py, quiet machine).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import multiprocessing
import unicodedata
import zipfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import confirmation_figures, texts
from bot.db import create_engine, is_memory_sqlite, make_read_sessions
from bot.formatting import LOCALE, day, moment
from bot.reports import Labels, load_labels
from models import committee, events, exports, reference, stats
from models.base import pk
from models.orientations import Outcome
from models.people import person_code
from models.stats import Indicators, Period, Scope, ScopeKind

if TYPE_CHECKING:
    from openpyxl import Workbook

PERCENT: Final = "0.0%"
DATE: Final = "DD/MM/YYYY"
DATETIME: Final = "DD/MM/YYYY HH:MM"
INTEGER: Final = "#,##0"
WIDTH_SAMPLE: Final = 500  # rows looked at to fit a column's width
MIN_WIDTH, MAX_WIDTH = 8, 75


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet (and one CSV file). `formats`: a number format per column, or None."""

    name: str
    headers: list[str]
    rows: list[list[Any]]
    formats: list[str | None] = field(default_factory=list)
    title_rows: list[list[Any]] = field(default_factory=list)  # a cover above the header
    bold_rows: frozenset[int] = frozenset()  # section titles, by index in `rows`
    filtered: bool = True


@dataclass(frozen=True, slots=True)
class Export:
    """The files to send."""

    xlsx: bytes
    zip: bytes
    stem: str


@dataclass(slots=True)
class ExportData:
    """What the database says about a period: everything `render` needs, nothing to await."""

    period: Period
    tz: ZoneInfo
    generated_at: dt.datetime
    operator: str
    labels: Labels
    summary: Indicators
    months: list[tuple[Period, str, Indicators]]
    people: list[tuple[Any, ...]]
    orientations: list[tuple[Any, ...]]
    exits: Sequence[tuple[Any, ...]]
    informed: Sequence[tuple[Any, ...]]
    events: list[list[Any]]
    partners: list[list[Any]]
    # Sheets other features add (partner confirmations...): built by them, appended as is.
    extra_tables: list[Table] = field(default_factory=list)


def months_of(period: Period) -> list[Period]:
    """The calendar months the period touches, clipped to it."""
    months = []
    cursor = period.start.replace(day=1)
    while cursor <= period.end:
        month = stats.month_of(cursor)
        months.append(Period(max(month.start, period.start), min(month.end, period.end)))
        cursor = month.end + dt.timedelta(days=1)
    return months


async def gather(
    *,
    session: AsyncSession,
    period: Period,
    tz: ZoneInfo,
    today: dt.date,
    now: dt.datetime,
    operator: str = "",
    yearly_target: int = 800,
) -> ExportData:
    """Everything the export holds, read from the database (async, by pages)."""
    labels = await load_labels(session=session)
    summary = await stats.compute(
        session=session, period=period, scope=Scope(), tz=tz, today=today, now=now,
        yearly_target=yearly_target,
    )  # fmt: skip
    months = []
    for month in months_of(period):  # the team month by month
        figures = await stats.compute(
            session=session, period=month, scope=Scope(), tz=tz, today=today, now=now,
            yearly_target=yearly_target,
        )  # fmt: skip
        months.append((month, texts.SCOPE_TEAM, figures))
    for area in await reference.neighbourhoods(session=session):  # each over the period
        figures = await stats.compute(
            session=session, period=period, scope=Scope(ScopeKind.NEIGHBOURHOOD, area.id),
            tz=tz, today=today, now=now, yearly_target=yearly_target,
        )  # fmt: skip
        months.append((period, area.name, figures))
    return ExportData(
        period=period, tz=tz, generated_at=now, operator=operator, labels=labels,
        summary=summary, months=months,
        people=await exports.people_rows(session=session, period=period, tz=tz),
        orientations=await exports.orientation_rows(session=session, period=period, tz=tz),
        exits=await exports.exit_rows(session=session, period=period),
        informed=await exports.informed_rows(session=session, period=period),
        events=await _event_rows(session, period, tz),
        partners=await _partner_rows(session, period, tz, labels),
        extra_tables=[
            await confirmation_figures.export_table(session=session, period=period, tz=tz)
        ],
    )  # fmt: skip


async def _event_rows(session: AsyncSession, period: Period, tz: ZoneInfo) -> list[list[Any]]:
    """One line per event: what, where, who was there, what changed (no one named)."""
    start, end = period.bounds(tz)
    names = {n.id: n.name for n in await reference.neighbourhoods(session=session)}
    rows = []
    for event in await events.in_period(session=session, start=start, end=end):
        figures = await events.figures(session=session, event_id=pk(event))
        partners = await events.partners_of(session=session, event_id=pk(event))
        rows.append(
            [
                event.starts_at.astimezone(tz).date(),
                texts.EVENT_KIND_LABELS.get(event.kind, texts.EXPORT_UNKNOWN),
                event.title,
                names.get(event.neighbourhood_id, texts.EXPORT_UNKNOWN),
                event.theme,
                ", ".join(p.name for p in partners),
                figures.registered,
                figures.attended_registered,
                figures.unregistered,
                figures.attendees,
                figures.changed,
                *(figures.outcomes.get(code, 0) for code in texts.EVENT_OUTCOME_LABELS),
            ]
        )
    return rows


async def _partner_rows(
    session: AsyncSession, period: Period, tz: ZoneInfo, labels: Labels
) -> list[list[Any]]:
    """The committee figures of every partner that received orientations in the period."""
    rows = []
    for partner_id in await committee.partners_oriented_to(session=session, period=period, tz=tz):
        report = await committee.report(
            session=session, partner_id=partner_id, period=period, tz=tz
        )
        rows.append(
            [
                report.partner.name,
                labels.of("partner_category", report.partner.category),
                report.total,
                report.known,
                report.pending,
                report.median_days_to_appointment,
                report.share_came,
                report.share_started,
            ]
        )
    return rows


# --- render: CPU only ----------------------------------------------------------------------


def _label(labels: Labels, kind: str, code: str | None) -> str:
    """A code's French label; a code no list knows is shown as « autre (code) », never bare."""
    if not code:
        return ""
    label = labels.of(kind, code)
    return label if label != code else texts.EXPORT_UNKNOWN_CODE.format(code=code)


def _answer(code: str | None) -> str:
    return texts.ANSWER_LABELS.get(code or "", texts.NOT_GIVEN) if code else texts.NOT_GIVEN


def _answer_or_not_asked(code: str) -> str:
    """A yes/no answer in a breakdown; no answer at all (`None`) is a question not asked."""
    if code in ("None", ""):
        return texts.EXPORT_NOT_ASKED
    return texts.ANSWER_LABELS.get(code, texts.EXPORT_UNKNOWN_CODE.format(code=code))


def _share(count: int, base: int) -> float | None:
    return count / base if base else None


def summary_table(data: ExportData) -> Table:
    """« Synthèse »: the cover, then the State's O2R figures for the period."""
    ind, labels, tz = data.summary, data.labels, data.tz
    engaged, orient = ind.engaged, ind.orientations
    of_engaged, of_orientations = texts.SUMMARY_BASE_ENGAGED, texts.SUMMARY_BASE_ORIENTATIONS
    rows: list[list[Any]] = []
    bold: set[int] = set()

    def section(title: str) -> None:
        bold.add(len(rows))
        rows.append([title, None, None, None])

    def line(label: str, count: int, base: int | None = None, base_label: str = "") -> None:
        share = _share(count, base) if base is not None else None
        rows.append([label, count, share, base_label if share is not None else ""])

    def breakdown(
        title: str, counts: dict[str, int], kind: str | None, order: Sequence[str] = ()
    ) -> None:
        section(title)
        codes = list(order) + sorted(set(counts) - set(order), key=lambda c: -counts[c])
        for code in codes:
            name = _label(labels, kind, code) if kind else _answer_or_not_asked(code)
            line(name, counts.get(code, 0), engaged, of_engaged)

    section(texts.SUMMARY_REACH)
    line(texts.SUMMARY_INFORMED, ind.informed)
    line(texts.SUMMARY_ENGAGED, engaged)  # the base of the shares below: no « 100 % »
    by = ind.engaged_by
    breakdown(texts.SUMMARY_SEX, by.get("sex", {}), "sex", list(texts.SEX_LABELS))
    breakdown(texts.SUMMARY_AGE, by.get("age_bracket", {}), "age_bracket",
              list(labels.by_kind.get("age_bracket", {})))  # fmt: skip
    breakdown(texts.SUMMARY_RESIDENCE, by.get("residence", {}), "residence",
              list(labels.by_kind.get("residence", {})))  # fmt: skip
    breakdown(texts.SUMMARY_CHANNEL, by.get("channel", {}), "channel",
              list(labels.by_kind.get("channel", {})))  # fmt: skip
    breakdown(texts.SUMMARY_BARRIERS, dict(ind.barriers), "barrier")
    breakdown(
        texts.SUMMARY_REGISTERED, by.get("registered_ft", {}), None, list(texts.ANSWER_LABELS)
    )
    breakdown(texts.SUMMARY_REFERENT, by.get("referent_contact_5m", {}), None,
              list(texts.ANSWER_LABELS))  # fmt: skip
    breakdown(texts.SUMMARY_RSA, ind.rsa, None, list(texts.ANSWER_LABELS))
    section(texts.SUMMARY_PRIORITY)
    line(texts.SUMMARY_O2R_PRIORITY, ind.o2r_priority, engaged, of_engaged)

    section(texts.SUMMARY_ORIENTATIONS)
    line(texts.SUMMARY_ORIENTATIONS_TOTAL, orient.total)
    for code, count in sorted(orient.by_category.items(), key=lambda kv: -kv[1]):
        line(texts.SUMMARY_TO.format(label=_label(labels, "partner_category", code)), count,
             orient.total, of_orientations)  # fmt: skip
    for code, count in sorted(orient.by_purpose.items(), key=lambda kv: -kv[1]):
        line(texts.SUMMARY_FOR.format(label=_label(labels, "purpose", code)), count,
             orient.total, of_orientations)  # fmt: skip
    section(texts.SUMMARY_ACCOMPANIED)
    started = orient.by_outcome.get(Outcome.STARTED.value, 0)
    line(texts.SUMMARY_STARTED, started, orient.known, texts.SUMMARY_BASE_KNOWN)
    came = started + orient.by_outcome.get(Outcome.CAME_NO_FOLLOW.value, 0)
    line(texts.SUMMARY_CAME, came, orient.known, texts.SUMMARY_BASE_KNOWN)
    line(texts.SUMMARY_NO_SHOW, orient.by_outcome.get(Outcome.NO_SHOW.value, 0), orient.known,
         texts.SUMMARY_BASE_KNOWN)  # fmt: skip
    line(texts.SUMMARY_KNOWN, orient.known, orient.total, of_orientations)

    exits = sum(ind.exits_by_reason.values())
    section(texts.SUMMARY_EXITS)
    line(texts.SUMMARY_EXITS_TOTAL, exits)
    for code, count in sorted(ind.exits_by_reason.items(), key=lambda kv: -kv[1]):
        line(_label(labels, "exit", code), count, exits, texts.SUMMARY_BASE_EXITS)

    section(texts.SUMMARY_EVENTS)
    line(texts.SUMMARY_EVENTS_TOTAL, ind.events.events)
    line(texts.SUMMARY_ATTENDEES, ind.events.attendees)
    line(texts.SUMMARY_CHANGED, ind.events.changed)
    late = sum(f.late for f in ind.followups.values())
    section(texts.SUMMARY_FOLLOWUPS.format(at=moment(data.generated_at, tz)))
    line(texts.SUMMARY_PENDING, sum(f.pending for f in ind.followups.values()))
    line(texts.SUMMARY_LATE, late)
    line(texts.SUMMARY_UNANSWERED, sum(f.unanswered for f in ind.followups.values()))

    cover: list[list[Any]] = [
        [texts.SUMMARY_PROGRAMME],
        [texts.SUMMARY_OPERATOR, data.operator or texts.NOT_GIVEN],
        [texts.SUMMARY_FRAME, texts.SUMMARY_FRAME_VALUE],
        [texts.SUMMARY_PERIOD, texts.EXPORT_PERIOD_LABEL.format(
            start=day(data.period.start, tz), end=day(data.period.end, tz))],
        [texts.SUMMARY_GENERATED, data.generated_at.astimezone(tz).replace(tzinfo=None)],
        [],
    ]  # fmt: skip
    return Table(
        texts.EXPORT_SHEET_SUMMARY, list(texts.SUMMARY_HEADERS), rows,
        formats=[None, INTEGER, PERCENT, None], title_rows=cover, bold_rows=frozenset(bold),
        filtered=False,
    )  # fmt: skip


def definitions_table() -> Table:
    """« Définitions »: how each figure is counted."""
    rows = [[name, meaning] for name, meaning in texts.EXPORT_DEFINITIONS.items()]
    return Table(texts.EXPORT_SHEET_DEFINITIONS, list(texts.DEFINITION_HEADERS), rows,
                 filtered=False)  # fmt: skip


def indicators_table(data: ExportData) -> Table:
    """The team month by month, then each neighbourhood over the whole period."""
    rows = []
    for month, scope_label, ind in data.months:
        by_outcome = ind.orientations.by_outcome
        whole = scope_label != texts.SCOPE_TEAM
        rows.append(
            [
                texts.EXPORT_WHOLE_PERIOD.format(
                    start=day(month.start, data.tz), end=day(month.end, data.tz)
                )
                if whole
                else format_date(month.start, "MMMM yyyy", locale=LOCALE),
                scope_label,
                ind.informed,
                ind.engaged,
                ind.engaged_by.get("age_bracket", {}).get("under_26", 0),
                ind.engaged_by.get("sex", {}).get("female", 0),
                _share(ind.engaged_by.get("sex", {}).get("female", 0), ind.engaged),
                ind.registered,
                _share(ind.registered, ind.engaged),
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
        )
    formats: list[str | None] = [None, None, *[INTEGER] * 16]
    formats[6] = formats[8] = PERCENT
    return Table(texts.EXPORT_SHEET_INDICATORS, list(texts.EXPORT_INDICATOR_HEADERS), rows,
                 formats)  # fmt: skip


def people_table(data: ExportData) -> Table:
    """One line per person engaged in the period, by code."""
    labels, tz = data.labels, data.tz
    rows = []
    for row in data.people:
        values = dict(zip(exports.PEOPLE_COLUMNS, row, strict=True))
        barriers = sorted(filter(None, (values["barriers"] or "").split(",")))
        rows.append(
            [
                person_code(values["id"]),
                values["neighbourhood"],
                exports.local_day(values["engaged_at"], tz),
                _label(labels, "sex", values["sex"]),
                _label(labels, "age_bracket", values["age_bracket"]),
                _label(labels, "residence", values["residence"]),
                _label(labels, "channel", values["channel"]),
                ", ".join(_label(labels, "barrier", b) for b in barriers),
                _answer(values["registered_ft"]),
                _answer(values["referent_contact_5m"])
                if values["referent_contact_5m"]
                else texts.EXPORT_NOT_ASKED,
                _answer(values["rsa"]),
                _label(labels, "status", values["status"]),
                values["exited_on"],
                _label(labels, "exit", values["exit_reason"]),
            ]
        )
    formats: list[str | None] = [None] * 14
    formats[2] = formats[12] = DATE
    return Table(texts.EXPORT_SHEET_PEOPLE, list(texts.EXPORT_PEOPLE_HEADERS), rows, formats)


def _given_by(values: dict[str, Any]) -> str:
    """Who gave an orientation's outcome: the partner (through its confirmation link) or the
    team; nothing while it is pending."""
    if values["outcome"] is None:
        return ""
    if values["confirmed_by_partner_at"] is not None:
        return texts.EXPORT_OUTCOME_GIVEN_BY_PARTNER
    return texts.EXPORT_OUTCOME_GIVEN_BY_TEAM


def orientations_table(data: ExportData) -> Table:
    """One line per orientation made in the period, with its outcome and delays."""
    labels, tz = data.labels, data.tz
    rows = []
    for row in data.orientations:
        values = dict(zip(exports.ORIENTATION_COLUMNS, row, strict=True))
        created = exports.local_day(values["created_at"], tz)
        outcome_on = exports.local_day(values["outcome_at"], tz)
        appointment = values["appointment_on"]
        rows.append(
            [
                values["id"],
                person_code(values["person_id"]),
                values["partner"],
                _label(labels, "partner_category", values["category"]),
                _label(labels, "purpose", values["purpose"]),
                _label(labels, "mode", values["mode"]),
                created,
                appointment,
                (appointment - created).days if appointment and created else None,
                _label(labels, "outcome", values["outcome"]) or texts.EXPORT_PENDING,
                outcome_on,
                (outcome_on - created).days if outcome_on and created else None,
                _given_by(values),
            ]
        )
    formats: list[str | None] = [None] * 13
    formats[6] = formats[7] = formats[10] = DATE
    return Table(texts.EXPORT_SHEET_ORIENTATIONS, list(texts.EXPORT_ORIENTATION_HEADERS), rows,
                 formats)  # fmt: skip


def render(data: ExportData) -> Export:
    """The workbook and the zip (CPU only: run it in a thread)."""
    labels = data.labels
    tables = [
        summary_table(data),
        definitions_table(),
        indicators_table(data),
        people_table(data),
        orientations_table(data),
        Table(
            texts.EXPORT_SHEET_EXITS, list(texts.EXPORT_EXIT_HEADERS),
            [[person_code(pid), area, on, _label(labels, "exit", reason)]
             for pid, area, on, reason in data.exits],
            [None, None, DATE, None],
        ),
        Table(
            texts.EXPORT_SHEET_INFORMED, list(texts.EXPORT_INFORMED_HEADERS),
            [[on, area, _label(labels, "outreach", kind), count]
             for on, area, kind, count in data.informed],
            [DATE, None, None, INTEGER],
        ),
        Table(
            texts.EXPORT_SHEET_EVENTS,
            [*texts.EXPORT_EVENT_HEADERS.values(), *texts.EVENT_OUTCOME_LABELS.values()],
            data.events, [DATE] + [None] * 5 + [INTEGER] * (5 + len(texts.EVENT_OUTCOME_LABELS)),
        ),
        Table(
            texts.EXPORT_SHEET_PARTNERS, list(texts.EXPORT_PARTNER_HEADERS), data.partners,
            [None, None, INTEGER, INTEGER, INTEGER, "0.0", PERCENT, PERCENT],
        ),
        *data.extra_tables,
    ]  # fmt: skip
    stem = f"aveq-export-{data.period.start.isoformat()}-{data.period.end.isoformat()}"
    return Export(xlsx=to_xlsx(tables), zip=to_zip(tables, stem), stem=stem)


# --- both, in a process of its own ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """What the export's process needs (it shares nothing else with the bot's process)."""

    database_url: str
    period: Period
    tz: str
    today: dt.date
    now: dt.datetime
    operator: str
    yearly_target: int


async def build(request: Request) -> Export:
    """Read the database and build the files in a process spawned for this export alone.

    The process gets no encryption key: an export holds no phone and no note, and a process
    that cannot decrypt them cannot put one in a file. It ends with the export, and its memory
    with it."""
    if is_memory_sqlite(request.database_url):
        raise ValueError("An export reads the database from another process: not in memory.")
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, _build_here, request)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _build_here(request: Request) -> Export:
    """The export's process: its own engine, its own event loop."""
    return asyncio.run(_read_and_render(request))


async def _read_and_render(request: Request) -> Export:
    engine = create_engine(request.database_url)
    try:
        async with make_read_sessions(engine)() as session:
            data = await gather(
                session=session, period=request.period, tz=ZoneInfo(request.tz),
                today=request.today, now=request.now, operator=request.operator,
                yearly_target=request.yearly_target,
            )  # fmt: skip
    finally:
        await engine.dispose()
    return render(data)


def _shown(value: Any, number_format: str | None) -> str:
    """A value as a French spreadsheet shows it (and as the CSV writes it)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        if number_format == PERCENT:
            return format_percent(value, "#,##0.0 %", locale=LOCALE).replace("\u202f", " ")
        return format_decimal(value, "#,##0.0", locale=LOCALE).replace("\u202f", "")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return str(value)


def _widths(table: Table) -> list[float]:
    widths = [len(h) for h in table.headers]
    # The cover's values overflow into the empty cells beside them: only its labels count.
    for row in [*table.rows[:WIDTH_SAMPLE], *(t[:1] for t in table.title_rows[1:])]:
        for i, value in enumerate(row[: len(widths)]):
            fmt = table.formats[i] if i < len(table.formats) else None
            widths[i] = max(widths[i], len(_shown(value, fmt)))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def _sheet(workbook: Workbook, table: Table) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    sheet: WriteOnlyWorksheet = workbook.create_sheet(table.name)
    for i, width in enumerate(_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    header_row = len(table.title_rows) + 1
    sheet.freeze_panes = f"A{header_row + 1}"
    if table.filtered and table.headers:
        last = get_column_letter(len(table.headers))
        sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(1, len(table.rows))}"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for index, title in enumerate(table.title_rows):
        cells = []
        for column, value in enumerate(title):
            cell = WriteOnlyCell(sheet, value)
            if index == 0 or column == 0:
                cell.font = Font(bold=True, size=13 if index == 0 else 11)
            if isinstance(value, dt.datetime):
                cell.number_format = DATETIME
            cells.append(cell)
        sheet.append(cells)
    headers = []
    for value in table.headers:
        cell = WriteOnlyCell(sheet, value)
        cell.font, cell.alignment = bold, wrap
        headers.append(cell)
    sheet.append(headers)
    formats = table.formats or [None] * len(table.headers)
    formatted = [i for i, f in enumerate(formats) if f]
    for index, row in enumerate(table.rows):
        values: list[Any] = list(row)
        for i in formatted:
            if values[i] is not None:
                cell = WriteOnlyCell(sheet, values[i])
                cell.number_format = formats[i]  # type: ignore[assignment]
                values[i] = cell
        if index in table.bold_rows:
            values = [WriteOnlyCell(sheet, v) for v in values]
            for cell in values:
                cell.font = bold
        sheet.append(values)


def to_xlsx(tables: list[Table]) -> bytes:
    """An XLSX workbook, one sheet per table (openpyxl's write-only mode: rows are streamed)."""
    # openpyxl brings numpy and PIL (about 28 MiB): imported by the process that writes one
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for table in tables:
        _sheet(workbook, table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_zip(tables: list[Table], stem: str) -> bytes:
    """The same tables as CSV files as French spreadsheets read them: `;` between cells, a
    decimal comma, dd/mm/yyyy dates, UTF-8 with a byte-order mark."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            text = io.StringIO()
            writer = csv.writer(text, delimiter=";")
            formats = table.formats or [None] * len(table.headers)
            for title in table.title_rows:
                writer.writerow([_shown(v, None) for v in title])
            writer.writerow(table.headers)
            for row in table.rows:
                writer.writerow(
                    [
                        _shown(v, formats[i] if i < len(formats) else None)
                        for i, v in enumerate(row)
                    ]
                )
            name = f"{stem}-{_file_name(table.name)}.csv"
            archive.writestr(name, "\ufeff" + text.getvalue())
    return buffer.getvalue()


def _file_name(sheet: str) -> str:
    """`Événements` → `evenements`: file names without accents travel better."""
    plain = unicodedata.normalize("NFKD", sheet.casefold())
    return "".join(c for c in plain if c.isalnum() and not unicodedata.combining(c))
