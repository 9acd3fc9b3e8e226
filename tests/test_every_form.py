"""Every form of the bot, walked with hypothesis-chosen answers (issue #14, « what must show »).

The forms are discovered in the real Application (every `ConversationHandler` whose entry point
is a `FormEngine`'s): a form ported later is walked without editing this file. The walker
looks at what the member sees (the last message's buttons) and, at each step, does one of:
tap a button, type the button's name (case, accents changed, or a short prefix such as « F »),
type a free answer (a date, a time, a name...), type garbage or send a photo, tap « Retour »,
« Passer », « Modifier » on the summary, or restart the bot (a new Application over the same
database, the old one killed). A typed button name must be that button; a free answer is
predicted by the engine's own reading (what it keeps, or refused), and kept as chosen.

Checks, for every form: `finish` is called once, with exactly the answers chosen for the steps
that apply; a refused answer leaves the step as it was. Per form, where practical, an oracle
reads the stored row back (`ORACLES`). A form started from a button needs a way to start it
(`STARTERS`); a form started by its command is started by the first role its `begin` accepts.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import undefer
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import ConversationHandler

from bot import texts
from bot.app import BotApplication, build_application
from bot.callbacks import EventRef, Nav, PartnerRef, PeopleView, Pick
from bot.context import BotContext, services_of
from bot.db import Sessions, make_sessions
from bot.settings import Settings
from handlers.forms import (
    EDIT_LIST,
    HISTORY,
    STEP,
    VALUES,
    Answers,
    Form,
    FormEngine,
    MultiChoice,
    Number,
    Picked,
    Step,
    Summary,
    match_option,
    plain,
)
from handlers.people import halves
from models import botstate, events, periods, reference
from models.base import pk
from models.botstate import DRAFTS_KEY
from models.errors import DomainError
from models.events import Event, EventDraft, EventPartner, Registration
from models.orientations import Interaction, Orientation
from models.outreach import OutreachAction
from models.people import Person, PersonBarrier, clean_first_name, person_code
from models.reference import Neighbourhood, Partner
from models.team import Invitation, Member, Role
from tests.conftest import TOKEN, Clock, User, add_member, engage_person, kill
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_reporting import export_files


# --- Discovery -------------------------------------------------------------------------------
def engines_of(app: BotApplication) -> list[FormEngine]:
    """The engine of every form registered in `app`."""
    found = []
    for group in app.handlers.values():
        for handler in group:
            if not isinstance(handler, ConversationHandler):
                continue
            owners = {getattr(entry.callback, "__self__", None) for entry in handler.entry_points}
            found += [owner for owner in owners if isinstance(owner, FormEngine)]
    return found


def registered_forms() -> dict[str, Form]:
    """The forms of the real Application (built, never started: no database is touched)."""
    built = build_application(
        Settings(_env_file=None, telegram_bot_token=TOKEN),  # type: ignore[call-arg]
        make_sessions(create_async_engine("sqlite+aiosqlite://")),
        request=RecordingRequest(FakeBotAPI()),
    )
    return {engine.form.key: engine.form for engine in engines_of(built)}


FORMS = registered_forms()


def test_the_forms_are_discovered_in_the_application() -> None:
    """The walk below covers at least the forms on the engine when it was written."""
    assert {"inf", "evt", "par", "evi", "ex", "xp"} <= set(FORMS)


def test_two_forms_cannot_share_a_draft() -> None:
    """/sortie and /export once both had the key « ex »: the walk saw one of them only, and a
    member in the middle of one would have had the other's answers in their draft."""
    sortie = FORMS["ex"]
    with pytest.raises(ValueError, match="two forms use the key 'ex'"):
        FormEngine(dataclasses.replace(sortie, command="autre"))
    assert FormEngine(sortie).form is sortie  # the same form again (a rebuilt app) is fine


