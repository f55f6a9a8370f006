"""Hybrid matching: the lexical scorer, the classifier and (optionally) sentence embeddings, combined.

Each signal ranks the targets in its own way: the lexical scorer (:mod:`bot.core.matcher`) is best at typos,
transliterations and exact keywords, the classifier (:mod:`bot.core.classifier`) at words the knowledge uses in other
forms, the semantic layer (:mod:`bot.core.semantic`, off unless configured) at meaning in other words. For every
candidate target (the union of each signal's best) a few numbers describe how strongly each signal points to it and
how far ahead of the rest; a logistic regression turns them into one confidence, the probability that the target is
right.

That combination is learned, not set by hand: the knowledge's own example questions are split into folds, each fold
is matched against signals built without it (cross-validation), and the regression learns which signal to trust how
much. A knowledge base too small to learn from (fewer than ``MIN_CV_EXAMPLES`` held-out questions, or all of one
kind) uses ``DEFAULT_WEIGHTS``, a combination learned once on Lotse's own knowledge.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bot.core import index_cache
from bot.core.classifier import Centroids, Classifier, ClassifierState, intents, training_texts
from bot.core.match_model import HANDOFF, MatchResult, MatchSettings
from bot.core.matcher import Index
from bot.core.model import Knowledge, Reviewable, Topic
from bot.core.semantic import Embedder, SemanticIndex

log = logging.getLogger(__name__)

CACHE_VERSION = "hybrid-2"
CANDIDATES = 5  # from each signal
MIN_SIMILARITY = 0.05
# A lead relative to the better of two scores means little when both are tiny: ratios are taken against at least these.
LEXICAL_FLOOR = 0.5  # about half a keyword
SIMILARITY_FLOOR = 0.1  # a classifier or semantic candidate below this shares only stray letters with the question
FOLDS = 4
CV_TOPICS = 250  # topics of a larger knowledge base the combination is learnt on (ten times today's)
MIN_CV_EXAMPLES = 40
BASE_SIGNALS = (
    "lexical",
    "coverage",
    "keywords",
    "lexical_lead",
    "lexical_ratio",
    "classifier",
    "classifier_lead",
    "classifier_ratio",
    "information",
)
SEMANTIC_SIGNALS = ("semantic", "semantic_lead")
# Learned by cross-validation on Lotse's knowledge (2026-12-06); used only when a knowledge base is too small to learn
# its own combination. Order as BASE_SIGNALS; the semantic signals (similarity, lead) get the classifier's.
DEFAULT_WEIGHTS = (-0.7, 1.03, 1.3, 2.33, 1.4, 0.55, 0.49, 2.32, 0.12)
DEFAULT_BIAS = -1.15


def signal_names(semantic: bool) -> tuple[str, ...]:
    """The signals of a candidate, in the order of its values (the semantic ones only with the layer)."""
    return BASE_SIGNALS + (SEMANTIC_SIGNALS if semantic else ())


@dataclass(frozen=True, slots=True)
class Scored:
    """One candidate target: its combined confidence and the signal values behind it."""

    target: str
    confidence: float
    signals: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Candidates best first, with what each signal saw."""

    ranked: tuple[Scored, ...]
    lexical: MatchResult
    names: tuple[str, ...]


