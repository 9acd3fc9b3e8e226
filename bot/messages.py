"""Messages built in more than one place (a job and a handler): reminders and their buttons."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callbacks import ConfirmRef, FollowUp
from bot.formatting import day
from bot.keyboards import contact_button
from models.orientations import Orientation
from models.people import Person
from models.reference import Partner

FOLLOWUP_ACTIONS = ("started", "came_no_follow", "no_show", "reorient", "snooze", "close")


def person_label(person: Person) -> str:
    """What chats show of a person: code and first name, nothing else."""
    return f"{person.code} {person.first_name}"


def reminder_text(orientation: Orientation, person: Person, partner: Partner, tz: ZoneInfo) -> str:
    """The follow-up question for one orientation."""
    appointment = (
        texts.REMINDER_APPOINTMENT.format(date=day(orientation.appointment_on, tz))
        if orientation.appointment_on
        else ""
    )
    text = texts.REMINDER.format(
        person=person_label(person),
        partner=partner.name,
        created=day(orientation.created_at, tz),
        appointment=appointment,
    )
    return texts.REMINDER_OVERDUE + text if orientation.overdue else text


def reminder_keyboard(orientation: Orientation) -> InlineKeyboardMarkup:
    """One button per answer, bound to this reminder (a second tap changes nothing)."""
    oid = orientation.id or 0
    buttons = [
        InlineKeyboardButton(
            texts.ANSWER_LABELS_FOLLOWUP[action],
            callback_data=FollowUp(action, oid, orientation.seq).pack(),
        )
        for action in FOLLOWUP_ACTIONS
    ]
    contact = [contact_button(orientation.partner_id)]
    ask = [ask_partner_button(oid)]
    return InlineKeyboardMarkup(
        [[b] for b in buttons[:3]] + [buttons[3:5], [buttons[5]], contact, ask]
    )


def ask_partner_button(orientation_id: int) -> InlineKeyboardButton:
    """« Demander au partenaire »: a single-use link for the partner to confirm (issue 16)."""
    return InlineKeyboardButton(
        texts.ASK_PARTNER, callback_data=ConfirmRef("ask", orientation_id).pack()
    )
