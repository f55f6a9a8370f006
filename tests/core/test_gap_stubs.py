"""`gaps --yaml DIR`: the worklist as files a volunteer pastes into the knowledge, and that pass `check` once the
answer is written."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

from bot.cli import main
from bot.core.gap_stubs import stubs
from bot.core.gaps import DAY, Gap, group
from bot.core.knowledge import check_knowledge, load_knowledge
from tests.conftest import KNOWLEDGE_DIR

TODAY = date(2026, 12, 6)
NOW = 20000 * DAY


def _gaps() -> list[Gap]:
    pharmacy = [("pharmacy", 0.62), ("doctor", 0.31)]
    licence = [("@uncovered", 0.8)]
    return [
        Gap.of("clarify", "de", "koeln", "hustensaft nachts kaufen wo", NOW, pharmacy),
        Gap.of("clarify", "ar", "koeln", "وين بلاقي دوا كحة بالليل", NOW, pharmacy),
        Gap.of("clarify", "de", None, "apotheke?", NOW, pharmacy),  # the topic has this example already
        Gap.of("fallback", "de", "koeln", "kann ich meinen führerschein umschreiben lassen", NOW, licence),
        Gap.of("fallback", "de", None, "führerschein umschreiben wo", NOW, licence),
        Gap.of("fallback", "ar", None, "تبديل شهادة السواقة السورية", NOW, licence),
        Gap.of("thumbs-down", "de", None, "", NOW, topic="housing"),  # no question: nothing to paste
    ]


def test_questions_for_an_existing_topic_paste_in_and_pass_the_check(tmp_path: Path) -> None:
    knowledge = load_knowledge(KNOWLEDGE_DIR)
    files = stubs(group(_gaps()), knowledge, TODAY)
    skeletons = {f"new-topics/new-topic-{n}/{name}.yaml" for n in (1, 2) for name in ("topic", "de", "en")}
    # a matter Lotse lists as uncovered gives no topic to group by: the Arabic question is a group of its own
    assert set(files) == {"examples/pharmacy/de.yaml", "examples/pharmacy/ar.yaml", "new-topics/new-topic-2/ar.yaml",
                          *skeletons}  # fmt: skip
    de = files["examples/pharmacy/de.yaml"]
    assert "topics/pharmacy/de.yaml" in de and '- "hustensaft nachts kaufen wo"' in de and "apotheke?" not in de
    root = Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))
    for lang in ("de", "ar"):  # as the guide says: the lines under 'examples:' go under the topic's 'examples:'
        lines = [line for line in files[f"examples/pharmacy/{lang}.yaml"].splitlines() if line.startswith("  - ")]
        topic = root / "topics" / "pharmacy" / f"{lang}.yaml"
        text = topic.read_text(encoding="utf-8")
        topic.write_text(text.replace("examples:\n", "examples:\n" + "\n".join(lines) + "\n", 1), encoding="utf-8")
    result = check_knowledge(root)
    assert result.errors == [] and result.knowledge is not None
    assert "وين بلاقي دوا كحة بالليل" in result.knowledge.topics["pharmacy"].translations["ar"].examples


def test_a_new_topic_skeleton_passes_the_check_once_the_answer_is_written(tmp_path: Path) -> None:
    out = io.StringIO()
    files = stubs(group(_gaps()), load_knowledge(KNOWLEDGE_DIR), TODAY)
    root = Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))
    folder = root / "topics" / "driving-licence"  # renamed and moved, as its header says
    folder.mkdir()
    for name, text in files.items():
        if name.startswith("new-topics/new-topic-1/"):
            (folder / name.rsplit("/", 1)[1]).write_text(text, encoding="utf-8")
    de = (folder / "de.yaml").read_text(encoding="utf-8")
    assert '- "kann ich meinen führerschein umschreiben lassen"' in de
    assert 'keywords:\n  - "führerschein"\n  - umschreiben\n' in de  # what the questions share, no function words
    assert "no one asked in this language yet" in (folder / "en.yaml").read_text(encoding="utf-8")
    errors = {(Path(e.file).name, e.message.split(":")[0]) for e in check_knowledge(root).errors}
    assert {("de.yaml", "title"), ("de.yaml", "answer"), ("topic.yaml", "sources"), ("en.yaml", "examples")} <= errors
    written = {
        "de.yaml": ('title: "Führerschein umschreiben"', 'answer: "Fragen Sie die Führerscheinstelle."'),
        "en.yaml": ('title: "Exchange a driving licence"', 'answer: "Ask the driving licence office."'),
    }
    for name, (title, answer) in written.items():
        text = (folder / name).read_text(encoding="utf-8")
        text = text.replace('title: ""', title, 1).replace('answer: ""', answer, 1)
        if name == "en.yaml":  # nobody asked in English: one question and its words, as the comment says
            text = text.replace("examples: []", 'examples:\n  - "driving licence exchange"', 1)
            text = text.replace("keywords: []", "keywords:\n  - licence", 1)
        (folder / name).write_text(text, encoding="utf-8")
    shared = folder / "topic.yaml"
    source = 'sources:\n  - body: "Straßenverkehrsamt (Führerscheinstelle) of the city"'
    shared.write_text(shared.read_text(encoding="utf-8").replace("sources: []", source, 1), encoding="utf-8")
    assert main(["check", str(root), "--errors-only"], out) == 0, out.getvalue()
    assert "26 topics" in out.getvalue()
