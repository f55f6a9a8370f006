"""/healthz and /metrics of a running bot, in polling and webhook mode: what an operator sees, and that no person's
data is in it."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.core.dialogue import Dialogue
from bot.storage.engine import make_engine, migrate
from bot.telegram.app import HttpOptions, TelegramSettings, WebhookOptions, serve
from bot.telegram.observe import Watch, serve_http
from bot.wiring import Setup, assemble
from tests.e2e.conftest import Lotse, ready
from tests.e2e.fake_telegram import FakeTelegram, free_port
from tests.e2e.test_handoff import open_case


async def _get(port: int, path: str) -> tuple[int, str]:
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http, http.get(f"http://127.0.0.1:{port}{path}") as resp:
        return resp.status, await resp.text()


def _value(exposition: str, series: str) -> float:
    """The value of one series (``name{labels}`` exactly as Prometheus prints it) in an exposition."""
    found = re.search(rf"^{re.escape(series)} (\S+)$", exposition, re.MULTILINE)
    assert found is not None, f"{series} not in /metrics"
    return float(found.group(1))


@pytest.fixture
async def watched(desk: Lotse) -> AsyncIterator[tuple[Lotse, int]]:
    svc = desk.running.app.bot_data["lotse"]
    watch = Watch(svc.metrics, svc.vitals, len(svc.conversation.knowledge.topics), lambda: desk.app.running)
    port = free_port()
    server = serve_http(watch, "127.0.0.1", port)
    try:
        yield desk, port
    finally:
        server.stop()
        await server.close_all_connections()


async def test_metrics_count_updates_decisions_and_emergencies_without_personal_data(
    watched: tuple[Lotse, int],
) -> None:
    desk, port = watched
    user = await ready(desk, 4242, "ar")
    question = "where can i find a doctor for my son"
    await user.send(question)
    user.push_text("help, my child is not breathing")
    await user._replies(1)
    await desk.server.settle()
    status, body = await _get(port, "/metrics")
    assert status == 200
    assert _value(body, 'lotse_updates_total{chat="private",kind="text"}') >= 2
    assert _value(body, 'lotse_updates_total{chat="private",kind="command"}') >= 1  # /start
    assert _value(body, 'lotse_updates_total{chat="private",kind="tap"}') >= 1  # the city
    assert _value(body, 'lotse_emergencies_total{lang="ar"}') == 1
    assert sum(float(v) for v in re.findall(r'^lotse_decisions_total\{kind="[a-z_]+",lang="ar"\} (\S+)$', body,
                                             re.MULTILINE)) >= 1  # fmt: skip
    assert _value(body, "lotse_reply_seconds_count") >= 4
    assert _value(body, "lotse_database_up") == 1
    assert _value(body, "lotse_handoffs_open") == 0
    assert _value(body, "lotse_knowledge_topics") > 10
    for personal in ("4242", "Amal", "doctor", "breathing", question):
        assert personal not in body


async def test_an_open_case_and_its_backlog_are_counted(watched: tuple[Lotse, int]) -> None:
    desk, port = watched
    user = await ready(desk, 4343, "en")
    await open_case(desk, user, "My landlord wants me out")
    await desk.server.settle()
    _, body = await _get(port, "/metrics")
    assert _value(body, "lotse_handoffs_open") == 1
    assert _value(body, 'lotse_outbox_deliveries_total{result="sent"}') >= 1
    assert "landlord" not in body


async def test_healthz_says_ok_with_counts(watched: tuple[Lotse, int]) -> None:
    _, port = watched
    status, body = await _get(port, "/healthz")
    assert status == 200
    found = json.loads(body)
    assert found["status"] == "ok" and found["topics"] > 10 and found["outbox_overdue"] == 0


async def test_healthz_fails_when_the_database_is_away(
    watched: tuple[Lotse, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, port = watched

    async def away(fn: object) -> object:
        raise OSError("connection refused")

    monkeypatch.setattr(desk.tickets, "_tx", away)
    status, body = await _get(port, "/healthz")
    assert status == 503
    assert json.loads(body)["problems"] == ["database unreachable (OSError)"]
    _, metrics = await _get(port, "/metrics")
    assert _value(metrics, "lotse_database_up") == 0


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_both_modes_serve_health_and_metrics_on_the_http_port(
    mode: str, tmp_path: Path, dialogue: Dialogue
) -> None:
    server = FakeTelegram()
    await server.start()
    engine = make_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    migrate(engine)
    telegram = TelegramSettings(server.token, server.base_url, server.base_file_url)
    app = assemble(dialogue=dialogue, engine=engine, setup=Setup(), telegram=telegram).application
    port = free_port()
    webhook = WebhookOptions("https://lotse.example.org/hook", "127.0.0.1", free_port(), "s3cret-Token_1")
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(app, stop, webhook=webhook if mode == "webhook" else None, http=HttpOptions("127.0.0.1", port))
    )
    try:
        deadline = time.monotonic() + 20
        while True:  # unhealthy ("not serving Telegram yet") or not listening until started, then healthy
            assert time.monotonic() < deadline and not task.done(), "never healthy"
            try:
                status, body = await _get(port, "/healthz")
            except aiohttp.ClientConnectionError:
                status = 0
            if status == 200:
                break
            await asyncio.sleep(0.05)
        assert json.loads(body)["status"] == "ok"
        status, metrics = await _get(port, "/metrics")
        assert status == 200 and "lotse_updates_total" in metrics
    finally:
        stop.set()
        await task
        await server.stop()
    with pytest.raises(aiohttp.ClientConnectionError):  # stopped with the bot
        await _get(port, "/healthz")
