"""Evaluation of the dialogue decision on a labelled question file (format of shared/eval/dev.yaml)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.dialogue import Decision
from bot.core.yamlsafe import LList, load_yaml

SPECIAL = ("emergency", "not-emergency", "handoff", "out-of-scope")


@dataclass(frozen=True, slots=True)
class EvalItem:
    """One labelled question."""

    id: str
    text: str
    lang: str
    wrote: str
    city: str | None
    expect: str
    situation: str | None = None  # emergency-dev.yaml: the situation tag


class EvalFileError(Exception):
    """The evaluation file cannot be read."""


def load_items(path: Path) -> list[EvalItem]:
    """Read an evaluation file; raise :class:`EvalFileError` with ``file:line`` on bad content."""
    loaded = load_yaml(path)
    if loaded.issues:
        issue = loaded.issues[0]
        raise EvalFileError(f"{path}:{issue.line}: {issue.message}")
    if not isinstance(loaded.data, LList):
        raise EvalFileError(f"{path}:1: expected a list of questions")
    items = []
    for index, raw in enumerate(loaded.data):
        line = loaded.data.line_of(index)
        try:
            items.append(
                EvalItem(
                    id=str(raw["id"]),
                    text=str(raw["text"]),
                    lang=str(raw["lang"]),
                    wrote=str(raw.get("wrote") or raw["lang"]),
                    city=raw.get("city") or None,
                    expect=str(raw["expect"]),
                    situation=str(raw["situation"]) if raw.get("situation") else None,
                )
            )
        except (KeyError, TypeError) as exc:
            raise EvalFileError(f"{path}:{line}: question lacks field {exc}") from exc
    return items


def is_correct(item: EvalItem, decision: Decision) -> bool:
    """Whether the decision meets the item's expectation."""
    if item.expect == "emergency":
        return decision.kind == "emergency"
    if item.expect == "not-emergency":
        return decision.kind != "emergency"
    if item.expect == "handoff":
        return decision.kind == "handoff"
    if item.expect == "out-of-scope":
        return decision.kind in ("fallback", "clarify")
    return decision.kind == "answer" and decision.topic == item.expect


def _hit3(item: EvalItem, decision: Decision) -> bool:
    if decision.kind == "answer":
        return decision.topic == item.expect
    return decision.kind == "clarify" and item.expect in decision.candidates[:3]


@dataclass(slots=True)
class Group:
    """Counts for one slice (a language, a topic)."""

    n: int = 0
    correct: int = 0
    topic_n: int = 0
    top1: int = 0
    hit3: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.topic_n if self.topic_n else 1.0

    @property
    def hit3_rate(self) -> float:
        return self.hit3 / self.topic_n if self.topic_n else 1.0


@dataclass(slots=True)
class Report:
    """All figures of one evaluation run."""

    total: Group = field(default_factory=Group)
    emergency_n: int = 0
    emergency_hit: int = 0
    handoff_n: int = 0
    handoff_hit: int = 0
    oos_n: int = 0
    oos_false: int = 0
    false_emergency: int = 0
    near_n: int = 0  # items marked not-emergency (near-misses)
    near_false: int = 0  # ... answered as an emergency
    emergency_by_lang: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # [hit, n]
    emergency_by_situation: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_lang: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    by_wrote: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    by_topic: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    misses: list[tuple[EvalItem, Decision]] = field(default_factory=list)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def top1(self) -> float:
        return self.total.top1_rate

    @property
    def hit3(self) -> float:
        return self.total.hit3_rate

    @property
    def emergency_recall(self) -> float:
        return self.emergency_hit / self.emergency_n if self.emergency_n else 1.0

    @property
    def false_alarm_rate(self) -> float:
        """Share of the near-misses (``not-emergency``) answered as an emergency."""
        return self.near_false / self.near_n if self.near_n else 0.0

    def min_lang_emergency_recall(self) -> tuple[str, float]:
        rates = [(lang, hit / n) for lang, (hit, n) in self.emergency_by_lang.items() if n]
        return min(rates, key=lambda kv: kv[1]) if rates else ("-", 1.0)

    @property
    def handoff_recall(self) -> float:
        return self.handoff_hit / self.handoff_n if self.handoff_n else 1.0

    @property
    def oos_false_rate(self) -> float:
        return self.oos_false / self.oos_n if self.oos_n else 0.0

    def min_lang_top1(self) -> tuple[str, float]:
        rates = [(lang, g.top1_rate) for lang, g in self.by_lang.items() if g.topic_n]
        return min(rates, key=lambda kv: kv[1]) if rates else ("-", 1.0)