# --- One walk's world ------------------------------------------------------------------------
@dataclasses.dataclass
class World:
    """The bot as a member meets it during one walk; `restart` replaces the Application."""

    settings: Settings
    sessions: Sessions
    clock: Clock
    api: FakeBotAPI
    app: BotApplication
    saved: list[tuple[str, Answers]]
    member: Member | None = None
    user: User | None = None
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)
    originals: dict[FormEngine, Form] = dataclasses.field(default_factory=dict)

    @classmethod
    async def open(
        cls, settings: Settings, sessions: Sessions, clock: Clock, api: FakeBotAPI
    ) -> World:
        world = cls(settings, sessions, clock, api, None, [])  # type: ignore[arg-type]
        world.app = await world.new_app()
        return world

    async def new_app(self) -> BotApplication:
        """A new Application whose forms' `finish` and `save` report the answers they were
        given."""
        app = build_application(
            self.settings, self.sessions, request=RecordingRequest(self.api), clock=self.clock
        )
        for engine in engines_of(app):  # an engine may be shared by every Application built
            form = self.originals.setdefault(engine, engine.form)
            engine.form = dataclasses.replace(
                form, finish=self.spy(form), save=self.spy_save(form) if form.save else None
            )
        await app.initialize()
        return app

    def spy(self, form: Form) -> Callable[..., Awaitable[Any]]:
        original = form.finish

        async def finish(context: BotContext, answers: Answers, session: AsyncSession) -> Any:
            done = await original(context, answers, session)
            self.saved.append((form.key, copy.deepcopy(answers)))
            return done

        return finish

    def spy_save(self, form: Form) -> Callable[..., Awaitable[Any]]:
        original = form.save
        assert original is not None

        async def save(context: BotContext, answers: Answers) -> Any:
            write = await original(context, answers)
            if write is None:
                return None

            def spied(connection: Connection) -> Any:
                done = write(connection)
                self.saved.append((form.key, copy.deepcopy(answers)))
                return done

            return spied

        return save

    async def restart(self) -> None:
        """The bot killed (no shutdown, no flush) and started again over the same database."""
        kill(self.app)
        self.app = await self.new_app()
        assert self.user is not None
        self.user = User(self.app, self.api, self.user.id)

    async def close(self) -> None:
        for engine, form in self.originals.items():
            engine.form = form
        await self.app.shutdown()

    async def as_member(self, role: Role, **extra: Any) -> User:
        member, user_id = await add_member(
            self.sessions, self.clock, role=role, name=NAMES[role], **extra
        )
        self.member, self.user = member, User(self.app, self.api, user_id)
        return self.user

    async def draft(self, form: Form) -> dict[str, Any] | None:
        """The form's draft as the database holds it (what a restarted bot continues from)."""
        assert self.user is not None
        user = self.user.id
        async with self.sessions() as session:
            found = await botstate.load_chat_state(
                connection=await session.connection(), user_id=user, key=(user, user)
            )
        return (found.user_data or {}).get(DRAFTS_KEY, {}).get(form.key)


NAMES = {
    Role.MEDIATOR: "Samia Benali",
    Role.COORDINATOR: "Claire Martin",
    Role.PROJECT_OFFICER: "Nadia Kaci",
}
NO_AREA: dict[Role, dict[str, Any]] = {
    Role.COORDINATOR: {"neighbourhood": None},
    Role.PROJECT_OFFICER: {"neighbourhood": None},
}


# --- Starting a form -------------------------------------------------------------------------
async def start_by_command(world: World, form: Form, data: st.DataObject) -> None:
    """The first role (mediator, coordinator, project officer) whose `begin` accepts."""
    for role in (Role.MEDIATOR, Role.COORDINATOR, Role.PROJECT_OFFICER):
        user = await world.as_member(role, **NO_AREA.get(role, {}))
        if role is Role.MEDIATOR:  # someone to orient, contact, close...
            assert world.member is not None
            world.notes["person"] = await engage_person(
                world.sessions, world.clock, world.member, "Awa"
            )
        await user.send(f"/{form.command}")
        if await world.draft(form) is not None:
            return
    pytest.fail(f"no role may start /{form.command}")


