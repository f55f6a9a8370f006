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
        "topics/doctor.yaml",
        "category: health",
        "category: health\ncolour: red",
        "unknown field 'colour'",
        3,
    ),
    ("missing field", "topics/doctor.yaml", "category: health\n", "", "missing field 'category'", 1),
    (
        "duplicate key",
        "topics/doctor.yaml",
        "revision: 2\nsources",
        "revision: 2\nrevision: 3\nsources",
        "duplicate key 'revision'",
        5,
    ),
    (
        "yaml 1.1 boolean in text",
        "topics/doctor.yaml",
        'title: "Arzt finden"',
        "title: no",
        "YAML 1.1 boolean",
        10,
    ),
    (
        "yaml 1.1 boolean in list",
        "topics/doctor.yaml",
        "keywords: [arzt,",
        "keywords: [off, arzt,",
        "YAML 1.1 boolean",
        16,
    ),
    (
        "yaml 1.1 boolean as bool",
        "topics/doctor.yaml",
        "reviewed: false",
        "reviewed: yes",
        "write true or false",
        35,
    ),
    (
        "anchor/alias",
        "topics/pharmacy.yaml",
        'title: "Apotheke"',
        'title: &t "Apotheke"\n    note_title: *t',
        "aliases",
        10,
    ),
    (
        "syntax error",
        "topics/pharmacy.yaml",
        "category: health",
        "category: health: bad",
        "YAML syntax error",
        2,
    ),
    ("tab indentation", "topics/pharmacy.yaml", "  de:\n", "\tde:\n", "YAML syntax error", 8),
    ("unknown category", "topics/doctor.yaml", "category: health", "category: food", "category", 2),
    (
        "id differs from file",
        "topics/doctor.yaml",
        "id: doctor",
        "id: doctors",
        "differs from the file name",
        1,
    ),
    (
        "broken related topic",
        "topics/doctor.yaml",
        "related: [pharmacy, emergency]",
        "related: [pharmacy, dentist]",
        "related topic 'dentist' does not exist",
        3,
    ),
    (
        "self related",
        "topics/doctor.yaml",
        "related: [pharmacy, emergency]",
        "related: [doctor]",
        "related to itself",
        3,
    ),
    (
        "unknown language",
        "topics/pharmacy.yaml",
        "  en:\n    title:",
        "  xx:\n    title:",
        "'xx' is not in languages.yaml",
        17,
    ),
    (
        "missing required language",
        "topics/pharmacy.yaml",
        "  en:\n    title:",
        "  ar:\n    title:",
        "missing translation 'en' (required)",
        8,
    ),
    (
        "empty answer",
        "topics/pharmacy.yaml",
        "answer: |\n      Take your",
        'answer: " "\n    x_: |\n      Take your',
        "must not be empty",
        19,
    ),
    (
        "unknown placeholder",
        "topics/doctor.yaml",
        '{contact:integration-centre}\n    examples: ["wo',
        '{contact:embassy}\n    examples: ["wo',
        "unknown placeholder '{contact:embassy}'",
        13,
    ),
    (
        "unmatched brace",
        "topics/pharmacy.yaml",
        "Nachts hilft",
        "Nachts { hilft",
        "unmatched curly brace",
        11,
    ),
    (
        "too few examples",
        "topics/pharmacy.yaml",
        '"apotheke nachts",\n               "notdienstapotheke", "tabletten kaufen", "medizin holen", '
        '"apotheke sonntag"]',
        '"apotheke nachts"]',
        "examples",
        12,
    ),
    (
        "translation newer than topic",
        "topics/pharmacy.yaml",
        "    revision: 1\n  en:",
        "    revision: 3\n  en:",
        "newer than the topic's revision",
        16,
    ),
    (
        "triggers outside emergency",
        "topics/pharmacy.yaml",
        "    reviewed: true\n    revision: 1\n  en:",
        "    triggers: [feuer]\n    reviewed: true\n    revision: 1\n  en:",
        "only the emergency topic has 'triggers'",
        15,
    ),
    (
        "emergency without triggers",
        "topics/emergency.yaml",
        '    triggers: [emergency, fire, "not breathing", unconscious, bleeding]\n',
        "",
        "needs 'triggers'",
        17,
    ),
    (
        "source without seed/body/url",
        "topics/pharmacy.yaml",
        '  - body: "Apothekerkammer"',
        '  - note: "somewhere"',
        "needs 'seed', 'body' or 'url'",
        6,
    ),
    (
        "malformed seed name",
        "topics/doctor.yaml",
        "seed: 004_bf826c38e02e00a4.txt",
        "seed: brochure.pdf",
        "not a seed file name",
        6,
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
    ("handoff language unknown", "handoff.yaml", "  en:", "  xx:", "'xx' is not in languages.yaml", 10),
    ("wrong file ending", "topics/pharmacy.yaml", "", "", "wrong file ending '.yml'", 1),
    (
        "uncited phone number",
        "topics/doctor.yaml",
        "Bringen Sie die Gesundheitskarte mit.",
        "Bringen Sie die Gesundheitskarte mit. Telefon 0211 1234567.",
        "phone number '0211 1234567' is not in the topic's sources",
        12,
    ),
    (
        "uncited web address",
        "topics/doctor.yaml",
        "Bringen Sie die Gesundheitskarte mit.",
        "Bringen Sie die Gesundheitskarte mit. Mehr: https://www.example.com/aerzte",
        "web address 'https://www.example.com/aerzte' is not among the topic's sources",
        12,
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
    assert error.file.endswith(Path(file).name if case != "wrong file ending" else "pharmacy.yml")
    assert error.line == line, error.format()
    assert error.hint, "every error carries a one-line hint"
    assert "\n" not in error.hint


def test_all_errors_reported_at_once(tmp_path: Path) -> None:
    root = _broken(tmp_path, "topics/doctor.yaml", "category: health", "category: food\ncolour: red")
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
    root = _broken(tmp_path, "topics/pharmacy.yaml", "related: [doctor]", "related: [doctor]")
    (root / "topics/emergency.yaml").unlink()
    messages = [p.message for p in check_knowledge(root).errors]
    assert "the emergency topic is missing" in messages
    assert "related topic 'emergency' does not exist" in messages


def test_load_knowledge_raises_with_all_problems(tmp_path: Path) -> None:
    root = _broken(tmp_path, "topics/doctor.yaml", "id: doctor", "id: doctors")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    assert "differs from the file name" in str(info.value)


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
    root = _broken(tmp_path, "topics/pharmacy.yaml", "category: health", "category: health\ncategory: help")
    errors = check_knowledge(root).errors
    assert [e.file.endswith("pharmacy.yaml") for e in errors] == [True]


def test_a_city_without_a_contact_an_answer_shows_is_warned_about(tmp_path: Path) -> None:
    root = _broken(tmp_path, "cities/testcity.yaml", "kind: integration-centre", "kind: jobcenter")
    result = check_knowledge(root)
    assert result.errors == []
    (warning,) = [w for w in result.warnings if "has no 'integration-centre' contact" in w.message]
    assert warning.file.endswith("testcity.yaml") and "doctor" in warning.message
    assert not [w for w in check_knowledge(FIXTURE_KB).warnings if "has no '" in w.message]


def test_a_marked_short_answer_over_the_limit_is_warned_about(tmp_path: Path) -> None:
    long = "Gehen Sie zu einer Hausarztpraxis. " * 20
    root = _broken(tmp_path, "topics/doctor.yaml", "      Gehen Sie zu einer Hausarztpraxis. Bringen",
                   f"      {long}\n      ---\n      Bringen")  # fmt: skip
    result = check_knowledge(root)
    assert result.errors == []
    (warning,) = [w for w in result.warnings if "short answer before '---'" in w.message]
    assert warning.file.endswith("doctor.yaml") and "doctor (de)" in warning.message and warning.line > 1


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("      {only:nowhere}Gehen Sie zu einer Hausarztpraxis.", "'nowhere', which is no city"),
        ("      Gehen Sie {only:testcity} zu einer Hausarztpraxis.", "unknown placeholder '{only:testcity}'"),
    ],
)
def test_lines_for_some_cities_name_real_cities_at_the_start_of_a_line(tmp_path: Path, new: str, expected: str) -> None:
    root = _broken(tmp_path, "topics/doctor.yaml", "      Gehen Sie zu einer Hausarztpraxis.", new)
    (error,) = [e for e in check_knowledge(root).errors if expected in e.message]
    assert error.line > 1  # the line of the answer, for the volunteer
    fine = _broken(tmp_path / "ok", "topics/doctor.yaml", "      Gehen Sie", "      {only:testcity}Gehen Sie")
    assert check_knowledge(fine).errors == []
