"""Stores on SQLite and PostgreSQL: profiles, the message budget, feedback, migrations."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, inspect

from bot.core.handoff import NewTicket
from bot.core.ports import Admitted, Quarantined, Turn, TurnEnd
from bot.core.replies import Profile
from bot.storage.engine import migrate
from bot.storage.stores import SqlStores
from bot.storage.tickets import SqlTickets
from tests.fakes import MemoryStores


def test_migrations_create_the_schema_and_are_idempotent(engine: Engine) -> None:
    migrate(engine)  # a second run changes nothing
    tables = set(inspect(engine).get_table_names())
    assert {"users", "topic_feedback", "alembic_version"} <= tables
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert "first_name" not in columns and "username" not in columns and "phone" not in columns


def test_migrations_match_the_tables_of_the_code(engine: Engine) -> None:
    # every column and index the code declares exists after the migrations, with the same columns
    from sqlmodel import SQLModel

    import bot.storage.tables  # noqa: F401 - registers the tables

    found = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        assert {c.name for c in table.columns} <= {c["name"] for c in found.get_columns(table.name)}, table.name
        indexes = {i["name"]: i["column_names"] for i in found.get_indexes(table.name)}
        for index in table.indexes:
            assert indexes.get(index.name) == [c.name for c in index.columns], (table.name, index.name)


async def test_profile_round_trip_and_delete(engine: Engine) -> None:
    stores = SqlStores(engine)
    assert await stores.get(42) is None
    profile = Profile(42, lang="ar", city="koeln", step="ready")
    await stores.save(profile)
    assert await stores.get(42) == profile
    await stores.save(Profile(42, lang="fa", city=None, step="ready"))
    assert await stores.get(42) == Profile(42, lang="fa", city=None, step="ready")
    await stores.delete(42)
    assert await stores.get(42) is None
    await stores.delete(42)  # deleting twice is fine


async def test_big_telegram_ids(engine: Engine) -> None:
    stores = SqlStores(engine)
    big = 7_999_999_999  # Telegram user ids exceed 32 bits
    await stores.save(Profile(big, lang="de"))
    fetched = await stores.get(big)
    assert fetched is not None and fetched.user_id == big


async def test_flood_gate_budget_refills_per_person(engine: Engine) -> None:
    stores = SqlStores(engine, burst=3, per_second=1.0)
    verdicts = [(await stores.admit(1, 100.0))[0] for _ in range(5)]
    assert verdicts == ["ok", "ok", "ok", "warn", "drop"]
    assert (await stores.admit(2, 100.0))[0] == "ok"  # another person is not affected
    assert (await stores.admit(1, 101.5))[0] == "ok"  # refilled after a second
    assert (await stores.admit(1, 101.5))[0] == "warn"


async def test_flood_gate_does_not_clobber_the_profile(engine: Engine) -> None:
    stores = SqlStores(engine)
    await stores.save(Profile(7, lang="uk", city="dortmund", step="ready"))
    assert await stores.admit(7, 50.0) == Admitted("ok", Profile(7, lang="uk", city="dortmund", step="ready"))
    assert await stores.get(7) == Profile(7, lang="uk", city="dortmund", step="ready")
    assert await stores.admit(8, 50.0) == Admitted("ok", None)  # a new person: no profile yet


async def test_feedback_counts(engine: Engine) -> None:
    stores = SqlStores(engine)
    await asyncio.gather(*(stores.record("doctor", "ar", i % 3 != 0) for i in range(6)))
    await stores.record("doctor", "de", False)
    assert await stores.counts() == {("doctor", "ar"): (4, 2), ("doctor", "de"): (0, 1)}


async def test_two_processes_share_state(engine: Engine) -> None:
    first, second = SqlStores(engine), SqlStores(engine)
    await first.save(Profile(9, lang="tr", city="moers", step="ready"))
    assert await second.get(9) == Profile(9, lang="tr", city="moers", step="ready")


async def test_quarantined_updates_are_kept_once_listed_newest_first_and_dropped(engine: Engine) -> None:
    stores = SqlStores(engine)
    await stores.quarantine(Quarantined(2**40, "message", "unreadable: ValueError", 1, 100.0))
    await stores.quarantine(Quarantined(7, "callback_query", "failed again and again", 3, 200.0))
    await stores.quarantine(Quarantined(7, "callback_query", "failed again and again", 8, 300.0))  # the same update
    listed = await stores.quarantined()
    assert [(q.update_id, q.tries) for q in listed] == [(7, 8), (2**40, 1)]
    assert await stores.drop_quarantined(before=150.0) == 1
    assert [q.update_id for q in await stores.quarantined()] == [7]


async def test_two_updates_of_one_person_at_once_keep_both_changes(engine: Engine) -> None:
    # A city tap and a question of the same person, handled at once (two instances): both read the same profile.
    stores = SqlStores(engine)
    read = Profile(5, lang="de", city=None, step="city")
    await stores.save(read)
    await stores.save(Profile(5, lang="de", city="koeln", step="ready"), read)  # the tap chose the city
    await stores.save(Profile(5, lang="de", city=None, step="city", recent=("doctor",)), read)  # the question
    assert await stores.get(5) == Profile(5, lang="de", city="koeln", step="ready", recent=("doctor",))


async def test_the_in_memory_fake_keeps_both_changes_too() -> None:
    from tests.fakes import MemoryStores

    stores = MemoryStores()
    read = Profile(5, lang="de", city=None, step="city")
    await stores.save(read)
    await stores.save(Profile(5, lang="de", city="koeln", step="ready"), read)
    await stores.save(Profile(5, lang="de", city=None, step="city", recent=("doctor",)), read)
    assert await stores.get(5) == Profile(5, lang="de", city="koeln", step="ready", recent=("doctor",))


async def test_of_several_instances_one_runs_a_periodic_job_per_period(engine: Engine) -> None:
    first, second = SqlStores(engine), SqlStores(engine)  # two instances on one database
    assert await first.take_turn("retention", 1000.0, 3540.0) is True
    assert await second.take_turn("retention", 1001.0, 3540.0) is False  # the other ran it just now
    assert await first.take_turn("other-job", 1001.0, 3540.0) is True  # each job has its own turn
    assert await second.take_turn("retention", 1000.0 + 3540.0, 3540.0) is True  # the next period: one of them
    assert await first.take_turn("retention", 1000.0 + 3541.0, 3540.0) is False
    turns = await asyncio.gather(*(SqlStores(engine).take_turn("race", 5000.0, 60.0) for _ in range(4)))
    assert sorted(turns) == [False, False, False, True]


async def _turns(stores: SqlStores | MemoryStores) -> None:
    a, b = Turn("instance-a:17", 30.0), Turn("instance-b:18", 30.0)
    assert await stores.admit(9, 100.0, a) == Admitted("ok", None)  # a new person: the turn is taken at once
    assert (await stores.admit(9, 101.0, b))[0] == "busy"  # another instance waits ...
    assert (await stores.admit(9, 101.0, a))[0] == "ok"  # ... the holder itself does not (an update again)
    await stores.release(9, b.holder)  # not b's turn: nothing happens
    assert (await stores.admit(9, 101.5, b))[0] == "busy"
    await stores.save(Profile(9, lang="ar", step="ready"), Profile(9))  # an answer's write keeps the turn ...
    assert (await stores.admit(9, 101.8, b))[0] == "busy"
    await stores.release(9, a.holder)  # ... until its replies are sent
    assert (await stores.admit(9, 102.0, b))[0] == "ok"
    assert (await stores.admit(9, 102.5, a))[0] == "busy"
    assert (await stores.admit(9, 102.0 + 30.0, a))[0] == "ok"  # b died holding it: the lease ran out
    await stores.release(9, a.holder)
    assert (await stores.admit(9, 133.0, b))[0] == "ok"
    assert await stores.get(9) == Profile(9, lang="ar", step="ready")
    for _ in range(20):  # "busy" spends nothing from the message budget
        assert (await stores.admit(9, 133.0, a))[0] == "busy"
    await stores.release(9, b.holder, done=18)  # update 18 processed to the end
    again = await stores.admit(9, 134.0, Turn("instance-a:18", 30.0, 18))  # Telegram sends it again
    assert again == Admitted("done", Profile(9, lang="ar", step="ready"))
    assert (await stores.admit(9, 134.0, Turn("instance-a:17", 30.0, 17)))[0] == "done"  # an older one too
    assert (await stores.admit(9, 134.0, Turn("instance-a:19", 30.0, 19)))[0] == "ok"  # the next one is new
    await stores.release(9, "instance-a:19")  # failed for a passing reason: not recorded, processed when it comes
    assert (await stores.admit(9, 135.0, Turn("instance-b:19", 30.0, 19)))[0] == "ok"


async def test_one_instance_at_a_time_takes_a_persons_turn(engine: Engine) -> None:
    await _turns(SqlStores(engine))


async def test_the_in_memory_fake_takes_turns_alike() -> None:
    await _turns(MemoryStores())


async def _answer_ends_turn(stores: SqlStores | MemoryStores) -> None:
    a, b = Turn("instance-a:30", 30.0, 30), Turn("instance-b:31", 30.0, 31)
    assert (await stores.admit(11, 100.0, a))[0] == "ok"
    # another holder's end: the profile is written, the turn stays with a
    await stores.save(Profile(11, lang="ar", step="ready"), Profile(11), end=TurnEnd(b.holder, 31))
    assert (await stores.admit(11, 100.5, b))[0] == "busy"
    # a's answer: its change (only the city) with the end of its turn and update 30 processed, in one write
    before = Profile(11, lang="ar", step="ready")
    await stores.save(Profile(11, lang="ar", city="koeln", step="ready"), before, end=TurnEnd(a.holder, 30))
    assert (await stores.admit(11, 101.0, Turn("instance-b:30", 30.0, 30)))[0] == "done"
    assert (await stores.admit(11, 101.0, b))[0] == "ok"
    assert await stores.get(11) == Profile(11, lang="ar", city="koeln", step="ready")
    # a person whose row is gone (deleted meanwhile): written with every field
    await stores.save(Profile(12, lang="fa", step="city"), Profile(12, lang="de"), end=TurnEnd("instance-a:5", 5))
    assert await stores.get(12) == Profile(12, lang="fa", step="city")


async def test_an_answers_write_ends_the_turn_of_its_holder_only(engine: Engine) -> None:
    await _answer_ends_turn(SqlStores(engine))


async def test_the_in_memory_fake_ends_turns_alike() -> None:
    await _answer_ends_turn(MemoryStores())


async def _instances(stores: SqlStores | MemoryStores) -> None:
    assert await stores.heartbeat("a", 100.0, 30.0) == 1
    assert await stores.heartbeat("b", 105.0, 30.0) == 2
    assert await stores.heartbeat("a", 120.0, 30.0) == 2
    assert await stores.heartbeat("a", 140.0, 30.0) == 1  # b was last seen at 105: gone (killed)
    await stores.heartbeat("c", 141.0, 30.0)
    await stores.leave("c")  # stopped
    assert await stores.heartbeat("a", 142.0, 30.0) == 1


async def test_instances_count_themselves_and_forget_the_dead(engine: Engine) -> None:
    await _instances(SqlStores(engine))


async def test_the_in_memory_fake_counts_instances_alike() -> None:
    await _instances(MemoryStores())


async def test_the_flood_gate_says_whether_a_person_may_have_a_case(engine: Engine) -> None:
    # Read in the gate's transaction, so that the many people without a case cost no second query.
    stores, tickets = SqlStores(engine), SqlTickets(engine)
    assert (await stores.admit(21, 1000.0, cases_since=0.0)).case is False  # new, nothing
    assert (await stores.admit(21, 1000.0)).case is None  # not asked (no handoff configured)
    new = NewTicket(user_id=21, centre_id="ki", chat_id=-100, lang="de", city=None, question="q", candidates=(),
                    shared_topics=(), source=5)  # fmt: skip
    draft = await tickets.draft(new, 1000.0)
    assert (await stores.admit(21, 1001.0, cases_since=0.0)).case is True  # a request awaiting consent
    await tickets.change(draft.id, ("draft",), {"status": "open", "opened_at": 1001.0}, lambda t: (), 1001.0)
    assert (await stores.admit(21, 1002.0, cases_since=0.0)).case is True
    closed = {"status": "closed", "closed_at": 2000.0, "closed_by": "staff"}
    await tickets.change(draft.id, None, closed, lambda t: (), 2000.0)
    assert (await stores.admit(21, 2001.0, cases_since=1500.0)).case is True  # closed lately: a message reopens it
    assert (await stores.admit(21, 2002.0, cases_since=2000.5)).case is False  # closed too long ago
    assert (await stores.admit(22, 2003.0, cases_since=0.0)).case is False  # another person


async def test_a_turn_holder_of_a_real_instance_fits_the_column(engine: Engine) -> None:
    from bot.telegram.services import instance_name

    holder = f"{instance_name()}:{2**63 - 1}"  # the largest update id the column of update ids holds
    assert len(holder) <= 40
    assert (await SqlStores(engine).admit(31, 1.0, Turn(holder, 30.0, 2**63 - 1)))[0] == "ok"
