"""End-to-end harness: the real Application polling a fake Bot API on 127.0.0.1, with a SQLite file database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.conversation import Conversation
from bot.core.dialogue import Dialogue
from bot.storage.engine import make_engine, migrate
from bot.storage.stores import SqlStores
from bot.telegram.app import TelegramSettings, build_application
from bot.telegram.services import Services
from tests.e2e.fake_telegram import FakeTelegram, FakeUser


@dataclass
class Lotse:
    """A running bot and its fake Telegram."""

    server: FakeTelegram
    app: Any
    stores: SqlStores
    db_url: str
    dialogue: Dialogue

    def user(self, user_id: int, language_code: str | None = "en", first_name: str = "Amal") -> FakeUser:
        return FakeUser(self.server, user_id, first_name=first_name, language_code=language_code)

    async def restart(self, admin_ids: frozenset[int] = frozenset()) -> None:
        """Stop the bot process and start a new one on the same database (nothing kept in memory)."""
        await stop_app(self.app)
        self.stores = SqlStores(make_engine(self.db_url))
        self.app = await start_app(self.server, self.stores, self.dialogue, admin_ids=admin_ids)


async def start_app(
    server: FakeTelegram,
    stores: SqlStores,
    dialogue: Dialogue,
    clock: Any = None,
    admin_ids: frozenset[int] = frozenset(),
) -> Any:
    services = Services(Conversation(dialogue), stores, stores, stores, admin_ids=admin_ids)
    if clock is not None:
        services.clock = clock
    settings = TelegramSettings(server.token, server.base_url, server.base_file_url, max_retries=5)
    app = build_application(settings, services)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1, allowed_updates=["message", "edited_message",
                                                                                   "callback_query"])  # fmt: skip
    return app


async def stop_app(app: Any) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


@pytest.fixture
async def lotse(tmp_path: Path, dialogue: Dialogue) -> AsyncIterator[Lotse]:
    server = FakeTelegram()
    await server.start()
    db_url = f"sqlite:///{tmp_path / 'lotse.db'}"
    engine = make_engine(db_url)
    migrate(engine)
    stores = SqlStores(engine)
    app = await start_app(server, stores, dialogue)
    harness = Lotse(server, app, stores, db_url, dialogue)
    try:
        yield harness
    finally:
        await stop_app(harness.app)
        await server.stop()
