"""In-memory stand-ins for the ports of :mod:`bot.core.ports`, with the semantics of the SQL stores.

:class:`MemoryStores` mirrors :class:`bot.storage.stores.SqlStores` (profiles, the flood gate, feedback, the
quarantine); :class:`MemoryTickets` mirrors :class:`bot.storage.tickets.SqlTickets` with its outbox
(:class:`bot.storage.outbox.SqlOutbox`): unique delivery keys, one active ticket per person, unique case numbers,
``change`` only in the expected status, erasure and retention with the relayed copies, claims per destination in
(priority, id) order with leases. Every method runs without an ``await`` inside, so it is atomic like a transaction;
a callback that raises leaves nothing changed. Nothing here imports storage code: these fakes load in no time.

The assignments at the bottom make mypy check that the fakes satisfy the Protocols, so a changed port breaks here.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from bot.core.gaps import Gap
from bot.core.handoff import (
    ACTIVE,
    Delivery,
    DeliveryKind,
    NewTicket,
    OutboxItem,
    Ticket,
    case_number,
    priority,
    weight,
)
from bot.core.ports import (
    Admitted,
    Deliveries,
    Expected,
    FeedbackStore,
    FloodGate,
    JobTurns,
    Outbox,
    ProfileStore,
    Quarantined,
    TicketStore,
    Turn,
    TurnEnd,
    UpdateQuarantine,
    WipeDeliveries,
    case_figures,
    changed_fields,
    place_changes,
    processed,
    spend,
    turn_free,
)
from bot.core.replies import Clock, Profile

_SURROGATE = re.compile("[\ud800-\udfff]")

# The columns of the tickets table (bot.storage.tables.TicketRow) that differ from the Ticket's field names; a stored
# timestamp the Ticket shows only as a flag becomes that flag.
_RENAMED = {"case_no": "case", "source_msg": "source"}
_FLAGS = {"purged_at": "purged", "topic_tried_at": "topic_tried", "card_tried_at": "card_tried"}
_COLUMNS = (
    frozenset({f.name for f in fields(Ticket)} - set(_RENAMED.values()) - set(_FLAGS.values()))
    | set(_RENAMED)
    | set(_FLAGS)
)


def storable(text: str) -> str:
    """As :func:`bot.storage.outbox.storable`: NUL and lone surrogates become U+FFFD (copied, so that the fakes need
    no SQLAlchemy)."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(",") if v)


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as a Ticket reads them back: texts made storable, lists joined and split with commas, renamed
    columns and timestamps-as-flags mapped. An unknown column fails, as the SQL statement would."""
    out: dict[str, Any] = {}
    for column, value in values.items():
        if column not in _COLUMNS:
            raise ValueError(f"no column {column!r} in the tickets table")
        if column in ("candidates", "shared_topics"):
            value = _split(",".join(value))
        elif isinstance(value, str):
            value = storable(value)
        if column in _FLAGS:
            out[_FLAGS[column]] = value is not None
        else:
            out[_RENAMED.get(column, column)] = value
    return out


class FakeClock:
    """A clock that stands still until it is moved: ``clock()`` is the time, ``clock.advance(s)`` moves it."""

    def __init__(self, now: float = 1_795_424_400.0) -> None:  # Monday, 23 November 2026, 10:00 in Berlin
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


# -- profiles, flood gate, feedback, quarantine ------------------------------------------------------------------


@dataclass(slots=True)
class _UserRow:
    profile: Profile
    tokens: float
    updated: float = 0.0
    warned: bool = False
    busy_until: float = 0.0
    busy_by: str | None = None
    done_update: int | None = None
    sent_update: int | None = None
    sent_count: int = 0


class MemoryStores:
    """Profiles, the per-person message budget, feedback counts and quarantined updates, as ``SqlStores`` keeps
    them: one row per person holds both the profile and the budget, so ``admit`` for a new person creates a profile
    (step "language") and ``delete`` forgets the budget too."""

    def __init__(self, *, burst: float = 8.0, per_second: float = 0.5) -> None:
        self.burst = burst
        self.per_second = per_second
        self.users: dict[int, _UserRow] = {}
        self.feedback: dict[tuple[str, str], tuple[int, int]] = {}
        self.quarantine_rows: dict[int, Quarantined] = {}
        self.jobs: dict[str, float] = {}  # job -> when it last ran
        self.instances: dict[str, float] = {}  # instance -> when it was last seen

    # -- ProfileStore ---------------------------------------------------------------------------------------------

    async def get(self, user_id: int) -> Profile | None:
        row = self.users.get(user_id)
        return None if row is None else row.profile

    async def save(self, profile: Profile, before: Profile | None = None, end: TurnEnd | None = None) -> None:
        row = self.users.get(profile.user_id)
        changes = changed_fields(profile, before if row is not None else None)
        if row is None:
            row = self.users[profile.user_id] = _UserRow(profile, self.burst)
        if "recent" in changes:  # stored as text: the topics are joined with commas and read back without empty ones
            changes["recent"] = _split(",".join(profile.recent))
        row.profile = replace(row.profile, **changes)  # type: ignore[arg-type]
        if end is not None:
            await self.release(profile.user_id, end.holder, end.done)

    async def delete(self, user_id: int) -> None:
        self.users.pop(user_id, None)

    # -- JobTurns ---------------------------------------------------------------------------------------------------

    async def take_turn(self, job: str, now: float, every: float) -> bool:
        last = self.jobs.get(job)
        if last is not None and last > now - every:
            return False
        self.jobs[job] = now
        return True

    # -- FloodGate ------------------------------------------------------------------------------------------------

    async def admit(
        self, user_id: int, now: float, turn: Turn | None = None, cases_since: float | None = None
    ) -> Admitted:
        """As ``SqlStores.admit``; whether the person has a case is not known here (tickets live in MemoryTickets):
        ``case`` is None, so the handoff looks it up."""
        row = self.users.get(user_id)
        if row is None:
            row = self.users[user_id] = _UserRow(Profile(user_id), self.burst - 1.0, now)
            if turn is not None:
                row.busy_by, row.busy_until = turn.holder, now + turn.lease
            return Admitted("ok", None)
        if turn is not None and processed(turn, row.done_update):
            return Admitted("done", row.profile)
        if turn is not None and not turn_free(row.busy_until, row.busy_by, now, turn):
            return Admitted("busy", None)
        verdict, tokens, warned = spend(
            row.tokens, row.updated, row.warned, now, burst=self.burst, per_second=self.per_second
        )
        row.tokens, row.updated, row.warned = tokens, now, warned
        if verdict == "ok" and turn is not None:
            row.busy_by, row.busy_until = turn.holder, now + turn.lease
        sent = (
            row.sent_count
            if turn is not None and turn.update_id is not None and row.sent_update == turn.update_id
            else 0
        )
        return Admitted(verdict, row.profile, None, sent)

    async def progress(self, user_id: int, holder: str, update_id: int, sent: int) -> None:
        row = self.users.get(user_id)
        if row is not None and row.busy_by == holder:
            row.sent_update, row.sent_count = update_id, sent

    async def release(self, user_id: int, holder: str, done: int | None = None) -> None:
        row = self.users.get(user_id)
        if row is not None and row.busy_by == holder:
            row.busy_by, row.busy_until = None, 0.0
            if done is not None:
                row.done_update = done

    # -- Instances --------------------------------------------------------------------------------------------------

    async def heartbeat(self, instance: str, now: float, stale: float) -> int:
        self.instances[instance] = now
        for name in [n for n, seen in self.instances.items() if seen < now - stale]:
            del self.instances[name]
        return len(self.instances)

    async def leave(self, instance: str) -> None:
        self.instances.pop(instance, None)

    # -- FeedbackStore --------------------------------------------------------------------------------------------

    async def record(self, topic: str, lang: str, helpful: bool) -> None:
        up, down = self.feedback.get((topic, lang), (0, 0))
        self.feedback[(topic, lang)] = (up + int(helpful), down + int(not helpful))

    async def counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        return dict(self.feedback)

    # -- UpdateQuarantine -----------------------------------------------------------------------------------------

    async def quarantine(self, entry: Quarantined) -> None:
        self.quarantine_rows[entry.update_id] = replace(entry, kinds=entry.kinds[:100], error=entry.error[:100])

    async def quarantined(self, limit: int = 50) -> list[Quarantined]:
        return sorted(self.quarantine_rows.values(), key=lambda q: q.at, reverse=True)[:limit]

    async def drop_quarantined(self, before: float) -> int:
        dropped = [k for k, q in self.quarantine_rows.items() if q.at < before]
        for key in dropped:
            del self.quarantine_rows[key]
        return len(dropped)


# -- tickets and the outbox -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class OutboxRecord:
    """One outbox row (bot.storage.tables.OutboxRow); ``payload`` is the stored JSON, "{}" once sent or given up."""

    id: int
    key: str
    dest: str
    kind: DeliveryKind
    payload: str
    ticket_id: int | None
    created_at: float
    weight: int
    priority: int
    status: str = "pending"  # pending | sent | failed
    attempts: int = 0
    next_at: float = 0.0
    lease_until: float = 0.0
    error: str | None = None
    sent_at: float | None = None
    dst_chat: int | None = None
    dst_msg: int | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The payload as the worker reads it."""
        value: dict[str, Any] = json.loads(self.payload)
        return value


