"""Wiring of the Telegram Application: handlers, rate limiter, commands per language, error handling."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, Update
from telegram.error import Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)
from tornado.httpserver import HTTPServer

from bot.core.ports import StoreUnavailableError
from bot.telegram import ratelimit, reload, review
from bot.telegram.destinations import check_groups
from bot.telegram.handlers import admin, ask, guard, handoff, media, menu, onboarding, staff
from bot.telegram.observe import Watch, serve_http
from bot.telegram.ordering import PerChatUpdateProcessor
from bot.telegram.outbox import OutboxSettings, Worker
from bot.telegram.polling import poll, until_done
from bot.telegram.ratelimit import ChatRateLimiter
from bot.telegram.request import AiohttpRequest
from bot.telegram.safelog import where
from bot.telegram.sending import Sender
from bot.telegram.services import AGAIN, CONTEXT_TYPES, KEY, LotseApplication, LotseContext, Services
from bot.telegram.webhook import serve_webhook
from bot.webapi import Hook, LibreTranslate

log = logging.getLogger("lotse.telegram")
WORKER = "lotse-outbox"
RETENTION_EVERY = 3600.0  # seconds between retention runs (one instance runs it per period)
HTTP_POOL = 8  # connections to the Bot API (long polling has its own)
HEARTBEAT_EVERY = 10.0  # seconds between an instance's "still running" (a silent one is gone after 3.5 periods)


@dataclass(slots=True)
class OutboxOptions:
    """The outbox store (the tickets' database) and where else deliveries go."""

    store: Any = None  # SqlTickets: the Outbox port plus a ``wakeup`` hook
    settings: OutboxSettings = field(default_factory=OutboxSettings)
    hooks: Mapping[str, Hook] = field(default_factory=dict)
    translator: LibreTranslate | None = None


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """How to reach the Bot API."""

    token: str
    base_url: str
    base_file_url: str
    max_retries: int = 5
    rate_limit: bool = True  # Telegram's limits (30/s overall; the outbox keeps 20/min per group); off in benchmarks


class _WarningsOnly(logging.Filter):
    """Drops a library's records below WARNING whatever its level is set to: python-telegram-bot logs every call's
    parameters and return values (names, texts, phone numbers) at DEBUG, httpx every request address (with the
    token) at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_TALKATIVE = ("telegram.Bot", "telegram.ext.ExtBot", "httpx", "httpcore")


def quiet_library_logs() -> None:
    """Never log update bodies or message texts: the libraries log them at DEBUG."""
    for name in ("telegram", "telegram.ext", "httpx", "httpcore", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _TALKATIVE:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _WarningsOnly) for f in logger.filters):
            logger.addFilter(_WarningsOnly())


async def on_error(update: object, context: LotseContext) -> None:
    """Log what went wrong without any content of the update."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, StoreUnavailableError | NetworkError | RetryAfter):  # TimedOut is a NetworkError
        # The database or Telegram is away for a moment, or Telegram still says "too many requests" after the
        # limiter's retries: the poll loop processes the update again (bot/telegram/polling).
        if update_id is not None:
            context.application.bot_data.setdefault(AGAIN, set()).add(update_id)
        log.warning("update %s: %s; it will be processed again", update_id, type(error).__name__)
        return
    if isinstance(error, Forbidden):
        log.info("update %s: delivery refused (the user blocked the bot)", update_id)
    else:
        log.error("update %s: %s", update_id, where(error) if error is not None else "unknown error")


async def started(application: LotseApplication) -> None:
    """After start-up: the command menus, the knowledge watcher, the outbox worker and the hourly retention job."""
    await set_commands(application)
    reload.start_watching(application)
    if application.job_queue is not None:
        application.job_queue.run_repeating(retention, interval=RETENTION_EVERY, first=1, name="lotse-retention")
        application.job_queue.run_repeating(heartbeat, interval=HEARTBEAT_EVERY, first=0, name="lotse-heartbeat")
        application.job_queue.run_repeating(review.weekly, interval=3600, first=60, name="lotse-review-list")
    if WORKER in application.bot_data:
        application.bot_data[WORKER].start()
        if application.job_queue is not None:
            application.job_queue.run_repeating(staff_groups, interval=3600, first=0, name="lotse-staff-groups")


async def heartbeat(context: LotseContext) -> None:
    """Every few seconds: this instance runs; with n running, it keeps 1/n of Telegram's 30 messages a second."""
    svc: Services = context.application.bot_data[KEY]
    if svc.instances is None:
        return
    try:
        running = await svc.instances.heartbeat(svc.instance, svc.clock(), 3.5 * HEARTBEAT_EVERY)
    except Exception as exc:  # the database is away: keep the share as it is
        log.warning("heartbeat: %s", type(exc).__name__)
        return
    svc.metrics.instances.set(running)
    limiter = context.bot.rate_limiter
    if isinstance(limiter, ratelimit.ChatRateLimiter):  # the class itself (tests replace the name with a factory)
        limiter.share(running)


async def staff_groups(context: LotseContext) -> None:
    """At start and hourly: can Lotse post in every staff group, open topics, delete? Tells log and administrators."""
    svc: Services = context.application.bot_data[KEY]
    await check_groups(context.bot, svc.staff_chat_ids, svc.admin_ids)


async def set_commands(application: LotseApplication) -> None:
    """The command menu in every interface language (language_code scope), English by default; the calls go out
    together (one round trip to Telegram at start instead of thirteen)."""
    svc: Services = application.bot_data[KEY]
    conversation = svc.conversation
    calls = [application.bot.set_my_commands([BotCommand(n, d) for n, d in conversation.commands("en")])]
    for code in conversation.knowledge.languages:
        commands = [BotCommand(n, d[:256]) for n, d in conversation.commands(code)]
        calls.append(application.bot.set_my_commands(commands, language_code=code))
    await asyncio.gather(*calls)


async def stop_worker(application: LotseApplication) -> None:
    """Let the outbox worker finish the item in hand; this instance no longer takes a share of the rate."""
    await reload.stop_watching(application)
    worker: Worker | None = application.bot_data.get(WORKER)
    if worker is not None:
        await worker.stop()
    svc: Services | None = application.bot_data.get(KEY)
    if svc is not None and svc.instances is not None:
        with contextlib.suppress(Exception):  # a database that is away forgets the instance after 35 s anyway
            await svc.instances.leave(svc.instance)


async def retention(context: LotseContext) -> None:
    """Hourly: erase cases after the retention period, drop unconfirmed requests (see Handoff.purge), quarantined
    updates and the gaps worklist older than the retention period."""
    svc: Services = context.application.bot_data[KEY]
    if svc.jobs is not None and not await svc.jobs.take_turn("retention", time.time(), RETENTION_EVERY - 60):
        return  # another instance ran it within the hour
    counts = await svc.desk.handoff.purge(time.time())
    days = svc.conversation.retention_days
    if svc.quarantine is not None:
        counts["quarantined_updates"] = await svc.quarantine.drop_quarantined(time.time() - days * 86400)
    if svc.gaps is not None:  # the worklist is kept as long as cases are
        counts["gaps"] = await svc.gaps.drop_older(time.time() - days * 86400)
    if any(counts.values()):
        log.info("retention: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))


def _is_emergency(services: Services, update: object) -> bool:
    """A person's new text message that is an emergency: processed without waiting (see PerChatUpdateProcessor)."""
    message = update.message if isinstance(update, Update) else None
    chat = message.chat if message is not None else None
    if message is None or not message.text or chat is None or chat.type != "private":
        return False
    return services.conversation.is_emergency(message.text)


def build_application(
    settings: TelegramSettings,
    services: Services,
    outbox: OutboxOptions | None = None,
) -> LotseApplication:
    """The Application with all Lotse handlers; ``services`` carry the conversation and the stores."""
    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .job_queue(JobQueue[LotseContext]())  # the default one, typed with our context
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        # A small pool (python-telegram-bot's default is 256): httpcore looks at every pooled connection, twice per
        # request and partly for each pair of them, which made 32 connections cost 0.6 ms of CPU per reply in
        # bench/limits.py (SQLite: 0.43x of the echo bot with 32, 0.47-0.50x with 8). 8 carry Telegram's 30 messages
        # a second even at 250 ms a call; a request waits for a free one up to 10 s.
        .request(AiohttpRequest(HTTP_POOL))
        .get_updates_request(AiohttpRequest(1, read_timeout=None))
        .post_init(started)
        .post_stop(stop_worker)
        .concurrent_updates(PerChatUpdateProcessor(urgent=lambda update: _is_emergency(services, update)))
    )
    if settings.rate_limit:
        # Everything for staff groups goes through the outbox, which keeps Telegram's 20 messages a minute per
        # group across processes; the limiter keeps the overall 30 per second, and a 429 delays only its request.
        limiter = ChatRateLimiter(
            max_retries=settings.max_retries, on_429=lambda: services.metrics.rate_limited("reply")
        )
        builder.rate_limiter(limiter)
    application = builder.build()
    application.bot_data[KEY] = services
    if services.handoff is not None:
        options = outbox or OutboxOptions()
        sender = Sender(
            application.bot, services.handoff, options.store, hooks=options.hooks, translator=options.translator
        )
        worker = Worker(sender, options.settings, clock=services.clock, metrics=services.metrics)
        options.store.wakeup = worker.wake
        application.bot_data[WORKER] = worker
    private = filters.ChatType.PRIVATE
    admins = filters.User(user_id=list(services.admin_ids), allow_empty=False)
    application.add_handler(TypeHandler(Update, guard.guard), group=-1)
    application.add_handlers(
        [
            CommandHandler("feedback", admin.feedback, filters=private & admins),
            CommandHandler("gaps", admin.gaps, filters=private & admins),
            CommandHandler("reload", reload.command, filters=private & admins),
            CommandHandler("start", onboarding.start, filters=private),
            CommandHandler("language", onboarding.language, filters=private),
            CommandHandler("city", onboarding.city, filters=private),
            CommandHandler("menu", menu.menu, filters=private),
            CommandHandler("help", menu.help_command, filters=private),
            CommandHandler("privacy", menu.privacy, filters=private),
            CommandHandler("human", handoff.human, filters=private),
            CommandHandler("end", handoff.end, filters=private),
            CommandHandler("delete", ask.delete, filters=private),
            CallbackQueryHandler(onboarding.chosen, pattern=r"^(lang|city|place):"),
            CallbackQueryHandler(onboarding.town, pattern=r"^town$"),
            CallbackQueryHandler(menu.menu, pattern=r"^menu$"),
            CallbackQueryHandler(menu.button, pattern=r"^(cat|t|fb|de|more):"),
            CallbackQueryHandler(handoff.human, pattern=r"^human$"),
            CallbackQueryHandler(handoff.consent, pattern=r"^ho:"),
            CallbackQueryHandler(ask.delete, pattern=r"^del:"),
            CallbackQueryHandler(ask.not_emergency, pattern=r"^ne$"),
            MessageHandler(private & filters.LOCATION, onboarding.location),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, ask.text),
            MessageHandler(private & filters.COMMAND, menu.help_command),
            MessageHandler(private & ~filters.TEXT & ~filters.LOCATION, media.media),
        ]
    )
    if services.staff_chat_ids:
        groups = filters.Chat(chat_id=list(services.staff_chat_ids))
        commands = ["tickets", "stats", "send", "tr", "take", "close", "urgent", "reopen"]
        content = filters.TEXT | filters.PHOTO | filters.Document.ALL | filters.VOICE
        application.add_handlers(
            [
                CallbackQueryHandler(staff.button, pattern=r"^tk:"),
                CommandHandler(commands, staff.command, filters=groups),
                MessageHandler(groups & content & ~filters.COMMAND, staff.relay),
            ]
        )
    application.add_handler(CallbackQueryHandler(guard.unknown_tap), group=0)  # after every other tap handler
    application.add_error_handler(on_error)
    return application


