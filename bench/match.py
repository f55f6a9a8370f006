"""Benchmark of the matcher and dialogue decision. Prints figures; asserts nothing.

    .venv/bin/python bench/match.py [--dev ../shared/eval/dev.yaml] [--passes 20] [--scale 100]

- load-and-train: the first start (reading + validating the knowledge folder, the lexical index, the classifier,
  the cross-validated combination) and a start with the trained matcher in the cache (median of 5 runs, the
  emergency detector built too);
- decision latency: every dev and emergency-dev question decided ``--passes`` times, the normalisation, stem and
  detector caches cleared before each call so that no call profits from the one before (the interface catalogs
  are compiled first, as the bot does at start); p50 / p99 / max;
- the same with a synthetic knowledge base ``--scale`` times larger (2,500 topics at 100x): copies of the real
  topics whose words are partly replaced by words from the whole vocabulary and by new invented words, so the
  vocabulary grows as a real larger knowledge base's would;
- memory: peak (tracemalloc) of load-and-train, resident set size at 1x and its growth at ``--scale``;
- ``--embeddings <backend>:<path>``: the decision latency with the semantic layer too.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import string
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import MappingProxyType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.classifier import Classifier, training_texts  # noqa: E402
from bot.core.dialogue import Dialogue  # noqa: E402
from bot.core.emergency.words import clear_caches as clear_stems  # noqa: E402
from bot.core.evaluate import load_items  # noqa: E402
from bot.core.hybrid import Hybrid, load_or_train  # noqa: E402
from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.matcher import build_index  # noqa: E402
from bot.core.model import Knowledge, Topic, Translation  # noqa: E402
from bot.core.normalize import clear_caches  # noqa: E402
from bot.core.semantic import load_embedder  # noqa: E402

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


def _rss_mib() -> float:
    """Current resident set size (Linux /proc), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    parser.add_argument("--embeddings", default="", help="also measure with this semantic layer (<backend>:<path>)")
    args = parser.parse_args()
    folder = Path(args.knowledge)
    cache = Path(tempfile.mkdtemp(prefix="lotse-bench-"))

    rss0 = _rss_mib()
    start = time.perf_counter()
    knowledge = load_knowledge(folder)
    hybrid = load_or_train(knowledge, cache_dir=cache)
    cold = time.perf_counter() - start
    print(
        f"knowledge: {len(knowledge.topics)} topics, {len(knowledge.languages)} languages, "
        f"{hybrid.index.vocabulary_size()} indexed tokens, classifier {dict(hybrid.classifier.size())}"
    )
    print(f"load-and-train, first start (cross-validation, no cache): {cold:.1f} s")
    loads = []
    for _ in range(5):
        clear_caches()
        clear_stems()
        gc.collect()
        start = time.perf_counter()
        knowledge = load_knowledge(folder)
        hybrid = load_or_train(knowledge, cache_dir=cache)
        dialogue = Dialogue(knowledge, hybrid.index, hybrid=hybrid)
        loads.append(time.perf_counter() - start)
    print(
        f"load-and-train (1x, trained matcher from the cache, emergency detector built): "
        f"median {statistics.median(loads) * 1000:.0f} ms, min {min(loads) * 1000:.0f} ms"
    )

    clear_caches()
    tracemalloc.start()
    k = load_knowledge(folder)
    Dialogue(k, load_or_train(k, cache_dir=cache).index)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory (1x): peak of load-and-train {peak / 2**20:.1f} MiB (tracemalloc); process RSS {_rss_mib():.0f} MiB")

    items = load_items(Path(args.dev)) + (load_items(Path(args.emergency_dev)) if args.emergency_dev else [])
    questions = [(i.text, i.lang, i.city) for i in items]
    for code in knowledge.languages:  # the bot compiles every interface catalog at start (Conversation.warm_up)
        dialogue.t(code)
    gc.freeze()  # as the bot does after start: the knowledge is never collected
    report("decision latency (1x)", latency(dialogue, questions, args.passes))
    if args.embeddings:
        embedder = load_embedder(args.embeddings)
        with_layer = load_or_train(knowledge, cache_dir=cache, embedder=embedder)
        semantic = Dialogue(knowledge, with_layer.index, hybrid=with_layer)
        report("decision latency (1x, semantic layer)", latency(semantic, questions, args.passes))

    big = synthetic(knowledge, args.scale)
    clear_caches()
    gc.collect()
    before = _rss_mib()
    start = time.perf_counter()
    big_index = build_index(big)
    index_time = time.perf_counter() - start
    start = time.perf_counter()
    big_classifier = Classifier.fit(training_texts(big))
    fit_time = time.perf_counter() - start
    # The combination of 1x is reused: cross-validation repeats index and classifier once per fold (x4 the time).
    big_hybrid = Hybrid(big_index, big_classifier, hybrid.combiner)
    print(
        f"synthetic {args.scale}x: {len(big.topics)} topics, {big_index.vocabulary_size()} indexed tokens, "
        f"classifier {dict(big_classifier.size())}; index built in {index_time:.1f} s, classifier trained in "
        f"{fit_time:.1f} s; memory +{_rss_mib() - before:.0f} MiB RSS"
    )
    big_dialogue = Dialogue(big, big_index, hybrid=big_hybrid)
    report(f"decision latency ({args.scale}x)", latency(big_dialogue, questions, max(1, args.passes // 4)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max resident set size of this process (incl. {args.scale}x): {rss:.0f} MiB (at start {rss0:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
