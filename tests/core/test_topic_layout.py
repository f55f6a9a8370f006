"""One folder per topic, one file per language: the folder's problems at file:line, the migration from one file per
topic (lossless), and the writer that keeps what it writes."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.core.dialogue import Dialogue
from bot.core.evaluate import evaluate, load_items
from bot.core.hybrid import cache_key, load_or_train
from bot.core.knowledge import check_knowledge, load_knowledge
from bot.core.match_model import MatchSettings
from bot.core.migrate_layout import migrate
from bot.core.model import Knowledge
from bot.core.yaml_write import dump
from bot.core.yamlsafe import load_yaml_text
from tests.conftest import FIXTURE_KB, KNOWLEDGE_DIR, SHARED


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE_KB, tmp_path / "kb"))


def _old_layout(knowledge: Knowledge, source: Path, target: Path) -> None:
    """``source`` copied to ``target`` with its topics written back as one file per topic (the layout before
    2026-12): every language in one file, ``reviewed: true|false``."""
    shutil.copytree(source, target)
    shutil.rmtree(target / "topics")
    (target / "topics").mkdir()
    for topic in knowledge.topics.values():
        data: dict[str, Any] = topic.model_dump(mode="json", exclude={"translations"}, exclude_defaults=True)
        data["id"], data["revision"] = topic.id, topic.revision
        data["translations"] = {
            lang: {**tr.model_dump(mode="json", exclude={"status", "reviewed_by", "checked"}, exclude_defaults=True),
                   "reviewed": tr.reviewed, "revision": tr.revision}
            for lang, tr in topic.translations.items()
        }  # fmt: skip
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)
        (target / "topics" / f"{topic.id}.yaml").write_text(text, encoding="utf-8")
    for name in ("handoff.yaml", "offtopic.yaml", "uncovered.yaml"):
        path = target / name
        if path.is_file():
            text = path.read_text(encoding="utf-8").replace("status: machine", "reviewed: false")
            path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("case", "file", "expected"),
    [
        ("language file not listed", "topics/pharmacy/xx.yaml", "language 'xx' is not in languages.yaml"),
        ("required language missing", "topics/pharmacy/topic.yaml", "missing translation 'en' (required)"),
        ("no topic.yaml", "topics/doctor/topic.yaml", "topic 'doctor' has no topic.yaml"),
        ("folder name not an id", "topics/Doctor/topic.yaml", "'Doctor' is not a topic id"),
        ("old layout", "topics/bank.yaml", "topic 'bank' is one file holding all languages (the old layout)"),
    ],
)
def test_a_topic_folders_problems_name_the_file(tmp_path: Path, case: str, file: str, expected: str) -> None:
    root = _copy(tmp_path)
    topics = root / "topics"
    if case == "language file not listed":
        (topics / "pharmacy/en.yaml").rename(topics / "pharmacy/xx.yaml")
    elif case == "required language missing":
        (topics / "pharmacy/en.yaml").unlink()
    elif case == "no topic.yaml":
        (topics / "doctor/topic.yaml").unlink()
    elif case == "folder name not an id":
        (topics / "doctor").rename(topics / "Doctor")
    else:
        (topics / "bank.yaml").write_text("id: bank\n", encoding="utf-8")
    result = check_knowledge(root)
    assert result.knowledge is None
    (error,) = [e for e in result.errors if expected in e.message]
    assert error.file.endswith(file) and error.line == 1 and error.hint, error.format()
    if case == "old layout":
        assert "python -m bot migrate-knowledge" in error.hint


def test_outdated_is_derived_from_the_revisions(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    shared = root / "topics/pharmacy/topic.yaml"
    shared.write_text(shared.read_text(encoding="utf-8").replace("revision: 1", "revision: 2"), encoding="utf-8")
    result = check_knowledge(root)
    assert result.knowledge is not None
    pharmacy = result.knowledge.topics["pharmacy"]
    assert pharmacy.outdated("de") and pharmacy.outdated("en") and not result.knowledge.topics["doctor"].outdated("de")
    outdated = [w for w in result.warnings if "pharmacy" in w.file and "outdated" in w.message]
    assert {(Path(w.file).name, w.line) for w in outdated} == {("de.yaml", 6), ("en.yaml", 6)}


def test_the_migration_is_lossless_on_the_real_knowledge(tmp_path: Path, dialogue: Dialogue) -> None:
    """Lotse's knowledge written back in the old layout, migrated, read again: the same knowledge, and the same
    evaluation figures on the shared development set (the migrated folder's matcher is read from the cache that the
    original trained: its key is the content, so an equal key is part of the proof)."""
    knowledge = dialogue.knowledge
    old = tmp_path / "old"
    _old_layout(knowledge, KNOWLEDGE_DIR, old)
    assert "old layout" in check_knowledge(old).errors[0].message
    out = io.StringIO()
    assert main(["migrate-knowledge", str(old)], out=out) == 0
    assert f"{len(knowledge.topics)} topic(s) converted" in out.getvalue()
    assert not list((old / "topics").glob("*.yaml")) and not list((old / "topics").glob(".*"))
    migrated = load_knowledge(old)
    assert migrated == knowledge
    assert cache_key(migrated, MatchSettings(), None) == cache_key(knowledge, MatchSettings(), None)
    hybrid = load_or_train(migrated, cache_dir=Path(os.environ["LOTSE_CACHE_DIR"]))
    items = load_items(SHARED / "eval" / "dev.yaml")
    figures = []
    for each in (dialogue, Dialogue(migrated, hybrid.index, hybrid=hybrid)):
        report = evaluate(items, lambda i, d=each: d.decide(i.text, i.lang, i.city))  # type: ignore[misc]
        figures.append((report.top1, report.hit3, report.emergency_recall, report.handoff_recall,
                        report.oos_false_rate))  # fmt: skip
    assert figures[0] == figures[1] and figures[0][0] > 0.9
    assert main(["migrate-knowledge", str(old)], out=io.StringIO()) == 0  # a second run finds nothing to do


def test_a_translation_marked_reviewed_becomes_a_draft_until_someone_signs(tmp_path: Path) -> None:
    knowledge = load_knowledge(FIXTURE_KB)
    old = tmp_path / "old"
    _old_layout(knowledge, FIXTURE_KB, old)
    assert migrate(old).problems == []
    de = (old / "topics/pharmacy/de.yaml").read_text(encoding="utf-8")
    assert "status: draft  # was 'reviewed: true'" in de and "\nreviewed_by:\n" in de
    ar = (old / "topics/doctor/ar.yaml").read_text(encoding="utf-8")
    assert "status: machine" in ar
    result = check_knowledge(old)
    assert result.errors == [] and result.knowledge is not None
    assert result.knowledge.topics["pharmacy"].translations["de"].status == "draft"


def test_a_topic_that_cannot_be_converted_is_left_as_it_was(tmp_path: Path) -> None:
    old = tmp_path / "old"
    _old_layout(load_knowledge(FIXTURE_KB), FIXTURE_KB, old)
    broken = old / "topics/doctor.yaml"
    broken.write_text("id: doctor\ntranslations: [\n", encoding="utf-8")
    (old / "topics/pharmacy").mkdir()
    out = io.StringIO()
    assert main(["migrate-knowledge", str(old)], out=out) == 1
    text = out.getvalue()
    assert "doctor.yaml: cannot be read (" in text and "pharmacy.yaml: the folder pharmacy/ exists already" in text
    assert broken.read_text(encoding="utf-8") == "id: doctor\ntranslations: [\n"
    assert (old / "topics/pharmacy.yaml").is_file() and (old / "topics/emergency/topic.yaml").is_file()


NASTY = [
    "yes", "no", "null", "~", "true", "123", "0x1F", "1e3", "2026-12-06", "a: b", "- item", "# not a comment",
    "  leading spaces", "trailing space ", 'say "hi"', "back\\slash", "tab\there", "'single'", "{contact:x}",
    "[not, a, list]", "*star", "&amp", "!tag", "%percent", "@at", "`tick`", "| pipe", "> fold",
    "مرحبا \u2068Köln\u2069", "\u200frtl mark", "emoji 🚑", "line one\nline two\n", "no final newline\nsecond",
    "two final newlines\n\n", " leading space block\nsecond\n", "trailing spaces   \nin a block\n", "\n",
]  # fmt: skip


@pytest.mark.parametrize("text", NASTY)
def test_the_writer_reads_back_what_it_wrote(text: str) -> None:
    data = {"title": text, "status": "machine", "checked": None, "examples": [text, "b"], "answer": text,
            "sources": [{"body": text, "url": "https://example.org"}], "revision": 1}  # fmt: skip
    written = dump(data, {"status": "a comment"}, header="a header\nsecond line")
    loaded = load_yaml_text(written, Path("x.yaml"))
    assert loaded.issues == []
    assert dict(loaded.data) == data, written
    assert yaml.safe_load(written) == data


def test_a_review_does_not_retrain_the_matcher_but_an_example_does(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = cache_key(load_knowledge(root), MatchSettings(), None)
    ar = root / "topics/doctor/ar.yaml"
    text = re.sub(r"^status: machine.*$", "status: reviewed", ar.read_text(encoding="utf-8"), count=1, flags=re.M)
    text = text.replace("reviewed_by:\n", 'reviewed_by: "amal.k"\n', 1).replace(
        "checked:\n", "checked: 2026-12-06\n", 1
    )
    ar.write_text(text, encoding="utf-8")
    signed = load_knowledge(root)
    assert signed.topics["doctor"].translations["ar"].reviewed
    assert cache_key(signed, MatchSettings(), None) == before
    ar.write_text(text.replace("examples:\n", 'examples:\n  - "دكتور"\n', 1), encoding="utf-8")
    assert cache_key(load_knowledge(root), MatchSettings(), None) != before
