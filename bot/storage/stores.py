"""SQLModel implementations of the core's store interfaces (:mod:`bot.core.ports`).

Calls run off the event loop (see ``engine.blocking``), so the event loop never waits on the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, CursorResult, Engine, Table, delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.ports import Admitted, Quarantined, Turn, TurnEnd, changed_fields
from bot.core.replies import Profile
from bot.storage.batches import Batches
from bot.storage.engine import blocking, in_transaction, scrub, upsert
from bot.storage.tables import FeedbackRow, InstanceRow, JobRow, QuarantineRow, UserRow, utc_now
from bot.storage.turns import (
    AdmitCall,
    EndWrite,
    ProfileWrite,
    ProgressWrite,
    WriteCall,
    admit,
    end_turn,
    profile_of,
    stored,
    write,
)

T = TypeVar("T")
JOBS: Table = JobRow.__table__  # type: ignore[attr-defined]
INSTANCES: Table = InstanceRow.__table__  # type: ignore[attr-defined]


def _person(call: AdmitCall | WriteCall) -> int:
    return call.user_id


class SqlStores:
    """Profiles, the per-person message budget and feedback counts in one database."""

    def __init__(self, engine: Engine, *, burst: float = 8.0, per_second: float = 0.5) -> None:
        self.engine = engine
        self.burst = burst
        self.per_second = per_second
        # SQLite: one call at a time on the SQLite thread; a server database: worker threads (see engine.blocking).
        self._inline = engine.dialect.name == "sqlite"
        # The two writes of every message, in batches (group commit, bot/storage/batches.py)
        self._gate: Batches[AdmitCall, Admitted] = Batches(
            engine, lambda conn, calls: admit(conn, calls, burst=burst, per_second=per_second), _person
        )
        self._writes: Batches[WriteCall, bool] = Batches(engine, write, _person)

    async def _run(self, fn: Callable[[Session], T]) -> T:
        def work() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return fn(session)

        return await blocking(self._inline, work)

    # -- ProfileStore ---------------------------------------------------------------------------------------

    async def get(self, user_id: int) -> Profile | None:
        def fn(session: Session) -> Profile | None:
            row = session.get(UserRow, user_id)
            return None if row is None else profile_of(row)

        return await self._run(fn)

    async def save(self, profile: Profile, before: Profile | None = None, end: TurnEnd | None = None) -> None:
        changes = tuple(changed_fields(profile, before).items())
        if not await self._writes.run(ProfileWrite(profile.user_id, changes, end)):  # no row: new (or deleted)
            await self._run(lambda session: self._create(session, profile, end))

    def _create(self, session: Session, profile: Profile, end: TurnEnd | None) -> None:
        """The person's row with every field of ``profile`` (and the end of the turn); the ORM path of a row that
        another process may create at the same moment."""
        for attempt in range(2):
            row = session.get(UserRow, profile.user_id, with_for_update=True)
            changes = changed_fields(profile, None)
            if row is None:
                row = UserRow(user_id=profile.user_id, rate_tokens=self.burst)
            for name, value in changes.items():
                setattr(row, name, stored(name, value))
            row.updated_at = utc_now()
            session.add(row)
            try:
                if end is not None:  # in the same transaction as the profile's change
                    session.flush()
                    session.execute(*end_turn(profile.user_id, end))
                session.commit()
                return
            except IntegrityError:  # another process created the row first
                session.rollback()
                if attempt:
                    raise

    async def delete(self, user_id: int) -> None:
        def fn(session: Session) -> None:
            row = session.get(UserRow, user_id)
            if row is not None:
                session.delete(row)
                session.commit()

        await self._run(fn)
        await blocking(self._inline, lambda: scrub(self.engine))

    # -- FloodGate ------------------------------------------------------------------------------------------

    async def admit(
        self, user_id: int, now: float, turn: Turn | None = None, cases_since: float | None = None
    ) -> Admitted:
        call = AdmitCall(user_id, now, turn, cases_since)
        try:
            return await self._gate.run(call)
        except IntegrityError:  # the row was created concurrently by another process: read it again
            return await self._gate.run(call)

    async def release(self, user_id: int, holder: str, done: int | None = None) -> None:
        await self._writes.run(EndWrite(user_id, TurnEnd(holder, done)))

    async def progress(self, user_id: int, holder: str, update_id: int, sent: int) -> None:
        await self._writes.run(ProgressWrite(user_id, holder, update_id, sent))

    # -- Instances ------------------------------------------------------------------------------------------

    async def heartbeat(self, instance: str, now: float, stale: float) -> int:
        def fn(conn: Connection) -> int:
            seen = upsert(conn, INSTANCES).values(id=instance, seen_at=now)
            conn.execute(seen.on_conflict_do_update(index_elements=["id"], set_={"seen_at": now}))
            conn.execute(delete(INSTANCES).where(INSTANCES.c.seen_at < now - stale))
            return int(conn.execute(sa_select(func.count()).select_from(INSTANCES)).scalar_one())

        return await in_transaction(self.engine, fn)

    async def leave(self, instance: str) -> None:
        await in_transaction(
            self.engine, lambda conn: conn.execute(delete(INSTANCES).where(INSTANCES.c.id == instance))
        )

    # -- FeedbackStore --------------------------------------------------------------------------------------

    async def record(self, topic: str, lang: str, helpful: bool) -> None:
        table: Table = FeedbackRow.__table__  # type: ignore[attr-defined]
        column = table.c.up if helpful else table.c.down

        def increment(session: Session) -> int:
            statement = update(table).where(table.c.topic == topic, table.c.lang == lang).values({column: column + 1})
            result = cast(CursorResult[Any], session.execute(statement))
            return int(result.rowcount or 0)

        def fn(session: Session) -> None:
            # An atomic increment, so that concurrent taps (or processes) never lose a count.
            if increment(session) == 0:
                session.add(FeedbackRow(topic=topic, lang=lang, up=int(helpful), down=int(not helpful)))
                try:
                    session.commit()
                    return
                except IntegrityError:  # created concurrently: increment the row that now exists
                    session.rollback()
                    increment(session)
            session.commit()

        await self._run(fn)

    async def counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        def fn(session: Session) -> dict[tuple[str, str], tuple[int, int]]:
            return {(r.topic, r.lang): (r.up, r.down) for r in session.exec(select(FeedbackRow))}

        return await self._run(fn)

    # -- JobTurns -------------------------------------------------------------------------------------------

    async def take_turn(self, job: str, now: float, every: float) -> bool:
        def fn(conn: Connection) -> bool:
            first = upsert(conn, JOBS).values(name=job, last_run=now)
            claimed = first.on_conflict_do_nothing(index_elements=["name"]).returning(JOBS.c.name)
            if conn.execute(claimed).first() is not None:  # (rowcount is -1 for this statement on PostgreSQL)
                return True
            turn = update(JOBS).where(JOBS.c.name == job, JOBS.c.last_run <= now - every).values(last_run=now)
            return bool(conn.execute(turn).rowcount)

        return await in_transaction(self.engine, fn)

    # -- UpdateQuarantine -----------------------------------------------------------------------------------

    async def quarantine(self, entry: Quarantined) -> None:
        def fn(session: Session) -> None:
            row = session.get(QuarantineRow, entry.update_id)
            if row is None:
                row = QuarantineRow(update_id=entry.update_id)
            row.kinds, row.error, row.tries, row.at = entry.kinds[:100], entry.error[:100], entry.tries, entry.at
            session.add(row)
            session.commit()

        await self._run(fn)

    async def quarantined(self, limit: int = 50) -> list[Quarantined]:
        def fn(session: Session) -> list[Quarantined]:
            query = select(QuarantineRow).order_by(QuarantineRow.at.desc()).limit(limit)  # type: ignore[attr-defined]
            return [Quarantined(r.update_id, r.kinds, r.error, r.tries, r.at) for r in session.exec(query)]

        return await self._run(fn)

    async def drop_quarantined(self, before: float) -> int:
        table: Table = QuarantineRow.__table__  # type: ignore[attr-defined]

        def fn(session: Session) -> int:
            result = cast(CursorResult[Any], session.execute(delete(table).where(table.c.at < before)))
            session.commit()
            return int(result.rowcount or 0)

        return await self._run(fn)
