"""What the Telegram side and the web side of partner confirmations share (issue 16): the
links, the card as text, the answers' labels, telling the mediator, and the e-mail."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import urllib.parse
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot import texts
from bot.callbacks import FollowUp
from bot.formatting import day
from bot.settings import Settings
from models.confirmations import Card, Confirmation, PartnerAnswer
from models.people import person_code
from models.reference import Partner

logger = logging.getLogger(__name__)

CORRECTION_ACTIONS = ("started", "came_no_follow", "no_show")


def telegram_link(username: str, code: str) -> str:
    """The deep link that opens the bot on the confirmation card."""
    return f"https://t.me/{username}?start={code}"


def web_link(public_url: str, code: str) -> str:
    """The partners' web page for this code."""
    return f"{public_url.rstrip('/')}/c/{code}"


def share_url(link: str) -> str:
    """Telegram's share dialog, pre-filled with the link."""
    query = urllib.parse.urlencode({"url": link, "text": texts.ASK_PARTNER_SHARE_TEXT})
    return f"https://t.me/share/url?{query}"


def card_text(card: Card, tz: ZoneInfo) -> str:
    """The card, in French: the same words on Telegram and on the web page."""
    return texts.CONFIRM_CARD.format(
        programme=card.programme,
        mediator=card.mediator_first_name,
        code=card.person_code,
        initial=card.initial,
        date=day(card.oriented_on, tz),
        purpose=texts.PURPOSE_LABELS.get(card.purpose, card.purpose),
        mode=texts.MODE_LABELS.get(card.mode, card.mode),
    )


def answer_label(confirmation: Confirmation, tz: ZoneInfo) -> str:
    """The answer as the thanks and the mediator's message say it."""
    request = confirmation.request
    if request is None or request.answer is None:
        return ""
    if request.answer == PartnerAnswer.APPOINTMENT and request.appointment_on:
        return (
            texts.CONFIRM_ANSWER_LABELS["appointment"].rstrip("…")
            + " "
            + day(request.appointment_on, tz)
        )
    label = texts.CONFIRM_ANSWER_LABELS[request.answer].rstrip("…")
    if request.reason:
        label += texts.PARTNER_REASON_SUFFIX.format(
            reason=texts.CONFIRM_REASON_LABELS[request.reason].lower()
        )
    return label


def mediator_message(
    confirmation: Confirmation, partner: Partner, tz: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What the mediator is told when the partner answers, with buttons to correct it."""
    request, orientation, person = (
        confirmation.request,
        confirmation.orientation,
        confirmation.person,
    )
    assert request is not None
    assert orientation is not None
    assert person is not None
    label = f"{person_code(orientation.person_id)} {person.first_name}"
    outcome = answer_label(confirmation, tz).lower()
    if not confirmation.changed:
        text = texts.PARTNER_ANSWERED_LATE.format(
            partner=partner.name, person=label, outcome=outcome
        )
        return text, None
    if request.answer == PartnerAnswer.APPOINTMENT and request.appointment_on:
        text = texts.PARTNER_ANSWERED_APPOINTMENT.format(
            partner=partner.name, person=label, date=day(request.appointment_on, tz)
        )
        return text, None
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.ANSWER_LABELS_FOLLOWUP[action],
                    callback_data=FollowUp(action, orientation.id or 0, orientation.seq).pack(),
                )
            ]
            for action in CORRECTION_ACTIONS
            if action != orientation.outcome
        ]
    )
    text = texts.PARTNER_ANSWERED.format(partner=partner.name, person=label, outcome=outcome)
    return text, markup


async def tell_mediator(bot: Bot, confirmation: Confirmation, tz: ZoneInfo) -> None:
    """One message to the mediator (a failure is logged: the answer is recorded anyway)."""
    if confirmation.mediator is None or confirmation.partner is None:
        return
    text, markup = mediator_message(confirmation, confirmation.partner, tz)
    try:
        await bot.send_message(confirmation.mediator.telegram_user_id, text, reply_markup=markup)
    except TelegramError:
        logger.warning(
            "Could not tell member %s about a partner's answer", confirmation.mediator.id
        )


def _send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    """Blocking: run in a thread. `smtps://` is TLS from the start; `smtp://` upgrades with
    STARTTLS when the server offers it, and never sends a password in clear."""
    if settings.smtp_url is None or settings.smtp_from is None:
        return
    url = urllib.parse.urlsplit(settings.smtp_url.get_secret_value())
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    host, context = url.hostname or "localhost", ssl.create_default_context()
    user = urllib.parse.unquote(url.username or "")
    password = urllib.parse.unquote(url.password or "")
    smtp: smtplib.SMTP
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, url.port or 465, context=context, timeout=30)
        secure = True
    else:
        smtp = smtplib.SMTP(host, url.port or 587, timeout=30)
        smtp.ehlo()
        secure = smtp.has_extn("starttls")
        if secure:
            smtp.starttls(context=context)
            smtp.ehlo()
    with smtp:
        if user:
            if not secure:
                raise smtplib.SMTPNotSupportedError("no TLS: the password is not sent")
            smtp.login(user, password)
        smtp.send_message(message)


async def email_link(settings: Settings, *, to: str, card: Card, code: str, expires: str) -> bool:
    """E-mail the web link to the partner's correspondant: the code and the mediator's first
    name, never the person's name. False when the server refused or could not be reached."""
    if not settings.public_url:
        return False
    tz = settings.tz
    body = texts.CONFIRM_EMAIL_BODY.format(
        mediator=card.mediator_first_name,
        code=card.person_code,
        date=day(card.oriented_on, tz),
        link=web_link(settings.public_url, code),
        expires=expires,
    )
    subject = texts.CONFIRM_EMAIL_SUBJECT.format(code=card.person_code)
    try:
        await asyncio.to_thread(_send_email, settings, to, subject, body)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("Could not e-mail a confirmation link: %s", type(exc).__name__)
        return False
    return True
