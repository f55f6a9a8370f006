"""Fuzzy multilingual matching of a question against the knowledge base.

The index is built once when knowledge is loaded:

- every topic (and the ``handoff`` intent) is a *target*; its titles, keywords and example questions in all
  languages are normalised (:mod:`bot.core.normalize`) and cut into tokens;
- each token gets an inverse document frequency over targets, so words that every topic uses ("how", "where",
  "ich") weigh nothing and distinctive words ("Anmeldung", "eczane") weigh a lot;
- a symmetric-delete table finds every indexed token within one edit of a query token in O(length) dictionary
  look-ups; longer tokens also get a two-edit search in a small (first letter, length) bucket, verified with
  rapidfuzz; German compounds and agglutinating suffixes (Turkish, Kurdish, Somali, Slavic cases) are met by
  exact look-ups of the token's prefixes and suffixes.

A query's score for a target is the sum, over the query's tokens, of the best match weight (similarity x field
weight x IDF x language factor); the language factor prefers the user's language but keeps every other language
in play, because people mix languages and German loanwords. ``coverage`` is that score divided by the query's
total information, so a question that is mostly about something else scores low.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter

import stopwordsiso
from rapidfuzz.distance import Levenshtein

from bot.core.match_model import Candidate, MatchResult, MatchSettings
from bot.core.model import Knowledge
from bot.core.normalize import proclitic_stem, tokens


@dataclass(slots=True)
class _Posting:
    weight: float
    langs: int  # bitmask of language indexes in which the token occurs for this target
    keyword: bool  # occurs in a keyword or title (not only in example questions)


@dataclass(slots=True)
class _TokenMatch:
    vocab: str
    similarity: float


@dataclass(slots=True)
class _Triggers:
    single: set[str] = field(default_factory=set)
    phrases: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)  # by each of their words
    vocab: set[str] = field(default_factory=set)
    deletes: dict[str, set[str]] = field(default_factory=dict)


def _deletes(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


class Index:
    """The search index over one :class:`Knowledge`; immutable after construction."""

    def __init__(self, knowledge: Knowledge, settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.knowledge = knowledge
        self._lang_bit = {code: 1 << i for i, code in enumerate(knowledge.languages)}
        self._postings: dict[str, dict[str, _Posting]] = defaultdict(dict)
        self._phrases: dict[str, dict[str, set[tuple[str, ...]]]] = defaultdict(dict)  # target -> word -> phrases
        # Keyword phrases made of function words only ("new here", "dont know anyone", "in the world"), by their
        # first word: (target, phrase, language bits). A complete one weighs as much as a one-word keyword.
        self._stop_phrases: dict[str, list[tuple[str, tuple[str, ...], int]]] = defaultdict(list)
        self._curated: dict[str, set[str]] = defaultdict(set)  # target -> words of its keywords and titles
        self.targets: list[str] = []
        self._stopwords = self._build_stopwords(knowledge)
        for topic in knowledge.topics.values():
            self.targets.append(topic.id)
            for lang, tr in topic.translations.items():
                self._add(topic.id, lang, "title", [tr.title])
                self._add(topic.id, lang, "keyword", tr.keywords)
                self._add(topic.id, lang, "example", tr.examples)
        for name, intent in knowledge.intents().items():
            target = "@" + name
            self.targets.append(target)
            for lang, itr in intent.translations.items():
                self._add(target, lang, "keyword", itr.keywords)
                self._add(target, lang, "example", itr.examples)
        n = len(self.targets)
        # IDF scaled so that a token found in one target only weighs 1.0, whatever the size of the knowledge base:
        # thresholds then mean the same with 25 topics and with 2,500.
        top = math.log(1.0 + (n - 0.5) / 1.5)
        # Distinctiveness: a target that lists a word as keyword or title counts fully, one that merely uses it in an
        # example sentence counts partly (example_df_weight).
        self.idf: dict[str, float] = {}
        share = self.settings.example_df_weight
        for tok, postings in self._postings.items():
            curated = sum(1 for target in postings if tok in self._curated.get(target, ()))
            df = max(1.0, curated + share * (len(postings) - curated))
            self.idf[tok] = math.log(1.0 + (n - df + 0.5) / (df + 0.5)) / top
        # Flat posting lists for the hot loop: (target, weight x idf, language bits, keyword?).
        self._flat: dict[str, tuple[tuple[str, float, int, bool], ...]] = {
            tok: tuple((t, p.weight * self.idf[tok], p.langs, p.keyword) for t, p in postings.items())
            for tok, postings in self._postings.items()
        }
        del self._postings, self._curated  # only for building: the flat lists hold what searching needs
        self._delete_map: dict[str, list[str]] = defaultdict(list)
        self._buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for tok in self._flat:
            if len(tok) >= self.settings.fuzzy_min_length:
                for key in _deletes(tok):
                    self._delete_map[key].append(tok)
                self._buckets[(tok[0], len(tok))].append(tok)
        emergency = knowledge.topics.get("emergency")
        self._triggers = self._build_triggers(
            phrase for tr in (emergency.translations.values() if emergency else ()) for phrase in tr.triggers
        )
        self._handoff_triggers = self._build_triggers(
            phrase
            for tr in (knowledge.handoff.translations.values() if knowledge.handoff else ())
            for phrase in tr.triggers
        )
        self._cities = self._build_cities(knowledge)

    # -- building -------------------------------------------------------------------------------------------

    @staticmethod
    def _build_stopwords(knowledge: Knowledge) -> dict[str, frozenset[str]]:
        """Function words per language (stopwords-iso), except that language's single-word keywords.

        Per language, because a function word in one is a content word in another (German "bin" = "am",
        English "bin" = rubbish bin); only a keyword that is a single word overrides a stopword ("in" of
        "in the world" does not).
        """
        intents = knowledge.intents().values()
        keywords: dict[str, set[str]] = defaultdict(set)
        for lang, group in [
            *((lang, tr.keywords) for topic in knowledge.topics.values() for lang, tr in topic.translations.items()),
            *((lang, tr.keywords) for intent in intents for lang, tr in intent.translations.items()),
        ]:
            for keyword in group:
                toks = tokens(keyword)
                if len(toks) == 1:
                    keywords[lang].add(toks[0])
        stop: dict[str, frozenset[str]] = {}
        for code in knowledge.languages:
            if stopwordsiso.has_lang(code):
                words = {tok for word in stopwordsiso.stopwords(code) for tok in tokens(word)}
                stop[code] = frozenset(words - keywords[code])
        return stop

    def _add(self, target: str, lang: str, kind: str, texts: Iterable[str]) -> None:
        bit = self._lang_bit.get(lang, 0)
        stop = self._stopwords.get(lang, frozenset())
        for text in texts:
            words = [t for t in tokens(text) if len(t) >= self.settings.min_token_length]
            toks = [t for t in words if t not in stop]
            # A word of a keyword phrase says less than a keyword on its own ("ابحث عن شقة", "bot değil"), and only
            # a single-word keyword is evidence on its own: "your team" stays a phrase even without "your".
            keyword = kind == "keyword" and len(words) == 1
            if kind == "keyword" and len(words) > 1 and toks:
                # The phrase keeps its function words: "لم شمل" (family reunion) needs its "لم", "your team" its "your".
                phrase = tuple(dict.fromkeys(words))
                for tok in toks:
                    self._phrases[target].setdefault(tok, set()).add(phrase)
            elif kind == "keyword" and len(words) > 1:
                self._stop_phrases[words[0]].append((target, tuple(words), bit))
            weight = 1.0 / math.sqrt(len(words)) if kind != "example" and words else self.settings.example_weight
            if kind != "example":
                self._curated[target].update(toks)
            for tok in toks:
                posting = self._postings[tok].get(target)
                if posting is None:
                    self._postings[tok][target] = _Posting(weight, bit, keyword)
                else:
                    posting.weight = max(posting.weight, weight)
                    posting.langs |= bit
                    posting.keyword = posting.keyword or keyword

    def _build_triggers(self, phrases: Iterable[str]) -> _Triggers:
        triggers = _Triggers()
        for phrase in phrases:
            toks = tuple(t for t in tokens(phrase) if len(t) >= 2 or t.isdigit())
            if not toks:
                continue
            triggers.vocab.update(toks)
            if len(toks) == 1:
                triggers.single.add(toks[0])
            else:
                for tok in set(toks):
                    triggers.phrases.setdefault(tok, []).append((phrase, toks))
        for tok in triggers.vocab:
            if len(tok) >= self.settings.trigger_fuzzy_min_length:
                for key in (tok, *_deletes(tok)):
                    triggers.deletes.setdefault(key, set()).add(tok)
        return triggers

    def _build_cities(self, knowledge: Knowledge) -> dict[str, str]:
        """One-word spellings of the cities and districts, for questions that name one. A word some topic lists as
        a keyword is that topic's word, not a city: "essen" (food) is no question about the city of Essen."""
        words = {
            toks[0]
            for topic in knowledge.topics.values()
            for tr in topic.translations.values()
            for keyword in tr.keywords
            if len(toks := tokens(keyword)) == 1
        }
        spellings: dict[str, str] = {}
        for city in knowledge.cities.values():
            for spelling in (city.slug, *city.names.values(), *city.aliases):
                toks = tokens(spelling)
                # "کلن" is Köln and also Pashto "years old": four letters at least
                if len(toks) == 1 and len(toks[0]) >= 4 and toks[0] not in words:
                    spellings.setdefault(toks[0], city.slug)
        return spellings

    # -- querying -------------------------------------------------------------------------------------------

    def detect_city(self, query_tokens: Iterable[str]) -> tuple[str | None, set[str]]:
        """The city named in the tokens (with case endings like "düsseldorfta", "кельні"), and those tokens."""
        found: str | None = None
        used: set[str] = set()
        for tok in query_tokens:
            slug = self._cities.get(tok)
            if slug is None and len(tok) >= 5:
                for cut in range(len(tok) - 1, max(3, len(tok) - 4), -1):
                    slug = self._cities.get(tok[:cut])
                    if slug is not None:
                        break
            if slug is not None:
                found = found or slug
                used.add(tok)
        return found, used

    def emergency_trigger(self, query_tokens: list[str]) -> str | None:
        """The emergency trigger word or phrase found in the tokens, if any."""
        return self._find_trigger(self._triggers, query_tokens)

    def handoff_trigger(self, query_tokens: list[str]) -> str | None:
        """The phrase asking for a person (``handoff.yaml`` triggers) found in the tokens, if any."""
        return self._find_trigger(self._handoff_triggers, query_tokens)

    def _find_trigger(self, tr: _Triggers, query_tokens: list[str]) -> str | None:
        """A trigger all of whose words are in the tokens (any order; typos and glued prefixes forgiven)."""
        present: set[str] = set()
        for tok in query_tokens:
            stem = proclitic_stem(tok)
            if stem is not None and stem in tr.vocab:
                present.add(stem)
            if tok in tr.vocab:
                present.add(tok)
            # Typos are forgiven in words the knowledge does not know, and in trigger words themselves ("breath" must
            # reach "breathe" of "cant breathe"), but a known word is what it says: French "prendre" (take) and
            # "perdre" (lose) are not a misspelt "pendre" (hang).
            known = tok in self._flat and tok not in tr.vocab
            if len(tok) >= self.settings.trigger_fuzzy_min_length and not known:
                for key in (tok, *_deletes(tok)):
                    if key in tr.vocab and len(key) >= self.settings.trigger_fuzzy_min_length - 1:
                        present.add(key)  # one letter too many: a glued preposition or a typo
                    for cand in tr.deletes.get(key, ()):
                        if Levenshtein.distance(tok, cand, score_cutoff=1) <= 1:
                            present.add(cand)
            if len(tok) >= self.settings.trigger_fuzzy_min_length:  # case endings: "ambulansa" of "ambulans"
                for cut in range(len(tok) - 1, max(4, len(tok) - 4), -1):
                    if tok[:cut] in tr.vocab and len(tok[:cut]) >= 5:
                        present.add(tok[:cut])
                        break
        for tok in present:
            if tok in tr.single:
                return tok
        for tok in present:
            for phrase, toks in tr.phrases.get(tok, ()):
                if all(t in present for t in toks):
                    return phrase
        return None

    def _match_token(self, tok: str) -> list[_TokenMatch]:
        s = self.settings
        if tok in self._flat:
            return [_TokenMatch(tok, 1.0)]
        matches: dict[str, float] = {}
        stem = proclitic_stem(tok)
        if stem is not None and stem in self._flat:
            matches[stem] = s.proclitic_weight
        if len(tok) >= s.fuzzy_min_length:
            # one edit costs more in a short word than in a long one
            sim1 = 1.0 - s.fuzzy_penalty / len(tok)
            for key in (tok, *_deletes(tok)):
                for cand in self._delete_map.get(key, ()):
                    if cand not in matches and Levenshtein.distance(tok, cand, score_cutoff=1) <= 1:
                        matches[cand] = sim1
            if not matches and len(tok) >= 8:
                sim2 = 1.0 - 2 * s.fuzzy_penalty / len(tok)
                for length in range(len(tok) - 2, len(tok) + 3):
                    for cand in self._buckets.get((tok[0], length), ()):
                        if Levenshtein.distance(tok, cand, score_cutoff=2) <= 2:
                            matches[cand] = sim2
        if len(tok) >= 6:
            # Compounds and suffixes: the longest known prefix and suffix of at least 4 letters.
            for cut in range(len(tok) - 1, 3, -1):
                part = tok[:cut]
                if part in self._flat:
                    share = cut / len(tok)
                    matches.setdefault(part, s.affix_weight * (0.5 + 0.5 * share))
                    break
            for start in range(1, len(tok) - 3):
                part = tok[start:]
                if part in self._flat:
                    share = len(part) / len(tok)
                    matches.setdefault(part, s.affix_weight * (0.4 + 0.6 * share))
                    break
        return [_TokenMatch(v, sim) for v, sim in matches.items()]

    def _query(self, text: str, lang: str) -> tuple[list[str], list[str], str | None, set[str]]:
        """All tokens, the words that are matched (no city names, no function words), the city and its tokens."""
        all_tokens = tokens(text)
        city, city_tokens = self.detect_city(all_tokens)
        stop = self._stopwords.get(lang, frozenset())
        query = [
            t
            for t in dict.fromkeys(all_tokens)
            if len(t) >= self.settings.min_token_length and t not in city_tokens and t not in stop
        ]
        return all_tokens, query, city, city_tokens

    def search(self, text: str, lang: str, limit: int = 5) -> MatchResult:
        """Rank targets for ``text`` written by someone whose interface language is ``lang``."""
        s = self.settings
        all_tokens, query, city, _ = self._query(text, lang)
        trigger = self.emergency_trigger(all_tokens)
        handoff = self.handoff_trigger(all_tokens)
        user_bit = self._lang_bit.get(lang, 0)
        scores: dict[str, float] = defaultdict(float)
        keyword_scores: dict[str, float] = defaultdict(float)
        matched: dict[str, dict[str, tuple[float, bool]]] = defaultdict(dict)  # target -> vocabulary -> (value, kw)
        mass = 0.0
        for tok in query:
            best: dict[str, tuple[float, bool, str]] = {}
            token_mass = 0.0
            uninformative = False
            for match in self._match_token(tok):
                idf = self.idf[match.vocab]
                if idf < s.min_idf:
                    uninformative = True  # a word nearly every topic uses says nothing (and has the longest postings)
                    continue
                sim = match.similarity
                token_mass = max(token_mass, idf * sim)
                other = sim * s.other_language_factor
                for target, weight, langs, keyword in self._flat[match.vocab]:
                    value = weight * (sim if langs & user_bit else other)
                    held = best.get(target)
                    if held is None or value > held[0]:
                        best[target] = (value, keyword, match.vocab)
            if token_mass > 0:
                mass += token_mass
            elif not uninformative:
                mass += s.unknown_token_idf
            for target, (value, from_keyword, vocab) in best.items():
                scores[target] += value
                matched[target][vocab] = (value, from_keyword)
                if from_keyword:
                    keyword_scores[target] += value
        present = set(all_tokens)
        # Phrases of function words only count when complete and in order, as keywords ("new here" is not "new
        # people ... first time here"); the best one adds to the information.
        phrase_best: dict[str, float] = {}
        words = [t for t in all_tokens if len(t) >= s.min_token_length]
        for start, tok in enumerate(words):
            for target, phrase, langs in self._stop_phrases.get(tok, ()):
                if tuple(words[start : start + len(phrase)]) == phrase:
                    value = 1.0 if langs & user_bit else s.other_language_factor
                    phrase_best[target] = max(phrase_best.get(target, 0.0), value)
        for target, value in phrase_best.items():
            scores[target] += value
            keyword_scores[target] += value
        if phrase_best:
            mass += max(phrase_best.values())
        ranked = heapq.nlargest(limit, scores.items(), key=itemgetter(1))
        for target, _ in ranked:
            # A keyword phrase ("black bin", "ابحث عن شقة") is evidence when all of its words are there.
            found = matched[target]
            by_word = self._phrases.get(target, {})
            phrases = {phrase for tok in found for phrase in by_word.get(tok, ())}
            complete = {tok for phrase in phrases if all(t in found or t in present for t in phrase) for tok in phrase}
            keyword_scores[target] += sum(found[tok][0] for tok in complete if tok in found and not found[tok][1])
        candidates = tuple(
            Candidate(t, round(v, 4), round(v / mass, 4) if mass else 0.0, round(keyword_scores[t], 4))
            for t, v in ranked
        )
        return MatchResult(candidates, tuple(query), city, trigger, round(mass, 4), handoff)

    def explain(self, text: str, lang: str) -> list[str]:
        """Human-readable lines: how each word of ``text`` matched (for ``ask --explain``)."""
        lines = []
        _, query, city, city_tokens = self._query(text, lang)
        result = self.search(text, lang)
        if city:
            lines.append(f"city: {city} (from {', '.join(sorted(city_tokens))})")
        if result.emergency_trigger:
            lines.append(f"emergency trigger: {result.emergency_trigger}")
        if result.handoff_trigger:
            lines.append(f"handoff trigger: {result.handoff_trigger}")
        for tok in query:
            found = sorted(self._match_token(tok), key=lambda m: -m.similarity * self.idf[m.vocab])
            parts = [
                f"{m.vocab}~{m.similarity:.2f} idf={self.idf[m.vocab]:.2f} -> {','.join(sorted(p[0] for p in self._flat[m.vocab]))}"  # noqa: E501
                for m in found[:4]
            ]
            lines.append(f"{tok}: " + ("; ".join(parts) if parts else "(unknown)"))
        lines.append(f"mass: {result.mass}")
        lines += [
            f"  {c.target}: score {c.score} coverage {c.coverage} keywords {c.keyword_score}" for c in result.candidates
        ]
        return lines

    @property
    def stopwords(self) -> Mapping[str, frozenset[str]]:
        """Function words per language (without that language's one-word keywords)."""
        return self._stopwords

    def knows(self, token: str) -> bool:
        """Whether a normalised word occurs in the knowledge (titles, keywords, examples) or is a function word."""
        return token in self._flat or any(token in stop for stop in self._stopwords.values())

    def vocabulary_size(self) -> int:
        return len(self._flat)


def build_index(knowledge: Knowledge, settings: MatchSettings | None = None) -> Index:
    """Build the search index for ``knowledge``."""
    return Index(knowledge, settings)
