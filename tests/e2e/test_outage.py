"""Fault tests with a real database outage (issue 13): PostgreSQL cut off by a proxy for 10 s, and a SQLite file whose
write lock another connection holds for 10 s.

For each: no message lost, none doubled, the bot alive, the emergency answer within 2 s even during the outage, and
(SQLite) the event loop never frozen.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from bot.core.dialogue import Dialogue
from bot.storage.tables import OutboxRow
from bot.telegram.app import WORKER
from tests.e2e.conftest import Lotse, Options, centres, lotse_running, running
from tests.e2e.dbproxy import DbProxy
from tests.e2e.fake_telegram import FakeUser, Sent
from tests.e2e.test_handoff import eventually, group, open_case, ready
from tests.storage.conftest import POSTGRES_URL

OUTAGE = 10.0  # seconds without the database
EMERGENCY_AT = 4.0  # seconds into the outage: the bot has met the outage several times by then
EMERGENCY_LIMIT = 2.0  # seconds from the push to the answer with 112
CITY = "koeln"

# ~20 questions from 8 people (each asks about different topics: no "you asked this before" in the way)
QUESTIONS: dict[int, tuple[str, list[str]]] = {
    701: ("en", ["where can I learn german", "I need a doctor for my child", "how do I find an apartment"]),
    702: ("de", ["wo kann ich deutsch lernen", "ich brauche einen Kinderarzt", "Kindergeld beantragen"]),
    703: ("en", ["how do I register my address", "how do I open a bank account", "where can my child go to school"]),
    704: ("en", ["my residence permit expires soon", "where can my child go to school", "I need a job"]),
    705: ("de", ["ich suche eine Wohnung", "wo kann ich deutsch lernen"]),
    706: ("en", ["kindergarten place for my daughter", "how can I get my certificate recognised"]),
    707: ("en", ["where do I get money for my children", "health insurance card"]),
    708: ("de", ["Kindergeld beantragen", "ich brauche einen Kinderarzt"]),
}
EMERGENCY = (720, "en", "my husband is hitting me, help")
CASE_USER = 710
FOLLOW_UPS = ["the paper is from my landlord, dated March", "he wants an answer by Friday", "I can send a photo of it"]
STAFF_REPLY = "Hello, we can look at the paper together on Monday."


def titles(dialogue: Dialogue, questions: dict[int, tuple[str, list[str]]]) -> dict[int, list[str]]:
    """The title every question's answer begins with, per person (each question must be answered with a topic)."""
    expected: dict[int, list[str]] = {}
    for user_id, (lang, texts) in questions.items():
        for question in texts:
            decision = dialogue.decide(question, lang, CITY)
            assert decision.kind == "answer" and decision.topic, (question, decision.kind)
            expected.setdefault(user_id, []).append(dialogue.render(decision.topic, lang, CITY).title)
    return expected


def since(lotse: Lotse, user: FakeUser, start: int) -> list[Sent]:
    return lotse.server.to(user.id)[start:]


def answered(
    lotse: Lotse,
    users: dict[int, FakeUser],
    start: dict[int, int],
    expected: dict[int, list[str]],
    before: float = float("inf"),
) -> int:
    """How many questions have their answer (received before ``before``, a ``perf_counter`` time): per person, the
    replies in order, each beginning with its title."""
    count = 0
    for user_id, wanted in expected.items():
        got = since(lotse, users[user_id], start[user_id])
        count += sum(
            1 for s, title in zip(got, wanted, strict=False) if s.text.startswith(title) and s.received < before
        )
    return count


async def settled(lotse: Lotse, outbox: bool) -> None:
    """Every pushed update confirmed by the bot (so none is processed again) and, with ``outbox``, nothing left to
    deliver in the outbox: nothing more can arrive, and the counts are final."""

    def pending() -> int:
        with lotse.tickets.engine.connect() as conn:
            table = OutboxRow.__table__  # type: ignore[attr-defined]
            return int(conn.execute(select(func.count()).where(table.c.status == "pending")).scalar_one())

    async def busy() -> bool:
        return bool(lotse.server.updates) or (outbox and await asyncio.to_thread(pending) > 0)

    deadline = time.monotonic() + 15
    while await busy():
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled: {len(lotse.server.updates)} updates unconfirmed")
        await asyncio.sleep(0.05)


@dataclass
class Emergency:
    pushed: float
    answer: Sent | None = None

    @property
    def seconds(self) -> float:
        return float("inf") if self.answer is None else self.answer.received - self.pushed


async def emergency(lotse: Lotse, user: FakeUser, message: str) -> Emergency:
    """Push the emergency text and wait (up to 10 s, to measure even a late answer) for the answer with 112."""
    start = len(lotse.server.to(user.id))
    result = Emergency(time.perf_counter())
    user.push_text(message)
    with contextlib.suppress(AssertionError):
        await eventually(lambda: any("112" in s.text for s in since(lotse, user, start)), timeout=10)
    result.answer = next((s for s in since(lotse, user, start) if "112" in s.text), None)
    return result


