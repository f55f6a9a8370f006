"""Periodic jobs with several instances: retention runs on one per hour; all share Telegram's overall rate."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import cast

from bot.core.dialogue import Dialogue
from bot.core.gaps import Gap
from bot.telegram.app import HEARTBEAT_EVERY, heartbeat, retention
from bot.telegram.observe import Metrics
from bot.telegram.ratelimit import ChatRateLimiter
from bot.telegram.services import KEY, LotseContext
from tests.fakes import MemoryGaps, MemoryStores


class Purging:
    def __init__(self) -> None:
        self.runs = 0

    async def purge(self, now: float) -> dict[str, int]:
        self.runs += 1
        return {}


async def test_two_instances_sharing_one_database_run_retention_once_an_hour() -> None:
    shared, gaps = MemoryStores(), MemoryGaps()  # the database both instances use
    old, new = (Gap.of("fallback", "de", None, text, at) for text, at in (("alt", 0.0), ("neu", time.time())))
    await gaps.record(old)
    await gaps.record(new)
    handoffs = [Purging(), Purging()]
    contexts = [
        cast(LotseContext, SimpleNamespace(application=SimpleNamespace(bot_data={KEY: SimpleNamespace(
            jobs=shared, desk=SimpleNamespace(handoff=handoff), quarantine=None, gaps=gaps,
            conversation=SimpleNamespace(retention_days=30))})))
        for handoff in handoffs
    ]  # fmt: skip
    for context in contexts:  # both instances' hourly jobs fire at about the same time
        await retention(context)
    assert [h.runs for h in handoffs] == [1, 0]
    assert await gaps.since(0.0) == [new]  # the worklist is kept as long as cases are


async def test_instances_share_telegrams_overall_rate_and_a_dead_ones_share_returns() -> None:
    shared = MemoryStores()
    clock = {"now": 1000.0}
    limiters = [ChatRateLimiter(30), ChatRateLimiter(30)]

    def context(name: str, limiter: ChatRateLimiter) -> LotseContext:
        svc = SimpleNamespace(instances=shared, instance=name, clock=lambda: clock["now"], metrics=Metrics())
        app = SimpleNamespace(bot_data={KEY: svc})
        return cast(LotseContext, SimpleNamespace(application=app, bot=SimpleNamespace(rate_limiter=limiter)))

    first, second = context("a", limiters[0]), context("b", limiters[1])
    await heartbeat(first)
    assert limiters[0].rate == 30  # alone
    await heartbeat(second)
    await heartbeat(first)
    assert [limiter.rate for limiter in limiters] == [15, 15]  # together never more than Telegram's 30 a second
    clock["now"] += 3.5 * HEARTBEAT_EVERY + 1  # b was killed: it never said goodbye
    await heartbeat(first)
    assert limiters[0].rate == 30


class Bot:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str) -> None:
        self.sent.append((chat_id, text))


async def test_the_review_list_goes_to_the_administrators_once_a_week_from_one_instance(dialogue: Dialogue) -> None:
    from bot.core.conversation import Conversation
    from bot.telegram.review import weekly

    shared = MemoryStores()
    bots = [Bot(), Bot()]
    contexts = [
        cast(LotseContext, SimpleNamespace(bot=bot, application=SimpleNamespace(bot_data={KEY: SimpleNamespace(
            jobs=shared, admin_ids=frozenset({7, 8}), conversation=Conversation(dialogue))})))
        for bot in bots
    ]  # fmt: skip
    for context in contexts * 3:  # both instances' hourly jobs, three hours in a row
        await weekly(context)
    assert [len(b.sent) for b in bots] == [2, 0]  # once, to both administrators, from one instance
    (_, text), _ = bots[0].sent
    assert text.startswith("The knowledge to look at again this week") and "not reviewed by a speaker" in text
