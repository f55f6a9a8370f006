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
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.error import Conflict, EndPointNotFound, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBUserWarning

from bot.core.ports import Quarantined
from bot.telegram.ordering import dispatch
from bot.telegram.services import AGAIN, KEY, LotseApplication

log = logging.getLogger("lotse.telegram")

# Updates are fetched raw and read one by one (Bot.get_updates reads a whole batch at once, and when one update
# cannot be read it logs the whole batch -- names, texts, phone numbers -- at CRITICAL and loses the others).
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)
MAX_BACKOFF = 30.0
MAX_TRIES = 8  # an update that keeps failing is given up after this many tries (logged by id)
LOOK_EVERY = 0.5  # seconds between looks for new updates while others are processed (an emergency among them)
CONFLICT_WAIT = 15.0  # another process polls the same bot: Telegram answers 409 until it stops


async def _fetch(
    application: LotseApplication,
    offset: int,
    timeout: int,
    allowed_updates: Sequence[str],
) -> list[dict[str, Any]]:
    raw = await application.bot.do_api_request(
        "getUpdates",
        api_kwargs={"offset": offset, "timeout": timeout, "allowed_updates": list(allowed_updates)},
        read_timeout=timeout + 10.0,
    )
    if not isinstance(raw, list):
        raise TypeError(f"getUpdates answered a {type(raw).__name__}, not a list")
    return [item for item in raw if isinstance(item, dict)]


def read_updates(
    application: LotseApplication,
    items: list[dict[str, Any]],
) -> tuple[list[Update], list[Quarantined]]:
    """The updates that can be read, and the ones that cannot. An update that cannot be read is skipped, logged by
    its id, its kind and the error (never its content) and returned for the quarantine; reading it again would fail
    again. Used by the poll loop and the webhook endpoint."""
    updates: list[Update] = []
    skipped: list[Quarantined] = []
    for item in items:
        update_id = item.get("update_id")
        try:
            update = Update.de_json(item, application.bot)
        except Exception as exc:  # any malformed update must be skipped, whatever it raises
            kinds = _kinds(item)
            log.error("update %s skipped: it cannot be read (%s; kind %s)", update_id, type(exc).__name__, kinds)
            if isinstance(update_id, int):
                skipped.append(Quarantined(update_id, kinds, f"unreadable: {type(exc).__name__}", 1, time.time()))
            continue
        if update is not None:
            updates.append(update)
    return updates, skipped


async def keep(application: LotseApplication, entry: Quarantined) -> None:
    """Quarantine an update for an operator (``python -m bot updates``); the log line stays if the database is
    down."""
    store = getattr(application.bot_data.get(KEY), "quarantine", None)
    if store is None:
        return
    try:
        await store.quarantine(entry)
    except Exception as exc:
        log.warning("update %s: not quarantined (%s)", entry.update_id, type(exc).__name__)


def _kinds(item: Mapping[str, Any]) -> str:
    """The kind of an update as Telegram sent it (``message``, ``callback_query`` ...), never its content."""
    return ",".join(sorted(k for k, v in item.items() if k != "update_id" and v is not None)) or "-"


