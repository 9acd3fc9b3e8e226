"""The weekly digest's content: one short message a coordinator reads on one phone screen,
the breakdowns behind its buttons, and its chart.

Every figure of one digest is cut at one instant (`now`): the week is the last complete
Monday-to-Sunday, the year runs from 1 January to `now`, follow-ups are late at `now`. The
buttons (« Par quartier », « Par médiateur·rice », « Suivis en retard », « Événements »)
answer with the detail of the same week, computed when pressed (handlers/stats.py checks
that the one pressing is a coordinator). Sending (recipients, errors, timing) is
jobs/digest.py's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import charts, reports, texts
from bot.callbacks import DigestRef
from bot.context import Services
from bot.formatting import day, plural
from models import confirmations, events, reference, stats, team
from models.events import Event
from models.reference import Neighbourhood
from models.stats import Indicators, Period, Scope
from models.targets import Targets, pace_needed, targets
from models.team import Member, Role

FIRST_MESSAGE_MAX: Final = 900
EVENTS_SHOWN: Final = 3
TITLE_MAX: Final = 38
DETAILS: Final = ("nbh", "med", "late", "events")


@dataclass(frozen=True, slots=True)
class DigestFigures:
    """Everything one digest says, read at one instant."""

    week: Period
    now: dt.datetime
    today: dt.date
    of_week: Indicators
    of_year: Indicators
    coming_events: Sequence[Event]
    neighbourhoods: Sequence[Neighbourhood]
    mediators: Sequence[Member]
    targets: Targets
    settled_by_partners: int  # follow-ups partners settled during the week


@dataclass(frozen=True, slots=True)
class Digest:
    """The first message, its buttons and the chart."""

    text: str
    keyboard: InlineKeyboardMarkup
    chart: bytes


def week_key(week: Period) -> int:
    """The week in a button: its Monday as yyyymmdd."""
    return int(week.start.strftime("%Y%m%d"))


def week_of_key(key: int) -> Period | None:
    """The week a button names, or None for a forged one."""
    try:
        monday = dt.date(key // 10000, key // 100 % 100, key % 100)
    except ValueError:
        return None
    return stats.week_of(monday) if monday.weekday() == 0 else None


def short_name(name: str) -> str:
    """`19e Sud (Danube, Chaufourniers, Algérie)` → `19e Sud`: a phone's line is short."""
    return name.split(" (", 1)[0]


async def gather(services: Services, week: Period, now: dt.datetime) -> DigestFigures:
    """Every figure of one digest, at `now`."""
    tz, target = services.settings.tz, services.settings.yearly_target
    today = now.astimezone(tz).date()
    year_to_now = Period(stats.year_of(today).start, today)
    this_week = stats.week_of(today)
    async with services.reads() as session:
        of_week = await stats.compute(
            session=session, period=week, scope=Scope(), tz=tz, today=today,
            yearly_target=target, parallel=services.reads, now=now,
        )  # fmt: skip
        of_year = await stats.compute(
            session=session, period=year_to_now, scope=Scope(), tz=tz, today=today,
            yearly_target=target, parallel=services.reads, now=now,
        )  # fmt: skip
        start, end = this_week.bounds(tz)
        coming = await events.in_period(session=session, start=max(start, now), end=end)
        areas = await reference.neighbourhoods(session=session)
        members = await team.list_members(session=session)
        week_start, week_end = week.bounds(tz)
        settled = await confirmations.settled_by_partners(
            session=session, start=week_start, end=week_end
        )
    mediators = [m for m in members if m.role == Role.MEDIATOR]
    return DigestFigures(
        week=week, now=now, today=today, of_week=of_week, of_year=of_year,
        coming_events=coming, neighbourhoods=areas, mediators=mediators,
        targets=targets(team=target, neighbourhoods=areas, members=members),
        settled_by_partners=settled,
    )  # fmt: skip


def _event_line(event: Event, names: dict[int | None, str], services: Services) -> str:
    title = event.title if len(event.title) <= TITLE_MAX else event.title[: TITLE_MAX - 1] + "…"
    when = format_datetime(
        event.starts_at.astimezone(services.settings.tz), "EEE dd/MM HH'h'mm", locale="fr_FR"
    )
    return texts.DIGEST_EVENT.format(
        when=when, title=title, neighbourhood=names.get(event.neighbourhood_id, "?")
    )


