"""``python -m bot site OUT/``: a static website for native-speaker reviewers and volunteers who never touch git.

Plain HTML and one style sheet, no script, nothing loaded from elsewhere: every topic in every language as a person
sees it in Telegram (the bot's own rendering), with who checked it and when and whether it is outdated; coverage
per language and city; the gaps worklist (what people asked that Lotse could not answer), read from the database as
``python -m bot gaps`` reads it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.core.knowledge import load_knowledge
from bot.operate import since
from bot.site.html import safe_link
from bot.site.parts import Options, Worklist

__all__ = ["add_arguments", "cmd_site", "read_worklist"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``site``."""
    parser.add_argument("out", help="the folder to write the site into (made if missing)")
    parser.add_argument("--city", help="show the answers as a person in this city gets them (its slug, e.g. koeln)")
    parser.add_argument("--no-gaps", action="store_true", help="leave out the gaps worklist (no database needed)")
    parser.add_argument("--since", type=since, default=since("14d"), help="gaps this far back: 14d (default), 2w")
    parser.add_argument(
        "--edit-url",
        help="where a knowledge file is edited on the web, the file's path appended: e.g. "
        "https://git.example.org/lotse/-/edit/main/",
    )


def read_worklist(database_url: str, seconds: float, out: TextIO) -> Worklist:
    """The gaps worklist from the database, as ``python -m bot gaps`` reads it; when the database cannot be read,
    an empty worklist that says so (the reason goes to ``out``, not onto the page)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.operate import recorded_gaps
    from bot.storage.engine import DatabaseStartError

    days = seconds / 86400
    try:
        groups = recorded_gaps(database_url, seconds)
    except (DatabaseStartError, SQLAlchemyError, OSError) as exc:
        print(f"site: the gaps worklist is left out: database error: {exc}", file=out)
        return Worklist(note="The unanswered questions could not be read from the database this time.", days=days)
    return Worklist(tuple(groups), days=days)


def cmd_site(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Write the review site into ``args.out``."""
    from bot.site.build import write_site  # the rendering machinery only when a site is made

    knowledge = load_knowledge(config.knowledge_dir)
    if args.city and args.city not in knowledge.cities:
        print(f"site: unknown city '{args.city}'; known: {', '.join(knowledge.cities)}", file=out)
        return 2
    if args.edit_url and (safe_link(args.edit_url) is None or not args.edit_url.startswith(("https://", "http://"))):
        print(f"site: --edit-url must be an http(s) address, not {args.edit_url!r}", file=out)
        return 2
    if args.no_gaps:
        worklist = Worklist(note="The unanswered questions are left out of this site (--no-gaps).")
    else:
        worklist = read_worklist(config.database_url, args.since, out)
    options = Options(city=args.city, edit_url=args.edit_url, locales_dir=config.locales_dir)
    folder = Path(args.out)
    written = write_site(knowledge, folder, worklist, options)
    print(f"site: wrote {len(written)} files to {folder} (open {folder / 'index.html'})", file=out)
    return 0
