"""The workload of bench/limits.py: onboarded people sending questions from the shared dev set, and the figures
(sustained updates/s, push-to-reply latency) read from the fake Bot API."""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procs import Api  # noqa: E402
from bot.core.evaluate import load_items  # noqa: E402

CITY = "koeln"
CALIBRATION = 900_000  # user ids of the calibration people


@dataclass(frozen=True)
class Workload:
    """``people`` people, each sending ``per_person`` questions in their interface language."""

    people: list[tuple[int, str]]  # user id, language
    questions: dict[int, list[str]]  # user id -> the questions in order

    @property
    def updates(self) -> int:
        return sum(len(q) for q in self.questions.values())

    def texts(self) -> set[tuple[str, str]]:
        lang = dict(self.people)
        return {(lang[uid], text) for uid, qs in self.questions.items() for text in qs}


def workload(dev: Path, people: int, per_person: int, first_id: int) -> Workload:
    """People in the dev set's languages in turn; their questions from the dev set in their language (not
    emergencies, not requests for a person: those open a conversation with staff, a different flow)."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    for item in load_items(dev):
        if item.expect not in ("emergency", "handoff"):
            by_lang[item.lang].append(item.text)
    langs = sorted(by_lang)
    chosen: list[tuple[int, str]] = []
    questions: dict[int, list[str]] = {}
    for index in range(people):
        uid, lang = first_id + index, langs[index % len(langs)]
        pool = by_lang[lang]
        start = (index // len(langs)) * per_person
        chosen.append((uid, lang))
        questions[uid] = [pool[(start + k) % len(pool)] for k in range(per_person)]
    return Workload(chosen, questions)


async def push(api: Api, load: Workload) -> float:
    """Every question at once, round by round (each person's first, then each one's second, ...)."""
    lang = dict(load.people)
    items = []
    rounds = max(len(q) for q in load.questions.values())
    for k in range(rounds):
        items += [[uid, lang[uid], qs[k]] for uid, qs in load.questions.items() if k < len(qs)]
    answer = await api.post("/texts", {"items": items})
    return float(answer["pushed_at"])


async def calibrate(api: Api, texts: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How many messages Lotse answers each (language, question) with: one fresh calibration person each, all at
    once; also the instance's warm-up. (The echo bot answers every message with one.)"""
    ordered = sorted(texts)
    base = (await api.get("/state"))["sent"]
    await api.post("/texts", {"items": [[CALIBRATION + i, lang, t] for i, (lang, t) in enumerate(ordered)]})
    await api.idle()
    rows = (await api.get(f"/sent?since={base}"))["sent"]
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        counts[row["chat_id"]] += 1
    return {key: counts[CALIBRATION + i] for i, key in enumerate(ordered)}


def calibration_people(texts: set[tuple[str, str]]) -> list[tuple[int, str, str]]:
    return [(CALIBRATION + i, lang, CITY) for i, (lang, _) in enumerate(sorted(texts))]


async def measure(
    api: Api, load: Workload, replies: dict[tuple[str, str], int] | None, timeout: float = 300
) -> dict[str, Any]:
    """Push the workload, wait for every reply; figures from the push to the replies' arrival at the server.
    ``replies``: messages per question (None: one each)."""
    lang = dict(load.people)
    expected = {uid: [replies[(lang[uid], t)] if replies else 1 for t in qs] for uid, qs in load.questions.items()}
    total = sum(sum(v) for v in expected.values())
    base = (await api.get("/state"))["sent"]
    pushed_at = await push(api, load)
    await api.until(lambda s: s["sent"] - base >= total, timeout, f"not all {total} replies arrived")
    await api.idle()
    rows = (await api.get(f"/sent?since={base}"))["sent"]
    by_chat: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        by_chat[row["chat_id"]].append(row["received_at"])
    latencies: list[float] = []
    odd = 0  # people who got another number of messages than the calibration said: left out of the latencies
    for uid, counts in expected.items():
        times = sorted(by_chat.get(uid, []))
        if len(times) != sum(counts):
            odd += 1
            continue
        end = 0
        for count in counts:
            end += count
            latencies.append((times[end - 1] - pushed_at) * 1000)
    finished = max(r["received_at"] for r in rows)
    ordered = sorted(latencies)
    return {
        "updates": load.updates,
        "messages": len(rows),
        "seconds": finished - pushed_at,
        "updates_per_s": load.updates / (finished - pushed_at),
        "p50_ms": statistics.median(ordered) if ordered else float("nan"),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] if ordered else float("nan"),
        "odd_people": odd,
    }
