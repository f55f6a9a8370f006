"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp) that validates requests the way Telegram does.

The real python-telegram-bot ``Application`` talks to it over HTTP, unmodified except for ``base_url``. Tests play
users (:class:`FakeUser`) who send messages and tap buttons, and read what the bot sent them.

Validated like Telegram: HTML entities (only Telegram's tags, every ``<`` and ``&`` escaped), message length after
parsing (4096 UTF-16 units), callback_data (1-64 bytes), command names and descriptions. Faults on demand: 403 for a
user who blocked the bot, 429 with ``retry_after`` for the next N sends.

Idle signal (:meth:`FakeTelegram.settle`): the bot confirms an update only after it was processed (its next
getUpdates asks for a higher offset), so the server knows when every pushed update is done; with no Bot API call in
flight and no registered busy check (the harness's outbox worker) saying busy, nothing more will come. Tests wait for
that instead of a quiet period.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.e2e.webhook_delivery import WebhookDelivery

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "blockquote", "span", "tg-emoji"}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-z-]+)([^<>]*)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time", "message_thread_id"}
JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "link_preview_options", "reply_parameters",
               "entities", "reaction", "caption_entities", "media"}  # fmt: skip
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted")
RECHECK = 0.2  # seconds: settle looks again even without a notification (a busy check's state may change silently)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def serve_local(app: web.Application, port: int = 0) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on 127.0.0.1 (``port`` 0: a free one); its runner (``cleanup()`` stops it) and its port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


