"""The poll loop survives what a real deployment meets: unreadable updates, a second poller, a proxy's HTML page,
Telegram's 5xx; and it never logs what people wrote."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from bot.core.ports import Admitted, StoreUnavailableError
from bot.storage.stores import SqlStores
from bot.telegram.app import quiet_library_logs
from tests.e2e.conftest import Lotse, ready

SECRET = "Zaynab-Qx7 +49 171 5550199"  # a name and a phone number that must never reach a log


def database_down(stores: SqlStores, monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Every database call of ``stores`` fails as with the server unreachable until ``["on"]`` is set False."""
    real, real_admit = stores._run, stores.admit
    down = {"on": True}

    async def flaky(fn: object) -> object:
        if down["on"]:
            raise StoreUnavailableError("OperationalError")
        return await real(fn)  # type: ignore[arg-type]

    async def flaky_gate(*args: Any, **kwargs: Any) -> Admitted:  # the flood gate's own statement
        if down["on"]:
            raise StoreUnavailableError("OperationalError")
        return await real_admit(*args, **kwargs)

    monkeypatch.setattr(stores, "_run", flaky)
    monkeypatch.setattr(stores, "admit", flaky_gate)
    return down


async def test_an_update_that_cannot_be_read_is_skipped_without_its_content(
    lotse: Lotse, caplog: pytest.LogCaptureFixture
) -> None:
    user = await ready(lotse, 701, "en")
    quiet_library_logs()  # as `python -m bot run` does
    caplog.set_level(logging.DEBUG)
    # even an operator who turns the library's logs up to DEBUG gets no bodies
    caplog.set_level(logging.DEBUG, logger="telegram.ext.ExtBot")
    # "chat" must be an object: python-telegram-bot cannot read this update
    poison = lotse.server.push({"message": {"message_id": 5, "date": int(time.time()), "chat": SECRET, "text": SECRET}})
    started = time.monotonic()
    user.push_text("help, my child is not breathing")  # in the same batch as the poison
    (sos,) = await user._replies(1)
    assert time.monotonic() - started < 2.0 and "112" in sos.text
    (answer,) = await user.send("where can i find a doctor")
    assert "doctor" in answer.text.lower()
    assert not lotse.running.task.done()
    assert f"update {poison} skipped" in caplog.text
    assert "Zaynab" not in caplog.text and "5550199" not in caplog.text
    # the poison update was confirmed with the rest: Telegram will not send it again
    offsets = [int(p.get("offset") or 0) for m, p in lotse.server.calls if m == "getUpdates"]
    assert max(offsets) > poison
    # kept for an operator, by id and kind, without a word of its content
    (entry,) = await lotse.stores.quarantined()
    assert entry.update_id == poison and entry.kinds == "message" and entry.error.startswith("unreadable")
    assert SECRET not in repr(entry)


@pytest.mark.parametrize("fault", ["409", "html", "500"])
async def test_the_poll_loop_outlives_a_bad_answer(lotse: Lotse, caplog: pytest.LogCaptureFixture, fault: str) -> None:
    user = await ready(lotse, 702, "de")
    lotse.server.poll_faults += [fault, fault]
    # The confirmation of this update meets the faults (a 409 pauses the loop 15 s): no waiting until it is idle.
    (answer,) = await user.send("wo finde ich eine apotheke", settle=False)
    assert answer.text.startswith(lotse.dialogue.render("pharmacy", "de", "koeln").title)
    expected = {
        "409": "another instance is polling this bot",
        "html": "getUpdates answered something unexpected",
        "500": "getUpdates failed",
    }[fault]
    deadline = time.monotonic() + 10
    while expected not in caplog.text:  # the bot met the fault (a log line: no event to wait on)
        assert time.monotonic() < deadline, f"not logged: {expected}"
        await asyncio.sleep(0.05)
    assert not lotse.running.task.done()
    assert expected in caplog.text


