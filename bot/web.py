"""The partners' web page and, in webhook mode, Telegram's webhook: one ASGI application
(Starlette, served by uvicorn in the bot's process: PTB's documented custom-webhook pattern).

`GET /c/<code>` shows the confirmation card and a form; `POST /c/<code>` records the answer and
thanks. No JavaScript, no request to anyone else, no cookie; strict security headers; a signed
per-request token in the form; failed guesses limited per address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import logging
import secrets
import time
import urllib.parse
from base64 import b64encode
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from telegram import Update

from bot import partner_links, texts
from bot.app import BotApplication
from bot.context import services_of
from bot.dates import parse_day
from models import confirmations
from models.confirmations import NotForUsReason, PartnerAnswer, State, TryLimiter
from models.errors import DomainError

logger = logging.getLogger(__name__)

WEBHOOK_PATH: Final = "/telegram"
FORM_TTL_SECONDS: Final = 3600
MAX_BODY: Final = 4096
FAILED_GUESSES_PER_MINUTE: Final = 5
REQUESTS_PER_MINUTE: Final = 60

STYLE: Final = """
*{box-sizing:border-box}
body{margin:0;font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1b1b1b;background:#f4f5f7}
main{max-width:34rem;margin:0 auto;padding:1rem}
h1{font-size:1.3rem;margin:.2rem 0 .8rem}
.programme{color:#555;font-size:.9rem;margin:0}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin:.8rem 0;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
.card p{margin:.3rem 0}
button{display:block;width:100%;min-height:3rem;margin:.5rem 0;padding:.6rem;
font:inherit;font-weight:600;border:0;border-radius:.5rem;background:#0b5fbf;color:#fff}
button.secondary{background:#e6e9ef;color:#1b1b1b}
fieldset{border:1px solid #d3d7de;border-radius:.5rem;margin:1rem 0;padding:.6rem .8rem}
legend{font-weight:600;padding:0 .3rem}
label{display:block;margin:.2rem 0}
input,select{width:100%;min-height:2.8rem;font:inherit;padding:.4rem;border:1px solid #9aa3b0;
border-radius:.4rem;background:#fff}
.notice{font-size:1.1rem}
""".strip()
STYLE_HASH: Final = b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
SECURITY_HEADERS: Final = {
    "content-security-policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-robots-tag": "noindex, nofollow",
    "strict-transport-security": "max-age=31536000",
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Every response, errors included, carries the strict headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode().lower() not in SECURITY_HEADERS
                ]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class FormTokens:
    """A per-request token for the form: signed, bound to the code, valid an hour. Nothing
    is stored (no cookie, no session): any replica checks it with the same key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, code: str, issued: str, nonce: str) -> str:
        message = f"{hashlib.sha256(code.encode()).hexdigest()}|{issued}|{nonce}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, code: str, now: float | None = None) -> str:
        """A fresh token for a form showing `code`."""
        issued = str(int(time.time() if now is None else now))
        nonce = secrets.token_urlsafe(12)
        return f"{issued}.{nonce}.{self._sign(code, issued, nonce)}"

    def valid(self, code: str, token: str, now: float | None = None) -> bool:
        """Whether `token` was issued for `code` within the last hour."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return False
        issued, nonce, signature = parts
        age = (time.time() if now is None else now) - int(issued)
        if not 0 <= age <= FORM_TTL_SECONDS:
            return False
        return hmac.compare_digest(signature, self._sign(code, issued, nonce))


def _text(value: str) -> str:
    """Text between tags: <, > and & escaped; apostrophes stay readable."""
    return html.escape(value, quote=False)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{_text(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status)


def _notice(text: str, status: int = 200, title: str = texts.CONFIRM_TITLE) -> HTMLResponse:
    body = f'<h1>{_text(title)}</h1><p class="notice">{_text(text)}</p>'
    return _page(title, body, status)


REFUSAL_STATUS: Final = {
    State.ANSWERED: 409,
    State.EXPIRED: 410,
    State.REVOKED: 410,
    State.SETTLED: 409,
    State.UNKNOWN: 404,
}


def _form(card_text: str, token: str) -> str:
    """The card, then one button per answer; no JavaScript needed."""
    lines = card_text.split("\n")
    programme, rest = lines[0], [line for line in lines[1:] if line]
    labels = texts.CONFIRM_ANSWER_LABELS
    paragraphs = "".join(f"<p>{_text(line)}</p>" for line in rest[:-1])

    def button(answer: str, label: str, css: str = "") -> str:
        kind = f' class="{css}"' if css else ""
        return (
            f'<button type="submit" name="answer" value="{answer}"{kind}>{_text(label)}</button>'
        )

    reasons = "".join(
        f'<option value="{code}">{_text(label)}</option>'
        for code, label in texts.CONFIRM_REASON_LABELS.items()
    )
    return (
        f"<h1>{_text(texts.CONFIRM_TITLE)}</h1>"
        f'<p class="programme">{_text(programme)}</p>'
        f'<div class="card">{paragraphs}</div>'
        f"<p><strong>{_text(rest[-1])}</strong></p>"
        '<form method="post">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        + button("started", labels["started"])
        + button("came_no_follow", labels["came_no_follow"])
        + button("no_show", labels["no_show"])
        + button("unreachable", labels["unreachable"])
        + f"<fieldset><legend>{_text(texts.CONFIRM_WEB_APPOINTMENT)}</legend>"
        f'<label for="day">{_text(texts.CONFIRM_DAY_LABEL)}</label>'
        f'<input type="text" id="day" name="appointment_on" placeholder="jj/mm/aaaa" '
        'maxlength="20" autocomplete="off">'
        + button("appointment", texts.CONFIRM_WEB_APPOINTMENT_SEND, "secondary")
        + f"</fieldset><fieldset><legend>{_text(texts.CONFIRM_WEB_NOT_FOR_US)}"
        f'</legend><label for="reason">{_text(texts.CONFIRM_ASK_REASON)}</label>'
        f'<select id="reason" name="reason">{reasons}</select>'
        + button("not_for_us", texts.CONFIRM_WEB_NOT_FOR_US_SEND, "secondary")
        + "</fieldset></form>"
    )


def build_web_app(
    application: BotApplication,
    *,
    webhook_secret: str | None = None,
    trusted_key: bytes | None = None,
) -> ASGIApp:
    """The ASGI application: the partners' page, and Telegram's webhook when a secret is
    given. `application` is the bot (PTB's Application), already built."""
    services = services_of(application)
    settings = services.settings
    key = (
        trusted_key
        or hashlib.sha256(
            b"aveq-confirmation-form|"
            + (
                settings.telegram_bot_token.get_secret_value().encode()
                if settings.telegram_bot_token
                else b""
            )
        ).digest()
    )
    tokens = FormTokens(key)
    guesses = TryLimiter(tries=FAILED_GUESSES_PER_MINUTE, per=60)
    requests = TryLimiter(tries=REQUESTS_PER_MINUTE, per=60)

    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    def refused(request: Request, state: State) -> HTMLResponse:
        if state == State.UNKNOWN:
            guesses.record(address(request))
        return _notice(texts.CONFIRM_REFUSED[state.value], REFUSAL_STATUS[state])

    def too_many(request: Request) -> bool:
        where = address(request)
        return not requests.allow(where) or guesses.exhausted(where)

    async def show(request: Request) -> Response:
        if too_many(request):
            return _notice(texts.CONFIRM_TOO_MANY, 429)
        code = request.path_params["code"]
        async with services.reads() as session:
            found = await confirmations.lookup(session=session, code=code, now=services.clock())
        if found.card is None:
            return refused(request, found.state)
        text = partner_links.card_text(found.card, settings.tz)
        return _page(texts.CONFIRM_TITLE, _form(text, tokens.issue(code)))

    async def answer(request: Request) -> Response:
        if too_many(request):
            return _notice(texts.CONFIRM_TOO_MANY, 429)
        code = request.path_params["code"]
        body = await request.body()
        if len(body) > MAX_BODY:
            return _notice(texts.CONFIRM_BAD_FORM, 413)
        fields = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
        if not tokens.valid(code, fields.get("token", "")):
            return _notice(texts.CONFIRM_BAD_FORM, 400)
        try:
            choice = PartnerAnswer(fields.get("answer", ""))
            reason = (
                NotForUsReason(fields.get("reason", ""))
                if choice == PartnerAnswer.NOT_FOR_US
                else None
            )
            on = (
                _date(fields.get("appointment_on", ""), services.today())
                if choice == PartnerAnswer.APPOINTMENT
                else None
            )
        except ValueError:
            return _notice(texts.CONFIRM_BAD_FORM, 400)
        try:
            async with services.sessions.begin() as session:
                result = await confirmations.confirm(
                    session=session,
                    code=code,
                    answer=choice,
                    now=services.clock(),
                    today=services.today(),
                    policy=settings.followup_policy,
                    channel="web",
                    reason=reason,
                    appointment_on=on,
                )
        except DomainError as error:
            return _notice(texts.domain_error(error.key, error.params), 400)
        if not result.accepted:
            return refused(request, result.state)
        logger.info("A partner answered a confirmation request on the web page")
        await partner_links.tell_mediator(application.bot, result, settings.tz)
        label = partner_links.answer_label(result, settings.tz).lower()
        return _notice(texts.CONFIRM_THANKS.format(answer=label), title=texts.CONFIRM_THANKS_TITLE)

    async def webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if webhook_secret is None or not hmac.compare_digest(given, webhook_secret):
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except ValueError:
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response()

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return _notice(texts.CONFIRM_REFUSED["unknown"], 404)

    routes = [
        Route("/c/{code}", show, methods=["GET"]),
        Route("/c/{code}", answer, methods=["POST"]),
    ]
    if webhook_secret is not None:
        routes.append(Route(WEBHOOK_PATH, webhook, methods=["POST"]))
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return SecurityHeaders(app)


def _date(value: str, today: dt.date) -> dt.date | None:
    """The typed day (« 24/03 », « 24/03/2026 », « mardi », or ISO); None when unreadable."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return parse_day(value, today=today, past=False)
