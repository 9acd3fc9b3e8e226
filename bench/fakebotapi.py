"""A fake Telegram Bot API: one model of its behaviour, reachable two ways.

- `RecordingRequest`: an offline `BaseRequest` for `Application.process_update` tests.
- `FakeBotServer`: a real HTTP server on 127.0.0.1 (aiohttp, the `bench` or `dev` extra), for
  polling end-to-end tests.

Both record every call and fail loudly on any Bot API method the fake does not know: the call
raises `UnknownMethod` (which PTB turns into a `NetworkError` that the bot may well catch), and
it is kept in `FakeBotAPI.unknown`, which the tests' `api` fixture checks when the test ends
(`assert_known_methods_only`), so the test fails whatever caught the error.

It lives in the installed `bench` package, used by the benchmarks and by the tests
(`tests/fakes.py` re-exports it), so `python -m bench` runs outside a checkout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "aveq_test_bot"
JSON_FIELDS = {
    "reply_markup",
    "commands",
    "scope",
    "entities",
    "allowed_updates",
    "reply_parameters",
}


class UnknownMethod(AssertionError):
    """The bot called a Bot API method this fake does not implement."""


_made: list[weakref.ref[FakeBotAPI]] = []


def forget_instances() -> None:
    """Start a new test: the fakes made before are no longer checked."""
    _made.clear()


def assert_no_unknown_calls() -> None:
    """Fail if any fake made since `forget_instances` saw a call it does not know."""
    for ref in _made:
        api = ref()
        if api is not None:
            api.assert_known_methods_only()


@dataclass
class Sent:
    """A message as the chat shows it (edits applied)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict | None = None
    protect_content: bool = False
    document: str | None = None

    def buttons(self) -> list[dict]:
        """Every inline button, row after row."""
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]


