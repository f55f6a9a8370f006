"""The command line: ``python -m bot <command>`` (also installed as ``lotse``)."""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
from collections.abc import Container, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.config import Config, ConfigError, load_config
from bot.core.coverage import coverage, markdown, replace_section, stale
from bot.core.dialogue import Decision, Dialogue
from bot.core.emergency.check import collision_problems, write_common
from bot.core.evaluate import EvalFileError, evaluate, format_report, load_items
from bot.core.hybrid import load_or_train
from bot.core.knowledge import KnowledgeError, check_knowledge, load_knowledge
from bot.core.matcher import build_index
from bot.core.selftest import check_examples, check_triggers
from bot.core.semantic import EmbeddingError
from bot.operate import cmd_centres, cmd_db, cmd_gaps, cmd_health, cmd_migrate_knowledge, cmd_updates, since
from bot.site import add_arguments as site_arguments
from bot.site import cmd_site


def _dialogue(config: Config, knowledge_dir: Path | None = None) -> Dialogue:
    from bot.wiring import load_dialogue

    return load_dialogue(config, knowledge_dir)


@functools.cache
def _word_list(lang: str) -> Container[str]:
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory  # loaded only for the full check

    found: Container[str] = DefaultDictionaryFactory().get_dictionary(lang)
    return found


def _known_word(word: str, lang: str) -> bool:
    """Whether ``word`` is an everyday word of ``lang`` (simplemma's word lists, loaded on first use)."""
    words = _word_list(lang)
    return word in words or word.capitalize() in words


