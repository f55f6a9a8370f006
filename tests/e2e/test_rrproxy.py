"""The test tools for several instances: the round-robin proxy and the fake Bot API's webhook delivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.e2e.fake_telegram import FakeTelegram, FakeUser, free_port, serve_local
from tests.e2e.rrproxy import RoundRobinProxy


@dataclass
class Backend:
    """A webhook endpoint that records what it got and answers ``statuses`` in turn (then 200)."""

    name: str
    statuses: list[int] = field(default_factory=list)
    got: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (body, secret header)
    gate: asyncio.Event | None = None  # when set: requests wait for it
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")))
        if self.gate is not None:
            await self.gate.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text=self.name)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner, _ = await serve_local(app, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def two() -> AsyncIterator[tuple[Backend, Backend, RoundRobinProxy]]:
    a, b = Backend("a"), Backend("b")
    await a.start()
    await b.start()
    proxy = RoundRobinProxy([a.url, b.url])
    await proxy.start()
    try:
        yield a, b, proxy
    finally:
        await proxy.stop()
        await a.stop()
        await b.stop()


async def test_proxy_alternates_skips_a_refusing_backend_and_502s_when_none_answers(
    two: tuple[Backend, Backend, RoundRobinProxy],
) -> None:
    a, b, proxy = two
    async with aiohttp.ClientSession() as http:
        names = []
        for i in range(4):
            async with http.post(
                f"{proxy.url}/hook?x=1", json={"n": i}, headers={"X-Telegram-Bot-Api-Secret-Token": "s"}
            ) as r:
                names.append((r.status, await r.text()))
        assert names == [(200, "a"), (200, "b"), (200, "a"), (200, "b")]
        assert [body["n"] for body, _ in a.got] == [0, 2] and {secret for _, secret in a.got} == {"s"}
        await a.stop()  # refuses connections now: every request goes to b
        for i in range(3):
            async with http.post(f"{proxy.url}/hook", json={"n": 10 + i}) as r:
                assert (r.status, await r.text()) == (200, "b")
        assert proxy.served == {0: 2, 1: 5}
        assert any(hop.refused == (0,) for hop in proxy.log)
        await b.stop()
        async with http.post(f"{proxy.url}/hook", json={"n": 99}) as r:
            assert r.status == 502
        assert proxy.log[-1].backend == -1 and not proxy.log[-1].answered


async def test_delivery_posts_through_the_proxy_in_order_per_chat_and_retries_until_200(
    two: tuple[Backend, Backend, RoundRobinProxy],
) -> None:
    a, b, proxy = two
    a.statuses = [503]  # the first request a gets fails for a passing reason: sent again
    server = FakeTelegram(deliver_to=f"{proxy.url}/hook")
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            params = {"url": "https://lotse.test/hook", "secret_token": "s3cret"}
            async with http.post(f"{server.base_url}{server.token}/setWebhook", json=params) as r:
                assert r.status == 200
            async with http.post(f"{server.base_url}{server.token}/getUpdates", json={}) as r:
                assert r.status == 409  # as Telegram: no getUpdates while a webhook is set
        one, other = FakeUser(server, 1), FakeUser(server, 2)
        for i in range(3):
            one.push_text(f"one {i}")
            other.push_text(f"other {i}")
        await server.settle()
        chat = {int(body["update_id"]): int(body["message"]["chat"]["id"]) for body, _ in a.got + b.got}
        for user in (1, 2):  # one chat's updates one at a time, in update-id order
            attempts = [update_id for update_id, _ in server.posts if chat[update_id] == user]
            assert attempts == sorted(attempts) and len(set(attempts)) == 3
        # the 503 made one update come again; every other one was posted once
        assert len(a.got + b.got) == len(server.posts) == 7
        assert [status for _, status in server.posts].count(503) == 1
        assert all(s == "s3cret" for _, s in a.got + b.got)
        assert proxy.served[0] and proxy.served[1]
        assert await server.until_confirmed(6, timeout=0.1)
        # deleteWebhook: what comes next waits for getUpdates
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{server.base_url}{server.token}/deleteWebhook", json={}) as r:
                assert r.status == 200
            one.push_text("after")
            async with http.post(f"{server.base_url}{server.token}/getUpdates", json={"timeout": 0}) as r:
                updates = json.loads(await r.text())["result"]
        assert [u["message"]["text"] for u in updates] == ["after"]
        assert len(a.got + b.got) == 7
    finally:
        await server.stop()


async def test_delivery_holds_a_chats_next_update_until_the_previous_is_answered(
    two: tuple[Backend, Backend, RoundRobinProxy],
) -> None:
    a, b, proxy = two
    a.gate = asyncio.Event()  # a holds whatever it gets
    server = FakeTelegram(deliver_to=f"{proxy.url}/hook")
    await server.start()
    try:
        await server.api_setWebhook({"url": "https://lotse.test/hook"})
        user, other = FakeUser(server, 1), FakeUser(server, 2)
        user.push_text("first")  # to a (held)
        await _until(lambda: len(a.got) == 1)
        user.push_text("second")  # same chat: waits
        other.push_text("elsewhere")  # another chat: goes to b at once
        await _until(lambda: len(b.got) == 1)
        assert b.got[0][0]["message"]["text"] == "elsewhere" and len(a.got) == 1
        a.gate.set()
        await server.settle()
        assert [m["message"]["text"] for m, _ in a.got + b.got] == ["first", "second", "elsewhere"]
    finally:
        await server.stop()


async def _until(check: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
