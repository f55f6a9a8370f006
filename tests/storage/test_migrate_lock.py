"""Several processes starting at once on one fresh PostgreSQL database: exactly one migrates, none crashes."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import create_engine, inspect, text

from bot.storage.engine import migrate
from tests.storage.conftest import POSTGRES_URL


def test_simultaneous_first_starts_migrate_once_and_all_succeed() -> None:
    schema = f"lotse_race_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engines = [create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"}) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def first_start(index: int) -> None:
        start.wait()  # all four at the same moment, as replicas after a deploy
        try:
            migrate(engines[index])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=first_start, args=(i,), daemon=True) for i in range(len(engines))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not [thread for thread in threads if thread.is_alive()], "a migration hangs (they wait for each other)"
        assert errors == []
        assert {"users", "tickets", "outbox"} <= set(inspect(engines[0]).get_table_names())
    finally:
        for engine in engines:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
