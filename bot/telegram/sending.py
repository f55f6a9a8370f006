"""Sending one outbox delivery: a message or media to a person or a staff group, a case's card and forum topic,
an edit, a deletion, a centre's webhook. The worker (:mod:`bot.telegram.outbox`) decides when; this decides how.
"""

from __future__ import annotations

import contextlib
import functools
import html as htmllib
import logging
import struct
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import replace
from typing import Any

import httpx
from telegram import Bot, InputMediaPhoto, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.core.handoff import Handoff, OutboxItem, Ticket
from bot.core.ports import Outbox
from bot.core.replies import Reply
from bot.telegram.keyboards import markup
from bot.telegram.ratelimit import NO_RETRY
from bot.telegram.render import MAX_UTF16, shorten, to_html, utf16_len
from bot.webapi import Hook, LibreTranslate, post_event

log = logging.getLogger("lotse.outbox")
CAPTION_LIMIT = 1024
REDACTED = "🗑 (gelöscht)"
REFUSED = (BadRequest, Forbidden, RetryAfter)  # Telegram certainly did not do it


class GoneError(Exception):
    """Nothing to do any more (the ticket was deleted, the message to edit does not exist)."""


class TopicGoneError(Exception):
    """The ticket's forum topic no longer exists."""


@functools.cache
def placeholder_png() -> bytes:
    """A 64 x 64 light grey PNG: what a deleted photo or document is replaced with when Telegram no longer deletes
    it."""
    width = height = 64
    raw = b"".join(b"\x00" + b"\xdd" * width for _ in range(height))  # filter byte, then one grey byte per pixel

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def says(exc: BadRequest, *reasons: str) -> bool:
    """Whether Telegram's error text says one of ``reasons`` ("not found", "not modified", ...)."""
    text = str(exc).lower().replace("_", " ")
    return any(reason in text for reason in reasons)


@contextlib.contextmanager
def ignoring(*reasons: str) -> Iterator[None]:
    """Treat a BadRequest that says one of ``reasons`` as done (already deleted, already in that state)."""
    try:
        yield
    except BadRequest as exc:
        if not says(exc, *reasons):
            raise


def _labelled(label: str, text: str, limit: int, *, bold: bool, gap: str = "\n") -> str:
    """HTML of a label and a text whose visible length (what Telegram counts, in UTF-16 units) fits ``limit``."""
    head = label + (gap if text else "")
    body = shorten(text, limit - utf16_len(head)) if text else ""
    shown = f"<b>{_escape(label)}</b>" if bold else _escape(label)
    return shown + (gap + _escape(body) if text else "")


def _escape(text: str) -> str:
    return htmllib.escape(text, quote=False)


@contextlib.asynccontextmanager
async def intent(outbox: Outbox, ticket_id: int, flag: str) -> AsyncIterator[None]:
    """Store that Telegram is about to be asked (``topic_tried`` or ``card_tried``) before asking: when the answer
    is lost (a 5xx, a timeout, the process killed), the effect may exist and is never asked for twice. A certain
    refusal clears the flag, so it may be asked for again."""
    await outbox.set_place(ticket_id, **{flag: True})
    try:
        yield
    except REFUSED:
        await outbox.set_place(ticket_id, **{flag: False})
        raise


