"""Tickets and the outbox on SQLite and PostgreSQL: transactions, idempotency, order, leases, erasure, retention."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, select

from bot.core.handoff import Delivery, NewTicket, Ticket, tg
from bot.storage.tables import OutboxRow
from bot.storage.tickets import SqlTickets

GROUP = -100123


async def _draft(store: SqlTickets, user_id: int = 1, now: float = 1000.0) -> Ticket:
    new = NewTicket(user_id=user_id, centre_id="ki", chat_id=GROUP, lang="ar", city="koeln", question="سؤال",
                    candidates=("doctor",), shared_topics=("pharmacy",), source=int(now))  # fmt: skip
    return await store.draft(new, now)


def _announce(ticket: Ticket) -> list[Delivery]:
    return [Delivery(f"t{ticket.id}:announce", tg(ticket.chat_id), "announce", {}, ticket.id)]


async def _open(store: SqlTickets, user_id: int = 1, now: float = 1000.0) -> Ticket:
    draft = await _draft(store, user_id, now)
    opened = await store.change(draft.id, ("draft",), {"status": "open", "opened_at": now}, _announce, now)
    assert opened is not None
    return opened


@pytest.fixture
def store(engine: Engine) -> SqlTickets:
    return SqlTickets(engine)


async def test_draft_gets_a_case_number_and_replaces_earlier_drafts(store: SqlTickets) -> None:
    first = await _draft(store)
    assert await _draft(store) == first  # the same message processed again: the same draft
    second = await _draft(store, now=2000.0)
    assert await store.get(first.id) is None
    assert second.status == "draft" and len(second.case) == 5 and second.case.startswith("K")
    assert second.candidates == ("doctor",) and second.shared_topics == ("pharmacy",)


async def test_confirming_twice_opens_one_ticket_with_one_announcement(store: SqlTickets) -> None:
    draft = await _draft(store)
    changes = {"status": "open", "opened_at": 1.0}
    first = await store.change(draft.id, ("draft",), changes, _announce, 1.0)
    again = await store.change(draft.id, ("draft",), changes, _announce, 1.0)
    assert first is not None and first.status == "open" and first.version == 1
    assert again is None
    items = await store.claim(now=2.0, lease=30.0, limit=10)
    assert [i.kind for i in items] == ["announce"]
    assert await store.active(1) == first


async def test_one_active_ticket_per_person_even_from_two_drafts(store: SqlTickets, engine: Engine) -> None:
    await _open(store, user_id=7)
    # A second draft confirmed at the same time (another process) must not open a second active ticket.
    other = await store.draft(NewTicket(user_id=8, centre_id="ki", chat_id=GROUP, lang="de", city=None, question="q",
                                        candidates=(), shared_topics=(), source=1), 1.0)  # fmt: skip
    with engine.begin() as conn:
        from bot.storage.tickets import TICKETS

        conn.execute(TICKETS.update().where(TICKETS.c.id == other.id).values(user_id=7))
    assert await store.change(other.id, ("draft",), {"status": "open"}, _announce, 1.0) is None


async def test_deliveries_keep_their_order_per_destination_and_keys_are_unique(store: SqlTickets) -> None:
    ticket = await _open(store)
    user = tg(1)
    new = await store.enqueue([Delivery(f"m{i}", user, "message", {"text": f"t{i}"}, ticket.id) for i in range(3)])
    assert new == 3
    assert await store.enqueue([Delivery("m0", user, "message", {"text": "again"}, ticket.id)]) == 0
    seen: list[str] = []
    for _ in range(4):
        items = await store.claim(now=10.0, lease=30.0, limit=10)
        for item in items:
            seen.append(item.key)
            await store.delivered(item.id, 1, 100 + len(seen), 10.0)
    assert [k for k in seen if k.startswith("m")] == ["m0", "m1", "m2"]  # one destination: stored order
    assert f"t{ticket.id}:announce" in seen[:2]  # another destination is served in the same rounds
    assert await store.copy_of("m1") is not None


async def test_new_cases_and_emergency_notices_go_before_chatter_in_a_group(store: SqlTickets) -> None:
    first = await _open(store, user_id=1)
    (announce,) = await store.claim(now=10.0, lease=30.0, limit=10)
    await store.delivered(announce.id, GROUP, 5, 10.0)
    chatter = [Delivery(f"c{i}", tg(GROUP), "message", {"text": f"t{i}"}, first.id) for i in range(3)]
    await store.enqueue(chatter)
    second = await _open(store, user_id=2)  # a new case while the first one's chatter waits
    sos = Delivery("sos", tg(GROUP), "message", {"text": "🚨"}, first.id, urgent=True)
    await store.enqueue([sos, Delivery("c3", tg(GROUP), "message", {"text": "t3"}, first.id)])
    seen: list[str] = []
    for _ in range(8):
        for item in await store.claim(now=11.0, lease=30.0, limit=10):
            seen.append(item.key)
            await store.delivered(item.id, GROUP, 100 + len(seen), 11.0)
    assert seen == [f"t{second.id}:announce", "sos", "c0", "c1", "c2", "c3"]


async def test_a_claimed_item_is_leased_and_a_retry_waits(store: SqlTickets) -> None:
    ticket = await _open(store)
    (item,) = await store.claim(now=10.0, lease=30.0, limit=10)
    assert await store.claim(now=11.0, lease=30.0, limit=10) == []  # leased by the first worker
    await store.retry(item.id, at=50.0, error="429")
    assert await store.claim(now=20.0, lease=30.0, limit=10) == []  # not due yet
    (again,) = await store.claim(now=51.0, lease=30.0, limit=10)
    assert again.id == item.id and again.attempts == 1 and again.ticket_id == ticket.id
    # After a crash the lease runs out and another worker takes the item.
    (taken_over,) = await store.claim(now=100.0, lease=30.0, limit=10)
    assert taken_over.id == item.id


async def test_sent_times_count_messages_into_a_group(store: SqlTickets) -> None:
    ticket = await _open(store)
    (announce,) = await store.claim(now=10.0, lease=30.0, limit=10)
    await store.delivered(announce.id, GROUP, 5, 10.0)
    assert await store.sent_since(tg(GROUP), 0.0) == [10.0, 10.0]  # topic + card
    await store.enqueue([Delivery("w", "hook:ki", "webhook", {}, ticket.id)])
    (hook,) = await store.claim(now=11.0, lease=30.0, limit=10)
    await store.delivered(hook.id, None, None, 11.0)
    assert len(await store.sent_since(tg(GROUP), 0.0)) == 2


async def test_erase_removes_texts_and_relay_records(store: SqlTickets, engine: Engine) -> None:
    ticket = await _open(store)
    await store.enqueue([Delivery("u:1:50", tg(GROUP), "message", {"text": "my secret"}, ticket.id)])
    for _ in range(2):  # the announcement, then the relayed message (one destination: one at a time)
        (item,) = await store.claim(now=10.0, lease=30.0, limit=10)
        await store.delivered(item.id, GROUP, 70, 10.0)
    copies_seen: list[Sequence[tuple[int, int]]] = []

    def deliveries(t: Ticket, copies: Sequence[tuple[int, int]]) -> list[Delivery]:
        copies_seen.append(copies)
        return [Delivery(f"t{t.id}:deleted", tg(t.chat_id), "message", {"text": "gelöscht"}, t.id)]

    assert await store.erase(1, deliveries, 20.0) == [ticket.case]
    assert copies_seen == [[(GROUP, 70)]]
    erased = await store.get(ticket.id)
    assert erased is not None and erased.status == "deleted" and erased.question is None and erased.user_id is None
    with engine.connect() as conn:
        keys = conn.execute(select(OutboxRow.__table__.c.key)).scalars().all()  # type: ignore[attr-defined]
    assert keys == [f"t{ticket.id}:deleted"]


async def test_retention_purges_old_closed_tickets_and_stale_drafts(store: SqlTickets) -> None:
    day = 86400.0
    old = await _open(store, user_id=1, now=0.0)
    await store.change(old.id, None, {"status": "closed", "closed_at": 1 * day, "closed_by": "staff"}, lambda t: [], 0)
    recent = await _open(store, user_id=2, now=80 * day)
    await store.change(recent.id, None, {"status": "closed", "closed_at": 85 * day}, lambda t: [], 0)
    stale = await _draft(store, user_id=3, now=10 * day)
    counts = await store.purge(closed_before=(100 - 90) * day + 1, drafts_before=99 * day, now=100 * day)
    assert counts["tickets"] == 1 and counts["drafts"] == 1
    purged = await store.get(old.id)
    assert purged is not None and purged.question is None and purged.first_name is None and purged.user_id is None
    kept = await store.get(recent.id)
    assert kept is not None and kept.question == "سؤال"
    assert await store.get(stale.id) is None
    # Running it again changes nothing (it is driven by the stored timestamps, so a restart only delays it).
    assert (await store.purge((100 - 90) * day + 1, 99 * day, 100 * day))["tickets"] == 0


async def test_retention_closes_and_erases_cases_open_longer_than_the_period(store: SqlTickets) -> None:
    day = 86400.0
    stale = await _open(store, user_id=1, now=1 * day)
    await store.enqueue([Delivery("u:1:50", tg(GROUP), "message", {"text": "my secret"}, stale.id)])
    for _ in range(2):  # the announcement, then the relayed message
        (item,) = await store.claim(now=1 * day, lease=30.0, limit=10)
        await store.delivered(item.id, GROUP, 70, 1 * day)
    fresh = await _open(store, user_id=2, now=50 * day)
    seen: list[tuple[Ticket, Sequence[tuple[int, int]]]] = []

    def deliveries(before: Ticket, copies: Sequence[tuple[int, int]]) -> list[Delivery]:
        seen.append((before, copies))
        return [Delivery(f"t{before.id}:wiped", tg(before.chat_id), "message", {"text": "gelöscht"}, before.id)]

    counts = await store.purge((100 - 90) * day, 99 * day, 100 * day, deliveries)
    assert counts["tickets"] == 1 and counts["open_cases"] == 1 and counts["relay_records"] == 1
    ((before, copies),) = seen
    assert before.id == stale.id and before.status == "open" and before.user_id == 1  # as it was: the person is told
    assert copies == [(GROUP, 70)]
    after = await store.get(stale.id)
    assert after is not None and after.status == "closed" and after.purged and after.question is None
    assert after.user_id is None and await store.active(1) is None
    kept = await store.get(fresh.id)
    assert kept is not None and kept.status == "open" and not kept.purged
    assert (await store.purge((100 - 90) * day, 99 * day, 100 * day, deliveries))["tickets"] == 0


async def test_lookups_by_thread_message_and_reopen_window(store: SqlTickets) -> None:
    ticket = await _open(store)
    await store.set_place(ticket.id, thread_id=42, card_message_id=43)
    assert (await store.by_thread(GROUP, 42)) is not None
    assert (await store.by_message(GROUP, 43)) is not None
    assert await store.by_message(GROUP, 44) is None
    await store.change(ticket.id, None, {"status": "closed", "closed_at": 500.0, "closed_by": "staff"}, lambda t: [], 0)
    assert await store.reopenable(1, closed_since=400.0) is not None
    assert await store.reopenable(1, closed_since=600.0) is None
    stats = await store.stats(GROUP, 0.0)
    assert stats["total"] == 1 and stats["closed"] == 1 and stats["languages"] == {"ar": 1}


async def test_situation_finds_active_reopenable_and_the_draft_of_a_message(store: SqlTickets) -> None:
    draft = await _draft(store, user_id=4, now=1000.0)  # made from message 1000
    assert await store.situation(4, 1000, 0.0) == (None, None, draft)
    assert await store.situation(4, 1001, 0.0) == (None, None, None)
    opened = await store.change(draft.id, ("draft",), {"status": "open"}, _announce, 1.0)
    assert opened is not None and opened.source == 1000
    active, reopenable, _ = await store.situation(4, 1001, 0.0)
    assert active == opened and reopenable is None
    await store.change(draft.id, None, {"status": "closed", "closed_at": 50.0, "closed_by": "staff"}, lambda t: [], 0)
    active, reopenable, _ = await store.situation(4, 1002, 40.0)
    assert active is None and reopenable is not None and reopenable.id == draft.id
    assert (await store.situation(4, 1002, 60.0))[1] is None  # closed before the window


async def test_nul_and_lone_surrogates_are_stored_as_replacement_characters(store: SqlTickets) -> None:
    # PostgreSQL refuses NUL in text; SQLite's driver refuses lone surrogates (a JSON "\ud800" escape carries one).
    new = NewTicket(user_id=9, centre_id="ki", chat_id=GROUP, lang="de", city=None,
                    question="Frage\x00mit\ud800Zeichen", candidates=(), shared_topics=(), source=1)  # fmt: skip
    draft = await store.draft(new, 1.0)
    assert draft.question == "Frage\ufffdmit\ufffdZeichen"
    opened = await store.change(draft.id, ("draft",), {"status": "open", "first_name": "A\x00li"}, _announce, 2.0)
    assert opened is not None and opened.first_name == "A\ufffdli"
    await store.enqueue([Delivery("u:9:5", tg(GROUP), "message", {"text": "x\x00y\udfffz"}, draft.id)])
    (announce,) = await store.claim(now=3.0, lease=30.0, limit=10)
    await store.delivered(announce.id, GROUP, 70, 3.0)
    (relay,) = await store.claim(now=4.0, lease=30.0, limit=10)
    assert relay.payload["text"] == "x\x00y\ufffdz"  # NUL survives in JSON as an escape


async def test_a_worker_passes_over_what_another_is_claiming_instead_of_waiting(engine: Engine) -> None:
    store = SqlTickets(engine)
    await store.enqueue([Delivery("a1", tg(11), "message", {}), Delivery("b1", tg(12), "message", {})])
    table = OutboxRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as other:  # another worker, in the middle of its claim of a1 (PostgreSQL: a row lock)
        transaction = other.begin()
        assert other.execute(select(table).where(table.c.key == "a1").with_for_update()).first() is not None
        items = await asyncio.wait_for(store.claim(now=10.0, lease=30.0, limit=10), 5)
        transaction.rollback()
    # PostgreSQL passes over the locked row (it would have waited for the other worker before); SQLite has no row
    # locks, one writer at a time, and takes both.
    expected = ["b1"] if engine.dialect.name == "postgresql" else ["a1", "b1"]
    assert sorted(item.key for item in items) == expected