class Combiner:
    """Logistic regression from signal values to the probability that a candidate is right."""

    def __init__(self, names: Sequence[str], weights: Sequence[float], bias: float, *, learned: bool) -> None:
        self.names = tuple(names)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = float(bias)
        self.learned = learned

    @classmethod
    def default(cls, names: Sequence[str]) -> Combiner:
        weights = list(DEFAULT_WEIGHTS)
        if len(names) > len(weights):
            position = BASE_SIGNALS.index
            weights += [DEFAULT_WEIGHTS[position("classifier")], DEFAULT_WEIGHTS[position("classifier_lead")]]
        return cls(names, weights[: len(names)], DEFAULT_BIAS, learned=False)

    @classmethod
    def fit(cls, names: Sequence[str], rows: Sequence[Sequence[float]], labels: Sequence[int]) -> Combiner:
        """Learn from candidate rows labelled 1 (the right target) or 0; the default when there is too little."""
        if sum(labels) < MIN_CV_EXAMPLES or len(set(labels)) < 2:
            return cls.default(names)
        from sklearn.linear_model import LogisticRegression  # training only (0.5 s of imports a start need not pay)

        model = LogisticRegression(C=1.0, max_iter=2000)
        model.fit(np.asarray(rows, dtype=np.float64), np.asarray(labels))
        return cls(names, model.coef_[0].tolist(), float(model.intercept_[0]), learned=True)

    def probability(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        z = rows @ self.weights + self.bias
        result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
        return result

    def contributions(self, row: Sequence[float]) -> list[tuple[str, float, float]]:
        """(signal, value, weight x value) for ``ask --explain``."""
        return [(n, float(v), float(w * v)) for n, v, w in zip(self.names, row, self.weights, strict=True)]


class Hybrid:
    """The matcher the dialogue asks: signals, candidates and one confidence per candidate."""

    def __init__(
        self,
        index: Index,
        classifier: Classifier,
        combiner: Combiner,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.index = index
        self.classifier = classifier
        self.combiner = combiner
        self.semantic = semantic
        self.names = signal_names(semantic is not None)

    def rank(self, text: str, lang: str, lexical: MatchResult | None = None) -> Ranking:
        """Every candidate target of ``text`` with its confidence, best first."""
        lexical = lexical if lexical is not None else self.index.search(text, lang)
        rows, targets = self._rows(text, lang, lexical, self.index, self.classifier, self.semantic)
        if not targets:
            return Ranking((), lexical, self.names)
        probs = self.combiner.probability(np.asarray(rows, dtype=np.float64))
        ranked = sorted(
            (
                Scored(t, round(float(p), 4), tuple(round(v, 4) for v in row))
                for t, p, row in zip(targets, probs, rows, strict=True)
            ),
            key=lambda s: -s.confidence,
        )
        return Ranking(tuple(ranked), lexical, self.names)

    @staticmethod
    def _rows(
        text: str,
        lang: str,
        lexical: MatchResult,
        index: Index,
        classifier: Classifier,
        semantic: SemanticIndex | None,
    ) -> tuple[list[list[float]], list[str]]:
        sims = classifier.scores(text, lang)
        by_sim = sorted(sims.items(), key=lambda kv: -kv[1])
        lex = {c.target: c for c in lexical.candidates if c.target != HANDOFF}
        lex_order = [c.target for c in lexical.candidates if c.target != HANDOFF]
        sem = semantic.scores(text) if semantic is not None else None
        pool = [*lex_order[:CANDIDATES], *(t for t, s in by_sim[:CANDIDATES] if s >= MIN_SIMILARITY)]
        if sem:
            pool += [t for t, s in sorted(sem.items(), key=lambda kv: -kv[1])[:CANDIDATES] if s >= MIN_SIMILARITY]
        targets = [t for t in dict.fromkeys(pool) if t in sims or t in lex]
        information = min(lexical.mass, 5.0)
        rows: list[list[float]] = []
        for target in targets:
            cand = lex.get(target)
            score = cand.score if cand is not None else 0.0
            other = max((c.score for t, c in lex.items() if t != target), default=0.0)
            sim = sims.get(target, 0.0)
            other_sim = next((s for t, s in by_sim if t != target), 0.0)
            row = [
                min(score, 5.0),
                cand.coverage if cand is not None else 0.0,
                min(cand.keyword_score, 5.0) if cand is not None else 0.0,
                max(-5.0, min(score - other, 5.0)),
                (score - other) / max(score, other, LEXICAL_FLOOR),
                sim,
                sim - other_sim,
                (sim - other_sim) / max(sim, other_sim, SIMILARITY_FLOOR),
                information,
            ]
            if sem is not None:
                value = sem.get(target, 0.0)
                row += [value, value - max((s for t, s in sem.items() if t != target), default=0.0)]
            rows.append(row)
        return rows, targets

    def explain(self, text: str, lang: str, limit: int = 3) -> list[str]:
        """Each signal's value and contribution per candidate, and the combined confidence (``ask --explain``)."""
        ranking = self.rank(text, lang)
        how = "learned by cross-validation" if self.combiner.learned else "default weights (knowledge too small)"
        lines = [f"combination: {how}, bias {self.combiner.bias:+.2f}"]
        for scored in ranking.ranked[:limit]:
            lines.append(f"  {scored.target}: confidence {scored.confidence:.3f}")
            parts = self.combiner.contributions(scored.signals)
            lines.append("    " + "  ".join(f"{n}={v:.2f}({c:+.2f})" for n, v, c in parts))
            features = self.classifier.top_features(text, lang, scored.target)
            if features:
                lines.append("    classifier features: " + ", ".join(f"{f!r}:{w:.3f}" for f, w in features))
        return lines


# -- training --------------------------------------------------------------------------------------------------


def _fold_of(*key: object) -> int:
    return zlib.crc32(repr(key).encode()) % FOLDS


def _without_fold(knowledge: Knowledge, fold: int) -> tuple[Knowledge, list[tuple[str, str, str]]]:
    """The knowledge without one fold of its example questions, and those questions (text, language, target)."""
    held: list[tuple[str, str, str]] = []

    def split(owner: str, lang: str, examples: Sequence[str]) -> tuple[str, ...]:
        keep = []
        for i, example in enumerate(examples):
            if _fold_of(owner, lang, i) == fold:
                held.append((example, lang, owner))
            else:
                keep.append(example)
        return tuple(keep)

    topics: dict[str, Topic] = {}
    for topic in knowledge.topics.values():
        translations: dict[str, object] = {
            lang: tr.model_copy(update={"examples": split(topic.id, lang, tr.examples)})
            for lang, tr in topic.translations.items()
        }
        topics[topic.id] = topic.model_copy(update={"translations": translations})
    update: dict[str, object] = {"topics": topics}
    for target, intent in intents(knowledge).items():
        translations = {
            lang: itr.model_copy(update={"examples": split(target, lang, itr.examples)})
            for lang, itr in intent.translations.items()
        }
        update[target.removeprefix("@")] = intent.model_copy(update={"translations": translations})
    return knowledge.model_copy(update=update), held


def for_validation(knowledge: Knowledge) -> Knowledge:
    """The knowledge the combination is learnt on: all of it, or of a larger one a fixed sample of ``CV_TOPICS``
    topics (every n-th by id) with all intents. The combination has one weight per signal, which a few thousand
    held-out questions settle; cross-validating every question of a knowledge base a hundred times today's took
    longer than 40 minutes at its first start (four indexes and classifiers of it, and a decision per question)."""
    if len(knowledge.topics) <= CV_TOPICS:
        return knowledge
    ids = sorted(knowledge.topics)
    chosen = {ids[i * len(ids) // CV_TOPICS] for i in range(CV_TOPICS)}
    return knowledge.model_copy(update={"topics": {t: knowledge.topics[t] for t in ids if t in chosen}})


def learn_combiner(knowledge: Knowledge, settings: MatchSettings, embedder: Embedder | None = None) -> Combiner:
    """Cross-validate the signals on the knowledge's own example questions and fit the combination."""
    rows, labels = cross_validated_rows(knowledge, settings, embedder)
    return Combiner.fit(signal_names(embedder is not None), rows, labels)


def cross_validated_rows(
    knowledge: Knowledge, settings: MatchSettings, embedder: Embedder | None = None
) -> tuple[list[list[float]], list[int]]:
    """Signal rows of every candidate of every held-out example question, labelled 1 for the right target."""
    rows: list[list[float]] = []
    labels: list[int] = []
    knowledge = for_validation(knowledge)
    for fold in range(FOLDS):
        part, held = _without_fold(knowledge, fold)
        if not held:
            continue
        index = Index(part, settings)
        classifier = Classifier.fit(training_texts(part))
        semantic = SemanticIndex.build(part, embedder) if embedder is not None else None
        for text, lang, target in held:
            fold_rows, targets = Hybrid._rows(text, lang, index.search(text, lang), index, classifier, semantic)
            rows += fold_rows
            labels += [int(t == target) for t in targets]
    return rows, labels


def train(
    knowledge: Knowledge,
    settings: MatchSettings | None = None,
    embedder: Embedder | None = None,
    *,
    index: Index | None = None,
) -> Hybrid:
    """Build every signal from ``knowledge`` and learn their combination (seconds; see :func:`load_or_train`)."""
    settings = settings or MatchSettings()
    index = index if index is not None and index.knowledge is knowledge else Index(knowledge, settings)
    classifier = Classifier.fit(training_texts(knowledge))
    semantic = SemanticIndex.build(knowledge, embedder) if embedder is not None else None
    return Hybrid(index, classifier, learn_combiner(knowledge, settings, embedder), semantic)


# -- cache ------------------------------------------------------------------------------------------------------


REVIEW_FIELDS = ("status", "reviewed_by", "checked")  # not part of the cache key


def cache_key(knowledge: Knowledge, settings: MatchSettings, embedder: Embedder | None) -> str:
    """A digest of everything training depends on: the knowledge's content, the settings, the embedder, the code."""
    digest = hashlib.sha256(CACHE_VERSION.encode())
    content = knowledge.model_dump(
        include={"languages", "topics", "cities", "handoff", "offtopic", "uncovered"}, warnings=False
    )
    digest.update(json.dumps(content, sort_keys=True, default=_plain).encode())
    digest.update(repr(settings).encode())
    digest.update((embedder.name if embedder is not None else "-").encode())
    return digest.hexdigest()[:32]


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Reviewable):  # a translation: who reviewed it and when changes no matching
        return value.model_dump(mode="json", exclude=set(REVIEW_FIELDS))
    return str(value)


def _save(path: Path, hybrid: Hybrid) -> None:
    state = hybrid.classifier.state
    centroids = state.centroids
    arrays: dict[str, NDArray[np.generic]] = {
        "vocabulary": state.vocabulary,
        "idf": state.idf,
        "targets": state.targets,
        "data": centroids.data,
        "indices": centroids.indices,
        "indptr": centroids.indptr,
        "shape": np.array(centroids.shape),
        "names": np.array(hybrid.combiner.names),
        "weights": hybrid.combiner.weights,
        "meta": np.array([json.dumps({"bias": hybrid.combiner.bias, "learned": hybrid.combiner.learned})]),
    }
    # several processes may train at once: the last complete file wins
    index_cache.write_atomically(path, lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]


def _load(path: Path) -> tuple[ClassifierState, Combiner]:
    with np.load(path, allow_pickle=False) as data:
        shape = tuple(int(x) for x in data["shape"])
        centroids = Centroids(data["data"], data["indices"], data["indptr"], (shape[0], shape[1]))
        state = ClassifierState(data["vocabulary"], data["idf"], data["targets"], centroids)
        meta = json.loads(str(data["meta"][0]))
        combiner = Combiner(
            [str(n) for n in data["names"]], data["weights"].tolist(), meta["bias"], learned=bool(meta["learned"])
        )
    return state, combiner


def load_or_train(
    knowledge: Knowledge,
    settings: MatchSettings | None = None,
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
    *,
    on_train: Callable[[], None] | None = None,
    key: str | None = None,
) -> Hybrid:
    """The trained matcher from ``cache_dir`` when the knowledge is unchanged, else trained now and cached there.
    ``key``: :func:`cache_key` of the same arguments, when the caller has it (a second of a start at 100x)."""
    settings = settings or MatchSettings()
    if cache_dir is None:
        return train(knowledge, settings, embedder)
    key = key or cache_key(knowledge, settings, embedder)
    path = cache_dir / f"model-{key}.npz"
    where_index = index_cache.index_path(cache_dir, key)
    index = index_cache.load(where_index, knowledge, settings)  # the search index, unless it must be built
    if path.is_file():
        try:
            state, combiner = _load(path)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("matcher cache %s unreadable (%s); training again", path.name, type(exc).__name__)
        else:
            semantic = SemanticIndex.build(knowledge, embedder) if embedder is not None else None
            hybrid = Hybrid(index or Index(knowledge, settings), Classifier(state), combiner, semantic)
            if index is None:
                _keep_index(where_index, hybrid.index)
            return hybrid
    if on_train is not None:
        on_train()
    hybrid = train(knowledge, settings, embedder, index=index)
    try:
        _save(path, hybrid)
    except OSError as exc:
        log.warning("matcher cache not written to %s (%s); the next start trains again", cache_dir, exc.strerror)
    if index is None:
        _keep_index(where_index, hybrid.index)
    return hybrid


def _keep_index(path: Path, index: Index) -> None:
    try:
        index_cache.save(path, index)
    except OSError as exc:
        log.warning("search index not cached in %s (%s); the next start builds it again", path.parent, exc.strerror)
