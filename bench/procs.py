"""The processes and resources of bench/limits.py: the fake Bot API, bot instances, databases, a knowledge folder
100 times the size."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.replies import Profile  # noqa: E402
from bot.storage.engine import make_engine, migrate  # noqa: E402
from bot.storage.stores import SqlStores  # noqa: E402

TOKEN = "123456789:AAEhBP0av28xjVQCyYb0Ffq_Kd8aX1JQnOo"
# where the benchmark creates (and drops) its PostgreSQL databases: the tests' server by default
PG_ADMIN = os.environ.get("LOTSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ALL_DAY = "{" + ", ".join(f"{d}: '00:00-24:00'" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")) + "}"


class Api:
    """bench/fakeapi.py as a child process, and its control port."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fakeapi.py")], cwd=ROOT,
                                     stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        api, control = self.proc.stdout.readline().split()
        self.base = f"http://127.0.0.1:{api}"
        self.control = f"http://127.0.0.1:{control}"
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))

    async def close(self) -> None:
        await self.http.close()
        self.proc.terminate()
        self.proc.wait(10)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(self.control + path, json=body) as resp:
            resp.raise_for_status()
            answer: dict[str, Any] = await resp.json()
            return answer

    async def get(self, path: str) -> dict[str, Any]:
        async with self.http.get(self.control + path) as resp:
            resp.raise_for_status()
            answer: dict[str, Any] = await resp.json()
            return answer

    async def until(self, check: Any, timeout: float, what: str) -> dict[str, Any]:
        """Poll /state until ``check(state)``; TimeoutError naming ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            state = await self.get("/state")
            if check(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} within {timeout:.0f} s (state {state})")
            await asyncio.sleep(0.01)

    async def idle(self, timeout: float = 60) -> None:
        """Every pushed update confirmed (polling), no call in flight."""
        await self.until(lambda s: s["confirmed"] > s["pushed"] and s["in_flight"] == 0, timeout, "not idle")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """CPU time of the whole machine so far, busy and in all (/proc/stat, clock ticks of all cores)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU (all cores) that was busy between two :func:`machine_busy` readings."""
    return (after[0] - before[0]) / max(1, after[1] - before[1])


def bot_env(api: Api, db_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "TELEGRAM_", "KNOWLEDGE_"))}
    env.update({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base, "DATABASE_URL": db_url,
                "LOTSE_HTTP_PORT": "0", "LOTSE_CACHE_DIR": str(workdir / "cache")})  # fmt: skip
    env.update(extra)
    return env


class Instance:
    """bench/instance.py as a child process; its log in ``workdir``."""

    count = 0

    def __init__(self, kind: str, env: dict[str, str], workdir: Path, *args: str) -> None:
        Instance.count += 1
        self.log = workdir / f"{kind}-{Instance.count}.log"
        self.started = time.time()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "instance.py"), kind, *args],
                                         cwd=ROOT, env=env, stdout=out, stderr=out)  # fmt: skip

    def status(self, field: str) -> float:
        """VmRSS or VmHWM (peak) from /proc, in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def trained(self) -> bool:
        return "Learning the knowledge" in self.log.read_text(errors="replace")

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"bot process ended ({self.proc.returncode}); see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL database (created now, dropped at the end), migrated."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'lotse-{time.monotonic_ns()}.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    from sqlalchemy import create_engine, text

    name = f"lotse_bench_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def onboard(db_url: str, people: list[tuple[int, str, str]]) -> None:
    """Profiles of people who chose their language and city ([user id, language, city])."""
    engine = make_engine(db_url)
    stores = SqlStores(engine)
    for uid, lang, city in people:
        await stores.save(Profile(uid, lang=lang, city=city, step="ready"))
    engine.dispose()


def centres_file(workdir: Path, groups: dict[int, list[str]]) -> Path:
    """A centres file: one always-open centre per staff group, for the given cities."""
    lines = ["centres:"]
    for index, (group, cities) in enumerate(groups.items()):
        lines += [f"  - id: ki-bench-{index}", f"    name: Integrationszentrum Bench {index}",
                  f"    cities: {cities!r}", f"    chat_id: {group}", f"    hours: {ALL_DAY}"]  # fmt: skip
    path = workdir / f"centres-{len(groups)}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def big_knowledge(target: Path, times: int) -> Path:
    """The knowledge folder with every topic (but the emergency topic) ``times`` over, each copy with its own id and
    its own word in titles and examples (so that copies are distinct questions, not duplicates)."""
    source = ROOT / "knowledge"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    for folder in sorted(p for p in (source / "topics").iterdir() if p.is_dir()):
        if folder.name == "emergency":
            continue
        languages = {
            path: yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.yaml"))
            if path.name != "topic.yaml"
        }
        for copy in range(1, times):
            mark = f"x{copy:03d}"
            out = target / "topics" / f"{folder.name}-{mark}"
            out.mkdir()
            shutil.copyfile(folder / "topic.yaml", out / "topic.yaml")
            for path, t in languages.items():
                clone = dict(t, title=f"{t['title']} {mark}", examples=[f"{e} {mark}" for e in t.get("examples", [])])
                text = yaml.safe_dump(clone, allow_unicode=True, sort_keys=False)
                (out / path.name).write_text(text, encoding="utf-8")
    return target
