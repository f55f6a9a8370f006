"""SQLModel implementations of the core's store interfaces (:mod:`bot.core.ports`).

Calls run off the event loop (see ``engine.blocking``), so the event loop never waits on the database.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Table,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    null,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.handoff import ACTIVE
from bot.core.ports import Admitted, Quarantined, Turn, TurnEnd, changed_fields, processed, spend, turn_free
from bot.core.replies import STEPS, Profile, Step
from bot.storage.engine import blocking, in_transaction, scrub, upsert
from bot.storage.tables import FeedbackRow, InstanceRow, JobRow, QuarantineRow, TicketRow, UserRow, utc_now

T = TypeVar("T")
JOBS: Table = JobRow.__table__  # type: ignore[attr-defined]
USERS: Table = UserRow.__table__  # type: ignore[attr-defined]
INSTANCES: Table = InstanceRow.__table__  # type: ignore[attr-defined]
TICKETS: Table = TicketRow.__table__  # type: ignore[attr-defined]


def _profile(row: Any) -> Profile:
    return Profile(row.user_id, row.lang, row.city, _step(row.step), _recent(row.recent))


def _step(value: str) -> Step:
    """A stored onboarding step, or "language" for anything unknown."""
    return value if value in STEPS else "language"  # type: ignore[return-value]


def _recent(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def _no_wait_for_disk(conn: Connection) -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk. For the flood gate and the
    person's turn only, written on every message: a server crash may forget the last moment's budget and turns (a
    turn runs out by its lease anyway), never corrupts anything, and saves a disk flush per message."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


# The statements run for every message are built once: SQLAlchemy then finds their compiled form by the statement
# alone, instead of constructing, coercing and hashing a new expression tree each time (a third of their cost).
_C = USERS.c
_UID: Any = bindparam("uid")


def _has_case() -> Any:
    """Whether the person has a case their message may belong to (see PersonHandoff.on_text)."""
    t = TICKETS.c
    relevant = t.status.in_((*ACTIVE, "draft")) | (
        (t.status == "closed") & (t.closed_by == "staff") & (t.closed_at >= bindparam("since"))
    )
    return exists().where(t.user_id == _UID, relevant)


_ADMIT_COLUMNS = (
    _C.user_id, _C.rate_tokens, _C.rate_updated, _C.rate_warned, _C.lang, _C.city, _C.step, _C.recent,
    _C.busy_until, _C.busy_by, _C.done_update,
)  # fmt: skip
# with_cases -> the person's row (locked on PostgreSQL), with or without the case check
_ADMIT = {
    with_cases: sa_select(*_ADMIT_COLUMNS, (_has_case() if with_cases else null()).label("has_case"))
    .where(_C.user_id == _UID)
    .with_for_update(of=USERS)
    for with_cases in (False, True)
}
_HAS_CASE = sa_select(_has_case())
_SPEND = update(USERS).where(_C.user_id == _UID)
_SPEND_VALUES: dict[str, Any] = {
    "rate_tokens": bindparam("tokens"),
    "rate_updated": bindparam("at"),
    "rate_warned": bindparam("warned"),
}
# with_turn -> the budget spent (and the person's turn taken)
_SPENT = {
    False: _SPEND.values(_SPEND_VALUES),
    True: _SPEND.values(**_SPEND_VALUES, busy_by=bindparam("holder"), busy_until=bindparam("until")),
}


@cache
def _save_statement(names: tuple[str, ...], end: bool, done: bool) -> Any:
    """UPDATE of the profile fields ``names`` (only what the update changed: a parallel one keeps its own), with the
    end of the person's turn when ``end`` (only where ``holder`` still holds it; SET reads the row as it was)."""
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in names}
    values["updated_at"] = bindparam("stamp")
    if end:
        holds = _C.busy_by == bindparam("holder")
        values["busy_by"] = case((holds, null()), else_=_C.busy_by)
        values["busy_until"] = case((holds, 0.0), else_=_C.busy_until)
        if done:
            values["done_update"] = case((holds, bindparam("done")), else_=_C.done_update)
    return update(USERS).where(_C.user_id == _UID).values(values)


def _end_turn(user_id: int, end: TurnEnd) -> tuple[Any, dict[str, object]]:
    """End ``end.holder``'s turn of the person and record ``end.done`` as processed; nothing when another holds it."""
    params: dict[str, object] = {"uid": user_id, "holder": end.holder}
    if end.done is not None:
        params["done"] = end.done
    return _END[end.done is not None], params


