"""Engine creation and schema migrations (Alembic, run programmatically at start)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

from bot.core.ports import StoreUnavailableError

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout, ``:memory:`` one shared connection."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
            hide_parameters=True,  # errors never quote what people wrote
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            if not memory:
                # WAL with synchronous=NORMAL: never corrupts, fsyncs at checkpoints instead of every commit.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted content is overwritten with zeros, not left in free pages for anyone who reads the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


# SQLite calls run one at a time on this thread: as serial as running them inline (no two transactions of this
# process interleave), but the event loop never waits for the database file. Another process holding the write lock
# (a backup, an operator's sqlite3 shell) delays database work only; answers that need no write go on.
_SQLITE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotse-sqlite")


async def blocking(serial: bool, work: Callable[[], T]) -> T:
    """Run a database call off the event loop: on SQLite (``serial``) on the one SQLite thread, on a server
    database in a worker thread. An unreachable or locked database becomes the core's StoreUnavailableError, which
    the bot retries."""

    def guarded() -> T:
        try:
            return work()
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc

    if serial:
        return await asyncio.get_running_loop().run_in_executor(_SQLITE, guarded)
    return await asyncio.to_thread(guarded)


def scrub(engine: Engine) -> None:
    """After a deletion: SQLite's write-ahead log still holds the old pages (names, questions) until a checkpoint;
    copy it into the database (where secure_delete zeroed them) and empty it. PostgreSQL needs nothing here: deleted
    rows are gone for every reader, and VACUUM (autovacuum) reclaims their space (see README, operators)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe with several processes on PostgreSQL)."""
    command.upgrade(alembic_config(engine), "head")
