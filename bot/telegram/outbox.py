"""The outbox worker: delivers what the handoff stored, in order per destination, with retries that survive restarts.

Each destination (a person's chat, a staff group, a centre's webhook) gets its deliveries in the order they were
stored; the worker claims the oldest undelivered item of each destination with a lease, so several bot processes
can run workers without sending anything twice. 429 waits exactly ``retry_after``; network errors back off (2 s up
to 5 min); 403 from a person ends the retries and marks the ticket; a staff group receives at most 20 messages a
minute (counted in the database, so it holds across processes and restarts).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import functools
import html as htmllib
import logging
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx
from telegram import Bot, InputMediaPhoto, ReactionTypeEmoji, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.core.handoff import Handoff, OutboxItem, Ticket, next_retry, weight
from bot.core.ports import Outbox, StoreUnavailableError
from bot.core.replies import Reply
from bot.telegram.destinations import is_setup_error
from bot.telegram.keyboards import markup
from bot.telegram.render import MAX_UTF16, shorten, to_html, utf16_len
from bot.telegram.safelog import where
from bot.telegram.webapi import Hook, LibreTranslate, PermanentError, TemporaryError, post_event

log = logging.getLogger("lotse.outbox")
CAPTION_LIMIT = 1024
REDACTED = "🗑 (gelöscht)"


@dataclass(frozen=True, slots=True)
class OutboxSettings:
    """How the worker paces itself (``LOTSE_GROUP_RATE`` changes the group limit, for tests only)."""

    lease: float = 30.0  # seconds a claimed item is reserved for one worker
    group_limit: int = 20  # messages ...
    group_window: float = 60.0  # ... per this many seconds into one group (Telegram's limit)
    poll: float = 1.0  # look for work stored by other processes this often
    batch: int = 32  # destinations served per round
    max_attempts: int = 500  # about two days of retries at the longest backoff


class GoneError(Exception):
    """Nothing to do any more (the ticket was deleted, the message to edit does not exist)."""


def _labelled(label: str, text: str, limit: int, *, bold: bool, gap: str = "\n") -> str:
    """HTML of a label and a text whose visible length (what Telegram counts, in UTF-16 units) fits ``limit``."""
    head = label + (gap if text else "")
    body = shorten(text, limit - utf16_len(head)) if text else ""
    shown = f"<b>{_escape(label)}</b>" if bold else _escape(label)
    return shown + (gap + _escape(body) if text else "")


class Worker:
    """Sends stored deliveries until stopped."""

    def __init__(
        self,
        bot: Bot,
        handoff: Handoff,
        outbox: Outbox,
        settings: OutboxSettings = OutboxSettings(),
        *,
        clock: Callable[[], float] = time.time,
        hooks: Mapping[str, Hook] | None = None,
        translator: LibreTranslate | None = None,
    ) -> None:
        self.bot = bot
        self.handoff = handoff
        self.outbox = outbox
        self.settings = settings
        self.clock = clock
        self.hooks = dict(hooks or {})
        self.translator = translator
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._forum: dict[int, bool] = {}
        self._http: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """New deliveries were stored: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.get_running_loop().create_task(self.run(), name="lotse-outbox")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                served = await self.once()
            except StoreUnavailableError as exc:  # the database is unreachable for a moment: the next poll
                log.warning("outbox: database unavailable (%s); again in %.0f s", exc, self.settings.poll)
                served = 0
            except Exception as exc:  # a bug: logged, and the worker goes on
                log.error("outbox round failed: %s", where(exc))
                served = 0
            if served == 0 and not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll)

    async def once(self) -> int:
        """One round: the oldest due item of each destination, sent concurrently. Returns how many were handled."""
        items = await self.outbox.claim(self.clock(), self.settings.lease, self.settings.batch)
        if items:
            await asyncio.gather(*(self._handle(item) for item in items))
        return len(items)

    # -- one item -----------------------------------------------------------------------------------------------

    async def _handle(self, item: OutboxItem) -> None:
        now = self.clock()
        cost = weight(item.kind, item.dest)
        if cost:
            window = self.settings.group_window
            sent = await self.outbox.sent_since(item.dest, now - window)
            if len(sent) + cost > self.settings.group_limit:
                free_at = sent[len(sent) + cost - self.settings.group_limit - 1] + window
                await self.outbox.postpone(item.id, max(free_at, now + 0.05))
                return
        try:
            chat_id, message_id = await self._deliver(item)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)
            await self.outbox.retry(item.id, self.clock() + seconds, "429")
            log.warning("outbox %s: rate limited for %.0f s", item.id, seconds)
        except Forbidden as exc:
            await self._forbidden(item, exc)
        except GoneError:
            await self.outbox.delivered(item.id, None, None, self.clock())
        except (BadRequest, PermanentError) as exc:
            if isinstance(exc, BadRequest) and (item.chat_id or 0) < 0 and is_setup_error(str(exc)):
                # A staff group's setup (the id, membership, the bot's rights): kept until an administrator fixes it.
                log.error("outbox %s: staff group %s refused it (%s); kept until fixed", item.id, item.chat_id,
                          _reason(exc))  # fmt: skip
                await self._until_fixed(item, "setup")
                await self._tell_waiting(item)
                return
            await self.outbox.give_up(item.id, str(exc), self.clock())
            log.error("outbox %s (%s): refused for good: %s", item.id, item.kind, _reason(exc))
        except (NetworkError, TemporaryError, TelegramError, OSError) as exc:
            await self._again(item, type(exc).__name__)
        except Exception as exc:  # a bug must not stop the worker; the item is retried with backoff
            log.error("outbox %s (%s) failed: %s", item.id, item.kind, where(exc))
            await self._again(item, type(exc).__name__)
        else:
            await self.outbox.delivered(item.id, chat_id, message_id, self.clock())
            await self._acknowledge(item)
            if item.kind == "announce" and item.attempts > 0 and item.ticket_id is not None:
                await self.handoff.reached(item.ticket_id, self.clock())

    async def _again(self, item: OutboxItem, reason: str) -> None:
        if item.attempts + 1 >= self.settings.max_attempts:
            await self.outbox.give_up(item.id, reason, self.clock())
            log.error("outbox %s (%s): gave up after %d attempts", item.id, item.kind, item.attempts + 1)
            return
        await self.outbox.retry(item.id, self.clock() + next_retry(item.attempts + 1), reason)

    async def _forbidden(self, item: OutboxItem, exc: Forbidden) -> None:
        chat_id = item.chat_id
        if chat_id is not None and chat_id > 0:  # the person blocked the bot: no retries, the staff are told
            await self.outbox.give_up(item.id, "blocked", self.clock())
            if item.ticket_id is not None:
                await self.handoff.blocked(item.ticket_id, self.clock())
                ticket = await self.handoff.store.get(item.ticket_id)
                log.info("case %s: the person blocked the bot", ticket.case if ticket else item.ticket_id)
            return
        # The bot was removed from a staff group: keep everything until an administrator adds it again.
        log.error("outbox %s: no access to staff group %s (%s)", item.id, chat_id, _reason(exc))
        await self._until_fixed(item, "forbidden")
        await self._tell_waiting(item)

    async def _tell_waiting(self, item: OutboxItem) -> None:
        """A new case that cannot reach its staff group: the person is told so after the first failure."""
        if item.kind == "announce" and item.attempts == 0 and item.ticket_id is not None:
            await self.handoff.unreachable(item.ticket_id, self.clock())

    async def _until_fixed(self, item: OutboxItem, reason: str) -> None:
        """Retry with backoff (at most every 5 minutes) and never give up: the fix is an administrator's."""
        await self.outbox.retry(item.id, self.clock() + next_retry(item.attempts + 1), reason)

    async def _acknowledge(self, item: OutboxItem) -> None:
        """A 👍 reaction on the person's message once it reached the staff group."""
        ack = item.payload.get("ack")
        if not isinstance(ack, Mapping):
            return
        with contextlib.suppress(TelegramError):
            await self.bot.set_message_reaction(
                int(ack["chat_id"]), int(ack["message_id"]), ReactionTypeEmoji("👍"), **self._no_retry()
            )

    def _no_retry(self) -> dict[str, Any]:
        """The worker does its own retries: the rate limiter must not wait and retry inside a call."""
        if getattr(self.bot, "rate_limiter", None) is not None:
            return {"rate_limit_args": 0}  # ChatRateLimiter: no retry inside the call
        return {}

    async def _ticket(self, item: OutboxItem) -> Ticket | None:
        return await self.handoff.store.get(item.ticket_id) if item.ticket_id is not None else None

    async def _deliver(self, item: OutboxItem) -> tuple[int | None, int | None]:
        """Send one item; returns (chat id, message id) of what was sent, for relaying edits."""
        if item.kind == "webhook":
            await self._webhook(item)
            return None, None
        chat_id = item.chat_id
        assert chat_id is not None
        ticket = await self._ticket(item)
        if item.kind == "announce":
            return await self._announce(item, ticket)
        if item.kind == "card":
            await self._edit_card(ticket)
            return None, None
        if item.kind == "topic":
            await self._topic_state(ticket, str(item.payload.get("state")))
            return None, None
        if item.kind == "delete":
            await self._delete(int(item.payload["chat_id"]), int(item.payload["message_id"]))
            return None, None
        if item.kind == "edit":
            await self._edit(item)
            return None, None
        place = await self._place(chat_id, ticket, item.payload)
        if item.kind == "media":
            return chat_id, await self._media(chat_id, item.payload, place)
        return chat_id, await self._message(chat_id, item.payload, place, ticket)

    async def _is_forum(self, chat_id: int) -> bool:
        if chat_id not in self._forum:
            chat = await self.bot.get_chat(chat_id)
            self._forum[chat_id] = bool(getattr(chat, "is_forum", False))
        return self._forum[chat_id]

    async def _place(self, chat_id: int, ticket: Ticket | None, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Where a message goes in a staff group: the ticket's forum topic, or as a reply to the ticket message."""
        if chat_id > 0:
            return {}
        if ticket is not None and payload.get("thread"):
            if ticket.thread_id is None and await self._is_forum(chat_id):
                ticket = await self._make_topic(ticket)
            if ticket.thread_id is not None:
                return {"message_thread_id": ticket.thread_id}
            if ticket.card_message_id is not None:
                return {"reply_parameters": ReplyParameters(ticket.card_message_id, allow_sending_without_reply=True)}
            return {}
        place: dict[str, Any] = {}
        if payload.get("thread_id"):
            place["message_thread_id"] = int(payload["thread_id"])
        if payload.get("reply_to"):
            place["reply_parameters"] = ReplyParameters(int(payload["reply_to"]), allow_sending_without_reply=True)
        return place

    async def _make_topic(self, ticket: Ticket) -> Ticket:
        """The case's forum topic, made once. The intent is stored first: when Telegram's answer is lost (a 5xx, a
        timeout, the process killed), the topic may exist, and a second one is never made; the case then lives in
        the group's General topic, and the topic, named after the case, is adopted when staff write in it."""
        if ticket.topic_tried:
            return ticket
        await self.outbox.set_place(ticket.id, topic_tried=True)
        try:
            topic = await self.bot.create_forum_topic(
                ticket.chat_id, self.handoff.topic_name(ticket), **self._no_retry()
            )
        except (BadRequest, Forbidden, RetryAfter):  # refused: certainly not made, so it may be asked for again
            await self.outbox.set_place(ticket.id, topic_tried=False)
            raise
        except Exception:
            log.warning("case %s: the answer to the forum topic was lost; no second topic is made", ticket.case)
            raise
        await self.outbox.set_place(ticket.id, thread_id=topic.message_thread_id)
        log.info("case %s: forum topic created", ticket.case)
        return replace(ticket, thread_id=topic.message_thread_id)

    async def _announce(self, item: OutboxItem, ticket: Ticket | None) -> tuple[int | None, int | None]:
        if ticket is None or ticket.status in ("draft", "deleted"):
            raise GoneError
        if ticket.card_message_id is not None:  # sent before a crash; only the bookkeeping was lost
            return ticket.chat_id, ticket.card_message_id
        if ticket.card_tried and ticket.thread_id is not None:
            # The card may have arrived, its id lost (a 5xx, a timeout, a crash). It is the first message of the
            # case's new topic, and nothing else went there (the case's messages wait behind the card): the topic
            # is made afresh, so the staff see the card once.
            await self._delete_topic(ticket.chat_id, ticket.thread_id)
            await self.outbox.set_place(ticket.id, clear_thread=True)
            ticket = replace(ticket, thread_id=None, topic_tried=False)
            log.warning("case %s: the answer to the card was lost; its topic is made afresh", ticket.case)
        if ticket.thread_id is None and await self._is_forum(ticket.chat_id):
            ticket = await self._make_topic(ticket)
        card = self.handoff.card(ticket)
        place = {"message_thread_id": ticket.thread_id} if ticket.thread_id is not None else {}
        await self.outbox.set_place(ticket.id, card_tried=True)
        try:
            message = await self._send_html(ticket.chat_id, card, place)
        except TopicGoneError:  # staff deleted the new topic: a new one at the next try
            await self.outbox.set_place(ticket.id, clear_thread=True, card_tried=False)
            raise NetworkError("forum topic was deleted") from None
        except (BadRequest, Forbidden, RetryAfter):  # refused: certainly not sent
            await self.outbox.set_place(ticket.id, card_tried=False)
            raise
        await self.outbox.set_place(ticket.id, card_message_id=message, card_version=ticket.version)
        log.info("case %s: announced to the staff group", ticket.case)
        return ticket.chat_id, message

    async def _edit_card(self, ticket: Ticket | None) -> None:
        if ticket is None or ticket.card_message_id is None:
            raise GoneError
        if ticket.card_version == ticket.version:  # the card shows this version already (sent late, or edited)
            raise GoneError
        card = self.handoff.card(ticket)
        html = to_html(card)[0]
        try:
            await self.bot.edit_message_text(
                html, ticket.chat_id, ticket.card_message_id, parse_mode=ParseMode.HTML,
                reply_markup=markup(card),  # type: ignore[arg-type]
                **self._no_retry(),
            )  # fmt: skip
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        await self.outbox.set_place(ticket.id, card_version=ticket.version)

    async def _delete(self, chat_id: int, message_id: int) -> None:
        """Delete a relayed message; where Telegram no longer allows it (after 48 hours), overwrite it."""
        try:
            await self.bot.delete_message(chat_id, message_id, **self._no_retry())
            return
        except BadRequest as exc:
            if "not found" in str(exc).lower():  # deleted by staff already
                return
        try:
            await self.bot.edit_message_text(REDACTED, chat_id, message_id, **self._no_retry())
        except BadRequest as exc:
            reason = str(exc).lower()
            if "no text" in reason:  # a photo or document: replaced by an empty picture
                placeholder = InputMediaPhoto(_placeholder_png(), caption=REDACTED)
                try:
                    await self.bot.edit_message_media(placeholder, chat_id, message_id, **self._no_retry())
                except BadRequest:  # a voice message cannot be replaced: its caption goes at least
                    with contextlib.suppress(BadRequest):
                        await self.bot.edit_message_caption(chat_id, message_id, caption=REDACTED, **self._no_retry())
            elif "not modified" not in reason and "not found" not in reason:
                raise

    async def _delete_topic(self, chat_id: int, thread_id: int) -> None:
        try:
            await self.bot.delete_forum_topic(chat_id, thread_id, **self._no_retry())
        except BadRequest as exc:
            if "not found" not in str(exc).lower():
                raise

    async def _topic_state(self, ticket: Ticket | None, state: str) -> None:
        if ticket is None or ticket.thread_id is None:
            raise GoneError
        if state == "delete":  # the case's topic with everything in it (Telegram allows that at any age)
            await self._delete_topic(ticket.chat_id, ticket.thread_id)
            return
        try:
            if state == "close":
                await self.bot.close_forum_topic(ticket.chat_id, ticket.thread_id, **self._no_retry())
            else:
                await self.bot.reopen_forum_topic(ticket.chat_id, ticket.thread_id, **self._no_retry())
        except BadRequest as exc:  # already in that state
            if "not_modified" not in str(exc).lower().replace(" ", "_"):
                raise

    async def _send_html(self, chat_id: int, reply: Reply, place: Mapping[str, Any]) -> int:
        first: int | None = None
        parts = to_html(reply)
        for index, html in enumerate(parts):
            keyboard = markup(reply) if index == len(parts) - 1 else None
            try:
                message = await self.bot.send_message(
                    chat_id, html, parse_mode=ParseMode.HTML, reply_markup=keyboard, **place, **self._no_retry()
                )
            except BadRequest as exc:
                if "thread not found" in str(exc).lower() and "message_thread_id" in place:
                    raise TopicGoneError from exc
                raise
            first = first if first is not None else message.message_id
        assert first is not None
        return first

    async def _message(
        self, chat_id: int, payload: Mapping[str, Any], place: Mapping[str, Any], ticket: Ticket | None
    ) -> int:
        text = str(payload.get("text") or "")
        translate = payload.get("translate")
        if translate and self.translator is not None:
            source, target = translate
            translated = await self.translator.translate(self._client(), text, str(source), str(target))
            # For the staff the original, then the translation under it; for the person only the translation.
            text = f"{text}\n\n🔤 {target}: {translated}" if chat_id < 0 else translated
        if payload.get("label"):
            text = f"{payload['label']}\n{text}"
        reply = Reply(text, title=payload.get("title"), direction=str(payload.get("direction") or "ltr"))
        try:
            return await self._send_html(chat_id, reply, place)
        except TopicGoneError:  # staff deleted the ticket's topic: a new one is made at the next try
            if ticket is not None:
                await self.outbox.set_place(ticket.id, clear_thread=True)
            raise NetworkError("forum topic was deleted") from None

    async def _media(self, chat_id: int, payload: Mapping[str, Any], place: Mapping[str, Any]) -> int:
        label = str(payload.get("label") or "")
        caption = str(payload.get("caption") or "")
        html = _labelled(label, caption, CAPTION_LIMIT, bold=True)
        file_id = str(payload["file_id"])
        common: dict[str, Any] = {"caption": html, "parse_mode": ParseMode.HTML, **place, **self._no_retry()}
        media = payload.get("media")
        if media == "photo":
            message = await self.bot.send_photo(chat_id, file_id, **common)
        elif media == "voice":
            message = await self.bot.send_voice(chat_id, file_id, **common)
        else:
            message = await self.bot.send_document(chat_id, file_id, **common)
        return message.message_id

    async def _edit(self, item: OutboxItem) -> None:
        copy = await self.outbox.copy_of(str(item.payload.get("of")))
        if copy is None:
            raise GoneError
        chat_id, message_id = copy
        label, text = str(item.payload.get("label") or ""), str(item.payload.get("text") or "")
        # An edit cannot become two messages: a text longer than Telegram allows is shortened, with a marker.
        if chat_id > 0:
            html = _labelled(label, text, MAX_UTF16, bold=True, gap="\n\n")
        else:
            html = _labelled(label, text, MAX_UTF16, bold=False)
        try:
            await self.bot.edit_message_text(html, chat_id, message_id, parse_mode=ParseMode.HTML, **self._no_retry())
        except BadRequest as exc:
            reason = str(exc).lower()
            if "no text" in reason:  # a photo or document: its caption changes
                caption = _labelled(label, text, CAPTION_LIMIT, bold=True)
                await self.bot.edit_message_caption(chat_id, message_id, caption=caption, parse_mode=ParseMode.HTML)
            elif "not modified" not in reason:
                raise

    async def _webhook(self, item: OutboxItem) -> None:
        centre_id = item.dest.partition(":")[2]
        hook = self.hooks.get(centre_id)
        if hook is None:
            raise GoneError
        await post_event(self._client(), hook, item.payload, item.key)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient()
        return self._http


class TopicGoneError(Exception):
    """The ticket's forum topic no longer exists."""


@functools.cache
def _placeholder_png() -> bytes:
    """A 64 x 64 light grey PNG: what a deleted photo or document is replaced with when Telegram no longer deletes
    it."""
    width = height = 64
    raw = b"".join(b"\x00" + b"\xdd" * width for _ in range(height))  # filter byte, then one grey byte per pixel

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _escape(text: str) -> str:
    return htmllib.escape(text, quote=False)


def _reason(exc: Exception) -> str:
    """Telegram's error text (it never contains message text), shortened for the log."""
    return str(exc)[:120]
