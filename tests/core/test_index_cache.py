"""The search index kept between starts: read back, it answers exactly as the one built from the knowledge."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import index_cache
from bot.core.hybrid import cache_key, load_or_train
from bot.core.match_model import MatchSettings
from bot.core.matcher import Index
from bot.core.model import Knowledge
from tests.conftest import FIXTURE_KB

QUERIES = [
    ("wo finde ich einen arzt", "de"),
    ("Kinderarzt in Köln", "de"),
    ("where can i learn german", "en"),
    ("my child is not breathing", "en"),
    ("أين أجد طبيب أطفال", "ar"),
    ("де знайти лікаря", "uk"),
    ("çöp nereye atılır", "tr"),
    ("ich will mit einem menschen sprechen", "de"),
    ("Muell trennen duesseldorf", "de"),
    ("jobcentr termin", "ru"),
]


def test_a_restored_index_answers_as_the_built_one(knowledge: Knowledge) -> None:
    settings = MatchSettings()
    built = Index(knowledge, settings)
    restored = index_cache.restore(knowledge, settings, index_cache.state(built))
    for text, lang in QUERIES:
        assert restored.search(text, lang) == built.search(text, lang), text
        assert restored.explain(text, lang) == built.explain(text, lang), text
    assert restored.targets == built.targets and restored.vocabulary_size() == built.vocabulary_size()
    assert restored.stopwords == built.stopwords
    assert restored.knows("arzt") and not restored.knows("qqqzzz")


def test_a_restart_reads_the_index_instead_of_building_it(
    knowledge: Knowledge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core.knowledge import load_knowledge

    small = load_knowledge(FIXTURE_KB)  # trains in a moment
    first = load_or_train(small, cache_dir=tmp_path)
    key = cache_key(small, MatchSettings(), None)
    assert index_cache.index_path(tmp_path, key).is_file()

    def no_building(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was built again")

    monkeypatch.setattr(Index, "__init__", no_building)
    again = load_or_train(small, cache_dir=tmp_path)
    assert again.index.search("arzt", "de") == first.index.search("arzt", "de")


def test_an_unreadable_index_file_is_built_again(tmp_path: Path) -> None:
    from bot.core.knowledge import load_knowledge

    small = load_knowledge(FIXTURE_KB)
    load_or_train(small, cache_dir=tmp_path)
    path = index_cache.index_path(tmp_path, cache_key(small, MatchSettings(), None))
    path.write_bytes(b"\x00 not an index")
    hybrid = load_or_train(small, cache_dir=tmp_path)
    assert hybrid.index.targets
    assert index_cache.load(path, small, MatchSettings()) is not None  # written again, readable
    path.write_bytes(index_cache.state(hybrid.index)[:-7])  # cut short (a full disk)
    assert index_cache.load(path, small, MatchSettings()) is None


def test_the_file_name_carries_format_and_python() -> None:
    name = index_cache.index_path(Path("/c"), "abc").name
    assert name.startswith("index-abc-f") and "-py3" in name and name.endswith(".marshal")