def run_polling(application: LotseApplication, http: HttpOptions | None = None) -> None:
    """Serve with long polling until SIGINT or SIGTERM; an update is confirmed only after it was processed."""
    asyncio.run(serve(application, http=http))


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Where ``/healthz`` and ``/metrics`` are served (``LOTSE_HTTP_LISTEN``, ``LOTSE_HTTP_PORT``)."""

    listen: str = "0.0.0.0"
    port: int = 8080


def _watch(application: LotseApplication, http: HttpOptions | None) -> HTTPServer | None:
    if http is None or http.port == 0:
        return None
    svc: Services = application.bot_data[KEY]
    watch = Watch(
        svc.metrics, svc.vitals, len(svc.conversation.knowledge.topics), lambda: application.running, svc.clock
    )
    try:
        return serve_http(watch, http.listen, http.port)
    except OSError as exc:
        raise HttpStartError(
            f"cannot serve /healthz and /metrics on {http.listen}:{http.port} ({exc.strerror}); set LOTSE_HTTP_PORT"
            " to a free port, or 0 to turn them off"
        ) from None


class TelegramStartError(Exception):
    """Telegram refused to start the bot (a wrong token): one line for the operator."""


class HttpStartError(Exception):
    """The health and metrics port cannot be opened (in use, not allowed): one line for the operator."""


async def initialize(application: LotseApplication, stop: asyncio.Event, first_wait: float = 1.0) -> bool:
    """Initialize the application (python-telegram-bot asks Telegram who the bot is). Telegram or the network being
    unreachable is waited out with backoff (:func:`~bot.telegram.polling.until_done`), one log line each; a token
    Telegram refuses is :class:`TelegramStartError`. False when ``stop`` came first."""
    try:
        return await until_done(
            stop, application.initialize, "Telegram is not reachable at start", retry_on=(NetworkError,),
            first_wait=first_wait,
        )  # fmt: skip
    except InvalidToken:
        raise TelegramStartError(
            "Telegram refused TELEGRAM_BOT_TOKEN (unknown or revoked); copy the token again from @BotFather"
        ) from None


async def serve(
    application: LotseApplication,
    stop: asyncio.Event | None = None,
    webhook: WebhookOptions | None = None,
    http: HttpOptions | None = None,
) -> None:
    """Start, poll (or serve the webhook) until ``stop`` or a signal, stop: the lifecycle PTB's ``run_polling`` has,
    with our poller and our webhook endpoint. ``/healthz`` and ``/metrics`` answer from the start (unhealthy until
    Telegram is served)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    watching = _watch(application, http)
    try:
        await _serve(application, stop, webhook)
    finally:
        if watching is not None:
            watching.stop()
            await watching.close_all_connections()


