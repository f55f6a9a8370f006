"""One bot process for bench/limits.py: Lotse as ``python -m bot run`` builds it, with the rate limiter off, or the
minimal echo bot.

    .venv/bin/python bench/instance.py lotse [--webhook-port P --webhook-url U] [--profile FILE]
    .venv/bin/python bench/instance.py echo [--backend httpx|aiohttp]

Configured by the environment like ``python -m bot run`` (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, DATABASE_URL,
LOTSE_CENTRES, LOTSE_CACHE_DIR, KNOWLEDGE_DIR, LOTSE_GROUP_RATE, ...): the same wiring (bot.wiring.assemble), the
same warm-up and gc.freeze, then polling or the webhook until SIGTERM. The only difference from production is
``TelegramSettings(rate_limit=False)``: the benchmark measures Lotse's own cost, not Telegram's 30 messages/s.
``--profile`` writes cProfile statistics of every thread at the end (bench/profiling.py; SIGTERM ends serving
normally); SIGUSR1 drops what was counted until then.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def _echo(update: Any, context: Any) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text, do_quote=False)


async def run_echo(backend: str) -> None:
    """python-telegram-bot with one MessageHandler that sends the text back, with Lotse's update concurrency
    (per-chat order) and PTB's own polling, until SIGTERM. ``backend``: python-telegram-bot's default HTTP client
    ("httpx"), or the one Lotse uses ("aiohttp", bot/telegram/request.py, 8 connections as Lotse)."""
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    from bot.telegram.ordering import PerChatUpdateProcessor
    from bot.telegram.request import AiohttpRequest

    base = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/") + "/bot"
    builder = ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"]).base_url(base)
    if backend == "aiohttp":
        builder = builder.request(AiohttpRequest(8)).get_updates_request(AiohttpRequest(1, read_timeout=None))
    app = (
        builder.base_file_url(base.removesuffix("/bot") + "/file/bot")
        .concurrent_updates(PerChatUpdateProcessor())
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await stop.wait()
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


def build_lotse() -> Any:
    from bot.config import load_config
    from bot.core.centres import load_centres
    from bot.storage.engine import open_database
    from bot.telegram.app import TelegramSettings, quiet_library_logs
    from bot.wiring import assemble, load_dialogue, setup_from

    config = load_config()
    dialogue = load_dialogue(config)
    centres = load_centres(config.centres_path, set(dialogue.knowledge.cities)) if config.centres_path else None
    setup = setup_from(config, centres)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_library_logs()
    engine = open_database(config.database_url)
    telegram = TelegramSettings(config.require_token(), config.api_base_url, config.api_file_url, rate_limit=False)
    bot = assemble(dialogue=dialogue, engine=engine, setup=setup, telegram=telegram)
    bot.services.conversation.warm_up()
    gc.freeze()
    return bot.application


async def run_lotse(webhook_port: int, webhook_url: str) -> None:
    from bot.telegram.app import WebhookOptions, serve, webhook_secret

    application = build_lotse()
    options = None
    if webhook_port:
        options = WebhookOptions(webhook_url, "127.0.0.1", webhook_port, webhook_secret(application.bot.token))
    await serve(application, webhook=options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bot", choices=["lotse", "echo"])
    parser.add_argument("--webhook-port", type=int, default=0, help="serve a webhook on 127.0.0.1:PORT")
    parser.add_argument("--webhook-url", default="", help="the address registered with the fake Bot API")
    parser.add_argument("--profile", help="write cProfile statistics to this file at the end")
    parser.add_argument("--backend", choices=["httpx", "aiohttp"], default="httpx", help="the echo bot's HTTP client")
    args = parser.parse_args()
    work = run_echo(args.backend) if args.bot == "echo" else run_lotse(args.webhook_port, args.webhook_url)
    if args.profile:
        from bench.profiling import run_profiled

        run_profiled(lambda: asyncio.run(work), Path(args.profile), reset=signal.SIGUSR1)
    else:
        asyncio.run(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
