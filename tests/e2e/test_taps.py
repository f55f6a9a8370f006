"""Taps from modified clients or old messages: every one is answered, none counts twice, none reaches a handler
with data its message never offered."""

from __future__ import annotations

from tests.e2e.conftest import Lotse, ready
from tests.e2e.test_handoff import eventually


async def test_one_vote_per_answer(lotse: Lotse) -> None:
    user = await ready(lotse, 720, "de")
    (answer,) = await user.send("apotheke nachts")
    await user.tap("👍")
    assert await lotse.stores.counts() == {("pharmacy", "de"): (1, 0)}
    # the vote took the thumbs off that answer: tapping again (a client that did not refresh) counts nothing
    assert not any(data and data.startswith("fb:") for _, data in answer.buttons)
    forged = user.forge_tap("fb:up:pharmacy", answer)
    await eventually(lambda: forged in lotse.server.answered)
    assert await lotse.stores.counts() == {("pharmacy", "de"): (1, 0)}


async def test_forged_and_unknown_taps_are_answered_and_ignored(lotse: Lotse) -> None:
    user = await ready(lotse, 721, "en")
    (answer,) = await user.send("where can i find a doctor")
    before = len(lotse.server.to(721))
    ids = [
        user.forge_tap("t:../../etc/passwd", answer),  # data that is not on the message
        user.forge_tap("fb:down:no-such-topic", answer),
        user.forge_tap("zz:unknown"),  # without a message (one too old to be shown)
        user.forge_tap("fb:up:no-such-topic"),
    ]
    await eventually(lambda: all(i in lotse.server.answered for i in ids))
    assert await lotse.stores.counts() == {}
    assert not lotse.running.task.done()
    # no message was sent for any of them
    assert len(lotse.server.to(721)) == before


async def test_a_button_of_an_older_version_is_answered(lotse: Lotse) -> None:
    user = await ready(lotse, 722, "en")
    (answer,) = await user.send("where can i find a doctor")
    assert answer.reply_markup is not None
    answer.reply_markup["inline_keyboard"].append([{"text": "old", "callback_data": "old:1"}])  # no handler takes it
    before = len(lotse.server.answered)
    await user.tap("old", expect=0)
    await eventually(lambda: len(lotse.server.answered) > before)
    assert not lotse.running.task.done()