async def _serve(application: LotseApplication, stop: asyncio.Event, webhook: WebhookOptions | None) -> None:
    if not await initialize(application, stop):
        return
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        try:
            if webhook is None:
                await poll(application, stop)
            else:
                await serve_webhook(application, url=webhook.url, listen=webhook.listen, port=webhook.port,
                                    secret=webhook.secret, stop=stop)  # fmt: skip
        finally:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()


def webhook_secret(token: str) -> str:
    """The webhook's secret when ``LOTSE_WEBHOOK_SECRET`` is unset: the same for every instance of one bot, unknown
    to anyone without the token (HMAC-SHA256 of a fixed label, URL-safe, within Telegram's 256 characters)."""
    digest = hmac.new(token.encode("utf-8"), b"lotse webhook secret", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """Where Telegram posts updates (``LOTSE_WEBHOOK_*``). Without a configured secret one is derived from the bot
    token (:func:`webhook_secret`), so that every instance behind one address accepts what Telegram sends."""

    url: str
    listen: str
    port: int
    secret: str


def run_webhook(
    application: LotseApplication,
    *,
    url: str,
    listen: str,
    port: int,
    secret: str | None,
    http: HttpOptions | None = None,
) -> None:
    """Serve Lotse's webhook endpoint (:mod:`bot.telegram.webhook`) until SIGINT or SIGTERM."""
    token = application.bot.token
    options = WebhookOptions(url, listen, port, secret or webhook_secret(token))
    asyncio.run(serve(application, webhook=options, http=http))
