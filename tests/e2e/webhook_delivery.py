"""Webhook delivery for the fake Bot API, as Telegram does it (used by :class:`tests.e2e.fake_telegram.FakeTelegram`).

While a webhook is set and the server has a delivery address (``FakeTelegram.deliver_to``: the registered URL must be
https://, so tests name the plain-HTTP address on 127.0.0.1 that stands for it, usually a proxy), every pushed update
is POSTed there as JSON with the ``X-Telegram-Bot-Api-Secret-Token`` header the bot registered:

- an update is confirmed when the answer is 200; any other status or a connection error and it is sent again after a
  short backoff (``backoff`` doubling up to ``max_backoff``), for ever, as Telegram does;
- one update per chat at a time, in update-id order; different chats in parallel, up to ``connections`` requests
  at once (Telegram's ``max_connections``, 40 by default).

Updates stay in ``FakeTelegram.updates`` until they are confirmed, so a deleteWebhook hands the rest to getUpdates.
Every attempt is recorded in ``FakeTelegram.posts`` as (update id, HTTP status, or 0 for a connection error).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from tests.e2e.fake_telegram import FakeTelegram

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def chat_of(update: dict[str, Any]) -> int:
    """The chat whose updates are delivered one at a time (a callback query: the person who tapped)."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post", "business_message"):
        if kind in update:
            return int(update[kind]["chat"]["id"])
    for value in update.values():
        if isinstance(value, dict):
            who = value.get("from") or value.get("user") or value.get("chat")
            if isinstance(who, dict) and "id" in who:
                return int(who["id"])
    return -int(update["update_id"])  # nothing to order it by: a chat of its own


class WebhookDelivery:
    """POSTs ``server.updates`` to ``address`` until ``stop()``; see the module's docstring."""

    def __init__(
        self,
        server: FakeTelegram,
        address: str,
        secret: str | None,
        *,
        connections: int = 40,
        backoff: float = 0.1,
        max_backoff: float = 1.0,
        timeout: float = 60.0,
    ) -> None:
        self.server, self.address, self.secret = server, address, secret
        self.connections, self.backoff, self.max_backoff = connections, backoff, max_backoff
        self.busy: set[int] = set()  # chats with an update being delivered
        self.wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout), connector=aiohttp.TCPConnector(limit=connections)
        )
        self._loop = asyncio.create_task(self._run())

    async def stop(self) -> None:
        for task in (self._loop, *self._tasks):
            task.cancel()
        for task in (self._loop, *self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._http.close()

    async def _run(self) -> None:
        while True:
            self.wake.clear()
            for update in list(self.server.updates):
                if len(self.busy) >= self.connections:
                    break
                chat = chat_of(update)
                if chat in self.busy:
                    continue  # the chat's earlier update first (this one is later in update-id order)
                self.busy.add(chat)
                task = asyncio.create_task(self._deliver(chat, update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await self.wake.wait()

    async def _deliver(self, chat: int, update: dict[str, Any]) -> None:
        headers = {SECRET_HEADER: self.secret} if self.secret is not None else {}
        delay = self.backoff
        try:
            while True:
                try:
                    async with self._http.post(self.address, json=update, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.server.posts.append((int(update["update_id"]), status))
                if status == 200:
                    self.server.acknowledge(int(update["update_id"]))
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        finally:
            self.busy.discard(chat)
            self.wake.set()
