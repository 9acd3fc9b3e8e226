"""Partners close the loop (issue 16), web side: the page at <PUBLIC_URL>/c/<code>, its form,
headers and refusals (httpx on the ASGI application), the real process mode (uvicorn on
127.0.0.1 with the bot), and a real headless Chromium answering on a phone-sized screen."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import select

from bot.__main__ import serve, web_server
from bot.app import BotApplication, build_application
from bot.db import Sessions
from bot.settings import Settings
from bot.web import FormTokens, build_web_app
from models.orientations import Orientation
from tests.conftest import IN_CI, TOKEN, Clock, User, add_member, engage_person
from tests.fakes import FakeBotAPI, RecordingRequest
from tests.test_confirmations_telegram import ask_link
from tests.test_followups import orient_directly

PUBLIC = "https://aveq.example.org"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        database_url=database_url,
        private_chat_messages_per_second=1000,
        public_url=PUBLIC,
        web_listen="127.0.0.1",
        web_port=free_port(),
    )


async def requested(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> tuple[User, int, str]:
    member, user_id = await add_member(sessions, clock, name="Samia Benali")
    mediator = User(app, api, user_id)
    person_id = await engage_person(sessions, clock, member, "Amina")
    oid = await orient_directly(app, sessions, clock, member, person_id)
    await mediator.send("/aide")
    code = await ask_link(mediator, oid)
    forwardable = api.chat(mediator.id)[-2]
    assert f"{PUBLIC}/c/{code}" in forwardable.text
    share = next(b for b in forwardable.buttons() if b["text"] == "Partager")
    assert "aveq.example.org%2Fc%2F" in share["url"]
    return mediator, oid, code


@pytest.fixture
async def web(app: BotApplication) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_web_app(app), client=("198.51.100.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        yield client


def token_of(page: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def started(server: uvicorn.Server) -> asyncio.Event:
    """Set once uvicorn listens (the bot is started just before it)."""
    ready = asyncio.Event()
    startup = server.startup

    async def startup_then_tell(*args: Any, **kwargs: Any) -> None:
        await startup(*args, **kwargs)
        ready.set()

    server.startup = startup_then_tell  # type: ignore[method-assign]
    return ready


async def outcome(sessions: Sessions, oid: int) -> str | None:
    async with sessions() as session:
        return (await session.get_one(Orientation, oid)).outcome


async def test_the_page_shows_the_card_only_and_one_answer_settles_once(
    app: BotApplication,
    api: FakeBotAPI,
    sessions: Sessions,
    clock: Clock,
    web: httpx.AsyncClient,
) -> None:
    mediator, oid, code = await requested(app, api, sessions, clock)
    page = await web.get(f"/c/{code}")
    assert page.status_code == 200
    text = page.text
    for shown in ("P-0001", "commençant par A", "Samia", "Accompagnement", "Rendez-vous pris"):
        assert shown in text
    for hidden in ("Amina", "Benali", "PLIE", "<script", "http://", "https://"):
        assert hidden not in text
    headers = page.headers
    assert headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in headers
    told = len(api.chat(mediator.id))
    token = token_of(text)
    thanks = await web.post(f"/c/{code}", data={"token": token, "answer": "came_no_follow"})
    assert thanks.status_code == 200
    assert "Merci, c'est enregistré : venu·e, sans suite" in thanks.text
    assert await outcome(sessions, oid) == "came_no_follow"
    assert "a répondu pour P-0001 Amina : venu·e, sans suite" in api.last(mediator.id).text
    again = await web.post(f"/c/{code}", data={"token": token, "answer": "started"})
    assert again.status_code == 409
    assert "Déjà répondu" in again.text
    assert "Déjà répondu" in (await web.get(f"/c/{code}")).text
    assert await outcome(sessions, oid) == "came_no_follow"
    assert len(api.chat(mediator.id)) == told + 1


async def test_forged_tokens_and_codes_and_a_flood_change_nothing(
    app: BotApplication,
    api: FakeBotAPI,
    sessions: Sessions,
    clock: Clock,
    web: httpx.AsyncClient,
) -> None:
    _, oid, code = await requested(app, api, sessions, clock)
    no_token = await web.post(f"/c/{code}", data={"answer": "started"})
    other_code = FormTokens(b"k" * 32).issue(code)
    forged = await web.post(f"/c/{code}", data={"token": other_code, "answer": "started"})
    assert (no_token.status_code, forged.status_code) == (400, 400)
    bad_answer = await web.post(
        f"/c/{code}", data={"token": token_of((await web.get(f"/c/{code}")).text), "answer": "x"}
    )
    assert bad_answer.status_code == 400
    no_date = await web.post(
        f"/c/{code}",
        data={"token": token_of((await web.get(f"/c/{code}")).text), "answer": "appointment"},
    )
    assert no_date.status_code == 400
    assert await outcome(sessions, oid) is None
    guesses = [(await web.get(f"/c/{'Z' * 23}{i}")).status_code for i in range(6)]
    assert guesses == [404] * 5 + [429]
    assert (await web.get(f"/c/{code}")).status_code == 429, "the flood stops valid tries too"
    assert (await web.get("/elsewhere")).headers["x-frame-options"] == "DENY"
    assert await outcome(sessions, oid) is None


async def test_appointment_and_not_for_us_from_the_form(
    app: BotApplication,
    api: FakeBotAPI,
    sessions: Sessions,
    clock: Clock,
    web: httpx.AsyncClient,
) -> None:
    _, oid, code = await requested(app, api, sessions, clock)
    token = token_of((await web.get(f"/c/{code}")).text)
    done = await web.post(
        f"/c/{code}",
        data={"token": token, "answer": "appointment", "appointment_on": "17/03"},
    )
    assert "rendez-vous fixé le 17/03/2026" in done.text
    async with sessions() as session:
        orientation = await session.get_one(Orientation, oid)
    assert orientation.outcome is None
    assert str(orientation.appointment_on) == "2026-03-17"


async def test_the_process_serves_the_page_and_polls_in_one_loop(
    settings: Settings, sessions: Sessions, api: FakeBotAPI, clock: Clock
) -> None:
    """`python -m bot` with PUBLIC_URL: uvicorn on 127.0.0.1 and the bot polling together."""
    application = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    server = web_server(application, settings)
    ready = started(server)
    running = asyncio.create_task(serve(application, settings, server))
    try:
        await asyncio.wait_for(ready.wait(), timeout=20)
        member, user_id = await add_member(sessions, clock)
        person_id = await engage_person(sessions, clock, member, "Amina")
        oid = await orient_directly(application, sessions, clock, member, person_id)
        mediator = User(application, api, user_id)
        await mediator.send("/aide")
        code = await ask_link(mediator, oid)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.web_port}") as http:
            page = await http.get(f"/c/{code}")
            assert page.status_code == 200
            answer = {"token": token_of(page.text), "answer": "started"}
            assert (await http.post(f"/c/{code}", data=answer)).status_code == 200
            assert (await http.post("/telegram", json={})).status_code == 404, "polling: no hook"
        assert await outcome(sessions, oid) == "started"
    finally:
        server.should_exit = True
        await asyncio.wait_for(running, timeout=20)
    assert not application.running


def _launch_browser() -> object:
    if IN_CI:  # in CI the browser test never skips: .ci/run installs Chromium
        import playwright.async_api as playwright_api
    else:
        playwright_api = pytest.importorskip("playwright.async_api")
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is missing: .ci/run installs it", pytrace=False)
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return playwright_api


async def test_a_real_browser_answers_on_a_phone_screen(
    settings: Settings, sessions: Sessions, api: FakeBotAPI, clock: Clock
) -> None:
    playwright_api: object = _launch_browser()
    application = build_application(settings, sessions, request=RecordingRequest(api), clock=clock)
    server = web_server(application, settings)
    ready = started(server)
    running = asyncio.create_task(serve(application, settings, server))
    try:
        await asyncio.wait_for(ready.wait(), timeout=20)
        member, user_id = await add_member(sessions, clock, name="Samia Benali")
        person_id = await engage_person(sessions, clock, member, "Amina")
        oid = await orient_directly(application, sessions, clock, member, person_id)
        mediator = User(application, api, user_id)
        await mediator.send("/aide")
        code = await ask_link(mediator, oid)
        url = f"http://127.0.0.1:{settings.web_port}/c/{code}"
        async with playwright_api.async_playwright() as pw:  # type: ignore[attr-defined]
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox", "--headless", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--lang=fr-FR",
                ],
            )  # fmt: skip
            try:
                page = await browser.new_page(
                    viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="fr-FR"
                )
                elsewhere: list[str] = []
                page.on(
                    "request",
                    lambda r: elsewhere.append(r.url) if not r.url.startswith(url) else None,
                )
                blocked: list[str] = []
                page.on("console", lambda m: blocked.append(m.text) if m.type == "error" else None)
                await page.goto(url)
                assert await page.get_by_text("P-0001").count() == 1
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, "no sideways scrolling on a phone"
                await page.screenshot(
                    path=str(SCREENSHOTS / "confirmation-390.png"), full_page=True
                )
                await page.get_by_role("button", name="Venu·e, accompagnement démarré").click()
                await page.wait_for_load_state()
                assert "Merci, c'est enregistré" in await page.inner_text("main")
                await page.screenshot(path=str(SCREENSHOTS / "confirmation-thanks-390.png"))
                await page.goto(url)
                assert "Déjà répondu" in await page.inner_text("main")
                assert elsewhere == [], "no request to anyone else"
                refused = [m for m in blocked if "Content Security Policy" in m]
                assert refused == [], f"the page broke its own policy: {refused}"
                assert await page.context.cookies() == []
            finally:
                await browser.close()
        assert await outcome(sessions, oid) == "started"
    finally:
        server.should_exit = True
        await asyncio.wait_for(running, timeout=20)


async def test_webhook_mode_serves_telegram_from_the_same_application(
    app: BotApplication, api: FakeBotAPI, sessions: Sessions, clock: Clock
) -> None:
    secret = "s3cret-token-of-the-webhook"
    transport = httpx.ASGITransport(app=build_web_app(app, webhook_secret=secret))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        mediator_member, user_id = await add_member(sessions, clock)
        assert mediator_member.id
        mediator = User(app, api, user_id)
        update = mediator.message_update("/aide")
        refused = await client.post("/telegram", json=update)
        wrong = await client.post(
            "/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
        accepted = await client.post(
            "/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
        )
    assert (refused.status_code, wrong.status_code, accepted.status_code) == (403, 403, 200)
    queued = await asyncio.wait_for(app.update_queue.get(), timeout=5)
    assert queued.update_id == update["update_id"]
    assert app.update_queue.empty()
    async with sessions() as session:
        assert (await session.exec(select(Orientation))).all() == []
