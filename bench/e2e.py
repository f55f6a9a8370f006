"""End-to-end benchmark: the full Lotse bot vs a minimal echo bot, same fake Bot API, same run. Prints figures.

    .venv/bin/python bench/e2e.py [--users 50] [--messages 10]

Each of ``--users`` onboarded people sends ``--messages`` questions from the shared dev set at once (all pushed into
the fake server's update queue); the bot polls them, decides, reads and writes its SQLite database and replies.
Measured: updates per second (first push to last reply) and the latency from push to reply (p50/p99). The echo bot
is python-telegram-bot with one MessageHandler that sends the text back, with the same rate limiter and the same
update concurrency, so the ratio shows Lotse's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.core.conversation import Conversation, Profile  # noqa: E402
from bot.core.dialogue import Dialogue  # noqa: E402
from bot.core.evaluate import load_items  # noqa: E402
from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.matcher import build_index  # noqa: E402
from bot.storage.engine import make_engine, migrate  # noqa: E402
from bot.storage.stores import SqlStores  # noqa: E402
from bot.telegram.app import TelegramSettings, build_application  # noqa: E402
from bot.telegram.ordering import PerChatUpdateProcessor  # noqa: E402
from bot.telegram.services import Services  # noqa: E402
from tests.e2e.fake_telegram import FakeTelegram, FakeUser  # noqa: E402


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text, do_quote=False)


def echo_application(server: FakeTelegram, rate_limit: bool) -> Any:
    builder = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


async def run(
    app: Any, server: FakeTelegram, users: list[FakeUser], texts: list[str], per_user: int
) -> dict[str, float]:
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    pushed: dict[int, list[float]] = {u.id: [] for u in users}
    start = time.perf_counter()
    for round_ in range(per_user):
        for index, user in enumerate(users):
            pushed[user.id].append(time.perf_counter())
            user.push_text(texts[(index * per_user + round_) % len(texts)])
    expected = len(users) * per_user
    while len(server.sent) < expected:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    latencies: list[float] = []
    for user in users:
        replies = server.to(user.id)
        received = [s.received for s in replies]
        latencies += [(r - p) * 1000 for p, r in zip(pushed[user.id], received, strict=False)]
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    ordered = sorted(latencies)
    return {
        "updates_per_s": expected / elapsed,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "seconds": elapsed,
    }


async def compare(
    args: argparse.Namespace, dialogue: Dialogue, texts: list[str], langs: list[str], limit: bool
) -> None:
    echo_server = FakeTelegram()
    await echo_server.start()
    echo_users = [FakeUser(echo_server, 10_000 + i) for i in range(args.users)]
    echo = await run(echo_application(echo_server, limit), echo_server, echo_users, texts, args.messages)
    await echo_server.stop()

    server = FakeTelegram()
    await server.start()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(engine)
        stores = SqlStores(engine, burst=1000.0)  # the benchmark measures throughput, not the flood guard
        users = [FakeUser(server, 20_000 + i, language_code="de") for i in range(args.users)]
        for user in users:
            await stores.save(Profile(user.id, lang=langs[user.id % len(langs)], city="koeln", step="ready"))
        settings = TelegramSettings(server.token, server.base_url, server.base_file_url, rate_limit=limit)
        app = build_application(settings, Services(Conversation(dialogue), stores, stores, stores))
        lotse = await run(app, server, users, texts, args.messages)
        engine.dispose()
    await server.stop()

    label = "with Telegram's rate limits (30 messages/s)" if limit else "without rate limiter"
    print(f"\n{label}:")
    print(f"{'bot':<10}{'updates/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for name, figures in (("echo", echo), ("lotse", lotse)):
        print(f"{name:<10}{figures['updates_per_s']:>12.1f}{figures['p50_ms']:>10.1f}{figures['p99_ms']:>10.1f}")
    print(f"throughput ratio lotse/echo: {lotse['updates_per_s'] / echo['updates_per_s']:.2f}")


async def main_async(args: argparse.Namespace) -> None:
    knowledge = load_knowledge(ROOT / "knowledge")
    dialogue = Dialogue(knowledge, build_index(knowledge))
    Conversation(dialogue).warm_up()  # as `python -m bot run` does before serving
    items = load_items(Path(args.dev))
    texts = [i.text for i in items if i.expect not in ("emergency", "handoff")]
    langs = sorted({i.lang for i in items})
    n = args.users * args.messages
    print(f"{n} questions from {args.users} users ({args.messages} each), fake Bot API on 127.0.0.1, SQLite file")
    await compare(args, dialogue, texts, langs, limit=False)
    if not args.skip_limited:
        await compare(args, dialogue, texts, langs, limit=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "eval" / "dev.yaml"))
    parser.add_argument("--skip-limited", action="store_true", help="skip the run with the rate limiter")
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
