"""A TCP proxy on 127.0.0.1 in front of PostgreSQL that a test can switch off and on: a database outage on demand.

``await proxy.down()`` cuts every open connection at once (a TCP reset on both sides, so the server ends the
session and rolls back what it had not committed) and from then on resets every new connection as soon as it is
accepted, as a stopped server or a broken network does. ``proxy.up()`` lets connections through again. Nothing here
waits for time to pass: ``down()`` returns when every connection is closed.

The proxy runs its own event loop in its own thread: the code under test may call the database synchronously from
the test's event loop (the harness migrates the schema that way), and a frozen test loop must not stop the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

CHUNK = 65536
T = TypeVar("T")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0) instead of an orderly FIN: the peer's next read or write fails at once."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(eq=False)
class _Link:
    """One client connection and its connection to the server."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    cut: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self) -> None:
        self.cut = True
        _reset(self.client)
        if self.server is not None:
            _reset(self.server)


@dataclass
class DbProxy:
    """Forwards 127.0.0.1:``port`` (chosen at start) to ``target_host``:``target_port``."""

    target_host: str = "127.0.0.1"
    target_port: int = 5432
    port: int = 0
    accepted: int = 0  # connections let through
    refused: int = 0  # connections reset on arrival while down
    cut: int = 0  # open connections reset by down()
    _up: bool = True
    _links: set[_Link] = field(default_factory=set)
    _server: asyncio.Server | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def is_up(self) -> bool:
        return self._up

    @property
    def open_connections(self) -> int:
        return len(self._links)

    async def start(self) -> int:
        """Serve on a random port of 127.0.0.1 (in the proxy's thread); returns the port."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="dbproxy", daemon=True)
        self._thread.start()
        self._server = await self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Cut every connection, stop serving and end the proxy's thread."""
        if self._loop is None or self._thread is None:
            return
        await self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join)
        self._loop.close()
        self._loop = self._thread = None

    async def down(self) -> None:
        """The outage begins: every open connection is reset now, every new one as soon as it arrives."""
        await self._call(self._down())

    def up(self) -> None:
        """The outage ends: new connections reach the server again (the cut ones stay cut)."""
        self._up = True

    async def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the proxy's loop and wait for it from the caller's loop."""
        assert self._loop is not None, "start() the proxy first"
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    async def _stop(self) -> None:
        await self._down()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _down(self) -> None:
        self._up = False
        links = list(self._links)
        for link in links:
            link.reset()
        self.cut += len(links)
        for link in links:
            await link.finished.wait()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._up:
            self.refused += 1
            _reset(writer)
            return
        link = _Link(writer)
        self._links.add(link)
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection(self.target_host, self.target_port)
            except OSError:
                link.reset()
                return
            link.server = server_writer
            if link.cut or not self._up:  # down() came while the server connection was being opened
                link.reset()
                return
            self.accepted += 1
            pumps = [
                asyncio.create_task(self._pump(reader, server_writer)),
                asyncio.create_task(self._pump(server_reader, writer)),
            ]
            _, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            # One side closed (or was reset): close the other, as a real connection would end.
            for task in pending:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for side in (writer, server_writer):
                with contextlib.suppress(Exception):
                    side.close()
        finally:
            self._links.discard(link)
            link.finished.set()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
