"""Bot API requests over aiohttp (python-telegram-bot's ``BaseRequest``, its documented way to bring a network
backend).

python-telegram-bot's default backend (httpx over httpcore and anyio) spent a third of a reply's CPU in bench/limits.py
on its pool bookkeeping: on every request it looks at each pooled connection (asking the socket whether it is readable)
and at each pair of them. aiohttp keeps its free connections in a queue. Calls, bodies (forms; uploads as multipart),
timeouts and errors are python-telegram-bot's: a timeout is ``TimedOut``, anything else of the network is
``NetworkError``. Like python-telegram-bot's default, it verifies TLS against certifi's certificate bundle and honours
the ``HTTPS_PROXY``/``NO_PROXY`` environment (read once per host).
"""

from __future__ import annotations

import functools
import ssl
import urllib.parse
import urllib.request

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """At most ``connections`` connections to the Bot API; a call waits for a free one up to ``pool_timeout``."""

    def __init__(
        self,
        connections: int = 8,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 10.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self.connections = connections
        self._read, self._write, self._connect, self._pool = read_timeout, write_timeout, connect_timeout, pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            tls = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self.connections, keepalive_timeout=60.0, ssl=tls)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read)
        connect, pool = _given(connect_timeout, self._connect), _given(pool_timeout, self._pool)
        # aiohttp's "connect" includes waiting for a free connection; the socket read timeout covers the answer.
        # aiohttp has no timeout for writing a body: an upload is bounded by the whole call, the write timeout
        # (python-telegram-bot's media write timeout for uploads) added to the others.
        write = _given(write_timeout, self._media_write if files else self._write)
        waiting = None if connect is None or pool is None else connect + pool
        total = None if None in (waiting, read, write) else waiting + read + write  # type: ignore[operator]
        timeout = aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            data = _multipart(request_data) if files else request_data.json_parameters
        try:
            proxy = _proxy(url)
            async with self._session.request(method, url, data=data, timeout=timeout, proxy=proxy) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


@functools.lru_cache(maxsize=16)
def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy of the environment (``HTTPS_PROXY``, ``NO_PROXY``, ...) for a host, as httpx finds it; looked up
    once per host (aiohttp's own ``trust_env`` looks at the environment and ~/.netrc on every request, which
    doubled the cost of a call)."""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def _proxy(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    return _proxy_for(parts.scheme, parts.hostname or "")


def _given(value: object, default: float | None) -> float | None:
    """The timeout a call gave (seconds, or None for none), or this backend's own when it left it to the default."""
    if value is None or isinstance(value, int | float):
        return value
    return default


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """The call's parameters and files as one multipart form (an upload)."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in (request_data.multipart_data or {}).items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
