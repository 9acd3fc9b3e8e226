"""Events: `/agenda`, and the event card where mediators register their people and the project
officer records attendance, outcomes and the summary (`/evenement` is handlers/event_creation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import keyboards, texts
from bot.callbacks import EventRef
from bot.context import BotContext
from bot.formatting import day, long_day, plural
from bot.messages import person_label
from bot.reports import outcome_parts
from handlers.common import notice, pressed, show
from handlers.forms import Answers, Asked, Finished, Form, FormEngine, Number, Text, plain
from models import events, reference
from models.base import pk
from models.errors import DomainError
from models.events import Event, EventOutcome
from models.people import parse_person_code
from models.reference import Neighbourhood
from models.team import Role

Shown = Callable[
    [AsyncSession, BotContext, Event, int], Awaitable[tuple[str, InlineKeyboardMarkup]]
]
PEOPLE_SHOWN: Final = 12
AGENDA_PAGE: Final = 10  # events a page of /agenda


def describe(
    *,
    title: str,
    kind: str,
    starts_at: dt.datetime,
    place: str,
    neighbourhood: str,
    theme: str,
    partners: list[str],
    context: BotContext,
) -> str:
    """An event's description, the same before and after saving."""
    tz = context.services.settings.tz
    local = starts_at.astimezone(tz)
    kind_label = texts.EVENT_KIND_LABELS.get(kind, kind)
    same = plain(title) == plain(kind_label)  # no « Café de l'emploi (Café de l'emploi) »
    return texts.EVENT_CARD.format(
        heading=title if same else texts.EVENT_CARD_HEADING.format(title=title, kind=kind_label),
        when=texts.EVENT_WHEN.format(day=long_day(local, tz), time=local.strftime("%H:%M")),
        place=place,
        neighbourhood=neighbourhood,
        theme=texts.EVENT_CARD_THEME.format(theme=theme) if theme else "",
        partners=", ".join(partners) or texts.EVENT_NO_PARTNER,
    )


# --- The event card -----------------------------------------------------------------------
def _button(label: str, action: str, event_id: int, target: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=EventRef(action, event_id, target).pack())


async def event_card(
    session: AsyncSession, context: BotContext, event: Event
) -> tuple[str, InlineKeyboardMarkup]:
    """The event as the viewer may see it, with the buttons of their role."""
    member, now = context.member, context.services.clock()
    eid = pk(event)
    neighbourhood = await session.get_one(Neighbourhood, event.neighbourhood_id)
    partners = [p.name for p in await events.partners_of(session=session, event_id=eid)]
    text = describe(
        title=event.title,
        kind=event.kind,
        starts_at=event.starts_at,
        place=event.place,
        neighbourhood=neighbourhood.name,
        theme=event.theme,
        partners=partners,
        context=context,
    )
    figures = await events.figures(session=session, event_id=eid)
    text += texts.EVENT_CARD_FIGURES.format(
        registered=figures.registered,
        came=figures.attended_registered,
        unregistered=figures.unregistered,
        attendees=figures.attendees,
    )
    if member.role == Role.MEDIATOR:
        own = await events.registrations(session=session, event_id=eid, viewer=member)
        people = ", ".join(person_label(p) for _, p in own) or "–"
        text += texts.EVENT_CARD_OWN.format(people=people)
    if figures.changed:
        text += texts.EVENT_CARD_OUTCOMES.format(
            count=figures.changed, parts=outcome_parts(figures.outcomes)
        )
    if events.may_organise(member) and event.summary:
        text += texts.EVENT_CARD_SUMMARY.format(summary=event.summary)
    rows: list[list[InlineKeyboardButton]] = []
    open_for_registration = events.registration_open(event, now)
    if member.role != Role.PROJECT_OFFICER and open_for_registration:
        rows.append([_button(texts.EVENT_BUTTON_REGISTER, "people", eid)])
    if events.may_organise(member) and events.attendance_open(event, now):
        rows += [
            [
                _button(texts.EVENT_BUTTON_ATTENDANCE, "attendance", eid),
                _button(
                    texts.EVENT_BUTTON_HEADCOUNT.format(count=event.unregistered_attendees),
                    "ask_headcount",
                    eid,
                ),
            ],
            [
                _button(texts.EVENT_BUTTON_OUTCOMES, "outcomes", eid),
                _button(texts.EVENT_BUTTON_SUMMARY, "ask_summary", eid),
            ],
        ]
    rows.append([_button(texts.EVENT_BUTTON_AGENDA, "agenda", 0)])
    return text, InlineKeyboardMarkup(rows)


