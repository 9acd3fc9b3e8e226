"""The form engine: what every conversation built on it does, tried on /informes and on a form
declared here (one-answer steps, optional, multiple and sensitive steps, refusals at save)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import texts
from bot.app import FEATURES_GROUP, BotApplication, build_application
from bot.context import BotContext
from bot.db import Sessions
from bot.settings import Settings
from handlers.forms import (
    MORE,
    Answers,
    Asked,
    Choice,
    Finished,
    Form,
    FormEngine,
    MultiChoice,
    Narrowed,
    Search,
    Summary,
    Text,
    match_option,
    plain,
)
from models.errors import DomainError
from models.events import Event
from models.outreach import OutreachAction
from models.reference import Partner
from models.team import Role
from tests.conftest import Clock, User, add_member, kill
from tests.fakes import FakeBotAPI, RecordingRequest

SEX = [("female", "Femme"), ("male", "Homme"), ("other", "Autre")]
AGES = [("under_26", "Moins de 26 ans"), ("26_44", "26-44 ans"), ("45_plus", "45 ans et plus")]


@pytest.mark.parametrize(
    ("typed", "options", "expected"),
    [
        ("femme", SEX, "female"),
        ("FEMME", SEX, "female"),
        ("F", SEX, "female"),
        ("h", SEX, "male"),
        ("26-44", AGES, "26_44"),
        ("26 44 ans", AGES, "26_44"),
        ("26_44", AGES, "26_44"),
        ("moins", AGES, "under_26"),  # the only label starting with it
        ("Évènement", [("event", "Événement")], "event"),  # the other accent spelling
        ("evenement", [("event", "Événement")], "event"),
        ("a", [("a1", "Autre"), ("a2", "Aucun")], None),  # two labels start with it
        ("", SEX, None),
        ("1", [("1", "Hier"), ("0", "Aujourd'hui")], None),  # numeric codes are not typed
    ],
)
def test_typed_answers_name_a_button(
    typed: str, options: list[tuple[str, str]], expected: str | None
) -> None:
    assert match_option(typed, options) == expected


@given(typed=st.text(max_size=40))
def test_a_typed_answer_names_at_most_one_listed_button(typed: str) -> None:
    found = match_option(typed, SEX + AGES)
    assert found is None or found in {code for code, _ in SEX + AGES}
    if found is not None:
        label = dict(SEX + AGES)[found]
        assert plain(label).startswith(plain(typed)) or plain(typed) == plain(found)


async def test_informes_takes_typed_names_of_buttons(mediator: User, sessions: Sessions) -> None:
    await mediator.send("/informes")
    assert "Combien" in await mediator.send("permanence")
    assert "Quel jour" in await mediator.send("7")
    saved = await mediator.send("hier")
    assert saved.startswith("Enregistré : 7 personnes informées (permanence), le 09/03/2026")
    async with sessions() as session:
        action = (await session.exec(select(OutreachAction))).one()
    assert (action.kind, action.informed, action.day) == ("drop_in", 7, dt.date(2026, 3, 9))


async def test_back_returns_and_old_buttons_are_refused(
    mediator: User, api: FakeBotAPI, sessions: Sessions
) -> None:
    await mediator.send("/informes")
    first_question = mediator.last.message_id
    await mediator.tap("Tour de rue")
    assert "Quel jour" in await mediator.tap("5")
    assert "Combien" in await mediator.tap(texts.BACK)
    assert "quelle action" in await mediator.tap(texts.BACK)
    await mediator.tap("Permanence")
    await mediator.tap("8")
    # A button of the count step, pressed again from an old message: refused, nothing changes.
    calls = len(api.calls)
    await mediator.press("pk:inf:count:3", first_question)
    assert api.alerts[-1][1] == texts.STALE_BUTTON
    assert [m for m, _ in api.calls[calls:]] == ["answerCallbackQuery"]
    await mediator.tap(texts.INFORMED_TODAY)
    async with sessions() as session:
        action = (await session.exec(select(OutreachAction))).one()
    assert (action.kind, action.informed) == ("drop_in", 8)


async def test_cancel_saves_nothing(mediator: User, sessions: Sessions) -> None:
    await mediator.send("/informes")
    await mediator.tap("Tour de rue")
    assert await mediator.send("/annuler") == texts.CANCELLED
    async with sessions() as session:
        assert (await session.exec(select(OutreachAction))).all() == []


async def test_a_form_continues_at_the_same_step_after_a_restart(
    settings: Settings, sessions: Sessions, clock: Clock
) -> None:
    _, user_id = await add_member(sessions, clock)
    telegram = FakeBotAPI()
    first = build_application(settings, sessions, request=RecordingRequest(telegram), clock=clock)
    await first.initialize()
    user = User(first, telegram, user_id)
    await user.send("/informes")
    assert "Combien" in await user.tap("Tour de rue")
    kill(first)  # no shutdown, no flush

    second = build_application(settings, sessions, request=RecordingRequest(telegram), clock=clock)
    async with second:
        again = User(second, telegram, user_id)
        assert "Quel jour" in await again.send("12")
        await again.tap(texts.INFORMED_TODAY)
    async with sessions() as session:
        action = (await session.exec(select(OutreachAction))).one()
    assert (action.kind, action.informed) == ("street_tour", 12)


# --- A form declared here: what /informes does not exercise --------------------------------
SAVED: list[Answers] = []


def read_code(text: str, asked: Asked) -> str:
    if not text.isalpha():
        raise DomainError("choice_invalid")
    return text.upper()


async def finish(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    if answers.get("code") == "REFUSE":
        raise DomainError("date_out_of_range")
    SAVED.append(dict(answers))
    return Finished("Fini.")


TOY = Form(
    key="toy",
    command="essai",
    steps=(
        Choice(name="only", prompt="Seul choix ?", options=[("one", "Unique")]),
        MultiChoice(name="many", prompt="Plusieurs ?", options=SEX),
        Text(name="secret", prompt="Secret ?", read=read_code, optional=True, sensitive=True),
        Text(name="code", prompt="Code ?", read=read_code),
    ),
    finish=finish,
)


@pytest.fixture
async def toy(
    settings: Settings, sessions: Sessions, clock: Clock, api: FakeBotAPI
) -> AsyncIterator[User]:
    """A mediator talking to a bot that also has the form declared here."""
    SAVED.clear()
    app = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    app.add_handlers(FormEngine(TOY).handlers(), group=FEATURES_GROUP)
    features = app.handlers[FEATURES_GROUP]
    features.insert(0, features.pop())  # before the « last resort » answers
    _, user_id = await add_member(sessions, clock)
    async with app:
        yield User(app, api, user_id)


async def test_declared_form_skips_one_answer_steps_and_saves_exactly_the_answers(
    toy: User, api: FakeBotAPI
) -> None:
    mediator = toy
    assert await mediator.send("/essai") == "Plusieurs ?"  # « Seul choix » answered alone
    assert texts.BACK not in mediator.labels()  # nothing before it was asked
    await mediator.tap("Femme")
    await mediator.send("autre")  # typed: toggles « Autre »
    await mediator.tap("✅ Femme")  # untoggled
    assert "Secret" in await mediator.tap("Valider (1)")
    assert "Code" in await mediator.tap(texts.SKIP)
    assert "pas reconnu" not in await mediator.send("abc")
    assert mediator.last.text == "Fini."
    assert SAVED == [{"only": "one", "many": ["other"], "secret": None, "code": "ABC"}]


async def test_refusals_ask_again_and_sensitive_messages_are_deleted(
    toy: User, api: FakeBotAPI
) -> None:
    mediator = toy
    await mediator.send("/essai")
    await mediator.tap("Valider (0)")
    answer = await mediator.send("1234")  # refused by the step: reason and question together
    assert answer == f"{texts.domain_error('choice_invalid')}\n\nSecret ?"
    assert len(api.method_calls("deleteMessage")) == 1  # a refused secret leaves at once
    await mediator.send("motdepasse")
    await mediator.send("REFUSE")  # refused by finish: the last step again, with the reason
    assert mediator.last.text == f"{texts.domain_error('date_out_of_range')}\n\nCode ?"
    assert await mediator.send("/annuler") == texts.CANCELLED
    assert SAVED == []
    deleted = {int(p["message_id"]) for p in api.method_calls("deleteMessage")}
    assert len(deleted) == 2  # both messages typed at the sensitive step


# --- /evenement: the summary's « Modifier », and a loop back after adding a partner ---------
@pytest.fixture
async def officer(app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock) -> User:
    _, user_id = await add_member(
        sessions, clock, role=Role.PROJECT_OFFICER, name="Nadia", neighbourhood=None
    )
    return User(app, api, user_id)


async def test_summary_changes_one_answer_and_comes_back(
    officer: User, sessions: Sessions
) -> None:
    await officer.send("/evenement")
    await officer.send("forum")  # typed: the button « Forum »
    await officer.tap(texts.SKIP)
    await officer.send("29/03")
    await officer.send("14h30")
    await officer.send("porte de vanves")
    await officer.send("Mairie du 14e")
    await officer.tap(texts.SKIP)
    assert "catégorie" in await officer.tap(texts.EVENT_NEW_PARTNER)
    await officer.tap(officer.labels()[0])
    assert "Partenaires présents" in await officer.send("Boulangerie Dupont")
    # Retour from the list goes to the step before it, not to the partner just typed in.
    assert "thème" in await officer.tap(texts.BACK)
    await officer.tap(texts.SKIP)
    summary = await officer.tap("Valider (1)")
    assert "Mairie du 14e" in summary
    assert "Boulangerie Dupont" in summary
    await officer.tap(texts.NEW_EDIT)
    assert "Lieu ?" in await officer.tap(texts.EVENT_FIELD_NAMES["place"])
    summary = await officer.send("Centre Paris Anim'")
    assert summary.startswith("Vérifiez")
    assert "Centre Paris Anim'" in summary
    await officer.tap(texts.NEW_SAVE)
    async with sessions() as session:
        event = (await session.exec(select(Event))).one()
        partner = (
            await session.exec(select(Partner).where(Partner.name == "Boulangerie Dupont"))
        ).one()
    assert (event.place, event.kind, event.title) == ("Centre Paris Anim'", "forum", "Forum")
    assert event.starts_at == dt.datetime(2026, 3, 29, 12, 30, tzinfo=dt.UTC)  # 14:30 in Paris
    assert partner.id is not None


# --- Steps offered by the summary, a step's effect, a button that starts a form again ---------
async def note_kind(update: Update, context: BotContext, answers: Answers) -> bool:
    """An effect: changes the answers and posts a message (the next question comes below)."""
    answers["noted"] = True
    assert update.effective_chat is not None
    await update.effective_chat.send_message("Document.")
    return True


async def finish_again(context: BotContext, answers: Answers, session: AsyncSession) -> Finished:
    SAVED.append(dict(answers))
    again = InlineKeyboardButton("Encore", callback_data="nv:extra:again")
    return Finished("Fini.", InlineKeyboardMarkup([[again]]))


async def check_text(asked: Asked) -> str:
    return f"Vérifiez : {asked.answers}"


EXTRA = Form(
    key="extra",
    command="extra",
    also_on=(r"^nv:extra:again$",),
    steps=(
        Choice(name="kind", prompt="Genre ?", options=SEX, effect=note_kind),
        Text(
            name="more",
            prompt="Détail ?",
            read=read_code,
            optional=True,
            offered=True,
            title="➕ Détail",
            applies=lambda answers: answers.get("kind") == "female",
        ),
        Summary(name="check", text=check_text),
    ),
    finish=finish_again,
)


# --- A form started from a button with answers given; a search step; accept; more -----------
FRUITS = [("apple", "Pomme"), ("lemon", "Citron"), ("pear", "Poire")]
SIZES = [("s", "Petit"), ("l", "Grand")]


async def tasting_begin(update: Update, context: BotContext) -> Answers:
    """The button « go » already says the fruit; the command says nothing."""
    if update.callback_query is not None and update.callback_query.data == "tg:go":
        return {"fruit": "pear", "label": "Poire", "_given": True}
    return {}


async def fruits(asked: Asked) -> list[tuple[str, str]]:
    query = plain(asked.answers.get("query", ""))
    return [(code, label) for code, label in FRUITS if query in plain(label)]


async def search_fruit(text: str, asked: Asked) -> Narrowed:
    if not any(plain(text) in plain(label) for _, label in FRUITS):
        raise DomainError("choice_invalid")
    return Narrowed({"query": text})


async def ripe(value: object, asked: Asked) -> Answers:
    if value == "lemon":
        raise DomainError("date_out_of_range")
    return {"label": dict(FRUITS)[str(value)]}


TASTING = Form(
    key="tg",
    command="gouter",
    begin=tasting_begin,
    also_on=(r"^tg:go$",),
    steps=(
        Search(
            name="fruit",
            prompt="Quel fruit ?",
            options=fruits,
            read=search_fruit,
            accept=ripe,
            applies=lambda answers: not answers.get("_given"),
        ),
        Choice(name="size", prompt="Taille ?", options=SIZES, more=("other", "Autre taille")),
        Text(
            name="custom",
            prompt="Quelle taille ?",
            read=read_code,
            applies=lambda answers: answers.get(MORE) == "size",
        ),
    ),
    finish=finish,
)


@pytest.fixture
async def extra(
    settings: Settings, sessions: Sessions, clock: Clock, api: FakeBotAPI
) -> AsyncIterator[User]:
    """A mediator talking to a bot that also has the EXTRA form."""
    SAVED.clear()
    app = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    app.add_handlers(FormEngine(EXTRA).handlers(), group=FEATURES_GROUP)
    features = app.handlers[FEATURES_GROUP]
    features.insert(0, features.pop())
    _, user_id = await add_member(sessions, clock)
    async with app:
        yield User(app, api, user_id)


@pytest.fixture
async def taster(
    settings: Settings, sessions: Sessions, clock: Clock, api: FakeBotAPI
) -> AsyncIterator[User]:
    """A mediator talking to a bot that also has the tasting form."""
    SAVED.clear()
    app = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    app.add_handlers(FormEngine(TASTING).handlers(), group=FEATURES_GROUP)
    features = app.handlers[FEATURES_GROUP]
    features.insert(0, features.pop())
    _, user_id = await add_member(sessions, clock)
    async with app:
        yield User(app, api, user_id)


async def test_offered_steps_cost_no_tap_effects_post_and_a_button_starts_again(
    extra: User, api: FakeBotAPI
) -> None:
    mediator = extra
    assert await mediator.send("/extra") == "Genre ?"
    pressed = mediator.last.message_id
    summary = await mediator.tap("Femme")
    assert summary.startswith("Vérifiez")  # the offered step is not asked in turn
    assert "'more'" not in summary
    chat = api.chat(mediator.id)
    assert chat[-2].text == "Document."  # the effect's message, then the summary below it
    assert mediator.last.message_id != pressed
    assert "➕ Détail" in mediator.labels()
    assert "Détail ?" in await mediator.tap("➕ Détail")
    assert (await mediator.send("abc")).startswith("Vérifiez")  # back to the summary
    await mediator.tap(texts.NEW_SAVE)
    assert SAVED == [{"kind": "female", "noted": True, "more": "ABC"}]
    assert await mediator.tap("Encore") == "Genre ?"  # also_on: started again from a button
    await mediator.tap("Homme")
    assert "➕ Détail" not in mediator.labels()  # offered only when it applies
    await mediator.tap(texts.NEW_SAVE)
    assert SAVED[-1] == {"kind": "male", "noted": True}


async def test_search_narrows_refuses_with_the_reason_and_accept_checks_the_answer(
    taster: User,
) -> None:
    assert await taster.send("/gouter") == "Quel fruit ?"
    assert taster.labels()[:3] == ["Pomme", "Citron", "Poire"]
    # A typed answer is a search, never a button's name, even when it names one.
    assert await taster.send("zzz") == f"{texts.domain_error('choice_invalid')}\n\nQuel fruit ?"
    await taster.send("citron")
    assert taster.labels()[0] == "Citron"  # one option left, still asked: the member says which
    assert texts.BACK not in taster.labels()
    refused = await taster.tap("Citron")  # `accept` refuses: the reason, the same question
    assert refused == f"{texts.domain_error('date_out_of_range')}\n\nQuel fruit ?"
    await taster.send("po")
    assert taster.labels()[:2] == ["Pomme", "Poire"]
    assert await taster.tap("Pomme") == "Taille ?"
    # « more » on a plain choice: not an answer, it opens the step that adds one.
    assert await taster.tap("Autre taille") == "Quelle taille ?"
    assert await taster.tap(texts.BACK) == "Taille ?"
    await taster.tap("Grand")  # an option after all: the added step no longer applies
    assert taster.last.text == "Fini."
    assert SAVED == [{"query": "po", "fruit": "apple", "label": "Pomme", "size": "l"}]


async def test_a_button_starts_the_form_with_the_answers_it_gives(taster: User) -> None:
    await taster.press("tg:go", message_id=1)
    assert taster.last.text == "Taille ?"  # the fruit is given: not asked
    assert texts.BACK not in taster.labels()
    await taster.tap("Autre taille")
    await taster.send("xl")
    assert SAVED == [
        {"fruit": "pear", "label": "Poire", "_given": True, "size": None, MORE: "size",
         "custom": "XL"}
    ]  # fmt: skip
