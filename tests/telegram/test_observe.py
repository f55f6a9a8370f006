"""The metrics' label sets and /healthz's verdicts, with fakes of the database's counts."""

from __future__ import annotations

import pytest

from bot.core.ports import Vitals
from bot.telegram.observe import OVERDUE_BOUND, Metrics, Watch


class _Backlog:
    def __init__(self, overdue: int) -> None:
        self.overdue = overdue

    async def vitals(self, now: float) -> Vitals:
        return Vitals(open_cases=3, outbox_pending=self.overdue + 5, outbox_overdue=self.overdue, outbox_failed=0)


@pytest.mark.parametrize(("overdue", "healthy"), [(OVERDUE_BOUND, True), (OVERDUE_BOUND + 1, False)])
async def test_healthz_fails_when_deliveries_are_overdue(overdue: int, healthy: bool) -> None:
    watch = Watch(Metrics(["en"]), _Backlog(overdue), topics=5, serving=lambda: True)
    ok, body = await watch.health()
    assert ok is healthy
    assert body["outbox_overdue"] == overdue
    assert ("problems" in body) is not healthy


async def test_healthz_is_unhealthy_until_telegram_is_served_and_without_knowledge() -> None:
    ok, body = await Watch(Metrics(), None, topics=0, serving=lambda: False).health()
    assert not ok and body["problems"] == ["no knowledge loaded", "not serving Telegram yet"]


def test_label_values_come_from_fixed_sets() -> None:
    metrics = Metrics(["de", "ar"])
    metrics.decided("answer", "xx-made-up")
    metrics.emergency(None)
    metrics.delivery("something new")
    body = metrics.exposition().decode()
    assert 'lotse_decisions_total{kind="answer",lang="other"} 1.0' in body
    assert 'lotse_emergencies_total{lang="other"} 1.0' in body
    assert 'lotse_outbox_deliveries_total{result="retry"} 1.0' in body
    assert "xx-made-up" not in body