@dataclass
class FakeBotAPI:
    """The state of the fake Bot API: chats, messages, pending updates, injected faults."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    messages: dict[tuple[int, int], Sent] = field(default_factory=dict)
    alerts: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[int, str, Any]] = field(default_factory=list)
    faults: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    throttle_every: int = 0  # with N > 0, every Nth sending call gets a 429
    retry_after: int = 3
    down: bool = False  # the network is gone: every call fails before reaching Telegram
    unreachable_calls: int = 0  # calls attempted while down
    pending: list[dict[str, Any]] = field(default_factory=list)  # updates for getUpdates
    # chat id → (status, description): Telegram refuses every message sent to these chats
    refused_chats: dict[int, tuple[int, str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # calls the fake does not know, in order
    webhook_url: str = ""
    _sending_calls: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None

    def __post_init__(self) -> None:
        _made.append(weakref.ref(self))

    # --- what tests read -----------------------------------------------------------------
    def chat(self, chat_id: int) -> list[Sent]:
        """The messages of a chat, oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    def last(self, chat_id: int) -> Sent:
        """The latest message of a chat."""
        found = self.chat(chat_id)
        if not found:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return found[-1]

    def assert_known_methods_only(self) -> None:
        """Fail if the bot called anything the fake does not know, even if the bot (or PTB,
        which turns the error into a `NetworkError`) swallowed the error."""
        if self.unknown:
            raise UnknownMethod(f"unknown Bot API calls: {self.unknown}")

    def method_calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call to `method`."""
        return [params for name, params in self.calls if name == method]

    def all_text(self) -> str:
        """Everything the bot ever said (messages, edits, alerts), for leak checks."""
        parts = [p.get("text", "") for _, p in self.calls]
        return "\n".join(str(p) for p in parts)

    async def wait_until(self, predicate: Any, within: float = 30) -> Any:
        """Wait until `predicate(self)` is truthy, woken by each call the bot makes."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with asyncio.timeout(within), self._changed:
            return await self._changed.wait_for(lambda: predicate(self))

    # --- behaviour -------------------------------------------------------------------------
    def new_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Wrap a message or callback query into an update with a fresh id."""
        return {"update_id": next(self._update_ids), **payload}

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call as Telegram would (status, JSON body)."""
        self.calls.append((method, params))
        if self.throttle_every and method.startswith("send"):
            self._sending_calls += 1
            if self._sending_calls % self.throttle_every == 0:
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry later",
                    "parameters": {"retry_after": self.retry_after},
                }
        chat_id = params.get("chat_id")
        if method.startswith("send") and chat_id is not None:
            refused = self.refused_chats.get(int(chat_id))
            if refused is not None:
                status, description = refused
                return status, {"ok": False, "error_code": status, "description": description}
        queued = self.faults.get(method)
        if queued:
            return queued.pop(0)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self.unknown.append(method)
            raise UnknownMethod(method)
        try:
            return 200, {"ok": True, "result": handler(params)}
        except UnknownMethod as exc:
            self.unknown.append(str(exc))
            raise

    def _message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": self._m_getMe({}),
            "text": text,
        }

    def _m_getMe(self, params: dict) -> dict:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "AVEQ",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_sendMessage(self, params: dict) -> dict:
        chat_id, message_id = int(params["chat_id"]), next(self._ids)
        self.messages[(chat_id, message_id)] = Sent(
            chat_id,
            message_id,
            params["text"],
            params.get("reply_markup"),
            bool(params.get("protect_content")),
        )
        return self._message(chat_id, message_id, params["text"])

    def _m_sendDocument(self, params: dict) -> dict:
        chat_id, message_id = int(params["chat_id"]), next(self._ids)
        self.files.append((chat_id, "document", params.get("document")))
        self.messages[(chat_id, message_id)] = Sent(
            chat_id, message_id, params.get("caption", ""), document="document"
        )
        return self._message(chat_id, message_id, "")

    def _m_sendVoice(self, params: dict) -> dict:
        chat_id, message_id = int(params["chat_id"]), next(self._ids)
        self.messages[(chat_id, message_id)] = Sent(
            chat_id, message_id, params.get("caption", ""), document="voice"
        )
        self.files.append((chat_id, "voice", params.get("voice")))
        return self._message(chat_id, message_id, "")

    def _m_sendPhoto(self, params: dict) -> dict:
        chat_id, message_id = int(params["chat_id"]), next(self._ids)
        self.messages[(chat_id, message_id)] = Sent(
            chat_id, message_id, params.get("caption", ""), document="photo"
        )
        self.files.append((chat_id, "photo", params.get("photo")))
        return self._message(chat_id, message_id, "")

    def _m_editMessageText(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise UnknownMethod("editMessageText on a message that does not exist")
        sent = self.messages[key]
        sent.text, sent.reply_markup = params["text"], params.get("reply_markup")
        return self._message(key[0], key[1], sent.text)

    def _m_editMessageReplyMarkup(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        self.messages[key].reply_markup = params.get("reply_markup")
        return self._message(key[0], key[1], self.messages[key].text)

    def _m_deleteMessage(self, params: dict) -> bool:
        self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    def _m_answerCallbackQuery(self, params: dict) -> bool:
        if params.get("text"):
            self.alerts.append((params["callback_query_id"], params["text"]))
        return True

    def _m_setMyCommands(self, params: dict) -> bool:
        return True

    def _m_deleteMyCommands(self, params: dict) -> bool:
        return True

    def _m_deleteWebhook(self, params: dict) -> bool:
        self.webhook_url = ""
        return True

    def _m_setWebhook(self, params: dict) -> bool:
        self.webhook_url = str(params.get("url", ""))
        return True

    def _m_getWebhookInfo(self, params: dict) -> dict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    def _m_close(self, params: dict) -> bool:
        return True


class RecordingRequest(BaseRequest):
    """An offline HTTP layer: every call goes to the FakeBotAPI model, nothing to the network."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float:
        """Irrelevant offline."""
        return 1.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Route the call to the model."""
        if self.api.down:
            self.api.unreachable_calls += 1
            raise NetworkError("the network is down")
        params = dict(request_data.parameters) if request_data else {}
        if url.endswith("/getUpdates"):
            return 200, json.dumps(await self._updates(params)).encode()
        if request_data and request_data.multipart_data:
            # (file name, content, MIME type) for each uploaded file
            params.update(dict(request_data.multipart_data))
        status, body = self.api.handle(url.rsplit("/", 1)[-1], params)
        if self.api._changed is not None:
            async with self.api._changed:
                self.api._changed.notify_all()
        return status, json.dumps(body).encode()

    async def _updates(self, params: dict[str, Any]) -> dict[str, Any]:
        """Long polling, offline: the pending updates past `offset`, or wait `timeout`."""
        self.api.calls.append(("getUpdates", params))
        offset = int(params.get("offset", 0) or 0)
        self.api.pending = [u for u in self.api.pending if u["update_id"] >= offset]
        if not self.api.pending:
            with contextlib.suppress(TimeoutError):
                timeout = float(params.get("timeout", 0) or 0)
                await self.api.wait_until(lambda api: api.pending, within=timeout)
        return {"ok": True, "result": list(self.api.pending)}


class FakeBotServer:
    """The same model behind a real HTTP server on 127.0.0.1, with long-polling getUpdates.

    Like Telegram, updates stay pending until a getUpdates with a higher offset confirms them,
    so a bot killed before confirming gets them again when it restarts.
    """

    def __init__(self, api: FakeBotAPI, token: str) -> None:
        self.api = api
        self.token = token
        self.pending: list[dict[str, Any]] = []
        self._new_update = asyncio.Condition()
        self.api._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._hold: tuple[str, int] | None = None
        self.holding = asyncio.Event()

    def hold(self, method: str, *, after: int) -> None:
        """Leave the next call to `method` unanswered once `after` of them were answered, as a
        Telegram that hangs; it is not delivered. `holding` is set while it hangs."""
        self._hold = (method, after)
        self.holding.clear()

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Listen on a free port."""
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._route)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the server."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def push(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for the bot's next getUpdates."""
        update = self.api.new_update(payload)
        async with self._new_update:
            self.pending.append(update)
            self._new_update.notify_all()
        return update

    async def wait_for(self, predicate: Any, within: float = 30) -> Any:
        """Wait until `predicate(api)` is truthy (woken by each call the bot makes)."""
        assert self.api._changed is not None
        async with asyncio.timeout(within), self.api._changed:
            while not (result := predicate(self.api)):
                await self.api._changed.wait()
        return result

    async def _route(self, request: web.Request) -> web.Response:
        from aiohttp import web

        if request.match_info["token"] != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(body, status=401)
        method = request.match_info["method"]
        form = await request.post() if request.can_read_body else {}
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = value if isinstance(value, str) else "<file>"
            params[key] = json.loads(text) if key in JSON_FIELDS else text
        held = self._hold
        if (
            held is not None
            and held[0] == method
            and len(self.api.method_calls(method)) >= held[1]
        ):
            self._hold = None
            self.holding.set()
            await asyncio.Event().wait()  # until the client goes away (and is cancelled)
        if method == "getUpdates":
            result: Any = {"ok": True, "result": await self._updates(params)}
            status = 200
        else:
            try:
                status, result = self.api.handle(method, params)
            except UnknownMethod as exc:
                status, result = 404, {"ok": False, "error_code": 404, "description": str(exc)}
        assert self.api._changed is not None
        async with self.api._changed:
            self.api._changed.notify_all()
        return web.json_response(result, status=status)

    async def _updates(self, params: dict[str, Any]) -> list[dict]:
        self.api.calls.append(("getUpdates", params))
        assert self.api._changed is not None
        async with self.api._changed:
            self.api._changed.notify_all()
        offset = int(params.get("offset", 0) or 0)
        timeout = float(params.get("timeout", 0) or 0)
        async with self._new_update:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            try:
                async with asyncio.timeout(timeout):
                    await self._new_update.wait_for(lambda: bool(self.pending))
            except TimeoutError:
                return []
            return list(self.pending)