async def poll(
    application: LotseApplication,
    stop: asyncio.Event,
    *,
    timeout: int = 30,
    allowed_updates: Sequence[str] | None = None,
) -> None:
    """Fetch and process updates until ``stop`` is set. Only a rejected token ends it; every other failure (Telegram
    or the network unreachable, 409 from a second poller, an answer that is not the Bot API's, an update that cannot
    be read) is logged in one line without content and retried with backoff."""
    bot = application.bot
    offset = 0
    backoff = 1.0
    allowed = allowed_updates or Update.ALL_TYPES
    if not await until_done(stop, lambda: bot.delete_webhook(drop_pending_updates=False), "deleteWebhook failed"):
        return
    done: set[int] = set()  # processed (or given up), not yet confirmed to Telegram
    running: dict[int, asyncio.Task[object]] = {}  # being processed now
    held: dict[int, Update] = {}  # being processed or waiting for a retry
    retry_at: dict[int, float] = {}  # failed for a passing reason: processed again from this time on
    tries: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        # While updates are being processed or wait for a retry, Telegram sends them again at once: look for new
        # ones (an emergency) at most twice a second instead of waiting the long-poll timeout.
        busy = bool(running or retry_at)
        fetched_at = loop.time()
        fetch = asyncio.ensure_future(_fetch(application, offset, 0 if busy else timeout, allowed))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            break
        stopping.cancel()
        try:
            items = fetch.result()
        except (InvalidToken, EndPointNotFound):
            raise
        except RetryAfter as exc:
            wait = exc.retry_after
            await pause(stop, wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait))
            continue
        except Conflict:
            log.warning("another instance is polling this bot (409 Conflict); again in %.0f s", CONFLICT_WAIT)
            await pause(stop, CONFLICT_WAIT)
            continue
        except (TimedOut, NetworkError) as exc:
            log.warning("getUpdates failed (%s); again in %.0f s", type(exc).__name__, backoff)
            await pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        except Exception as exc:  # an answer that is not the Bot API's (a proxy's HTML page, ...)
            log.error("getUpdates answered something unexpected (%s); again in %.0f s", type(exc).__name__, backoff)
            await pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = 1.0
        # Updates already in hand come again while they are processed: only new ones are read.
        fresh = [item for item in items if item.get("update_id") not in done and item.get("update_id") not in held]
        updates, skipped = read_updates(application, fresh)
        next_offset = max(_ids(items), default=-1) + 1
        for entry in skipped:
            await keep(application, entry)
        readable = {u.update_id for u in updates}
        done.update(i for i in _ids(fresh) if i not in readable)  # unreadable: skipped for good (logged there)
        now = loop.time()
        due = [held[uid] for uid, at in retry_at.items() if at <= now and uid in held]
        for update in [*updates, *due]:
            uid = update.update_id
            if uid in running:
                continue
            retry_at.pop(uid, None)
            running[uid] = asyncio.ensure_future(dispatch(application, update))
            held[uid] = update
        if running:  # until all are done, or half a second after the last look for new updates (not sooner: each
            # look reads the updates in hand again, and a look per finished update cost more than the updates did)
            await asyncio.wait(set(running.values()), timeout=max(0.0, fetched_at + LOOK_EVERY - loop.time()))
        elif retry_at:
            await pause(stop, LOOK_EVERY)
        for entry in _settle(application, running, held, done, retry_at, tries, loop.time()):
            await keep(application, entry)
        # Confirm up to the first update not yet done: the rest comes again after a crash and is skipped here.
        pending = [i for i in (*running, *retry_at) if i >= offset]
        confirm = min(pending) if pending else next_offset
        if items and confirm > offset:
            offset = confirm
            done = {i for i in done if i >= offset}
    if running:  # let what is in hand finish (its effects are committed or retried after the restart)
        await asyncio.wait(set(running.values()), timeout=10)
        for entry in _settle(application, running, held, done, retry_at, tries, loop.time()):
            await keep(application, entry)
        pending = [i for i in (*running, *retry_at) if i >= offset]
        offset = min(pending) if pending else max([offset, *(i + 1 for i in done)])
    if offset:  # confirm the last processed batch, as Telegram learns it only from the next call
        with contextlib.suppress(Exception):
            await _fetch(application, offset, 0, allowed)


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [i for i in (item.get("update_id") for item in items) if isinstance(i, int)]


def _settle(
    application: LotseApplication,
    running: dict[int, asyncio.Task[object]],
    held: dict[int, Update],
    done: set[int],
    retry_at: dict[int, float],
    tries: dict[int, int],
    now: float,
) -> list[Quarantined]:
    """Move finished updates to done, or to a retry with backoff when they failed for a passing reason (the error
    handler put them in ``bot_data[AGAIN]``); an update that keeps failing is given up after MAX_TRIES and
    returned for the quarantine."""
    again: set[int] = application.bot_data.setdefault(AGAIN, set())
    given_up: list[Quarantined] = []
    for uid, task in list(running.items()):
        if not task.done():
            continue
        del running[uid]
        if not task.cancelled() and task.exception() is not None:
            log.error("update %s: processing failed (%s)", uid, type(task.exception()).__name__)
        if uid not in again:
            done.add(uid)
            tries.pop(uid, None)
            held.pop(uid, None)
            continue
        again.discard(uid)
        tries[uid] = tries.get(uid, 0) + 1
        if tries[uid] >= MAX_TRIES:
            log.error("update %s: given up after %d tries", uid, tries[uid])
            done.add(uid)
            update = held.pop(uid, None)
            kinds = _kinds(update.to_dict()) if update is not None else "-"
            given_up.append(Quarantined(uid, kinds, "failed again and again", tries[uid], time.time()))
            continue
        retry_at[uid] = now + min(2.0 ** (tries[uid] - 1), MAX_BACKOFF)
    return given_up


async def until_done(
    stop: asyncio.Event,
    call: Callable[[], Awaitable[object]],
    what: str,
    *,
    retry_on: tuple[type[Exception], ...] = (Exception,),
    first_wait: float = 1.0,
) -> bool:
    """Await ``call()`` until it succeeds: a failure in ``retry_on`` is logged in one line (``what``, the error's
    type, the wait) and tried again after 1 s, doubling up to ``MAX_BACKOFF``; a rejected token is raised. False
    when ``stop`` came first."""
    wait = first_wait
    while True:
        try:
            await call()
            return True
        except InvalidToken:
            raise
        except retry_on as exc:
            log.warning("%s (%s); again in %.0f s", what, type(exc).__name__, wait)
            if await pause(stop, wait):
                return False
            wait = min(wait * 2, MAX_BACKOFF)


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` or until ``stop`` is set; whether it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