async def test_a_database_outage_pauses_processing_and_loses_nothing(
    lotse: Lotse, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = await ready(lotse, 703, "en")
    other = await ready(lotse, 704, "de")
    real = lotse.stores.save
    down = {"calls": 2}  # the database refuses the next profile writes, then is back

    async def flaky(*args: Any, **kwargs: Any) -> None:
        if down["calls"] > 0:
            down["calls"] -= 1
            raise StoreUnavailableError("OperationalError")
        await real(*args, **kwargs)

    monkeypatch.setattr(lotse.stores, "save", flaky)
    user.push_text("where can i find a doctor")
    other.push_text("wo finde ich eine apotheke")
    (answer,) = await user._replies(1, timeout=20)
    (antwort,) = await other._replies(1, timeout=20)
    assert "doctor" in answer.text.lower()
    assert antwort.text.startswith(lotse.dialogue.render("pharmacy", "de", "koeln").title)
    # The answers went out before their profile writes: those are retried until the database is back (processing
    # the messages again would answer them twice).
    assert "its end not written (StoreUnavailableError); trying again" in caplog.text
    await lotse.server.settle()  # every update confirmed: nothing is answered twice
    assert len(lotse.server.to(703)) == user.seen and len(lotse.server.to(704)) == other.seen


async def test_a_tap_is_answered_only_after_its_database_write(
    lotse: Lotse, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = await ready(lotse, 705, "en")
    (picker,) = await user.send("/language")
    down = database_down(lotse.stores, monkeypatch)
    query_id = user.forge_tap("lang:de", picker)
    deadline = time.monotonic() + 10
    while "it will be processed again" not in caplog.text:
        assert time.monotonic() < deadline, "the failed write was not reported"
        await asyncio.sleep(0.05)
    assert query_id not in lotse.server.answered  # the spinner says: not done yet
    down["on"] = False
    (answer,) = await user._replies(1, timeout=20)
    assert query_id in lotse.server.answered
    stored = await lotse.stores.get(705)
    assert stored is not None and stored.lang == "de"
    assert answer.text  # the German greeting, in the same update processed again


async def test_an_emergency_is_answered_at_once_while_the_database_is_down(
    lotse: Lotse, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = await ready(lotse, 706, "de")
    down = database_down(lotse.stores, monkeypatch)
    started = time.monotonic()
    asked = user.push_text("Hilfe, mein Kind atmet nicht mehr")
    (answer,) = await user._replies(1, timeout=5, settle=False)  # the rest waits for the database
    assert time.monotonic() - started < 2.0
    assert "112" in answer.text
    deadline = time.monotonic() + 10
    while "it will be processed again" not in caplog.text:  # the rest of its processing waits for the database
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    down["on"] = False
    (later,) = await user.send("wo finde ich eine apotheke")
    assert later.reply_to is None  # the next answer, not the emergency answer a second time
    assert len([s for s in lotse.server.to(706) if s.reply_to == asked]) == 1


async def test_an_emergency_does_not_wait_for_the_same_persons_stuck_message(
    lotse: Lotse, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await ready(lotse, 707, "de")
    real = lotse.stores._run
    gate = asyncio.Event()

    async def stuck(fn: object) -> object:  # a database that hangs (a lock held elsewhere, a slow network)
        await gate.wait()
        return await real(fn)  # type: ignore[arg-type]

    real_admit = lotse.stores.admit

    async def stuck_gate(*args: Any, **kwargs: Any) -> Admitted:
        await gate.wait()
        return await real_admit(*args, **kwargs)

    monkeypatch.setattr(lotse.stores, "_run", stuck)
    monkeypatch.setattr(lotse.stores, "admit", stuck_gate)  # the flood gate's statement hangs as well
    user.push_text("wo finde ich eine apotheke")
    started = time.monotonic()
    asked = user.push_text("Hilfe, mein Kind atmet nicht mehr")
    (answer,) = await user._replies(1, timeout=5, settle=False)  # the rest waits for the database
    assert time.monotonic() - started < 2.0 and answer.reply_to == asked
    gate.set()
    (later,) = await user._replies(1)  # then the question, answered once; the emergency answer not again
    assert later.text.startswith(lotse.dialogue.render("pharmacy", "de", "koeln").title)
    assert len([s for s in lotse.server.to(707) if s.reply_to == asked]) == 1


async def test_a_5xx_on_a_reply_is_retried_and_answered_once(lotse: Lotse) -> None:
    user = await ready(lotse, 708, "de")
    lotse.server.faults["sendMessage"] = ["500"]  # Telegram fails before sending anything
    user.push_text("wo finde ich eine apotheke")
    (answer,) = await user._replies(1, timeout=15)
    assert answer.text.startswith(lotse.dialogue.render("pharmacy", "de", "koeln").title)
    (later,) = await user.send("wo kann ich deutsch lernen")  # and nothing of the first came twice
    assert later.text.startswith(lotse.dialogue.render("language-course", "de", "koeln").title)


async def test_a_reply_still_refused_with_429_after_the_limiters_retries_comes_later(lotse: Lotse) -> None:
    user = await ready(lotse, 709, "de")
    lotse.server.throttle_chats[709] = 7  # more 429 answers (retry after 1 s) than the limiter retries in a call (5)
    user.push_text("wo finde ich eine apotheke")
    (answer,) = await user._replies(1, timeout=30)
    assert answer.text.startswith(lotse.dialogue.render("pharmacy", "de", "koeln").title)
