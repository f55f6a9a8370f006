"""Webhook mode: Lotse's own endpoint instead of PTB's webhook server.

PTB's server reads a whole request (up to 100 MB) before it checks Telegram's secret header, answers malformed JSON
with a 500, and confirms an update to Telegram before it is processed. Here the secret and the size are checked from
the headers, before the body is read; a body that is not JSON gets 400; an update is answered 200 only after it
was processed, and 503 when its processing failed for a passing reason (the database down), so Telegram sends it
again: the same at-least-once delivery as the poll loop (:mod:`bot.telegram.polling`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler, stream_request_body

from bot.telegram.ordering import dispatch
from bot.telegram.polling import keep, read_updates
from bot.telegram.services import AGAIN, LotseApplication

log = logging.getLogger("lotse.telegram")
MAX_BODY = 1 << 20  # an update is a few kilobytes (files are never in it); more is not Telegram
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@stream_request_body
class UpdateHandler(RequestHandler):
    """POST <path>: one update from Telegram."""

    def initialize(self, bot_app: LotseApplication, secret: str) -> None:
        self.application_ = bot_app
        self.secret = secret
        self.body = bytearray()

    def prepare(self) -> None:
        """Runs on the headers alone: a wrong secret or an oversized body is refused before the body is read."""
        if self.request.method != "POST":
            self._refuse(405, "only POST")
            return
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self._refuse(403, "wrong secret")
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdecimal() or int(length) > MAX_BODY):
            self._refuse(413, "too large")

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self.body += chunk
        if len(self.body) > MAX_BODY:  # a chunked body without a length
            self._refuse(413, "too large")

    def _refuse(self, status: int, reason: str) -> None:
        log.warning("webhook: a request refused (%d, %s)", status, reason)
        self.set_status(status)
        self.finish()
        if status == 413:  # the rest of the body is not read: the connection goes
            self.request.connection.close()  # type: ignore[union-attr]

    async def post(self) -> None:
        if self._finished:
            return
        try:
            data: Any = json.loads(bytes(self.body))
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("webhook: a request that is not a JSON object refused (400)")
            self.set_status(400)
            return
        application = self.application_
        updates, skipped = read_updates(application, [data])
        for entry in skipped:  # answered 200 all the same: Telegram would send it forever
            await keep(application, entry)
        if not updates:
            return
        (update,) = updates
        again: set[int] = application.bot_data.setdefault(AGAIN, set())
        await dispatch(application, update)  # one person's updates in order, emergencies first, as with polling
        if update.update_id in again:  # failed for a passing reason: Telegram sends it again later
            again.discard(update.update_id)
            self.set_status(503)


def make_server(application: LotseApplication, path: str, secret: str) -> HTTPServer:
    """The HTTP server for ``/<path>``; ``listen(port, address)`` starts it."""
    routes = TornadoApp([(rf"/{path.strip('/')}/?", UpdateHandler, {"bot_app": application, "secret": secret})])
    return HTTPServer(routes, max_body_size=MAX_BODY, max_buffer_size=MAX_BODY)


async def serve_webhook(
    application: LotseApplication,
    *,
    url: str,
    listen: str,
    port: int,
    secret: str,
    stop: asyncio.Event,
) -> None:
    """Register the webhook with Telegram and answer its requests until ``stop``."""
    path = url.split("://", 1)[1].partition("/")[2]
    server = make_server(application, path, secret)
    server.listen(port, listen)
    try:
        await application.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        log.info("webhook registered; listening on %s:%d", listen, port)
        await stop.wait()
    finally:
        server.stop()
        await server.close_all_connections()
