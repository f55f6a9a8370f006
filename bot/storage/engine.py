"""Engine creation and schema migrations (Alembic, run programmatically at start)."""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, Table, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

from bot.core.ports import StoreUnavailableError

if TYPE_CHECKING:  # Alembic is imported only when the schema is not current (a fifth of a start's imports)
    from alembic.config import Config

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseStartError(Exception):
    """The database cannot be used at start: one line that says which setting to fix."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout, ``:memory:`` one shared connection.
    ``postgres://`` and ``postgresql://`` (the forms hosting panels print) use the psycopg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
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


async def in_transaction(engine: Engine, fn: Callable[[Connection], T]) -> T:
    """``fn`` in one transaction on ``engine`` (committed when it returns), off the event loop (:func:`blocking`)."""

    def work() -> T:
        with engine.begin() as conn:
            return fn(conn)

    return await blocking(engine.dialect.name == "sqlite", work)


def upsert(conn: Connection, table: Table) -> Any:
    """The dialect's ``INSERT`` for ``table`` (PostgreSQL's or SQLite's, both with ``ON CONFLICT``)."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def scrub(engine: Engine) -> None:
    """After a deletion: SQLite's write-ahead log still holds the old pages (names, questions) until a checkpoint;
    copy it into the database (where secure_delete zeroed them) and empty it. PostgreSQL needs nothing here: deleted
    rows are gone for every reader, and VACUUM (autovacuum) reclaims their space (see README, operators)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK = 0x4C6F747365  # "Lotse": the PostgreSQL advisory lock every starting instance takes to migrate


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent). Instances that start at the same moment take turns (on
    PostgreSQL an advisory lock, on a SQLite file a lock on ``<file>.migrate-lock`` beside it): the first migrates,
    the others find the schema current. A database already at the newest revision is only looked at (under the
    lock: a SQLite file another process is creating cannot even be read yet)."""
    if engine.dialect.name != "postgresql":
        database = engine.url.database
        if not database or database == ":memory:":
            _upgrade(engine)
            return
        with open(f"{database}.migrate-lock", "a") as lock:  # noqa: PTH123 - fcntl takes the file object
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed (or the process dies)
            _upgrade(engine)
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            _upgrade(engine)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def _upgrade(engine: Engine) -> None:
    """Alembic's upgrade to the newest revision, unless the database is there already."""
    if _current(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files (None when they do not form one line)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = re.search(r'^revision(?:: str)? = "([^"]+)"', source, re.M)
        parent = re.search(r'^down_revision(?:: [^=]+)? = "([^"]+)"', source, re.M)
        if revision is None:
            return None
        revisions.add(revision[1])
        if parent is not None:
            parents.add(parent[1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current(engine: Engine) -> bool:
    """Whether the database is at the newest revision (a file database; an in-memory one is always new)."""
    head = head_revision()
    if head is None or engine.url.database in (None, "", ":memory:"):
        return False
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == [head]


def open_database(url: str) -> Engine:
    """The engine for ``url`` with its schema migrated, or :class:`DatabaseStartError` in one line: a URL that is
    not one, a server that cannot be reached or refuses the login, a SQLite file that cannot be written."""
    try:
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DatabaseStartError(
            f"DATABASE_URL is not a database address Lotse can use ({type(exc).__name__}); examples: "
            "sqlite:////data/lotse.db, postgresql://USER:PASSWORD@HOST:5432/DATABASE"
        ) from None
    shown = engine.url.render_as_string(hide_password=True)
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:":
            folder = Path(path).resolve().parent
            if not folder.is_dir():
                raise DatabaseStartError(f"DATABASE_URL={shown}: the folder {folder} does not exist") from None
            if not os.access(folder, os.W_OK) or (Path(path).exists() and not os.access(path, os.W_OK)):
                raise DatabaseStartError(
                    f"DATABASE_URL={shown}: cannot write {path} (permission denied); point DATABASE_URL to a "
                    "writable place, e.g. sqlite:////data/lotse.db on a volume"
                ) from None
    try:
        migrate(engine)
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseStartError(f"DATABASE_URL={shown}: {_reason(exc)}") from None
    return engine


def _reason(exc: OperationalError | InterfaceError) -> str:
    """What the driver said, in one line and without the SQL (the first line names host, port, user or file)."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    if "password authentication failed" in first or "no password supplied" in first:
        return f"the login was refused ({first}); check user and password"
    if "does not exist" in first and "database" in first:
        return f"{first}; create it or fix the database name"
    if "Connection refused" in first or "could not translate host name" in first or "timeout" in first.lower():
        return f"cannot reach the database server ({first}); check host and port, and that it runs"
    return first
