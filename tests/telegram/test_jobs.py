"""The hourly retention job runs on one instance per hour, however many serve the bot."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from bot.telegram.app import retention
from bot.telegram.services import KEY, LotseContext
from tests.fakes import MemoryStores


class Purging:
    def __init__(self) -> None:
        self.runs = 0

    async def purge(self, now: float) -> dict[str, int]:
        self.runs += 1
        return {}


async def test_two_instances_sharing_one_database_run_retention_once_an_hour() -> None:
    shared = MemoryStores()  # the database both instances use
    handoffs = [Purging(), Purging()]
    contexts = [
        cast(LotseContext, SimpleNamespace(application=SimpleNamespace(bot_data={KEY: SimpleNamespace(
            jobs=shared, desk=SimpleNamespace(handoff=handoff), quarantine=None)})))
        for handoff in handoffs
    ]  # fmt: skip
    for context in contexts:  # both instances' hourly jobs fire at about the same time
        await retention(context)
    assert [h.runs for h in handoffs] == [1, 0]