ADMIN_RIGHTS = {
    "can_manage_chat": True, "can_delete_messages": True, "can_manage_video_chats": False,
    "can_restrict_members": False, "can_promote_members": False, "can_change_info": False, "can_invite_users": True,
    "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False, "can_pin_messages": True,
    "can_manage_topics": True,
}  # fmt: skip


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """The visible text of Telegram HTML, or ApiError 400 as Telegram would answer."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if not m or m.group(2) not in ALLOWED_TAGS:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag at byte offset {i}")
            closing, name = m.group(1) == "/", m.group(2)
            if closing:
                if not stack or stack[-1] != name:
                    raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag at byte offset {i}")
                stack.pop()
            else:
                stack.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported entity at byte offset {i}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
        elif ch == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected '>' at byte offset {i}")
        else:
            out.append(ch)
            i += 1
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed start tag {stack[-1]}")
    return "".join(out)


@dataclass
class Sent:
    """A message the bot sent (as a user would see it)."""

    chat_id: int
    message_id: int
    visible: str  # the text as Telegram shows it (HTML parsed, bidi isolates kept)
    raw: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    received: float = field(default_factory=time.perf_counter)
    received_at: float = field(default_factory=time.time)  # wall clock, comparable across processes
    thread_id: int | None = None
    reply_to: int | None = None
    media: str | None = None  # photo | document | voice
    file_id: str | None = None
    edits: int = 0
    deleted: bool = False

    @property
    def text(self) -> str:
        """What a person reads (without the invisible bidi isolate marks)."""
        return re.sub("[\u2066-\u2069]", "", self.visible)

    @property
    def links(self) -> dict[str, str]:
        """What a person can tap in the text: the link's visible text (isolates removed) -> its address."""
        if self.parse_mode != "HTML":
            return {}
        found = re.findall(r'<a href="([^"]*)">(.*?)</a>', self.raw, flags=re.S)
        return {re.sub("[\u2066-\u2069]", "", parse_html(text)): html.unescape(href) for href, text in found}

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """(label, callback_data) of inline buttons, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data")) for row in rows for b in row]

    @property
    def keyboard(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("keyboard", [])
        return [b for row in rows for b in row]


@dataclass
class FakeTelegram:
    """The server's state: updates waiting for the bot, what the bot sent, faults to inject."""

    token: str = "123456789:AAEhBP0av28xjVQCyYb0Ffq_Kd8aX1JQnOo"
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # who made each call in ``calls`` (same index): "" or the name of a bot process whose TELEGRAM_API_BASE_URL is
    # ``via(name)``, so that tests with several instances know which one called
    callers: list[str] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    throttle: int = 0  # the next N send calls answer 429
    answered: set[str] = field(default_factory=set)  # callback query ids the bot answered
    bot_rights: dict[int, dict[str, bool]] = field(default_factory=dict)  # group -> the bot's rights there (changes)
    poll_faults: list[str] = field(default_factory=list)  # the next getUpdates calls answer: "409", "html", "500"
    # method -> what its next calls meet: "500" (refused before any effect) or "500-after" (done, then answered
    # 500); "...@<chat id>" only for that chat
    faults: dict[str, list[str]] = field(default_factory=dict)
    delete_window: float | None = None  # seconds after which a message can no longer be deleted (Telegram: 48 h)
    stall: dict[str, int] = field(default_factory=dict)  # method -> its next N calls never get an answer
    stalled: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # calls held by ``stall``
    retry_after: int = 1
    throttled: int = 0
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    webhook: tuple[str, str | None] | None = None  # (url, secret) registered by setWebhook
    # Webhook delivery (tests/e2e/webhook_delivery.py): while a webhook is set, pushed updates are POSTed to this
    # plain-HTTP address on 127.0.0.1 (standing for the registered https:// URL, e.g. a proxy), up to
    # ``max_connections`` at once; None: nothing is delivered (a test posts to the bot itself).
    deliver_to: str | None = None
    max_connections: int = 40
    posts: list[tuple[int, int]] = field(default_factory=list)  # webhook POSTs: (update id, status; 0: no answer)
    forums: set[int] = field(default_factory=set)  # supergroups with forum topics
    user_texts: dict[tuple[int, int], str] = field(default_factory=dict)  # (chat, message id) -> text a user sent
    groups: set[int] = field(default_factory=set)  # supergroups without topics (other group ids: chat not found)
    members: dict[int, set[int]] = field(default_factory=dict)  # group -> user ids of its members
    topics: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)  # group -> thread id -> topic
    reactions: list[tuple[int, int, str]] = field(default_factory=list)
    throttle_chats: dict[int, int] = field(default_factory=dict)  # chat -> the next N sends there answer 429
    service_messages: list[tuple[int, float]] = field(default_factory=list)  # (group, time): topic created
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # (method, code, description) answered as errors
    # The idle signal (see settle): every change of these notifies ``_activity``.
    confirmed: int = 0  # the highest getUpdates offset seen: every update below it was processed
    pushed: int = 0  # the highest update id pushed
    in_flight: int = 0  # Bot API calls being answered (not getUpdates, not calls held by ``stall``)
    busy_checks: list[Callable[[], Awaitable[bool]]] = field(default_factory=list)  # True while busy (the harness's)
    _activity: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) on every change
    _confirmations: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)  # until_confirmed
    _closing: bool = False
    _acked: set[int] = field(default_factory=set)  # webhook mode: update ids answered 200 (confirmed one by one)
    _delivery: WebhookDelivery | None = None
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _new_sent: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":")[0])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def via(self, caller: str) -> str:
        """A TELEGRAM_API_BASE_URL for the bot process ``caller``: its calls are recorded with that name (callers)."""
        return f"http://127.0.0.1:{self.port}/via/{caller}"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/via/{caller}/bot{token}/{method}", self._handle)
        app.router.add_post("/_control/push", self._control_push)
        app.router.add_get("/_control/sent", self._control_sent)
        self._runner, self.port = await serve_local(app, self.port)

    async def stop(self) -> None:
        await self._stop_delivery()
        self._release.set()  # calls held by ``stall`` end with the server
        self._closing = True  # a long poll in progress answers now (the runner waits for running handlers)
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- control API for a benchmark driving the server in another process ------------------------------------

    async def _control_push(self, request: web.Request) -> web.Response:
        body = await request.json()
        ids = [self.push(update) for update in body["updates"]]
        return web.json_response({"ids": ids})

    async def _control_sent(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        sent = [{"chat_id": s.chat_id, "received_at": s.received_at} for s in self.sent[since:]]
        return web.json_response({"total": len(self.sent), "sent": sent})

    # -- HTTP -------------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        self.callers.append(request.match_info.get("caller", ""))
        if method == "getUpdates":
            return await self._answer(method, params)
        self.in_flight += 1
        self.changed()
        try:
            return await self._answer(method, params)
        finally:
            self.in_flight -= 1
            self.changed()

    async def _answer(self, method: str, params: dict[str, Any]) -> web.Response:
        if method == "getUpdates" and self.poll_faults:
            poll_fault = self.poll_faults.pop(0)
            if poll_fault == "html":  # a proxy or captive portal answering in Telegram's place
                return web.Response(text="<html><body>Gateway</body></html>", content_type="text/html")
            if poll_fault == "409":
                description = "Conflict: terminated by other getUpdates request; make sure that only one bot instance"
                return web.json_response({"ok": False, "error_code": 409, "description": description}, status=409)
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500
            )
        if self.stall.get(method):  # e.g. the process is killed while it waits for this answer
            self.stall[method] -= 1
            self.stalled.append((method, params))
            held = method != "getUpdates"  # counted in flight (see _handle)
            self.in_flight -= held  # held on purpose: the bot is not busy with it
            self.changed()
            await self._release.wait()
            self.in_flight += held
        fault = None
        queue = self.faults.get(method)
        if queue:  # "500@<chat id>" meets only a call for that chat
            kind, _, chat = queue[0].partition("@")
            if not chat or str(params.get("chat_id")) == chat:
                fault = queue.pop(0) and kind
        server_error = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        if fault == "500":
            return web.json_response(server_error, status=500)
        try:
            handler = getattr(self, f"api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
            if fault == "500-after":  # the effect happened; the answer is lost
                return web.json_response(server_error, status=500)
        except ApiError as exc:
            self.errors.append((method, exc.code, exc.description))
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json()
        else:
            raw = dict(await request.post())
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key in INT_FIELDS and isinstance(value, str):
                params[key] = int(value) if value.lstrip("-").isdigit() else value
            elif key in JSON_FIELDS and isinstance(value, str):
                params[key] = json.loads(value)
            else:
                params[key] = value
        return params

    # -- Bot API methods ----------------------------------------------------------------------------------------

    async def api_getMe(self, _: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - Bot API name
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Lotse",
            "username": "lotse_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def api_deleteWebhook(self, _: dict[str, Any]) -> bool:  # noqa: N802
        self.webhook = None
        await self._stop_delivery()  # what was not confirmed stays in ``updates``, for getUpdates
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> bool:  # noqa: N802
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if self.webhook != (str(params["url"]), secret):
            await self._stop_delivery()
        self.webhook = (str(params["url"]), secret)
        if self.deliver_to is not None and self._delivery is None:
            connections = min(int(params.get("max_connections") or 40), self.max_connections)
            self._delivery = WebhookDelivery(self, self.deliver_to, secret, connections=connections)
        return True

    async def _stop_delivery(self) -> None:
        delivery, self._delivery = self._delivery, None
        if delivery is not None:
            await delivery.stop()

    def acknowledge(self, update_id: int) -> None:
        """Webhook mode: the bot answered 200 for this update; it is confirmed and not sent again."""
        self._acked.add(update_id)
        self.updates = [u for u in self.updates if u["update_id"] != update_id]
        self.confirmed = min((u["update_id"] for u in self.updates), default=self.pushed + 1)
        self._resolve_confirmations()
        self.changed()

    def _resolve_confirmations(self) -> None:
        for update_id, future in self._confirmations:
            if (update_id < self.confirmed or update_id in self._acked) and not future.done():
                future.set_result(None)

    async def api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802
        if self._delivery is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                                "to delete the webhook first")  # fmt: skip
        offset = int(params.get("offset") or 0)
        if offset > self.confirmed:
            self.confirmed = offset
            self.changed()
            self._resolve_confirmations()
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and not self._closing:
            self._new_update.clear()
            wait = min(float(params.get("timeout") or 0), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout=wait)
        return self.updates[: int(params.get("limit") or 100)]

    async def api_setMyCommands(self, params: dict[str, Any]) -> bool:  # noqa: N802
        commands = params.get("commands") or []
        if not 0 < len(commands) <= 100:
            raise ApiError(400, "Bad Request: commands must be non-empty")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code") or ""] = commands
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:  # noqa: N802
        self.answered.add(str(params.get("callback_query_id")))
        return True

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        sent = self._message(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        sent.reply_markup, sent.edits = markup, sent.edits + 1
        return {"message_id": sent.message_id, "date": int(time.time()), "chat": self._chat_json(sent.chat_id)}

    async def api_sendChatAction(self, _: dict[str, Any]) -> bool:  # noqa: N802
        return True

    def _check_send(self, chat_id: int) -> None:
        if chat_id < 0 and chat_id not in self.forums | self.groups:
            raise ApiError(400, "Bad Request: chat not found")
        if self.throttle_chats.get(chat_id, 0) > 0:
            self.throttle_chats[chat_id] -= 1
            self.throttled += 1
            raise ApiError(429, f"Too Many Requests: retry after {self.retry_after}", retry_after=self.retry_after)
        if self.throttle > 0:
            self.throttle -= 1
            self.throttled += 1
            raise ApiError(429, f"Too Many Requests: retry after {self.retry_after}", retry_after=self.retry_after)
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        return {"id": chat_id, "type": "supergroup", "title": "Staff", "is_forum": chat_id in self.forums}

    def _place(self, chat_id: int, params: dict[str, Any]) -> tuple[int | None, int | None]:
        thread = params.get("message_thread_id")
        if thread is not None:
            if chat_id not in self.forums or int(thread) not in self.topics.get(chat_id, {}):
                raise ApiError(400, "Bad Request: message thread not found")
            thread = int(thread)
        reply = params.get("reply_parameters") or {}
        return thread, reply.get("message_id")

    async def _record(self, sent: Sent) -> dict[str, Any]:
        async with self._new_sent:
            self.sent.append(sent)
            self._new_sent.notify_all()
        result: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self._chat_json(sent.chat_id),
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Lotse"},
        }
        if sent.thread_id is not None:
            result["message_thread_id"] = sent.thread_id
            result["is_topic_message"] = True
        if sent.media is None:
            result["text"] = sent.visible
        else:
            file = {"file_id": sent.file_id, "file_unique_id": sent.file_id}
            result[sent.media] = [{**file, "width": 1, "height": 1}] if sent.media == "photo" else (
                {**file, "duration": 1} if sent.media == "voice" else file)  # fmt: skip
            result["caption"] = sent.visible
        return result

    async def api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - Bot API name
        chat_id = int(params["chat_id"])
        self._check_send(chat_id)
        raw = str(params.get("text") or "")
        mode = params.get("parse_mode")
        visible = parse_html(raw) if mode == "HTML" else raw
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        thread, reply_to = self._place(chat_id, params)
        sent = Sent(chat_id, next(self._message_ids), visible, raw, mode, markup, thread_id=thread, reply_to=reply_to)
        return await self._record(sent)

    async def _send_media(self, media: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._check_send(chat_id)
        raw = str(params.get("caption") or "")
        mode = params.get("parse_mode")
        visible = parse_html(raw) if mode == "HTML" else raw
        if utf16_len(visible) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        thread, reply_to = self._place(chat_id, params)
        file_id = str(params.get(media) or "")
        if not file_id:
            raise ApiError(400, f"Bad Request: there is no {media} in the request")
        sent = Sent(chat_id, next(self._message_ids), visible, raw, mode, None, thread_id=thread, reply_to=reply_to,
                    media=media, file_id=file_id)  # fmt: skip
        return await self._record(sent)

    async def api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return await self._send_media("photo", params)

    async def api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return await self._send_media("document", params)

    async def api_sendVoice(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return await self._send_media("voice", params)

    def _message(self, params: dict[str, Any]) -> Sent:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id and not sent.deleted:
                return sent
        raise ApiError(400, "Bad Request: message to edit not found")

    async def api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        sent = self._message(params)
        if sent.media is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        raw = str(params.get("text") or "")
        visible = parse_html(raw) if params.get("parse_mode") == "HTML" else raw
        if utf16_len(visible) > 4096:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if visible == sent.visible and markup == sent.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        sent.visible, sent.raw, sent.reply_markup, sent.edits = visible, raw, markup, sent.edits + 1
        return {"message_id": sent.message_id, "date": int(time.time()), "chat": self._chat_json(sent.chat_id),
                "text": visible}  # fmt: skip

    async def api_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        sent = self._message(params)
        raw = str(params.get("caption") or "")
        visible = parse_html(raw) if params.get("parse_mode") == "HTML" else raw
        if utf16_len(visible) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        sent.visible = visible
        sent.raw, sent.edits = raw, sent.edits + 1
        return {"message_id": sent.message_id, "date": int(time.time()), "chat": self._chat_json(sent.chat_id)}

    async def api_editMessageMedia(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        sent = self._message(params)
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
            raise ApiError(400, "Bad Request: can't parse InputMedia")
        if sent.media not in ("photo", "document"):  # a voice message or a text: its media cannot be replaced
            raise ApiError(400, "Bad Request: message can't be edited")
        attached = str(media.get("media") or "")
        if attached.startswith("attach://") and attached.removeprefix("attach://") not in params:
            raise ApiError(400, "Bad Request: file not found in the request")
        raw = str(media.get("caption") or "")
        sent.media, sent.file_id = str(media["type"]), f"new-{attached}"
        sent.visible, sent.raw, sent.edits = raw, raw, sent.edits + 1
        return {"message_id": sent.message_id, "date": int(time.time()), "chat": self._chat_json(sent.chat_id)}

    async def api_deleteMessage(self, params: dict[str, Any]) -> bool:  # noqa: N802
        sent = self._message(params)
        if self.delete_window is not None and time.time() - sent.received_at > self.delete_window:
            raise ApiError(400, "Bad Request: message can't be deleted")
        sent.deleted = True
        return True

    async def api_deleteForumTopic(self, params: dict[str, Any]) -> bool:  # noqa: N802
        chat_id, thread = int(params["chat_id"]), int(params["message_thread_id"])
        if self.topics.get(chat_id, {}).pop(thread, None) is None:
            raise ApiError(400, "Bad Request: message thread not found")
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.thread_id == thread:
                sent.deleted = True
        return True

    async def api_setMessageReaction(self, params: dict[str, Any]) -> bool:  # noqa: N802
        for reaction in params.get("reaction") or []:
            self.reactions.append((int(params["chat_id"]), int(params["message_id"]), str(reaction.get("emoji"))))
        return True

    async def api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        chat_id = int(params["chat_id"])
        if chat_id < 0 and chat_id not in self.forums | self.groups:
            raise ApiError(400, "Bad Request: chat not found")
        gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}  # fmt: skip
        return {**self._chat_json(chat_id), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}  # fmt: skip

    async def api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        if user_id == self.bot_id:  # the bot itself: an administrator with the rights the test gave it
            rights = {**ADMIN_RIGHTS, **self.bot_rights.get(chat_id, {})}
            bot = {"id": user_id, "is_bot": True, "first_name": "Lotse"}
            return {"status": "administrator", "user": bot, "can_be_edited": False, "is_anonymous": False, **rights}
        status = "member" if user_id in self.members.get(chat_id, set()) else "left"
        return {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": "Staff"}}

    async def api_createForumTopic(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        chat_id = int(params["chat_id"])
        if chat_id not in self.forums:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        if not self.bot_rights.get(chat_id, {}).get("can_manage_topics", True):
            raise ApiError(400, "Bad Request: not enough rights to create a topic")
        self._check_send(chat_id)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(400, "Bad Request: TOPIC_NAME_INVALID")
        thread = next(self._message_ids)  # a topic's id is the id of its creation service message
        self.topics.setdefault(chat_id, {})[thread] = {"name": name, "closed": False}
        self.service_messages.append((chat_id, time.time()))
        return {"message_thread_id": thread, "name": name, "icon_color": 7322096}

    async def _topic_state(self, params: dict[str, Any], closed: bool) -> bool:
        chat_id, thread = int(params["chat_id"]), int(params["message_thread_id"])
        topic = self.topics.get(chat_id, {}).get(thread)
        if topic is None:
            raise ApiError(400, "Bad Request: message thread not found")
        if topic["closed"] == closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        return True

    async def api_closeForumTopic(self, params: dict[str, Any]) -> bool:  # noqa: N802
        return await self._topic_state(params, True)

    async def api_reopenForumTopic(self, params: dict[str, Any]) -> bool:  # noqa: N802
        return await self._topic_state(params, False)

    # -- for tests ----------------------------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        self.pushed = max(self.pushed, update_id)
        self._new_update.set()
        if self._delivery is not None:
            self._delivery.wake.set()
        self.changed()
        return update_id

    # -- the idle signal ----------------------------------------------------------------------------------------

    def changed(self) -> None:
        """Something the idle signal looks at changed: wake everyone waiting in settle or until_confirmed."""
        self._activity.set()
        self._activity = asyncio.Event()

    async def _busy(self) -> str:
        """Why the bot is busy, or "" when it is idle."""
        if self.pushed and self.confirmed <= self.pushed:
            return f"updates {self.confirmed}..{self.pushed} not confirmed (processed) yet"
        if self.in_flight:
            return f"{self.in_flight} Bot API calls in flight"
        for check in self.busy_checks:
            if await check():
                return f"busy: {getattr(check, '__qualname__', check)}"
        return ""

    async def settle(self, timeout: float = 10.0) -> None:
        """Return when the bot is idle: every pushed update processed (confirmed), no Bot API call in flight and no
        busy check busy. After it the bot does nothing more until something new happens (or a delivery scheduled for
        later falls due). With webhook delivery (``deliver_to``) an update is confirmed when the bot answered its
        POST with 200; a test that posts to the bot itself pushes nothing, so only calls in flight and the busy
        checks count."""
        deadline = time.monotonic() + timeout
        while True:
            activity = self._activity  # any change from here on sets it
            busy = await self._busy()
            if not busy:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the bot did not become idle within {timeout:.0f} s: {busy}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(activity.wait(), min(remaining, RECHECK))

    async def until_confirmed(self, update_id: int, timeout: float = 10.0) -> bool:
        """Wait until the bot confirmed ``update_id`` (processed it completely); whether it did within ``timeout``."""
        if self.confirmed > update_id or update_id in self._acked:
            return True
        entry = (update_id, asyncio.get_running_loop().create_future())
        self._confirmations.append(entry)
        try:
            await asyncio.wait_for(entry[1], timeout)
        except TimeoutError:
            return False
        finally:
            self._confirmations.remove(entry)
        return True

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_for(self, chat_id: int, count: int, timeout: float = 10.0, settle: bool = True) -> list[Sent]:
        """Wait until ``count`` messages reached ``chat_id`` and, with ``settle``, until the bot is idle (nothing more
        comes); without, return what is there at once (while the bot is stuck on something else)."""
        deadline = time.monotonic() + timeout
        async with self._new_sent:
            while len(self.to(chat_id)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} messages to {chat_id}, got {len(self.to(chat_id))}")
                try:
                    await asyncio.wait_for(self._new_sent.wait(), remaining)
                except TimeoutError:
                    continue
        if settle:
            await self.settle()
        return self.to(chat_id)


@dataclass
class FakeUser:
    """A person using Telegram: sends updates to the fake server and reads the bot's replies."""

    server: FakeTelegram
    id: int
    first_name: str = "Amal"
    language_code: str | None = "en"
    chat_type: str = "private"
    chat_id: int | None = None
    seen: int = 0

    def _who(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _chat(self) -> dict[str, Any]:
        if self.chat_type == "private":
            return {"id": self.id, "type": "private", "first_name": self.first_name}
        return {"id": self.chat_id, "type": self.chat_type, "title": "Some group"}

    def _message(self, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self.server._message_ids), "date": int(time.time()), "chat": self._chat(),
                "from": self._who(), **content}  # fmt: skip

    def push_text(
        self, text: str, *, edited: bool = False, forwarded: bool = False, message_id: int | None = None
    ) -> int:
        """Push a text message (or an edit of ``message_id``); returns its message id."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if forwarded:
            content["forward_origin"] = {"type": "hidden_user", "date": int(time.time()), "sender_user_name": "X"}
        message = self._message(**content)
        if message_id is not None:
            message["message_id"] = message_id
        if edited:
            message["edit_date"] = int(time.time())
        self.server.user_texts[(int(message["chat"]["id"]), int(message["message_id"]))] = text
        self.server.push({"edited_message" if edited else "message": message})
        return int(message["message_id"])

    async def _replies(self, expect: int, timeout: float = 10.0, settle: bool = True) -> list[Sent]:
        chat = self.id if self.chat_type == "private" else int(self.chat_id or 0)
        all_sent = await self.server.wait_for(chat, self.seen + expect, timeout=timeout, settle=settle)
        new = all_sent[self.seen :]
        self.seen = len(all_sent)
        return new

    async def send(self, text: str, expect: int = 1, *, settle: bool = True, **kwargs: Any) -> list[Sent]:
        """Send a text message; return the bot's replies (at least ``expect``; with ``settle``, all of them)."""
        self.push_text(text, **kwargs)
        return await self._replies(expect, settle=settle)

    async def send_content(self, expect: int = 1, **content: Any) -> list[Sent]:
        """Send a non-text message (voice=..., sticker=..., location=...)."""
        self.server.push({"message": self._message(**content)})
        return await self._replies(expect)

    def last_buttons(self) -> list[tuple[str, str | None]]:
        chat = self.id
        for sent in reversed(self.server.to(chat)):
            if sent.buttons:
                return sent.buttons
        return []

    async def tap(self, label: str, expect: int = 1, settle: bool = True) -> list[Sent]:
        """Tap the inline button with this label (or callback data) on the latest message that has it."""
        for sent in reversed(self.server.to(self.id)):
            for text, data in sent.buttons:
                if label in (text, data) or (label in text):
                    message = {"message_id": sent.message_id, "date": int(time.time()), "chat": self._chat(),
                               "text": sent.text}  # fmt: skip
                    query: dict[str, Any] = {"id": str(next(self.server._update_ids)), "from": self._who(),
                                             "chat_instance": "1", "data": data, "message": message}  # fmt: skip
                    if sent.reply_markup is not None:  # Telegram sends the message's buttons along
                        query["message"]["reply_markup"] = sent.reply_markup
                    quoted = self.server.user_texts.get((sent.chat_id, sent.reply_to or 0))
                    if quoted is not None:  # Telegram sends the message a bot message replies to along with it
                        query["message"]["reply_to_message"] = self._message(text=quoted) | {
                            "message_id": sent.reply_to
                        }
                    self.server.push({"callback_query": query})
                    return await self._replies(expect, settle=settle)
        raise AssertionError(f"no button {label!r}; buttons: {self.last_buttons()}")

    def forge_tap(self, data: str, sent: Sent | None = None) -> str:
        """A tap with any data, as a modified client can send it (on ``sent``, or with no message); returns its id."""
        query_id = str(next(self.server._update_ids))
        query: dict[str, Any] = {"id": query_id, "from": self._who(), "chat_instance": "1", "data": data}
        if sent is not None:
            query["message"] = {"message_id": sent.message_id, "date": int(time.time()), "chat": self._chat(),
                                "text": sent.text, "reply_markup": sent.reply_markup}  # fmt: skip
        self.server.push({"callback_query": query})
        return query_id


@dataclass
class FakeStaff:
    """A member of a staff supergroup: writes in forum topics or replies, taps ticket buttons, sends commands."""

    server: FakeTelegram
    id: int
    chat_id: int
    first_name: str = "Petra"

    def __post_init__(self) -> None:
        self.server.members.setdefault(self.chat_id, set()).add(self.id)

    def _who(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": "de"}

    def _message(self, thread: int | None, reply_to: int | None, **content: Any) -> dict[str, Any]:
        chat = {
            "id": self.chat_id,
            "type": "supergroup",
            "title": "Staff",
            "is_forum": self.chat_id in self.server.forums,
        }
        message: dict[str, Any] = {"message_id": next(self.server._message_ids), "date": int(time.time()),
                                   "chat": chat, "from": self._who(), **content}  # fmt: skip
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        replied = reply_to if reply_to is not None else thread  # in a topic, Telegram sets the topic's first message
        if replied is not None:
            message["reply_to_message"] = {"message_id": replied, "date": int(time.time()), "chat": chat}
            topic = self.server.topics.get(self.chat_id, {}).get(replied)
            if topic is not None:  # the topic's creation message, as Telegram sends it along
                bot = {"id": self.server.bot_id, "is_bot": True, "first_name": "Lotse"}
                created = {"name": topic["name"], "icon_color": 7322096}
                message["reply_to_message"].update({"from": bot, "forum_topic_created": created})
        return message

    def write(self, text: str, *, thread: int | None = None, reply_to: int | None = None) -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message = self._message(thread, reply_to, **content)
        self.server.push({"message": message})
        return int(message["message_id"])

    def send_photo(self, file_id: str, caption: str, *, thread: int | None = None) -> int:
        photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 10, "height": 10}]
        message = self._message(thread, None, photo=photo, caption=caption)
        self.server.push({"message": message})
        return int(message["message_id"])

    def edit(self, message_id: int, text: str, *, thread: int | None = None) -> None:
        message = self._message(thread, None, text=text)
        message["message_id"] = message_id
        message["edit_date"] = int(time.time())
        self.server.push({"edited_message": message})

    def tap(self, sent: Sent, label: str) -> None:
        """Tap a button (by label or its beginning) on a message the bot sent to the group."""
        for text, data in sent.buttons:
            if text.startswith(label) or data == label:
                chat = {"id": self.chat_id, "type": "supergroup", "title": "Staff"}
                message = {"message_id": sent.message_id, "date": int(time.time()), "chat": chat, "text": sent.text}
                query: dict[str, Any] = {"id": str(next(self.server._update_ids)), "from": self._who(),
                                         "chat_instance": "2", "data": data, "message": message}  # fmt: skip
                if sent.reply_markup is not None:
                    query["message"]["reply_markup"] = sent.reply_markup
                self.server.push({"callback_query": query})
                return
        raise AssertionError(f"no button {label!r} on {sent.buttons}")


async def _serve(port: int) -> None:
    server = FakeTelegram(port=port)
    await server.start()
    print(server.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":  # python -m tests.e2e.fake_telegram [port]: serve until killed (for benchmarks)
    import sys

    asyncio.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