class Sender:
    """Sends deliveries to Telegram and to centres' webhooks; each call raises what the worker must handle."""

    def __init__(
        self,
        bot: Bot,
        handoff: Handoff,
        outbox: Outbox,
        *,
        hooks: Mapping[str, Hook] | None = None,
        translator: LibreTranslate | None = None,
    ) -> None:
        self.bot = bot
        self.handoff = handoff
        self.outbox = outbox
        self.hooks = dict(hooks or {})
        self.translator = translator
        self._forum: dict[int, bool] = {}
        self._http: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def no_retry(self) -> dict[str, Any]:
        """The worker does its own retries: the rate limiter must not wait and retry inside a call."""
        if getattr(self.bot, "rate_limiter", None) is not None:
            return {"rate_limit_args": NO_RETRY}  # ChatRateLimiter: no retry inside the call
        return {}

    async def _ticket(self, item: OutboxItem) -> Ticket | None:
        return await self.handoff.store.get(item.ticket_id) if item.ticket_id is not None else None

    async def deliver(self, item: OutboxItem) -> tuple[int | None, int | None]:
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
        try:
            async with intent(self.outbox, ticket.id, "topic_tried"):
                topic = await self.bot.create_forum_topic(
                    ticket.chat_id, self.handoff.topic_name(ticket), **self.no_retry()
                )
        except REFUSED:
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
        try:
            async with intent(self.outbox, ticket.id, "card_tried"):
                message = await self._send_html(ticket.chat_id, card, place)
        except TopicGoneError:  # staff deleted the new topic: a new one at the next try
            await self.outbox.set_place(ticket.id, clear_thread=True, card_tried=False)
            raise NetworkError("forum topic was deleted") from None
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
        with ignoring("not modified"):
            await self.bot.edit_message_text(
                html, ticket.chat_id, ticket.card_message_id, parse_mode=ParseMode.HTML,
                reply_markup=markup(card),  # type: ignore[arg-type]
                **self.no_retry(),
            )  # fmt: skip
        await self.outbox.set_place(ticket.id, card_version=ticket.version)

    async def _delete(self, chat_id: int, message_id: int) -> None:
        """Delete a relayed message; where Telegram no longer allows it (after 48 hours), overwrite it."""
        try:
            await self.bot.delete_message(chat_id, message_id, **self.no_retry())
            return
        except BadRequest as exc:
            if says(exc, "not found"):  # deleted by staff already
                return
        try:
            await self.bot.edit_message_text(REDACTED, chat_id, message_id, **self.no_retry())
        except BadRequest as exc:
            if says(exc, "no text"):  # a photo or document: replaced by an empty picture
                placeholder = InputMediaPhoto(placeholder_png(), caption=REDACTED)
                try:
                    await self.bot.edit_message_media(placeholder, chat_id, message_id, **self.no_retry())
                except BadRequest:  # a voice message cannot be replaced: its caption goes at least
                    with contextlib.suppress(BadRequest):
                        await self.bot.edit_message_caption(chat_id, message_id, caption=REDACTED, **self.no_retry())
            elif not says(exc, "not modified", "not found"):
                raise

    async def _delete_topic(self, chat_id: int, thread_id: int) -> None:
        with ignoring("not found"):
            await self.bot.delete_forum_topic(chat_id, thread_id, **self.no_retry())

    async def _topic_state(self, ticket: Ticket | None, state: str) -> None:
        if ticket is None or ticket.thread_id is None:
            raise GoneError
        if state == "delete":  # the case's topic with everything in it (Telegram allows that at any age)
            await self._delete_topic(ticket.chat_id, ticket.thread_id)
            return
        with ignoring("not modified"):  # already in that state
            if state == "close":
                await self.bot.close_forum_topic(ticket.chat_id, ticket.thread_id, **self.no_retry())
            else:
                await self.bot.reopen_forum_topic(ticket.chat_id, ticket.thread_id, **self.no_retry())

    async def _send_html(self, chat_id: int, reply: Reply, place: Mapping[str, Any]) -> int:
        first: int | None = None
        parts = to_html(reply)
        for index, html in enumerate(parts):
            keyboard = markup(reply) if index == len(parts) - 1 else None
            try:
                message = await self.bot.send_message(
                    chat_id, html, parse_mode=ParseMode.HTML, reply_markup=keyboard, **place, **self.no_retry()
                )
            except BadRequest as exc:
                if says(exc, "thread not found") and "message_thread_id" in place:
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
        common: dict[str, Any] = {"caption": html, "parse_mode": ParseMode.HTML, **place, **self.no_retry()}
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
            await self.bot.edit_message_text(html, chat_id, message_id, parse_mode=ParseMode.HTML, **self.no_retry())
        except BadRequest as exc:
            if says(exc, "no text"):  # a photo or document: its caption changes
                caption = _labelled(label, text, CAPTION_LIMIT, bold=True)
                await self.bot.edit_message_caption(chat_id, message_id, caption=caption, parse_mode=ParseMode.HTML)
            elif not says(exc, "not modified"):
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