async def start_partner_edit(world: World, form: Form, data: st.DataObject) -> None:
    """A coordinator's « Nom », « Téléphone »... of a partner, or « Ajouter un partenaire »."""
    user = await world.as_member(Role.COORDINATOR, neighbourhood=None)
    await user.send("/partenaires")
    async with world.sessions() as session:
        partners = await reference.partners(session=session)
    world.notes["known"] = {p.name.casefold() for p in partners}
    if data.draw(st.booleans(), label="add a partner"):
        category = data.draw(st.sampled_from(sorted({p.category for p in partners})))
        world.notes.update(category=category)
        ref = PartnerRef("add", category, "-")
    else:
        partner = data.draw(st.sampled_from(partners), label="partner")
        field = data.draw(st.sampled_from(sorted(texts.PARTNER_CONTACT_FIELDS)), label="field")
        world.notes.update(partner=pk(partner), field=field)
        ref = PartnerRef("field", str(pk(partner)), field)
    await user.press(ref.pack())


async def start_event_input(world: World, form: Form, data: st.DataObject) -> None:
    """On an event's card: a person's code to register, the headcount or the summary."""
    mediator, _ = await add_member(world.sessions, world.clock, name="Samia Benali")
    person = await engage_person(world.sessions, world.clock, mediator, "Awa")
    user = await world.as_member(Role.COORDINATOR, neighbourhood=None)
    assert world.member is not None
    async with world.sessions.begin() as session:
        area = (await session.exec(select(Neighbourhood))).first()
        assert area is not None
        event = await events.create_event(
            session=session,
            member=world.member,
            draft=EventDraft(
                kind="forum",
                title="Forum",
                starts_at=world.clock() - dt.timedelta(hours=1),  # attendance may be recorded
                neighbourhood_id=pk(area),
                place="Mairie",
                theme="",
                partner_ids=[],
            ),
            now=world.clock(),
        )
    what = data.draw(st.sampled_from(["ask_code", "ask_headcount", "ask_summary"]), label="ask")
    world.notes.update(event=pk(event), person=person, typed=(person_code(person),))
    await user.send("/agenda")
    await user.press(EventRef(what, pk(event), 0).pack())


async def start_people_search(world: World, form: Form, data: st.DataObject) -> None:
    """/personnes, then « 🔎 Chercher » (a mediator who follows Awa)."""
    user = await world.as_member(Role.MEDIATOR)
    assert world.member is not None
    await engage_person(world.sessions, world.clock, world.member, "Awa")
    await user.send("/personnes")
    await user.press(PeopleView("find").pack())


async def start_stats(world: World, form: Form, data: st.DataObject) -> None:
    """/stats as a coordinator (scope, then a neighbourhood or one of two mediators) or as a
    mediator (their own figures: the period only)."""
    for name in ("Karim Haddad", "Lina Morel"):
        await add_member(world.sessions, world.clock, name=name)
    role = data.draw(st.sampled_from([Role.COORDINATOR, Role.MEDIATOR]), label="role")
    user = await world.as_member(role, **NO_AREA.get(role, {}))
    world.notes["typed"] = ("T1 2026", "01/02/2026-28/02/2026", "31/02/2026-01/03/2026")
    await user.send("/stats")


STARTERS: dict[str, Callable[[World, Form, st.DataObject], Awaitable[None]]] = {
    "pq": start_people_search,
    "par": start_partner_edit,
    "evi": start_event_input,
    "st": start_stats,
}


# --- What may be typed -----------------------------------------------------------------------
# Free answers tried at a typed step (the first few its reading accepts are offered), and
# garbage (typed where a button or a precise value is expected; predicted like any answer).
TYPED = (
    "Café du quartier", "29/03", "28/03/2026", "demain", "hier", "08/03", "14h30", "9h",
    "18:00", "Mairie du 14e", "Boulangerie Dupont", "Emploi et formation", "Léa Durand",
    "Chargée de relations", "01 45 67 89 10", "contact@exemple.fr", "Par courriel", "12",
    "Forum très utile, 6 situations changées", "Awa", "femme", "26-44", "H 45-54",
)  # fmt: skip
GARBAGE = ("zzqx ???", "🙂", "-1", "99999999", "...", "P-99999")
NO_TEXT = object()  # a photo instead of a text


