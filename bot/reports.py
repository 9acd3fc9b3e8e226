"""Indicators as French text (digest, /stats) — aggregates only, never a person."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import texts
from bot.formatting import LOCALE, day, plural
from models import reference
from models.events import EventFigures
from models.orientations import Outcome
from models.reference import Kind
from models.stats import FollowUpFigures, Indicators

TELEGRAM_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Labels:
    """Code → label for every list a report names."""

    by_kind: dict[str, dict[str, str]]

    def of(self, kind: str, code: str) -> str:
        """The label of a code (the code itself if unknown)."""
        return self.by_kind.get(kind, {}).get(code, code)


async def load_labels(*, session: AsyncSession) -> Labels:
    """Labels from the reference data and the catalog."""
    by_kind = {kind.value: await reference.labels(session=session, kind=kind) for kind in Kind}
    by_kind.update(
        sex=dict(texts.SEX_LABELS),
        purpose=dict(texts.PURPOSE_LABELS),
        exit=dict(texts.EXIT_LABELS),
        outcome=dict(texts.OUTCOME_LABELS),
        mode=dict(texts.MODE_LABELS),
        status=dict(texts.STATUS_LABELS),
    )
    return Labels(by_kind)


def percent(value: float | None) -> str:
    """`33 %`, or a dash when there is no base."""
    return "–" if value is None else format_percent(value, locale=LOCALE)


def number(value: float) -> str:
    """`1 234` or `20,4`."""
    return format_decimal(round(value, 1), locale=LOCALE)


def target_line(ind: Indicators) -> str:
    """The year against the scope's own target, or that the scope has none."""
    if not ind.yearly_target:
        return texts.REPORT_NO_TARGET.format(done=plural(ind.year_engaged, *texts.COUNT_ENGAGED))
    return texts.REPORT_TARGET.format(
        done=ind.year_engaged,
        target=number(ind.yearly_target),
        share=percent(ind.year_engaged / ind.yearly_target),
        pace=number(ind.weekly_pace_needed),
    )


def _breakdown(counts: dict[str, int], labels: Labels, kind: str | None, total: int) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [
        texts.REPORT_PART.format(
            label=labels.of(kind, code) if kind else code,
            count=count,
            share=percent(count / total) if total else "–",
        )
        for code, count in ordered
    ]
    return ", ".join(parts) or texts.REPORT_NONE


def render(
    ind: Indicators,
    labels: Labels,
    *,
    scope_label: str,
    tz: ZoneInfo,
    with_followups: bool = True,
    with_target: bool = True,
) -> str:
    """The full set of figures, one topic per line."""
    engaged = ind.engaged
    orient = ind.orientations
    lines = [
        texts.REPORT_TITLE.format(
            scope=scope_label, start=day(ind.period.start, tz), end=day(ind.period.end, tz)
        ),
        texts.REPORT_INFORMED.format(count=ind.informed),
        texts.REPORT_ENGAGED.format(count=engaged),
    ]
    if engaged:
        by = ind.engaged_by
        lines += [
            texts.REPORT_BY_CHANNEL.format(
                parts=_breakdown(by["channel"], labels, "channel", engaged)
            ),
            texts.REPORT_BY_RESIDENCE.format(
                parts=_breakdown(by["residence"], labels, "residence", engaged)
            ),
            texts.REPORT_BY_AGE.format(
                parts=_breakdown(by["age_bracket"], labels, "age_bracket", engaged)
            ),
            texts.REPORT_BY_SEX.format(parts=_breakdown(by["sex"], labels, "sex", engaged)),
        ]
        if len(by["neighbourhood"]) > 1:
            lines.append(
                texts.REPORT_BY_NEIGHBOURHOOD.format(
                    parts=_breakdown(by["neighbourhood"], labels, None, engaged)
                )
            )
        if len(by["mediator"]) > 1:
            lines.append(
                texts.REPORT_BY_MEDIATOR.format(
                    parts=_breakdown(by["mediator"], labels, None, engaged)
                )
            )
        barriers = dict(ind.barriers)
        lines += [
            texts.REPORT_BARRIERS.format(parts=_breakdown(barriers, labels, "barrier", engaged)),
            texts.REPORT_DECOUPLING.format(
                registered=percent(ind.share(ind.registered)),
                accompanied=percent(ind.share(ind.accompanied)),
                priority=ind.o2r_priority,
            ),
        ]
    lines.append(texts.REPORT_ORIENTATIONS.format(count=orient.total))
    if orient.total:
        lines += [
            texts.REPORT_BY_CATEGORY.format(
                parts=_breakdown(orient.by_category, labels, "partner_category", orient.total)
            ),
            texts.REPORT_BY_PURPOSE.format(
                parts=_breakdown(orient.by_purpose, labels, "purpose", orient.total)
            ),
            texts.REPORT_OUTCOMES.format(
                known=orient.known,
                came=percent(orient.rate(Outcome.STARTED, Outcome.CAME_NO_FOLLOW)),
                started=percent(orient.rate(Outcome.STARTED)),
                no_show=percent(orient.rate(Outcome.NO_SHOW)),
            ),
        ]
    exits = sum(ind.exits_by_reason.values())
    lines.append(
        texts.REPORT_EXITS.format(
            count=exits, parts=_breakdown(ind.exits_by_reason, labels, "exit", exits)
        )
        if exits
        else texts.REPORT_NO_EXIT
    )
    if ind.events.events:
        lines.append(event_line(ind.events))
    if with_followups and ind.followups:
        lines.append(followup_line(ind.followups))
    if with_target:
        lines.append(target_line(ind))
    return "\n".join(lines)


def followup_line(followups: dict[str, FollowUpFigures]) -> str:
    """Late follow-ups by mediator (only those with some), the pending total, and how many
    went unanswered after two re-sends."""
    pending = sum(f.pending for f in followups.values())
    late = sorted(
        ((name, f.late) for name, f in followups.items() if f.late), key=lambda x: (-x[1], x[0])
    )
    if not late:
        return texts.REPORT_LATE_NONE.format(pending=pending)
    parts = ", ".join(texts.REPORT_LATE_PART.format(name=n, late=count) for n, count in late)
    line = texts.REPORT_LATE.format(parts=parts, pending=pending)
    unanswered = sum(f.unanswered for f in followups.values())
    return f"{line} · {texts.REPORT_UNANSWERED.format(count=unanswered)}" if unanswered else line


def outcome_parts(outcomes: dict[str, int]) -> str:
    """`Entretien obtenu 3, Embauche 1`: most frequent first."""
    labelled = [(texts.EVENT_OUTCOME_LABELS.get(code, code), n) for code, n in outcomes.items()]
    return ", ".join(f"{label} {n}" for label, n in sorted(labelled, key=lambda x: (-x[1], x[0])))


def event_line(figures: EventFigures) -> str:
    """Events, their attendees and the changes of situation that followed, on one line."""
    kinds = ", ".join(
        f"{texts.EVENT_KIND_LABELS.get(kind, kind)} {count}"
        for kind, count in sorted(figures.by_kind.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    parts = outcome_parts(figures.outcomes)
    return texts.REPORT_EVENTS.format(
        count=figures.events,
        kinds=kinds,
        attendees=plural(figures.attendees, *texts.REPORT_ATTENDEES),
        registered=plural(figures.attended_registered, *texts.REPORT_REGISTERED_CAME),
        unregistered=figures.unregistered,
        changed=figures.changed,
        parts=parts or texts.REPORT_NONE,
    )


def split(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Cut a long text into messages at line boundaries (a line over the limit is cut hard)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
