"""Handoff under faults, at full scale; prints the figures reported in README.md.

1. 100 people ask for a person while the bot process (``python -m bot run``) is killed with SIGKILL at random
   moments and restarted on the same database.
2. A 429 storm on the staff group with Telegram's real limit of 20 messages a minute into one group.

Run: ``.venv/bin/python bench/handoff_faults.py`` (about three minutes).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_config
from bot.core.dialogue import Dialogue
from bot.core.hybrid import load_or_train
from bot.core.knowledge import load_knowledge
from tests.e2e.crash import run
from tests.e2e.storm import storm


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("SIGKILL during 100 handoffs (bot in its own process, SQLite file):")
        figures = await run(Path(tmp), people=100, kills=10, seed=2026)
        print("\n".join("  " + line for line in figures.lines()), *figures.notes)
    knowledge = load_knowledge(Path(__file__).resolve().parents[1] / "knowledge")
    hybrid = load_or_train(knowledge, cache_dir=load_config().cache_dir)  # the matcher the bot runs with
    dialogue = Dialogue(knowledge, hybrid.index, hybrid=hybrid)
    with tempfile.TemporaryDirectory() as tmp:
        print("429 storm on the staff group, Telegram's limit of 20 messages per 60 s:")
        result = await storm(Path(tmp), dialogue, cases=12, limit=20, window=60.0, throttle=15)
        print("\n".join("  " + line for line in result.lines()))


if __name__ == "__main__":
    asyncio.run(main())