class MemoryTickets:
    """Tickets and their outbox, as ``SqlTickets`` keeps them (see the module's description).

    ``clock`` stands for the ``time.time()`` the SQL store reads in ``enqueue`` and ``set_place``; ``case_random``
    draws case numbers (``secrets.randbelow`` there), so that a test can make two drafts draw the same one.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, case_random: Callable[[int], int] = secrets.randbelow
    ) -> None:
        self.clock = clock
        self.case_random = case_random
        self.tickets: dict[int, Ticket] = {}
        self.outbox: dict[int, OutboxRecord] = {}
        self._ticket_ids = 0  # never reused, like SQLite's AUTOINCREMENT: an old button never meets a new ticket
        self._outbox_ids = 0
        self.wakeup: Callable[[], None] = lambda: None  # set by the worker: new deliveries were stored

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing: when a callback (or a check) raises, tickets and outbox are as before."""
        tickets, outbox = dict(self.tickets), {k: copy.copy(v) for k, v in self.outbox.items()}
        try:
            yield
        except BaseException:
            self.tickets, self.outbox = tickets, outbox
            raise

    def _insert(self, deliveries: Sequence[Delivery], now: float) -> int:
        """Store deliveries; a key already stored (or earlier in the same batch) is skipped."""
        keys = {r.key for r in self.outbox.values()}
        new = 0
        for d in deliveries:
            payload = storable(json.dumps(dict(d.payload), ensure_ascii=False))  # fails as the SQL store fails
            if d.key in keys:
                continue
            self._outbox_ids += 1
            self.outbox[self._outbox_ids] = OutboxRecord(
                id=self._outbox_ids,
                key=d.key,
                dest=d.dest,
                kind=d.kind,
                payload=payload,
                ticket_id=d.ticket_id,
                created_at=now,
                weight=weight(d.kind, d.dest),
                priority=priority(d.kind, d.urgent),
            )
            keys.add(d.key)
            new += 1
        return new

    def _write(self, ticket: Ticket) -> None:
        """Store a ticket, keeping the unique indexes: one case number, one open or taken ticket per person."""
        for other in self.tickets.values():
            if other.id == ticket.id:
                continue
            if other.case == ticket.case:
                raise ValueError(f"case number {ticket.case} is taken")
            same_person = ticket.user_id is not None and other.user_id == ticket.user_id
            if same_person and ticket.status in ACTIVE and other.status in ACTIVE:
                raise _OneActiveError(ticket.user_id)
        self.tickets[ticket.id] = ticket

    def _by_id(self) -> list[Ticket]:
        return [self.tickets[k] for k in sorted(self.tickets)]

    # -- TicketStore ----------------------------------------------------------------------------------------------

    async def draft(self, new: NewTicket, now: float) -> Ticket:
        user_id, source = new.user_id, new.source
        for ticket in self._by_id():
            if ticket.user_id == user_id and ticket.status == "draft" and ticket.source == source:
                return ticket  # the same message processed again
        for ticket in self._by_id():
            if ticket.user_id == user_id and ticket.status == "draft":
                del self.tickets[ticket.id]
        taken = {t.case for t in self.tickets.values()}
        case = case_number(self.case_random)
        while case in taken:
            case = case_number(self.case_random)  # taken: draw another one
        self._ticket_ids += 1
        values = _stored({"question": new.question, "candidates": new.candidates, "shared_topics": new.shared_topics})
        ticket = Ticket(
            id=self._ticket_ids,
            case=case,
            user_id=user_id,
            centre_id=new.centre_id,
            chat_id=new.chat_id,
            lang=new.lang,
            city=new.city,
            status="draft",
            created_at=now,
            source=source,
            **values,
        )
        self._write(ticket)
        return ticket

    async def get(self, ticket_id: int) -> Ticket | None:
        return self.tickets.get(ticket_id)

    async def active(self, user_id: int) -> Ticket | None:
        return next((t for t in self._by_id() if t.user_id == user_id and t.status in ACTIVE), None)

    def _reopenable(self, ticket: Ticket, closed_since: float) -> bool:
        return (
            ticket.status == "closed"
            and ticket.closed_by == "staff"
            and ticket.closed_at is not None
            and ticket.closed_at >= closed_since
        )

    async def reopenable(self, user_id: int, closed_since: float) -> Ticket | None:
        found = [t for t in self._by_id() if t.user_id == user_id and self._reopenable(t, closed_since)]
        return max(found, key=lambda t: t.closed_at or 0.0, default=None)

    async def situation(
        self, user_id: int, message_id: int, closed_since: float
    ) -> tuple[Ticket | None, Ticket | None, Ticket | None]:
        mine = [t for t in self._by_id() if t.user_id == user_id]
        active = next((t for t in mine if t.status in ACTIVE), None)
        closed = [t for t in mine if self._reopenable(t, closed_since)]
        draft = next((t for t in mine if t.status == "draft" and t.source == message_id), None)
        return active, max(closed, key=lambda t: t.closed_at or 0.0, default=None), draft

    async def by_thread(self, chat_id: int, thread_id: int) -> Ticket | None:
        return next((t for t in self._by_id() if t.chat_id == chat_id and t.thread_id == thread_id), None)

    async def adopt(self, chat_id: int, case: str, thread_id: int) -> Ticket | None:
        for ticket in self._by_id():
            found = ticket.chat_id == chat_id and ticket.case == case and ticket.thread_id is None
            if found and ticket.status != "draft":
                adopted = replace(ticket, thread_id=thread_id)  # no new version: the card is still right
                self.tickets[ticket.id] = adopted
                return adopted
        return None

    async def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        for ticket in self._by_id():
            if ticket.chat_id == chat_id and ticket.card_message_id == message_id:
                return ticket
        for record in self._records():
            if record.dst_chat == chat_id and record.dst_msg == message_id:
                return None if record.ticket_id is None else self.tickets.get(record.ticket_id)
        return None

    async def delivery_ticket(self, key: str) -> int | None:
        record = self._record(key)
        return None if record is None else record.ticket_id

    async def change(
        self, ticket_id: int, expect: Expected, changes: Mapping[str, Any], deliveries: Deliveries, now: float
    ) -> Ticket | None:
        row = self.tickets.get(ticket_id)
        if row is None or (expect is not None and row.status not in expect):
            return None
        with self._transaction():
            ticket = replace(row, **{**_stored(changes), "version": row.version + 1})
            try:
                self._write(ticket)
            except _OneActiveError:  # a second active ticket for the same person (two confirmations at once)
                return None
            self._insert(deliveries(ticket), now)
        self.wakeup()
        return ticket

    async def enqueue(self, deliveries: Sequence[Delivery]) -> int:
        with self._transaction():
            new = self._insert(deliveries, self.clock())
        self.wakeup()
        return new

    async def unreachable(self, chat_id: int) -> bool:
        return any(
            r.dest == f"tg:{chat_id}" and r.status == "pending" and r.error in ("setup", "forbidden")
            for r in self.outbox.values()
        )

    async def discard(self, ticket_id: int, user_id: int) -> None:
        ticket = self.tickets.get(ticket_id)
        if ticket is not None and ticket.user_id == user_id and ticket.status == "draft":
            del self.tickets[ticket_id]

    def _copies(self, ticket: Ticket) -> list[tuple[int, int]]:
        """The person's messages relayed into the staff group (chat id, message id)."""
        return [
            (r.dst_chat, r.dst_msg)
            for r in self._records()
            if r.ticket_id == ticket.id and r.key.startswith("u:") and r.dst_chat == ticket.chat_id
            if r.dst_chat is not None and r.dst_msg is not None
        ]

    def _wipe(self, ticket: Ticket, values: Mapping[str, Any], now: float) -> Ticket:
        """Erase a ticket's personal data (question, first name, the link to the person) and its relay records."""
        erased = replace(ticket, user_id=None, question=None, first_name=None, candidates=(), shared_topics=(),
                         purged=True, **values)  # fmt: skip
        self.tickets[ticket.id] = erased
        self.outbox = {k: r for k, r in self.outbox.items() if r.ticket_id != ticket.id}
        return erased

    async def erase(self, user_id: int, deliveries: WipeDeliveries, now: float) -> list[str]:
        cases = []
        with self._transaction():
            for ticket in self._by_id():
                if ticket.user_id == user_id and ticket.status == "draft":
                    del self.tickets[ticket.id]
            for ticket in self._by_id():
                if ticket.user_id != user_id:
                    continue
                values = {"status": "deleted", "version": ticket.version + 1, "closed_at": ticket.closed_at or now}
                copies = self._copies(ticket)  # before the relay records go
                erased = self._wipe(ticket, values, now)
                self._insert(deliveries(erased, copies), now)
                cases.append(erased.case)
        self.wakeup()
        return cases

    async def active_in(self, chat_id: int) -> list[Ticket]:
        found = [t for t in self._by_id() if t.chat_id == chat_id and t.status in ACTIVE]
        return sorted(found, key=lambda t: (t.opened_at is None, t.opened_at or 0.0, t.id))  # NULLs last

    async def stats(self, chat_id: int, since: float) -> dict[str, Any]:
        return case_figures(
            t for t in self._by_id() if t.chat_id == chat_id and t.status != "draft" and t.created_at >= since
        )

    async def purge(
        self, closed_before: float, drafts_before: float, now: float, deliveries: WipeDeliveries = lambda t, c: ()
    ) -> dict[str, int]:
        def due(t: Ticket) -> bool:
            old_closed = t.status == "closed" and t.closed_at is not None and t.closed_at < closed_before
            open_too_long = t.status in ACTIVE and t.opened_at is not None and t.opened_at < closed_before
            return (old_closed and not t.purged) or open_too_long

        counts = {"tickets": 0, "open_cases": 0, "relay_records": 0}
        with self._transaction():
            for before in [t for t in self._by_id() if due(t)]:
                copies = self._copies(before)
                counts["relay_records"] += len(copies)
                values: dict[str, Any] = {"version": before.version + 1}
                if before.status in ACTIVE:
                    values.update(status="closed", closed_at=now, closed_by=None)
                    counts["open_cases"] += 1
                self._wipe(before, values, now)
                self._insert(deliveries(before, copies), now)
                counts["tickets"] += 1
            drafts = [t.id for t in self._by_id() if t.status == "draft" and t.created_at < drafts_before]
            for ticket_id in drafts:
                del self.tickets[ticket_id]
            counts["drafts"] = len(drafts)
            notes = [
                r.id
                for r in self._records()
                if r.ticket_id is None and r.status != "pending" and r.created_at < drafts_before
            ]
            for record_id in notes:
                del self.outbox[record_id]
            counts["notes"] = len(notes)
        if any(counts.values()):
            self.wakeup()
        return counts

    # -- Outbox ---------------------------------------------------------------------------------------------------

    def _records(self) -> list[OutboxRecord]:
        return [self.outbox[k] for k in sorted(self.outbox)]

    def _record(self, key: str) -> OutboxRecord | None:
        return next((r for r in self.outbox.values() if r.key == key), None)

    async def claim(self, now: float, lease: float, limit: int) -> list[OutboxItem]:
        heads: dict[str, OutboxRecord] = {}  # each destination's pending item of the lowest (priority, id)
        for record in self._records():
            if record.status != "pending":
                continue
            head = heads.get(record.dest)
            if head is None or (record.priority, record.id) < (head.priority, head.id):
                heads[record.dest] = record
        due = [r for r in heads.values() if r.next_at <= now and r.lease_until <= now]
        items = []
        for record in sorted(due, key=lambda r: (r.priority, r.id))[:limit]:
            record.lease_until = now + lease
            item = OutboxItem(record.id, record.key, record.dest, record.kind, record.data, record.ticket_id,
                              record.attempts)  # fmt: skip
            items.append(item)
        return items

    async def delivered(self, item_id: int, chat_id: int | None, message_id: int | None, now: float) -> None:
        record = self.outbox.get(item_id)
        if record is not None:
            record.status, record.sent_at, record.payload, record.lease_until = "sent", now, "{}", 0.0
            record.dst_chat, record.dst_msg, record.error = chat_id, message_id, None

    async def retry(self, item_id: int, at: float, error: str) -> None:
        record = self.outbox.get(item_id)
        if record is not None:
            record.attempts += 1
            record.next_at, record.lease_until, record.error = at, 0.0, error[:200]

    async def postpone(self, item_id: int, at: float) -> None:
        record = self.outbox.get(item_id)
        if record is not None:
            record.next_at, record.lease_until = at, 0.0

    async def give_up(self, item_id: int, error: str, now: float) -> None:
        record = self.outbox.get(item_id)
        if record is not None:
            record.status, record.payload, record.lease_until, record.error = "failed", "{}", 0.0, error[:200]
            record.sent_at, record.weight = now, 0

    async def sent_since(self, dest: str, since: float) -> list[float]:
        times = [
            (r.sent_at, r.id, r.weight)
            for r in self.outbox.values()
            if r.dest == dest and r.status == "sent" and r.sent_at is not None and r.sent_at >= since and r.weight > 0
        ]
        return [at for at, _, count in sorted(times) for _ in range(count)]

    async def copy_of(self, key: str) -> tuple[int, int] | None:
        record = self._record(key)
        if record is None or record.dst_chat is None or record.dst_msg is None:
            return None
        return record.dst_chat, record.dst_msg

    async def set_place(self, ticket_id: int, **place: Any) -> None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return
        values = place_changes(**place)
        self.tickets[ticket_id] = replace(ticket, **values)

    # -- for tests: what a worker would do, and what is stored -----------------------------------------------------

    async def drain(self, now: float, *, lease: float = 30.0) -> list[OutboxItem]:
        """Send everything due as the outbox worker would, through ``claim`` and ``delivered``: each Telegram
        delivery gets a fresh message id in its chat. Returns the items (with their payloads) in the order sent.
        The worker's other effects (a card's message id, a forum topic) are not made; ``set_place`` does those."""
        sent: list[OutboxItem] = []
        while items := await self.claim(now, lease, 100):
            for item in items:
                chat_id = item.chat_id
                message_id = 10_000 + item.id if chat_id is not None else None
                await self.delivered(item.id, chat_id, message_id, now)
                sent.append(item)
        return sent

    def pending(self, dest: str | None = None) -> list[OutboxRecord]:
        """Deliveries not sent yet (to ``dest``), in stored order."""
        return [r for r in self._records() if r.status == "pending" and (dest is None or r.dest == dest)]


