"""The volunteers' worklist in the database (:class:`bot.core.ports.GapLog`)."""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Engine, Table, delete, insert, select

from bot.core.gaps import KINDS, Gap, GapKind
from bot.storage.engine import in_transaction
from bot.storage.tables import GapRow

GAPS: Table = GapRow.__table__  # type: ignore[attr-defined]


class SqlGaps:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def record(self, gap: Gap) -> None:
        row = {"day": gap.day, "kind": gap.kind, "lang": gap.lang[:8], "city": gap.city, "text": gap.text[:500],
               "topic": gap.topic, "candidates": json.dumps([[t, s] for t, s in gap.candidates])[:400],
               "token": gap.token}  # fmt: skip
        await in_transaction(self.engine, lambda conn: conn.execute(insert(GAPS).values(row)))

    async def resolve(self, token: str) -> None:
        await in_transaction(self.engine, lambda conn: conn.execute(delete(GAPS).where(GAPS.c.token == token)))

    async def since(self, day: float, city: str | None = None) -> list[Gap]:
        query = select(GAPS).where(GAPS.c.day >= day).order_by(GAPS.c.day, GAPS.c.id)
        if city is not None:
            query = query.where(GAPS.c.city == city)

        def read(conn: Connection) -> list[Gap]:
            return [_gap(row) for row in conn.execute(query)]

        return await in_transaction(self.engine, read)

    async def drop_older(self, day: float) -> int:
        def drop(conn: Connection) -> int:
            return int(cast(CursorResult[Any], conn.execute(delete(GAPS).where(GAPS.c.day < day))).rowcount or 0)

        return await in_transaction(self.engine, drop)


def _gap(row: Any) -> Gap:
    kind: GapKind = row.kind if row.kind in KINDS else "fallback"
    try:
        candidates = tuple((str(t), float(s)) for t, s in json.loads(row.candidates))
    except (ValueError, TypeError):
        candidates = ()
    return Gap(kind, row.lang, row.city, row.text, row.day, candidates, row.topic, row.token)
