"""A statistical text classifier trained on the knowledge itself, at load time.

Each target (a topic, the off-topic and uncovered intents) is described by its titles, keywords, example questions
and answer sentences in every language. Texts become TF-IDF vectors of

- character 3-5-grams inside normalised words (they survive inflection, German compounds and typos), and
- words, inflected forms joined by a stemmer where one covers the language (Snowball for ar de en fa fr ru tr;
  none for uk ps ku ti so);

and a target is the normalised sum (centroid) of its texts' vectors. A question's score for a target is the cosine
of the two. Training is summation (milliseconds, linear in the knowledge), memory stays sparse, and a knowledge base
of two topics works as well as one of 2,500. scikit-learn fits the vocabularies and weights; scoring one question
is done here with plain dictionaries and one sparse product, without scikit-learn's per-call overhead.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from bot.core.emergency.words import first_script, stem
from bot.core.model import Intent, Knowledge
from bot.core.normalize import tokens

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_SENTENCE = re.compile(r"\n\s*\n|(?<=[.!?؟።])\s+")
_NATIVE = {"ar": "arabic", "fa": "arabic", "ru": "cyrillic", "uk": "cyrillic"}
MIN_ANSWER_SENTENCE = 16


@dataclass(frozen=True, slots=True)
class TrainingText:
    """One text that describes a target, in one language."""

    text: str
    target: str
    lang: str
    kind: str  # title | keyword | example | answer


def training_texts(knowledge: Knowledge) -> list[TrainingText]:
    """Every text of the knowledge that says what a target is about (answers cut into sentences)."""
    out: list[TrainingText] = []
    for topic in knowledge.topics.values():
        for lang, tr in topic.translations.items():
            out.append(TrainingText(tr.title, topic.id, lang, "title"))
            out += [TrainingText(kw, topic.id, lang, "keyword") for kw in tr.keywords]
            out += [TrainingText(ex, topic.id, lang, "example") for ex in tr.examples]
            for part in _SENTENCE.split(tr.answer):
                part = _PLACEHOLDER.sub(" ", part).strip()
                if len(part) >= MIN_ANSWER_SENTENCE:
                    out.append(TrainingText(part, topic.id, lang, "answer"))
    for target, intent in intents(knowledge).items():
        for lang, itr in intent.translations.items():
            out += [TrainingText(kw, target, lang, "keyword") for kw in itr.keywords]
            out += [TrainingText(ex, target, lang, "example") for ex in itr.examples]
    return out


def intents(knowledge: Knowledge) -> dict[str, Intent]:
    """The intents the classifier learns as classes of their own, by target (asking for a person is left to
    triggers)."""
    return {"@" + name: intent for name, intent in knowledge.intents().items() if name != "handoff"}


@lru_cache(maxsize=65536)
def word_feature(token: str, lang: str) -> str:
    """A normalised word as a feature: its Snowball stem in ``lang`` when it is written in that language's script.

    Ukrainian has no Snowball stemmer; simplemma's lemmatiser covers it but costs ~60 MiB and 0.3 s per process and
    changed nothing measurable on real questions (character n-grams already join its word forms), so it is not used.
    """
    native = _NATIVE.get(lang, "latin")
    if first_script(token) != native:
        return token
    found = stem(token, lang)
    return found if found is not None else token


def char_ngrams(words: Sequence[str], low: int = 3, high: int = 5) -> list[str]:
    """Character n-grams inside each word padded with spaces (scikit-learn's ``char_wb``, on normalised words)."""
    grams: list[str] = []
    for word in words:
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if n > size:
                break
            grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


def _analyze(doc: tuple[str, str]) -> list[str]:
    """The features of one (text, language): char n-grams, and words prefixed with a marker."""
    text, lang = doc
    words = tokens(text)
    return [*char_ngrams(words), *("\x00" + word_feature(w, lang) for w in words)]


class Centroids(NamedTuple):
    """The (features x targets) centroid matrix in compressed sparse rows, as plain arrays: scoring needs no SciPy
    (importing it took a tenth of a start), only training does."""

    data: NDArray[np.float32]
    indices: NDArray[np.int32]
    indptr: NDArray[np.int32]
    shape: tuple[int, int]


@dataclass(frozen=True, slots=True)
class ClassifierState:
    """Everything the classifier needs to score, as plain arrays (what the cache stores)."""

    vocabulary: NDArray[np.str_]
    idf: NDArray[np.float32]
    targets: NDArray[np.str_]
    centroids: Centroids  # features x targets


class Classifier:
    """TF-IDF centroid classifier over the knowledge's targets."""

    def __init__(self, state: ClassifierState) -> None:
        self.state = state
        self.targets: tuple[str, ...] = tuple(str(t) for t in state.targets)
        self._column = dict(zip(state.vocabulary.tolist(), range(len(state.vocabulary)), strict=True))
        self._idf = state.idf.astype(np.float64)
        self._indptr = state.centroids.indptr.astype(np.int64)
        self._indices = state.centroids.indices
        self._data = state.centroids.data.astype(np.float64)

    @classmethod
    def fit(cls, texts: Iterable[TrainingText]) -> Classifier:
        """Learn vocabulary, weights and one centroid per target."""
        # training only: a start that reads the trained matcher from the cache skips these imports (0.6 s)
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize as l2_rows

        items = list(texts)
        if not items:
            raise ValueError("no training texts")
        # min_df=2 drops n-grams of one text only (typos, names); a tiny knowledge base keeps them all.
        min_df = 2 if len(items) >= 200 else 1
        vectorizer = TfidfVectorizer(analyzer=_analyze, sublinear_tf=True, min_df=min_df, dtype=np.float32)
        matrix = vectorizer.fit_transform([(item.text, item.lang) for item in items])
        targets = sorted({item.target for item in items})
        row_of = {target: i for i, target in enumerate(targets)}
        membership = sp.csr_matrix(
            (np.ones(len(items), dtype=np.float32), ([row_of[item.target] for item in items], range(len(items)))),
            shape=(len(targets), len(items)),
        )
        csr = l2_rows(membership @ matrix).T.tocsr().astype(np.float32)
        centroids = Centroids(csr.data, csr.indices, csr.indptr, (int(csr.shape[0]), int(csr.shape[1])))
        vocabulary = np.array(vectorizer.get_feature_names_out(), dtype=np.str_)
        state = ClassifierState(vocabulary, vectorizer.idf_.astype(np.float32), np.array(targets), centroids)
        return cls(state)

    def vector(self, text: str, lang: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The L2-normalised TF-IDF vector of one text as (feature columns, values); unknown features are left out."""
        column = self._column
        cols: list[int] = []
        tfs: list[float] = []
        for feature, count in Counter(_analyze((text, lang))).items():
            col = column.get(feature)
            if col is not None:
                cols.append(col)
                tfs.append(1.0 + math.log(count))
        where = np.array(cols, dtype=np.int64)
        values = np.array(tfs) * self._idf[where]
        norm = float(np.sqrt(values @ values)) or 1.0
        return where, values / norm

    def scores(self, text: str, lang: str) -> dict[str, float]:
        """Cosine similarity of ``text`` with every target (0.0 where nothing is shared)."""
        cols, values = self.vector(text, lang)
        if not len(cols):
            return dict.fromkeys(self.targets, 0.0)
        # The rows of the query's features in the (features x targets) centroid matrix, gathered in one go.
        starts, ends = self._indptr[cols], self._indptr[cols + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        weights = self._data[offsets] * np.repeat(values, lengths)
        sims = np.bincount(self._indices[offsets], weights, minlength=len(self.targets))
        return {target: float(s) for target, s in zip(self.targets, sims, strict=True)}

    def top_features(self, text: str, lang: str, target: str, limit: int = 5) -> list[tuple[str, float]]:
        """The features of ``text`` that contribute most to its score for ``target`` (for ``ask --explain``)."""
        if target not in self.targets:
            return []
        column = np.zeros(len(self._column))  # this target's weight of every feature (rows hold one per target)
        rows = np.repeat(np.arange(len(self._indptr) - 1), np.diff(self._indptr))
        mine = self._indices == self.targets.index(target)
        column[rows[mine]] = self._data[mine]
        cols, values = self.vector(text, lang)
        vocabulary = self.state.vocabulary
        parts = [(str(vocabulary[c]), float(v * column[c])) for c, v in zip(cols, values, strict=True)]
        parts = [(f.replace("\x00", "word:"), v) for f, v in parts if v > 0]
        return sorted(parts, key=lambda p: -p[1])[:limit]

    def size(self) -> Mapping[str, int]:
        """Features, targets and non-zero centroid weights (for benchmarks)."""
        return {
            "features": len(self._column),
            "targets": len(self.targets),
            "weights": len(self._data),
        }