def variants(label: str, options: list[tuple[str, str]], code: str) -> list[str]:
    """Ways to type the button `label`: the label in any case, without its accents (always
    the button, by the engine's rule, unless another button has the same plain label), and
    the prefixes that name it alone (« F » for Femme)."""
    bare = plain(label)
    if [plain(other) for _, other in options].count(bare) != 1:
        return []
    whole = [label, label.upper(), label.lower(), bare, bare.upper()]
    prefixes = [bare[:n] for n in range(1, len(bare)) if match_option(bare[:n], options) == code]
    return list(dict.fromkeys(w for w in [*whole, *prefixes] if w.strip()))


REFUSED, UNKNOWN = object(), object()
PLAIN = str | int | float | list | dict | None  # what a draft keeps (JSON)


async def predict(world: World, form: Form, step: Step, text: str, answers: Answers) -> object:
    """What the engine keeps for `text` at `step`, by its own reading (a button named, else the
    step's reading), REFUSED, or UNKNOWN for what is not an answer to keep (a search that only
    narrows the buttons, say)."""
    engine = next(e for e in engines_of(world.app) if e.form.key == form.key)
    context = SimpleNamespace(  # a step's reading may read (the duplicate check: persistence)
        services=services_of(world.app), member=world.member, application=world.app
    )
    try:
        value = await engine.read(step, text, cast(BotContext, context), {VALUES: answers})
    except DomainError:
        return REFUSED
    if isinstance(value, Picked):
        return int(value.code) if isinstance(step, Number) else value.code
    return value if isinstance(value, PLAIN) else UNKNOWN


