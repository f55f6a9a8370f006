"""The review list (coverage --stale): outdated and unreviewed translations, contacts read long ago or undated."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from bot.core.coverage import stale
from bot.core.knowledge import load_knowledge
from tests.conftest import FIXTURE_KB


def test_the_review_list_names_what_to_look_at_again(tmp_path: Path) -> None:
    root = Path(shutil.copytree(FIXTURE_KB, tmp_path / "kb"))
    doctor = root / "topics" / "doctor" / "topic.yaml"
    text = doctor.read_text(encoding="utf-8")
    doctor.write_text(text.replace("revision: 2\n", "revision: 3\n", 1), encoding="utf-8")  # German changed
    pharmacy = root / "topics" / "pharmacy" / "en.yaml"
    text = pharmacy.read_text(encoding="utf-8").replace("status: reviewed", "status: machine", 1)
    pharmacy.write_text(text, encoding="utf-8")  # machine-drafted
    city = root / "cities" / "testcity.yaml"
    lines = city.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("source:"))
    lines.insert(at + 1, lines[at].split("source:")[0] + "seen: 2025-01-10")
    city.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = stale(load_knowledge(root), date(2026, 12, 6), 180)
    before = stale(load_knowledge(FIXTURE_KB), date(2026, 12, 6), 180)
    assert ("doctor", "de") not in before.outdated and before.old_contacts == []
    assert {("doctor", "de"), ("doctor", "en")} <= set(found.outdated)  # the topic's revision went up
    assert found.unreviewed["en"] == 1 and found.unreviewed["de"] == 0
    assert [(c, seen) for c, _, seen in found.old_contacts] == [("testcity", date(2025, 1, 10))]
    assert stale(load_knowledge(root), date(2025, 2, 1), 180).old_contacts == []  # not yet old then
    assert found.not_checked == []  # the fixture's reviews are of 2026-11-02
    later = stale(load_knowledge(root), date(2027, 6, 1), 180)
    assert ("doctor", "de", date(2026, 11, 2)) in later.not_checked and ("pharmacy", "en") not in {
        (t, lang) for t, lang, _ in later.not_checked
    }  # reviewed long ago: look again; a machine draft is on the unreviewed list instead
    assert "  doctor (de, checked 2026-11-02)" in "\n".join(later.lines())
    text = "\n".join(found.lines())
    assert f"{len(found.outdated)} outdated translation(s)" in text and "  doctor (en)" in text
    assert "testcity: " in text and "(read 2025-01-10)" in text
