"""Start-up against Telegram: unreachable is waited out with backoff, a refused token is one clear line."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from telegram.error import InvalidToken, NetworkError, TimedOut

from bot.telegram.app import TelegramStartError, initialize
from bot.telegram.services import LotseApplication


class Starting:
    """An application whose initialize() meets the given errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def initialize(self) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


async def test_telegram_unreachable_at_start_is_retried_until_it_answers(caplog: pytest.LogCaptureFixture) -> None:
    app = Starting(NetworkError("connect failed"), TimedOut(), NetworkError("connect failed"))
    assert await initialize(cast(LotseApplication, app), asyncio.Event(), first_wait=0.01) is True
    assert app.calls == 4
    lines = [r.getMessage() for r in caplog.records if "not reachable at start" in r.getMessage()]
    assert len(lines) == 3 and "again in 0 s" in lines[0]  # one line per try, with the wait; no traceback


async def test_a_refused_token_is_one_line_and_not_retried() -> None:
    app = Starting(InvalidToken("Unauthorized"))
    with pytest.raises(TelegramStartError, match="TELEGRAM_BOT_TOKEN") as info:
        await initialize(cast(LotseApplication, app), asyncio.Event(), first_wait=0.01)
    assert app.calls == 1 and "\n" not in str(info.value)


async def test_stopping_while_telegram_is_unreachable_ends_the_wait() -> None:
    stop = asyncio.Event()
    stop.set()
    app = Starting(NetworkError("down"))
    assert await initialize(cast(LotseApplication, app), stop, first_wait=30) is False
    assert app.calls == 1
