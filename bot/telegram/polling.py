"""Long polling that confirms an update to Telegram only after it was processed.

PTB's own updater confirms a batch of updates as soon as it has fetched them, so a process killed before it
handled them loses them. Here the offset moves past a batch only when every update in it was processed; after a
crash Telegram delivers the batch again, and the handlers are idempotent (delivery keys, ticket states), so nothing
is lost and nothing is done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
from collections.abc import Sequence

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

log = logging.getLogger("lotse.telegram")


async def poll(
    application: Application,  # type: ignore[type-arg]
    stop: asyncio.Event,
    *,
    timeout: int = 30,
    allowed_updates: Sequence[str] | None = None,
) -> None:
    """Fetch and process updates until ``stop`` is set."""
    bot = application.bot
    offset = 0
    backoff = 1.0
    await bot.delete_webhook(drop_pending_updates=False)
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            bot.get_updates(offset=offset, timeout=timeout, allowed_updates=allowed_updates or Update.ALL_TYPES)
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            break
        stopping.cancel()
        try:
            updates = fetch.result()
        except InvalidToken:
            raise
        except RetryAfter as exc:
            wait = exc.retry_after
            await asyncio.sleep(wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait))
            continue
        except (TimedOut, NetworkError) as exc:
            log.warning("getUpdates failed (%s); again in %.0f s", type(exc).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        backoff = 1.0
        if not updates:
            continue
        processor = application.update_processor
        await asyncio.gather(*(processor.process_update(u, application.process_update(u)) for u in updates))
        offset = updates[-1].update_id + 1
    if offset:  # confirm the last processed batch, as Telegram learns it only from the next call
        with contextlib.suppress(TimedOut, NetworkError):
            await bot.get_updates(offset=offset, timeout=0, limit=1)
