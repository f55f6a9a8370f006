"""Recognising emergency *situations* from combinations of concepts (``knowledge/emergency.yaml``).

Built once per knowledge base. For a message:

1. every word is looked up among the concept words of all languages (people mix languages): exactly, by Snowball
   stem, with a listed inflection ending removed, by a ``stem*`` prefix, or with one typo when the word is long and
   is not a word that Lotse knows as something else ("allowed" is not a misspelt "swallowed"); a one-word entry
   never meets another language's function word ("die", "في");
2. a concept entry of several words is present when all its words stand close together, in any order (the calm
   cues in their written order, and only literally: no stem, ending or typo may silence danger);
3. a situation is recognised when every concept of one of its combinations is present and they stand together
   (one sentence, or a few words apart); "now" completes a combination that needs ``urgent``;
4. a message that only talks about danger is not an emergency: a ``calm``, ``recovered`` or ``worry`` cue (or one
   the situation names under ``calmed_by``, such as ``idiom``) in the same sentence as the danger words, with no
   ``turn`` ("but now") between, calms it, unless the message cries for help (``urgent``, not merely ``now``) or
   the situation is marked ``always``: "first-aid course", "our gas bill", "he swallowed a cherry stone
   yesterday, now he is fine", "this heat is killing me".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import Levenshtein

from bot.core.emergency.words import (
    MIN_PREFIX,
    TYPO_MIN_LENGTH,
    Word,
    deletes,
    entry_words,
    first_script,
    message_stems,
    stem,
    transliterated,
    typo_min_length,
)
from bot.core.model import Emergency
from bot.core.normalize import proclitic_stem, tokens

CALM = "calm"
PAST = "past"
RECOVERED = "recovered"
WORRY = "worry"
URGENT = "urgent"
NOW = "now"
IDIOM = "idiom"
TURN = "turn"
QUIET = (CALM, RECOVERED, WORRY, PAST)
LITERAL = frozenset((*QUIET, IDIOM, TURN))  # cues that count only as written (no stems, endings or typos)
MAX_TOKENS = 200  # a message is at most 1,000 characters; more words than this are not read for concepts


@dataclass(frozen=True, slots=True)
class Detection:
    """What the detector found in one message."""

    situations: tuple[str, ...]  # recognised situations, in the order of emergency.yaml
    concepts: frozenset[str]
    calm: bool  # a calm cue (a course, a bill, fine again, a worry, a figure of speech) and no cry for help
    suppressed: tuple[str, ...] = ()  # situations recognised but calmed down

    @property
    def emergency(self) -> bool:
        return bool(self.situations)

    @property
    def quiet(self) -> bool:
        """The message only talks about danger: a calm cue, or situations that were calmed."""
        return self.calm or bool(self.suppressed)

    def alarm(self, trigger: bool) -> bool:
        """An emergency: a situation, or a trigger phrase (the second route) in a message that is not quiet."""
        return self.emergency or (trigger and not self.quiet)


@dataclass(slots=True)
class _Entry:
    concept: str
    words: tuple[int, ...]  # word ids


@dataclass(slots=True)
class _Tables:
    words: list[Word] = field(default_factory=list)
    ids: dict[Word, int] = field(default_factory=dict)
    exact: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    stems: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    prefixes: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    typos: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    endings: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # ending -> languages
    by_word: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # word id -> entry indexes
    entries: list[_Entry] = field(default_factory=list)


class Detector:
    """Recognises emergency situations in messages; immutable after construction."""

    def __init__(
        self,
        emergency: Emergency,
        known: Callable[[str], bool] = lambda _: False,
        stopwords: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.emergency = emergency
        self._known = known
        # Function words by language: a one-word entry of one language does not match another language's function
        # word (English "die" is not German "die", Arabic "في" is nobody's seizure).
        self._stop_langs: dict[str, set[str]] = defaultdict(set)
        for code, stop in (stopwords or {}).items():
            for function_word in stop:
                self._stop_langs[function_word].add(code)
        self._t = _Tables()
        self._common: set[str] = set()
        self._concept_forms: set[str] = set()
        for lang, words in emergency.words.items():
            for ending in words.endings:
                for part in tokens(ending):
                    self._t.endings[part].append(lang)
            for common in words.common:
                self._common.update(tokens(common))
            for concept, entries in words.concepts.items():
                for entry in entries:
                    self._add(concept, entry_words(entry, lang))
        self._longest_ending = max(map(len, self._t.endings), default=0)
        # An entry is tried only when its rarest word is in the message: all its words must be there anyway, and
        # "my", "is", "не" stand in hundreds of entries.
        uses: dict[int, int] = defaultdict(int)
        for item in self._t.entries:
            for wid in set(item.words):
                uses[wid] += 1
        for index, item in enumerate(self._t.entries):
            self._t.by_word[min(set(item.words), key=lambda wid: (uses[wid], wid))].append(index)
        self._cache: dict[str, tuple[frozenset[int], frozenset[int]]] = {}

    def state(self) -> tuple[Any, ...]:
        """The built tables as plain strings, numbers, tuples, lists, sets and dicts (for :mod:`marshal`): what
        :meth:`restore` needs to skip building them (bot/core/start_cache.py)."""
        t = self._t
        words = [(w.form, w.prefix, w.lang) for w in t.words]
        entries = [(e.concept, e.words) for e in t.entries]
        # word ids as tuples: marshal reads them several times faster than sets (the lookups only iterate them)
        ids = [
            {key: tuple(sorted(wids)) for key, wids in table.items()}
            for table in (t.exact, t.stems, t.prefixes, t.typos)
        ]
        tables = (*ids, dict(t.endings), dict(t.by_word))
        plain = {k: v for k, v in self._stop_langs.items()}
        return words, entries, tables, plain, self._common, self._concept_forms, self._longest_ending

    @classmethod
    def restore(cls, emergency: Emergency, known: Callable[[str], bool], state: tuple[Any, ...]) -> Detector:
        """The detector :meth:`state` described, for the same knowledge (the caller keys the state by it)."""
        words, entries, tables, stop_langs, common, forms, longest = state
        detector = cls.__new__(cls)
        detector.emergency, detector._known = emergency, known
        t = _Tables()
        t.words = [Word(form, prefix, lang) for form, prefix, lang in words]
        t.entries = [_Entry(concept, tuple(ids)) for concept, ids in entries]
        t.exact, t.stems, t.prefixes, t.typos, t.endings, t.by_word = tables
        detector._t, detector._stop_langs = t, stop_langs
        detector._common, detector._concept_forms, detector._longest_ending = common, forms, longest
        detector._cache = {}
        return detector

    def _add(self, concept: str, words: tuple[Word, ...]) -> None:
        if not words:
            return
        t = self._t
        ids = []
        for word in words:
            wid = t.ids.get(word)
            if wid is None:
                wid = len(t.words)
                t.ids[word] = wid
                t.words.append(word)
                self._index(word, wid)
            ids.append(wid)
        t.entries.append(_Entry(concept, tuple(ids)))

    def _index(self, word: Word, wid: int) -> None:
        t = self._t
        self._concept_forms.add(word.form)
        if word.prefix and len(word.form) >= MIN_PREFIX:
            t.prefixes[word.form].add(wid)
            return
        t.exact[word.form].add(wid)
        stemmed = stem(word.form, word.lang)
        if stemmed is not None:
            t.stems[(word.lang, stemmed)].add(wid)
        if len(word.form) >= typo_min_length(word.lang) and not transliterated(word):
            for key in (word.form, *deletes(word.form)):
                t.typos[key].add(wid)

    # -- querying -------------------------------------------------------------------------------------------

    def _match(self, tok: str) -> tuple[frozenset[int], frozenset[int]]:
        """Ids of the concept words that the message word ``tok`` is a form of, and of those it spells literally.

        Literal: the same word, with a glued Arabic proclitic, or a listed ``stem*``; the rest are inflections (a
        Snowball stem, a listed ending) and typos. Calm cues count only literally: a stem must never silence danger
        (Arabic "دورنا" we searched is not "دورة" a course).
        """
        cached = self._cache.get(tok)
        if cached is not None:
            return cached
        t = self._t
        found: set[int] = set(t.exact.get(tok, ()))
        bare = proclitic_stem(tok)
        if bare is not None:
            found.update(t.exact.get(bare, ()))
        for cut in range(MIN_PREFIX, len(tok) + 1):
            found.update(t.prefixes.get(tok[:cut], ()))
        literal = frozenset(found)
        # A word that is itself a concept word is not also read as another word's inflection; in Arabic script a
        # stem is often the bare three-letter root ("طعن" appeal/stab), so a word Lotse knows keeps its own meaning.
        derive = not t.exact.get(tok) and not (first_script(tok) == "arabic" and self._is_known(tok))
        if derive:
            for stemmed in message_stems(tok):
                found.update(t.stems.get(stemmed, ()))
        for cut in range(1, min(self._longest_ending, len(tok) - MIN_PREFIX) + 1) if derive else ():
            langs = t.endings.get(tok[-cut:])
            if langs:
                found |= {wid for wid in t.exact.get(tok[:-cut], ()) if t.words[wid].lang in langs}
        if not found and len(tok) >= TYPO_MIN_LENGTH and not self._is_known(tok):
            for variant in (tok, *deletes(tok)):
                for wid in t.typos.get(variant, ()):
                    form = t.words[wid].form
                    # People rarely mistype the first letter; "sitzen" is not a typo of "ritzen".
                    if form[0] == tok[0] and Levenshtein.distance(tok, form, score_cutoff=1) <= 1:
                        found.add(wid)
        result = (frozenset(found), literal)
        if len(self._cache) < 100_000:
            self._cache[tok] = result
        return result

    def clear_cache(self) -> None:
        """Forget which concept words each message word met (benchmarks measure cold calls)."""
        self._cache.clear()

    def _foreign_function_word(self, tok: str, lang: str) -> bool:
        langs = self._stop_langs.get(tok)
        return langs is not None and lang not in langs

    def _is_known(self, tok: str) -> bool:
        """A word Lotse knows as itself: not to be read as a typo of a concept word."""
        return tok in self._common or tok in self._concept_forms or self._known(tok)

    def concepts(self, text: str) -> frozenset[str]:
        """The concepts present in ``text``."""
        return frozenset(self._found(text))

    def _found(self, text: str) -> dict[str, list[frozenset[int]]]:
        """Each concept present in ``text`` with the word positions of every entry that matched."""
        toks = tokens(text)[:MAX_TOKENS]
        every: dict[int, list[int]] = defaultdict(list)
        literal: dict[int, list[int]] = defaultdict(list)
        for pos, tok in enumerate(toks):
            matched, spelt = self._match(tok)
            for wid in matched:
                every[wid].append(pos)
            for wid in spelt:
                literal[wid].append(pos)
        found: dict[str, list[frozenset[int]]] = defaultdict(list)
        t = self._t
        tried: set[int] = set()
        for wid in every:
            for index in t.by_word.get(wid, ()):
                if index in tried:
                    continue
                tried.add(index)
                entry = t.entries[index]
                positions = literal if entry.concept in LITERAL else every
                if len(entry.words) == 1:  # every place a one-word entry stands, unless a foreign function word
                    lang = t.words[entry.words[0]].lang
                    found[entry.concept] += [
                        frozenset((pos,))
                        for pos in positions.get(entry.words[0], ())
                        if not self._foreign_function_word(toks[pos], lang)
                    ]
                    if not found[entry.concept]:
                        del found[entry.concept]
                    continue
                used = _close(entry.words, positions, ordered=entry.concept in QUIET)
                if used is not None:
                    found[entry.concept].append(used)
        return found

    def explain(self, text: str) -> list[str]:
        """For ``ask --explain``: each concept found and the message words that carry it."""
        toks = tokens(text)[:MAX_TOKENS]
        found = self._found(text)
        return [
            f"  {concept}: " + "; ".join(" ".join(toks[pos] for pos in sorted(used)) for used in places)
            for concept, places in sorted(found.items())
        ]

    def sources(self, tok: str) -> list[str]:
        """The concept words (with their language) that a message word meets, for debugging."""
        return [f"{self._t.words[wid].form}({self._t.words[wid].lang})" for wid in sorted(self._match(tok)[0])]

    def detect(self, text: str) -> Detection:
        """The emergency situations in ``text``."""
        found = self._found(text)
        # "now" in "fine now", "secours" in "premiers secours": a word inside a calm phrase is no urgency.
        quiet = {pos for cue in QUIET for used in found.get(cue, ()) for pos in used}
        alarm = any(not used <= quiet for used in found.get(URGENT, ()))  # a cry for help, not just "now"
        present = set(found)
        places = dict(found)
        if NOW in present:
            present.add(URGENT)  # "now" is urgency enough to complete a combination ("a man with a knife, now")
            places[URGENT] = [*found.get(URGENT, ()), *found[NOW]]
        calming = [pos for cue in (CALM, RECOVERED, WORRY) for used in found.get(cue, ()) for pos in used]
        recognised: list[str] = []
        suppressed: list[str] = []
        turns = [pos for used in found.get(TURN, ()) for pos in used]  # "a course ... but now my father fell"
        sentences: list[int] = []  # computed when first needed
        for name, situation in self.emergency.situations.items():
            combo = None
            for candidate in situation.when:
                if not all(concept in present for concept in candidate):
                    continue
                if len(candidate) > 1 and not sentences:
                    sentences = _sentence_ids(text)
                if len(candidate) == 1 or _together(candidate, places, sentences):
                    combo = candidate
                    break
            if combo is None:
                continue
            danger = [pos for concept in combo for used in places.get(concept, ()) for pos in used]
            cues = calming + [pos for cue in situation.calmed_by for used in found.get(cue, ()) for pos in used]
            calm = bool(cues) and not alarm and _near(cues, danger, text, turns)
            (suppressed if calm and not situation.always else recognised).append(name)
        # "this work is killing me": a thing that kills in a figure of speech (no trigger phrase either)
        figurative = IDIOM in present and bool(present & {"kill", "threat"}) and not alarm
        calm = (bool(calming) or figurative) and not alarm
        return Detection(tuple(recognised), frozenset(present), calm, tuple(suppressed))


_BREAK = re.compile(r"[.!?;:\n\u061f\u06d4\u1362\u1367\u2026]+")
NEAR_TOKENS = 4  # a calm word this close to the danger words calms them even across a full stop
SAME_SENTENCE_TOKENS = 14  # ... and this close within the same sentence


def _sentence_ids(text: str) -> list[int]:
    """The sentence number of every token of ``text`` (as :func:`tokens` cuts it)."""
    ids: list[int] = []
    for number, part in enumerate(_BREAK.split(text)):
        ids += [number] * len(tokens(part))
    return ids


TOGETHER_TOKENS = 8  # the concepts of one combination describe one event: same sentence, or this close


def _together(combo: tuple[str, ...], found: dict[str, list[frozenset[int]]], sentence: list[int]) -> bool:
    """Whether the concepts of a combination stand together ("дочке 2 года. ... никто не отвечает" do not)."""
    first, rest = combo[0], combo[1:]

    def near(a: int, b: int) -> bool:
        same = a < len(sentence) and b < len(sentence) and sentence[a] == sentence[b]
        return same or abs(a - b) <= TOGETHER_TOKENS

    anchors = [pos for used in found.get(first, ()) for pos in used]
    return any(
        all(any(near(anchor, pos) for used in found.get(concept, ()) for pos in used) for concept in rest)
        for anchor in anchors
    )


def _near(calming: list[int], danger: list[int], text: str, turns: list[int]) -> bool:
    """Whether a calm cue stands close to the words of the danger (same sentence and near, or right next to them),
    with no turn ("but", "aber", "ولی") between them."""
    sentence = _sentence_ids(text)
    for calm in calming:
        for pos in danger:
            if any(calm < turn < pos for turn in turns):  # the calm part ends where the message turns
                continue
            distance = abs(calm - pos)
            if distance <= NEAR_TOKENS:
                return True
            same = calm < len(sentence) and pos < len(sentence) and sentence[calm] == sentence[pos]
            if same and distance <= SAME_SENTENCE_TOKENS:
                return True
    return False


def _close(words: tuple[int, ...], positions: dict[int, list[int]], *, ordered: bool = False) -> frozenset[int] | None:
    """The positions of an entry's words when all are in the message within a short span, else None.

    Any order, except for the calm cues, where order carries the meaning: "не срочно" (not urgent) is not
    "срочно, а я не могу" (urgent, and I cannot).
    """
    if any(wid not in positions for wid in words):
        return None
    span = len(words) + 2
    first, rest = words[0], words[1:]
    for start in positions[first]:
        used = [start]
        for wid in rest:
            if ordered:
                near = next((pos for pos in positions[wid] if used[-1] < pos <= start + span), None)
            else:
                near = next((pos for pos in positions[wid] if abs(pos - start) <= span and pos != start), None)
            if near is None:
                break
            used.append(near)
        else:
            return frozenset(used)
    return None


def build_detector(
    emergency: Emergency | None,
    known: Callable[[str], bool] | None = None,
    stopwords: Mapping[str, frozenset[str]] | None = None,
) -> Detector | None:
    """A detector for the knowledge's emergency situations, or None when the knowledge has none."""
    if emergency is None or not emergency.words:
        return None
    return Detector(emergency, known or (lambda _: False), stopwords)
