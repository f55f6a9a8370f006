"""Shared fixtures: the real knowledge base, its index and dialogue (built once per session)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.core.dialogue import Dialogue
from bot.core.hybrid import load_or_train
from bot.core.knowledge import load_knowledge
from bot.core.matcher import build_index
from bot.core.model import Knowledge

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = ROOT / "knowledge"
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge(KNOWLEDGE_DIR)


# One trained matcher per knowledge content for the whole run (and the next): the CLI tests read the same folder.
CACHE_DIR = ROOT / ".cache" / "lotse"
os.environ.setdefault("LOTSE_CACHE_DIR", str(CACHE_DIR))


@pytest.fixture(scope="session")
def dialogue(knowledge: Knowledge) -> Dialogue:
    hybrid = load_or_train(knowledge, cache_dir=Path(os.environ["LOTSE_CACHE_DIR"]))
    return Dialogue(knowledge, hybrid.index, hybrid=hybrid)


@pytest.fixture(scope="session")
def fixture_dialogue() -> Dialogue:
    kb = load_knowledge(FIXTURE_KB)
    return Dialogue(kb, build_index(kb))
