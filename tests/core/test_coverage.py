"""Coverage table: states per topic and language, city contact counts, README kept in step."""

from __future__ import annotations

from bot.core.coverage import END, START, coverage, markdown, replace_section
from bot.core.knowledge import load_knowledge
from bot.core.model import Knowledge
from tests.conftest import FIXTURE_KB, KNOWLEDGE_DIR


def test_states_of_the_fixture() -> None:
    cov = coverage(load_knowledge(FIXTURE_KB))
    assert cov.topics["doctor"] == {"de": "ok", "en": "ok", "ar": "outdated"}
    assert cov.topics["pharmacy"]["ar"] == "missing"
    assert cov.count("missing") == 2  # pharmacy and emergency lack Arabic
    assert cov.cities["testcity"]["integration-centre"] == 1
    assert cov.city_fields["testcity"] == {"contacts": 1, "address": 1, "phone": 1, "email": 1, "url": 1, "hours": 1,
                                           "machine": 1, "draft": 0, "reviewed": 0, "towns": 0}  # fmt: skip
    table = markdown(cov)
    assert "| doctor | ok | ok | OLD |" in table
    assert "| pharmacy | ok | ok | MISSING |" in table


def test_real_knowledge_has_no_missing_pair(knowledge: Knowledge) -> None:
    cov = coverage(knowledge)
    assert cov.count("missing") == 0
    assert len(cov.topics) >= 25
    assert all(counts["integration-centre"] >= 1 for counts in cov.cities.values())


def test_readme_section_is_current(knowledge: Knowledge) -> None:
    readme = (KNOWLEDGE_DIR / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    assert replace_section(readme, markdown(coverage(knowledge))) == readme, (
        "run: python -m bot coverage --update-readme"
    )


def test_replace_section_appends_when_absent() -> None:
    out = replace_section("# Title\n", "TABLE")
    assert out.endswith(f"{START}\nTABLE\n{END}\n")
    assert replace_section(out, "NEW").count("NEW") == 1
