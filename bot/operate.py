"""Commands for operators: ``db``, ``updates``, ``health``, ``centres``, ``gaps`` (registered in :mod:`bot.cli`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.core.gaps import GapGroup
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


def since(text: str) -> float:
    """``14d``, ``48h``, ``2w`` (argparse type): seconds."""
    units = {"h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdecimal():
        raise argparse.ArgumentTypeError(f"{text!r}: give a number and h, d or w, e.g. 14d")
    return int(number) * units[unit]


def recorded_gaps(database_url: str, seconds: float, city: str | None = None) -> list[GapGroup]:
    """The gaps of the last ``seconds`` (one city's, or all), grouped: for ``gaps`` and the review site. Raises
    DatabaseStartError when the database cannot be opened."""
    import time

    from bot.core.gaps import day_of, group
    from bot.storage.engine import open_database
    from bot.storage.gaps import SqlGaps

    engine = open_database(database_url)
    try:
        return group(asyncio.run(SqlGaps(engine).since(day_of(time.time() - seconds), city)))
    finally:
        engine.dispose()


def cmd_gaps(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """The volunteers' worklist: questions Lotse could not answer well (no topic, a choice offered, a 👎, "not an
    emergency"), similar ones grouped across languages, the largest group first. Nothing in it says who asked."""
    import json

    from bot.core.gaps import report
    from bot.storage.engine import DatabaseStartError

    try:
        groups = recorded_gaps(config.database_url, args.since, args.city)
    except DatabaseStartError as exc:
        print(f"database error: {exc}", file=out)
        return 2
    if args.yaml:
        return _write_stubs(groups, Path(args.yaml), config, out)
    if args.json:
        print(json.dumps([g.to_json() for g in groups], ensure_ascii=False, indent=1), file=out)
    else:
        print(report(groups), file=out)
    return 0


def _write_stubs(groups: list[GapGroup], folder: Path, config: Config, out: TextIO) -> int:
    """``gaps --yaml DIR``: example questions for existing topics and new topic skeletons, to paste in."""
    from datetime import UTC, datetime

    from bot.core.gap_stubs import stubs

    files = stubs(groups, load_knowledge(config.knowledge_dir), datetime.now(UTC).date())
    if not files:
        print("No gaps with questions in this period: nothing written.", file=out)
        return 0
    for name, text in sorted(files.items()):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=out)
    print("examples/<topic>/<lang>.yaml: copy the questions that fit into topics/<topic>/<lang>.yaml; new-topics/: "
          "rename, move into topics/, write the answers (knowledge/README.md), then: make check", file=out)  # fmt: skip
    return 0


def cmd_migrate_knowledge(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Convert old one-file topics into one folder per topic with one file per language (nothing is lost)."""
    from bot.core.migrate_layout import migrate

    folder = Path(args.dir) if args.dir else config.knowledge_dir
    if not (folder / "languages.yaml").is_file():
        print(f"error: {folder} is no knowledge folder (it has no languages.yaml)", file=out)
        return 2
    done = migrate(folder)
    for problem in done.problems:
        print(f"not converted: {problem}", file=out)
    print(f"{len(done.topics)} topic(s) converted to topics/<id>/topic.yaml + <lang>.yaml; "
          f"{len(done.intents)} intent file(s) now say status: instead of reviewed:", file=out)  # fmt: skip
    if done.topics or done.intents:
        print(f"next: python -m bot check {folder}", file=out)
    return 1 if done.problems else 0
