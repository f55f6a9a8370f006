"""The Bot API backend over aiohttp: python-telegram-bot's calls and bodies, its errors, a bounded pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import BodyPartReader, web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.telegram.request import AiohttpRequest
from tests.e2e.fake_telegram import free_port, serve_local

ME = {"id": 1, "is_bot": True, "first_name": "Lotse", "username": "lotse_bot"}
TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz0123456"


class Server:
    """A local HTTP server that records what it got and answers after ``delay`` seconds."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str, dict[str, str], dict[str, bytes]]] = []
        self.delay = 0.0
        self.open = 0
        self.most = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.open += 1
        self.most = max(self.most, self.open)
        try:
            fields: dict[str, str] = {}
            files: dict[str, bytes] = {}
            if request.content_type == "multipart/form-data":
                reader = await request.multipart()
                while (part := await reader.next()) is not None:
                    assert isinstance(part, BodyPartReader)
                    data = bytes(await part.read())
                    if part.filename:
                        files[part.name or ""] = data
                    else:
                        fields[part.name or ""] = data.decode()
            else:
                fields = {k: str(v) for k, v in (await request.post()).items()}
            method = request.path.rsplit("/", 1)[1]
            self.got.append((method, request.content_type, fields, files))
            if method == "getMe":
                return web.json_response({"ok": True, "result": ME})
            await asyncio.sleep(self.delay)
            return web.json_response({"ok": True, "result": True})
        finally:
            self.open -= 1


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    found = Server()
    app = web.Application()
    app.router.add_post("/{tail:.*}", found.handle)
    runner, port = await serve_local(app)
    try:
        yield found, f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


def _bot(url: str, request: AiohttpRequest) -> Bot:
    return Bot(TOKEN, base_url=url, request=request, get_updates_request=AiohttpRequest(1))


async def test_a_call_is_a_form_and_an_upload_a_multipart_form(server: tuple[Server, str]) -> None:
    found, url = server
    async with _bot(url, AiohttpRequest(2)) as bot:
        assert bot.username == "lotse_bot"
        assert await bot.do_api_request("sendMessage", api_kwargs={"chat_id": 5, "text": "Grüße ⁦x⁩"}) is True
        photo = InputFile(b"\x89PNG fake", filename="a.png")
        await bot.send_photo(5, photo)
    _, (method, kind, fields, _), (_, upload, upload_fields, files) = found.got
    assert method == "sendMessage" and kind == "application/x-www-form-urlencoded"
    assert fields == {"chat_id": "5", "text": "Grüße ⁦x⁩"}
    assert upload == "multipart/form-data" and upload_fields == {"chat_id": "5"}
    assert list(files.values()) == [b"\x89PNG fake"]


async def test_errors_are_python_telegram_bots(server: tuple[Server, str]) -> None:
    found, url = server
    found.delay = 1.0
    async with _bot(url, AiohttpRequest(2, read_timeout=0.2)) as bot:
        with pytest.raises(TimedOut):
            await bot.do_api_request("sendMessage", api_kwargs={"chat_id": 5, "text": "x"})
    with pytest.raises(NetworkError):  # nobody listens there
        async with _bot(f"http://127.0.0.1:{free_port()}/bot", AiohttpRequest(1)):
            pass
    request = AiohttpRequest(1)
    with pytest.raises(RuntimeError):  # not initialized
        await request.do_request(f"{url}{TOKEN}/getMe", "POST")


async def test_at_most_the_pool_is_open_at_once(server: tuple[Server, str]) -> None:
    found, url = server
    found.delay = 0.05
    async with _bot(url, AiohttpRequest(3)) as bot:
        calls = [bot.do_api_request("sendMessage", api_kwargs={"chat_id": i, "text": "x"}) for i in range(12)]
        assert await asyncio.gather(*calls) == [True] * 12
    assert found.most == 3


def test_the_proxy_of_the_environment_is_used_as_httpx_would(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.telegram import request

    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    request._proxy_for.cache_clear()
    assert request._proxy("https://api.telegram.org/botTOKEN/getMe") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    request._proxy_for.cache_clear()
    assert request._proxy("https://api.telegram.org/botTOKEN/getMe") == "http://proxy.example:3128"
    assert request._proxy("http://127.0.0.1:8081/botTOKEN/getMe") is None
    request._proxy_for.cache_clear()
