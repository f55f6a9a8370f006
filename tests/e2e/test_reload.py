"""Live reload: a volunteer's edit of the knowledge folder is answered by the next message without a restart; a broken
edit keeps the previous knowledge answering and tells the administrators which file and line."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_config
from bot.wiring import load_dialogue
from tests.conftest import FIXTURE_KB
from tests.e2e.conftest import Lotse, Options, lotse_running, ready

ADMIN = 4901


@pytest.fixture
async def volunteers(tmp_path: Path) -> AsyncIterator[tuple[Lotse, Path]]:
    """Lotse on a copy of the fixture knowledge that the test edits, watched, with one administrator."""
    folder = Path(shutil.copytree(FIXTURE_KB, tmp_path / "knowledge"))
    config = load_config({"KNOWLEDGE_DIR": str(folder), "LOTSE_CACHE_DIR": str(tmp_path / "cache")})
    options = Options(admin_ids=frozenset({ADMIN}), reload=lambda: load_dialogue(config), watch=folder)
    async for harness in lotse_running(tmp_path, load_dialogue(config), options):
        yield harness, folder


def _retitle(folder: Path, old: str, new: str) -> None:
    topic = folder / "topics" / "pharmacy" / "de.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace(f'title: "{old}"', f'title: "{new}"', 1))


async def _told(lotse: Lotse, seen: int, timeout: float = 30.0) -> str:
    """The administrator's next message (sent by the bot on its own, e.g. after the watcher saw a change)."""
    deadline = time.monotonic() + timeout
    while len(lotse.server.to(ADMIN)) <= seen:
        assert time.monotonic() < deadline, "the administrators were not told"
        await asyncio.sleep(0.05)
    return lotse.server.to(ADMIN)[seen].text


async def test_an_edit_is_answered_by_the_next_message_and_a_broken_one_keeps_the_old(
    volunteers: tuple[Lotse, Path],
) -> None:
    lotse, folder = volunteers
    user = await ready(lotse, 4902, "de", city="city:testcity")
    admin = lotse.user(ADMIN, language_code="de")
    (before,) = await user.send("apotheke")
    assert before.text.startswith("Apotheke")

    _retitle(folder, "Apotheke", "Apotheke und Notdienst")  # saved in an editor: the watcher sees it
    told = await _told(lotse, 0)
    assert told.startswith("Knowledge reloaded (a knowledge file changed): 3 topics, 3 languages, 1 cities")
    (after,) = await user.send("apotheke")
    assert after.text.startswith("Apotheke und Notdienst")

    topic = folder / "topics" / "pharmacy" / "de.yaml"
    good = topic.read_text(encoding="utf-8")
    topic.write_text(good.replace('title: "Apotheke und Notdienst"', 'title: "Apotheke', 1), encoding="utf-8")
    told = await _told(lotse, 1)
    assert told.startswith("The knowledge was not reloaded (a knowledge file changed): 1 error(s); the previous")
    assert re.search(rf"{re.escape(str(topic))}:\d+: error: YAML syntax error", told)  # which file and line
    (still,) = await user.send("apotheke")
    assert still.text.startswith("Apotheke und Notdienst")  # the previous knowledge answers on

    topic.write_text(good, encoding="utf-8")
    await _told(lotse, 2)
    admin.seen = len(lotse.server.to(ADMIN))  # the messages above came unasked
    (reloaded,) = await admin.send("/reload")  # an administrator can ask for it, too
    assert reloaded.text.startswith("Knowledge reloaded (/reload)")
    (not_admin,) = await user.send("/reload")
    assert "reloaded" not in not_admin.text
