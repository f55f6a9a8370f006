"""The fake Bot API (tests/e2e/fake_telegram.py) in its own process, with a second control port for bench/limits.py.

    .venv/bin/python bench/fakeapi.py        prints "<api port> <control port>", serves until killed

The Bot API is FakeTelegram unchanged (its own start()); the control server beside it, on another port, lets the
benchmark push people's messages, set up staff groups, play people asking for a person (the consent flow, in this
process, as tests/e2e/crash.py does) and read what the bot sent (chat, thread, arrival time; never texts).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.fake_telegram import FakeTelegram, FakeUser, Sent, serve_local  # noqa: E402


def _newest(server: FakeTelegram, chat: int, prefix: str) -> Sent | None:
    for sent in reversed(server.to(chat)):
        if any(data and data.startswith(prefix) for _, data in sent.buttons):
            return sent
    return None


async def _until_button(server: FakeTelegram, chat: int, prefix: str, timeout: float) -> Sent:
    deadline = time.monotonic() + timeout
    while (found := _newest(server, chat, prefix)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"chat {chat}: no button {prefix}")
        await asyncio.sleep(0.02)
    return found


async def _ask_for_person(server: FakeTelegram, user: FakeUser, question: str) -> float:
    """/human, the question, the consent tap: a ticket whose card goes to the centre's staff group. Returns the
    time of the tap."""
    user.push_text("/human")
    await _until_button(server, user.id, "ho:cancel", 60)
    user.push_text(question)
    consent = await _until_button(server, user.id, "ho:yes", 60)
    data = next(d for _, d in consent.buttons if d and d.startswith("ho:yes"))
    await user.tap(data, expect=0, settle=False)
    return time.time()


def _chat_of(update: dict[str, Any]) -> int:
    for kind in ("message", "edited_message"):
        if kind in update:
            return int(update[kind]["chat"]["id"])
    return int(update.get("callback_query", {}).get("from", {}).get("id", 0))


class Delivery:
    """Webhook delivery as Telegram does it, round-robin over the bot instances' endpoints (the load balancer in
    front of them): up to ``connections`` requests at once, one at a time per chat (the next update of a chat only
    after the previous one was answered 200), an update answered otherwise is sent again."""

    def __init__(self, server: FakeTelegram, targets: list[str], secret: str, connections: int) -> None:
        self.server, self.targets, self.secret = server, targets, secret
        self.slots = asyncio.Semaphore(connections)
        self.queues: dict[int, list[dict[str, Any]]] = {}
        self.busy: set[int] = set()
        self.turn = 0
        self.outstanding = 0
        self.sending: set[asyncio.Task[None]] = set()
        self.http = aiohttp.ClientSession()
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        while True:
            await self.server._new_update.wait()
            self.server._new_update.clear()
            taken, self.server.updates = self.server.updates, []
            for update in taken:
                self.queues.setdefault(_chat_of(update), []).append(update)
                self.outstanding += 1
            self.kick()

    def kick(self) -> None:
        for chat, queue in self.queues.items():
            if queue and chat not in self.busy:
                self.busy.add(chat)
                task = asyncio.create_task(self.send(chat, queue.pop(0)))
                self.sending.add(task)
                task.add_done_callback(self.sending.discard)

    async def send(self, chat: int, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        async with self.slots:
            while True:
                target = self.targets[self.turn % len(self.targets)]
                self.turn += 1
                try:
                    async with self.http.post(target, json=update, headers=headers) as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        self.outstanding -= 1
        self.busy.discard(chat)
        self.kick()


class Control:
    def __init__(self, server: FakeTelegram) -> None:
        self.server = server
        self.users: dict[int, FakeUser] = {}
        self.delivery: Delivery | None = None

    async def deliver(self, request: web.Request) -> web.Response:
        """Deliver updates to these webhook endpoints from now on (instead of getUpdates)."""
        body = await request.json()
        self.delivery = Delivery(self.server, list(body["targets"]), str(body["secret"]), int(body["connections"]))
        return web.json_response({"ok": True})

    def user(self, user_id: int, lang: str) -> FakeUser:
        if user_id not in self.users:
            self.users[user_id] = FakeUser(self.server, user_id, first_name=f"P{user_id}", language_code=lang)
        return self.users[user_id]

    async def setup(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.server.forums.update(int(g) for g in body.get("forums", []))
        self.server.groups.update(int(g) for g in body.get("groups", []))
        return web.json_response({"ok": True})

    async def texts(self, request: web.Request) -> web.Response:
        """Push [user id, language, text] messages at once; answers the push time (this process's clock)."""
        body = await request.json()
        pushed = time.time()
        for user_id, lang, text in body["items"]:
            self.user(int(user_id), str(lang)).push_text(str(text))
        return web.json_response({"pushed_at": pushed, "ids": self.server.pushed})

    async def state(self, _: web.Request) -> web.Response:
        calls: dict[str, int] = {}
        for method, _params in self.server.calls:
            calls[method] = calls.get(method, 0) + 1
        server = self.server
        confirmed = server.confirmed
        if self.delivery is not None:  # webhook mode: every update answered 200 is confirmed
            confirmed = server.pushed + 1 if self.delivery.outstanding == 0 and not server.updates else 0
        state = {"confirmed": confirmed, "pushed": server.pushed, "in_flight": server.in_flight,
                 "sent": len(server.sent), "calls": calls, "errors": len(server.errors),
                 "webhook": server.webhook is not None}  # fmt: skip
        return web.json_response(state)

    async def sent(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        rows = [{"chat_id": s.chat_id, "received_at": s.received_at, "thread_id": s.thread_id}
                for s in self.server.sent[since:]]  # fmt: skip
        return web.json_response({"total": len(self.server.sent), "sent": rows})

    async def service(self, _: web.Request) -> web.Response:
        """Forum topics created: [group, time] each (a service message in the group)."""
        return web.json_response({"service": self.server.service_messages})

    async def handoff(self, request: web.Request) -> web.Response:
        """People ask for a person at once ([user id, language] each); answers when every one has consented."""
        body = await request.json()
        question = str(body["question"])
        people = [self.user(int(uid), str(lang)) for uid, lang in body["users"]]
        taps = await asyncio.gather(*(_ask_for_person(self.server, p, f"{question} {p.id}") for p in people))
        return web.json_response({"consented": len(taps), "first": min(taps), "last": max(taps)})


async def serve() -> None:
    server = FakeTelegram()
    await server.start()
    control = Control(server)
    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/setup", control.setup)
    app.router.add_post("/texts", control.texts)
    app.router.add_get("/state", control.state)
    app.router.add_get("/sent", control.sent)
    app.router.add_post("/handoff", control.handoff)
    app.router.add_get("/service", control.service)
    app.router.add_post("/deliver", control.deliver)
    _, port = await serve_local(app)
    print(server.port, port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve())