def evaluate(items: Iterable[EvalItem], decide: Callable[[EvalItem], Decision]) -> Report:
    """Run ``decide`` on every item and collect the figures."""
    report = Report()
    for item in items:
        decision = decide(item)
        ok = is_correct(item, decision)
        groups = [
            report.total,
            report.by_lang[item.lang],
            report.by_wrote[item.wrote],
            report.by_topic[item.expect],
        ]
        for group in groups:
            group.n += 1
            group.correct += ok
        if item.expect not in SPECIAL:
            for group in groups:
                group.topic_n += 1
                group.top1 += ok
                group.hit3 += _hit3(item, decision)
        elif item.expect == "emergency":
            report.emergency_n += 1
            report.emergency_hit += ok
            for counts in (report.emergency_by_lang[item.lang], report.emergency_by_situation[item.situation or "-"]):
                counts[0] += ok
                counts[1] += 1
        elif item.expect == "not-emergency":
            report.near_n += 1
            report.near_false += not ok
        elif item.expect == "handoff":
            report.handoff_n += 1
            report.handoff_hit += ok
        else:
            report.oos_n += 1
            report.oos_false += decision.kind in ("answer", "emergency", "handoff")
        if item.expect != "emergency" and decision.kind == "emergency":
            report.false_emergency += 1
        if not ok:
            report.misses.append((item, decision))
            got = decision.topic if decision.kind == "answer" else decision.kind
            report.confusions[(item.expect, got or decision.kind)] += 1
    return report


def format_report(report: Report, show_misses: bool = True) -> str:
    """A readable, stable text report."""
    t = report.total
    lines = [
        f"items: {t.n}   topic items: {t.topic_n}",
        f"top-1: {report.top1:.3f}   hit@3: {report.hit3:.3f}",
        f"emergency recall: {report.emergency_recall:.3f} ({report.emergency_hit}/{report.emergency_n})"
        f"   false emergencies: {report.false_emergency}",
        f"false alarms on near-misses: {report.false_alarm_rate:.3f} ({report.near_false}/{report.near_n})",
        f"handoff recall: {report.handoff_recall:.3f} ({report.handoff_hit}/{report.handoff_n})",
        f"out-of-scope false-answer rate: {report.oos_false_rate:.3f} ({report.oos_false}/{report.oos_n})",
        f"overall accuracy (every expectation met): {t.accuracy:.3f}",
        "",
        "per language (interface language chosen):",
        f"  {'lang':<8}{'n':>4}{'acc':>8}{'top-1':>8}{'hit@3':>8}",
    ]
    for lang, g in sorted(report.by_lang.items()):
        lines.append(f"  {lang:<8}{g.n:>4}{g.accuracy:>8.3f}{g.top1_rate:>8.3f}{g.hit3_rate:>8.3f}")
    if report.emergency_n:
        lines += ["", "emergency recall per language:"]
        lines += [
            f"  {lang:<8}{hit:>4}/{n:<4}{hit / n:>8.3f}" for lang, (hit, n) in sorted(report.emergency_by_lang.items())
        ]
        lines += ["", "emergency recall per situation:"]
        lines += [
            f"  {name:<38}{hit:>4}/{n:<4}{hit / n:>8.3f}"
            for name, (hit, n) in sorted(report.emergency_by_situation.items())
        ]
    lines += ["", "per language written:", f"  {'wrote':<10}{'n':>4}{'acc':>8}"]
    for lang, g in sorted(report.by_wrote.items()):
        lines.append(f"  {lang:<10}{g.n:>4}{g.accuracy:>8.3f}")
    lines += ["", "per topic / expectation:", f"  {'expect':<26}{'n':>4}{'acc':>8}{'hit@3':>8}"]
    for topic, g in sorted(report.by_topic.items()):
        lines.append(f"  {topic:<26}{g.n:>4}{g.accuracy:>8.3f}{g.hit3_rate:>8.3f}")
    if report.confusions:
        lines += ["", "confusions (expected -> got):"]
        for (expected, got), count in report.confusions.most_common():
            lines.append(f"  {expected} -> {got}: {count}")
    if show_misses and report.misses:
        lines += ["", "misses:"]
        for item, decision in report.misses:
            got = f"{decision.kind}:{decision.topic or ','.join(decision.candidates) or '-'}"
            lines.append(f"  {item.id} [{item.lang}/{item.wrote}] expect {item.expect}, got {got}: {item.text!r}")
    return "\n".join(lines)
