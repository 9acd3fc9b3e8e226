"""The form engine: a conversation is a declared form; this module alone walks it.

A `Form` is an ordered tuple of steps (`Choice`, `MultiChoice`, `Search`, `Text`, `Number`,
`Summary`), each saying when it applies (a predicate over the answers so far), how a typed
answer is read (a function that raises `DomainError` with the reason, usually from `models/`),
and what it asks. A handler module declares its form and what to do with the finished answers
(`finish`, inside the transaction that also ends the conversation); the engine owns everything
else, for every form at once:

- « Retour » (to the previous step asked), « Passer » on optional steps, « Annuler » and
  /annuler;
- a step with one possible answer is answered without asking;
- a step `offered` by the summary is not asked in turn: the summary shows it as a button (an
  optional answer the common path does without costs no tap), which asks it and comes back;
- a step's `effect` runs once it is answered (e.g. a document sent to the chat);
- `finish` may keep the form open at one step under what it shows (`Finished.again`: /stats'
  figures, then another period), and have something done once it is shown (`Finished.then`:
  the files that follow a message);
- a step's `accept` checks an answer against `models/` (the reason re-asks) and adds the answers
  later steps read (a person's label, whether they consented to notes);
- a form starts from its command and from the buttons that open it elsewhere (`also_on`), with
  the answers its `begin` already knows (the person of a card);
- a typed answer that names a button is that button (« femme », « F », « 26-44 », « oui »:
  case, accents and punctuation ignored);
- a refused answer: the reason and the same question, in one message;
- a button of another step or another form: « Ce bouton n'est plus actif », nothing changes;
- the write-ahead checkpoint (drafts, the conversation's state and the update's mark committed
  before the answer is shown), so restarts continue at the same step; idle drafts are ended by
  the housekeeping job (`bot.drafts.expired`), which the engine's `touch` keeps current;
- the member's messages typed at a sensitive step (phone, note) leave the chat: at once when
  refused, when the form ends (saved, cancelled, expired) otherwise.

The answers live in the draft as JSON (codes, numbers, ISO dates): they survive restarts.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import unicodedata
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, cast

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Chat, InlineKeyboardMarkup, Update, User
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import drafts, keyboards, sensitive, texts
from bot.callbacks import Nav, Pick
from bot.context import BotContext
from bot.persistence import Ahead, DatabasePersistence
from handlers.common import (
    delete_sensitive,
    notice,
    refuse_sensitive,
    remember_sensitive,
    send_forwardable,
    show,
    warn,
)
from models.base import Executes
from models.errors import DomainError

END: Final = ConversationHandler.END
Answers = dict[str, Any]
Option = tuple[str, str]  # (code, label)
ASKING: Final = "asking"  # the one ConversationHandler state: the step lives in the draft
VALUES, HISTORY, STEP, EDITING = "values", "history", "step", "editing"
MORE: Final = "_more"  # in the answers: the multiple choice whose « more » button was pressed
EDIT_LIST: Final = "_edit"  # the step shown by « Modifier »: which answer to change
USE_BUTTONS, NUMBER_REFUSED = "_use_buttons", "_number"  # refusals the engine words itself


@dataclass(frozen=True)
class Asked:
    """What a step's functions may read besides the answers: the member's context, today."""

    context: BotContext
    answers: Answers

    @property
    def today(self) -> dt.date:
        return self.context.services.today()


Options = Sequence[Option] | Callable[[Asked], Awaitable[Sequence[Option]]]
Reader = Callable[[str, Asked], Any]  # may be async (a search)
Accept = Callable[[Any, Asked], Awaitable["Answers"]]


@dataclass(frozen=True)
class Narrowed:
    """What a `Search` step's `read` gives for a typed search: answers to keep (the query),
    then the same step is asked again with the options they narrow to."""

    answers: Answers


def always(_: Answers) -> bool:
    """The default `applies`: the step is always asked."""
    return True


@dataclass(frozen=True, kw_only=True)
class Step:
    """What every step has: a name (the answer's key), a prompt, when it applies, and whether
    it may be skipped (« Passer ») or holds personal data typed by the member (deleted)."""

    name: str
    prompt: str | Callable[[Asked], str]
    title: str = ""  # the answer's name in « Modifier » (and the summary)
    applies: Callable[[Answers], bool] = always
    optional: bool = False
    skip: str = texts.SKIP  # the label of « Passer » (« Effacer » for a value to remove)
    sensitive: bool = False
    resets: tuple[str, ...] = ()  # answers a change of this one makes meaningless
    # Once answered: may change the answers (they are the draft's) and name the step to go to
    # instead of the next one (a loop back, as after adding a new partner to a list).
    after: Callable[[Answers], str | None] | None = None
    # Not asked in turn: the summary offers it as a button (its title), asks it, comes back.
    offered: bool = False
    # Once answered, before the next question: what it does besides keeping the answer (it may
    # change the answers); True when it posted messages, the next question then comes below
    # them instead of replacing the pressed one.
    effect: Callable[[Update, BotContext, Answers], Awaitable[bool]] | None = None
    # Before an answer is kept (pressed, typed, or the only one possible): checks it (raise
    # `DomainError`: the reason, and the step is asked again) and gives more answers to keep
    # with it, for later steps' prompts and `applies` (a person's label, their consent).
    accept: Accept | None = None

    def question(self, asked: Asked) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt(asked)


@dataclass(frozen=True, kw_only=True)
class Text(Step):
    """A typed answer, read (and refused with a reason) by `read`."""

    read: Reader


@dataclass(frozen=True, kw_only=True)
class Choice(Step):
    """One button among `options`; a typed answer naming one is accepted, and `read` (when
    given) reads any other typed answer (a date, a code...). `more` is one more button, not an
    answer: it notes `MORE` in the answers and goes on (the steps that add an option apply when
    it is there); a step whose only answer is that one option is still answered alone."""

    options: Options
    columns: int = 2
    read: Reader | None = None
    more: Option | None = None

    async def listed(self, asked: Asked) -> list[Option]:
        found = self.options if isinstance(self.options, Sequence) else await self.options(asked)
        return list(found)


@dataclass(frozen=True, kw_only=True)
class MultiChoice(Choice):
    """Buttons toggled on and off, closed by « Valider (n) »; typed answers toggle too.
    `more` is one more button that closes the step too, noting `MORE` in the answers (the
    steps that add an option apply when it is there)."""

    columns: int = 1


@dataclass(frozen=True, kw_only=True)
class Search(Choice):
    """A choice among what a typed search finds (one of my people): typed text always goes to
    `read` (never matched to a button), which gives `Narrowed` answers or refuses with the
    reason (« aucune personne »); never answered alone, even with one option: the member
    says who."""


@dataclass(frozen=True, kw_only=True)
class Summary(Step):
    """The last check: every answer, as `text` gives it, with Enregistrer, Modifier (the
    steps answered, one to ask again) and Annuler."""

    text: Callable[[Asked], Awaitable[str]]
    prompt: str = ""
    save: str = texts.NEW_SAVE


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
class Picked:
    """A typed answer that names one of the step's buttons."""

    code: str


@dataclass(frozen=True)
class Finished:
    """What the form shows once saved, and the buttons offered next (none: the end);
    `forwardable`: a message of its own that may be forwarded and copied (an invitation). With
    `again`, the form is not over: that step is asked again under `text`, every answer kept
    (/stats: the figures, then another period, or « Retour » to another scope). `then` runs
    once `text` is shown (the files that follow it, an export built in the background)."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    forwardable: bool = False
    again: str | None = None
    then: Callable[[Update], Awaitable[None]] | None = None


Begin = Callable[[Update, BotContext], Awaitable[Answers]]
Finish = Callable[[BotContext, Answers, AsyncSession], Awaitable[Finished]]
# A save that only writes, as one synchronous function on a database connection: `finish`'s
# alternative for the form's most frequent end (bot.persistence.save_ahead). None: `finish`.
Save = Callable[[BotContext, Answers], Awaitable[Callable[[Executes], Finished] | None]]


async def no_precondition(update: Update, context: BotContext) -> Answers:
    """The default `begin`: anyone the command is open to starts with no answers."""
    return {}


@dataclass(frozen=True)
class Form:
    """A conversation, declared: its key (draft and callback prefix), command, steps, and what
    `finish` does with the answers (inside the transaction that ends the conversation: raise
    `DomainError` to refuse, and the last step is asked again with the reason). `begin` gives
    the first answers, or raises `DomainError` to refuse to start (the reason is said). A form
    started from a button (`starts_on`, a callback data pattern) names in `command` the command
    to run again when its draft is gone. `also_on` are the patterns of buttons that start the
    form too, besides its command (a card's « Orienter », « Nouvelle personne » under the one
    just saved): `begin` reads the button pressed and gives what it already knows (the person).
    `save`, when it gives a function (synchronous, on a database connection), ends the form
    instead of `finish`: that function checks and writes the record and says what to show, in
    the transaction of the write-ahead, which on a SQLite file runs in the loop's thread
    without the async engine's hand-offs (/nouveau's save: issue 18, docs/performance.md)."""

    key: str
    command: str
    steps: tuple[Step, ...]
    finish: Finish
    begin: Begin = no_precondition
    starts_on: str | None = None
    also_on: tuple[str, ...] = ()
    conversation: str = field(default="")
    save: Save | None = None

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
        return next((s for s in self.steps[start:] if s.applies(answers) and not s.offered), None)

    def offered(self, answers: Answers) -> list[Step]:
        """The steps the summary offers as buttons, given the answers so far."""
        return [s for s in self.steps if s.offered and s.applies(answers)]


# --- The draft and the write-ahead checkpoint ------------------------------------------------
def begin_draft(update: Update, context: BotContext, form: str) -> dict[str, Any]:
    """A fresh draft for `form`, replacing any earlier one (whose messages holding a phone or
    a note are still to delete), bound to this chat."""
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else context.member.telegram_user_id
    previous = drafts.get(context.member_data, form)
    draft = drafts.start(context.member_data, form, now=context.services.clock(), chat_id=chat_id)
    sensitive.carry_over(previous, draft)
    return draft


async def checkpoint(
    update: Update,
    context: BotContext,
    *,
    conversation: str,
    state: object,
    session: AsyncSession | None = None,
    without: str | None = None,
) -> None:
    """Commit the drafts, the conversation's next state and the update as handled *before*
    answering.

    PTB writes persistence after the callback returns; a process killed between our answer
    and that write would forget an answer the user saw accepted. Writing ahead closes that
    window (PTB's own pass afterwards finds nothing new to write). With `session`, the writes
    join the caller's transaction (the one that saves the record): the record, the end of the
    conversation and the update's mark commit together, so a redelivered update saves nothing
    twice.
    """
    if update.effective_chat is None or update.effective_user is None:
        return
    data = context.member_data  # serialised and encrypted at once: no copy needed
    if without is not None:
        data = _without(data, without)
    ahead = _ahead(update, data, conversation, None if state == END else state)
    await _persistence(context).write_ahead(ahead, session=session)
    context.processed_recorded = True


def _ahead(update: Update, data: dict[str, Any], conversation: str, state: object) -> Ahead:
    """This update's write-ahead: the member's drafts and the conversation's next state in
    their chat."""
    chat, user = cast(Chat, update.effective_chat), cast(User, update.effective_user)
    return Ahead(
        user_id=user.id, data=data, conversation=conversation, key=(chat.id, user.id),
        state=state, update_id=update.update_id,
    )  # fmt: skip


def _persistence(context: BotContext) -> DatabasePersistence:
    return cast(DatabasePersistence, context.application.persistence)


def _without(data: dict[str, Any], form: str) -> dict[str, Any]:
    """A member's data minus one draft (its own dicts left alone)."""
    data = {**data, drafts.DRAFTS_KEY: dict(data.get(drafts.DRAFTS_KEY, {}))}
    drafts.drop(data, form)
    return data


async def save_ahead(
    update: Update,
    context: BotContext,
    write: Callable[[Executes], Finished],
    *,
    conversation: str,
    without: str,
) -> Finished:
    """`write` (a record's checks and writes) committed with the drafts without the form's
    (`without`), the end of the conversation and the update's mark, before answering."""
    if update.effective_chat is None or update.effective_user is None:
        raise RuntimeError("a form is saved from a user's chat")
    data = _without(context.member_data, without)
    ahead = _ahead(update, data, conversation, None)
    done = await _persistence(context).save_ahead(write, ahead)
    context.processed_recorded = True
    return done


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

    _keys: ClassVar[dict[str, Form]] = {}  # each form's key, once: it names its draft, buttons

    def __init__(self, form: Form) -> None:
        owner = FormEngine._keys.setdefault(form.key, form)
        if owner is not form:  # two forms sharing a draft would overwrite each other's answers
            raise ValueError(
                f"two forms use the key {form.key!r}: {owner.command}, {form.command}"
            )
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
            entry_points=[
                CallbackQueryHandler(self.start, pattern=self.form.starts_on)
                if self.form.starts_on
                else CommandHandler(self.form.command, self.start),
                *(CallbackQueryHandler(self.start, pattern=p) for p in self.form.also_on),
            ],
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
        """The command (or button): check the precondition, then ask the first step."""
        try:
            begun = await self.form.begin(update, context)
        except DomainError as error:
            await notice(update, texts.domain_error(error.key, error.params))
            return END
        draft = begin_draft(update, context, self.form.key)
        draft.update({VALUES: dict(begun), HISTORY: []})
        first = self.form.next_after(None, draft[VALUES])
        return await self.ask(update, context, draft, first, edit=False)  # a card stays as it is

    # Asking ------------------------------------------------------------------------------
    async def ask(
        self,
        update: Update,
        context: BotContext,
        draft: dict[str, Any],
        step: Step | None,
        *,
        edit: bool | None = None,
    ) -> object:
        """Show `step` (answering it at once when it has one possible answer), or finish. A
        pressed button's message becomes the question, unless `edit` is False."""
        while step is not None and self.single(step):
            options = await step.listed(Asked(context, draft[VALUES]))  # type: ignore[attr-defined]
            if len(options) != 1:
                break
            await self.keep(context, draft, step, options[0][0])  # one answer possible
            step = self.following(draft, step)
        if step is None:
            return await self.finish(update, context, draft)
        draft[STEP] = step.name
        await checkpoint(update, context, conversation=self.form.conversation, state=ASKING)
        asked = Asked(context, draft[VALUES])
        back = bool(draft[HISTORY]) or bool(draft.get(EDITING))
        if isinstance(step, Summary):
            text, markup = await step.text(asked), self.summary_keyboard(step, asked.answers)
        else:
            text, markup = step.question(asked), await self.keyboard(step, asked, back=back)
        if edit is None:
            edit = update.callback_query is not None
        await show(update, text, markup, edit=edit)
        return ASKING

    @staticmethod
    def single(step: Step) -> bool:
        """Whether `step` is answered alone when it has one option (a plain, required choice)."""
        return type(step) is Choice and not step.optional

    async def keyboard(self, step: Step, asked: Asked, *, back: bool) -> InlineKeyboardMarkup:
        """The buttons of a step: its options, then Retour / Passer / Annuler."""
        key = self.form.key
        if not isinstance(step, Choice):
            return keyboards.nav_only(key, back=back, skip=step.skip if step.optional else None)
        multiple = isinstance(step, MultiChoice)
        return keyboards.choices(
            key,
            step.name,
            await step.listed(asked),
            columns=step.columns,
            selected=set(asked.answers.get(step.name) or ()) if multiple else None,
            back=back,
            validate=multiple,
            skip=step.skip if step.optional else None,
            more=step.more,
        )

    def summary_keyboard(self, step: Summary, answers: Answers) -> InlineKeyboardMarkup:
        """The steps it offers (one button each), then Enregistrer / Modifier / Annuler."""
        offered = [(s.name, s.title) for s in self.form.offered(answers)]
        return keyboards.summary(self.form.key, EDIT_LIST, offered, step.save)

    async def edit_list(
        self, update: Update, context: BotContext, draft: dict[str, Any]
    ) -> object:
        """« Modifier »: the steps answered, one button each."""
        draft[STEP] = EDIT_LIST
        await checkpoint(update, context, conversation=self.form.conversation, state=ASKING)
        markup = keyboards.choices(self.form.key, EDIT_LIST, self.editable(draft), back=True)
        await show(update, texts.NEW_EDIT_PROMPT, markup)
        return ASKING

    def editable(self, draft: dict[str, Any]) -> list[Option]:
        """(name, title) of each step asked and answered, in the form's order."""
        answers = draft[VALUES]
        return [
            (s.name, s.title or s.name)
            for s in self.form.steps
            if s.name in draft[HISTORY] and s.applies(answers) and not isinstance(s, Summary)
        ]

    async def keep(
        self, context: BotContext, draft: dict[str, Any], step: Step, value: object
    ) -> None:
        """Check an answer with the step's `accept` (which may refuse it: `DomainError`), then
        record it with the answers `accept` adds."""
        more: Answers = {}
        if step.accept is not None and value is not None:
            more = await step.accept(value, Asked(context, draft[VALUES]))
        self.record(draft, step, value)
        draft[VALUES].update(more)

    def record(self, draft: dict[str, Any], step: Step, value: object) -> None:
        """Keep an answer; forget those it makes meaningless."""
        answers = draft[VALUES]
        if answers.get(step.name) != value:
            for name in step.resets:
                answers.pop(name, None)
        answers[step.name] = value

    def following(self, draft: dict[str, Any], step: Step) -> Step | None:
        """The step after `step`: where its `after` leads; when changing one answer, the next
        step left unanswered, else the summary; otherwise the next that applies."""
        answers = draft[VALUES]
        if step.after is not None and (target := step.after(answers)) is not None:
            if target in draft[HISTORY]:  # a loop back: Retour then goes where it went first
                del draft[HISTORY][draft[HISTORY].index(target) :]
            return self.form.step(target)
        later = self.form.next_after(step.name, answers)
        if draft.get(EDITING):
            while later is not None and later.name in answers and not isinstance(later, Summary):
                later = self.form.next_after(later.name, answers)
            if later is None or isinstance(later, Summary):
                draft[EDITING] = False
        return later

    async def answered(
        self, update: Update, context: BotContext, draft: dict[str, Any], step: Step, value: object
    ) -> object:
        """Keep the answer (unless the step's `accept` refuses it) and ask the next step."""
        try:
            await self.keep(context, draft, step, value)
        except DomainError as error:
            return await self.again(update, context, draft, self.reason(step, error))
        if step.name not in draft[HISTORY]:
            draft[HISTORY].append(step.name)
        posted = step.effect is not None and await step.effect(update, context, draft[VALUES])
        edit = False if posted else None
        return await self.ask(update, context, draft, self.following(draft, step), edit=edit)

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
        """A button of the current step: an answer, a toggle, or the answer to change."""
        draft = await self.current(update, context)
        if draft is None:
            return END
        pick = Pick.pressed(update)
        from_summary = (
            pick is not None
            and pick.step == EDIT_LIST
            and draft[STEP] != EDIT_LIST
            and isinstance(self.form.step(draft[STEP]), Summary)
            and pick.value in {s.name for s in self.form.offered(draft[VALUES])}
        )
        if pick is None or (pick.step != draft[STEP] and not from_summary):
            await notice(update, texts.STALE_BUTTON)
            return None
        if pick.step == EDIT_LIST:
            if not from_summary and pick.value not in {name for name, _ in self.editable(draft)}:
                await notice(update, texts.STALE_BUTTON)
                return None
            draft[EDITING] = True
            return await self.ask(update, context, draft, self.form.step(pick.value))
        step = self.form.step(draft[STEP])
        if not isinstance(step, Choice):
            await notice(update, texts.STALE_BUTTON)
            return None
        if step.more is not None and pick.value == step.more[0]:
            draft[VALUES][MORE] = step.name
            if not isinstance(step, MultiChoice):
                return await self.answered(update, context, draft, step, None)
            chosen = list(draft[VALUES].get(step.name) or [])
            return await self.answered(update, context, draft, step, chosen)
        options = await step.listed(Asked(context, draft[VALUES]))
        if pick.value not in {code for code, _ in options}:
            await notice(update, texts.domain_error("choice_invalid"))
            return None
        return await self.chose(update, context, draft, step, pick.value)

    async def chose(
        self, update: Update, context: BotContext, draft: dict[str, Any], step: Choice, code: str
    ) -> object:
        """A listed option chosen (pressed or typed)."""
        if isinstance(step, MultiChoice):
            chosen = list(draft[VALUES].get(step.name) or [])
            chosen.remove(code) if code in chosen else chosen.append(code)
            draft[VALUES][step.name] = chosen
            return await self.ask(update, context, draft, step)
        value: object = int(code) if isinstance(step, Number) else code
        if draft[VALUES].get(MORE) == step.name:  # an option after all, not one more
            draft[VALUES].pop(MORE)
        return await self.answered(update, context, draft, step, value)

    async def on_text(self, update: Update, context: BotContext) -> object:
        """A typed answer: read by the step, or matched to one of its buttons. At a sensitive
        step, a refused message leaves the chat at once, a kept one when the form ends."""
        draft = await self.current(update, context)
        if draft is None:
            return END
        if draft[STEP] == EDIT_LIST:
            return await self.edit_list(update, context, draft)
        step = self.form.step(draft[STEP])
        message = update.effective_message
        try:
            value = await self.read(step, message.text if message else None, context, draft)
        except DomainError as error:
            if step.sensitive:
                await refuse_sensitive(update, context)
            return await self.again(update, context, draft, self.reason(step, error))
        if step.sensitive:
            remember_sensitive(update, draft)
        if isinstance(value, Narrowed):
            draft[VALUES].update(value.answers)
            return await self.ask(update, context, draft, step)
        if isinstance(step, Choice) and isinstance(value, Picked):
            return await self.chose(update, context, draft, step, value.code)
        return await self.answered(update, context, draft, step, value)

    async def read(
        self, step: Step, text: str | None, context: BotContext, draft: dict[str, Any]
    ) -> object:
        """What `text` answers to `step`: a button it names (`Picked`), or the step's reading
        of it; `DomainError` says why it is refused."""
        if not text:
            raise DomainError(USE_BUTTONS)
        asked = Asked(context, draft[VALUES])
        if isinstance(step, Choice) and not isinstance(step, Search):
            code = match_option(text, await step.listed(asked))
            if code is not None:
                return Picked(code)
        if isinstance(step, Number):
            number = step.read_number(text)
            if number is None:
                raise DomainError(NUMBER_REFUSED)
            return number
        read = step.read if isinstance(step, Text | Choice) else None
        if read is None:
            raise DomainError(USE_BUTTONS)
        value = read(text, asked)
        return await value if inspect.isawaitable(value) else value

    @staticmethod
    def reason(step: Step, error: DomainError) -> str:
        """Why a typed answer is refused, in French."""
        if error.key == USE_BUTTONS:  # no text (a photo...) at a typed step: text expected
            return texts.EXPECT_TEXT if isinstance(step, Text) else texts.USE_BUTTONS
        if error.key == NUMBER_REFUSED and isinstance(step, Number):
            return step.invalid.format(minimum=step.minimum, limit=step.maximum)
        return texts.domain_error(error.key, error.params)

    async def on_nav(self, update: Update, context: BotContext) -> object:
        """Retour, Passer, Valider, Enregistrer, Modifier, Annuler."""
        nav = Nav.pressed(update)
        action = nav.action if nav is not None else None
        if action == "cancel":
            return await self.cancel(update, context)
        draft = await self.current(update, context)
        if draft is None:
            return END
        name = draft[STEP]
        step = None if name == EDIT_LIST else self.form.step(name)
        if action == "back":
            return await self.back(update, context, draft)
        if action == "skip" and step is not None and step.optional:
            return await self.answered(update, context, draft, step, None)
        if action == "done" and isinstance(step, MultiChoice):
            chosen = list(draft[VALUES].get(step.name) or [])
            return await self.answered(update, context, draft, step, chosen)
        if action == "edit" and isinstance(step, Summary):
            return await self.edit_list(update, context, draft)
        if action == "save" and isinstance(step, Summary):
            return await self.finish(update, context, draft)
        await notice(update, texts.STALE_BUTTON)
        return None

    async def back(self, update: Update, context: BotContext, draft: dict[str, Any]) -> object:
        """One step back; while changing an answer, back to the summary."""
        summary = next((s for s in self.form.steps if isinstance(s, Summary)), None)
        if (draft.get(EDITING) or draft[STEP] == EDIT_LIST) and summary is not None:
            draft[EDITING] = False
            return await self.ask(update, context, draft, summary)
        if not draft[HISTORY]:
            await notice(update, texts.STALE_BUTTON)
            return None
        return await self.ask(update, context, draft, self.form.step(draft[HISTORY].pop()))

    async def cancel(self, update: Update, context: BotContext) -> object:
        """Abandon the form; nothing is saved, typed personal data is deleted. A form left open
        under what it showed (/stats' figures) is closed: the text stays, its buttons go."""
        draft = drafts.drop(context.member_data, self.form.key)
        await checkpoint(update, context, conversation=self.form.conversation, state=END)
        if draft is not None:
            await delete_sensitive(update, context, draft)
        query = update.callback_query
        if draft is not None and draft.get(drafts.SHOWN) and query is not None:
            await query.answer()
            await query.edit_message_reply_markup(None)
            return END
        await show(update, texts.CANCELLED)
        return END

    # Saving ------------------------------------------------------------------------------
    async def finish(self, update: Update, context: BotContext, draft: dict[str, Any]) -> object:
        """Save through `finish`, in one transaction with the end of the conversation; a
        refusal asks the last step again with its reason."""
        try:
            write = await self.form.save(context, draft[VALUES]) if self.form.save else None
            if write is not None:
                done = await save_ahead(
                    update, context, self._ending(write), conversation=self.form.conversation,
                    without=self.form.key,
                )  # fmt: skip
            else:
                done = await self.finish_in_session(update, context, draft)
        except DomainError as error:
            warn(texts.domain_error(error.key, error.params))
            if draft[STEP] in draft[VALUES] or draft[STEP] == EDIT_LIST:  # last step answered
                draft[STEP] = draft[HISTORY].pop() if draft[HISTORY] else self.form.steps[0].name
            return await self.ask(update, context, draft, self.form.step(draft[STEP]))
        edit = update.callback_query is not None
        if done.again is not None:  # the step asked again under the text
            step, asked = self.form.step(draft[STEP]), Asked(context, draft[VALUES])
            markup = await self.keyboard(step, asked, back=bool(draft[HISTORY]))
            await show(update, done.text, markup, edit=edit)
        else:
            drafts.drop(context.member_data, self.form.key)
            await delete_sensitive(update, context, draft)
            if done.forwardable:
                await send_forwardable(update, done.text, done.markup)
            else:
                await show(update, done.text, done.markup, edit=edit)
        if done.then is not None:
            await done.then(update)
        return END if done.again is None else ASKING

    def _ending(self, write: Callable[[Executes], Finished]) -> Callable[[Executes], Finished]:
        """`write`, refused inside its transaction (rolled back) when it would leave the form
        open: a `save` ends the conversation in the same commit."""

        def checked(connection: Executes) -> Finished:
            done = write(connection)
            if done.again is not None:
                raise ValueError(f"form {self.form.key}: `again` is for `finish` only")
            return done

        return checked

    async def finish_in_session(
        self, update: Update, context: BotContext, draft: dict[str, Any]
    ) -> Finished:
        """`finish` and the write-ahead in one transaction of the async engine."""
        async with context.services.sessions.begin() as session:
            done = await self.form.finish(context, draft[VALUES], session)
            if done.again is not None:  # open still, at that step, in the same commit
                self.reopen(draft, self.form.step(done.again))
            await checkpoint(
                update, context, conversation=self.form.conversation,
                state=END if done.again is None else ASKING, session=session,
                without=self.form.key if done.again is None else None,
            )  # fmt: skip
        return done

    @staticmethod
    def reopen(draft: dict[str, Any], step: Step) -> None:
        """The form stays open at `step` once `finish` has shown its text: « Retour » goes
        where it went before that step, and its expiry says nothing (nothing is lost)."""
        if step.name in draft[HISTORY]:
            del draft[HISTORY][draft[HISTORY].index(step.name) :]
        draft[STEP], draft[drafts.SHOWN] = step.name, True
