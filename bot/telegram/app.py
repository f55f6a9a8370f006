"""Wiring of the Telegram Application: handlers, rate limiter, commands per language, error handling."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from telegram import BotCommand, Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.telegram.handlers import admin, ask, guard, media, menu, onboarding
from bot.telegram.ordering import PerChatUpdateProcessor
from bot.telegram.services import KEY, Services

log = logging.getLogger("lotse.telegram")


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """How to reach the Bot API."""

    token: str
    base_url: str
    base_file_url: str
    max_retries: int = 5
    rate_limit: bool = True  # Telegram's limits (30/s overall, 20/min per group); off only in benchmarks


def quiet_library_logs() -> None:
    """Never log update bodies or message texts: the libraries log them at DEBUG."""
    for name in ("telegram", "telegram.ext", "httpx", "httpcore", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what went wrong without any content of the update."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        log.info("update %s: delivery refused (the user blocked the bot)", update_id)
    elif isinstance(error, RetryAfter | TimedOut | NetworkError):
        log.warning("update %s: Telegram not reachable or rate limited (%s)", update_id, type(error).__name__)
    else:
        log.error("update %s: %s", update_id, type(error).__name__, exc_info=error)


async def set_commands(application: Application) -> None:  # type: ignore[type-arg]
    """The command menu in every interface language (language_code scope), English by default."""
    svc: Services = application.bot_data[KEY]
    conversation = svc.conversation
    await application.bot.set_my_commands([BotCommand(n, d) for n, d in conversation.commands("en")])
    for code in conversation.knowledge.languages:
        commands = [BotCommand(n, d[:256]) for n, d in conversation.commands(code)]
        await application.bot.set_my_commands(commands, language_code=code)


def build_application(settings: TelegramSettings, services: Services) -> Application:  # type: ignore[type-arg]
    """The Application with all Lotse handlers; ``services`` carry the conversation and the stores."""
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .post_init(set_commands)
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if settings.rate_limit:
        builder.rate_limiter(AIORateLimiter(max_retries=settings.max_retries))
    application = builder.build()
    application.bot_data[KEY] = services
    private = filters.ChatType.PRIVATE
    admins = filters.User(user_id=list(services.admin_ids), allow_empty=False)
    application.add_handler(TypeHandler(Update, guard.guard), group=-1)
    application.add_handler(TypeHandler(Update, guard.done), group=1)
    application.add_handlers(
        [
            CommandHandler("feedback", admin.feedback, filters=private & admins),
            CommandHandler("start", onboarding.start, filters=private),
            CommandHandler("language", onboarding.language, filters=private),
            CommandHandler("city", onboarding.city, filters=private),
            CommandHandler("menu", menu.menu, filters=private),
            CommandHandler("help", menu.help_command, filters=private),
            CommandHandler("privacy", menu.privacy, filters=private),
            CommandHandler("human", ask.human, filters=private),
            CommandHandler("delete", ask.delete, filters=private),
            CallbackQueryHandler(onboarding.chosen, pattern=r"^(lang|city):"),
            CallbackQueryHandler(menu.menu, pattern=r"^menu$"),
            CallbackQueryHandler(menu.button, pattern=r"^(cat|t|fb):"),
            CallbackQueryHandler(ask.human, pattern=r"^human$"),
            CallbackQueryHandler(ask.delete, pattern=r"^del:"),
            MessageHandler(private & filters.LOCATION, onboarding.location),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, ask.text),
            MessageHandler(private & filters.COMMAND, menu.help_command),
            MessageHandler(private & ~filters.TEXT & ~filters.LOCATION, media.media),
        ]
    )
    application.add_error_handler(on_error)
    return application


def run_polling(application: Application) -> None:  # type: ignore[type-arg]
    """Serve with long polling until interrupted."""
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)


def webhook_options(url: str, listen: str, port: int, secret: str | None) -> dict[str, object]:
    """Arguments for PTB's webhook server: path from ``url``, Telegram's secret header checked on every request."""
    path = url.split("://", 1)[1].partition("/")[2]
    return {
        "listen": listen,
        "port": port,
        "url_path": path,
        "webhook_url": url,
        "secret_token": secret or secrets.token_urlsafe(32),
        "allowed_updates": Update.ALL_TYPES,
    }


def run_webhook(
    application: Application,  # type: ignore[type-arg]
    *,
    url: str,
    listen: str,
    port: int,
    secret: str | None,
) -> None:
    """Serve with PTB's webhook server until interrupted."""
    application.run_webhook(**webhook_options(url, listen, port, secret))  # type: ignore[arg-type]
