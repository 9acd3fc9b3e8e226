"""The form engine: a conversation is a declared form; this module alone walks it.

A `Form` is an ordered tuple of steps (`Choice`, `MultiChoice`, `Text`, `Number`), each saying
when it applies (a predicate over the answers so far), how a typed answer is read (a function
that raises `DomainError` with the reason, usually from `models/`), and what it asks. A handler
module declares its form and what to do with the finished answers (`finish`, inside the
transaction that also ends the conversation); the engine owns everything else, for every form
at once:

- « Retour » (to the previous step asked), « Passer » on optional steps, « Annuler » and
  /annuler;
- a step with one possible answer is answered without asking;
- a typed answer that names a button is that button (« femme », « F », « 26-44 », « oui »:
  case, accents and punctuation ignored);
- a refused answer: the reason and the same question, in one message;
- a button of another step or another form: « Ce bouton n'est plus actif », nothing changes;
- the write-ahead checkpoint (drafts, the conversation's state and the update's mark committed
  before the answer is shown), so restarts continue at the same step; idle drafts are ended by
  the housekeeping job (`bot.drafts.expired`), which the engine's `touch` keeps current;
- the member's messages typed at a sensitive step (phone, note) are deleted once the form ends.

The answers live in the draft as JSON (codes, numbers, ISO dates): they survive restarts.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import drafts, keyboards, texts
from bot.callbacks import Nav, Pick
from bot.context import BotContext
from handlers.common import (
    END,
    begin_draft,
    checkpoint,
    delete_sensitive,
    notice,
    remember_sensitive,
    show,
    warn,
)
from models.errors import DomainError

Answers = dict[str, Any]
Option = tuple[str, str]  # (code, label)
ASKING: Final = "asking"  # the one ConversationHandler state: the step lives in the draft
VALUES, HISTORY, STEP = "values", "history", "step"


@dataclass(frozen=True)
class Asked:
    """What a step's functions may read besides the answers: the member's context, today."""

    context: BotContext
    answers: Answers

    @property
    def today(self) -> dt.date:
        return self.context.services.today()


Options = Sequence[Option] | Callable[[Asked], Awaitable[Sequence[Option]]]
Reader = Callable[[str, Asked], Any]


def always(_: Answers) -> bool:
    """The default `applies`: the step is always asked."""
    return True


@dataclass(frozen=True, kw_only=True)
class Step:
    """What every step has: a name (the answer's key), a prompt, when it applies, and whether
    it may be skipped (« Passer ») or holds personal data typed by the member (deleted)."""

    name: str
    prompt: str | Callable[[Asked], str]
    applies: Callable[[Answers], bool] = always
    optional: bool = False
    sensitive: bool = False
    resets: tuple[str, ...] = ()  # answers a change of this one makes meaningless

    def question(self, asked: Asked) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt(asked)


@dataclass(frozen=True, kw_only=True)
class Text(Step):
    """A typed answer, read (and refused with a reason) by `read`."""

    read: Reader


@dataclass(frozen=True, kw_only=True)
class Choice(Step):
    """One button among `options`; a typed answer naming one is accepted, and `read` (when
    given) reads any other typed answer (a date, a code...)."""

    options: Options
    columns: int = 2
    read: Reader | None = None

    async def listed(self, asked: Asked) -> list[Option]:
        found = self.options if isinstance(self.options, Sequence) else await self.options(asked)
        return list(found)


@dataclass(frozen=True, kw_only=True)
class MultiChoice(Choice):
    """Buttons toggled on and off, closed by « Valider (n) »; typed answers toggle too."""

    columns: int = 1


@dataclass(frozen=True, kw_only=True)
class Number(Choice):
    """A whole number from `minimum` to `maximum`, with quick buttons; `invalid` is what is
    said (with `{minimum}` and `{limit}` filled) when a typed answer is not one."""

    minimum: int = 1
    maximum: int = 10_000
    invalid: str = texts.NUMBER_INVALID
    columns: int = 4

    def read_number(self, text: str) -> int | None:
        """The number typed, or None."""
        cleaned = re.sub(r"[\s\u202f]", "", text)
        if not cleaned.isdigit() or not self.minimum <= int(cleaned) <= self.maximum:
            return None
        return int(cleaned)


@dataclass(frozen=True)
class Finished:
    """What the form shows once saved, and the buttons offered next (none: the end)."""

    text: str
    markup: InlineKeyboardMarkup | None = None


Begin = Callable[[Update, BotContext], Awaitable[Answers | str]]
Finish = Callable[[BotContext, Answers, AsyncSession], Awaitable[Finished]]


async def no_precondition(update: Update, context: BotContext) -> Answers:
    """The default `begin`: start with no answers."""
    return {}


@dataclass(frozen=True)
class Form:
    """A conversation, declared: its key (draft and callback prefix), command, steps, and what
    `finish` does with the answers (inside the transaction that ends the conversation: raise
    `DomainError` to refuse, and the last step is asked again with the reason). `begin` may
    refuse to start (a text) or give first answers."""

    key: str
    command: str
    steps: tuple[Step, ...]
    finish: Finish
    begin: Begin = no_precondition
    conversation: str = field(default="")

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"form {self.key}: two steps share a name")
        if not self.conversation:
            object.__setattr__(self, "conversation", self.command)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def next_after(self, name: str | None, answers: Answers) -> Step | None:
        """The first step after `name` (or the first of all) that applies, or None: done."""
        names = [s.name for s in self.steps]
        start = names.index(name) + 1 if name in names else 0
        return next((s for s in self.steps[start:] if s.applies(answers)), None)


# --- Matching what people type to the buttons they were shown ------------------------------
def plain(text: str) -> str:
    """Lower case, no accents, letters and digits separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", bare))


def match_option(typed: str, options: Sequence[Option]) -> str | None:
    """The code of the one option `typed` names: its label (or a code that is a word) exactly,
    else the only label starting with it (« F » → Femme, « 26 44 » → « 26-44 ans »). None when
    none or several."""
    wanted = plain(typed)
    if not wanted:
        return None
    exact = [
        code
        for code, label in options
        if wanted == plain(label) or (not code.isdigit() and wanted == plain(code))
    ]
    if len(exact) == 1:
        return exact[0]
    starting = [code for code, label in options if plain(label).startswith(wanted)]
    return starting[0] if len(starting) == 1 else None


# --- The engine ------------------------------------------------------------------------------
class FormEngine:
    """Walks one form for every member: one ConversationHandler, one state, the step in the
    draft."""

    def __init__(self, form: Form) -> None:
        self.form = form

    # The conversation --------------------------------------------------------------------
    def conversation(self) -> ConversationHandler[BotContext]:
        """The form's ConversationHandler: its command starts it, one state takes every
        button, typed answer and navigation of the form."""
        key = self.form.key
        with warnings.catch_warnings():
            # A form mixes buttons and typed answers on purpose and tracks them per user, which
            # is what PTB's per_message warning is about.
            warnings.filterwarnings("ignore", message=".*per_message", category=PTBUserWarning)
            return self._conversation(key)

    def _conversation(self, key: str) -> ConversationHandler[BotContext]:
        return ConversationHandler(
            entry_points=[CommandHandler(self.form.command, self.start)],
            states={
                ASKING: [
                    CallbackQueryHandler(self.on_pick, pattern=Pick.pattern(key)),
                    CallbackQueryHandler(self.on_nav, pattern=Nav.pattern(key)),
                    MessageHandler(~filters.COMMAND, self.on_text),
                ]
            },
            fallbacks=[
                CommandHandler("annuler", self.cancel),
                CallbackQueryHandler(self.on_nav, pattern=Nav.pattern(key)),
            ],
            name=self.form.conversation,
            persistent=True,
            allow_reentry=True,
        )

    def handlers(self) -> list[BaseHandler[Update, BotContext, Any]]:
        return [self.conversation()]

    async def start(self, update: Update, context: BotContext) -> object:
        """The command: check the precondition, then ask the first step."""
        begun = await self.form.begin(update, context)
        if isinstance(begun, str):
            await show(update, begun)
            return END
        draft = begin_draft(update, context, self.form.key)
        draft.update({VALUES: dict(begun), HISTORY: []})
        return await self.ask(update, context, draft, self.form.next_after(None, draft[VALUES]))

    # Asking ------------------------------------------------------------------------------
    async def ask(
        self, update: Update, context: BotContext, draft: dict[str, Any], step: Step | None
    ) -> object:
        """Show `step` (answering it at once when it has one possible answer), or finish."""
        while step is not None and isinstance(step, Choice) and not step.optional:
            options = await step.listed(Asked(context, draft[VALUES]))
            if len(options) != 1 or isinstance(step, MultiChoice | Number):
                break
            self.record(draft, step, options[0][0])  # one answer possible: not asked
            step = self.form.next_after(step.name, draft[VALUES])
        if step is None:
            return await self.finish(update, context, draft)
        draft[STEP] = step.name
        await checkpoint(update, context, conversation=self.form.conversation, state=ASKING)
        asked = Asked(context, draft[VALUES])
        markup = await self.keyboard(step, asked, back=bool(draft[HISTORY]))
        await show(update, step.question(asked), markup, edit=update.callback_query is not None)
        return ASKING

    async def keyboard(self, step: Step, asked: Asked, *, back: bool) -> InlineKeyboardMarkup:
        key = self.form.key
        if not isinstance(step, Choice):
            return keyboards.nav_only(key, back=back, skip=step.optional)
        options = await step.listed(asked)
        selected = (
            set(asked.answers.get(step.name) or ()) if isinstance(step, MultiChoice) else None
        )
        markup = keyboards.choices(
            key,
            step.name,
            options,
            columns=step.columns,
            selected=selected,
            back=back,
            validate=isinstance(step, MultiChoice),
        )
        if step.optional:
            skip = InlineKeyboardButton(texts.SKIP, callback_data=Nav(key, "skip").pack())
            markup = InlineKeyboardMarkup(
                [*markup.inline_keyboard[:-1], [skip], markup.inline_keyboard[-1]]
            )
        return markup

    def record(self, draft: dict[str, Any], step: Step, value: object) -> None:
        """Keep an answer; forget those it makes meaningless."""
        answers = draft[VALUES]
        if answers.get(step.name) != value:
            for name in step.resets:
                answers.pop(name, None)
        answers[step.name] = value

    async def answered(
        self, update: Update, context: BotContext, draft: dict[str, Any], step: Step, value: object
    ) -> object:
        """Keep the answer and ask the next step."""
        self.record(draft, step, value)
        draft[HISTORY].append(step.name)
        return await self.ask(
            update, context, draft, self.form.next_after(step.name, draft[VALUES])
        )

    async def again(
        self, update: Update, context: BotContext, draft: dict[str, Any], reason: str
    ) -> object:
        """The reason, then the same question, as one message."""
        warn(reason)
        step = self.form.step(draft[STEP])
        return await self.ask(update, context, draft, step)

    # Callbacks ---------------------------------------------------------------------------
    async def current(self, update: Update, context: BotContext) -> dict[str, Any] | None:
        """This form's draft, touched; a conversation whose draft is gone ends politely."""
        draft = drafts.get(context.member_data, self.form.key)
        if draft is None or STEP not in draft:
            await show(update, texts.SESSION_GONE.format(command=self.form.command), edit=False)
            return None
        drafts.touch(draft, now=context.services.clock())
        return draft

    async def on_pick(self, update: Update, context: BotContext) -> object:
        """A button of a choice step: the answer, or a toggle of a multiple choice."""
        draft = await self.current(update, context)
        if draft is None:
            return END
        pick = Pick.unpack(update.callback_query.data if update.callback_query else None)
        step = self.form.step(draft[STEP])
        if pick is None or pick.step != step.name or not isinstance(step, Choice):
            await notice(update, texts.STALE_BUTTON)
            return None
        options = await step.listed(Asked(context, draft[VALUES]))
        if pick.value not in {code for code, _ in options}:
            await notice(update, texts.domain_error("choice_invalid"))
            return None
        return await self.chose(update, context, draft, step, pick.value)

    async def chose(
        self, update: Update, context: BotContext, draft: dict[str, Any], step: Choice, code: str
    ) -> object:
        if isinstance(step, MultiChoice):
            chosen = list(draft[VALUES].get(step.name) or [])
            chosen.remove(code) if code in chosen else chosen.append(code)
            draft[VALUES][step.name] = chosen
            return await self.ask(update, context, draft, step)
        value: object = int(code) if isinstance(step, Number) else code
        return await self.answered(update, context, draft, step, value)

    async def on_text(self, update: Update, context: BotContext) -> object:
        """A typed answer: read by the step, or matched to one of its buttons."""
        draft = await self.current(update, context)
        if draft is None:
            return END
        message = update.effective_message
        text = message.text if message is not None else None
        step = self.form.step(draft[STEP])
        if step.sensitive:
            remember_sensitive(update, draft)
        if not text:
            return await self.again(update, context, draft, texts.USE_BUTTONS)
        asked = Asked(context, draft[VALUES])
        if isinstance(step, Choice):
            code = match_option(text, await step.listed(asked))
            if code is not None:
                return await self.chose(update, context, draft, step, code)
        if isinstance(step, Number):
            number = step.read_number(text)
            if number is None:
                reason = step.invalid.format(minimum=step.minimum, limit=step.maximum)
                return await self.again(update, context, draft, reason)
            return await self.answered(update, context, draft, step, number)
        read = step.read if isinstance(step, Text | Choice) else None
        if read is None:
            return await self.again(update, context, draft, texts.USE_BUTTONS)
        try:
            value = read(text, asked)
        except DomainError as error:
            reason = texts.domain_error(error.key, error.params)
            return await self.again(update, context, draft, reason)
        return await self.answered(update, context, draft, step, value)

    async def on_nav(self, update: Update, context: BotContext) -> object:
        """Retour, Passer, Valider, Annuler."""
        nav = Nav.unpack(update.callback_query.data if update.callback_query else None)
        action = nav.action if nav is not None else None
        if action == "cancel":
            return await self.cancel(update, context)
        draft = await self.current(update, context)
        if draft is None:
            return END
        step = self.form.step(draft[STEP])
        if action == "back" and draft[HISTORY]:
            previous = self.form.step(draft[HISTORY].pop())
            return await self.ask(update, context, draft, previous)
        if action == "skip" and step.optional:
            return await self.answered(update, context, draft, step, None)
        if action == "done" and isinstance(step, MultiChoice):
            return await self.answered(
                update, context, draft, step, list(draft[VALUES].get(step.name) or [])
            )
        await notice(update, texts.STALE_BUTTON)
        return None

    async def cancel(self, update: Update, context: BotContext) -> object:
        """Abandon the form; nothing is saved, typed personal data is deleted."""
        draft = drafts.drop(context.member_data, self.form.key)
        await checkpoint(update, context, conversation=self.form.conversation, state=END)
        if draft is not None:
            await delete_sensitive(update, context, draft)
        await show(update, texts.CANCELLED)
        return END

    # Saving ------------------------------------------------------------------------------
    async def finish(self, update: Update, context: BotContext, draft: dict[str, Any]) -> object:
        """Save through `finish`, in one transaction with the end of the conversation; a
        refusal asks the last step again with its reason."""
        try:
            async with context.services.sessions.begin() as session:
                done = await self.form.finish(context, draft[VALUES], session)
                await checkpoint(
                    update, context, conversation=self.form.conversation, state=END,
                    session=session, without=self.form.key,
                )  # fmt: skip
        except DomainError as error:
            warn(texts.domain_error(error.key, error.params))
            last = self.form.step(draft[HISTORY].pop()) if draft[HISTORY] else self.form.steps[0]
            return await self.ask(update, context, draft, last)
        drafts.drop(context.member_data, self.form.key)
        await delete_sensitive(update, context, draft)
        await show(update, done.text, done.markup, edit=update.callback_query is not None)
        return END
