"""Group commit: calls of one kind that arrive while the previous batch is with the database go in together.

Every message needs two short writes (the flood gate with the person's turn, then the end of the turn). Alone, each
costs a trip to the database thread, a transaction and a commit, which under load was most of a message's database
time. Here the calls that arrive meanwhile wait for the batch in flight and then go in together: one trip, one
transaction, one commit, the statements executed for all of them. A call alone (a quiet hour) goes in at once, as
before. Each caller still gets its own result only after its transaction committed.

- One person (``key``) at most once per batch: a second call of theirs goes in the next one, in order.
- A batch that fails for another reason than an unreachable database (a row another process created at the same
  moment, a bug) is rolled back whole and its calls run again one by one, so one call's problem is only its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from bot.core.ports import StoreUnavailableError
from bot.storage.engine import in_transaction

C = TypeVar("C")
R = TypeVar("R")
LIMIT = 100  # calls in one transaction at most (a longer one would hold its rows' locks longer)


class Batches(Generic[C, R]):
    """Runs ``work(connection, calls)`` (one result per call, in order) for batches of calls, in one transaction."""

    def __init__(
        self, engine: Engine, work: Callable[[Connection, list[C]], list[R]], key: Callable[[C], Hashable]
    ) -> None:
        self.engine = engine
        self.work = work
        self.key = key
        self._waiting: list[tuple[C, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def run(self, call: C) -> R:
        """``call``'s result, once the transaction it went in with committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((call, future))
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._next()
                if batch:
                    await self._commit(batch)
        finally:
            self._running = None

    def _next(self) -> list[tuple[C, asyncio.Future[R]]]:
        """The next batch: waiting calls in order, one per key, at most LIMIT; the rest wait for the next one."""
        batch: list[tuple[C, asyncio.Future[R]]] = []
        later: list[tuple[C, asyncio.Future[R]]] = []
        keys: set[Hashable] = set()
        for call, future in self._waiting:
            if future.done():  # the caller gave up waiting
                continue
            key = self.key(call)
            if key in keys or len(batch) >= LIMIT:
                later.append((call, future))
            else:
                keys.add(key)
                batch.append((call, future))
        self._waiting = later
        return batch

    async def _commit(self, batch: list[tuple[C, asyncio.Future[R]]]) -> None:
        calls = [call for call, _ in batch]
        try:
            results = await in_transaction(self.engine, lambda conn: self.work(conn, calls))
        except StoreUnavailableError as exc:  # the database is away: every call fails alike
            for _, future in batch:
                _fail(future, exc)
            return
        except Exception as exc:
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            for call, future in batch:  # one by one, so that only the failing call fails
                try:
                    result = await self._alone(call)
                except Exception as alone:
                    _fail(future, alone)
                else:
                    if not future.done():
                        future.set_result(result)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _alone(self, call: C) -> R:
        (result,) = await in_transaction(self.engine, lambda conn: self.work(conn, [call]))
        return result


def _fail(future: asyncio.Future[R], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
