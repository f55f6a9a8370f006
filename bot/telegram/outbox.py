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
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from telegram import ReactionTypeEmoji
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.core.handoff import OutboxItem, next_retry, weight
from bot.core.ports import StoreUnavailableError
from bot.telegram.destinations import is_setup_error
from bot.telegram.observe import Metrics
from bot.telegram.safelog import where
from bot.telegram.sending import GoneError, Sender
from bot.webapi import PermanentError, TemporaryError

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


class Worker:
    """Sends stored deliveries until stopped."""

    def __init__(
        self,
        sender: Sender,
        settings: OutboxSettings = OutboxSettings(),
        *,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self.sender = sender
        self.metrics = metrics or Metrics()
        self.bot, self.handoff, self.outbox = sender.bot, sender.handoff, sender.outbox
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

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
        await self.sender.close()

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
                self.metrics.delivery("postponed")
                return
        try:
            chat_id, message_id = await self.sender.deliver(item)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)
            await self.outbox.retry(item.id, self.clock() + seconds, "429")
            log.warning("outbox %s: rate limited for %.0f s", item.id, seconds)
            self.metrics.delivery("rate_limited")
            self.metrics.rate_limited("outbox")
        except Forbidden as exc:
            await self._forbidden(item, exc)
        except GoneError:
            await self.outbox.delivered(item.id, None, None, self.clock())
            self.metrics.delivery("gone")
        except (BadRequest, PermanentError) as exc:
            if isinstance(exc, BadRequest) and (item.chat_id or 0) < 0 and is_setup_error(str(exc)):
                # A staff group's setup (the id, membership, the bot's rights): kept until an administrator fixes it.
                log.error("outbox %s: staff group %s refused it (%s); kept until fixed", item.id, item.chat_id,
                          _reason(exc))  # fmt: skip
                await self._until_fixed(item, "setup")
                await self._tell_waiting(item)
                return
            self.metrics.delivery("refused")
            await self.outbox.give_up(item.id, str(exc), self.clock())
            log.error("outbox %s (%s): refused for good: %s", item.id, item.kind, _reason(exc))
        except (NetworkError, TemporaryError, TelegramError, OSError) as exc:
            await self._again(item, type(exc).__name__)
        except Exception as exc:  # a bug must not stop the worker; the item is retried with backoff
            log.error("outbox %s (%s) failed: %s", item.id, item.kind, where(exc))
            await self._again(item, type(exc).__name__)
        else:
            self.metrics.delivery("sent")
            await self.outbox.delivered(item.id, chat_id, message_id, self.clock())
            await self._acknowledge(item)
            if item.kind == "announce" and item.attempts > 0 and item.ticket_id is not None:
                await self.handoff.reached(item.ticket_id, self.clock())

    async def _again(self, item: OutboxItem, reason: str) -> None:
        self.metrics.delivery("retry")
        if item.attempts + 1 >= self.settings.max_attempts:
            await self.outbox.give_up(item.id, reason, self.clock())
            log.error("outbox %s (%s): gave up after %d attempts", item.id, item.kind, item.attempts + 1)
            return
        await self.outbox.retry(item.id, self.clock() + next_retry(item.attempts + 1), reason)

    async def _forbidden(self, item: OutboxItem, exc: Forbidden) -> None:
        chat_id = item.chat_id
        if chat_id is not None and chat_id > 0:  # the person blocked the bot: no retries, the staff are told
            self.metrics.delivery("blocked")
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
        self.metrics.delivery("setup")
        await self.outbox.retry(item.id, self.clock() + next_retry(item.attempts + 1), reason)

    async def _acknowledge(self, item: OutboxItem) -> None:
        """A 👍 reaction on the person's message once it reached the staff group."""
        ack = item.payload.get("ack")
        if not isinstance(ack, Mapping):
            return
        with contextlib.suppress(TelegramError):
            await self.bot.set_message_reaction(
                int(ack["chat_id"]), int(ack["message_id"]), ReactionTypeEmoji("👍"), **self.sender.no_retry()
            )


def _reason(exc: Exception) -> str:
    """Telegram's error text (it never contains message text), shortened for the log."""
    return str(exc)[:120]