async def agenda(update: Update, context: BotContext) -> None:
    """/agenda: upcoming events, each a button to its card."""
    await _show_agenda(update, context, past=False)


async def _show_agenda(update: Update, context: BotContext, *, past: bool, page: int = 1) -> None:
    """A page of the agenda (or of past events), with ‹ › when there are more."""
    services = context.services
    tz = services.settings.tz
    now = services.clock()
    page = max(1, page)
    window = {"limit": AGENDA_PAGE + 1, "offset": (page - 1) * AGENDA_PAGE}
    async with services.reads() as session:
        listed = (
            await events.past(session=session, now=now, **window)
            if past
            else await events.upcoming(session=session, now=now, **window)
        )
        more, listed = len(listed) > AGENDA_PAGE, listed[:AGENDA_PAGE]
        names = {n.id: n.name for n in await reference.neighbourhoods(session=session)}
        lines = [texts.AGENDA_PAST_TITLE if past else texts.AGENDA_TITLE]
        for event in listed:
            local = event.starts_at.astimezone(tz)
            neighbourhood = names.get(event.neighbourhood_id, "?")
            if past:
                figures = await events.figures(session=session, event_id=pk(event))
                lines.append(
                    texts.AGENDA_PAST_LINE.format(
                        day=day(local, tz),
                        title=event.title,
                        neighbourhood=neighbourhood,
                        attendees=plural(figures.attendees, *texts.AGENDA_ATTENDEES),
                        changed=plural(figures.changed, *texts.AGENDA_CHANGED)
                        if figures.changed
                        else texts.AGENDA_NO_CHANGE,
                    )
                )
            else:
                lines.append(
                    texts.AGENDA_LINE.format(
                        day=day(local, tz),
                        time=local.strftime("%H:%M"),
                        title=event.title,
                        neighbourhood=neighbourhood,
                    )
                )
    if not listed:
        lines.append(texts.AGENDA_PAST_EMPTY if past else texts.AGENDA_EMPTY)
    rows = [
        [_button(f"{day(e.starts_at.astimezone(tz), tz)} · {e.title}"[:60], "open", pk(e))]
        for e in listed
    ]
    action = "past" if past else "agenda"
    if pager := keyboards.pager(
        action, page, page + 1 if more else page, data=lambda n: EventRef(action, 0, n).pack()
    ):
        rows.append(pager)
    rows.append(
        [_button(texts.EVENT_BUTTON_AGENDA, "agenda", 0)]
        if past
        else [_button(texts.EVENT_BUTTON_PAST, "past", 0)]
    )
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def on_event_button(update: Update, context: BotContext) -> None:
    """Every button of the agenda and of an event card (stateless: the button says it all,
    and `BUTTONS` what it shows)."""
    if (ref := await pressed(update, EventRef)) is None:
        return
    if ref.action in ("agenda", "past"):
        await _show_agenda(update, context, past=ref.action == "past", page=ref.target)
        return
    shown = BUTTONS.get(ref.action)
    if shown is None and events.may_organise(context.member):
        shown = ORGANISER_BUTTONS.get(ref.action)
    try:
        async with context.services.sessions.begin() as session:
            event = await events.get_event(session=session, event_id=ref.event_id)
            if shown is None:
                raise DomainError("not_allowed")
            text, markup = await shown(session, context, event, ref.target)
    except DomainError as error:
        await notice(update, texts.domain_error(error.key, error.params))
        return
    await show(update, text, markup)


async def _people_list(
    session: AsyncSession, context: BotContext, event: Event
) -> tuple[str, InlineKeyboardMarkup]:
    """The member's people as toggles: ✅ registered."""
    eid = pk(event)
    listed = await events.own_people_for(
        session=session, event=event, member=context.member, limit=PEOPLE_SHOWN
    )
    rows = [
        [_button(f"{'✅ ' if registered else ''}{person_label(p)}", "reg", eid, pk(p))]
        for p, registered in listed
    ]
    rows.append([_button(texts.EVENT_BUTTON_BY_CODE, "ask_code", eid)])
    rows.append([_button(texts.EVENT_BUTTON_CARD, "open", eid)])
    text = texts.EVENT_REGISTER_LIST.format(title=event.title) if listed else ""
    return text or texts.EVENT_REGISTER_NONE, InlineKeyboardMarkup(rows)