# --- The walk --------------------------------------------------------------------------------
@dataclasses.dataclass
class Walk:
    world: World
    form: Form
    data: st.DataObject
    chosen: Answers = dataclasses.field(default_factory=dict)
    noise: int = 0  # detours taken (Retour, garbage, restarts, Modifier...)
    trace: list[str] = dataclasses.field(default_factory=list)  # what was done, for a failure

    async def run(self) -> None:
        for _ in range(120):
            draft = await self.world.draft(self.form)
            if draft is None or self.world.saved:  # saved: done, even if left open (/stats)
                return
            await self.act(draft)
        pytest.fail(f"form {self.form.key}: not finished after 120 actions: {self.trace[-12:]}")

    def keyboard(self) -> list[dict[str, Any]]:
        assert self.world.user is not None
        return [b for b in self.world.user.last.buttons() if "callback_data" in b]

    def picks(self, step: str) -> list[tuple[str, str]]:
        """(code, label) of the buttons of `step` on the last message (the ✅ mark taken off)."""
        found = []
        for button in self.keyboard():
            pick = Pick.unpack(button["callback_data"])
            if pick is not None and pick.form == self.form.key and pick.step == step:
                found.append((pick.value, button["text"].removeprefix("✅ ")))
        return found

    def nav(self, action: str) -> str | None:
        data = Nav(self.form.key, action).pack()
        return next(
            (b["callback_data"] for b in self.keyboard() if b["callback_data"] == data), None
        )

    async def press(self, data: str) -> None:
        assert self.world.user is not None
        await self.world.user.press(data)
        self.trace.append(f"{data} → {self.world.user.last.text[:60]!r}")

    async def type(self, text: object) -> None:
        assert self.world.user is not None
        if text is NO_TEXT:
            await self.world.user.send_photo()
        else:
            await self.world.user.send(cast(str, text))
        self.trace.append(f"{text!r} → {self.world.user.last.text[:60]!r}")

    def detour(self) -> bool:
        """Whether to take a detour now (a few per walk at most)."""
        if self.noise >= 6:
            return False
        if self.data.draw(st.integers(0, 3), label="detour?") != 3:  # 0, the simplest: onwards
            return False
        self.noise += 1
        return True

    async def act(self, draft: dict[str, Any]) -> None:
        name = draft[STEP]
        if self.detour():
            kind = self.data.draw(st.sampled_from(["back", "garbage", "restart"]), label="detour")
            if kind == "restart":
                await self.world.restart()
                self.trace.append("restart")
                return
            if kind == "back" and (back := self.nav("back")) is not None:
                await self.press(back)
                return
            if kind == "garbage" and name != EDIT_LIST:
                await self.garbage(draft)
                await self.declared_changes(name)
                return
        if name == EDIT_LIST:  # « Modifier »: which answer to change
            options = self.picks(EDIT_LIST)
            code = self.data.draw(st.sampled_from([c for c, _ in options]), label="change")
            await self.press(Pick(self.form.key, EDIT_LIST, code).pack())
            return
        step = self.form.step(name)
        if isinstance(step, Summary):
            edit = self.nav("edit")
            if edit is not None and self.detour():
                await self.press(edit)
            else:
                save = self.nav("save")
                assert save is not None, f"{self.form.key}: no save button on the summary"
                await self.press(save)
            return
        await self.answer(draft, step)
        await self.declared_changes(name)

    async def declared_changes(self, name: str) -> None:
        """A step that declares it changes the answers once answered (`after`, `effect`,
        `accept`, or a « more » button: a partner typed in replaces the « other » button
        chosen; `resets`: a category changed in « Modifier » to one with a single partner has
        that partner answered by the engine): what it changed is taken as chosen."""
        step = self.form.step(name)
        hooks = ("after", "effect", "accept", "more", "resets")  # resets: a dependent step
        if not any(getattr(step, hook, None) for hook in hooks):  # may be answered alone again
            return
        draft = await self.world.draft(self.form)
        if draft is not None:
            for key in self.chosen:
                self.chosen[key] = draft[VALUES].get(key)

    async def garbage(self, draft: dict[str, Any]) -> None:
        """Something no step should take as meant; predicted, and checked when refused."""
        step = self.form.step(draft[STEP])
        text = self.data.draw(st.sampled_from([*GARBAGE, NO_TEXT]), label="garbage")
        before = copy.deepcopy(draft[VALUES])
        expected = (
            REFUSED
            if text is NO_TEXT
            else await predict(self.world, self.form, step, cast(str, text), before)
        )
        if expected is UNKNOWN or (isinstance(step, MultiChoice) and expected is not REFUSED):
            return  # a typed toggle or a search: not garbage after all
        await self.type(text)
        if expected is REFUSED:
            after = await self.world.draft(self.form)
            assert after is not None, f"{self.form.key}.{step.name}: refused input ended the form"
            assert after[STEP] == step.name, f"{self.form.key}.{step.name}: refused input moved"
            assert after[VALUES] == before, f"{self.form.key}.{step.name}: refused input kept"
        else:
            self.chosen[step.name] = expected

    async def answer(self, draft: dict[str, Any], step: Step) -> None:
        """Answer `step` as a member would: a button, its typed name, or a typed value."""
        data, options = self.data, self.picks(step.name)
        if step.optional and self.nav("skip") and data.draw(st.integers(0, 3), label="skip") == 0:
            await self.press(cast(str, self.nav("skip")))
            self.chosen[step.name] = None
            return
        if isinstance(step, MultiChoice):
            await self.toggle(step, options)
            return
        answers = copy.deepcopy(draft[VALUES])
        candidates = (*self.world.notes.get("typed", ()), *TYPED)
        readings = {t: await predict(self.world, self.form, step, t, answers) for t in candidates}
        typed = [
            t for t, value in readings.items() if value is not REFUSED and value is not UNKNOWN
        ]
        ways = (["tap", "say"] if options else []) + (["type"] if typed else [])
        assert ways, f"{self.form.key}.{step.name}: nothing to answer (add a value to TYPED)"
        way = data.draw(st.sampled_from(ways), label="how")
        if way == "type":
            text = data.draw(st.sampled_from(typed), label="typed")
            self.chosen[step.name] = readings[text]
            await self.type(text)
            return
        code, label = data.draw(st.sampled_from(options), label="button")
        self.chosen[step.name] = int(code) if isinstance(step, Number) else code
        if way == "say" and (said := variants(label, options, code)):
            await self.type(data.draw(st.sampled_from(said), label="said"))
        else:
            await self.press(Pick(self.form.key, step.name, code).pack())

    async def toggle(self, step: MultiChoice, options: list[tuple[str, str]]) -> None:
        """Toggle a few options on and off (taps or typed names), then « Valider », or the
        step's « more » button."""
        more = step.more[0] if step.more else None
        listed = [(c, label) for c, label in options if c != more]
        shown = {c for c, label in self.picks(step.name) if self.is_on(step, c)}
        if listed:
            flips = self.data.draw(st.lists(st.sampled_from(listed), max_size=4), label="flips")
            for code, label in flips:
                said = variants(label, listed, code)
                if said and self.data.draw(st.booleans(), label="say it"):
                    await self.type(self.data.draw(st.sampled_from(said), label="said"))
                else:
                    await self.press(Pick(self.form.key, step.name, code).pack())
                shown ^= {code}
        on_screen = {c for c, _ in self.picks(step.name) if self.is_on(step, c)}
        assert on_screen == shown, f"{self.form.key}.{step.name}: toggles not as tapped"
        self.chosen[step.name] = sorted(shown)
        if more is not None and self.noise < 6 and self.data.draw(st.integers(0, 3)) == 3:
            self.noise += 1
            self.chosen.pop(step.name)  # asked again once the new option is added
            await self.press(Pick(self.form.key, step.name, more).pack())
            return
        done = self.nav("done")
        assert done is not None
        await self.press(done)

    def is_on(self, step: MultiChoice, code: str) -> bool:
        data = Pick(self.form.key, step.name, code).pack()
        return any(
            b["callback_data"] == data and b["text"].startswith("✅ ") for b in self.keyboard()
        )


