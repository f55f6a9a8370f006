"""Several processes starting at once on one fresh PostgreSQL database: exactly one migrates, none crashes."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from bot.storage.engine import migrate
from tests.storage.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_newest_revision_is_read_from_the_migration_files_as_alembic_reads_it() -> None:
    from alembic.script import ScriptDirectory

    from bot.storage.engine import alembic_config, head_revision, make_engine

    assert head_revision() == ScriptDirectory.from_config(alembic_config(make_engine("sqlite://"))).get_current_head()


def test_a_current_database_is_only_looked_at_and_an_older_one_migrated(tmp_path: Path) -> None:
    from alembic import command

    from bot.storage.engine import alembic_config, head_revision, open_database

    url = f"sqlite:///{tmp_path / 'lotse.db'}"
    open_database(url).dispose()  # the first start migrates
    probe = (
        "import sys; from bot.storage.engine import open_database; "
        f"open_database({url!r}); print('alembic' in sys.modules)"
    )
    again = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert again.stdout.strip() == "False"  # a restart does not even import Alembic
    engine = open_database(url)
    command.downgrade(alembic_config(engine), "0008")  # a database of the previous release
    engine.dispose()
    engine = open_database(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
        assert "busy_by" in {c["name"] for c in inspect(conn).get_columns("users")}
    engine.dispose()
