"""The 429-storm scenario: people open cases while Telegram answers the staff group with 429 for a while.

Used by ``tests/e2e/test_handoff_faults.py`` (with a scaled-down window) and ``bench/handoff_faults.py`` (with
Telegram's real limit of 20 messages a minute into one group).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bot.core.dialogue import Dialogue
from bot.telegram.outbox import OutboxSettings
from tests.e2e.conftest import STAFF_GROUP, Options, centres, running
from tests.e2e.test_handoff import eventually, group, ready


@dataclass
class StormFigures:
    cases: int
    throttled: int
    delivered: int
    expected: int
    in_order: bool
    most_in_window: int
    limit: int
    window: float
    seconds: float

    def lines(self) -> list[str]:
        return [
            f"{self.cases} cases: a forum topic, a ticket message and a follow-up each; 429 answers: {self.throttled}",
            f"ticket messages and follow-ups delivered: {self.delivered} of {self.expected}; in order: {self.in_order}",
            f"most messages within any {self.window:.0f} s: {self.most_in_window} (limit {self.limit}); "
            f"time: {self.seconds:.1f} s",
        ]


async def storm(
    tmp_path: Path, dialogue: Dialogue, *, cases: int, limit: int, window: float, throttle: int
) -> StormFigures:
    options = Options(centres=centres(), outbox=OutboxSettings(poll=0.2, group_limit=limit, group_window=window))
    started = time.monotonic()
    async with running(tmp_path, dialogue, options) as lotse:
        users = [await ready(lotse, 600 + i, "en") for i in range(cases)]
        lotse.server.retry_after = 1
        lotse.server.throttle_chats[STAFF_GROUP] = throttle  # the next calls into the group answer 429
        for index, user in enumerate(users):
            await user.send("/human")
            await user.send(f"question number {index}")
            await user.tap("✅")
            user.push_text(f"follow-up number {index}")
        expected = 2 * cases
        await eventually(lambda: sum("follow-up number" in s.text for s in group(lotse)) == cases,
                         timeout=60 + 3 * expected * window / limit)  # fmt: skip
        sent = group(lotse)
        cards = [s for s in sent if s.text.startswith("Fall #")]
        in_order = [c.text.split("question number ")[1].split()[0] for c in cards] == [str(i) for i in range(cases)]
        for index in range(cases):  # each card before its follow-up, in the ticket's own topic
            card = next(s for s in cards if f"question number {index}\n" in s.text)
            follow = next(s for s in sent if s.text.endswith(f"follow-up number {index}"))
            in_order = in_order and card.message_id < follow.message_id and card.thread_id == follow.thread_id
        times = sorted([s.received_at for s in sent] + [at for _, at in lotse.server.service_messages])
        most = max(sum(1 for t in times if start <= t < start + window) for start in times)
        delivered = len(cards) + sum(1 for s in sent if "follow-up number" in s.text)
        throttled = lotse.server.throttled
    return StormFigures(cases, throttled, delivered, expected, in_order, most, limit, window,
                        time.monotonic() - started)  # fmt: skip
