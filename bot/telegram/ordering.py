"""Concurrency across people, order within one conversation."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.core.ports import StoreUnavailableError
from bot.telegram.services import AGAIN, KEY, LotseApplication, Services

log = logging.getLogger("lotse.telegram")
FINISH_PATIENCE = 30.0  # seconds an update's end waits for the database before the update is processed again


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes updates of different chats concurrently, and those of one chat strictly in arrival order.

    An ``urgent`` update (an emergency) waits for nothing: not for the same person's earlier message that is stuck
    on a slow database, nor for a free slot among ``max_concurrent_updates``; later updates of the chat wait for it.
    """

    def __init__(self, max_concurrent_updates: int = 64, urgent: Callable[[object], bool] = lambda _: False) -> None:
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, asyncio.Future[None]] = {}
        self.urgent = urgent

    async def process_urgent(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Process an urgent update at once (no slot, no waiting for the chat's earlier updates)."""
        await self._in_order(update, coroutine, wait=False)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._in_order(update, coroutine, wait=True)

    async def _in_order(self, update: object, coroutine: Awaitable[Any], *, wait: bool) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        previous = self._tails.get(chat.id)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[chat.id] = done
        try:
            if previous is not None and wait:
                await asyncio.shield(previous)
            await coroutine
        finally:

            def finish(_: object = None) -> None:
                done.set_result(None)
                if self._tails.get(chat.id) is done:
                    del self._tails[chat.id]

            if previous is not None and not previous.done():  # an urgent one that went ahead: later updates
                previous.add_done_callback(finish)  # of the chat still wait for the earlier ones too
            else:
                finish()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def dispatch(application: LotseApplication, update: Update) -> None:
    """Process ``update`` through the application's update processor; urgent ones go ahead (see above). Counted,
    with the time from its arrival to the end of its processing (:mod:`bot.telegram.observe`)."""
    started = time.perf_counter()
    log.debug("update %s: start", update.update_id, extra={"chat_kind": getattr(update.effective_chat, "type", None)})
    processor = application.update_processor
    coroutine = _process(application, update)
    try:
        if isinstance(processor, PerChatUpdateProcessor) and processor.urgent(update):
            await processor.process_urgent(update, coroutine)
        else:
            await processor.process_update(update, coroutine)
    finally:
        services: Services | None = application.bot_data.get(KEY)
        if services is not None:
            services.metrics.handled(update, time.perf_counter() - started)


async def _process(application: LotseApplication, update: Update) -> None:
    """The handlers, then the update's end, both before the chat's next update starts (which would otherwise find
    the person's turn still held and wait for it)."""
    try:
        await application.process_update(update)
    finally:
        services: Services | None = application.bot_data.get(KEY)
        if services is not None:
            await _finish(services, update, application.bot_data.setdefault(AGAIN, set()))


async def _finish(services: Services, update: Update, again: set[int]) -> None:
    """Write the update's end (its profile change, the end of the person's turn, "processed"). The replies went out
    already, so a database that is away is waited for (0.2 s doubling to 5 s, FINISH_PATIENCE in all) rather than
    the update processed again, which would send them twice; only after that is it processed again."""
    uid = update.update_id
    wait, deadline = 0.2, time.monotonic() + FINISH_PATIENCE
    while True:
        try:  # processed to the end unless it failed for a passing reason (then it comes again and is processed)
            await services.finish(uid, done=uid not in again)
            return
        except StoreUnavailableError as exc:
            if time.monotonic() + wait > deadline:
                problem = type(exc).__name__
                break
            log.warning("update %s: its end not written (%s); trying again", uid, type(exc).__name__)
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0)
        except Exception as exc:  # a bug: processed again (and quarantined if it keeps failing)
            problem = type(exc).__name__
            break
    log.warning("update %s: its end not written (%s); it will be processed again", uid, problem)
    services.forget(uid)
    again.add(uid)
