"""knowledge/README.md's worked examples, followed as a new volunteer would, each on a fresh copy of the knowledge:
the YAML of each example is taken from the guide itself, put where the guide says, and `check` passes."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date
from pathlib import Path

from bot.cli import main
from bot.core.coverage import coverage, stale
from bot.core.knowledge import check_knowledge, load_knowledge
from tests.conftest import KNOWLEDGE_DIR

GUIDE = KNOWLEDGE_DIR / "README.md"


def _blocks(number: int) -> list[str]:
    """The YAML blocks of worked example ``number``, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split(f"\n### {number}. ", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, re.S)


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))


def _check(root: Path) -> str:
    out = io.StringIO()
    assert main(["check", str(root), "--errors-only"], out) == 0, out.getvalue()
    assert ": 0 error(s)" in out.getvalue()
    return out.getvalue()


def _add_example(path: Path, line: str) -> None:
    """One more line of the list under ``examples:``, as the guide says."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("examples:\n", "examples:\n" + line.rstrip("\n") + "\n", 1), encoding="utf-8")


def _set_top(path: Path, block: str) -> None:
    """The guide's ``key: value`` lines replace those keys at the top of a language file."""
    text = path.read_text(encoding="utf-8")
    for line in block.strip().splitlines():
        key = line.split(":", 1)[0]
        text, found = re.subn(rf"^{key}:.*$", line, text, count=1, flags=re.M)
        assert found, key
    path.write_text(text, encoding="utf-8")


def test_1_fix_an_answer(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    sentence, top = _blocks(1)
    de = root / "topics" / "pharmacy" / "de.yaml"
    lines = de.read_text(encoding="utf-8").splitlines()
    end = lines.index("examples:")  # the answer's last line is the one before 'examples:'
    lines.insert(end, sentence.rstrip("\n"))
    de.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shared = root / "topics" / "pharmacy" / "topic.yaml"
    shared.write_text(shared.read_text(encoding="utf-8").replace("revision: 1", "revision: 2", 1), encoding="utf-8")
    _set_top(de, top)
    _check(root)
    result = check_knowledge(root)
    assert result.knowledge is not None
    pharmacy = result.knowledge.topics["pharmacy"]
    assert "Fragen Sie in der Apotheke nach" in pharmacy.translations["de"].answer
    assert not pharmacy.outdated("de") and all(
        pharmacy.outdated(lang) for lang in pharmacy.translations if lang != "de"
    )
    outdated = [
        w for w in result.warnings if "pharmacy" in w.file and "translation is outdated (revision 1" in w.message
    ]
    assert len(outdated) == len(pharmacy.translations) - 1
    assert ("pharmacy", "en") in stale(result.knowledge, date(2026, 12, 6)).outdated


def test_2_add_example_questions_from_the_gaps_list(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (line,) = _blocks(2)
    _add_example(root / "topics" / "pharmacy" / "de.yaml", line)
    _check(root)
    assert "hustensaft nachts kaufen wo" in load_knowledge(root).topics["pharmacy"].translations["de"].examples


def test_3_review_a_translation(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (sign,) = _blocks(3)
    before = coverage(load_knowledge(root)).topics["pharmacy"]["ar"]
    _set_top(root / "topics" / "pharmacy" / "ar.yaml", sign)
    _check(root)
    knowledge = load_knowledge(root)
    ar = knowledge.topics["pharmacy"].translations["ar"]
    assert (before, coverage(knowledge).topics["pharmacy"]["ar"]) == ("unreviewed", "ok")
    assert (ar.status, ar.reviewed_by, ar.checked) == ("reviewed", "amal.k", date(2026, 12, 6))
    later = stale(knowledge, date(2027, 7, 1), 180)
    assert ("pharmacy", "ar", date(2026, 12, 6)) in later.not_checked  # half a year later: look again


def test_4_add_a_language(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (line,) = _blocks(4)
    languages = root / "languages.yaml"
    languages.write_text(languages.read_text(encoding="utf-8") + line, encoding="utf-8")
    topic = root / "topics" / "pharmacy"
    text = (topic / "en.yaml").read_text(encoding="utf-8").replace("status: machine", "status: draft", 1)
    (topic / "ckb.yaml").write_text(text, encoding="utf-8")  # "translated" (the test keeps the English words)
    words = (root / "emergency" / "en.yaml").read_text(encoding="utf-8")
    (root / "emergency" / "ckb.yaml").write_text(words.replace("lang: en", "lang: ckb", 1), encoding="utf-8")
    _check(root)
    result = check_knowledge(root)
    assert result.knowledge is not None and result.knowledge.languages["ckb"].direction == "rtl"
    assert result.knowledge.topics["pharmacy"].translations["ckb"].status == "draft"
    missing = [w for w in result.warnings if w.message.startswith("missing translations:") and "ckb" in w.message]
    assert len(missing) == len(result.knowledge.topics) - 1  # every topic but pharmacy
    assert result.knowledge.emergency is not None and "ckb" in result.knowledge.emergency.words


def test_5_add_a_city_with_two_contacts_and_a_new_example_question(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    city, line = _blocks(5)
    (root / "cities" / "musterstadt.yaml").write_text(city, encoding="utf-8")
    _add_example(root / "topics" / "residence-permit" / "de.yaml", line)
    out = _check(root)
    assert "25 topics, 12 languages, 55 cities" in out
    knowledge = load_knowledge(root)  # what the bot reads at its next start (or live reload)
    town = knowledge.cities["musterstadt"]
    assert [c.kind for c in town.contacts] == ["integration-centre", "service-point"]
    assert (town.level, town.district) == ("municipality", "kreis-soest")  # the Kreis's offices stand in
    result = check_knowledge(root)
    assert any("Musterstadt is not in municipalities.yaml" in w.message for w in result.warnings)
    assert "wo ist das auslenderamt in musterstadt" in knowledge.topics["residence-permit"].translations["de"].examples
