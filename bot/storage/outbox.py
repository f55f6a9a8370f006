"""The outbox: deliveries stored with the change that caused them, claimed and marked by the worker at the edge.

Plain SQL statements in short transactions (the outbox half of the core's :class:`~bot.core.ports.TicketStore`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Connection, Engine, Table, func, select, update

from bot.core.handoff import Delivery, OutboxItem, priority, weight
from bot.storage.engine import in_transaction, upsert
from bot.storage.tables import OutboxRow

T = TypeVar("T")
OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]
_O = OUTBOX.c
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text as every database takes it: PostgreSQL refuses NUL, SQLite's driver refuses lone surrogates (JSON's
    ``\\ud800`` escapes can carry them); both become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))


class SqlOutbox:
    """The outbox in the bot's database, and the transaction helper tickets share."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._inline = engine.dialect.name == "sqlite"
        self.wakeup: Callable[[], None] = lambda: None  # set by the worker: new deliveries were stored

    async def _tx(self, fn: Callable[[Connection], T]) -> T:
        return await in_transaction(self.engine, fn)

    def _insert(self, conn: Connection, deliveries: Sequence[Delivery], now: float) -> int:
        if not deliveries:
            return 0
        rows = [
            {
                "key": d.key,
                "dest": d.dest,
                "kind": d.kind,
                "payload": storable(json.dumps(dict(d.payload), ensure_ascii=False)),
                "ticket_id": d.ticket_id,
                "status": "pending",
                "attempts": 0,
                "next_at": 0.0,
                "lease_until": 0.0,
                "created_at": now,
                "weight": weight(d.kind, d.dest),
                "priority": priority(d.kind, d.urgent),
            }
            for d in deliveries
        ]
        statement = upsert(conn, OUTBOX).on_conflict_do_nothing(index_elements=["key"]).returning(_O.id)
        return sum(conn.execute(statement, row).first() is not None for row in rows)

    # -- Outbox -----------------------------------------------------------------------------------------------

    async def claim(self, now: float, lease: float, limit: int) -> list[OutboxItem]:
        def fn(conn: Connection) -> list[OutboxItem]:
            # Each destination's head: its pending item of the lowest (priority, id).
            order = func.row_number().over(partition_by=_O.dest, order_by=(_O.priority, _O.id))
            ranked = select(_O.id.label("id"), order.label("place")).where(_O.status == "pending").subquery()
            heads = select(ranked.c.id).where(ranked.c.place == 1)
            query = (
                select(OUTBOX)
                .where(_O.id.in_(heads), _O.next_at <= now, _O.lease_until <= now)
                .order_by(_O.priority, _O.id)
                .limit(limit)
                # PostgreSQL: rows another worker is claiming right now are passed over, not waited for (its lease
                # makes them its own); SQLite has one writer at a time and no row locks.
                .with_for_update(skip_locked=True)
            )
            items = []
            for row in conn.execute(query).all():
                claimed = conn.execute(
                    update(OUTBOX)
                    .where(_O.id == row.id, _O.status == "pending", _O.lease_until <= now)
                    .values(lease_until=now + lease)
                ).rowcount
                if claimed:
                    payload = json.loads(row.payload or "{}")
                    items.append(OutboxItem(row.id, row.key, row.dest, row.kind, payload, row.ticket_id, row.attempts))
            return items

        return await self._tx(fn)

    async def delivered(self, item_id: int, chat_id: int | None, message_id: int | None, now: float) -> None:
        values = {"status": "sent", "sent_at": now, "payload": "{}", "dst_chat": chat_id, "dst_msg": message_id,
                  "lease_until": 0.0, "error": None}  # fmt: skip
        await self._tx(lambda conn: conn.execute(update(OUTBOX).where(_O.id == item_id).values(values)))

    async def retry(self, item_id: int, at: float, error: str) -> None:
        values = {"attempts": _O.attempts + 1, "next_at": at, "lease_until": 0.0, "error": error[:200]}
        await self._tx(lambda conn: conn.execute(update(OUTBOX).where(_O.id == item_id).values(values)))

    async def postpone(self, item_id: int, at: float) -> None:
        values = {"next_at": at, "lease_until": 0.0}
        await self._tx(lambda conn: conn.execute(update(OUTBOX).where(_O.id == item_id).values(values)))

    async def give_up(self, item_id: int, error: str, now: float) -> None:
        values = {"status": "failed", "payload": "{}", "lease_until": 0.0, "error": error[:200], "sent_at": now,
                  "weight": 0}  # fmt: skip
        await self._tx(lambda conn: conn.execute(update(OUTBOX).where(_O.id == item_id).values(values)))

    async def sent_since(self, dest: str, since: float) -> list[float]:
        def fn(conn: Connection) -> list[float]:
            query = (
                select(_O.sent_at, _O.weight)
                .where(_O.dest == dest, _O.status == "sent", _O.sent_at >= since, _O.weight > 0)
                .order_by(_O.sent_at)
            )
            return [float(at) for at, weight in conn.execute(query).all() for _ in range(int(weight))]

        return await self._tx(fn)

    async def copy_of(self, key: str) -> tuple[int, int] | None:
        def fn(conn: Connection) -> tuple[int, int] | None:
            row = conn.execute(select(_O.dst_chat, _O.dst_msg).where(_O.key == key)).first()
            if row is None or row.dst_chat is None or row.dst_msg is None:
                return None
            return int(row.dst_chat), int(row.dst_msg)

        return await self._tx(fn)
