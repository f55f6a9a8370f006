"""cProfile over every thread of a bot process (the event loop, the SQLite thread, database worker threads), timed
in CPU seconds per thread, and the report by area that bench/limits.py prints.

    .venv/bin/python bench/profiling.py FILE --updates N      print the report of a profile bench/instance.py wrote
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

Key = tuple[str, int, str]
_profilers: list[cProfile.Profile] = []


def _hook(*_: Any) -> None:
    """The first profile event in a new thread: a CPU-time profiler for this thread replaces the hook."""
    profiler = cProfile.Profile(time.thread_time)
    _profilers.append(profiler)
    profiler.enable()


class _Snapshot:
    """A thread's statistics taken without disabling its profiler from another thread (disable() would close the
    thread's open calls, e.g. a worker blocked in its queue, with the calling thread's clock)."""

    def __init__(self, profiler: cProfile.Profile) -> None:
        profiler.snapshot_stats()
        self.stats = profiler.stats

    def create_stats(self) -> None:
        """pstats reads ``stats`` after calling this."""


def run_profiled(work: Callable[[], None], out: Path, reset: signal.Signals | None = None) -> None:
    """Run ``work`` with every thread started meanwhile profiled; write the merged statistics to ``out``. The signal
    ``reset`` drops what was counted so far (start-up and warm-up), so that the profile covers the load only."""
    threading.setprofile(_hook)
    main = cProfile.Profile(time.thread_time)
    if reset is not None:

        def clear(*_: object) -> None:
            for profiler in (main, *_profilers):
                profiler.clear()

        signal.signal(reset, clear)
    main.enable()
    try:
        work()
    finally:
        main.disable()
        threading.setprofile(None)
        stats = pstats.Stats(main)
        for profiler in list(_profilers):
            stats.add(_Snapshot(profiler))  # type: ignore[arg-type]  # pstats reads create_stats and stats
        stats.dump_stats(str(out))


AREAS: list[tuple[str, tuple[str, ...]]] = [
    (
        "database (SQLAlchemy, drivers, bot/storage)",
        (
            "sqlalchemy",
            "sqlmodel",
            "sqlite3",
            "psycopg",
            "bot/storage",
            "alembic",
            "'_sqlite3",
            "'Connection' objects",
            "pgconn",
        ),
    ),
    (
        "matching (bot/core matcher, classifier, numpy, sklearn)",
        (
            "bot/core/matcher",
            "bot/core/hybrid",
            "bot/core/classifier",
            "bot/core/normalize",
            "bot/core/semantic",
            "bot/core/match_model",
            "numpy",
            "sklearn",
            "scipy",
            "simplemma",
            "snowballstemmer",
            "re/_",
            "'re.Pattern'",
        ),
    ),
    (
        "HTTP client and PTB (httpx, httpcore, telegram)",
        ("httpx", "httpcore", "h11", "/telegram/", "anyio", "sniffio", "json", "ssl", "socket", "_ssl"),
    ),
    (
        "event loop (asyncio, selectors)",
        ("asyncio", "selectors", "select.epoll", "_asyncio", "concurrent/futures", "threading", "queue"),
    ),
    ("Lotse telegram edge (bot/telegram)", ("bot/telegram",)),
    ("Lotse core, other (bot/core)", ("bot/core", "bot/")),
]


def area(key: Key) -> str:
    text = f"{key[0]}:{key[2]}"
    for name, marks in AREAS:
        if any(mark in text for mark in marks):
            return name
    return "other (logging, dataclasses, enum, gc, ...)"


def where(key: Key) -> str:
    path, line, name = key
    if path == "~":
        return name
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line} {name}"


def report(path: Path, updates: int, top: int = 12) -> str:
    """CPU per update by area (self time), the most expensive functions, and Lotse's own by cumulative time."""
    stats = pstats.Stats(str(path))
    raw: dict[Key, tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    by_area: dict[str, float] = defaultdict(float)
    for key, value in raw.items():
        by_area[area(key)] += value[2]
    lines = [f"\n**Profile: CPU per update ({updates} updates, {total:.2f} CPU s in all threads)**\n",
             "| area | ms per update | share |", "|---|---|---|"]  # fmt: skip
    for name, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {seconds / updates * 1000:.2f} | {seconds / total:.0%} |")
    lines += ["\nTop functions by self time (ms per update):", ""]
    for key, value in sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]:
        lines.append(f"- {value[2] / updates * 1000:.2f} ms  {where(key)}  ({value[1] / updates:.1f} calls)")
    lines += ["\nLotse's functions by cumulative time (ms per update):", ""]
    ours = [(k, v) for k, v in raw.items() if "/work/main/bot/" in k[0]]
    for key, value in sorted(ours, key=lambda kv: -kv[1][3])[: top * 2]:
        lines.append(f"- {value[3] / updates * 1000:.2f} ms  {where(key)}  ({value[1] / updates:.2f} calls)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--updates", type=int, required=True)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    print(report(args.file, args.updates, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
