"""Fault test: the bot process killed with SIGKILL at random moments during 100 handoffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.crash import GROUP, Bot, newest, run, until
from tests.e2e.fake_telegram import FakeTelegram, FakeUser


@pytest.mark.slow
async def test_sigkill_during_100_handoffs_loses_nothing_and_duplicates_no_ticket(tmp_path: Path) -> None:
    figures = await run(tmp_path, people=100, kills=5)
    print("\n".join(figures.lines()))
    assert figures.kills == 5
    assert figures.consents == 100
    assert figures.lost == 0 and figures.duplicate_tickets == 0
    assert figures.tickets == 100 and figures.announced == 100
    # Telegram has no idempotency key, but the intent is stored before a topic or a card is sent: a kill between
    # Telegram's answer and the database commit makes neither a second topic nor a second visible card.
    assert figures.duplicate_cards == 0 and figures.duplicate_topics == 0
    assert not figures.notes


@pytest.mark.slow
async def test_sigkill_in_the_tap_window_loses_no_consent(tmp_path: Path) -> None:
    """The process dies while it answers the consent tap: the tap comes again, nothing is lost or doubled."""
    server = FakeTelegram()
    await server.start()
    server.forums.add(GROUP)
    bot = Bot(server, tmp_path)
    try:
        await bot.start()
        user = FakeUser(server, 71001, first_name="Hawre", language_code="de")
        user.push_text("/human")
        await until(lambda: newest(server, user.id, "ho:cancel") is not None, 30)
        user.push_text("Ich brauche Hilfe mit einem Brief vom Jobcenter")
        await until(lambda: newest(server, user.id, "ho:yes") is not None, 30)
        consent = newest(server, user.id, "ho:yes")
        assert consent is not None
        user.seen = len(server.to(user.id))
        data = next(d for _, d in consent.buttons if d and d.startswith("ho:yes"))
        server.stall["answerCallbackQuery"] = 1
        query_id = user.forge_tap(data, consent)
        await until(lambda: bool(server.stalled), 30)
        bot.kill()  # in the window between the bot's work on the tap and Telegram learning of it
        await bot.wait()
        assert query_id not in server.answered
        await bot.start()
        (reply,) = await user._replies(1, timeout=30)
        assert "K" in reply.text and query_id in server.answered  # the case number; the button stopped spinning
        await until(lambda: any(s.text.startswith("Fall #") for s in server.to(GROUP)), 30)
        cards = [s for s in server.to(GROUP) if s.text.startswith("Fall #")]
        assert len(cards) == 1 and "Brief vom Jobcenter" in cards[0].text
        assert len(server.topics[GROUP]) == 1
    finally:
        await bot.stop()
        await server.stop()
