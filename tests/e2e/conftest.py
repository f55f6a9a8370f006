"""End-to-end harness: the real Application polling a fake Bot API on 127.0.0.1, with a SQLite file database.

The bot polls with Lotse's own poller (an update is confirmed only after it was processed) and runs its outbox
worker, exactly as ``python -m bot run`` does. With ``centres`` the handoff is on, with a staff forum supergroup.

The outbox worker sends in the background: :class:`OutboxWatch` tells the fake server's idle signal
(``FakeTelegram.settle``) when it has work in hand or due.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from bot.core.centres import Centre, Centres
from bot.core.dialogue import Dialogue
from bot.storage.engine import make_engine, migrate
from bot.storage.outbox import OUTBOX
from bot.storage.stores import SqlStores
from bot.storage.tickets import SqlTickets
from bot.telegram.app import WORKER, TelegramSettings, stop_worker
from bot.telegram.outbox import OutboxSettings, Worker
from bot.telegram.polling import poll
from bot.telegram.services import LotseApplication
from bot.wiring import Setup, assemble
from tests.e2e.fake_telegram import FakeStaff, FakeTelegram, FakeUser
from tests.storage.conftest import POSTGRES_URL

STAFF_GROUP = -1001000000001
ALWAYS_OPEN = {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def centres(
    chat_id: int = STAFF_GROUP, hours: dict[str, str] | None = None, webhook: dict[str, str] | None = None
) -> Centres:
    centre = Centre.model_validate(
        {
            "id": "ki-koeln",
            "name": "Kommunales Integrationszentrum Köln",
            "cities": ["*"],
            "chat_id": chat_id,
            "hours": ALWAYS_OPEN if hours is None else hours,
            "languages": ["de", "en"],
            "webhook": webhook,
        }
    )
    return Centres({centre.id: centre})


def Options(**settings: Any) -> Setup:  # noqa: N802 - it reads as the Setup it makes
    """The bot's setup for a test: as ``run`` builds it, with the outbox looking for work five times a second."""
    return Setup(**{"outbox": OutboxSettings(poll=0.2), **settings})


class OutboxWatch:
    """Whether the outbox worker is busy: in a round (sending, recording, telling someone), or with deliveries due
    now in the database that no round has taken yet. A delivery scheduled for a later retry is not busy, nor one
    waiting behind its destination's first (which may be retried later)."""

    def __init__(self, server: FakeTelegram, worker: Worker, engine: Engine) -> None:
        self.rounds = 0
        self.engine = engine
        self.clock: Callable[[], float] = worker.clock
        real = worker.once

        async def once() -> int:  # the worker's loop calls self.once(): counted, and the end of a round notified
            self.rounds += 1
            try:
                return await real()
            finally:
                self.rounds -= 1
                server.changed()

        worker.once = once  # type: ignore[method-assign]

    def _due(self) -> int:
        """Deliveries the worker's next round would claim (as SqlOutbox.claim): each destination's head, if due."""
        o = OUTBOX.c
        now = self.clock()
        place = func.row_number().over(partition_by=o.dest, order_by=(o.priority, o.id))
        ranked = select(o.id.label("id"), place.label("place")).where(o.status == "pending").subquery()
        heads = select(ranked.c.id).where(ranked.c.place == 1)
        query = select(func.count()).where(o.id.in_(heads), o.next_at <= now, o.lease_until <= now)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    async def busy(self) -> bool:
        return self.rounds > 0 or await asyncio.to_thread(self._due) > 0


@dataclass
class Running:
    app: LotseApplication
    stop: asyncio.Event
    task: asyncio.Task[None]
    stores: SqlStores
    tickets: SqlTickets
    outbox: OutboxWatch | None = None


