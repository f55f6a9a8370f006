"""What a restart reads instead of doing again: the checked knowledge and the emergency detector's tables."""

from __future__ import annotations

import logging
import marshal
import pickle
import shutil
from pathlib import Path

import pytest

from bot.core import start_cache
from bot.core.dialogue import Dialogue
from bot.core.emergency import build_detector
from bot.core.evaluate import load_items
from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.model import Knowledge
from tests.conftest import KNOWLEDGE_DIR, SHARED


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the knowledge to edit."""
    return Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))


def _snapshots(cache: Path) -> list[Path]:
    return sorted(cache.glob("knowledge-*.pickle"))


def test_a_restart_reads_the_checked_knowledge_from_its_snapshot(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = start_cache.checked_knowledge(folder, cache)
    assert first == load_knowledge(folder)
    (snapshot,) = _snapshots(cache)
    assert snapshot.stat().st_mode & 0o077 == 0  # readable by the bot's user only
    again = start_cache.checked_knowledge(folder, cache)
    assert again == first and again is not first
    assert again.topics["doctor"].translations["ar"] == first.topics["doctor"].translations["ar"]
    with pytest.raises(TypeError):  # read-only mappings stay read-only
        again.topics["doctor"].translations["xx"] = again.topics["doctor"].translations["de"]  # type: ignore[index]


def test_an_edit_is_read_and_a_broken_edit_refused_despite_the_snapshot(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    start_cache.checked_knowledge(folder, cache)
    topic = folder / "topics" / "pharmacy" / "de.yaml"
    text = topic.read_text(encoding="utf-8")
    title = load_knowledge(folder).topics["pharmacy"].translations["de"].title
    topic.write_text(text.replace(title, title + " (neu)", 1), encoding="utf-8")
    edited = start_cache.checked_knowledge(folder, cache)
    assert edited.topics["pharmacy"].translations["de"].title == title + " (neu)"
    assert len(_snapshots(cache)) == 2
    topic.write_text(text + "\nbroken: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        start_cache.checked_knowledge(folder, cache)


def test_an_unreadable_snapshot_is_replaced(folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    expected = start_cache.checked_knowledge(folder, cache)
    (snapshot,) = _snapshots(cache)
    snapshot.write_bytes(b"\x80\x05 not a pickle")
    with caplog.at_level(logging.WARNING, "lotse.cache"):
        assert start_cache.checked_knowledge(folder, cache) == expected
    assert "unreadable" in caplog.text
    assert start_cache.checked_knowledge(folder, cache) == expected  # written again


class _Payload:
    """What an attacker would put into a snapshot: a call of an arbitrary function when it is read."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))


def test_a_snapshot_constructs_nothing_but_knowledge(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = start_cache.checked_knowledge(folder, cache)
    (snapshot,) = _snapshots(cache)
    marker = tmp_path / "ran"
    snapshot.write_bytes(pickle.dumps(_Payload(marker)))
    assert start_cache.checked_knowledge(folder, cache) == expected
    assert not marker.exists()


def test_without_a_writable_cache_the_knowledge_is_read_all_the_same(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, "lotse.cache"):
        assert start_cache.checked_knowledge(folder, blocked / "cache") == load_knowledge(folder)
    assert "not cached" in caplog.text
    assert start_cache.checked_knowledge(folder, None) == load_knowledge(folder)


def test_a_restored_detector_finds_what_the_built_one_finds(
    dialogue: Dialogue, knowledge: Knowledge, tmp_path: Path
) -> None:
    index = dialogue.index
    built = build_detector(knowledge.emergency, index.knows, index.stopwords)
    assert built is not None
    first = start_cache.detector(knowledge, index.knows, index.stopwords, tmp_path, "key")
    (cached,) = tmp_path.glob("detector-*.marshal")
    restored = start_cache.detector(knowledge, index.knows, index.stopwords, tmp_path, "key")
    assert first is not None and restored is not None and restored is not first
    assert marshal.loads(cached.read_bytes()) == built.state()
    texts = [item.text for name in ("emergency-dev.yaml", "dev.yaml") for item in load_items(SHARED / "eval" / name)]
    texts += ["mein kind atmet nicht mehr", "Erste-Hilfe-Kurs anmelden", "sitzen", "ritzen", "allowed"]
    assert len(texts) > 200
    for text in texts:
        assert restored.detect(text) == built.detect(text), text
    # another matcher key (other knowledge or settings): built anew, not read
    start_cache.detector(knowledge, index.knows, index.stopwords, tmp_path, "other key")
    assert len(list(tmp_path.glob("detector-*.marshal"))) == 2


def test_the_code_is_part_of_the_key(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = start_cache.knowledge_digest(folder)
    monkeypatch.setattr(start_cache, "code_digest", lambda: "other code")
    assert start_cache.knowledge_digest(folder) != before