def summary(f: DigestFigures, services: Services) -> str:
    """The first message: the week, the year against the target, what needs the coordinator."""
    tz = services.settings.tz
    week, year = f.of_week, f.of_year
    lines = [
        texts.DIGEST_TITLE.format(start=day(f.week.start, tz), end=day(f.week.end, tz)),
        texts.DIGEST_WEEK_LINE.format(
            engaged=plural(week.engaged, *texts.COUNT_ENGAGED),
            informed=plural(week.informed, *texts.COUNT_INFORMED),
            oriented=plural(week.orientations.total, *texts.COUNT_ORIENTATIONS),
            exits=plural(sum(week.exits_by_reason.values()), *texts.COUNT_EXITS),
        ),
    ]
    if week.events.events:
        lines.append(
            texts.DIGEST_WEEK_EVENTS.format(
                count=week.events.events,
                attendees=week.events.attendees,
                changed=week.events.changed,
            )
        )
    if f.settled_by_partners:
        lines.append(plural(f.settled_by_partners, *texts.DIGEST_PARTNER_CONFIRMED))
    done, target = year.engaged, f.targets.team
    share = reports.percent(done / target if target else None)
    if done >= target:
        lines.append(texts.DIGEST_YEAR_REACHED.format(done=done, target=target, share=share))
    else:
        lines.append(
            texts.DIGEST_YEAR_LINE.format(
                year=f.today.year,
                done=done,
                target=target,
                share=share,
                pace=reports.number(pace_needed(target, done, f.today)),
            )
        )
    needs_you: list[str] = []
    late = sorted(
        ((name, fu.late) for name, fu in year.followups.items() if fu.late),
        key=lambda x: (-x[1], x[0]),
    )
    if late:
        parts = ", ".join(texts.REPORT_LATE_PART.format(name=n, late=c) for n, c in late)
        needs_you.append(texts.DIGEST_LATE.format(parts=parts))
    # Other "needs you" lines (partner confirmations...) go here, one line each.
    names = {n.id: short_name(n.name) for n in f.neighbourhoods}
    if f.coming_events:
        needs_you.append(texts.DIGEST_EVENTS_HEADER.format(count=len(f.coming_events)))
        needs_you += [_event_line(e, names, services) for e in f.coming_events[:EVENTS_SHOWN]]
        if len(f.coming_events) > EVENTS_SHOWN:
            needs_you.append(texts.DIGEST_EVENTS_MORE.format(count=len(f.coming_events) - 3))
    lines += [texts.DIGEST_NEEDS_YOU, *needs_you] if needs_you else [texts.DIGEST_ALL_CLEAR]
    lines.append(texts.DIGEST_FOOTER)
    text = "\n".join(lines)
    while len(text) > FIRST_MESSAGE_MAX and len(lines) > 3:  # never: a guard, not a layout
        lines.pop(-2)
        text = "\n".join(lines)
    return text