async def _toggle_registration(
    session: AsyncSession, context: BotContext, event: Event, person_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    registered = {
        r.person_id
        for r, _ in await events.registrations(
            session=session, event_id=pk(event), viewer=context.member
        )
    }
    now = context.services.clock()
    if person_id in registered:
        await events.unregister(
            session=session, event=event, person_id=person_id, member=context.member, now=now
        )
    else:
        await events.register(
            session=session, event=event, person_id=person_id, member=context.member, now=now
        )
    return await _people_list(session, context, event)


async def _attendance(
    session: AsyncSession, context: BotContext, event: Event
) -> tuple[str, InlineKeyboardMarkup]:
    eid = pk(event)
    listed = await events.registrations(session=session, event_id=eid, viewer=context.member)
    rows = [
        [_button(f"{'✅' if r.attended else '⬜'} {person_label(p)}", "att", eid, pk(r))]
        for r, p in listed
    ]
    rows.append(
        [
            _button(
                texts.EVENT_BUTTON_HEADCOUNT.format(count=event.unregistered_attendees),
                "ask_headcount",
                eid,
            )
        ]
    )
    rows.append([_button(texts.EVENT_BUTTON_CARD, "open", eid)])
    text = texts.EVENT_ATTENDANCE.format(title=event.title)
    return (text if listed else texts.EVENT_ATTENDANCE_NONE), InlineKeyboardMarkup(rows)


async def _outcomes(
    session: AsyncSession, context: BotContext, event: Event
) -> tuple[str, InlineKeyboardMarkup]:
    eid = pk(event)
    came = [
        (r, p)
        for r, p in await events.registrations(
            session=session, event_id=eid, viewer=context.member
        )
        if r.attended
    ]
    rows = []
    for r, p in came:
        label = texts.EVENT_OUTCOME_LABELS.get(r.outcome or "", "–")
        rows.append([_button(f"{person_label(p)} : {label}", "outcome_of", eid, pk(r))])
    rows.append([_button(texts.EVENT_BUTTON_SUMMARY, "ask_summary", eid)])
    rows.append([_button(texts.EVENT_BUTTON_CARD, "open", eid)])
    return (texts.EVENT_OUTCOMES if came else texts.EVENT_OUTCOMES_NONE), InlineKeyboardMarkup(
        rows
    )


async def _outcome_choices(
    session: AsyncSession, context: BotContext, event: Event, registration_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    eid = pk(event)
    listed = await events.registrations(session=session, event_id=eid, viewer=context.member)
    found = [(r, p) for r, p in listed if r.id == registration_id and r.attended]
    if not found:
        raise DomainError("outcome_needs_attendance")
    _, person = found[0]
    rows = [
        [_button(label, f"o_{code}", eid, registration_id)]
        for code, label in texts.EVENT_OUTCOME_LABELS.items()
    ]
    rows.append([_button(texts.EVENT_BUTTON_NO_OUTCOME, "o_none", eid, registration_id)])
    rows.append([_button(texts.EVENT_BUTTON_OUTCOMES, "outcomes", eid)])
    return texts.EVENT_OUTCOME_FOR.format(person=person_label(person)), InlineKeyboardMarkup(rows)


async def _mark_attended(
    session: AsyncSession, context: BotContext, event: Event, registration_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    """A tap on a registered person: came, or not after all."""
    registration = await session.get(events.Registration, registration_id)
    await events.set_attended(
        session=session, event=event, registration_id=registration_id,
        attended=registration is not None and not registration.attended,
        member=context.member, now=context.services.clock(),
    )  # fmt: skip
    return await _attendance(session, context, event)


def _set_outcome(outcome: EventOutcome | None) -> Shown:
    """An outcome chosen for an attendee (None: « no outcome »), then the outcomes again."""

    async def shown(
        session: AsyncSession, context: BotContext, event: Event, registration_id: int
    ) -> tuple[str, InlineKeyboardMarkup]:
        await events.set_outcome(
            session=session, event=event, registration_id=registration_id,
            outcome=outcome, member=context.member, now=context.services.clock(),
        )  # fmt: skip
        return await _outcomes(session, context, event)

    return shown


def _on_event(
    show_list: Callable[[AsyncSession, BotContext, Event], Awaitable[Any]],
) -> Shown:
    """What shows the event as a whole (its card, a list), whatever the button's target."""
    return lambda session, context, event, _: show_list(session, context, event)


# What each button of an event shows (after doing what it says), given the session, the member,
# the event and the button's target; the organisers' buttons apart (checked on every press).
BUTTONS: Final[dict[str, Shown]] = {
    "open": _on_event(event_card),
    "people": _on_event(_people_list),
    "reg": _toggle_registration,
}
ORGANISER_BUTTONS: Final[dict[str, Shown]] = {
    "attendance": _on_event(_attendance),
    "att": _mark_attended,
    "outcomes": _on_event(_outcomes),
    "outcome_of": _outcome_choices,
    **{f"o_{outcome.value}": _set_outcome(outcome) for outcome in EventOutcome},
    "o_none": _set_outcome(None),
}


# --- Typed values on an event: a code to register, the headcount, the summary: a form -----
ASKS: Final = ("ask_code", "ask_headcount", "ask_summary")
ORGANISER_ASKS: Final = frozenset({"ask_headcount", "ask_summary"})


async def what_is_asked(update: Update, context: BotContext) -> Answers:
    """The button pressed says what is typed, on which event."""
    ref = EventRef.pressed(update)
    if ref is None or ref.action not in ASKS:
        raise DomainError("stale_button")
    if ref.action in ORGANISER_ASKS and not events.may_organise(context.member):
        raise DomainError("stale_button")  # never shown to them: an old or forged button
    return {"what": ref.action, "event_id": ref.event_id}


def asking(what: str) -> Callable[[Answers], bool]:
    return lambda answers: answers["what"] == what


def read_code(text: str, asked: Asked) -> int:
    person_id = parse_person_code(text)
    if person_id is None:
        raise DomainError("event_code_unknown")
    return person_id


def read_summary(text: str, asked: Asked) -> str:
    return events.clean_summary(text)


async def apply_input(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    """Register the person, set the headcount or the summary; show the card again."""
    member, now = context.member, context.services.clock()
    event = await events.get_event(session=session, event_id=answers["event_id"])
    if answers["what"] == "ask_code":
        try:
            await events.register(
                session=session, event=event, person_id=answers["code"], member=member, now=now
            )
        except DomainError as error:
            if error.key not in {"not_found", "not_allowed"}:
                raise
            raise DomainError("event_code_unknown") from error  # not theirs: like an unknown code
        return Finished(*await _people_list(session, context, event))
    if answers["what"] == "ask_headcount":
        events.set_unregistered(event=event, count=answers["headcount"], member=member, now=now)
    else:
        events.set_summary(event=event, text=answers["summary"], member=member, now=now)
    return Finished(*await event_card(session, context, event))


EVENT_INPUT: Final = Form(
    key="evi",
    command="agenda",
    conversation="evenement_saisie",
    starts_on=rf"^ev:({'|'.join(ASKS)}):",
    begin=what_is_asked,
    steps=(
        Text(name="code", prompt=texts.EVENT_ASK_CODE, read=read_code, applies=asking("ask_code")),
        Number(
            name="headcount",
            prompt=texts.EVENT_ASK_HEADCOUNT,
            options=(),
            minimum=0,
            maximum=events.MAX_HEADCOUNT,
            invalid=texts.DOMAIN_ERRORS["headcount_invalid"],
            applies=asking("ask_headcount"),
        ),
        Text(
            name="summary",
            prompt=texts.EVENT_ASK_SUMMARY,
            read=read_summary,
            applies=asking("ask_summary"),
        ),
    ),
    finish=apply_input,
)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/agenda, the event buttons and their typed answers."""
    return [
        *FormEngine(EVENT_INPUT).handlers(),
        CommandHandler("agenda", agenda),
        CallbackQueryHandler(on_event_button, pattern=EventRef.pattern()),
    ]
