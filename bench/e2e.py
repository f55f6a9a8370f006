"""End-to-end benchmark: the full Lotse bot vs a minimal echo bot against the same fake Bot API. Prints figures.

    .venv/bin/python bench/e2e.py [--users 50] [--messages 10] [--skip-limited]

The fake Bot API (tests/e2e/fake_telegram.py) runs in its own process on 127.0.0.1, as Telegram runs on its own
machines. Each of ``--users`` onboarded people sends ``--messages`` questions from the shared dev set, all pushed
at once into the server's update queue; the bot polls them, decides, reads and writes its SQLite database and
replies. Measured: updates per second (from the push to the last reply arriving at the server) and the latency
from push to reply (p50/p99). The echo bot is python-telegram-bot with one MessageHandler that sends the text
back, with the same update concurrency; both run once without and once with the rate limiter (Telegram's 30
messages per second), so the ratio shows Lotse's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.core.conversation import Conversation  # noqa: E402
from bot.core.dialogue import Dialogue  # noqa: E402
from bot.core.evaluate import load_items  # noqa: E402
from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.matcher import build_index  # noqa: E402
from bot.core.replies import Profile  # noqa: E402
from bot.storage.engine import make_engine, migrate  # noqa: E402
from bot.storage.stores import SqlStores  # noqa: E402
from bot.telegram.app import TelegramSettings, build_application  # noqa: E402
from bot.telegram.ordering import PerChatUpdateProcessor  # noqa: E402
from bot.telegram.services import Services  # noqa: E402

TOKEN = "123456789:AAEhBP0av28xjVQCyYb0Ffq_Kd8aX1JQnOo"


class RemoteServer:
    """The fake Bot API in a child process, driven through its control API."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.fake_telegram"], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    def update(self, user_id: int, text: str) -> dict[str, Any]:
        who = {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "de"}
        message = {"message_id": next(self._ids), "date": int(time.time()), "text": text, "from": who,
                   "chat": {"id": user_id, "type": "private", "first_name": "A"}}  # fmt: skip
        return {"message": message}

    async def push(self, http: aiohttp.ClientSession, updates: list[dict[str, Any]]) -> None:
        async with http.post(f"{self.base}/_control/push", json={"updates": updates}) as resp:
            resp.raise_for_status()

    async def sent(self, http: aiohttp.ClientSession) -> list[dict[str, Any]]:
        async with http.get(f"{self.base}/_control/sent") as resp:
            body: dict[str, Any] = await resp.json()
            sent: list[dict[str, Any]] = body["sent"]
            return sent


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text, do_quote=False)


def echo_application(base: str, rate_limit: bool) -> Any:
    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if rate_limit:
        builder.rate_limiter(AIORateLimiter(max_retries=5))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


async def measure(
    app: Any, server: RemoteServer, user_ids: list[int], texts: list[str], per_user: int
) -> dict[str, float]:
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    updates, pushed = [], {uid: [] for uid in user_ids}  # type: ignore[var-annotated]
    for round_ in range(per_user):
        for index, uid in enumerate(user_ids):
            updates.append(server.update(uid, texts[(index * per_user + round_) % len(texts)]))
    expected = len(updates)
    async with aiohttp.ClientSession() as http:
        start = time.time()
        for uid in user_ids:
            pushed[uid] = [start] * per_user
        await server.push(http, updates)
        while True:
            sent = await server.sent(http)
            if len(sent) >= expected:
                break
            await asyncio.sleep(0.02)
    finished = max(s["received_at"] for s in sent)
    latencies: list[float] = []
    by_chat: dict[int, list[float]] = {}
    for s in sent:
        by_chat.setdefault(s["chat_id"], []).append(s["received_at"])
    for uid, times in by_chat.items():
        latencies += [(r - p) * 1000 for p, r in zip(pushed[uid], times, strict=False)]
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    ordered = sorted(latencies)
    return {
        "updates_per_s": expected / (finished - start),
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
    }


async def compare(
    args: argparse.Namespace, conversation: Conversation, texts: list[str], langs: list[str], limit: bool
) -> float:
    server = RemoteServer()
    try:
        echo = await measure(echo_application(server.base, limit), server, [10_000 + i for i in range(args.users)],
                             texts, args.messages)  # fmt: skip
    finally:
        server.close()
    server = RemoteServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            migrate(engine)
            stores = SqlStores(engine, burst=1000.0)  # the benchmark measures throughput, not the flood guard
            user_ids = [20_000 + i for i in range(args.users)]
            for uid in user_ids:
                await stores.save(Profile(uid, lang=langs[uid % len(langs)], city="koeln", step="ready"))
            settings = TelegramSettings(TOKEN, f"{server.base}/bot", f"{server.base}/file/bot", rate_limit=limit)
            app = build_application(settings, Services(conversation, stores, stores, stores))
            lotse = await measure(app, server, user_ids, texts, args.messages)
            engine.dispose()
    finally:
        server.close()
    label = "with Telegram's rate limits (30 messages/s overall)" if limit else "without rate limiter"
    print(f"\n{label}:")
    print(f"{'bot':<10}{'updates/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for name, figures in (("echo", echo), ("lotse", lotse)):
        print(f"{name:<10}{figures['updates_per_s']:>12.1f}{figures['p50_ms']:>10.1f}{figures['p99_ms']:>10.1f}")
    ratio = lotse["updates_per_s"] / echo["updates_per_s"]
    print(f"throughput ratio lotse/echo: {ratio:.2f}")
    return ratio


async def main_async(args: argparse.Namespace) -> None:
    knowledge = load_knowledge(ROOT / "knowledge")
    conversation = Conversation(Dialogue(knowledge, build_index(knowledge)))
    conversation.warm_up()  # as `python -m bot run` does before serving
    items = load_items(Path(args.dev))
    texts = [i.text for i in items if i.expect not in ("emergency", "handoff")]
    langs = sorted({i.lang for i in items})
    print(f"{args.users * args.messages} questions from {args.users} users ({args.messages} each); "
          "fake Bot API in its own process on 127.0.0.1; SQLite file")  # fmt: skip
    await compare(args, conversation, texts, langs, limit=False)
    if not args.skip_limited:
        await compare(args, conversation, texts, langs, limit=True)


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
