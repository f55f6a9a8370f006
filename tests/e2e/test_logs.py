"""A whole handoff logged at DEBUG in JSON, as ``LOTSE_LOG_LEVEL=debug python -m bot run`` logs it: every line a JSON
object with update ids and case numbers, and none of the person's words, names or the bot token anywhere."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.dialogue import Dialogue
from bot.logs import OWN, LotseHandler, configure
from tests.e2e.conftest import Lotse, Options, centres, lotse_running
from tests.e2e.fake_telegram import FakeUser
from tests.e2e.test_handoff import eventually, group

FIRST, LAST, USERNAME = "Zaynab", "Quraishi-Lindqvist", "zq_lindqvist_1987"
STAFF = "Hildegard"
QUESTION = "My landlord Herr Brummelkamp wants 800 euro deposit for Talstrasse 17"
FOLLOW_UP = "My phone is +49 171 5550199, call me after 5"
REPLY = "Dear Zaynab, please bring the contract to our office"


@dataclass
class Person(FakeUser):
    """A user whose Telegram profile has a last name and a username too (Telegram sends them with every update)."""

    last_name: str = LAST
    username: str = USERNAME

    def _who(self) -> dict[str, Any]:
        return super()._who() | {"last_name": self.last_name, "username": self.username}

    def _chat(self) -> dict[str, Any]:
        return super()._chat() | {"last_name": self.last_name, "username": self.username}


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger set up as ``run`` sets it up (JSON, debug), writing to a string; restored afterwards."""
    root, own = logging.getLogger(), logging.getLogger(OWN)
    before = (root.level, own.level)
    out = io.StringIO()
    configure("json", "debug", stream=out)
    try:
        yield out
    finally:
        for handler in [h for h in root.handlers if isinstance(h, LotseHandler)]:
            root.removeHandler(handler)
        root.setLevel(before[0])
        own.setLevel(before[1])
        logging.captureWarnings(False)


@pytest.fixture
async def desk(captured: io.StringIO, tmp_path: Path, dialogue: Dialogue) -> AsyncIterator[Lotse]:
    """The handoff desk of tests/e2e/conftest.py, started after logging is set up (its start-up lines count)."""
    async for harness in lotse_running(tmp_path, dialogue, Options(centres=centres())):
        yield harness


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    parsed = []
    for line in out.getvalue().splitlines():
        entry = json.loads(line)  # every line is one JSON object
        assert isinstance(entry, dict), line
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        parsed.append(entry)
    return parsed


async def test_a_whole_handoff_logs_ids_and_no_names_or_texts(desk: Lotse, captured: io.StringIO) -> None:
    person = Person(desk.server, 4242, first_name=FIRST, language_code="en")
    await person.send("/start", expect=3)
    await person.tap("city:koeln", expect=3)
    await person.send("/human")
    (consent,) = await person.send(QUESTION)
    assert FIRST in consent.text  # the bot did read the name: it is in the updates, so a leak would show
    await person.tap("ho:yes:" + consent.buttons[0][1].split(":")[2])  # type: ignore[union-attr]
    await eventually(lambda: len(group(desk)) == 1)
    card = group(desk)[0]
    ticket = await desk.tickets.active(4242)
    assert ticket is not None
    staff = desk.staff(first_name=STAFF)
    staff.write(REPLY, thread=card.thread_id)
    (reply,) = await person._replies(1)
    assert REPLY in reply.text
    await eventually(lambda: f"übernommen ({STAFF})" in group(desk)[0].text)
    person.push_text(FOLLOW_UP)
    await eventually(lambda: any(FOLLOW_UP in s.text for s in group(desk)))
    staff.tap(group(desk)[0], "✅")
    (closed,) = await person._replies(1)
    assert ticket.case in closed.text
    await desk.server.settle()

    raw = captured.getvalue()
    entries = lines(captured)
    assert entries, "the handoff logged nothing"
    decoded = "\n".join(json.dumps(e, ensure_ascii=False) for e in entries)  # \u escapes undone
    secrets = [QUESTION, FOLLOW_UP, REPLY, FIRST, LAST, USERNAME, STAFF, desk.server.token.split(":")[1]]
    secrets += ["Brummelkamp", "5550199", "Talstrasse"]  # parts of the texts too
    for secret in secrets:
        assert secret not in raw and secret not in decoded, f"{secret!r} reached the log"
    update_ids = {e["update_id"] for e in entries if "update_id" in e}
    assert update_ids and all(isinstance(u, int) for u in update_ids), update_ids
    assert any(e.get("case") == ticket.case for e in entries), "no line names the case"
    assert any(e["level"] == "debug" and e["logger"].startswith(OWN) for e in entries), "nothing at debug"
    assert {e.get("chat_kind") for e in entries} >= {"private", "supergroup"}  # the person's and the staff's updates
