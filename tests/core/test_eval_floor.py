"""The shared development set as a regression floor (figures of `python -m bot eval ../shared/eval/dev.yaml`)."""

from __future__ import annotations

import pytest

from bot.core.dialogue import Dialogue
from bot.core.evaluate import Report, evaluate, load_items
from tests.conftest import ROOT, SHARED

DEV = SHARED / "eval" / "dev.yaml"
HOLDOUT = ROOT / "bench" / "holdout"


@pytest.fixture(scope="module")
def report(dialogue: Dialogue) -> Report:
    if not DEV.is_file():
        pytest.fail(f"{DEV} is missing: CI and development machines have ../shared beside the repository")
    items = load_items(DEV)
    assert len(items) >= 100
    return evaluate(items, lambda i: dialogue.decide(i.text, i.lang, i.city))


@pytest.fixture(scope="module")
def report_de_en(dialogue: Dialogue) -> Report:
    items = [i for i in load_items(DEV) if i.lang in ("de", "en")]
    return evaluate(items, lambda i: dialogue.decide(i.text, i.lang, i.city))


def test_emergencies_are_never_missed(report: Report) -> None:
    missed = [(i.id, i.text) for i, d in report.misses if i.expect == "emergency"]
    assert report.emergency_recall == 1.0, missed


def test_no_false_emergencies(report: Report) -> None:
    assert report.false_emergency == 0


def test_german_and_english_top1(report_de_en: Report) -> None:
    assert report_de_en.top1 >= 0.85


def test_out_of_scope_is_not_answered(report: Report) -> None:
    assert report.oos_false_rate <= 0.05


def test_handoff_recall(report: Report) -> None:
    assert report.handoff_recall >= 0.95


def test_overall_floors(report: Report) -> None:
    # the acceptance bar of the knowledge issue
    assert report.top1 >= 0.90
    assert report.hit3 >= 0.96
    lang, worst = report.min_lang_top1()
    assert worst >= 0.80, lang


def test_second_question_set_floors(dialogue: Dialogue) -> None:
    # bench/holdout: 744 questions written without seeing the knowledge base; a margin below today's figures
    items = [item for path in sorted(HOLDOUT.glob("*.yaml")) for item in load_items(path)]
    assert len(items) >= 700
    report = evaluate(items, lambda i: dialogue.decide(i.text, i.lang, i.city))
    assert report.top1 >= 0.93
    assert report.hit3 >= 0.97
    assert report.emergency_recall >= 0.95
    assert report.false_emergency <= 1
    assert report.handoff_recall >= 0.95
    assert report.oos_false_rate <= 0.03


EMERGENCY_DEV = SHARED / "eval" / "emergency-dev.yaml"


def test_emergency_development_set_floors(dialogue: Dialogue) -> None:
    # the acceptance bar of the emergency issue: recall 1.0 in every language, false alarms <= 0.05
    items = load_items(EMERGENCY_DEV)
    assert len(items) >= 100
    report = evaluate(items, lambda i: dialogue.decide(i.text, i.lang, i.city))
    missed = [(i.id, i.text) for i, d in report.misses if i.expect == "emergency"]
    lang, worst = report.min_lang_emergency_recall()
    assert worst == 1.0, (lang, missed)
    assert report.false_alarm_rate <= 0.05
    assert set(report.emergency_by_situation) >= {"poisoning-child", "gas-smell", "suicide-intent", "drowning"}


@pytest.mark.parametrize(
    ("folder", "size", "recall", "false_alarms"),
    [("emergency-holdout", 250, 0.95, 0.03), ("emergency-blind", 210, 0.90, 0.03)],
)
def test_emergency_second_sets_floors(
    dialogue: Dialogue, folder: str, size: int, recall: float, false_alarms: float
) -> None:
    # messages written without seeing the knowledge (looked at while tuning since): a margin below today's figures
    items = [item for path in sorted((ROOT / "bench" / folder).glob("*.yaml")) for item in load_items(path)]
    assert len(items) >= size
    report = evaluate(items, lambda i: dialogue.decide(i.text, i.lang, i.city))
    assert report.emergency_recall >= recall
    assert report.false_alarm_rate <= false_alarms


def test_real_questions_floors(dialogue: Dialogue) -> None:
    # bench/real: questions real people and help sites wrote (issue 12's dev set). A margin below today's figures
    # (top-1 0.704, hit@3 0.764, 9/28 out-of-scope answered); issue 12's bar is 0.80 / 0.90 / 0.10.
    items = [item for path in sorted((ROOT / "bench" / "real").glob("*.yaml")) for item in load_items(path)]
    assert len(items) >= 200
    report = evaluate(items, lambda i: dialogue.decide(i.text, i.lang, i.city))
    assert report.top1 >= 0.68
    assert report.hit3 >= 0.74
    assert report.oos_false_rate <= 0.36
    assert report.false_emergency == 0
