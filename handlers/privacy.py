"""The people's rights and the audit log (coordinators): `/donnees <code>` (right of access),
`/effacer <code>` (right to erasure), `/journal`."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import texts
from bot.callbacks import PersonRef
from bot.context import BotContext
from bot.db import truncate_log
from bot.formatting import moment
from bot.messages import person_label
from handlers.common import notice, show
from models import audit, people, privacy, team


async def _person_from_args(update: Update, context: BotContext, usage: str) -> int | None:
    person_id = people.parse_person_code(" ".join(context.args or []))
    if person_id is None:
        await show(update, usage)
    return person_id


async def access(update: Update, context: BotContext) -> None:
    """/donnees P-0042: the person's complete record, as a file, for the person who asked."""
    person_id = await _person_from_args(update, context, texts.RIGHTS_ACCESS_USAGE)
    if person_id is None:
        return
    services = context.services
    async with services.sessions.begin() as session:
        record = await privacy.record_of(
            session=session, viewer=context.member, person_id=person_id,
            tz_name=services.settings.timezone,
        )  # fmt: skip
        await audit.record(
            session=session, at=services.clock(), member_id=context.member.id,
            action="access_request", subject=people.person_code(person_id),
        )  # fmt: skip
    code = people.person_code(person_id)
    consent_lines = consent_summary(record.get("consent"), services.settings.tz)
    await show(update, "\n\n".join([texts.RIGHTS_ACCESS_READY.format(code=code), consent_lines]))
    if update.effective_chat is not None:
        document = InputFile(privacy.record_as_json(record), filename=f"{code}-donnees.json")
        await update.effective_chat.send_document(document)


def consent_summary(record: dict[str, Any] | None, tz: ZoneInfo) -> str:
    """The consent record in a few lines: notice shown (language, version, when), consent
    given or refused, withdrawn."""
    lines = [texts.CONSENT_RECORD_HEADER]
    if record is None:
        lines.append(texts.CONSENT_RECORD_NONE)
        return "\n".join(lines)
    if record["notice_shown"]:
        language = f"{record['notice_language_name']} ({record['notice_language']})"
        shown = texts.CONSENT_RECORD_SHOWN.format(
            date=moment(record["notice_shown_at"], tz),
            language=language,
            version=record["notice_version"],
        )
        lines.append(shown)
    else:
        lines.append(texts.CONSENT_RECORD_NOT_SHOWN)
    given = record["consent"] == "given"
    decision = texts.CONSENT_RECORD_GIVEN if given else texts.CONSENT_RECORD_REFUSED
    lines.append(decision.format(date=moment(record["decided_at"], tz)))
    if (withdrawn := record["withdrawn_at"]) is not None:
        lines.append(texts.CONSENT_RECORD_WITHDRAWN.format(date=moment(withdrawn, tz)))
    if record["notice_shown"]:
        lines.append(texts.CONSENT_RECORD_FILE)
    return "\n".join(lines)


async def erase_ask(update: Update, context: BotContext) -> None:
    """/effacer P-0042: confirm first."""
    person_id = await _person_from_args(update, context, texts.RIGHTS_ERASE_USAGE)
    if person_id is None:
        return
    async with context.services.reads() as session:
        person = await people.get_person(
            session=session, viewer=context.member, person_id=person_id
        )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.RIGHTS_ERASE_YES, callback_data=PersonRef("erase", person_id).pack()
                )
            ]
        ]
    )
    await show(update, texts.RIGHTS_ERASE_CONFIRM.format(person=person_label(person)), markup)


async def erase(update: Update, context: BotContext) -> None:
    """The confirmation button: erase identity, contact details and notes, close the open
    orientations (no more reminders); keep the figures. On SQLite the log that still held the
    old values is then emptied."""
    ref = PersonRef.pressed(update)
    if ref is None or not context.member.is_coordinator:
        await notice(update, texts.domain_error("not_allowed"))
        return
    services = context.services
    async with services.sessions.begin() as session:
        person = await people.get_person(
            session=session, viewer=context.member, person_id=ref.person_id
        )
        if person.anonymised_at is None:
            await privacy.anonymise(
                session=session, person_ids=[ref.person_id], now=services.clock()
            )
            await audit.record(
                session=session, at=services.clock(), member_id=context.member.id,
                action="erase", subject=person.code,
            )  # fmt: skip
    await truncate_log(services.sessions.kw["bind"])
    await show(update, texts.RIGHTS_ERASED.format(code=people.person_code(ref.person_id)))


async def journal(update: Update, context: BotContext) -> None:
    """/journal: the latest sensitive actions."""
    async with context.services.reads() as session:
        events = await audit.events(session=session, limit=30)
        members = await team.list_members(session=session, include_inactive=True)
        names = {m.id: m.display_name for m in members}
    if not events:
        await show(update, texts.JOURNAL_EMPTY)
        return
    tz = context.services.settings.tz
    lines = [texts.JOURNAL_HEADER]
    for event in events:
        lines.append(
            texts.JOURNAL_LINE.format(
                at=moment(event.at, tz),
                who=names.get(event.member_id, texts.JOURNAL_SYSTEM),
                action=texts.AUDIT_ACTIONS.get(event.action, event.action),
                subject=event.subject,
            ).rstrip(" ·")
        )
    await show(update, "\n".join(lines))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/donnees, /effacer, /journal."""
    return [
        CommandHandler("donnees", access),
        CommandHandler("effacer", erase_ask),
        CallbackQueryHandler(erase, pattern=PersonRef.pattern("erase")),
        CommandHandler("journal", journal),
    ]
