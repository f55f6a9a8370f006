"""Checks that need the built matcher: example questions that would meet an emergency or a handoff trigger instead
of their topic, and example questions the trained matcher gives another topic."""

from __future__ import annotations

from pathlib import Path

from bot.core.checking import Problem, Reporter, line_of_text
from bot.core.dialogue import Decision, Dialogue
from bot.core.emergency.detect import Detector
from bot.core.knowledge import EMERGENCY_TOPIC
from bot.core.matcher import Index
from bot.core.model import Knowledge
from bot.core.normalize import tokens
from bot.core.topics import topic_path


def check_triggers(root: Path, knowledge: Knowledge, index: Index, detector: Detector | None = None) -> list[Problem]:
    """Warnings where trigger words, emergency situations and example questions disagree.

    An example question of an ordinary topic that contains an emergency or handoff trigger, or that the emergency
    situations recognise, would get the emergency answer or the offer of a person instead of its topic.
    """
    rep = Reporter(root)
    groups: list[tuple[Path, str, str, tuple[str, ...]]] = [
        (topic_path(root, topic.id, lang), topic.id, lang, tr.examples)
        for topic in knowledge.topics.values()
        for lang, tr in topic.translations.items()
        if topic.id != EMERGENCY_TOPIC  # its examples are questions about the numbers as well as emergencies
    ]
    for name, intent in knowledge.intents().items():
        if name != "handoff":  # asking for a person is what its examples are meant to trigger
            groups += [
                (root / f"{name}.yaml", f"@{name}", lang, tr.examples) for lang, tr in intent.translations.items()
            ]
    for path, _target, lang, examples in groups:
        for example in examples:
            toks = tokens(example)
            situations = detector.detect(example).situations if detector is not None else ()
            found = [
                (index.emergency_trigger(toks), "contains the emergency trigger {!r}",
                 "make that trigger a more specific phrase in topics/emergency/<lang>.yaml, or reword the example"),
                (situations[0] if situations else None, "is recognised as the emergency situation {!r}",
                 "see how: python -m bot ask '<the example>' --explain; make the concept words in "
                 "emergency/<lang>.yaml more specific, or add a calm word"),
                (index.handoff_trigger(toks), "contains the handoff trigger {!r}",
                 "make that trigger a more specific phrase in handoff.yaml, or reword the example"),
            ]  # fmt: skip
            for what, says, hint in found:
                if what is not None:
                    line = line_of_text(path, example)
                    rep.add(path, line, f"{lang}: example {example!r} " + says.format(what), hint, "warning")
    return rep.problems


def check_examples(root: Path, knowledge: Knowledge, dialogue: Dialogue) -> list[Problem]:
    """Every example question of every topic through the trained matcher: a warning where it is answered with
    another topic, offered a choice without its own topic, or given no answer, with the
    matcher's confidence in both. (Emergencies and requests for a person are :func:`check_triggers`' warnings.)"""
    rep = Reporter(root)
    for topic in knowledge.topics.values():
        if topic.id == EMERGENCY_TOPIC:
            continue
        for lang, tr in topic.translations.items():
            path = topic_path(root, topic.id, lang)
            for example in tr.examples:
                decision = dialogue.decide(example, lang)
                if _own(decision, topic.id):
                    continue
                ranked = dialogue.hybrid.rank(example, lang, dialogue.index.search(example, lang)).ranked
                confidence = {r.target: r.confidence for r in ranked}
                own = f"'{topic.id}' {confidence.get(topic.id, 0.0):.2f}"
                if decision.kind == "answer":
                    other = decision.topic or "?"
                    what = f"is answered with '{other}' (confidence {confidence.get(other, 0.0):.2f}; {own})"
                elif decision.kind == "clarify":
                    what = f"gets a choice of {', '.join(decision.candidates)} without its topic ({own})"
                else:
                    what = f"gets no answer (confidence {own})"
                hint = (f"see why: python -m bot ask {example!r} --lang {lang} --explain; make this example or the "
                        "other topic's examples and keywords more specific")  # fmt: skip
                rep.add(path, line_of_text(path, example), f"{lang}: example {example!r} {what}", hint, "warning")
    return rep.problems


def _own(decision: Decision, topic_id: str) -> bool:
    """The example's own topic was answered or offered (emergencies and requests for a person: check_triggers)."""
    if decision.kind == "clarify":
        return topic_id in decision.candidates
    return decision.kind not in ("answer", "fallback") or decision.topic == topic_id
