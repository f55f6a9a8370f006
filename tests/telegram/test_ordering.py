"""Per-chat ordering: one person's messages in order, different people in parallel."""

from __future__ import annotations

import asyncio
import time

from telegram import Chat, Message, Update

from bot.telegram.ordering import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, date=None, chat=chat, text="x"))  # type: ignore[arg-type]


async def test_same_chat_in_order_other_chats_in_parallel() -> None:
    processor = PerChatUpdateProcessor()
    done: list[tuple[int, int]] = []

    async def work(chat: int, n: int, delay: float) -> None:
        await asyncio.sleep(delay)
        done.append((chat, n))

    start = time.monotonic()
    await asyncio.gather(
        processor.do_process_update(_update(1, 10), work(10, 1, 0.2)),
        processor.do_process_update(_update(2, 10), work(10, 2, 0.0)),
        processor.do_process_update(_update(3, 20), work(20, 1, 0.05)),
    )
    elapsed = time.monotonic() - start
    assert [n for chat, n in done if chat == 10] == [1, 2]  # the quick second message waited for the first
    assert done.index((20, 1)) < done.index((10, 1))  # another chat did not wait
    assert elapsed < 0.35
    assert processor._tails == {}


async def test_an_urgent_update_goes_ahead_and_later_ones_still_wait_for_all_earlier() -> None:
    processor = PerChatUpdateProcessor()
    stuck = asyncio.Event()
    done: list[str] = []

    async def work(name: str) -> None:
        if name == "first":
            await stuck.wait()  # the person's earlier message, stuck on a slow database
        done.append(name)

    first = asyncio.ensure_future(processor.do_process_update(_update(1, 10), work("first")))
    await asyncio.sleep(0)
    await processor.process_urgent(_update(2, 10), work("urgent"))
    assert done == ["urgent"]  # did not wait for the first
    third = asyncio.ensure_future(processor.do_process_update(_update(3, 10), work("third")))
    for _ in range(10):  # let everything that could run, run
        await asyncio.sleep(0)
    assert done == ["urgent"]  # the third waits for the first, not only for the urgent one
    stuck.set()
    await asyncio.gather(first, third)
    assert done == ["urgent", "first", "third"]
    assert processor._tails == {}
