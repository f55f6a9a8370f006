"""The two writes of every message, for many people at once (bot/storage/batches.py): the flood gate with the
person's turn (:func:`admit`), and the profile's change with the end of the turn (:func:`write`).

The statements are built once: SQLAlchemy then finds their compiled form by the statement alone, instead of
constructing, coercing and hashing a new expression tree each time (a third of their cost).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, exists, insert, null, update
from sqlalchemy import select as sa_select

from bot.core.handoff import ACTIVE
from bot.core.ports import Admitted, Turn, TurnEnd, processed, spend, turn_free
from bot.core.replies import STEPS, Profile, Step
from bot.storage.tables import TicketRow, UserRow, utc_now

USERS: Table = UserRow.__table__  # type: ignore[attr-defined]
TICKETS: Table = TicketRow.__table__  # type: ignore[attr-defined]


def profile_of(row: Any) -> Profile:
    return Profile(row.user_id, row.lang, row.city, _step(row.step), _recent(row.recent), row.place)


def _step(value: str) -> Step:
    """A stored onboarding step, or "language" for anything unknown."""
    return value if value in STEPS else "language"  # type: ignore[return-value]


def _recent(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def stored(name: str, value: object) -> object:
    """A profile field as its column holds it (``recent``: the topic ids joined with commas)."""
    return ",".join(value) if name == "recent" else value  # type: ignore[arg-type]


def _no_wait_for_disk(conn: Connection) -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk. For the flood gate and the
    person's turn only, written on every message: a server crash may forget the last moment's budget and turns (a
    turn runs out by its lease anyway), never corrupts anything, and saves a disk flush per message."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


_C = USERS.c
_UID: Any = bindparam("uid")


def _has_case(user_id: Any) -> Any:
    """Whether the person has a case their message may belong to (see PersonHandoff.on_text)."""
    t = TICKETS.c
    relevant = t.status.in_((*ACTIVE, "draft")) | (
        (t.status == "closed") & (t.closed_by == "staff") & (t.closed_at >= bindparam("since"))
    )
    return exists().where(t.user_id == user_id, relevant)


_ADMIT_COLUMNS = (
    _C.user_id, _C.rate_tokens, _C.rate_updated, _C.rate_warned, _C.lang, _C.city, _C.step, _C.recent, _C.place,
    _C.busy_until, _C.busy_by, _C.done_update, _C.sent_update, _C.sent_count,
)  # fmt: skip
# with_cases -> the people's rows (locked on PostgreSQL, in the order of their ids: two instances' batches never
# wait for each other crosswise), with or without the case check
_ADMIT = {
    with_cases: sa_select(*_ADMIT_COLUMNS, (_has_case(_C.user_id) if with_cases else null()).label("has_case"))
    .where(_C.user_id.in_(bindparam("uids", expanding=True)))
    .order_by(_C.user_id)
    .with_for_update(of=USERS)
    for with_cases in (False, True)
}
_HAS_CASE = sa_select(_has_case(_UID))
# the budget spent and the person's turn (taken, or as it was), for many people at once (executemany)
_SPENT = (
    update(USERS)
    .where(_C.user_id == _UID)
    .values(
        rate_tokens=bindparam("tokens"),
        rate_updated=bindparam("at"),
        rate_warned=bindparam("warned"),
        busy_by=bindparam("holder"),
        busy_until=bindparam("until"),
    )
)


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


def end_turn(user_id: int, end: TurnEnd) -> tuple[Any, dict[str, object]]:
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


# -- the flood gate and the person's turn ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdmitCall:
    """One message at the flood gate (see :meth:`bot.core.ports.FloodGate.admit`)."""

    user_id: int
    now: float
    turn: Turn | None
    cases_since: float | None


def admit(conn: Connection, calls: list[AdmitCall], *, burst: float, per_second: float) -> list[Admitted]:
    """The flood gate for each call (one per person): read the people's rows at once, decide, write at once. The
    case check of the batch counts closed cases from the earliest ``cases_since`` (the calls' clocks differ by
    milliseconds)."""
    _no_wait_for_disk(conn)
    since = [c.cases_since for c in calls if c.cases_since is not None]
    params: dict[str, object] = {"uids": [c.user_id for c in calls]}
    if since:
        params["since"] = min(since)
    rows = {row.user_id: row for row in conn.execute(_ADMIT[bool(since)], params)}
    results: list[Admitted] = []
    new: list[dict[str, object]] = []
    spent: list[dict[str, object]] = []
    for call in calls:
        row = rows.get(call.user_id)
        turn, now = call.turn, call.now
        if row is None:  # a new person: the first message is spent, the turn taken
            stamp = utc_now()
            held_by, until = (turn.holder, now + turn.lease) if turn is not None else (None, 0.0)
            new.append({"user_id": call.user_id, "step": "language", "created_at": stamp, "updated_at": stamp,
                        "rate_tokens": burst - 1.0, "rate_updated": now, "rate_warned": False,
                        "busy_by": held_by, "busy_until": until})  # fmt: skip
            results.append(Admitted("ok", None, None))
            continue
        if turn is not None and processed(turn, row.done_update):
            results.append(Admitted("done", profile_of(row)))  # Telegram sent it again: it was processed to the end
            continue
        if turn is not None and not turn_free(row.busy_until, row.busy_by, now, turn):
            results.append(Admitted("busy", None))  # another instance processes this person's update: nothing spent
            continue
        verdict, tokens, warned = spend(
            row.rate_tokens, row.rate_updated, row.rate_warned, now, burst=burst, per_second=per_second
        )
        held_by, until = row.busy_by, row.busy_until  # as they were, unless the turn is taken now
        if verdict == "ok" and turn is not None:
            held_by, until = turn.holder, now + turn.lease
        spent.append({"uid": call.user_id, "tokens": tokens, "at": now, "warned": warned,
                      "holder": held_by, "until": until})  # fmt: skip
        has_case = None if call.cases_since is None or row.has_case is None else bool(row.has_case)
        again = turn is not None and turn.update_id is not None and row.sent_update == turn.update_id
        results.append(Admitted(verdict, profile_of(row), has_case, row.sent_count if again else 0))
    if new:
        conn.execute(insert(USERS), new)
        for index, call in enumerate(calls):  # whether a new person has a case (deleted, then back)
            if call.user_id not in rows and call.cases_since is not None:
                found = conn.execute(_HAS_CASE, {"uid": call.user_id, "since": call.cases_since}).scalar()
                results[index] = results[index]._replace(case=bool(found))
    if spent:
        conn.execute(_SPENT, spent)
    return results


# -- the profile's change and the end of the turn ------------------------------------------------------------------


# replies of an update that went out, written while the holder holds the person's turn
_PROGRESS = (
    update(USERS)
    .where(_C.user_id == _UID, _C.busy_by == bindparam("holder"))
    .values(sent_update=bindparam("update"), sent_count=bindparam("sent"))
)


@dataclass(frozen=True, slots=True)
class ProfileWrite:
    """A profile's changed fields (only what changed: a parallel update keeps its own), with the end of the person's
    turn when ``end`` is given."""

    user_id: int
    changes: tuple[tuple[str, object], ...]
    end: TurnEnd | None = None

    def statement(self) -> tuple[Any, dict[str, object]]:
        end = self.end
        params: dict[str, object] = {f"new_{n}": stored(n, v) for n, v in self.changes}
        params["uid"], params["stamp"] = self.user_id, utc_now()
        if end is not None:
            params["holder"] = end.holder
            if end.done is not None:
                params["done"] = end.done
        names = tuple(name for name, _ in self.changes)
        return _save_statement(names, end is not None, end is not None and end.done is not None), params


@dataclass(frozen=True, slots=True)
class EndWrite:
    """Only the end of the person's turn (:func:`end_turn`)."""

    user_id: int
    end: TurnEnd

    def statement(self) -> tuple[Any, dict[str, object]]:
        return end_turn(self.user_id, self.end)