@contextlib.asynccontextmanager
async def through_proxy(tmp_path: Path, dialogue: Dialogue, proxy: DbProxy) -> AsyncIterator[Lotse]:
    """Lotse with handoff on PostgreSQL (a fresh schema, as ``desk_postgres``), connected through ``proxy``."""
    schema = f"lotse_e2e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).set(host="127.0.0.1", port=proxy.port, query={"options": f"-csearch_path={schema}"})
    try:
        async with contextlib.asynccontextmanager(lotse_running)(
            tmp_path, dialogue, Options(centres=centres()), db_url=url.render_as_string(hide_password=False)
        ) as lotse:
            yield lotse
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.slow
async def test_a_10_s_postgresql_outage_loses_nothing_doubles_nothing_and_emergencies_are_answered_at_once(
    tmp_path: Path, dialogue: Dialogue
) -> None:
    expected = titles(dialogue, QUESTIONS)
    proxy = DbProxy()
    await proxy.start()
    try:
        async with through_proxy(tmp_path, dialogue, proxy) as lotse:
            users = dict(
                zip(
                    QUESTIONS,
                    await asyncio.gather(*(ready(lotse, uid, lang) for uid, (lang, _) in QUESTIONS.items())),
                    strict=True,
                )
            )
            person = await ready(lotse, EMERGENCY[0], EMERGENCY[1])
            case_user = await ready(lotse, CASE_USER, "en")
            card = await open_case(lotse, case_user, "My landlord wants me to sign a paper I do not understand")
            staff = lotse.staff()
            start = {uid: len(lotse.server.to(uid)) for uid in [*users, CASE_USER]}
            group_start = len(group(lotse))

            # -- the outage -------------------------------------------------------------------------------------
            await proxy.down()
            down_at = time.perf_counter()
            for index in range(max(len(texts) for _, texts in QUESTIONS.values())):  # interleaved, as people do
                for uid, (_, texts) in QUESTIONS.items():
                    if index < len(texts):
                        users[uid].push_text(texts[index])
            for follow_up in FOLLOW_UPS:
                case_user.push_text(follow_up)
            staff.write(STAFF_REPLY, thread=card.thread_id)
            await eventually(lambda: proxy.refused > 0)  # the bot met the outage
            await asyncio.sleep(max(0.0, down_at + EMERGENCY_AT - time.perf_counter()))  # the scenario's timeline
            urgent = await emergency(lotse, person, EMERGENCY[2])
            assert not proxy.is_up
            await asyncio.sleep(max(0.0, down_at + OUTAGE - time.perf_counter()))  # the 10 s outage itself
            proxy.up()
            up_at = time.perf_counter()

            # -- after it -----------------------------------------------------------------------------------------
            total = sum(len(t) for t in expected.values())

            def relayed() -> list[Sent]:
                return [s for s in group(lotse)[group_start:] if any(s.text.endswith(f) for f in FOLLOW_UPS)]

            def replied() -> list[Sent]:
                return [s for s in since(lotse, case_user, start[CASE_USER]) if s.text.endswith(STAFF_REPLY)]

            with contextlib.suppress(AssertionError):
                await eventually(
                    lambda: (
                        answered(lotse, users, start, expected) == total
                        and len(relayed()) >= len(FOLLOW_UPS)
                        and bool(replied())
                    ),
                    timeout=20,
                )
            recovered = time.perf_counter() - up_at
            during = answered(lotse, users, start, expected, before=up_at)
            await settled(lotse, outbox=True)
            alive = not lotse.running.task.done() and lotse.running.app.running
            worker_task = lotse.app.bot_data[WORKER]._task
            worker_alive = worker_task is not None and not worker_task.done()

            got = {uid: since(lotse, users[uid], start[uid]) for uid in users}
            extra = {uid: len(got[uid]) - len(expected[uid]) for uid in users if len(got[uid]) != len(expected[uid])}
            emergency_answers = [s for s in lotse.server.to(person.id) if "112" in s.text]
            print(
                f"\nPostgreSQL outage of {OUTAGE:.0f} s through the proxy (connections cut {proxy.cut}, "
                f"refused during the outage {proxy.refused})",
                f"\nemergency answer pushed {EMERGENCY_AT:.0f} s into the outage: {urgent.seconds:.2f} s "
                f"(limit {EMERGENCY_LIMIT:.0f} s); answers with 112: {len(emergency_answers)}",
                f"\nquestions answered: {answered(lotse, users, start, expected)} of {total} "
                f"({during} during the outage); answered {recovered:.1f} s after the database came back; "
                f"replies more or fewer than questions: {extra or 'none'}",
                f"\nfollow-ups in the staff group: {len(relayed())} of {len(FOLLOW_UPS)}; "
                f"staff reply to the person: {len(replied())} of 1",
                f"\nbot alive: {alive}; outbox worker alive: {worker_alive}",
            )
            assert urgent.answer is not None, "no emergency answer during the outage"
            assert urgent.seconds < EMERGENCY_LIMIT, f"emergency answered after {urgent.seconds:.2f} s"
            assert len(emergency_answers) == 1, "the emergency answer came more than once"
            assert answered(lotse, users, start, expected) == total
            assert not extra, f"replies more or fewer than questions: {extra}"
            follow = relayed()
            assert [next(f for f in FOLLOW_UPS if s.text.endswith(f)) for s in follow] == FOLLOW_UPS  # once, in order
            assert all(s.thread_id == card.thread_id for s in follow)
            assert len(replied()) == 1
            assert len(since(lotse, case_user, start[CASE_USER])) == 1  # nothing else reached the person
            assert alive and worker_alive
    finally:
        await proxy.stop()