@dataclass
class Lotse:
    """A running bot and its fake Telegram."""

    server: FakeTelegram
    running: Running
    stores: SqlStores
    tickets: SqlTickets
    db_url: str
    dialogue: Dialogue
    options: Setup

    @property
    def app(self) -> LotseApplication:
        return self.running.app

    def user(self, user_id: int, language_code: str | None = "en", first_name: str = "Amal") -> FakeUser:
        return FakeUser(self.server, user_id, first_name=first_name, language_code=language_code)

    def staff(self, user_id: int = 9001, first_name: str = "Petra", chat_id: int = STAFF_GROUP) -> FakeStaff:
        return FakeStaff(self.server, user_id, chat_id, first_name=first_name)

    async def restart(self, admin_ids: frozenset[int] | None = None, **changes: Any) -> None:
        """Stop the bot process and start a new one on the same database (nothing kept in memory)."""
        await stop_app(self.running)
        if admin_ids is not None:
            changes["admin_ids"] = admin_ids
        self.options = replace(self.options, **changes)
        self.running = await start_app(self.server, make_engine(self.db_url), self.dialogue, self.options)
        self.stores, self.tickets = self.running.stores, self.running.tickets


async def start_app(server: FakeTelegram, engine: Engine, dialogue: Dialogue, options: Setup) -> Running:
    """The bot as ``python -m bot run`` assembles it (:func:`bot.wiring.assemble`), on the fake Bot API."""
    telegram = TelegramSettings(server.token, server.base_url, server.base_file_url, max_retries=5)
    bot = assemble(dialogue=dialogue, engine=engine, setup=options, telegram=telegram)
    app = bot.application
    worker = app.bot_data.get(WORKER)
    watch = OutboxWatch(server, worker, engine) if worker is not None else None  # before the worker starts
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    stop = asyncio.Event()
    task = asyncio.create_task(poll(app, stop, timeout=1, allowed_updates=["message", "edited_message",
                                                                          "callback_query"]))  # fmt: skip
    return Running(app, stop, task, bot.stores, bot.tickets, watch)


async def stop_app(running: Running) -> None:
    running.stop.set()
    await running.task
    app = running.app
    if app.running:
        await app.stop()
    await stop_worker(app)
    await app.shutdown()


async def lotse_running(
    tmp_path: Path, dialogue: Dialogue, options: Setup, db_url: str | None = None
) -> AsyncIterator[Lotse]:
    server = FakeTelegram()
    await server.start()
    server.forums.add(STAFF_GROUP)
    db_url = db_url or f"sqlite:///{tmp_path / 'lotse.db'}"
    engine = make_engine(db_url)
    migrate(engine)
    running = await start_app(server, engine, dialogue, options)
    harness = Lotse(server, running, running.stores, running.tickets, db_url, dialogue, options)

    async def outbox_busy() -> bool:  # the bot running now (a restart replaces it)
        watch = harness.running.outbox
        return watch is not None and await watch.busy()

    server.busy_checks.append(outbox_busy)
    try:
        yield harness
    finally:
        await stop_app(harness.running)
        await server.stop()


running = contextlib.asynccontextmanager(lotse_running)


@pytest.fixture
async def desk_postgres(tmp_path: Path, dialogue: Dialogue) -> AsyncIterator[Lotse]:
    """Like ``desk``, on the PostgreSQL server (a fresh schema), as in production."""
    schema = f"lotse_e2e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        async for harness in lotse_running(tmp_path, dialogue, Options(centres=centres()), db_url=url):
            yield harness
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
async def lotse(tmp_path: Path, dialogue: Dialogue) -> AsyncIterator[Lotse]:
    """Lotse without handoff configuration (LOTSE_CENTRES unset)."""
    async for harness in lotse_running(tmp_path, dialogue, Options()):
        yield harness


@pytest.fixture
async def desk(tmp_path: Path, dialogue: Dialogue) -> AsyncIterator[Lotse]:
    """Lotse with one always-open centre for every city and its staff forum supergroup."""
    async for harness in lotse_running(tmp_path, dialogue, Options(centres=centres())):
        yield harness


async def ready(lotse: Lotse, user_id: int, lang: str, city: str = "city:koeln", first_name: str = "Amal") -> FakeUser:
    """A user who has started Lotse and chosen a city (the onboarding replies are consumed)."""
    user = lotse.user(user_id, language_code=lang, first_name=first_name)
    await user.send("/start", expect=3)
    await user.tap(city, expect=3)
    return user
