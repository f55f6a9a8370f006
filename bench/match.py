"""Benchmark of the matcher and dialogue decision. Prints figures; asserts nothing.

    .venv/bin/python bench/match.py [--dev ../shared/eval/dev.yaml] [--passes 20] [--scale 100]

- load-and-index: reading + validating the knowledge folder, building the index and the emergency detector
  (median of 5 runs);
- decision latency: every dev and emergency-dev question decided ``--passes`` times, the normalisation, stem and
  detector caches cleared before each call so that no call profits from the one before (the interface catalogs
  are compiled first, as the bot does at start); p50 / p99 / max;
- the same with a synthetic knowledge base ``--scale`` times larger (2,500 topics at 100x): copies of the real
  topics whose words are partly replaced by words from the whole vocabulary and by new invented words, so the
  vocabulary grows as a real larger knowledge base's would;
- peak memory (tracemalloc) of load-and-index, and the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import string
import sys
import time
import tracemalloc
from pathlib import Path
from types import MappingProxyType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.dialogue import Dialogue  # noqa: E402
from bot.core.emergency.words import clear_caches as clear_stems  # noqa: E402
from bot.core.evaluate import load_items  # noqa: E402
from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.matcher import build_index  # noqa: E402
from bot.core.model import Knowledge, Topic, Translation  # noqa: E402
from bot.core.normalize import clear_caches  # noqa: E402

ALPHABETS = {
    "latin": string.ascii_lowercase,
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "cyrillic": "абвгдежзиклмнопрстуфхцчшщыэюя",
    "ethiopic": "ሀለሐመሰረቀበተኘአከወዘየደገጠጰጸፈፐ",
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _script(word: str) -> str:
    for name, letters in ALPHABETS.items():
        if any(ch in letters for ch in word):
            return name
    return "latin"


def synthetic(knowledge: Knowledge, scale: int, seed: int = 7) -> Knowledge:
    """A knowledge base ``scale`` times larger, built from perturbed copies of the real topics."""
    rng = random.Random(seed)
    vocabulary = sorted(
        {
            w
            for t in knowledge.topics.values()
            for tr in t.translations.values()
            for text in (*tr.examples, *tr.keywords)
            for w in text.split()
        }
    )

    def invent(like: str) -> str:
        letters = ALPHABETS[_script(like)]
        return "".join(rng.choice(letters) for _ in range(rng.randint(4, 10)))

    def perturb(text: str) -> str:
        words = text.split()
        out = []
        for w in words:
            r = rng.random()
            out.append(w if r < 0.5 else rng.choice(vocabulary) if r < 0.8 else invent(w))
        return " ".join(out)

    topics: dict[str, Topic] = {}
    base = list(knowledge.topics.values())
    for i in range(len(base) * scale):
        original = base[i % len(base)]
        if i < len(base):
            topics[original.id] = original
            continue
        new_id = f"{original.id}-syn{i}"
        translations = {
            lang: Translation.model_construct(
                title=perturb(tr.title),
                answer=tr.answer,
                examples=tuple(perturb(e) for e in tr.examples),
                keywords=tuple(perturb(k) for k in tr.keywords),
                triggers=(),
                reviewed=False,
                revision=1,
            )
            for lang, tr in original.translations.items()
        }
        topics[new_id] = original.model_copy(update={"id": new_id, "translations": MappingProxyType(translations)})
    return Knowledge(
        languages=knowledge.languages,
        topics=MappingProxyType(topics),
        cities=knowledge.cities,
        handoff=knowledge.handoff,
    )


def latency(dialogue: Dialogue, questions: list[tuple[str, str, str | None]], passes: int) -> list[float]:
    times: list[float] = []
    for _ in range(passes):
        for text, lang, city in questions:
            clear_caches()
            clear_stems()
            if dialogue.detector is not None:
                dialogue.detector.clear_cache()
            start = time.perf_counter_ns()
            dialogue.decide(text, lang, city)
            times.append((time.perf_counter_ns() - start) / 1e6)
    return times


def report(label: str, times: list[float]) -> None:
    print(
        f"{label:<34} n={len(times):<6} p50={statistics.median(times):.3f} ms  "
        f"p99={_percentile(times, 0.99):.3f} ms  max={max(times):.3f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "eval" / "dev.yaml"))
    parser.add_argument(
        "--emergency-dev",
        default=str(ROOT.parent / "shared" / "eval" / "emergency-dev.yaml"),
        help="also decide these (long) messages; '' for the development questions only",
    )
    parser.add_argument("--knowledge", default=str(ROOT / "knowledge"))
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--scale", type=int, default=100)
    args = parser.parse_args()
    folder = Path(args.knowledge)

    loads = []
    for _ in range(5):
        clear_caches()
        clear_stems()
        gc.collect()
        start = time.perf_counter()
        knowledge = load_knowledge(folder)
        index = build_index(knowledge)
        dialogue = Dialogue(knowledge, index)
        loads.append(time.perf_counter() - start)
    print(
        f"knowledge: {len(knowledge.topics)} topics, {len(knowledge.languages)} languages, "
        f"{index.vocabulary_size()} indexed tokens"
    )
    print(f"load-and-index (1x): median {statistics.median(loads) * 1000:.0f} ms, min {min(loads) * 1000:.0f} ms")

    clear_caches()
    tracemalloc.start()
    k = load_knowledge(folder)
    build_index(k)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory of load-and-index (1x, tracemalloc): {peak / 2**20:.1f} MiB")

    items = load_items(Path(args.dev)) + (load_items(Path(args.emergency_dev)) if args.emergency_dev else [])
    questions = [(i.text, i.lang, i.city) for i in items]
    for code in knowledge.languages:  # the bot compiles every interface catalog at start (Conversation.warm_up)
        dialogue.t(code)
    report("decision latency (1x)", latency(dialogue, questions, args.passes))

    big = synthetic(knowledge, args.scale)
    clear_caches()
    gc.collect()
    start = time.perf_counter()
    big_index = build_index(big)
    build_time = time.perf_counter() - start
    print(
        f"synthetic {args.scale}x: {len(big.topics)} topics, {big_index.vocabulary_size()} indexed tokens, "
        f"index built in {build_time:.1f} s"
    )
    report(f"decision latency ({args.scale}x)", latency(Dialogue(big, big_index), questions, max(1, args.passes // 4)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max resident set size of this process (incl. {args.scale}x): {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
