"""Commands for operators: ``db``, ``updates``, ``health``, ``centres`` (registered in :mod:`bot.cli`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.core.knowledge import load_knowledge


def cmd_db(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Database schema: ``upgrade`` to the newest migration, ``revision`` to write a new one, ``current``."""
    from alembic import command

    from bot.storage.engine import alembic_config, make_engine, migrate

    engine = make_engine(config.database_url)
    url = engine.url.render_as_string(hide_password=True)
    if args.action == "upgrade":
        migrate(engine)
        print(f"{url}: schema is up to date", file=out)
    elif args.action == "current":
        command.current(alembic_config(engine), verbose=False)
    else:
        if not args.message:
            print("db revision: give a message with -m", file=sys.stderr)
            return 2
        command.revision(alembic_config(engine), message=args.message, autogenerate=True)
        print("wrote a new migration to bot/storage/migrations/versions/; review it before committing", file=out)
    return 0


def cmd_updates(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """The quarantined updates (could not be read, or failed again and again): id, kind, error; never content."""
    from datetime import UTC, datetime

    from bot.storage.engine import make_engine, migrate
    from bot.storage.stores import SqlStores

    engine = make_engine(config.database_url)
    migrate(engine)
    entries = asyncio.run(SqlStores(engine).quarantined(args.limit))
    if not entries:
        print("no quarantined updates", file=out)
    for entry in entries:
        at = datetime.fromtimestamp(entry.at, UTC).isoformat(timespec="seconds")
        print(f"{at}  update {entry.update_id}  {entry.kinds}  {entry.error} (tries: {entry.tries})", file=out)
    return 0


def cmd_health(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Ask the running bot's /healthz (the container's HEALTHCHECK): exit 0 when healthy, 1 otherwise, one line."""
    import urllib.error
    import urllib.request

    if config.http_port == 0:
        print("health: LOTSE_HTTP_PORT is 0, so the bot serves no /healthz", file=out)
        return 1
    url = f"http://{args.host}:{config.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            body = response.read(2000).decode("utf-8", "replace")
            print(f"healthy: {body.strip()}", file=out)
            return 0
    except urllib.error.HTTPError as exc:
        body = exc.read(2000).decode("utf-8", "replace")
        print(f"unhealthy ({exc.code}): {body.strip()}", file=out)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"unhealthy: nothing answers at {url} ({reason})", file=out)
    return 1


def cmd_centres(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Validate the staff destinations file (LOTSE_CENTRES or the given file)."""
    from bot.core.centres import CentresError, load_centres

    path = Path(args.file) if args.file else config.centres_path
    if path is None:
        print("centres check: give a file or set LOTSE_CENTRES (see centres.example.yaml)", file=sys.stderr)
        return 2
    knowledge = load_knowledge(config.knowledge_dir)
    try:
        centres = load_centres(path, set(knowledge.cities))
    except CentresError as exc:
        print(exc, file=out)
        return 1
    for centre in centres.by_id.values():
        print(f"{centre.id}: {', '.join(centre.cities)} -> chat {centre.chat_id} ({centre.timezone})", file=out)
    return 0
