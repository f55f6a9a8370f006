"""Converting the knowledge from one file per topic to one folder per topic with one file per language.

``topics/<id>.yaml`` (every language in one file, ``reviewed: true|false``) becomes ``topics/<id>/topic.yaml`` and
``topics/<id>/<lang>.yaml`` (``status: machine | draft | reviewed``, ``reviewed_by``, ``checked``). A translation
marked ``reviewed: false`` was drafted by a program: ``status: machine``. One marked ``reviewed: true`` names no
reviewer and no day, so it becomes ``status: draft`` with a comment saying so. The handoff, off-topic and uncovered
files keep their layout; their ``reviewed:`` lines become ``status:`` lines in place (comments kept).

Nothing is lost: every topic is written to a hidden folder first, read back and compared with the old file; only
when they agree is the folder put in place and the old file removed. A topic that cannot be converted is left as
it was and reported.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.topics import TOPIC_FILE
from bot.core.yaml_write import dump

INTENT_FILES = ("handoff.yaml", "offtopic.yaml", "uncovered.yaml")
SHARED_KEYS = ("category", "related", "revision", "sources")
# The order of a language file: what a reviewer sets first, then the texts.
LANGUAGE_KEYS = ("title", "status", "reviewed_by", "checked", "revision", "answer", "examples", "keywords", "triggers")
STATUS_NOTE = "machine (drafted by a program), draft (by a person) or reviewed (then reviewed_by and checked)"
WAS_REVIEWED = "was 'reviewed: true' before 2026-12: add reviewed_by and checked, then status: reviewed"
_REVIEWED_LINE = re.compile(r"^(\s*)reviewed:\s*(true|false)\s*$", re.MULTILINE)


@dataclass(slots=True)
class Migration:
    """What :func:`migrate` did: topics converted, intent files rewritten, and problems (file: message)."""

    topics: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def translation_file(topic_id: str, lang: str, data: Mapping[str, Any], *, was_reviewed: bool = False) -> str:
    """The text of ``topics/<id>/<lang>.yaml`` for one language's fields (new layout)."""
    ordered = {key: data.get(key) for key in LANGUAGE_KEYS if key in data or key in ("reviewed_by", "checked")}
    ordered |= {key: value for key, value in data.items() if key not in ordered}
    if not ordered.get("triggers"):
        ordered.pop("triggers", None)
    comments = {"status": WAS_REVIEWED if was_reviewed else STATUS_NOTE}
    header = f"{topic_id} in language '{lang}'. Shared by all languages (category, related, sources): {TOPIC_FILE}"
    return dump(ordered, comments, header)


def shared_file(topic_id: str, data: Mapping[str, Any]) -> str:
    """The text of ``topics/<id>/topic.yaml`` (new layout)."""
    ordered = {key: data[key] for key in SHARED_KEYS if key in data}
    ordered |= {key: value for key, value in data.items() if key not in ordered}
    header = f"{topic_id}: what its languages share. Each language is in <code>.yaml beside this file."
    return dump(ordered, header=header)


def _converted(old: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[dict[str, Any], bool]]]:
    """The shared part and, per language, the new fields and whether it was marked reviewed."""
    shared = {key: value for key, value in old.items() if key not in ("id", "translations")}
    languages: dict[str, tuple[dict[str, Any], bool]] = {}
    for lang, tr in old["translations"].items():
        new = {key: value for key, value in tr.items() if key != "reviewed"}
        was_reviewed = tr.get("reviewed") is True
        new["status"] = "draft" if was_reviewed else "machine"
        languages[lang] = (new, was_reviewed)
    return shared, languages


def _read_back(folder: Path) -> dict[str, Any]:
    shared = yaml.safe_load((folder / TOPIC_FILE).read_text(encoding="utf-8"))
    translations = {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.yaml"))
        if path.name != TOPIC_FILE
    }
    return {**shared, "translations": translations}


def _expected(shared: Mapping[str, Any], languages: Mapping[str, tuple[dict[str, Any], bool]]) -> dict[str, Any]:
    translations = {
        lang: {"reviewed_by": None, "checked": None, **{k: v for k, v in new.items() if k != "triggers" or v}}
        for lang, (new, _) in languages.items()
    }
    return {**shared, "translations": translations}


def migrate_topic(path: Path) -> str | None:
    """Convert one old topic file; None when done, else why it was left as it was."""
    try:
        old = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return f"cannot be read ({type(exc).__name__}); fix it with 'python -m bot check' first"
    if not isinstance(old, dict) or not isinstance(old.get("translations"), dict):
        return "has no 'translations' block; fix it with 'python -m bot check' first"
    if not all(isinstance(tr, dict) for tr in old["translations"].values()):
        return "a language block is not a block of 'key: value' lines; fix it with 'python -m bot check' first"
    target = path.with_suffix("")
    if target.exists():
        return f"the folder {target.name}/ exists already; move one of them away"
    shared, languages = _converted(old)
    temporary = path.parent / f".{target.name}.migrating"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    (temporary / TOPIC_FILE).write_text(shared_file(target.name, shared), encoding="utf-8")
    for lang, (new, was_reviewed) in languages.items():
        text = translation_file(target.name, lang, new, was_reviewed=was_reviewed)
        (temporary / f"{lang}.yaml").write_text(text, encoding="utf-8")
    if _read_back(temporary) != _expected(shared, languages):
        shutil.rmtree(temporary)
        return "the converted files do not read back the same (left as it was; please report this)"
    temporary.rename(target)
    path.unlink()
    return None


def migrate_intent(path: Path) -> bool:
    """``reviewed: true|false`` lines of an intent file as ``status:`` lines, in place; True when changed."""
    text = path.read_text(encoding="utf-8")

    def status(match: re.Match[str]) -> str:
        indent, value = match.group(1), match.group(2)
        return f"{indent}status: draft  # {WAS_REVIEWED}" if value == "true" else f"{indent}status: machine"

    new = _REVIEWED_LINE.sub(status, text)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def migrate(root: Path) -> Migration:
    """Convert every old-layout topic file and intent file under the knowledge folder ``root``."""
    done = Migration()
    topics = root / "topics"
    for path in sorted(topics.glob("*.yaml")) if topics.is_dir() else []:
        problem = migrate_topic(path)
        if problem is None:
            done.topics.append(path.stem)
        else:
            done.problems.append(f"{path}: {problem}")
    for name in INTENT_FILES:
        path = root / name
        if path.is_file() and migrate_intent(path):
            done.intents.append(name)
    return done
