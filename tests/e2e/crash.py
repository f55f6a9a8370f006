"""The crash scenario: 100 people ask for a person while the bot process is killed with SIGKILL again and again.

The real ``python -m bot run`` runs as a child process against the fake Bot API in this process. A killer task
sends SIGKILL at random moments and starts a new process on the same database. People behave like people: they
wait for the bot's answer and tap the newest button. At the end every consent must have become exactly one ticket,
announced in the staff group. Used by ``tests/e2e/test_crash.py`` and ``bench/handoff_faults.py``.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.e2e.fake_telegram import FakeTelegram, FakeUser, Sent

ROOT = Path(__file__).resolve().parents[2]
GROUP = -1001000000077


@dataclass
class Figures:
    people: int = 0
    kills: int = 0
    consents: int = 0
    tickets: int = 0
    lost: int = 0
    duplicate_tickets: int = 0
    announced: int = 0
    duplicate_cards: int = 0
    duplicate_topics: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"people asking for a person: {self.people}; SIGKILLs: {self.kills}; time: {self.seconds:.1f} s",
            f"consents given: {self.consents}; tickets stored: {self.tickets}; lost: {self.lost}; "
            f"duplicate tickets: {self.duplicate_tickets}",
            f"announced in the staff group: {self.announced}; duplicate ticket messages: {self.duplicate_cards}; "
            f"duplicate forum topics: {self.duplicate_topics}",
        ]


class Bot:
    """The bot as a child process."""

    def __init__(self, server: FakeTelegram, workdir: Path) -> None:
        centres = workdir / "centres.yaml"
        centres.write_text(
            "centres:\n  - id: ki-test\n    name: Kommunales Integrationszentrum Test\n    cities: ['*']\n"
            f"    chat_id: {GROUP}\n    hours: {{mon: '00:00-24:00', tue: '00:00-24:00', wed: '00:00-24:00', "
            "thu: '00:00-24:00', fri: '00:00-24:00', sat: '00:00-24:00', sun: '00:00-24:00'}\n",
            encoding="utf-8",
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "TELEGRAM_"))},
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{server.port}",
            "DATABASE_URL": f"sqlite:///{workdir / 'lotse.db'}",
            "LOTSE_CENTRES": str(centres),
            "LOTSE_GROUP_RATE": "1000/1",  # the per-group limit is tested elsewhere; here only crashes matter
            "LOTSE_OUTBOX_LEASE": "2",
            "LOTSE_HTTP_PORT": "0",  # no /healthz: several test processes run at once
        }
        self.workdir = workdir
        self.server = server
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        polls = sum(1 for method, _ in self.server.calls if method == "getUpdates")
        log = (self.workdir / f"bot-{self.starts}.log").open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        self.starts += 1
        deadline = time.monotonic() + 60
        while sum(1 for method, _ in self.server.calls if method == "getUpdates") <= polls:
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start; see {log.name}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> None:
        if self.process is not None:
            await self.process.wait()

    async def stop(self) -> None:
        await stop_process(self.process)


async def stop_process(process: asyncio.subprocess.Process | None, patience: float = 20) -> None:
    """SIGTERM (the bot finishes what it has in hand), then SIGKILL after ``patience`` seconds."""
    if process is None or process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), patience)
    except TimeoutError:
        process.kill()
        await process.wait()


def newest(server: FakeTelegram, chat: int, prefix: str) -> Sent | None:
    for sent in reversed(server.to(chat)):
        if any(data and data.startswith(prefix) for _, data in sent.buttons):
            return sent
    return None


async def until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.05)


async def _person(server: FakeTelegram, user: FakeUser, consented: set[int]) -> None:
    """Ask for a person, write the question, consent; repeat a step only when the bot never answered it."""
    question = f"Ich brauche Hilfe mit einem Brief vom Amt, Nummer {user.id}"
    for step, message, wanted in (("/human", "/human", "ho:cancel"), ("question", question, "ho:yes")):
        for _attempt in range(4):
            if newest(server, user.id, wanted) is not None:
                break
            user.push_text(message)
            try:
                await until(lambda: newest(server, user.id, wanted) is not None, 30)  # noqa: B023
            except TimeoutError:
                continue
        else:
            seen = [s.text[:60] for s in server.to(user.id)]
            raise AssertionError(f"person {user.id}: no answer with {wanted} after {step}; saw {seen}")
    consent = newest(server, user.id, "ho:yes")
    assert consent is not None
    before = len(server.to(user.id))
    data = next(d for _, d in consent.buttons if d and d.startswith("ho:yes"))
    await user.tap(data, expect=0, settle=False)  # the others go on: the bot is never idle here
    consented.add(user.id)
    await until(lambda: len(server.to(user.id)) > before, 60)


async def run(workdir: Path, people: int = 100, kills: int = 5, seed: int = 7) -> Figures:
    rng = random.Random(seed)
    server = FakeTelegram()
    await server.start()
    server.forums.add(GROUP)
    bot = Bot(server, workdir)
    figures = Figures(people=people)
    started = time.monotonic()
    await bot.start()
    consented: set[int] = set()
    done = asyncio.Event()

    # Kill points spread over the whole run: after a random number of consents, plus a random fraction of a second.
    thresholds = sorted(rng.sample(range(2, people - 5), kills))

    async def killer() -> None:
        for threshold in thresholds:
            while len(consented) < threshold and not done.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            bot.kill()
            await bot.wait()
            figures.kills += 1
            await bot.start()

    users = [FakeUser(server, 70000 + i, first_name=f"P{i}", language_code="de") for i in range(people)]

    async def wave() -> None:
        for index in range(0, people, 20):
            await asyncio.gather(*(_person(server, u, consented) for u in users[index : index + 20]))
        done.set()

    killing = asyncio.create_task(killer())
    await wave()
    await killing
    engine = create_engine(f"sqlite:///{workdir / 'lotse.db'}")

    def cards() -> Counter[str]:
        found: Counter[str] = Counter()
        for sent in server.to(GROUP):
            if sent.text.startswith("Fall #") and not sent.deleted:  # a card in a topic made afresh is gone
                found[sent.text.split()[1].lstrip("#")] += 1
        return found

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT user_id, case_no, status FROM tickets WHERE status != 'draft'")).all()
    try:
        await until(lambda: len(cards()) >= len(rows), 120)
    except TimeoutError:
        figures.notes.append("not every ticket was announced within 120 s")
    await bot.stop()
    await server.stop()
    per_user = Counter(row.user_id for row in rows)
    figures.consents = len(consented)
    figures.tickets = len(rows)
    figures.lost = len([u for u in consented if per_user[u] == 0])
    figures.duplicate_tickets = sum(n - 1 for n in per_user.values() if n > 1)
    found = cards()
    figures.announced = len([row for row in rows if found[row.case_no] >= 1])
    figures.duplicate_cards = sum(n - 1 for n in found.values() if n > 1)
    names = Counter(topic["name"] for topic in server.topics.get(GROUP, {}).values())
    figures.duplicate_topics = sum(n - 1 for n in names.values() if n > 1)
    figures.seconds = time.monotonic() - started
    return figures
