"""The rate limiter: "no retry" reaches it through python-telegram-bot, and a 429 then fails at once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.telegram.ratelimit import NO_RETRY, ChatRateLimiter


def test_no_retry_survives_python_telegram_bots_argument_handling() -> None:
    # ExtBot drops a falsy rate_limit_args: 0 would arrive as None, i.e. "the default retries"
    assert ExtBot._merge_api_rl_kwargs(None, 0) is None
    merged = ExtBot._merge_api_rl_kwargs(None, NO_RETRY)
    assert merged is not None and NO_RETRY in merged.values()


async def test_a_429_without_retries_fails_at_once_and_with_retries_waits() -> None:
    limiter = ChatRateLimiter(max_retries=5)
    calls: list[float] = []

    async def too_many(*_: Any, **__: Any) -> bool:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RetryAfter(0)
        return True

    started = time.monotonic()
    with pytest.raises(RetryAfter):
        await limiter.process_request(too_many, (), {}, "sendMessage", {}, NO_RETRY)
    assert len(calls) == 1 and time.monotonic() - started < 0.5  # the caller (the outbox) decides when to retry
    calls.clear()
    assert await limiter.process_request(too_many, (), {}, "sendMessage", {}, None) is True  # default: retried
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.1  # retry_after, plus a margin
