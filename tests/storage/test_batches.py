"""Group commit: the flood gate's and the turn ends' writes of people who write at the same moment go in together,
on SQLite and PostgreSQL, each caller with its own result; one call's failure is its own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import IntegrityError

from bot.core.handoff import NewTicket
from bot.core.ports import Admitted, StoreUnavailableError, Turn, TurnEnd
from bot.core.replies import Profile
from bot.storage.batches import Batches
from bot.storage.stores import SqlStores
from bot.storage.tickets import SqlTickets


def _commits(engine: Engine) -> list[int]:
    counted = [0]

    @event.listens_for(engine, "commit")
    def _count(_: object) -> None:
        counted[0] += 1

    return counted


async def test_people_writing_at_once_are_admitted_in_one_transaction(engine: Engine) -> None:
    stores = SqlStores(engine)
    for uid in range(1, 31):
        await stores.save(Profile(uid, lang="de", city="koeln", step="ready"))
    commits = _commits(engine)
    turns = [Turn(f"a:{uid}", 30.0, uid) for uid in range(1, 31)]
    admitted = await asyncio.gather(*(stores.admit(uid, 100.0, turns[uid - 1]) for uid in range(1, 31)))
    assert [a.verdict for a in admitted] == ["ok"] * 30
    assert [a.profile for a in admitted] == [Profile(uid, "de", "koeln", "ready") for uid in range(1, 31)]
    assert commits[0] <= 2  # the first call alone, the other 29 together (was 30)
    # every person's turn is taken, by their own update
    assert (await stores.admit(7, 101.0, Turn("b:99", 30.0, 99))).verdict == "busy"
    ends = [stores.save(Profile(uid, "de", "koeln", "ready", ("doctor",)), Profile(uid, "de", "koeln", "ready"),
                        TurnEnd(f"a:{uid}", uid)) for uid in range(1, 31)]  # fmt: skip
    commits[0] = 0
    await asyncio.gather(*ends)
    assert commits[0] <= 2
    assert (await stores.get(7)) == Profile(7, "de", "koeln", "ready", ("doctor",))
    assert (await stores.admit(7, 102.0, Turn("b:7", 30.0, 7))).verdict == "done"  # update 7 was processed
    assert (await stores.admit(7, 102.0, Turn("b:100", 30.0, 100))).verdict == "ok"  # and the turn is free


async def test_a_persons_second_call_goes_in_the_next_batch_in_order(engine: Engine) -> None:
    stores = SqlStores(engine, burst=3.0, per_second=0.0)
    first, second = Turn("a:1", 30.0, 1), Turn("b:2", 30.0, 2)
    found = await asyncio.gather(
        stores.admit(8, 100.0, first), stores.admit(9, 100.0), stores.admit(8, 100.0, second), stores.admit(8, 100.0)
    )
    assert found[0] == Admitted("ok", None)  # new: the first message spent, the turn taken
    assert found[1] == Admitted("ok", None)
    assert found[2].verdict == "busy"  # it came after the first, whose turn holds
    assert found[3].verdict == "ok"  # no turn asked: the budget only, spent after the first
    assert (await stores.admit(8, 100.0)).verdict == "ok"  # the third of 3 ("busy" spent nothing)
    assert (await stores.admit(8, 100.0)).verdict == "warn"  # the budget is spent: the gate warns once


async def test_the_case_check_in_a_batch(engine: Engine) -> None:
    stores, tickets = SqlStores(engine), SqlTickets(engine)
    new = NewTicket(user_id=21, centre_id="ki", chat_id=-100, lang="de", city=None, question="q", candidates=(),
                    shared_topics=(), source=5)  # fmt: skip
    await tickets.draft(new, 99.0)
    found = await asyncio.gather(*(stores.admit(uid, 100.0, cases_since=0.0) for uid in (20, 21, 22)))
    assert [a.case for a in found] == [False, True, False]  # new people: asked one by one
    found = await asyncio.gather(*(stores.admit(uid, 101.0, cases_since=0.0) for uid in (20, 21, 22)))
    assert [a.case for a in found] == [False, True, False]  # known people: in the batch's statement
    found = await asyncio.gather(*(stores.admit(uid, 102.0) for uid in (20, 21)))
    assert [a.case for a in found] == [None, None]  # not asked


async def test_one_failing_call_fails_alone_and_an_unreachable_database_fails_all(engine: Engine) -> None:
    def work(conn: Connection, calls: list[int]) -> list[int]:
        conn.execute(text("SELECT 1"))
        if 13 in calls:
            raise IntegrityError("INSERT", {}, Exception("another process was first"))
        if -1 in calls:
            raise StoreUnavailableError("OperationalError")
        return [call * 2 for call in calls]

    batches: Batches[int, int] = Batches(engine, work, lambda call: call)
    found = await asyncio.gather(*(batches.run(n) for n in (1, 13, 3)), return_exceptions=True)
    assert found[0] == 2 and found[2] == 6 and isinstance(found[1], IntegrityError)
    found = await asyncio.gather(*(batches.run(n) for n in (4, -1, 5)), return_exceptions=True)
    assert all(isinstance(f, StoreUnavailableError) for f in found)
    assert await batches.run(7) == 14  # and it goes on


async def test_a_caller_that_gave_up_is_left_out(engine: Engine) -> None:
    seen: list[list[int]] = []

    def work(conn: Connection, calls: list[int]) -> list[int]:
        seen.append(list(calls))
        return calls

    batches: Batches[int, int] = Batches(engine, work, lambda call: call)
    first = asyncio.ensure_future(batches.run(1))
    waiting = asyncio.ensure_future(batches.run(2))
    await asyncio.sleep(0)  # both are waiting; the first batch is on its way
    waiting.cancel()
    assert await first == 1
    await asyncio.gather(waiting, return_exceptions=True)
    assert [2] not in seen and sum(len(s) for s in seen) <= 2


@pytest.mark.parametrize("size", [150])
async def test_a_batch_holds_at_most_the_limit(engine: Engine, size: int) -> None:
    sizes: list[int] = []

    def work(conn: Connection, calls: list[Any]) -> list[Any]:
        sizes.append(len(calls))
        return calls

    batches: Batches[int, int] = Batches(engine, work, lambda call: call)
    assert await asyncio.gather(*(batches.run(n) for n in range(size))) == list(range(size))
    assert max(sizes) <= 100 and sum(sizes) == size