class _OneActiveError(Exception):
    """The unique index "one open or taken ticket per person" refused a write."""


# The fakes satisfy the ports (checked by mypy; a port that changes breaks here first).
_profiles: ProfileStore = MemoryStores()
_gate: FloodGate = MemoryStores()
_jobs: JobTurns = MemoryStores()
_feedback: FeedbackStore = MemoryStores()
_quarantine: UpdateQuarantine = MemoryStores()
_tickets: TicketStore = MemoryTickets()
_outbox: Outbox = MemoryTickets()
_clock: Clock = FakeClock()


# -- the gaps worklist ---------------------------------------------------------------------------------------------


class MemoryGaps:
    """The volunteers' worklist as ``SqlGaps`` keeps it."""

    def __init__(self) -> None:
        self.gaps: list[Gap] = []

    async def record(self, gap: Gap) -> None:
        self.gaps.append(gap)

    async def resolve(self, token: str) -> None:
        self.gaps = [g for g in self.gaps if g.token != token]

    async def since(self, day: float, city: str | None = None) -> list[Gap]:
        found = [g for g in self.gaps if g.day >= day and (city is None or g.city == city)]
        return sorted(found, key=lambda g: g.day)

    async def drop_older(self, day: float) -> int:
        before = len(self.gaps)
        self.gaps = [g for g in self.gaps if g.day >= day]
        return before - len(self.gaps)