def check_saved(form: Form, chosen: Answers, saved: Answers) -> None:
    """`finish` got exactly what was chosen for every step that applies to what was saved
    (a step not asked, or answered alone when it had one possible answer, is not compared)."""
    for step in form.steps:
        if isinstance(step, Summary) or not step.applies(saved) or step.name not in chosen:
            continue
        got, wanted = saved.get(step.name), chosen[step.name]
        if isinstance(step, MultiChoice):  # plus the options another step's `after` added
            assert set(wanted) <= set(got or ()), f"{form.key}.{step.name}: {got} lacks {wanted}"
            assert all(c in wanted or not c.isdigit() for c in got or ()), f"{form.key}: {got}"
        else:
            assert got == wanted, f"{form.key}.{step.name}: saved {got!r}, chosen {wanted!r}"


# --- What is stored, read back ---------------------------------------------------------------
async def informes_stored(world: World, saved: Answers) -> None:
    assert world.member is not None
    async with world.sessions() as session:
        rows = (
            await session.exec(
                select(OutreachAction).where(OutreachAction.member_id == pk(world.member))
            )
        ).all()
    today = world.clock().date()
    assert [(r.kind, r.informed, r.day) for r in rows] == [
        (saved["kind"], saved["count"], today - dt.timedelta(days=int(saved["day"])))
    ]


async def evenement_stored(world: World, saved: Answers) -> None:
    assert world.member is not None
    async with world.sessions() as session:
        event = (
            await session.exec(select(Event).where(Event.created_by_id == pk(world.member)))
        ).one()
        linked = (
            await session.exec(
                select(Partner)
                .join(EventPartner, col(EventPartner.partner_id) == col(Partner.id))
                .where(EventPartner.event_id == pk(event))
            )
        ).all()
    tz = world.settings.tz
    local = event.starts_at.astimezone(tz)
    assert event.kind == saved["kind"]
    assert event.title == (saved.get("title") or texts.EVENT_KIND_LABELS[saved["kind"]])
    assert local.date().isoformat() == saved["day"]
    assert local.strftime("%H%M") == saved["time"]
    assert (event.neighbourhood_id, event.place) == (int(saved["neighbourhood"]), saved["place"])
    assert event.theme == (saved.get("theme") or "")
    typed = saved.get("new_partners", [])
    wanted_ids = {int(c) for c in saved.get("partners", []) if c.isdigit()}
    wanted_new = {typed[int(c[1:])][0] for c in saved.get("partners", []) if c.startswith("n")}
    got_ids = {pk(p) for p in linked if pk(p) in wanted_ids}
    assert got_ids == wanted_ids
    assert {p.name for p in linked if pk(p) not in wanted_ids} == wanted_new


async def partner_stored(world: World, saved: Answers) -> None:
    async with world.sessions() as session:
        if "category" in world.notes:
            found = (
                await session.exec(select(Partner).where(Partner.name == saved["name"]))
            ).one()
            if found.name.casefold() not in world.notes["known"]:  # new, not an earlier walk's
                assert found.category == world.notes["category"]
            return
        partner = await session.get_one(Partner, world.notes["partner"])
    assert getattr(partner, world.notes["field"]) == (saved["value"] or "")


