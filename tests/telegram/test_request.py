"""Bot API calls go out as JSON bodies; uploads keep the multipart form; errors are python-telegram-bot's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError

from bot.telegram.request import JsonRequest

TOKEN = "123456789:AAEhBP0av28xjVQCyYb0Ffq_Kd8aX1JQnOo"


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, list[tuple[str, bytes]]]]:
    seen: list[tuple[str, bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((request.content_type, await request.read()))
        if request.match_info["method"] == "getMe":
            return web.json_response({"ok": True, "result": {"id": 123456789, "is_bot": True, "first_name": "L",
                                                              "username": "lotse_bot"}})  # fmt: skip
        message = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/bot", seen
    await runner.cleanup()


async def test_a_message_is_a_json_body_and_a_file_a_multipart_form(
    api: tuple[str, list[tuple[str, bytes]]],
) -> None:
    base, seen = api
    async with Bot(TOKEN, base_url=base, request=JsonRequest(connection_pool_size=2)) as bot:
        await bot.send_message(5, "<b>Hallo</b> & مرحبا", parse_mode="HTML", reply_markup=None)
        await bot.send_document(5, InputFile(b"%PDF-1.4", filename="a.pdf"))
    kind, body = seen[-2]
    assert kind == "application/json"
    sent = json.loads(body)
    assert sent["text"] == "<b>Hallo</b> & مرحبا" and str(sent["chat_id"]) == "5" and sent["parse_mode"] == "HTML"
    assert seen[-1][0] == "multipart/form-data"


async def test_an_unreachable_api_is_a_network_error() -> None:
    request = JsonRequest(connection_pool_size=1, connect_timeout=1.0)
    with pytest.raises(NetworkError):  # getMe, the first call, finds nobody
        async with Bot(TOKEN, base_url="http://127.0.0.1:9/bot", request=request):
            pass