def keyboard(week: Period) -> InlineKeyboardMarkup:
    """The breakdowns, two per row."""
    key = week_key(week)
    buttons = [
        InlineKeyboardButton(texts.DIGEST_BUTTONS[what], callback_data=DigestRef(what, key).pack())
        for what in DETAILS
    ]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def detail(what: str, f: DigestFigures, services: Services) -> str:
    """The breakdown behind one button."""
    tz = services.settings.tz
    week_span = {"start": day(f.week.start, tz), "end": day(f.week.end, tz)}
    if what == "nbh":
        lines = [texts.DIGEST_NBH_TITLE.format(**week_span)]
        week_by = f.of_week.engaged_by.get("neighbourhood", {})
        year_by = f.of_year.engaged_by.get("neighbourhood", {})
        for area in sorted(f.neighbourhoods, key=lambda n: (-year_by.get(n.name, 0), n.name)):
            done = year_by.get(area.name, 0)
            own = f.targets.of_neighbourhood(area.id)
            line = texts.DIGEST_NBH_LINE.format(
                name=short_name(area.name), week=week_by.get(area.name, 0), year=done
            )
            if own:
                line += texts.DIGEST_TARGET_PART.format(
                    target=own,
                    share=reports.percent(done / own),
                    pace=reports.number(pace_needed(own, done, f.today)),
                )
            lines.append(line)
        return "\n".join(lines)
    if what == "med":
        lines = [texts.DIGEST_MED_TITLE.format(**week_span)]
        week_by = f.of_week.engaged_by.get("mediator", {})
        year_by = f.of_year.engaged_by.get("mediator", {})
        for member in f.mediators:
            done = year_by.get(member.display_name, 0)
            share = f.targets.of_mediator(member.id)
            followups = f.of_year.followups.get(member.display_name)
            line = texts.DIGEST_MED_LINE.format(
                name=member.display_name, week=week_by.get(member.display_name, 0), year=done
            )
            if share:
                line += texts.DIGEST_SHARE_PART.format(
                    target=reports.number(share),
                    share=reports.percent(done / share),
                    pace=reports.number(pace_needed(share, done, f.today)),
                )
            if followups and followups.late:
                line += texts.DIGEST_MED_LATE.format(late=followups.late)
            lines.append(line)
        return "\n".join(lines)
    if what == "late":
        at = format_datetime(f.now.astimezone(tz), "dd/MM/yyyy HH:mm", locale="fr_FR")
        lines = [texts.DIGEST_LATE_TITLE.format(at=at)]
        rows = sorted(f.of_year.followups.items(), key=lambda kv: (-kv[1].late, kv[0]))
        lines += [
            texts.DIGEST_LATE_LINE.format(
                name=name, late=fu.late, pending=fu.pending, unanswered=fu.unanswered
            )
            for name, fu in rows
            if fu.late
        ] or [texts.DIGEST_LATE_NONE]
        lines.append(texts.DIGEST_LATE_FOOTER)
        return "\n".join(lines)
    names = {n.id: short_name(n.name) for n in f.neighbourhoods}
    lines = [texts.DIGEST_EVENTS_TITLE]
    lines += [_event_line(e, names, services) for e in f.coming_events] or [texts.DIGEST_NO_EVENT]
    lines.append(texts.DIGEST_PAST_EVENTS.format(**week_span))
    lines.append(
        reports.event_line(f.of_week.events) if f.of_week.events.events else texts.DIGEST_NO_EVENT
    )
    return "\n".join(lines)


async def chart(services: Services, f: DigestFigures) -> bytes:
    """The chart: the database read here, the drawing in a thread (never on the loop)."""
    tz = services.settings.tz
    year = stats.year_of(f.today)
    weeks = [
        Period(max(w.start, year.start), min(w.end, f.today))
        for w in stats.last_weeks(f.today, 54)
        if w.end >= year.start
    ]
    async with services.reads() as session:
        counts = await stats.weekly_engaged(session=session, weeks=weeks, tz=tz)
    cumulative, total = [], 0
    for week_counts in counts:
        total += sum(week_counts.values())
        cumulative.append(total)
    year_by = f.of_year.engaged_by.get("neighbourhood", {})
    data = charts.ChartData(
        year_weeks=[w.end for w in weeks],
        year_cumulative=cumulative,
        yearly_target=f.targets.team,
        areas=[
            charts.Area(
                short_name(n.name), year_by.get(n.name, 0), f.targets.of_neighbourhood(n.id)
            )
            for n in f.neighbourhoods
        ],
    )
    words = charts.ChartTexts(
        title=texts.CHART_TITLE.format(year=f.today.year),
        cumulative=texts.CHART_CUMULATIVE,
        target_pace=texts.CHART_TARGET.format(target=reports.number(f.targets.team)),
        x_axis=texts.CHART_X_AXIS.format(year=f.today.year),
        y_axis=texts.CHART_Y_AXIS,
        areas_title=texts.CHART_AREAS_TITLE.format(year=f.today.year),
        areas_axis=texts.CHART_AREAS_AXIS,
        area_target=texts.CHART_AREA_TARGET,
        status=texts.CHART_STATUS,
    )
    return await asyncio.to_thread(charts.render_png, data, words)


async def build(services: Services, week: Period, now: dt.datetime) -> Digest:
    """The digest of `week`, every figure read at `now`."""
    figures = await gather(services, week, now)
    return Digest(
        text=summary(figures, services),
        keyboard=keyboard(week),
        chart=await chart(services, figures),
    )