@dataclass(frozen=True, slots=True)
class ProgressWrite:
    """How many messages of update ``update_id`` went out, while ``holder`` holds the person's turn."""

    user_id: int
    holder: str
    update_id: int
    sent: int

    def statement(self) -> tuple[Any, dict[str, object]]:
        return _PROGRESS, {"uid": self.user_id, "holder": self.holder, "update": self.update_id, "sent": self.sent}


WriteCall = ProfileWrite | EndWrite | ProgressWrite


def write(conn: Connection, calls: list[WriteCall]) -> list[bool]:
    """Each call's write (one per person), the alike ones at once; False where a profile's row is missing (the
    person is new or deleted: the caller creates it)."""
    if not any(isinstance(call, ProfileWrite) for call in calls):
        _no_wait_for_disk(conn)  # only turns: nothing a person said or chose
    alike: dict[Any, list[tuple[int, dict[str, object]]]] = defaultdict(list)
    for index, call in enumerate(calls):
        statement, params = call.statement()
        alike[statement].append((index, params))
    found = [True] * len(calls)
    for statement, items in alike.items():
        result = conn.execute(statement, [params for _, params in items])
        profiles = [index for index, _ in items if isinstance(calls[index], ProfileWrite)]
        if profiles and result.rowcount < len(items):
            wanted = [calls[index].user_id for index in profiles]
            there = set(conn.execute(sa_select(_C.user_id).where(_C.user_id.in_(wanted))).scalars())
            for index in profiles:
                found[index] = calls[index].user_id in there
    return found
