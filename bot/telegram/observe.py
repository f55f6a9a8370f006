"""What an operator watches: ``/healthz`` and Prometheus ``/metrics`` on ``LOTSE_HTTP_PORT``, in both modes.

Every label value comes from a small fixed set (update kinds, decision kinds, Lotse's languages, delivery results), so
no metric can carry a name, a text or an id. Each process has its own registry and endpoint; Prometheus scrapes every
instance, and the database-wide gauges (open cases, outbox backlog) are read from the database at each scrape.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler

from bot.core.ports import Vitals, VitalSigns

log = logging.getLogger("lotse.telegram")
OVERDUE_BOUND = 100  # /healthz fails when more deliveries than this are overdue by over a minute
VITALS_TIMEOUT = 3.0  # seconds the database may take to answer /healthz
UPDATE_KINDS = ("text", "command", "tap", "location", "media", "edited", "member", "other")
RESULTS = ("sent", "rate_limited", "blocked", "setup", "refused", "retry", "gone", "postponed")
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def update_kind(update: object) -> tuple[str, str]:
    """(kind, chat) of an update: what arrived, and whether from a person ("private") or a group ("group")."""
    if not isinstance(update, Update):
        return "other", "other"
    chat = update.effective_chat
    where = "other" if chat is None else ("private" if chat.type == "private" else "group")
    if update.callback_query is not None:
        return "tap", where
    if update.edited_message is not None:
        return "edited", where
    message = update.message
    if message is None:
        return ("member" if update.my_chat_member or update.chat_member else "other"), where
    if message.text:
        return ("command" if message.text.startswith("/") else "text"), where
    return ("location" if message.location else "media"), where


class Metrics:
    """The counters a process keeps, in a registry of its own (two bots in one test process do not mix)."""

    def __init__(self, languages: Collection[str] = ()) -> None:
        self.languages = frozenset(languages)
        self.registry = registry = CollectorRegistry()
        self.updates = Counter(
            "lotse_updates", "Updates processed, by kind and chat type", ["kind", "chat"], registry=registry
        )
        self.latency = Histogram(
            "lotse_reply_seconds", "From an update's arrival to the end of its processing (replies sent)",
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.decisions = Counter(
            "lotse_decisions", "Decisions on a person's message, by kind and language", ["kind", "lang"],
            registry=registry,
        )  # fmt: skip
        self.emergencies = Counter("lotse_emergencies", "Emergency answers sent, by language", ["lang"],
                                   registry=registry)  # fmt: skip
        self.too_many = Counter(
            "lotse_telegram_429", "Telegram's 429 Too Many Requests answers, by who got them", ["source"],
            registry=registry,
        )  # fmt: skip
        self.deliveries = Counter(
            "lotse_outbox_deliveries", "Outbox delivery attempts by this process, by result", ["result"],
            registry=registry,
        )  # fmt: skip
        self.open_cases = Gauge("lotse_handoffs_open", "Cases open or taken (whole database)", registry=registry)
        self.pending = Gauge("lotse_outbox_backlog", "Deliveries not yet made (whole database)", registry=registry)
        self.overdue = Gauge(
            "lotse_outbox_overdue", "Deliveries due for more than a minute (whole database)", registry=registry
        )
        self.failed = Gauge("lotse_outbox_failed", "Deliveries given up, kept until retention", registry=registry)
        self.database_up = Gauge("lotse_database_up", "1 when the last read of the database worked", registry=registry)
        self.instances = Gauge(
            "lotse_instances", "Instances sharing the database (and Telegram's overall rate)", registry=registry
        )
        self.topics = Gauge("lotse_knowledge_topics", "Topics in the knowledge this process serves", registry=registry)
        for kind in UPDATE_KINDS:  # the series exist from the start: a rate over them works on a fresh process
            self.updates.labels(kind, "private")
        for result in RESULTS:
            self.deliveries.labels(result)

    def _lang(self, lang: str | None) -> str:
        return lang if lang in self.languages else "other"

    def handled(self, update: object, seconds: float) -> None:
        kind, chat = update_kind(update)
        self.updates.labels(kind, chat).inc()
        if chat == "private":
            self.latency.observe(seconds)

    def decided(self, kind: str, lang: str | None) -> None:
        self.decisions.labels(kind, self._lang(lang)).inc()

    def emergency(self, lang: str | None) -> None:
        self.emergencies.labels(self._lang(lang)).inc()

    def rate_limited(self, source: str) -> None:
        self.too_many.labels(source).inc()

    def delivery(self, result: str) -> None:
        self.deliveries.labels(result if result in RESULTS else "retry").inc()

    def saw(self, vitals: Vitals | None) -> None:
        self.database_up.set(0 if vitals is None else 1)
        if vitals is not None:
            self.open_cases.set(vitals.open_cases)
            self.pending.set(vitals.outbox_pending)
            self.overdue.set(vitals.outbox_overdue)
            self.failed.set(vitals.outbox_failed)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(slots=True)
class Watch:
    """What the endpoint reads: the metrics, the database's vital signs, the knowledge, whether Telegram is served."""

    metrics: Metrics
    vitals: VitalSigns | None
    topics: int
    serving: Callable[[], bool]
    clock: Callable[[], float] = time.time

    async def read(self) -> tuple[Vitals | None, str | None]:
        """The database's counts (the gauges are set from them), or None and why not."""
        found, problem = None, None
        if self.vitals is not None:
            try:
                found = await asyncio.wait_for(self.vitals.vitals(self.clock()), VITALS_TIMEOUT)
            except TimeoutError:
                problem = "database did not answer within 3 s"
            except Exception as exc:  # unreachable, refused, a lost connection: the endpoint still answers
                problem = f"database unreachable ({type(exc).__name__})"
        self.metrics.saw(found)
        return found, problem

    async def health(self) -> tuple[bool, dict[str, object]]:
        vitals, problem = await self.read()
        problems = [problem] if problem else []
        if self.topics == 0:
            problems.append("no knowledge loaded")
        if not self.serving():
            problems.append("not serving Telegram yet")
        if vitals is not None and vitals.outbox_overdue > OVERDUE_BOUND:
            problems.append(f"{vitals.outbox_overdue} deliveries overdue (bound {OVERDUE_BOUND})")
        body: dict[str, object] = {"status": "ok" if not problems else "unhealthy", "topics": self.topics}
        if vitals is not None:
            body.update(open_cases=vitals.open_cases, outbox_backlog=vitals.outbox_pending,
                        outbox_overdue=vitals.outbox_overdue)  # fmt: skip
        if problems:
            body["problems"] = problems
        return not problems, body


class _Health(RequestHandler):
    def initialize(self, watch: Watch) -> None:
        self.watch = watch

    async def get(self) -> None:
        ok, body = await self.watch.health()
        self.set_status(200 if ok else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class _Metrics(RequestHandler):
    def initialize(self, watch: Watch) -> None:
        self.watch = watch

    async def get(self) -> None:
        await self.watch.read()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(self.watch.metrics.exposition())


def serve_http(watch: Watch, listen: str, port: int) -> HTTPServer:
    """Start answering ``/healthz`` and ``/metrics`` on ``listen:port`` (the caller stops the server)."""
    watch.metrics.topics.set(watch.topics)
    handlers = [(r"/healthz", _Health, {"watch": watch}), (r"/metrics", _Metrics, {"watch": watch})]
    routes = TornadoApp(handlers, log_function=lambda _: None)  # no access log line per scrape
    server = HTTPServer(routes, max_body_size=1024)
    server.listen(port, listen)
    log.info("health and metrics on %s:%d (/healthz, /metrics)", listen, port)
    return server