@dataclass
class Lock:
    """Another process's connection holding the write lock of a SQLite file (BEGIN IMMEDIATE) in its own thread."""

    path: Path
    seconds: float
    held: threading.Event
    release: threading.Event
    held_at: float = 0.0
    released_at: float = 0.0

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            self.held_at = time.perf_counter()
            self.held.set()
            self.release.wait(self.seconds)  # the 10 s the lock is held (or less when the test ends early)
            conn.execute("ROLLBACK")
            self.released_at = time.perf_counter()
        finally:
            conn.close()


SQLITE_QUESTIONS = {uid: QUESTIONS[uid] for uid in (701, 702, 703, 704, 706)}


@pytest.mark.slow
async def test_another_connection_holding_the_sqlite_write_lock_freezes_no_one(
    tmp_path: Path, dialogue: Dialogue
) -> None:
    expected = titles(dialogue, SQLITE_QUESTIONS)
    ticks: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:  # a trivial task every 100 ms: its gaps are the event loop's freezes
        while not stop.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.1)

    lock = Lock(tmp_path / "lotse.db", OUTAGE, threading.Event(), threading.Event())
    holder = threading.Thread(target=lock.run, name="sqlite-lock-holder")
    async with running(tmp_path, dialogue, Options()) as lotse:
        users = dict(
            zip(
                SQLITE_QUESTIONS,
                await asyncio.gather(*(ready(lotse, uid, lang) for uid, (lang, _) in SQLITE_QUESTIONS.items())),
                strict=True,
            )
        )
        person = await ready(lotse, EMERGENCY[0], EMERGENCY[1])
        start = {uid: len(lotse.server.to(uid)) for uid in users}
        probe = asyncio.create_task(ticker())
        holder.start()
        try:
            assert await asyncio.to_thread(lock.held.wait, 5), "the lock could not be taken"
            for index in range(3):
                for uid, (_, texts) in SQLITE_QUESTIONS.items():
                    if index < len(texts):
                        users[uid].push_text(texts[index])
            await asyncio.sleep(max(0.0, lock.held_at + EMERGENCY_AT - time.perf_counter()))  # the scenario
            urgent = await emergency(lotse, person, EMERGENCY[2])
            await asyncio.to_thread(holder.join)
        finally:
            lock.release.set()
            if holder.is_alive():
                await asyncio.to_thread(holder.join)
        total = sum(len(t) for t in expected.values())
        with contextlib.suppress(AssertionError):
            await eventually(lambda: answered(lotse, users, start, expected) == total, timeout=20)
        recovered = time.perf_counter() - lock.released_at
        during = answered(lotse, users, start, expected, before=lock.released_at)
        await settled(lotse, outbox=False)
        stop.set()
        await probe
        alive = not lotse.running.task.done() and lotse.running.app.running
        held = [t for t in ticks if lock.held_at <= t <= lock.released_at]
        edges = [lock.held_at, *held, lock.released_at]
        largest = max(b - a for a, b in itertools.pairwise(edges))
        got = {uid: since(lotse, users[uid], start[uid]) for uid in users}
        extra = {uid: len(got[uid]) - len(expected[uid]) for uid in users if len(got[uid]) != len(expected[uid])}
        emergency_answers = [s for s in lotse.server.to(person.id) if "112" in s.text]
        print(
            f"\nSQLite write lock held by another connection for {lock.released_at - lock.held_at:.1f} s",
            f"\nemergency answer pushed {EMERGENCY_AT:.0f} s into it: {urgent.seconds:.2f} s "
            f"(limit {EMERGENCY_LIMIT:.0f} s); answers with 112: {len(emergency_answers)}",
            f"\nevent loop: largest gap between 100 ms ticks while the lock was held: {largest:.2f} s "
            f"({len(held)} ticks)",
            f"\nquestions answered: {answered(lotse, users, start, expected)} of {total} ({during} while locked); "
            f"all answered {recovered:.1f} s after the release; replies more or fewer than questions: "
            f"{extra or 'none'}",
            f"\nbot alive: {alive}",
        )
        assert largest < 1.0, f"the event loop froze for {largest:.1f} s"
        assert urgent.answer is not None, "no emergency answer while the lock was held"
        assert urgent.seconds < EMERGENCY_LIMIT, f"emergency answered after {urgent.seconds:.2f} s"
        assert len(emergency_answers) == 1, "the emergency answer came more than once"
        assert answered(lotse, users, start, expected) == total
        assert not extra, f"replies more or fewer than questions: {extra}"
        assert alive