async def event_input_stored(world: World, saved: Answers) -> None:
    async with world.sessions() as session:
        event = await events.get_event(session=session, event_id=world.notes["event"])
        registered = (
            await session.exec(select(Registration).where(Registration.event_id == pk(event)))
        ).all()
    if saved["what"] == "ask_code":
        assert [r.person_id for r in registered] == [saved["code"]]
    elif saved["what"] == "ask_headcount":
        assert event.unregistered_attendees == saved["headcount"]
    else:
        assert event.summary == saved["summary"]


async def nouveau_stored(world: World, saved: Answers) -> None:
    """The person recorded (the one engaged at the start aside), as answered."""
    assert world.member is not None
    async with world.sessions() as session:
        found = (
            await session.exec(
                select(Person).where(
                    Person.mediator_id == pk(world.member), Person.id != world.notes["person"]
                )
            )
        ).all()
        if saved.get("duplicate") not in (None, "new"):  # « it is someone I follow »: no one
            assert found == []
            return
        (person,) = found
        barriers = (
            await session.exec(
                select(PersonBarrier.barrier).where(PersonBarrier.person_id == pk(person))
            )
        ).all()
    assert person.first_name == clean_first_name(saved["first_name"])
    assert (person.residence, person.channel) == (saved["residence"], saved["channel"])
    assert set(barriers) == set(saved.get("barriers") or ())
    assert person.rsa == saved["rsa"]
    assert (person.sex, person.age_bracket) == halves(saved)  # typed halves, or the keyboard


async def orienter_stored(world: World, saved: Answers) -> None:
    """The orientation recorded, as answered."""
    async with world.sessions() as session:
        (orientation,) = (await session.exec(select(Orientation))).all()
        partner = await session.get_one(Partner, orientation.partner_id)
    assert orientation.person_id == saved["person_id"]
    assert (orientation.purpose, orientation.mode) == (saved["purpose"], saved["mode"])
    if saved.get("partner") not in (None, "new"):
        assert orientation.partner_id == int(saved["partner"])
    else:
        assert partner.name == saved["new_partner"]


async def inviter_stored(world: World, saved: Answers) -> None:
    """/inviter: one invitation, for the role, name and (a mediator's) neighbourhood chosen."""
    assert world.member is not None
    async with world.sessions() as session:
        (invitation,) = (
            await session.exec(
                select(Invitation).where(Invitation.created_by_id == pk(world.member))
            )
        ).all()
    mediator = saved["role"] == Role.MEDIATOR
    assert (invitation.role, invitation.display_name) == (saved["role"], saved["name"])
    assert invitation.neighbourhood_id == (int(saved["neighbourhood"]) if mediator else None)


def chosen_period(world: World, saved: Answers) -> tuple[str, str]:
    """The period answered, as (start, end) in ISO dates."""
    period = periods.answered(saved["period"], services_of(world.app).today())
    assert period is not None
    return period.start.isoformat(), period.end.isoformat()


async def stats_shown(world: World, saved: Answers) -> None:
    """The figures of the scope and period chosen, with the period asked again under them."""
    assert world.user is not None
    start, end = chosen_period(world, saved)
    shown = world.user.last
    span = f"du {dt.date.fromisoformat(start):%d/%m/%Y} au {dt.date.fromisoformat(end):%d/%m/%Y}"
    assert shown.text.startswith(f"📊 {saved['label']} · {span}")
    assert [b["text"] for b in shown.buttons()][:7] == list(texts.PERIOD_PRESETS.values())


async def export_sent(world: World, saved: Answers) -> None:
    """The workbook and the zip of the period chosen."""
    assert world.user is not None
    start, end = chosen_period(world, saved)
    await export_files(world.api, world.user.id)
    names = [p[0] for chat, kind, p in world.api.files if chat == world.user.id]
    assert names == [f"aveq-export-{start}-{end}.xlsx", f"aveq-export-{start}-{end}-csv.zip"]


