"""Every class of knowledge error: a broken copy of the fixture knowledge base and the exact report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeError, check_knowledge, load_knowledge
from tests.conftest import FIXTURE_KB

# (case, file, text to replace, replacement, expected message part, expected line)
CASES: list[tuple[str, str, str, str, str, int]] = [
    (
        "unknown field",
        "topics/doctor/topic.yaml",
        "category: health",
        "category: health\ncolour: red",
        "unknown field 'colour'",
        3,
    ),
    (
        "missing field",
        "topics/doctor/topic.yaml",
        "category: health\n",
        "",
        "missing field 'category'",
        2,
    ),
    (
        "duplicate key",
        "topics/doctor/topic.yaml",
        "revision: 2\nsources",
        "revision: 2\nrevision: 3\nsources",
        "duplicate key 'revision'",
        7,
    ),
    (
        "yaml 1.1 boolean in text",
        "topics/doctor/de.yaml",
        'title: "Arzt finden"',
        "title: no",
        "YAML 1.1 boolean",
        2,
    ),
    (
        "yaml 1.1 boolean in list",
        "topics/doctor/de.yaml",
        "keywords:\n  - arzt",
        "keywords:\n  - off\n  - arzt",
        "YAML 1.1 boolean",
        20,
    ),
    (
        "yaml 1.1 boolean as bool",
        "languages.yaml",
        "fallback: en}",
        "fallback: en, required: yes}",
        "write true or false",
        4,
    ),
    (
        "anchor/alias",
        "topics/pharmacy/de.yaml",
        'title: "Apotheke"',
        'title: &t "Apotheke"\nnote_title: *t',
        "aliases",
        3,
    ),
    (
        "syntax error",
        "topics/pharmacy/topic.yaml",
        "category: health",
        "category: health: bad",
        "YAML syntax error",
        2,
    ),
    (
        "tab indentation",
        "topics/pharmacy/de.yaml",
        "  - apotheke\n",
        "\t- apotheke\n",
        "YAML syntax error",
        10,
    ),
    (
        "unknown category",
        "topics/doctor/topic.yaml",
        "category: health",
        "category: food",
        "category",
        2,
    ),
    (
        "broken related topic",
        "topics/doctor/topic.yaml",
        "  - emergency",
        "  - dentist",
        "related topic 'dentist' does not exist",
        5,
    ),
    (
        "self related",
        "topics/doctor/topic.yaml",
        "  - pharmacy\n  - emergency",
        "  - doctor",
        "related to itself",
        4,
    ),
    (
        "unknown status",
        "topics/doctor/de.yaml",
        "status: reviewed",
        "status: done",
        "status",
        3,
    ),
    (
        "reviewed without reviewer",
        "topics/doctor/de.yaml",
        'reviewed_by: "fixture reviewer"\n',
        "",
        "status: reviewed needs reviewed_by",
        3,
    ),
    (
        "malformed checked date",
        "topics/doctor/de.yaml",
        "checked: 2026-11-02",
        'checked: "2.11.2026"',
        "checked",
        5,
    ),
    (
        "checked in the future",
        "topics/doctor/de.yaml",
        "checked: 2026-11-02",
        "checked: 2999-01-01",
        "lies in the future",
        5,
    ),
    (
        "empty answer",
        "topics/pharmacy/en.yaml",
        "answer: |\n  Take your prescription to a pharmacy (Apotheke).\n",
        'answer: " "\n',
        "must not be empty",
        7,
    ),
    (
        "unknown placeholder",
        "topics/doctor/de.yaml",
        "{contact:integration-centre}",
        "{contact:embassy}",
        "unknown placeholder '{contact:embassy}'",
        9,
    ),
    (
        "unmatched brace",
        "topics/pharmacy/de.yaml",
        "Nachts hilft",
        "Nachts { hilft",
        "unmatched curly brace",
        8,
    ),
    (
        "too few examples",
        "topics/pharmacy/de.yaml",
        'examples:\n  - apotheke\n  - "wo bekomme ich medikamente"\n  - "rezept einloesen"\n  - "apotheke nachts"\n'
        '  - notdienstapotheke\n  - "tabletten kaufen"\n  - "medizin holen"\n  - "apotheke sonntag"\n',
        "examples: []\n",
        "examples",
        9,
    ),
    (
        "translation newer than topic",
        "topics/pharmacy/en.yaml",
        "revision: 1",
        "revision: 3",
        "newer than the topic's revision",
        6,
    ),
    (
        "triggers outside emergency",
        "topics/pharmacy/de.yaml",
        "revision: 1\n",
        "revision: 1\ntriggers: [feuer]\n",
        "only the emergency topic has 'triggers'",
        7,
    ),
    (
        "emergency without triggers",
        "topics/emergency/en.yaml",
        'triggers:\n  - emergency\n  - fire\n  - "not breathing"\n  - unconscious\n  - bleeding\n',
        "",
        "needs 'triggers'",
        2,
    ),
    (
        "source without seed/body/url",
        "topics/pharmacy/topic.yaml",
        '  - body: "Apothekerkammer"',
        '  - note: "somewhere"',
        "needs 'seed', 'body' or 'url'",
        7,
    ),
    (
        "malformed seed name",
        "topics/doctor/topic.yaml",
        'seed: "004_bf826c38e02e00a4.txt"',
        "seed: brochure.pdf",
        "not a seed file name",
        8,
    ),
    (
        "malformed phone",
        "cities/testcity.yaml",
        '"+49 211 1234567"',
        '"call 0211-ABC"',
        "malformed phone number",
        10,
    ),
    (
        "malformed e-mail",
        "cities/testcity.yaml",
        '"ki@example.org"',
        '"ki(at)example"',
        "malformed e-mail",
        11,
    ),
    (
        "malformed url",
        "cities/testcity.yaml",
        '"https://www.example.org/ki"',
        '"www.example.org"',
        "malformed URL",
        12,
    ),
    (
        "http url",
        "cities/testcity.yaml",
        '"https://www.example.org/ki"',
        '"http://www.example.org/ki"',
        "only https://",
        12,
    ),
    (
        "malformed hours",
        "cities/testcity.yaml",
        'mon: "09:00-12:00"',
        'mon: "9 to 12"',
        "malformed opening hours",
        13,
    ),
    (
        "hours not rising",
        "cities/testcity.yaml",
        'mon: "09:00-12:00"',
        'mon: "12:00-09:00"',
        "times must rise",
        13,
    ),
    ("unknown day", "cities/testcity.yaml", 'mon: "09:00-12:00"', 'monday: "09:00-12:00"', "hours", 13),
    (
        "unquoted postcode",
        "cities/testcity.yaml",
        'postcodes: ["40210"]',
        "postcodes: [40210]",
        "a number where text belongs",
        5,
    ),
    ("unknown contact kind", "cities/testcity.yaml", "kind: integration-centre", "kind: embassy", "kind", 7),
    (
        "contact without source",
        "cities/testcity.yaml",
        "    source: 002_966a1a22b8d7b6e6.txt\n",
        "",
        "missing field 'contacts.0.source'",
        7,
    ),
    (
        "city language unknown",
        "cities/testcity.yaml",
        "languages: [de, en, ar]",
        "languages: [de, xx]",
        "'xx' is not in languages.yaml",
        14,
    ),
    (
        "city without German name",
        "cities/testcity.yaml",
        "names: {de: Teststadt,",
        "names: {",
        "German name (de) is required",
        2,
    ),
    ("latitude out of range", "cities/testcity.yaml", "lat: 51.0", "lat: 151.0", "coordinates.lat", 4),
    (
        "slug differs from file",
        "cities/testcity.yaml",
        "slug: testcity",
        "slug: otherplace",
        "differs from the file name",
        1,
    ),
    (
        "unknown fallback",
        "languages.yaml",
        "fallback: en}",
        "fallback: xx}",
        "fallback 'xx' is not a listed language",
        4,
    ),
    (
        "fallback loop",
        "languages.yaml",
        "direction: ltr, required: true}",
        "direction: ltr, fallback: ar, required: true}",
        "fallback loop",
        2,
    ),
    ("duplicate language", "languages.yaml", "code: ar", "code: en", "listed twice", 4),
    ("bad direction", "languages.yaml", "direction: rtl", "direction: up", "direction", 4),
    ("handoff language unknown", "handoff.yaml", "  en:", "  xx:", "'xx' is not in languages.yaml", 12),
    ("wrong file ending", "topics/pharmacy/de.yaml", "", "", "wrong file ending '.yml'", 1),
    (
        "uncited phone number",
        "topics/doctor/de.yaml",
        "Bringen Sie die Gesundheitskarte mit.",
        "Bringen Sie die Gesundheitskarte mit. Telefon 0211 1234567.",
        "phone number '0211 1234567' is not in the topic's sources",
        8,
    ),
    (
        "uncited web address",
        "topics/doctor/de.yaml",
        "Bringen Sie die Gesundheitskarte mit.",
        "Bringen Sie die Gesundheitskarte mit. Mehr: https://www.example.com/aerzte",
        "web address 'https://www.example.com/aerzte' is not among the topic's sources",
        8,
    ),
]


def _broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, root)
    path = root / file
    if not old and not new:  # rename case
        path.rename(path.with_suffix(".yml"))
        return root
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


def test_fixture_is_valid() -> None:
    result = check_knowledge(FIXTURE_KB)
    assert result.errors == []
    assert result.knowledge is not None
    assert set(result.knowledge.topics) == {"doctor", "emergency", "pharmacy"}


@pytest.mark.parametrize(("case", "file", "old", "new", "expected", "line"), CASES, ids=[c[0] for c in CASES])
def test_broken_fixture_reports_file_line(
    tmp_path: Path, case: str, file: str, old: str, new: str, expected: str, line: int
) -> None:
    root = _broken(tmp_path, file, old, new)
    result = check_knowledge(root)
    assert result.knowledge is None, "an error must make the knowledge unusable"
    errors = [p for p in result.errors if expected in p.message]
    assert errors, f"{case}: no error containing {expected!r}; got {[p.format() for p in result.errors]}"
    error = errors[0]
    assert error.file.endswith(file if case != "wrong file ending" else "pharmacy/de.yml"), error.format()
    assert error.line == line, error.format()
    assert error.hint, "every error carries a one-line hint"
    assert "\n" not in error.hint


def test_all_errors_reported_at_once(tmp_path: Path) -> None:
    root = _broken(tmp_path, "topics/doctor/topic.yaml", "category: health", "category: food\ncolour: red")
    text = (root / "cities/testcity.yaml").read_text(encoding="utf-8")
    (root / "cities/testcity.yaml").write_text(text.replace('"ki@example.org"', '"nope"'), encoding="utf-8")
    messages = [p.message for p in check_knowledge(root).errors]
    assert any("category" in m for m in messages)
    assert any("unknown field 'colour'" in m for m in messages)
    assert any("malformed e-mail" in m for m in messages)


def test_warnings_do_not_fail() -> None:
    result = check_knowledge(FIXTURE_KB)
    warnings = [p.message for p in result.warnings]
    assert any("outdated" in m for m in warnings)
    assert any("unreviewed translations: ar" in m for m in warnings)
    assert result.knowledge is not None


def test_missing_emergency_topic(tmp_path: Path) -> None:
    root = _broken(tmp_path, "topics/pharmacy/topic.yaml", "category: health", "category: health")
    shutil.rmtree(root / "topics/emergency")
    messages = [p.message for p in check_knowledge(root).errors]
    assert "the emergency topic is missing" in messages
    assert "related topic 'emergency' does not exist" in messages


def test_load_knowledge_raises_with_all_problems(tmp_path: Path) -> None:
    root = _broken(tmp_path, "topics/doctor/topic.yaml", "category: health", "category: food")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    assert "topics/doctor/topic.yaml:2: error: category" in str(info.value)


def test_knowledge_objects_are_immutable() -> None:
    kb = load_knowledge(FIXTURE_KB)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error or TypeError of a read-only map
        kb.topics["doctor"].revision = 5
    with pytest.raises(TypeError):
        kb.topics["doctor"].translations["fr"] = kb.topics["doctor"].translations["de"]  # type: ignore[index]


def test_native_language_names_are_babels() -> None:
    from babel import Locale

    from bot.core.knowledge import load_knowledge as load
    from tests.conftest import KNOWLEDGE_DIR

    for code, language in load(KNOWLEDGE_DIR).languages.items():
        babel_name = Locale.parse(code).get_display_name(code)
        assert babel_name is not None
        assert language.native.casefold() == babel_name.casefold(), (code, language.native, babel_name)
        assert language.direction == Locale.parse(code).text_direction


def test_a_broken_topic_causes_no_follow_up_errors_elsewhere(tmp_path: Path) -> None:
    root = _broken(tmp_path, "topics/pharmacy/topic.yaml", "category: health", "category: health\ncategory: help")
    errors = check_knowledge(root).errors
    assert [e.file.endswith("pharmacy/topic.yaml") for e in errors] == [True]


def test_a_city_without_a_contact_an_answer_shows_is_warned_about(tmp_path: Path) -> None:
    root = _broken(tmp_path, "cities/testcity.yaml", "kind: integration-centre", "kind: jobcenter")
    result = check_knowledge(root)
    assert result.errors == []
    (warning,) = [w for w in result.warnings if "has no 'integration-centre' contact" in w.message]
    assert warning.file.endswith("testcity.yaml") and "doctor" in warning.message
    assert not [w for w in check_knowledge(FIXTURE_KB).warnings if "has no '" in w.message]


def test_a_marked_short_answer_over_the_limit_is_warned_about(tmp_path: Path) -> None:
    long = "Gehen Sie zu einer Hausarztpraxis. " * 20
    root = _broken(tmp_path, "topics/doctor/de.yaml", "  Gehen Sie zu einer Hausarztpraxis. Bringen",
                   f"  {long}\n  ---\n  Bringen")  # fmt: skip
    result = check_knowledge(root)
    assert result.errors == []
    (warning,) = [w for w in result.warnings if "short answer before '---'" in w.message]
    assert warning.file.endswith("doctor/de.yaml") and "doctor (de)" in warning.message and warning.line > 1


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("  {only:nowhere}Gehen Sie zu einer Hausarztpraxis.", "'nowhere', which is no city"),
        ("  Gehen Sie {only:testcity} zu einer Hausarztpraxis.", "unknown placeholder '{only:testcity}'"),
    ],
)
def test_lines_for_some_cities_name_real_cities_at_the_start_of_a_line(tmp_path: Path, new: str, expected: str) -> None:
    root = _broken(tmp_path, "topics/doctor/de.yaml", "  Gehen Sie zu einer Hausarztpraxis.", new)
    (error,) = [e for e in check_knowledge(root).errors if expected in e.message]
    assert error.file.endswith("topics/doctor/de.yaml") and error.line == 8  # the answer's line, for the volunteer
    fine = _broken(tmp_path / "ok", "topics/doctor/de.yaml", "  Gehen Sie", "  {only:testcity}Gehen Sie")
    assert check_knowledge(fine).errors == []
