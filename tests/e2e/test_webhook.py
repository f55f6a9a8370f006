"""Webhook mode: PTB's webhook server with Telegram's secret header, as `python -m bot run --webhook` serves."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import aiohttp

from bot.core.conversation import Conversation
from bot.core.dialogue import Dialogue
from bot.storage.engine import make_engine, migrate
from bot.storage.stores import SqlStores
from bot.telegram.app import TelegramSettings, build_application, webhook_options
from bot.telegram.services import Services
from tests.e2e.fake_telegram import FakeTelegram


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_checks_the_secret_and_answers(tmp_path: Path, dialogue: Dialogue) -> None:
    server = FakeTelegram()
    await server.start()
    engine = make_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    migrate(engine)
    stores = SqlStores(engine)
    settings = TelegramSettings(server.token, server.base_url, server.base_file_url)
    app = build_application(settings, Services(Conversation(dialogue), stores, stores, stores))
    port = _free_port()
    options = webhook_options("https://lotse.example.org/telegram/hook", "127.0.0.1", port, "s3cret-Token_1")
    assert options["url_path"] == "telegram/hook"
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(**options)  # type: ignore[arg-type]
    try:
        assert server.webhook == ("https://lotse.example.org/telegram/hook", "s3cret-Token_1")
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 77, "type": "private", "first_name": "A"},
                "from": {"id": 77, "is_bot": False, "first_name": "A", "language_code": "de"},
                "text": "apotheke nachts",
            },
        }
        url = f"http://127.0.0.1:{port}/telegram/hook"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
                assert resp.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 200
        (reply,) = await server.wait_for(77, 1)
        assert reply.text.startswith(dialogue.render("pharmacy", "de", None).title)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await server.stop()
