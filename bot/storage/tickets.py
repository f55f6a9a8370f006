"""Tickets (the core's :class:`~bot.core.ports.TicketStore`); their outbox is :mod:`bot.storage.outbox`.

Plain SQL statements in short transactions. A ticket's change and the deliveries it causes are written in one
transaction (a transactional outbox), so nothing is sent that was not stored and nothing stored is lost.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.handoff import ACTIVE, Delivery, NewTicket, Ticket, case_number
from bot.core.ports import Deliveries, Expected, Vitals, WipeDeliveries, case_figures, place_changes
from bot.storage.engine import blocking, scrub
from bot.storage.outbox import OUTBOX, SqlOutbox, storable
from bot.storage.tables import TicketRow

T = TypeVar("T")
TICKETS: Table = TicketRow.__table__  # type: ignore[attr-defined]
_T, _O = TICKETS.c, OUTBOX.c


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def _ticket(row: Row[Any] | Mapping[str, Any]) -> Ticket:
    m: Mapping[str, Any] = row._mapping if isinstance(row, Row) else row  # type: ignore[assignment]
    return Ticket(
        id=m["id"],
        case=m["case_no"],
        user_id=m["user_id"],
        centre_id=m["centre_id"],
        chat_id=m["chat_id"],
        lang=m["lang"],
        city=m["city"],
        place=m["place"],
        status=m["status"],
        version=m["version"],
        urgent=bool(m["urgent"]),
        question=m["question"],
        first_name=m["first_name"],
        candidates=_split(m["candidates"]),
        shared_topics=_split(m["shared_topics"]),
        thread_id=m["thread_id"],
        card_message_id=m["card_message_id"],
        taken_by=m["taken_by"],
        closed_by=m["closed_by"],
        blocked=bool(m["blocked"]),
        created_at=m["created_at"],
        opened_at=m["opened_at"],
        first_reply_at=m["first_reply_at"],
        closed_at=m["closed_at"],
        source=m["source_msg"],
        purged=m["purged_at"] is not None,
        topic_tried=m["topic_tried_at"] is not None,
        card_version=m["card_version"],
        card_tried=m["card_tried_at"] is not None,
    )


def _encode(changes: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: storable(v) if isinstance(v, str) else v for k, v in changes.items()}
    for name in ("candidates", "shared_topics"):
        if name in out:
            out[name] = ",".join(out[name])
    return out


class SqlTickets(SqlOutbox):
    """Tickets (and, from :class:`SqlOutbox`, their outbox) in the bot's database."""

    # -- TicketStore ------------------------------------------------------------------------------------------

    async def draft(self, new: NewTicket, now: float) -> Ticket:
        user_id, source = new.user_id, new.source
        values = {
            "source_msg": source,
            "user_id": user_id,
            "centre_id": new.centre_id,
            "chat_id": new.chat_id,
            "lang": new.lang,
            "city": new.city,
            "place": new.place,
            "status": "draft",
            "version": 0,
            "urgent": False,
            "blocked": False,
            "question": storable(new.question),
            "candidates": ",".join(new.candidates),
            "shared_topics": ",".join(new.shared_topics),
            "created_at": now,
        }

        def fn(conn: Connection) -> Ticket:
            same = select(TICKETS).where(_T.user_id == user_id, _T.status == "draft", _T.source_msg == source)
            existing = conn.execute(same).first()
            if existing is not None:  # the same message processed again
                return _ticket(existing)
            conn.execute(delete(TICKETS).where(_T.user_id == user_id, _T.status == "draft"))
            case = case_number(secrets.randbelow)
            while conn.execute(select(_T.id).where(_T.case_no == case)).first() is not None:
                case = case_number(secrets.randbelow)  # taken: draw another one
            new_id = conn.execute(insert(TICKETS).values(case_no=case, **values)).inserted_primary_key
            assert new_id is not None
            return _ticket(conn.execute(select(TICKETS).where(_T.id == new_id[0])).one())

        for attempt in range(3):
            try:
                return await self._tx(fn)
            except IntegrityError:  # another process drew the same case number at the same moment
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _first(self, query: Select[Any]) -> Ticket | None:
        def fn(conn: Connection) -> Ticket | None:
            row = conn.execute(query).first()
            return None if row is None else _ticket(row)

        return await self._tx(fn)

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self._first(select(TICKETS).where(_T.id == ticket_id))

    async def active(self, user_id: int) -> Ticket | None:
        return await self._first(select(TICKETS).where(_T.user_id == user_id, _T.status.in_(ACTIVE)))

    async def reopenable(self, user_id: int, closed_since: float) -> Ticket | None:
        query = (
            select(TICKETS)
            .where(_T.user_id == user_id, _T.status == "closed", _T.closed_by == "staff")
            .where(_T.closed_at >= closed_since)
            .order_by(_T.closed_at.desc())
        )
        return await self._first(query)

    async def situation(
        self, user_id: int, message_id: int, closed_since: float
    ) -> tuple[Ticket | None, Ticket | None, Ticket | None]:
        def fn(conn: Connection) -> tuple[Ticket | None, Ticket | None, Ticket | None]:
            relevant = (
                _T.status.in_(ACTIVE)
                | ((_T.status == "closed") & (_T.closed_by == "staff") & (_T.closed_at >= closed_since))
                | ((_T.status == "draft") & (_T.source_msg == message_id))
            )
            rows = [_ticket(r) for r in conn.execute(select(TICKETS).where(_T.user_id == user_id, relevant))]
            active = next((t for t in rows if t.status in ACTIVE), None)
            closed = sorted((t for t in rows if t.status == "closed"), key=lambda t: t.closed_at or 0.0)
            draft = next((t for t in rows if t.status == "draft"), None)
            return active, (closed[-1] if closed else None), draft

        return await self._tx(fn)

    async def by_thread(self, chat_id: int, thread_id: int) -> Ticket | None:
        return await self._first(select(TICKETS).where(_T.chat_id == chat_id, _T.thread_id == thread_id))

    async def adopt(self, chat_id: int, case: str, thread_id: int) -> Ticket | None:
        def fn(conn: Connection) -> Ticket | None:
            found = (_T.chat_id == chat_id, _T.case_no == case, _T.thread_id.is_(None), _T.status != "draft")
            row = conn.execute(select(TICKETS).where(*found).with_for_update()).first()
            if row is None:
                return None
            conn.execute(update(TICKETS).where(_T.id == row.id).values(thread_id=thread_id))
            return _ticket({**row._mapping, "thread_id": thread_id})

        return await self._tx(fn)

    async def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        def fn(conn: Connection) -> Ticket | None:
            row = conn.execute(select(TICKETS).where(_T.chat_id == chat_id, _T.card_message_id == message_id)).first()
            if row is None:
                ticket_id = conn.execute(
                    select(_O.ticket_id).where(_O.dst_chat == chat_id, _O.dst_msg == message_id)
                ).scalar()
                if ticket_id is None:
                    return None
                row = conn.execute(select(TICKETS).where(_T.id == ticket_id)).first()
            return None if row is None else _ticket(row)

        return await self._tx(fn)

    async def unreachable(self, chat_id: int) -> bool:
        def fn(conn: Connection) -> bool:
            query = select(_O.id).where(
                _O.dest == f"tg:{chat_id}", _O.status == "pending", _O.error.in_(("setup", "forbidden"))
            )
            return conn.execute(query.limit(1)).first() is not None

        return await self._tx(fn)

    async def delivery_ticket(self, key: str) -> int | None:
        def fn(conn: Connection) -> int | None:
            value = conn.execute(select(_O.ticket_id).where(_O.key == key)).scalar()
            return None if value is None else int(value)

        return await self._tx(fn)

    async def change(
        self, ticket_id: int, expect: Expected, changes: Mapping[str, Any], deliveries: Deliveries, now: float
    ) -> Ticket | None:
        def fn(conn: Connection) -> Ticket | None:
            row = conn.execute(select(TICKETS).where(_T.id == ticket_id).with_for_update()).first()
            if row is None or (expect is not None and row.status not in expect):
                return None
            values = {**_encode(changes), "version": row.version + 1}
            conn.execute(update(TICKETS).where(_T.id == ticket_id).values(values))
            ticket = _ticket({**row._mapping, **values})
            self._insert(conn, deliveries(ticket), now)
            return ticket

        try:
            ticket = await self._tx(fn)
        except IntegrityError:  # a second active ticket for the same person (two confirmations at once)
            return None
        self.wakeup()
        return ticket

    async def enqueue(self, deliveries: Sequence[Delivery]) -> int:
        new = await self._tx(lambda conn: self._insert(conn, deliveries, time.time()))
        self.wakeup()
        return new

    async def discard(self, ticket_id: int, user_id: int) -> None:
        def fn(conn: Connection) -> None:
            conn.execute(delete(TICKETS).where(_T.id == ticket_id, _T.user_id == user_id, _T.status == "draft"))

        await self._tx(fn)

    async def erase(self, user_id: int, deliveries: WipeDeliveries, now: float) -> list[str]:
        def fn(conn: Connection) -> list[str]:
            conn.execute(delete(TICKETS).where(_T.user_id == user_id, _T.status == "draft"))
            rows = conn.execute(select(TICKETS).where(_T.user_id == user_id).with_for_update()).all()
            cases = []
            for row in rows:
                values = {"status": "deleted", "version": row.version + 1, "closed_at": row.closed_at or now}
                copies = self._copies(conn, row)  # before the relay records go
                erased = self._wipe(conn, row, values, now)
                self._insert(conn, deliveries(erased, copies), now)
                cases.append(erased.case)
            return cases

        cases = await self._tx(fn)
        await self._scrub()
        self.wakeup()
        return cases

    @staticmethod
    def _copies(conn: Connection, row: Row[Any]) -> list[tuple[int, int]]:
        """The messages of the person relayed into the staff group (chat id, message id)."""
        copies = conn.execute(
            select(_O.dst_chat, _O.dst_msg)
            .where(_O.ticket_id == row.id, _O.key.startswith("u:"), _O.dst_chat == row.chat_id)
            .where(_O.dst_msg.is_not(None))
        ).all()
        return [(int(c), int(m)) for c, m in copies]

    @staticmethod
    def _wipe(conn: Connection, row: Row[Any], values: Mapping[str, Any], now: float) -> Ticket:
        """Erase a ticket's personal data (question, first name, the link to the person) and its relay records."""
        erased = {"user_id": None, "question": None, "first_name": None, "candidates": "", "shared_topics": "",
                  "purged_at": now, **values}  # fmt: skip
        conn.execute(update(TICKETS).where(_T.id == row.id).values(erased))
        conn.execute(delete(OUTBOX).where(_O.ticket_id == row.id))
        return _ticket({**row._mapping, **erased})

    async def _scrub(self) -> None:
        """After a deletion: no copy of the deleted texts stays in SQLite's write-ahead log."""
        await blocking(self._inline, lambda: scrub(self.engine))

    async def active_in(self, chat_id: int) -> list[Ticket]:
        def fn(conn: Connection) -> list[Ticket]:
            query = select(TICKETS).where(_T.chat_id == chat_id, _T.status.in_(ACTIVE)).order_by(_T.opened_at, _T.id)
            return [_ticket(row) for row in conn.execute(query)]

        return await self._tx(fn)

    async def vitals(self, now: float) -> Vitals:
        def fn(conn: Connection) -> Vitals:
            cases = conn.execute(select(func.count()).select_from(TICKETS).where(_T.status.in_(ACTIVE))).scalar_one()
            pending, overdue, failed = conn.execute(
                select(
                    func.count().filter(_O.status == "pending"),
                    func.count().filter(
                        _O.status == "pending", _O.next_at < now - 60, _O.created_at < now - 60, _O.lease_until < now
                    ),
                    func.count().filter(_O.status == "failed"),
                ).select_from(OUTBOX)
            ).one()
            return Vitals(int(cases), int(pending), int(overdue), int(failed))

        return await self._tx(fn)

    async def stats(self, chat_id: int, since: float) -> dict[str, Any]:
        def fn(conn: Connection) -> dict[str, Any]:
            query = select(_T.status, _T.urgent, _T.blocked, _T.lang, _T.opened_at, _T.first_reply_at).where(
                _T.chat_id == chat_id, _T.status != "draft", _T.created_at >= since
            )
            return case_figures(conn.execute(query).all())

        return await self._tx(fn)

    async def purge(
        self, closed_before: float, drafts_before: float, now: float, deliveries: WipeDeliveries = lambda t, c: ()
    ) -> dict[str, int]:
        def fn(conn: Connection) -> dict[str, int]:
            due = or_(
                and_(_T.status == "closed", _T.closed_at < closed_before, _T.purged_at.is_(None)),
                and_(_T.status.in_(ACTIVE), _T.opened_at < closed_before),  # open for longer than retention
            )
            rows = conn.execute(select(TICKETS).where(due).with_for_update()).all()
            counts = {"tickets": 0, "open_cases": 0, "relay_records": 0}
            for row in rows:
                before = _ticket(row)
                copies = self._copies(conn, row)
                counts["relay_records"] += len(copies)
                values: dict[str, Any] = {"version": row.version + 1}
                if row.status in ACTIVE:
                    values.update(status="closed", closed_at=now, closed_by=None)
                    counts["open_cases"] += 1
                self._wipe(conn, row, values, now)
                self._insert(conn, deliveries(before, copies), now)
                counts["tickets"] += 1
            counts["drafts"] = (
                conn.execute(delete(TICKETS).where(_T.status == "draft", _T.created_at < drafts_before)).rowcount or 0
            )
            counts["notes"] = (
                conn.execute(
                    delete(OUTBOX).where(_O.ticket_id.is_(None), _O.status != "pending", _O.created_at < drafts_before)
                ).rowcount
                or 0
            )
            return counts

        counts = await self._tx(fn)
        if any(counts.values()):
            await self._scrub()
            self.wakeup()
        return counts

    async def set_place(self, ticket_id: int, **place: Any) -> None:  # the keywords: TicketStore.set_place
        values = place_changes(**place)
        for intent in ("topic_tried", "card_tried"):  # stored as the time it was asked (None: not asked)
            if intent in values:
                values[f"{intent}_at"] = time.time() if values.pop(intent) else None
        if values:
            await self._tx(lambda conn: conn.execute(update(TICKETS).where(_T.id == ticket_id).values(values)))