async def committee_sent(world: World, saved: Answers) -> None:
    """The report of the partner and period chosen, as a message and a workbook."""
    assert world.user is not None
    start, end = chosen_period(world, saved)
    async with world.sessions() as session:
        partner = await session.get_one(Partner, int(saved["partner"]))
    said = [m.text for m in world.api.chat(world.user.id) if m.text.startswith("📊 Comité")]
    span = f"Du {dt.date.fromisoformat(start):%d/%m/%Y} au {dt.date.fromisoformat(end):%d/%m/%Y}"
    assert len(said) == 1
    assert said[0].startswith(f"📊 Comité de suivi — {partner.name}\n{span}\n")
    names = [p[0] for chat, kind, p in world.api.files if chat == world.user.id]
    assert names == [f"aveq-comite-{partner.code}-{start}-{end}.xlsx"]


async def contact_stored(world: World, saved: Answers) -> None:
    """/contact: one contact with the person chosen, of the kind chosen, at the walk's clock,
    with the note typed when the person agreed to notes (none otherwise)."""
    assert world.member is not None
    async with world.sessions() as session:
        notes = undefer(Interaction.note)  # type: ignore[arg-type]
        rows = (await session.exec(select(Interaction).options(notes))).all()
        person = await session.get_one(Person, saved["person_id"])
        assert [(r.person_id, r.member_id, r.kind, r.at) for r in rows] == [
            (saved["person_id"], pk(world.member), saved["kind"], world.clock())
        ]
        assert rows[0].note == (saved.get("note") if person.contact_consent else None)
        assert person.last_contact_at == world.clock()


async def sortie_stored(world: World, saved: Answers) -> None:
    """/sortie: the person chosen is exited, for the reason and on the day chosen."""
    async with world.sessions() as session:
        person = await session.get_one(Person, saved["person_id"])
        others = (await session.exec(select(Person).where(Person.id != saved["person_id"]))).all()
    assert (person.status, person.exit_reason) == ("exited", saved["reason"])
    assert person.exited_on == dt.date.fromisoformat(saved["date"])
    assert all(p.exited_on is None for p in others)


# Keyed by the form's key; /nouveau's and /orienter's as ported on their branches (issue #14).
ORACLES: dict[str, Callable[[World, Answers], Awaitable[None]]] = {
    "inf": informes_stored,
    "evt": evenement_stored,
    "par": partner_stored,
    "evi": event_input_stored,
    "nv": nouveau_stored,
    "or": orienter_stored,
    "inv": inviter_stored,
    "st": stats_shown,
    "xp": export_sent,
    "cm": committee_sent,
    "ct": contact_stored,
    "ex": sortie_stored,
}


# --- The test ----
async def empty_database(engine: AsyncEngine) -> None:
    """Every table emptied, the reference data loaded again (as the `engine` fixture does)."""
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for table in reversed(SQLModel.metadata.sorted_tables):
                await conn.execute(table.delete())
        else:
            tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    async with make_sessions(engine).begin() as session:
        await reference.load_reference_data(session=session)


@pytest.mark.parametrize("key", sorted(FORMS))
@settings(
    max_examples=6,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_every_form_saves_exactly_what_was_chosen(
    key: str,
    data: st.DataObject,
    settings: Settings,
    engine: AsyncEngine,
    sessions: Sessions,
    api: FakeBotAPI,
) -> None:
    """Buttons, typed names of buttons, typed values, Retour, Passer, Modifier, garbage and
    restarts, in any order: what is saved is what the member chose, and nothing else."""
    form = FORMS[key]
    await empty_database(engine)  # each example alone: hypothesis replays what it drew
    world = await World.open(settings, sessions, Clock(), api)
    try:
        await STARTERS.get(key, start_by_command)(world, form, data)
        draft = await world.draft(form)
        assert draft is not None, f"{key}: the form did not start"
        walk = Walk(world, form, data)
        for name in draft[HISTORY]:  # answered by `begin`
            walk.chosen.setdefault(name, draft[VALUES].get(name))
        await walk.run()
        assert [k for k, _ in world.saved] == [key], f"{key}: saved {world.saved}"
        chosen, saved = walk.chosen, world.saved[0][1]
        check_saved(form, chosen, saved)
        if key in ORACLES:
            await ORACLES[key](world, saved)
    finally:
        await world.close()
