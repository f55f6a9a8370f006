"""The gaps worklist: what people asked that Lotse could not answer well, for volunteers to improve the knowledge.

A gap is recorded **without anything that identifies the person**: no user id, no chat, no name, the day instead of
the moment, and the text with phone numbers, e-mail addresses, web addresses and long numbers masked. Kinds:

- ``fallback``: no topic fitted (or small talk, or an everyday matter Lotse has no answer for);
- ``clarify``: Lotse was not sure and offered topics to choose from, and the person chose none (a choice erases the
  gap: its buttons carry a random token, which links the tap to the gap and to nobody);
- ``thumbs-down``: a 👎 under an answer (the topic, no text: the answer's message does not carry the question);
- ``not-emergency``: the person said a message taken for an emergency was none (the text they had written).

:func:`group` puts similar questions together, across languages too, without translating anything: by the
matcher's own candidates (the same topics offered or nearly answered) and by rapidfuzz on normalised text.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rapidfuzz import fuzz

from bot.core.match_model import INTENTS
from bot.core.normalize import tokens

GapKind = Literal["fallback", "clarify", "thumbs-down", "not-emergency"]
KINDS: tuple[GapKind, ...] = ("fallback", "clarify", "thumbs-down", "not-emergency")
MAX_TEXT = 500  # characters of a question kept
DAY = 86400.0
SIMILAR_TEXT = 75  # rapidfuzz token_set_ratio (0-100) of normalised texts: the same question worded differently
SURE_TOPIC = 0.5  # a topic candidate this strong says what the question is about, in any language

# Each pattern starts only where a run of its characters starts (the look-behinds): a long run without a match is
# read once, not once from every position in it (100 000 word characters took 43 s without them).
_MASKS = [
    (re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[e-mail]"),
    (re.compile(r"(https?://|www\.)\S+", re.IGNORECASE), "[web]"),
    (re.compile(r"(?<![\d/.+-])\+?\d[\d\s/().-]{5,}\d"), "[number]"),  # phone, file and case numbers, IBAN
    (re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b"), "[number]"),  # an IBAN written with its letters
]


def day_of(moment: float) -> float:
    """The start (UTC) of the day ``moment`` (epoch seconds) falls on: what a gap keeps instead of the moment."""
    return moment - moment % DAY


def scrub(text: str) -> str:
    """``text`` with what could identify a person masked (e-mail and web addresses, phone and other long numbers),
    whitespace collapsed, at most MAX_TEXT characters."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return " ".join(text.split())[:MAX_TEXT]


@dataclass(frozen=True, slots=True)
class Gap:
    """One question Lotse could not answer well; nothing in it says who asked."""

    kind: GapKind
    lang: str
    city: str | None
    text: str
    day: float  # the start of the day (UTC) it was asked
    candidates: tuple[tuple[str, float], ...] = ()  # the matcher's best targets and scores, best first
    topic: str | None = None  # the topic of a 👎
    token: str | None = None  # a clarify's: its choice buttons carry it, and a choice erases the gap (resolved)

    @classmethod
    def of(
        cls,
        kind: GapKind,
        lang: str,
        city: str | None,
        text: str,
        now: float,
        candidates: Sequence[tuple[str, float]] = (),
        topic: str | None = None,
    ) -> Gap:
        """``candidates``: the matcher's best targets with their scores (a clarify's: the topics it offered)."""
        best = tuple((target, round(float(score), 3)) for target, score in candidates[:3])
        token = secrets.token_hex(4) if kind == "clarify" else None
        return cls(kind, lang, city, scrub(text), day_of(now), best, topic, token)

    def topics(self) -> tuple[str, ...]:
        """The topics the matcher found (intents left out), best first; a 👎's own topic."""
        if self.topic is not None:
            return (self.topic,)
        return tuple(target for target, _ in self.candidates if target not in INTENTS)


@dataclass(slots=True)
class GapGroup:
    """Similar questions: how many, in which languages, what they were, what the matcher thought."""

    gaps: list[Gap] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.gaps)

    def languages(self) -> list[str]:
        return sorted({g.lang for g in self.gaps})

    def kinds(self) -> list[str]:
        return sorted({g.kind for g in self.gaps})

    def texts(self) -> list[str]:
        """The distinct question texts, most frequent first."""
        counted: dict[str, int] = {}
        for gap in self.gaps:
            if gap.text:
                counted[gap.text] = counted.get(gap.text, 0) + 1
        return sorted(counted, key=lambda t: -counted[t])

    def topics(self) -> list[str]:
        """The topics the matcher found for these questions, most often first."""
        counted: dict[str, int] = {}
        for gap in self.gaps:
            for target in gap.topics()[:2]:
                counted[target] = counted.get(target, 0) + 1
        return sorted(counted, key=lambda t: -counted[t])

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "languages": self.languages(),
            "kinds": self.kinds(),
            "cities": sorted({g.city for g in self.gaps if g.city}),
            "topics": self.topics(),
            "texts": self.texts(),
        }


def _normalised(gap: Gap) -> str:
    return " ".join(tokens(gap.text))


def _same(a: Gap, b: Gap, text_a: str, text_b: str) -> bool:
    """Whether two gaps are the same question: nearly the same words (any language), or the matcher saw the same
    topic in both with confidence (a 👎 on it counts as that topic), or offered the same choice of topics."""
    if text_a and text_b and fuzz.token_set_ratio(text_a, text_b) >= SIMILAR_TEXT:
        return True
    if a.kind == "clarify" and b.kind == "clarify":  # offered (nearly) the same topics to choose from
        return len(set(a.topics()) & set(b.topics())) >= 2
    return _sure_topic(a) is not None and _sure_topic(a) == _sure_topic(b)


def _sure_topic(gap: Gap) -> str | None:
    if gap.topic is not None:
        return gap.topic
    for target, score in gap.candidates:
        if target not in INTENTS:
            return target if score >= SURE_TOPIC else None
    return None


def group(gaps: Iterable[Gap]) -> list[GapGroup]:
    """Similar gaps together (each joins the first group with a member it is the same question as), the largest
    group first."""
    groups: list[tuple[GapGroup, list[str]]] = []
    for gap in gaps:
        text = _normalised(gap)
        for found, texts in groups:
            if any(_same(gap, other, text, other_text) for other, other_text in zip(found.gaps, texts, strict=True)):
                found.gaps.append(gap)
                texts.append(text)
                break
        else:
            groups.append((GapGroup([gap]), [text]))
    return sorted((g for g, _ in groups), key=lambda g: (-g.count, g.texts()[:1]))


def report(groups: Sequence[GapGroup], limit: int = 30) -> str:
    """The worklist as plain text, for a terminal and for administrators in Telegram."""
    if not groups:
        return "No gaps recorded in this period."
    lines = [f"{sum(g.count for g in groups)} questions in {len(groups)} groups, the largest first:"]
    for number, found in enumerate(groups[:limit], 1):
        topics = ", ".join(found.topics()[:3]) or "-"
        lines.append(f"{number}. {found.count}x [{', '.join(found.languages())}] {'/'.join(found.kinds())}; "
                     f"topics: {topics}")  # fmt: skip
        lines += [f"   - {text}" for text in found.texts()[:3]]
    if len(groups) > limit:
        lines.append(f"... and {len(groups) - limit} more groups (--json lists all)")
    return "\n".join(lines)
