"""What matching works with and returns: its settings, the intents beside the topics, ranked candidates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HANDOFF = "@handoff"
OFFTOPIC = "@offtopic"
UNCOVERED = "@uncovered"
INTENTS = (HANDOFF, OFFTOPIC, UNCOVERED)


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Tunable weights and thresholds of matching and of the dialogue decision (tuned on the dev set)."""

    other_language_factor: float = 0.9
    example_weight: float = 0.4
    example_df_weight: float = 0.5
    fuzzy_min_length: int = 5
    fuzzy_penalty: float = 1.5
    affix_weight: float = 0.8
    proclitic_weight: float = 0.95
    unknown_token_idf: float = 0.4
    min_idf: float = 0.1
    min_token_length: int = 2
    # The dialogue decision, on the hybrid matcher's combined confidence (bot.core.hybrid), 0..1:
    answer_confidence: float = 0.45  # answer the best topic at or above this ...
    answer_lead: float = 0.1  # ... when it is this far ahead of the next candidate
    clarify_confidence: float = 0.15  # offer choices from here; below it the honest fallback
    clarify_ratio: float = 0.4  # a choice needs this share of the best one's confidence
    sole_confidence: float = 0.3  # a single plausible choice is answered from here
    intent_confidence: float = 0.3  # small talk or an uncovered matter ranked first: the fallback
    intent_weight: float = 3.0  # ... and behind the best topic, its confidence counts this much against an answer
    handoff_score: float = 0.8  # a request for a person without a trigger phrase: lexical score ...
    handoff_ratio: float = 1.5  # ... and this many times the best topic's
    trigger_fuzzy_min_length: int = 6


@dataclass(frozen=True, slots=True)
class Candidate:
    """A ranked target: its score, the share of the query it explains, and the part from keywords and titles."""

    target: str
    score: float
    coverage: float
    keyword_score: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Ranked candidates for a query, plus what was noticed on the way."""

    candidates: tuple[Candidate, ...]
    query_tokens: tuple[str, ...]
    city: str | None
    emergency_trigger: str | None
    mass: float
    handoff_trigger: str | None = None


def settings_from_mapping(values: Mapping[str, str]) -> MatchSettings:
    """MatchSettings with the given fields overridden (values are parsed as numbers)."""
    base = MatchSettings()
    kwargs: dict[str, float | int] = {}
    for name, raw in values.items():
        current = getattr(base, name)
        kwargs[name] = int(raw) if isinstance(current, int) else float(raw)
    return MatchSettings(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **kwargs})
