"""Telegram's overall limit, and 429 answers that delay only the request that got them.

python-telegram-bot's ``AIORateLimiter`` pauses *every* request while one waits out a 429 ("Too Many Requests"), so a
429 on a staff group froze all private conversations, emergencies included; and it reads ``rate_limit_args=0`` as
"the default number of retries" (``0 or 5``), so the outbox, which retries durably itself, was retried five times
inside the call as well. Here a 429 makes only its own request wait (the chat that got it is the one that is too
fast), ``rate_limit_args=NO_RETRY`` means no retry at all, and the overall 30 messages a second are kept with
aiolimiter. (Not 0: python-telegram-bot drops a falsy ``rate_limit_args`` before the limiter sees it.)
Staff groups' 20 a minute are kept by the outbox across processes.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger("lotse.telegram")

JSONDict = dict[str, Any]
NO_RETRY = -1  # rate_limit_args for "no retry inside the call" (the outbox retries durably itself)


class ChatRateLimiter(BaseRateLimiter[int]):
    """At most ``overall_max_rate`` requests a second; a 429 is waited out by its own request only."""

    def __init__(
        self, overall_max_rate: float = 30, max_retries: int = 5, on_429: Callable[[], None] = lambda: None
    ) -> None:
        self._overall = overall_max_rate
        self._limiter = AsyncLimiter(overall_max_rate, 1)
        self._max_retries = max_retries
        self._on_429 = on_429  # counted in /metrics

    @property
    def rate(self) -> float:
        """Requests a second this process may send now."""
        return float(self._limiter.max_rate)

    def share(self, instances: int) -> None:
        """``instances`` processes serve the bot: each keeps its share of Telegram's overall limit."""
        rate = self._overall / max(1, instances)
        if rate != self._limiter.max_rate:  # requests already waiting finish on the old limiter
            self._limiter = AsyncLimiter(rate, 1)
            log.info("%d instance(s) running: this one sends at most %.1f messages a second", instances, rate)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Run one request; on a 429 wait and retry it (``rate_limit_args`` times, default ``max_retries``;
        :data:`NO_RETRY` or any number below 1: not at all)."""
        retries = self._max_retries if rate_limit_args is None else max(0, int(rate_limit_args))
        attempt = 0
        while True:
            try:
                if endpoint == "getUpdates":  # long polling is no message: it does not count against the limit
                    return await callback(*args, **kwargs)
                async with self._limiter:
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._on_429()
                if attempt >= retries:
                    raise
                attempt += 1
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)
                log.info("429 on %s: this request waits %.0f s (retry %d of %d)", endpoint, seconds, attempt, retries)
                await asyncio.sleep(seconds + 0.1)
