"""A small round-robin HTTP reverse proxy on 127.0.0.1 (aiohttp), standing for the load balancer in front of several
bot instances (Caddy in deploy/Caddyfile).

    proxy = RoundRobinProxy(["http://127.0.0.1:8441", "http://127.0.0.1:8442"])
    await proxy.start()          # proxy.url: "http://127.0.0.1:<port>"
    ...
    await proxy.stop()

Each request goes to the next backend in turn, with its method, path, query, headers and body. A backend that
refuses the connection (not listening: stopped or killed) is skipped for that request and the next one is tried,
like Caddy's ``lb_try_duration``; only when none accepts the connection is the answer 502. A backend that accepted
the request and then failed (closed the connection, timed out) is not tried again, since it may have acted on the
request: the answer is 502, and the client (Telegram) sends the request again.

What happened is kept in ``proxy.log`` (one :class:`Hop` per request, in order of the answers) and counted per
backend in ``proxy.served`` (backend index -> requests it gave an HTTP answer to, whatever the status).
``on_answer`` (optional) is called with each :class:`Hop` right after a backend answered and before the answer goes
back to the client: a test can kill that backend at this moment ("right after it acknowledged the update").
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.e2e.fake_telegram import serve_local

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}  # fmt: skip


@dataclass(frozen=True)
class Hop:
    """One request through the proxy: the backend that answered it (index into ``backends``; -1: none) and its
    status (502 when none answered), the request's path and body, and when the answer came (time.monotonic)."""

    backend: int
    status: int
    path: str
    body: bytes
    at: float
    refused: tuple[int, ...] = ()  # backends skipped because they refused the connection
    answered: bool = True  # False: the backend took the request and gave no answer (the 502 is the proxy's)
    started: float = 0.0  # when the request was passed on to the backend that answered it (time.monotonic)


@dataclass
class RoundRobinProxy:
    backends: list[str]  # base addresses, e.g. "http://127.0.0.1:8441"
    port: int = 0  # 0: any free port (see ``url`` after start)
    timeout: float = 60.0  # seconds a backend has to answer one request
    on_answer: Callable[[Hop], None] | None = None
    log: list[Hop] = field(default_factory=list)
    served: Counter[int] = field(default_factory=Counter)
    _turn: int = 0
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        self._http = aiohttp.ClientSession(timeout=timeout, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar())
        app = web.Application(client_max_size=16 << 20)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner, self.port = await serve_local(app, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        refused: list[int] = []
        for _ in range(len(self.backends)):
            index = self._turn % len(self.backends)
            self._turn += 1
            target = self.backends[index].rstrip("/") + request.rel_url.raw_path_qs
            started = time.monotonic()
            try:
                async with self._http.request(request.method, target, data=body, headers=headers) as answer:
                    content = await answer.read()
                    hop = Hop(index, answer.status, request.path, body, time.monotonic(), tuple(refused), True, started)
                    self._record(hop)
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=answer.status, body=content, headers=kept)
            except aiohttp.ClientConnectorError:  # nothing listens there: try the next backend
                refused.append(index)
            except (aiohttp.ClientError, TimeoutError):  # it took the request and did not answer: maybe it acted
                hop = Hop(index, 502, request.path, body, time.monotonic(), tuple(refused), False, started)
                self._record(hop)
                return web.Response(status=502, text="bad gateway: the backend did not answer")
        self._record(Hop(-1, 502, request.path, body, time.monotonic(), tuple(refused), answered=False))
        return web.Response(status=502, text="bad gateway: no backend accepted the connection")

    def _record(self, hop: Hop) -> None:
        self.log.append(hop)
        if hop.answered:
            self.served[hop.backend] += 1
        if self.on_answer is not None:
            self.on_answer(hop)
