"""Two instances on one database: one person's updates are processed one at a time, in order, whichever instance
gets them (the person's turn, ``Turn``); a turn held by a dead instance runs out by its lease."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import create_engine, text
from telegram import Update

from bot.core.dialogue import Dialogue
from bot.core.ports import Admitted, Turn
from bot.core.replies import Profile
from bot.storage.engine import make_engine, migrate
from bot.telegram.app import TelegramSettings
from bot.telegram.ordering import dispatch
from bot.telegram.services import LotseApplication
from bot.wiring import Assembled, Setup, assemble
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.test_webhook import text_update
from tests.storage.conftest import POSTGRES_URL

PERSON = 6060


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/lotse.db"
        return
    schema = f"lotse_turns_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
async def two(db_url: str, dialogue: Dialogue) -> AsyncIterator[tuple[FakeTelegram, list[Assembled]]]:
    server = FakeTelegram()
    await server.start()
    migrate(make_engine(db_url))
    telegram = TelegramSettings(server.token, server.base_url, server.base_file_url)
    bots = [
        assemble(dialogue=dialogue, engine=make_engine(db_url), setup=Setup(person_lease=2.0), telegram=telegram)
        for _ in range(2)
    ]
    for bot in bots:
        await bot.application.initialize()
    await bots[0].stores.save(Profile(PERSON, lang="en", city="koeln", step="ready"))
    try:
        yield server, bots
    finally:
        server._release.set()  # anything still held by ``stall``
        for bot in bots:
            await bot.application.shutdown()
        await server.stop()


def _update(app: LotseApplication, update_id: int, words: str) -> Update:
    found = Update.de_json(text_update(update_id, PERSON, words), app.bot)
    assert found is not None
    return found


async def _until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_persons_next_update_waits_for_the_other_instance(
    two: tuple[FakeTelegram, list[Assembled]], dialogue: Dialogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, (a, b) = two
    verdicts: list[str] = []
    real_admit = b.stores.admit

    async def admit(user_id: int, now: float, turn: Turn | None = None, cases_since: float | None = None) -> Admitted:
        found = await real_admit(user_id, now, turn, cases_since)
        verdicts.append(found.verdict)
        return found

    monkeypatch.setattr(b.stores, "admit", admit)
    server.stall["sendMessage"] = 1  # instance a's answer hangs in Telegram
    first = asyncio.ensure_future(dispatch(a.application, _update(a.application, 1, "where can i find a doctor")))
    await _until(lambda: server.stalled)
    second = asyncio.ensure_future(dispatch(b.application, _update(b.application, 2, "where is a pharmacy")))
    await _until(lambda: verdicts.count("busy") >= 3)  # b asks for the person's turn again and again ...
    assert not second.done() and not server.to(PERSON)  # ... and sends nothing while a holds it
    server._release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert verdicts[-1] == "ok"
    replies = server.to(PERSON)
    doctor, pharmacy = dialogue.render("doctor", "en", "koeln").title, dialogue.render("pharmacy", "en", "koeln").title
    assert replies[0].text.startswith(doctor) and replies[-1].text.startswith(pharmacy)  # in the person's order
    assert not a.services.turns and not b.services.turns  # every turn ended with its update


async def test_a_turn_held_by_a_dead_instance_runs_out(two: tuple[FakeTelegram, list[Assembled]]) -> None:
    server, (a, b) = two
    dead = Turn("killed-instance:1", 2.0)  # a took the turn and was killed before it answered
    assert (await a.stores.admit(PERSON, time.time(), dead))[0] == "ok"
    started = time.monotonic()
    await asyncio.wait_for(dispatch(b.application, _update(b.application, 2, "where is a pharmacy")), 10)
    assert 1.5 < time.monotonic() - started < 6.0  # waited for the lease (2 s), no longer
    assert len(server.to(PERSON)) >= 1


async def test_an_update_sent_again_after_it_was_processed_changes_nothing(
    two: tuple[FakeTelegram, list[Assembled]],
) -> None:
    server, (a, b) = two
    await dispatch(a.application, _update(a.application, 7, "where is a pharmacy"))
    answered = len(server.to(PERSON))
    assert answered >= 1
    # a answered but died before confirming it: Telegram sends it again, to b
    await dispatch(b.application, _update(b.application, 7, "where is a pharmacy"))
    assert len(server.to(PERSON)) == answered
    await dispatch(b.application, _update(b.application, 8, "where is a pharmacy"))  # the next one is answered
    assert len(server.to(PERSON)) > answered
