"""Several ``python -m bot run --webhook`` processes on one database behind a round-robin proxy (tests/e2e/rrproxy.py),
with the fake Bot API delivering updates to the proxy as Telegram does (tests/e2e/webhook_delivery.py).

Used by tests/e2e/test_instances.py. Each instance calls the fake Bot API through ``FakeTelegram.via(name)``, so the
server knows which instance made a call (``FakeTelegram.callers``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, make_url, select, text

from bot.storage.outbox import OUTBOX
from tests.e2e.crash import stop_process
from tests.e2e.fake_telegram import FakeStaff, FakeTelegram, FakeUser, free_port
from tests.e2e.rrproxy import RoundRobinProxy
from tests.storage.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "lotse"  # the trained matcher, shared with the test session (tests/conftest.py)
GROUP = -1001000000088
SECRET = "Instances_Secret-1"
HOOK = "https://lotse.test/hook"
ALWAYS = "{mon: '00:00-24:00', tue: '00:00-24:00', wed: '00:00-24:00', thu: '00:00-24:00', fri: '00:00-24:00', " \
         "sat: '00:00-24:00', sun: '00:00-24:00'}"  # fmt: skip
LEASE = 2.0  # seconds: LOTSE_OUTBOX_LEASE and LOTSE_PERSON_LEASE (a killed instance's work is free again after it)


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[str]:
    """A fresh database for one test: a SQLite file, or a PostgreSQL database created now and dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'lotse.db'}"
        return
    name = f"lotse_instances_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Instance:
    """``python -m bot run --webhook`` as a child process, serving its webhook on 127.0.0.1:``port``."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**self.env, "LOTSE_WEBHOOK_PORT": str(self.port)}
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--webhook", cwd=ROOT, env=env, stdout=out, stderr=out
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        await stop_process(self.process)


@dataclass
class Cluster:
    server: FakeTelegram
    proxy: RoundRobinProxy
    instances: list[Instance]
    db_url: str

    def user(self, user_id: int, lang: str = "de", name: str = "Amal") -> FakeUser:
        return FakeUser(self.server, user_id, first_name=name, language_code=lang)

    def staff(self, user_id: int = 9101, name: str = "Petra") -> FakeStaff:
        return FakeStaff(self.server, user_id, GROUP, first_name=name)

    def pending_deliveries(self) -> int:
        """Outbox deliveries not yet sent (by any instance, a dead one's included)."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                query = select(func.count()).where(OUTBOX.c.status == "pending")
                return int(conn.execute(query).scalar_one())
        finally:
            engine.dispose()


def environment(server: FakeTelegram, name: str, db_url: str, centres: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "TELEGRAM_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.via(name),
        "DATABASE_URL": db_url,
        "LOTSE_CENTRES": str(centres),
        "LOTSE_CACHE_DIR": str(CACHE),
        "LOTSE_GROUP_RATE": "1000/1",  # the per-group limit is tested elsewhere
        "LOTSE_OUTBOX_LEASE": str(LEASE),
        "LOTSE_PERSON_LEASE": str(LEASE),
        "LOTSE_HTTP_PORT": "0",
        "LOTSE_WEBHOOK_URL": HOOK,
        "LOTSE_WEBHOOK_LISTEN": "127.0.0.1",
        "LOTSE_WEBHOOK_SECRET": SECRET,
        "LOTSE_LOG_FORMAT": "text",
    }


@asynccontextmanager
async def cluster(
    db_url: str, workdir: Path, count: int = 2, server: FakeTelegram | None = None, one_by_one: bool = False
) -> AsyncIterator[Cluster]:
    """``count`` instances on ``db_url`` behind the proxy, serving ``server`` (a new FakeTelegram by default; not
    started yet); yields once every one has registered the webhook. They start at the same moment, as replicas do,
    or with ``one_by_one`` each after the previous one registered."""
    centres = workdir / "centres.yaml"
    centres.write_text(
        "centres:\n  - id: ki-test\n    name: Kommunales Integrationszentrum Test\n    cities: ['*']\n"
        f"    chat_id: {GROUP}\n    hours: {ALWAYS}\n",
        encoding="utf-8",
    )
    server = server or FakeTelegram()
    await server.start()
    server.forums.add(GROUP)
    names = [f"i{n}" for n in range(count)]
    instances = [Instance(n, environment(server, n, db_url, centres), workdir / f"{n}.log") for n in names]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{i.port}" for i in instances])
    await proxy.start()
    server.deliver_to = f"{proxy.url}/hook"
    state = Cluster(server, proxy, instances, db_url)

    async def outbox_busy() -> bool:
        return await asyncio.to_thread(state.pending_deliveries) > 0

    server.busy_checks.append(outbox_busy)
    try:

        def registered(these: list[Instance]) -> bool:
            dead = [i.name for i in these if not i.running]
            assert not dead, f"instances {dead} exited at start; see {workdir}/<name>.log"
            calls = zip(server.calls, server.callers, strict=True)
            done = {caller for (method, _), caller in calls if method == "setWebhook"}
            return done >= {i.name for i in these}

        for batch in [[i] for i in instances] if one_by_one else [instances]:
            await asyncio.gather(*(i.start() for i in batch))
            await until(lambda: registered(batch), 90, "the instances registered the webhook")  # noqa: B023
        yield state
    finally:
        await asyncio.gather(*(i.stop() for i in instances))
        await proxy.stop()
        await server.stop()