def cmd_check(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Validate a knowledge folder; exit 1 on errors."""
    folder = Path(args.dir) if args.dir else config.knowledge_dir
    result = check_knowledge(folder)
    if args.write_common and result.knowledge is not None and result.knowledge.emergency is not None:
        for lang, count in write_common(folder, result.knowledge.emergency, _known_word).items():
            print(f"emergency/{lang}.yaml: {count} everyday word(s) added to 'common'", file=out)
        result = check_knowledge(folder)
    if result.knowledge is not None:
        dialogue = Dialogue(result.knowledge, build_index(result.knowledge, config.match), config.locales_dir)
        result.problems += check_triggers(folder, result.knowledge, dialogue.index, dialogue.detector)
        emergency = result.knowledge.emergency
        if emergency is not None and not args.errors_only:
            result.problems += collision_problems(folder, emergency, _known_word)
        if not args.errors_only:  # every example question through the trained matcher (cached, as for answering)
            hybrid = load_or_train(result.knowledge, config.match, config.cache_dir)
            trained = Dialogue(result.knowledge, hybrid.index, config.locales_dir, hybrid, dialogue.detector)
            result.problems += check_examples(folder, result.knowledge, trained)
    shown = [p for p in result.problems if p.severity == "error" or not args.errors_only]
    for problem in shown:
        print(problem.format(), file=out)
    errors, warnings = len(result.errors), len(result.warnings)
    if result.knowledge is not None:
        k = result.knowledge
        summary = f"{len(k.topics)} topics, {len(k.languages)} languages, {len(k.cities)} cities"
    else:
        summary = "knowledge not usable"
    print(f"{folder}: {errors} error(s), {warnings} warning(s); {summary}", file=out)
    return 1 if errors else 0


def _print_decision(decision: Decision, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(decision.to_json(), ensure_ascii=False), file=out)
    else:
        label = decision.kind + (f": {decision.topic}" if decision.topic else "")
        if decision.kind == "clarify":
            label += f": {', '.join(decision.candidates)}"
        print(f"[{label}]\n{decision.text}", file=out)


def cmd_ask(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Answer one question, or a stream of JSON lines."""
    dialogue = _dialogue(config)
    if args.jsonl:
        status = 0
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                if not isinstance(request, dict) or not isinstance(request.get("text"), str):
                    raise ValueError("expected an object with a string 'text'")
            except ValueError as exc:
                print(json.dumps({"error": f"line {number}: {exc}"}), file=out)
                status = 1
                continue
            decision = dialogue.decide(request["text"], request.get("lang"), request.get("city"))
            print(json.dumps(decision.to_json(), ensure_ascii=False), file=out, flush=True)
        return status
    if args.text is None:
        print("ask: give a question, or --jsonl to read JSON lines from standard input", file=sys.stderr)
        return 2
    if args.city and args.city not in dialogue.knowledge.cities:
        known = ", ".join(dialogue.knowledge.cities)
        print(f"ask: unknown city '{args.city}'; known: {known}", file=sys.stderr)
        return 2
    _print_decision(dialogue.decide(args.text, args.lang, args.city), args.json, out)
    if args.explain:
        print("lexical signal:", file=out)
        print("\n".join(dialogue.index.explain(args.text, dialogue.language(args.lang))), file=out)
        print("combined (each signal's value and its contribution to the confidence):", file=out)
        print("\n".join(dialogue.hybrid.explain(args.text, dialogue.language(args.lang))), file=out)
        found = dialogue.detect(args.text)
        print("emergency concepts:", file=out)
        if dialogue.detector is not None:
            print("\n".join(dialogue.detector.explain(args.text)), file=out)
        print(f"emergency situations: {', '.join(found.situations) or '-'}", file=out)
        if found.suppressed:
            print(f"calmed (only talks about danger): {', '.join(found.suppressed)}", file=out)
    return 0


def cmd_eval(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Evaluate the decision on a labelled file and enforce floors."""
    dialogue = _dialogue(config)
    paths: list[Path] = []
    for name in args.file:
        path = Path(name)
        paths += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    try:
        items = [item for path in paths for item in load_items(path)]
        if not items:
            raise EvalFileError(f"{', '.join(args.file)}: no questions found")
    except (EvalFileError, OSError) as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    if args.langs:
        wanted = set(args.langs.split(","))
        items = [i for i in items if i.lang in wanted]
    report = evaluate(items, lambda item: dialogue.decide(item.text, item.lang, item.city))
    print(format_report(report, show_misses=not args.quiet), file=out)
    worst_lang, worst = report.min_lang_top1()
    worst_emergency_lang, worst_emergency = report.min_lang_emergency_recall()
    floors = [
        ("top-1", report.top1, args.min_top1, True),
        ("hit@3", report.hit3, args.min_hit3, True),
        ("emergency recall", report.emergency_recall, args.min_emergency_recall, True),
        ("handoff recall", report.handoff_recall, args.min_handoff_recall, True),
        ("out-of-scope false-answer rate", report.oos_false_rate, args.max_oos_false_rate, False),
        (f"top-1 in every language (worst: {worst_lang})", worst, args.min_lang_top1, True),
        (
            f"emergency recall in every language (worst: {worst_emergency_lang})",
            worst_emergency,
            args.min_lang_emergency_recall,
            True,
        ),
        ("false alarms on near-misses", report.false_alarm_rate, args.max_false_alarm_rate, False),
    ]
    failed = [
        f"{name} {value:.3f} {'<' if low else '>'} {floor}"
        for name, value, floor, low in floors
        if floor is not None and (value < floor if low else value > floor)
    ]
    for line in failed:
        print(f"FLOOR NOT MET: {line}", file=out)
    return 1 if failed else 0


def cmd_chat(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Talk to Lotse in the terminal, with the dialogue logic the Telegram bot uses."""
    from bot.chat import run_chat

    return run_chat(_dialogue(config), args.lang, args.city, sys.stdin, out)


def _one_line(text: str) -> str:
    """A problem and its hint (``file:line: error: ...`` and an indented ``hint:`` line) as one line."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def cmd_run(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Serve Telegram users (needs TELEGRAM_BOT_TOKEN): long polling, or ``--webhook``."""
    import logging

    from bot.core.centres import CentresError, load_centres
    from bot.logs import configure
    from bot.storage.engine import DatabaseStartError, open_database
    from bot.telegram.app import (
        HttpOptions,
        HttpStartError,
        TelegramSettings,
        TelegramStartError,
        run_polling,
        run_webhook,
    )
    from bot.wiring import assemble, setup_from

    dialogue = _dialogue(config)  # refuse to start on broken knowledge before touching Telegram
    if args.chat_without_token and config.telegram_token is None:
        from bot.chat import run_chat
        from bot.config import NO_TOKEN_HELP

        print(NO_TOKEN_HELP, file=out)
        print("Starting the terminal chat now (/quit ends it).\n", file=out)
        return run_chat(dialogue, None, None, sys.stdin, out)
    try:
        token = config.require_token()
        if args.webhook and config.webhook_url is None:
            raise ConfigError("--webhook needs LOTSE_WEBHOOK_URL (the public https address Telegram posts to)")
        centres = load_centres(config.centres_path, set(dialogue.knowledge.cities)) if config.centres_path else None
        setup = setup_from(config, centres)
    except ConfigError as exc:
        print(exc, file=out)
        return 2
    except CentresError as exc:
        first, more = _one_line(exc.problems[0].format()), len(exc.problems) - 1
        also = f" (and {more} more; 'python -m bot centres check' lists them all)" if more else ""
        print(f"LOTSE_CENTRES error: {first}{also}", file=out)
        return 2
    except OSError as exc:
        print(f"LOTSE_CENTRES: cannot read {config.centres_path} ({exc.strerror})", file=out)
        return 2
    configure(config)  # LOTSE_LOG_FORMAT, LOTSE_LOG_LEVEL; the libraries kept quiet
    try:
        engine = open_database(config.database_url)
    except DatabaseStartError as exc:
        print(f"database error: {exc}", file=out)
        return 2
    telegram = TelegramSettings(token, config.api_base_url, config.api_file_url)
    bot = assemble(dialogue=dialogue, engine=engine, setup=setup, telegram=telegram)
    bot.services.conversation.warm_up()
    gc.freeze()  # what start-up built (knowledge, index, classifier) lives as long as the process: never scanned again
    log = logging.getLogger("lotse")
    log.info(
        "Lotse starting: %d topics, %d languages, database %s", len(dialogue.knowledge.topics),
        len(dialogue.knowledge.languages), engine.url.render_as_string(hide_password=True),
    )  # fmt: skip
    if centres is None:
        log.warning("LOTSE_CENTRES is not set: 'talk to a person' shows the integration centre's contacts only")
    else:
        log.info("handoff to %d staff group(s)", len(centres.by_id))
    http = HttpOptions(config.http_listen, config.http_port)
    try:
        if args.webhook:
            assert config.webhook_url is not None
            run_webhook(
                bot.application,
                url=config.webhook_url,
                listen=config.webhook_listen,
                port=config.webhook_port,
                secret=config.webhook_secret,
                http=http,
            )
        else:
            run_polling(bot.application, http)
    except TelegramStartError as exc:
        print(f"telegram error: {exc}", file=out)
        return 2
    except HttpStartError as exc:
        print(f"error: {exc}", file=out)
        return 2
    return 0


def cmd_coverage(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Print the topic x language and city coverage; optionally refresh knowledge/README.md."""
    knowledge = load_knowledge(config.knowledge_dir)
    if args.stale:
        today = datetime.now(UTC).date()
        print("\n".join(stale(knowledge, today, int(args.older_than // 86400)).lines(limit=1000)), file=out)
        return 0
    cov = coverage(knowledge)
    table = markdown(cov)
    if args.update_readme:
        readme = config.knowledge_dir / "README.md"
        readme.write_text(replace_section(readme.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"updated {readme}", file=out)
    else:
        print(table, file=out)
    if args.fail_on_missing and cov.count("missing"):
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Lotse: arrival helper for newcomers in NRW")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="validate the knowledge files (exit 1 on errors)")
    check.add_argument("dir", nargs="?", help="knowledge folder (default: KNOWLEDGE_DIR or ./knowledge)")
    check.add_argument("--errors-only", action="store_true", help="do not print warnings")
    check.add_argument(
        "--write-common",
        action="store_true",
        help="add everyday words one letter from an emergency concept word to 'common' in emergency/<lang>.yaml",
    )
    check.set_defaults(func=cmd_check)

    ask = sub.add_parser("ask", help="answer one question (or JSON lines from stdin)")
    ask.add_argument("text", nargs="?")
    ask.add_argument("--lang", default="en", help="interface language code (default en)")
    ask.add_argument("--city", help="city slug, e.g. duesseldorf")
    ask.add_argument("--json", action="store_true", help="print the result as JSON")
    ask.add_argument("--jsonl", action="store_true", help='read {"text","lang","city"} lines from stdin')
    ask.add_argument("--explain", action="store_true", help="show how each word matched and the scores")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="talk to Lotse in the terminal")
    chat.add_argument("--lang", default=None, help="interface language code")
    chat.add_argument("--city", default=None, help="city slug")
    chat.set_defaults(func=cmd_chat)

    cov = sub.add_parser("coverage", help="topic x language and city contact coverage (Markdown)")
    cov.add_argument("--update-readme", action="store_true", help="rewrite the table in knowledge/README.md")
    cov.add_argument("--fail-on-missing", action="store_true", help="exit 1 if a topic lacks a language")
    cov.add_argument("--stale", action="store_true", help="what to look at again: outdated, unreviewed, old contacts")
    cov.add_argument("--older-than", type=since, default=since("180d"), help="a contact read this long ago is old")
    cov.set_defaults(func=cmd_coverage)

    run = sub.add_parser("run", help="serve Telegram users (needs TELEGRAM_BOT_TOKEN)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook (LOTSE_WEBHOOK_*) instead of polling")
    run.add_argument(
        "--chat-without-token",
        action="store_true",
        help="without TELEGRAM_BOT_TOKEN, say how to get one and open the terminal chat (make run)",
    )
    run.set_defaults(func=cmd_run)

    centres = sub.add_parser("centres", help="validate the staff destinations file (LOTSE_CENTRES)")
    centres.add_argument("action", choices=["check"])
    centres.add_argument("file", nargs="?")
    centres.set_defaults(func=cmd_centres)

    updates = sub.add_parser("updates", help="updates that could not be processed (id, kind, error; no content)")
    updates.add_argument("--limit", type=int, default=50, help="at most this many, newest first")
    updates.set_defaults(func=cmd_updates)

    gaps = sub.add_parser("gaps", help="what people asked that Lotse could not answer well, grouped (no user data)")
    gaps.add_argument("--since", type=since, default=since("14d"), help="this far back: 14d (default), 48h, 2w")
    gaps.add_argument("--city", help="one city's questions only (its slug, e.g. koeln)")
    gaps.add_argument("--json", action="store_true", help="a list of groups: count, languages, topics, texts")
    gaps.add_argument("--yaml", metavar="DIR", help="write example questions and new topic skeletons to paste in")
    gaps.set_defaults(func=cmd_gaps)

    health = sub.add_parser("health", help="ask the running bot's /healthz (exit 0 healthy, 1 not); for HEALTHCHECK")
    health.add_argument("--host", default="127.0.0.1", help="where the bot runs (default 127.0.0.1)")
    health.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    health.set_defaults(func=cmd_health)

    db = sub.add_parser("db", help="database schema (Alembic): upgrade, current, revision -m MESSAGE")
    db.add_argument("action", choices=["upgrade", "current", "revision"])
    db.add_argument("-m", "--message", help="what the new migration changes (for revision)")
    db.set_defaults(func=cmd_db)

    site = sub.add_parser("site", help="a static review website: every answer as in Telegram, coverage, the gaps")
    site_arguments(site)
    site.set_defaults(func=cmd_site)

    mig = sub.add_parser("migrate-knowledge", help="one folder per topic, one file per language (from the old layout)")
    mig.add_argument("dir", nargs="?", help="knowledge folder (default: KNOWLEDGE_DIR or ./knowledge)")
    mig.set_defaults(func=cmd_migrate_knowledge)

    ev = sub.add_parser("eval", help="evaluate on a labelled question file")
    ev.add_argument("file", nargs="+", help="question files, or folders of *.yaml question files")
    ev.add_argument("--langs", help="only items with these interface languages, e.g. de,en")
    ev.add_argument("--quiet", action="store_true", help="do not list the misses")
    ev.add_argument("--min-top1", type=float)
    ev.add_argument("--min-hit3", type=float)
    ev.add_argument("--min-emergency-recall", type=float)
    ev.add_argument("--min-handoff-recall", type=float)
    ev.add_argument("--max-oos-false-rate", type=float)
    ev.add_argument("--min-lang-top1", type=float)
    ev.add_argument("--min-lang-emergency-recall", type=float, help="emergency recall floor in every language")
    ev.add_argument("--max-false-alarm-rate", type=float, help="ceiling for emergencies raised on not-emergency items")
    ev.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point; returns the exit code."""
    from bot.telegram.safelog import origin

    args = build_parser().parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug in reading it: LOTSE_LOG_LEVEL is unknown, so no traceback
        print(f"error: {origin(exc)} while reading the configuration", file=sys.stderr)
        return 2
    try:
        code: int = args.func(args, config, out or sys.stdout)
    except KnowledgeError as exc:
        print(f"knowledge error: {_one_line(str(exc))}; 'python -m bot check' lists them all", file=sys.stderr)
        return 2
    except EmbeddingError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug or an unforeseen failure: one line (its message may carry what someone wrote)
        import traceback

        if config.log_level == "debug":
            traceback.print_exception(exc, file=sys.stderr)
        print(f"error: {origin(exc)}; set LOTSE_LOG_LEVEL=debug for the traceback", file=sys.stderr)
        return 2
    return code