_END = {
    done: update(USERS)
    .where(_C.user_id == _UID, _C.busy_by == bindparam("holder"))
    .values(busy_by=None, busy_until=0.0, **({"done_update": bindparam("done")} if done else {}))
    for done in (False, True)
}


class SqlStores:
    """Profiles, the per-person message budget and feedback counts in one database."""

    def __init__(self, engine: Engine, *, burst: float = 8.0, per_second: float = 0.5) -> None:
        self.engine = engine
        self.burst = burst
        self.per_second = per_second
        # SQLite: one call at a time on the SQLite thread; a server database: worker threads (see engine.blocking).
        self._inline = engine.dialect.name == "sqlite"

    async def _run(self, fn: Callable[[Session], T]) -> T:
        def work() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return fn(session)

        return await blocking(self._inline, work)

    # -- ProfileStore ---------------------------------------------------------------------------------------

    async def get(self, user_id: int) -> Profile | None:
        def fn(session: Session) -> Profile | None:
            row = session.get(UserRow, user_id)
            return None if row is None else _profile(row)

        return await self._run(fn)

    async def save(self, profile: Profile, before: Profile | None = None, end: TurnEnd | None = None) -> None:
        changes = changed_fields(profile, before)
        names = tuple(changes)
        params: dict[str, object] = {f"new_{n}": ",".join(v) if n == "recent" else v for n, v in changes.items()}  # type: ignore[arg-type]
        params["uid"], params["stamp"] = profile.user_id, utc_now()
        if end is not None:
            params["holder"] = end.holder
            if end.done is not None:
                params["done"] = end.done
        statement = _save_statement(names, end is not None, end is not None and end.done is not None)

        def changed(conn: Connection) -> bool:
            # One UPDATE of the changed fields (with the end of the turn); no row: the person is new (or deleted)
            return bool(cast(CursorResult[Any], conn.execute(statement, params)).rowcount)

        if not await in_transaction(self.engine, changed):
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
                setattr(row, name, ",".join(value) if name == "recent" else value)  # type: ignore[arg-type]
            row.updated_at = utc_now()
            session.add(row)
            try:
                if end is not None:  # in the same transaction as the profile's change
                    session.flush()
                    session.execute(*_end_turn(profile.user_id, end))
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
        held: dict[str, object] = {} if turn is None else {"holder": turn.holder, "until": now + turn.lease}
        with_cases = cases_since is not None  # a case the person's message may belong to (PersonHandoff.on_text)
        key: dict[str, object] = {"uid": user_id, "since": cases_since} if with_cases else {"uid": user_id}

        def admit(conn: Connection) -> Admitted:
            # Runs once per message: prebuilt statements, no ORM objects, one transaction.
            _no_wait_for_disk(conn)
            row = conn.execute(_ADMIT[with_cases], key).first()
            if row is None:
                values: dict[str, object] = {"rate_tokens": self.burst - 1.0, "rate_updated": now, "rate_warned": False}
                if turn is not None:
                    values.update(busy_by=turn.holder, busy_until=now + turn.lease)
                statement = insert(USERS).values(
                    user_id=user_id, step="language", created_at=utc_now(), updated_at=utc_now(), **values
                )
                conn.execute(statement)
                has_case = bool(conn.execute(_HAS_CASE, key).scalar()) if with_cases else None
                return Admitted("ok", None, has_case)
            if turn is not None and processed(turn, row.done_update):
                return Admitted("done", _profile(row))  # Telegram sent it again: it was processed to the end
            if turn is not None and not turn_free(row.busy_until, row.busy_by, now, turn):
                return Admitted("busy", None)  # another instance processes this person's update: nothing spent
            verdict, tokens, warned = spend(
                row.rate_tokens,
                row.rate_updated,
                row.rate_warned,
                now,
                burst=self.burst,
                per_second=self.per_second,
            )
            spent = {"uid": user_id, "tokens": tokens, "at": now, "warned": warned}
            take = verdict == "ok" and turn is not None
            conn.execute(_SPENT[take], {**spent, **held} if take else spent)
            return Admitted(verdict, _profile(row), None if row.has_case is None else bool(row.has_case))

        try:
            return await in_transaction(self.engine, admit)
        except IntegrityError:  # the row was created concurrently by another process: read it again
            return await in_transaction(self.engine, admit)

    async def release(self, user_id: int, holder: str, done: int | None = None) -> None:
        def fn(conn: Connection) -> None:
            _no_wait_for_disk(conn)
            conn.execute(*_end_turn(user_id, TurnEnd(holder, done)))

        await in_transaction(self.engine, fn)

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
