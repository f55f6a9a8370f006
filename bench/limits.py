"""Lotse's measured limits against a minimal echo bot on the same fake Bot API, in the same run. Prints a table.

    .venv/bin/python bench/limits.py [--quick] [--only throughput,startup,outbox,profile] [--people 60 --per 8]

Every bot runs in its own process (bench/instance.py: Lotse assembled by bot.wiring with the rate limiter off and
handoff to one staff group, as in production; or the echo bot), the fake Bot API in its own (bench/fakeapi.py).

- throughput: N onboarded people each send M questions from ../shared/eval/dev.yaml (not emergencies) at once;
  sustained updates/s (push to the last reply) and p50/p99 push-to-reply latency. Rows: the echo bot on
  python-telegram-bot's default HTTP client ("x echo") and on Lotse's ("x echo, same client"); Lotse on SQLite;
  Lotse on PostgreSQL (a database created and dropped here), polling, and 1 and 2 instances serving webhooks;
  memory per instance (RSS after warm-up, after the run); how busy the whole machine was.
- startup: process start to the first answer (a question waiting when the process starts) at 1x knowledge with a
  warm matcher cache, and at 100x knowledge (first start trains and caches, the restart must read the cache).
- outbox: people ask for a person at once; their cards go to one staff group and to three; the messages per
  group in any window of LOTSE_GROUP_RATE must stay within its limit.
- profile: one Lotse instance under the throughput load with cProfile (every thread); the top costs per update
  by area (bench/profiling.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import CITY, Workload, calibrate, calibration_people, measure, workload  # noqa: E402
from bench.procs import (  # noqa: E402
    TOKEN,
    Api,
    Instance,
    big_knowledge,
    bot_env,
    busy_share,
    centres_file,
    cpu_seconds,
    database,
    machine_busy,
    onboard,
)
from bench.profiling import report as report_profile  # noqa: E402
from bot.telegram.app import webhook_secret  # noqa: E402
from tests.e2e.fake_telegram import free_port  # noqa: E402

GROUP = -1001000000077
Row = dict[str, Any]
Replies = dict[tuple[str, str], int] | None


async def _started(api: Api, instance: Instance, timeout: float = 120) -> None:
    """Until the bot polls (or registered its webhook)."""

    def ready(state: dict[str, Any]) -> bool:
        instance.check()
        return bool(state["calls"].get("getUpdates", 0) > polls or state["webhook"])

    polls = (await api.get("/state"))["calls"].get("getUpdates", 0)
    await api.until(ready, timeout, "the bot did not start")


async def echo_row(load: Workload, work: Path, backend: str) -> Row:
    api = Api()
    try:
        echo = Instance("echo", bot_env(api, "sqlite://", work), work, "--backend", backend)
        await _started(api, echo)
        await api.post("/texts", {"items": [[CALIBRATION_ECHO, "de", "warm-up"]]})
        await api.idle()
        rss = echo.status("VmRSS")
        cpu, busy = (cpu_seconds(echo.proc.pid), cpu_seconds(api.proc.pid)), machine_busy()
        figures = await measure(api, load, None)
        figures["machine"] = busy_share(busy, machine_busy())
        figures["cpu_ms"] = (cpu_seconds(echo.proc.pid) - cpu[0]) / load.updates * 1000
        figures["api_cpu_ms"] = (cpu_seconds(api.proc.pid) - cpu[1]) / load.updates * 1000
        name = {"httpx": ECHO_DEFAULT, "aiohttp": ECHO}[backend]
        row = {"row": name, **figures, "rss_warm": rss, "rss_after": echo.status("VmRSS")}
        echo.stop()
        return row
    finally:
        await api.close()


async def lotse_row(
    load: Workload, work: Path, cache: Path, kind: str, replies: Replies, *options: str, instances: int = 0
) -> tuple[Row, Replies]:
    """Lotse with handoff to one staff group, on a fresh database of ``kind``: one instance polling
    (``instances`` 0), or ``instances`` instances serving webhooks, the fake Bot API delivering round-robin."""
    texts = load.texts()
    api = Api()
    bots: list[Instance] = []
    try:
        await api.post("/setup", {"forums": [GROUP]})
        with database(kind, work) as url:
            await onboard(url, [(uid, lang, CITY) for uid, lang in load.people] + calibration_people(texts))
            centres = str(centres_file(work, {GROUP: ["*"]}))
            env = bot_env(api, url, work, LOTSE_CENTRES=centres, LOTSE_CACHE_DIR=str(cache))
            if instances == 0:
                bots.append(Instance("lotse", env, work, *options))
                await _started(api, bots[0])
                mode = "1 instance"
            else:
                hooks = [f"http://127.0.0.1:{free_port()}/hook" for _ in range(instances)]
                for hook in hooks:
                    port = hook.split(":")[2].split("/")[0]
                    bots.append(Instance("lotse", env, work, "--webhook-port", port, "--webhook-url", hook, *options))

                def registered(state: dict[str, Any]) -> bool:
                    for bot in bots:
                        bot.check()
                    return bool(state["calls"].get("setWebhook", 0) >= instances)

                await api.until(registered, 120, "the webhooks were not registered")
                await api.post("/deliver", {"targets": hooks, "secret": webhook_secret(TOKEN), "connections": 40})
                mode = f"{instances} instance{'s' * (instances > 1)}, webhook"
            counted = await calibrate(api, texts)  # also the warm-up
            if replies and counted != replies:
                print(f"note: {kind}: messages per question differ from the first calibration", file=sys.stderr)
            rss = max(bot.status("VmRSS") for bot in bots)
            for bot in bots if "--profile" in options else ():
                bot.proc.send_signal(signal.SIGUSR1)  # the profile covers the measured load only
            cpu, busy = (sum(cpu_seconds(b.proc.pid) for b in bots), cpu_seconds(api.proc.pid)), machine_busy()
            figures = await measure(api, load, replies or counted)
            figures["machine"] = busy_share(busy, machine_busy())
            figures["cpu_ms"] = (sum(cpu_seconds(b.proc.pid) for b in bots) - cpu[0]) / load.updates * 1000
            figures["api_cpu_ms"] = (cpu_seconds(api.proc.pid) - cpu[1]) / load.updates * 1000
            row = {"row": f"Lotse, {kind_name(kind)} + handoff, {mode}", **figures, "rss_warm": rss,
                   "rss_after": max(bot.status("VmRSS") for bot in bots)}  # fmt: skip
            return row, replies or counted
    finally:
        for bot in bots:
            bot.stop()
        await api.close()


async def throughput(args: argparse.Namespace, work: Path) -> list[Row]:
    load = workload(args.dev, args.people, args.per, 10_000)
    cache = args.cache or work / "cache"
    await train(cache)  # every Lotse instance below reads the trained matcher, as after a deployment
    rows = [await echo_row(load, work, "aiohttp"), await echo_row(load, work, "httpx")]
    replies: Replies = None
    for kind in args.kinds:
        row, replies = await lotse_row(load, work, cache, kind, replies)
        rows.append(row)
    if "postgresql" in args.kinds and args.webhook:
        for instances in (1, 2):
            row, replies = await lotse_row(load, work, cache, "postgresql", replies, instances=instances)
            rows.append(row)
    return rows


async def profile(args: argparse.Namespace, work: Path) -> list[Row]:
    """The SQLite instance under the throughput load, profiled; the report is printed at the end."""
    load = workload(args.dev, args.people, args.per, 10_000)
    out = args.profile_out or work / "lotse.prof"
    row, _ = await lotse_row(load, work, args.cache or work / "cache", "sqlite", None, "--profile", str(out))
    deadline = time.monotonic() + 60
    while not out.exists() and time.monotonic() < deadline:  # written when the process ends (after stop)
        await asyncio.sleep(0.1)
    row["report"] = report_profile(out, load.updates)
    return [row]


CALIBRATION_ECHO = 999_999
ECHO = "echo bot (Lotse's HTTP client)"  # the baseline of "x echo, same client"
ECHO_DEFAULT = "echo bot (python-telegram-bot's default HTTP client)"  # the baseline of "x echo" (issue 16)


async def train(cache: Path) -> None:
    """The matcher for the knowledge folder trained into ``cache`` (nothing to do when it is there)."""
    code = "from bot.config import load_config; from bot.wiring import load_dialogue; load_dialogue(load_config())"
    env = {k: v for k, v in os.environ.items() if k != "KNOWLEDGE_DIR"} | {"LOTSE_CACHE_DIR": str(cache)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, cwd=ROOT, env=env)
    if await proc.wait() != 0:
        raise RuntimeError("training the matcher failed")


def kind_name(kind: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]


async def first_answer(api: Api, env: dict[str, str], work: Path, uid: int, timeout: float) -> Row:
    """Start a process with a question already waiting; seconds to its answer, peak RSS, trained or not."""
    base = (await api.get("/state"))["sent"]
    bot = Instance("lotse", env, work)
    await api.post("/texts", {"items": [[uid, "de", "Wo finde ich einen Arzt?"]]})
    try:

        def answered(state: dict[str, Any]) -> bool:
            bot.check()
            return bool(state["sent"] > base)

        await api.until(answered, timeout, "no first answer")
        first = (await api.get(f"/sent?since={base}"))["sent"][0]["received_at"]
        return {"seconds": first - bot.started, "peak_mb": bot.status("VmHWM"), "trained": bot.trained()}
    finally:
        bot.stop()
        await api.idle()


async def startup(args: argparse.Namespace, work: Path) -> list[Row]:
    rows: list[Row] = []
    api = Api()
    try:
        await api.post("/setup", {"forums": [GROUP]})
        big = big_knowledge(work / "knowledge-big", args.times)
        checked = time.monotonic()
        check = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "check", str(big), "--errors-only",
                                                     cwd=ROOT, stdout=asyncio.subprocess.PIPE)  # fmt: skip
        out, _ = await check.communicate()
        print(f"python -m bot check <{args.times}x knowledge>: exit {check.returncode} in "
              f"{time.monotonic() - checked:.1f} s: {out.decode().strip().splitlines()[-1]}")  # fmt: skip
        if check.returncode != 0:
            raise SystemExit(f"the {args.times}x knowledge does not pass the check")
        with database("sqlite", work) as url:
            await onboard(url, [(500 + i, "de", CITY) for i in range(8)])
            centres = str(centres_file(work, {GROUP: ["*"]}))
            keep = args.startup_cache or work
            for label, knowledge, cache in (("1x", ROOT / "knowledge", keep / "cache-1x"),
                                            (f"{args.times}x", big, keep / f"cache-{args.times}x")):  # fmt: skip
                env = bot_env(api, url, work, LOTSE_CENTRES=centres, KNOWLEDGE_DIR=str(knowledge),
                              LOTSE_CACHE_DIR=str(cache))  # fmt: skip
                for start in ("first start", "restart"):
                    figures = await first_answer(api, env, work, 500 + len(rows), args.start_timeout)
                    rows.append({"row": f"{label} knowledge, {start}", **figures})
    finally:
        await api.close()
    return rows


async def outbox(args: argparse.Namespace, work: Path) -> list[Row]:
    """People ask for a person at once; cards to one staff group (koeln) and to three more (dortmund, moers,
    muenster) at the same time; per group the most messages in any window and the rate."""
    limit, window = args.group_rate
    groups = {GROUP - i: [city] for i, city in enumerate(["koeln", "dortmund", "moers", "muenster"])}
    people = [(20_000 + i, "de", cities[0]) for i, (g, cities) in enumerate(
        (g, c) for g, c in groups.items() for _ in range(args.cards))]  # fmt: skip
    api = Api()
    rows: list[Row] = []
    try:
        await api.post("/setup", {"forums": list(groups)})
        with database("sqlite", work) as url:
            await onboard(url, people)
            rate, cache = f"{limit}/{window:g}", str(args.cache or work / "cache")
            env = bot_env(api, url, work, LOTSE_CENTRES=str(centres_file(work, groups)), LOTSE_GROUP_RATE=rate,
                          LOTSE_CACHE_DIR=cache)  # fmt: skip
            bot = Instance("lotse", env, work)
            await _started(api, bot)
            base = (await api.get("/state"))["sent"]
            question = "Ich brauche Hilfe mit einem Brief vom Amt, Nummer"
            asked = await api.post("/handoff", {"users": [[u, lang] for u, lang, _ in people], "question": question})
            start = asked["first"]
            total = len(people)

            async def to_groups() -> list[Row]:
                sent = (await api.get(f"/sent?since={base}"))["sent"]
                return [s for s in sent if s["chat_id"] < 0]

            deadline = time.monotonic() + args.cards * window / limit * 2 + 120
            while len({(s["chat_id"], s["thread_id"]) for s in await to_groups()}) < total:
                bot.check()
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            await api.idle()
            sent = await to_groups()
            service = (await api.get("/service"))["service"]
            bot.stop()
    finally:
        await api.close()
    for group in groups:
        cards = sorted(s["received_at"] for s in sent if s["chat_id"] == group)
        times = sorted(cards + [t for g, t in service if g == group])  # topic creations count towards the limit
        most = max((sum(1 for t in times if u <= t < u + window) for u in times), default=0)
        span = (times[-1] - start) if times else float("nan")
        rows.append({"row": f"group {list(groups).index(group) + 1} of 4", "cards": args.cards,
                     "messages": len(cards), "topics": len(times) - len(cards), "max_in_window": most,
                     "limit": f"{limit}/{window:g} s", "seconds": span,
                     "per_min": len(times) / span * 60 if times else 0.0})  # fmt: skip
    return rows


def table(title: str, rows: list[Row], columns: list[tuple[str, str, str]]) -> str:
    """A Markdown table: columns are (key, heading, format)."""
    lines = [f"\n**{title}**\n", "| " + " | ".join(h for _, h, _ in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]  # fmt: skip
    for row in rows:
        cells = [format(row[k], f) if k in row and f else str(row.get(k, "")) for k, _, f in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(found: dict[str, list[Row]]) -> str:
    parts = [f"Machine: {os.cpu_count()} cores ({os.sched_getaffinity(0).__len__()} usable), Python "
             f"{platform.python_version()}, {platform.system()} {platform.release()}"]  # fmt: skip
    if "throughput" in found:
        rows = found["throughput"]
        # two baselines: the echo bot as python-telegram-bot makes it, and on the HTTP client Lotse uses
        echo = next(r["updates_per_s"] for r in rows if r["row"] == ECHO_DEFAULT)
        same = next(r["updates_per_s"] for r in rows if r["row"] == ECHO)
        one = next((r["updates_per_s"] for r in rows if r["row"].endswith("1 instance, webhook")), None)
        for row in rows:
            row["vs_echo"] = row["updates_per_s"] / echo
            row["vs_same"] = row["updates_per_s"] / same
            if one and "2 instances" in row["row"]:
                row["vs_one"] = row["updates_per_s"] / one
        parts.append(table("Throughput (rate limiter off)", rows, [
            ("row", "bot", ""), ("updates", "updates", "d"), ("updates_per_s", "updates/s", ".1f"),
            ("vs_echo", "x echo", ".2f"), ("vs_same", "x echo, same client", ".2f"), ("vs_one", "x 1 instance", ".2f"),
            ("p50_ms", "p50 ms", ".0f"), ("p99_ms", "p99 ms", ".0f"), ("cpu_ms", "bot CPU ms/update", ".1f"),
            ("api_cpu_ms", "fake API CPU ms/update", ".1f"), ("machine", "machine CPU busy", ".0%"),
            ("rss_warm", "RSS warm MB", ".0f"), ("rss_after", "RSS after MB", ".0f"),
            ("odd_people", "odd", "d")]))  # fmt: skip
    if "startup" in found:
        parts.append(table("Start-up: process start to first answer", found["startup"], [
            ("row", "knowledge, start", ""), ("seconds", "seconds", ".2f"), ("peak_mb", "peak RSS MB", ".0f"),
            ("trained", "trained the matcher", "")]))  # fmt: skip
    if "outbox" in found:
        parts.append(table("Outbox: handoff cards with the per-group limit", found["outbox"], [
            ("row", "staff group", ""), ("cards", "cards", ""), ("messages", "messages", ""), ("topics", "topics", ""),
            ("limit", "limit", ""), ("max_in_window", "most in any window", ""), ("seconds", "seconds", ".0f"),
            ("per_min", "sent per minute", ".1f")]))  # fmt: skip
    if "profile" in found:
        parts.append(found["profile"][0]["report"])
    return "\n".join(parts)


async def main_async(args: argparse.Namespace) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory(prefix="lotse-limits-") as tmp:
        work = Path(tmp)
        for part in args.only:
            started = time.monotonic()
            found[part] = await {"throughput": throughput, "startup": startup, "outbox": outbox, "profile": profile}[
                part
            ](args, work)
            print(f"{part}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return found


def rate(text: str) -> tuple[int, float]:
    count, _, seconds = text.partition("/")
    return int(count), float(seconds)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    parser.add_argument("--only", default="throughput,startup,outbox", help="comma-separated parts")
    parser.add_argument("--people", type=int, help="people sending questions (default 60, quick 24)")
    parser.add_argument("--per", type=int, help="questions per person, at most 8: the flood gate's burst")
    parser.add_argument("--times", type=int, help="knowledge size for the start-up (default 100, quick 10)")
    parser.add_argument("--cards", type=int, help="handoff cards per staff group (default 30, quick 12)")
    parser.add_argument("--group-rate", type=rate, help="LOTSE_GROUP_RATE (default 20/60, quick 5/5)")
    parser.add_argument("--kinds", default="sqlite,postgresql", help="databases of the throughput rows")
    parser.add_argument("--no-webhook", dest="webhook", action="store_false", help="skip the webhook rows")
    parser.add_argument("--startup-cache", type=Path, help="keep the start-up part's matcher caches here")
    parser.add_argument("--cache", type=Path, help="a matcher cache to share (default: a fresh one per run)")
    parser.add_argument("--start-timeout", type=float, default=1800, help="seconds a start may take (training)")
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "eval" / "dev.yaml")
    parser.add_argument("--profile-out", type=Path, help="profile the SQLite instance (cProfile) into this file")
    args = parser.parse_args(argv)
    quick = args.quick
    args.people = args.people or (24 if quick else 60)
    args.per = min(args.per or (4 if quick else 8), 8)
    args.times = args.times or (10 if quick else 100)
    args.cards = args.cards or (12 if quick else 30)
    args.group_rate = args.group_rate or ((5, 5.0) if quick else (20, 60.0))
    args.only = [p for p in args.only.split(",") if p]
    args.kinds = [k for k in args.kinds.split(",") if k]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    found = asyncio.run(main_async(args))
    print(report(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
