"""knowledge/README.md's worked example, followed as a new volunteer would: a city with two contacts and a new
example question, on a copy of the knowledge; `check` passes and the knowledge holds both."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

from bot.cli import main
from bot.core.knowledge import load_knowledge
from tests.conftest import KNOWLEDGE_DIR

GUIDE = KNOWLEDGE_DIR / "README.md"


def _worked_example() -> tuple[str, str]:
    """The guide's two YAML blocks: the city file and the line to add."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Worked example:", 1)[1].split("\n## ", 1)[0]
    city, line = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return city, line


def test_following_the_worked_example_passes_the_check(tmp_path: Path) -> None:
    root = Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))
    city, line = _worked_example()
    (root / "cities" / "musterstadt.yaml").write_text(city, encoding="utf-8")
    topic = root / "topics" / "residence-permit.yaml"
    lines = topic.read_text(encoding="utf-8").splitlines()
    de = lines.index("  de:")
    at = next(i for i in range(de, len(lines)) if lines[i].strip() == "examples:")
    lines.insert(at + 1, line.rstrip("\n"))  # "as one more line of the list"
    topic.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    assert main(["check", str(root), "--errors-only"], out) == 0, out.getvalue()
    assert ": 0 error(s)" in out.getvalue() and "25 topics, 12 languages, 9 cities" in out.getvalue()
    knowledge = load_knowledge(root)  # what the bot reads at its next start (or live reload)
    assert [c.kind for c in knowledge.cities["musterstadt"].contacts] == ["integration-centre", "service-point"]
    assert "wo ist das auslenderamt in musterstadt" in knowledge.topics["residence-permit"].translations["de"].examples
