"""Webhook mode: Lotse's endpoint as `python -m bot run --webhook` serves it, against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.core.dialogue import Dialogue
from bot.storage.engine import make_engine, migrate
from bot.storage.stores import SqlStores
from bot.telegram.app import TelegramSettings, WebhookOptions, serve
from bot.telegram.webhook import MAX_BODY
from bot.wiring import Setup, assemble
from tests.e2e.fake_telegram import FakeTelegram, free_port
from tests.e2e.test_polling import database_down

SECRET = "s3cret-Token_1"


def text_update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "A"},
            "from": {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "de"},
            "text": text,
        },
    }


@dataclass
class Hooked:
    server: FakeTelegram
    url: str
    stores: SqlStores


@pytest.fixture
async def hooked(tmp_path: Path, dialogue: Dialogue) -> AsyncIterator[Hooked]:
    server = FakeTelegram()
    await server.start()
    engine = make_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    migrate(engine)
    settings = TelegramSettings(server.token, server.base_url, server.base_file_url)
    bot = assemble(dialogue=dialogue, engine=engine, setup=Setup(), telegram=settings)
    app, stores = bot.application, bot.stores
    port = free_port()
    options = WebhookOptions("https://lotse.example.org/telegram/hook", "127.0.0.1", port, SECRET)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop, webhook=options))
    deadline = time.monotonic() + 20
    while server.webhook is None:
        assert time.monotonic() < deadline and not task.done(), "the webhook was not registered"
        await asyncio.sleep(0.05)
    try:
        yield Hooked(server, f"http://127.0.0.1:{port}/telegram/hook", stores)
    finally:
        stop.set()
        await task
        await server.stop()


async def test_webhook_checks_the_secret_and_answers(hooked: Hooked, dialogue: Dialogue) -> None:
    assert hooked.server.webhook == ("https://lotse.example.org/telegram/hook", SECRET)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        update = text_update(1, 77, "apotheke nachts")
        async with http.post(hooked.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
            assert resp.status == 403
        assert not hooked.server.to(77)
        async with http.post(hooked.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
            assert resp.status == 200
    # answered 200 only after processing: the reply is there already
    (reply,) = hooked.server.to(77)
    assert reply.text.startswith(dialogue.render("pharmacy", "de", None).title)


async def test_webhook_refuses_huge_and_malformed_bodies_before_reading_them(hooked: Hooked) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        # 99 MB announced: refused on the headers, the body is never read
        huge = {**headers, "Content-Length": str(99 * 1024 * 1024), "Content-Type": "application/json"}
        try:
            async with http.post(hooked.url, data=b"{" * 1024, headers=huge) as resp:
                assert resp.status == 413
        except aiohttp.ClientError:
            pass  # the server may close the connection while the client still sends: also a refusal
        # without a secret, even a small body is refused before it is read
        try:
            async with http.post(hooked.url, data=b"x" * (MAX_BODY + 1)) as resp:
                assert resp.status in (403, 413)
        except aiohttp.ClientError:
            pass
        for bad in (b"{not json", b"[1, 2]", "\ud800".encode("utf-8", "surrogatepass")):
            async with http.post(hooked.url, data=bad, headers=headers) as resp:
                assert resp.status == 400
        # an update python-telegram-bot cannot read: accepted (never sent again), skipped
        poison = {"update_id": 9, "message": {"message_id": 1, "date": 1, "chat": "x", "text": "x"}}
        async with http.post(hooked.url, json=poison, headers=headers) as resp:
            assert resp.status == 200
        async with http.post(hooked.url, json=text_update(10, 78, "apotheke"), headers=headers) as resp:
            assert resp.status == 200
    assert hooked.server.to(78)


async def test_webhook_asks_telegram_to_send_again_when_the_database_is_down(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = database_down(hooked.stores, monkeypatch)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    update = text_update(20, 79, "wo ist eine apotheke")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        async with http.post(hooked.url, json=update, headers=headers) as resp:
            assert resp.status == 503  # Telegram keeps it and sends it again
        down["on"] = False
        async with http.post(hooked.url, json=update, headers=headers) as resp:
            assert resp.status == 200
    assert len(hooked.server.to(79)) == 1
