"""The hybrid matcher: classifier training, the learned combination, rejection, tiny knowledge, the cache."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from bot.core.classifier import Classifier, char_ngrams, training_texts, word_feature
from bot.core.dialogue import Dialogue
from bot.core.hybrid import (
    BASE_SIGNALS,
    Combiner,
    Hybrid,
    Ranking,
    Scored,
    cross_validated_rows,
    load_or_train,
    train,
)
from bot.core.knowledge import load_knowledge
from bot.core.match_model import OFFTOPIC, UNCOVERED, MatchSettings
from bot.core.matcher import build_index
from bot.core.model import Knowledge
from bot.core.semantic import EmbeddingError, load_embedder
from tests.conftest import FIXTURE_KB


@pytest.fixture(scope="module")
def fixture_kb() -> Knowledge:
    return load_knowledge(FIXTURE_KB)


def _two_topics(kb: Knowledge) -> Knowledge:
    """A knowledge base of two topics and nothing else: no emergency topic, no small-talk intent."""
    return kb.model_copy(update={"topics": {k: v for k, v in kb.topics.items() if k != "emergency"}, "offtopic": None})


# -- the classifier -------------------------------------------------------------------------------------------


def test_training_texts_cover_titles_keywords_examples_and_answer_sentences(fixture_kb: Knowledge) -> None:
    texts = training_texts(fixture_kb)
    kinds = {(t.target, t.kind) for t in texts}
    assert {("doctor", "title"), ("doctor", "keyword"), ("doctor", "example"), ("doctor", "answer")} <= kinds
    assert (OFFTOPIC, "example") in kinds
    # placeholders are not words of the topic
    assert not any("{" in t.text for t in texts if t.kind == "answer")


def test_the_classifier_meets_forms_the_knowledge_never_lists(fixture_kb: Knowledge) -> None:
    classifier = Classifier.fit(training_texts(fixture_kb))
    # plural and compound forms: no keyword or example has them, their character n-grams are known
    for text, lang, expected in [
        ("apotheken", "de", "pharmacy"),
        ("kinderarztpraxis", "de", "doctor"),
        ("pharmacies", "en", "pharmacy"),
    ]:
        scores = classifier.scores(text, lang)
        assert max(scores, key=lambda t: scores[t]) == expected, scores
    # a text of nothing the knowledge knows scores nothing at all
    assert set(classifier.scores("xqzv", "en").values()) == {0.0}


def test_stems_join_inflected_words_in_languages_with_a_stemmer() -> None:
    assert word_feature("medikamenten", "de") == word_feature("medikamente", "de")
    assert word_feature("лекарства", "ru") == word_feature("лекарство", "ru")
    # a language without a stemmer, or a word in another script, stays as it is
    assert word_feature("dhakhtarka", "so") == "dhakhtarka"
    assert word_feature("doctor", "ru") == "doctor"


def test_char_ngrams_are_taken_inside_padded_words() -> None:
    assert char_ngrams(["ab"], 2, 3) == [" a", "ab", "b ", " ab", "ab "]
    assert char_ngrams(["ab"]) == [" ab", "ab ", " ab "]


# -- learning the combination ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def de_en(knowledge: Knowledge) -> Knowledge:
    """The real knowledge in German and English only: big enough to learn from, quick to cross-validate."""

    def keep(translations: object) -> dict[str, object]:
        return {lang: tr for lang, tr in translations.items() if lang in ("de", "en")}  # type: ignore[attr-defined]

    topics = {tid: t.model_copy(update={"translations": keep(t.translations)}) for tid, t in knowledge.topics.items()}
    update: dict[str, object] = {"topics": topics}
    for field in ("offtopic", "uncovered"):
        intent = getattr(knowledge, field)
        if intent is not None:
            update[field] = intent.model_copy(update={"translations": keep(intent.translations)})
    return knowledge.model_copy(update=update)


def test_the_combination_is_learned_and_calibrated_on_held_out_examples(de_en: Knowledge) -> None:
    rows, labels = cross_validated_rows(de_en, MatchSettings())
    combiner = Combiner.fit(BASE_SIGNALS, rows, labels)
    assert combiner.learned
    # both signals matter: the classifier's relative lead and the lexical lead get positive weight
    weights = dict(zip(combiner.names, combiner.weights, strict=True))
    assert weights["classifier_ratio"] > 0 and weights["lexical_lead"] > 0, weights
    # calibrated: in every confidence band with enough candidates, the share that was right is near the confidence
    probs = combiner.probability(np.asarray(rows, dtype=np.float64))
    truth = np.asarray(labels)
    for low in np.arange(0.0, 1.0, 0.2):
        band = (probs >= low) & (probs < low + 0.2)
        if band.sum() >= 30:
            assert abs(truth[band].mean() - probs[band].mean()) < 0.12, (low, truth[band].mean(), probs[band].mean())
    # and better than knowing nothing (Brier score of the base rate)
    assert np.mean((probs - truth) ** 2) < 0.5 * np.mean((truth.mean() - truth) ** 2)


def test_a_knowledge_base_of_two_topics_still_works(fixture_kb: Knowledge) -> None:
    two = _two_topics(fixture_kb)
    hybrid = train(two)
    assert not hybrid.combiner.learned  # too little to learn a combination: the default weights
    dialogue = Dialogue(two, hybrid.index, hybrid=hybrid)
    assert (dialogue.decide("wo ist eine apotheke", "de").kind, dialogue.decide("apotheke", "de").topic) == (
        "answer",
        "pharmacy",
    )
    assert dialogue.decide("i need a doctor, i am sick", "en").topic == "doctor"
    assert dialogue.decide("zzzz qqqq", "en").kind == "fallback"


def test_a_single_training_text_is_enough_for_the_classifier(fixture_kb: Knowledge) -> None:
    texts = [t for t in training_texts(fixture_kb) if t.kind == "title" and t.lang == "de"][:2]
    classifier = Classifier.fit(texts)
    assert len(classifier.targets) == 2
    with pytest.raises(ValueError, match="no training texts"):
        Classifier.fit([])


# -- deciding on the combined confidence ----------------------------------------------------------------------


def test_small_talk_and_uncovered_matters_get_the_honest_fallback(dialogue: Dialogue) -> None:
    tax = dialogue.decide("wie mache ich meine steuererklärung?", "de")
    assert tax.kind == "fallback", tax.scores
    assert "/human" in tax.text and "112" in tax.text
    licence = dialogue.decide("can i exchange my driving licence for a german one?", "en")
    assert licence.kind == "fallback"
    football = dialogue.decide("who won the champions league final?", "en")
    assert football.kind == "fallback"
    assert "North Rhine-Westphalia" in football.text


def test_an_uncovered_matter_is_ranked_as_a_class_of_its_own(dialogue: Dialogue) -> None:
    ranked = dialogue.hybrid.rank("steuererklärung machen", "de").ranked
    assert ranked[0].target == UNCOVERED, ranked[:3]


class _Fixed(Hybrid):
    """A hybrid whose ranking is given (the dialogue's rules tested without any scoring)."""

    def __init__(self, base: Hybrid, ranked: list[Scored]) -> None:
        super().__init__(base.index, base.classifier, base.combiner)
        self._ranked = tuple(ranked)

    def rank(self, text: str, lang: str, lexical: object = None) -> Ranking:
        return Ranking(self._ranked, self.index.search(text, lang), self.names)


def _signals(lexical_first: bool, classifier_first: bool) -> tuple[float, ...]:
    values = dict.fromkeys(BASE_SIGNALS, 0.0)
    values["lexical_ratio"] = 0.5 if lexical_first else -0.5
    values["classifier_ratio"] = 0.5 if classifier_first else -0.5
    return tuple(values[name] for name in BASE_SIGNALS)


def test_when_the_signals_disagree_each_ones_favourite_is_offered(fixture_dialogue: Dialogue) -> None:
    base = fixture_dialogue.hybrid
    ranked = [
        Scored("doctor", 0.40, _signals(lexical_first=True, classifier_first=False)),
        Scored(OFFTOPIC, 0.20, _signals(False, False)),
        Scored("pharmacy", 0.05, _signals(lexical_first=False, classifier_first=True)),
    ]
    kb = fixture_dialogue.knowledge
    decision = Dialogue(kb, base.index, hybrid=_Fixed(base, ranked)).decide("arzt oder apotheke", "de")
    # the classifier's favourite is far below the clarify floor, and still one of the choices
    assert (decision.kind, decision.candidates) == ("clarify", ("doctor", "pharmacy"))
    assert "112" in decision.text


def test_confidence_decides_answer_clarify_and_fallback(fixture_dialogue: Dialogue) -> None:
    base = fixture_dialogue.hybrid
    kb = fixture_dialogue.knowledge
    s = MatchSettings()

    def decide(*ranked: Scored) -> tuple[str, tuple[str, ...]]:
        d = Dialogue(kb, base.index, hybrid=_Fixed(base, list(ranked))).decide("arzt", "de")
        return d.kind, d.candidates

    both = _signals(True, True)
    none = _signals(False, False)
    sure = s.answer_confidence + 0.05
    assert decide(Scored("doctor", sure, both), Scored("pharmacy", 0.01, none))[0] == "answer"
    # sure, but another topic is close behind: choices
    close = sure - s.answer_lead / 2
    assert decide(Scored("doctor", sure, both), Scored("pharmacy", close, none)) == ("clarify", ("doctor", "pharmacy"))
    # nothing plausible: the honest fallback
    assert decide(Scored("doctor", s.clarify_confidence / 2, both))[0] == "fallback"
    # small talk ranked first with confidence: the fallback, even with a topic behind it
    assert decide(Scored(OFFTOPIC, s.intent_confidence + 0.1, none), Scored("doctor", 0.2, both))[0] == "fallback"


def test_a_menu_of_one_choice_is_answered_directly(fixture_kb: Knowledge) -> None:
    index = build_index(fixture_kb, dataclasses.replace(MatchSettings(), answer_confidence=1.01, sole_confidence=1.01))
    hybrid = train(fixture_kb, index.settings, index=index)
    off = Dialogue(fixture_kb, index, hybrid=hybrid).decide("hausarzt krank", "de")
    assert (off.kind, off.candidates) == ("clarify", ("doctor",))
    index.settings = dataclasses.replace(index.settings, sole_confidence=0.0)
    on = Dialogue(fixture_kb, index, hybrid=hybrid).decide("hausarzt krank", "de")
    assert (on.kind, on.topic) == ("answer", "doctor")


# -- the cache ------------------------------------------------------------------------------------------------


def test_the_trained_matcher_is_cached_by_the_knowledges_content(
    fixture_kb: Knowledge, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trained: list[int] = []
    first = load_or_train(fixture_kb, cache_dir=tmp_path, on_train=lambda: trained.append(1))
    again = load_or_train(fixture_kb, cache_dir=tmp_path, on_train=lambda: trained.append(1))
    assert trained == [1]  # the second start read the cache
    assert [s.target for s in again.rank("apotheke nachts", "de").ranked] == [
        s.target for s in first.rank("apotheke nachts", "de").ranked
    ]
    assert again.rank("apotheke nachts", "de").ranked[0].confidence == pytest.approx(
        first.rank("apotheke nachts", "de").ranked[0].confidence, abs=1e-4
    )
    # a changed knowledge base is trained again
    load_or_train(_two_topics(fixture_kb), cache_dir=tmp_path, on_train=lambda: trained.append(2))
    assert trained == [1, 2]
    # a damaged cache file is not trusted: trained again, with a warning that names no content
    for file in tmp_path.glob("model-*.npz"):
        file.write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING):
        load_or_train(fixture_kb, cache_dir=tmp_path, on_train=lambda: trained.append(3))
    assert trained[-1] == 3
    assert "unreadable" in caplog.text


def test_an_unwritable_cache_only_costs_time(fixture_kb: Knowledge, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")
    hybrid = load_or_train(fixture_kb, cache_dir=blocked / "cache")
    assert hybrid.rank("apotheke", "de").ranked[0].target == "pharmacy"


# -- the optional semantic layer ------------------------------------------------------------------------------


def _vectors(path: Path) -> Path:
    """A tiny word-vector model built by the test: pharmacy words, doctor words and weather words apart."""
    rows = {
        "apotheke": (1.0, 0.0, 0.0),
        "pharmacy": (1.0, 0.1, 0.0),
        "farmacia": (0.95, 0.05, 0.0),  # a language the knowledge does not have
        "medikamente": (0.9, 0.2, 0.0),
        "arzt": (0.0, 1.0, 0.0),
        "doctor": (0.1, 1.0, 0.0),
        "medico": (0.05, 0.95, 0.0),
        "weather": (0.0, 0.0, 1.0),
    }
    lines = [f"{len(rows)} 3", *(f"{w} {' '.join(str(x) for x in v)}" for w, v in rows.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_semantic_layer_is_one_more_signal(fixture_kb: Knowledge, tmp_path: Path) -> None:
    embedder = load_embedder(f"vectors:{_vectors(tmp_path / 'tiny.vec')}")
    hybrid = train(fixture_kb, embedder=embedder)
    assert hybrid.names[-2:] == ("semantic", "semantic_lead")
    ranked = hybrid.rank("farmacia", "en").ranked
    assert ranked[0].target == "pharmacy", ranked
    assert ranked[0].signals[hybrid.names.index("semantic")] > 0.9
    assert "semantic=" in "\n".join(hybrid.explain("farmacia", "en"))
    # cached like the rest, keyed by the embedder too
    trained: list[int] = []
    load_or_train(fixture_kb, cache_dir=tmp_path / "c", embedder=embedder, on_train=lambda: trained.append(1))
    again = load_or_train(fixture_kb, cache_dir=tmp_path / "c", embedder=embedder, on_train=lambda: trained.append(1))
    assert trained == [1] and again.semantic is not None


def test_bad_embedding_settings_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="not understood"):
        load_embedder("magic:model")
    with pytest.raises(EmbeddingError, match="not found"):
        load_embedder(f"vectors:{tmp_path / 'missing.vec'}")
    broken = tmp_path / "broken.vec"
    broken.write_text("arzt 0.1 0.2\ndoctor 0.1 x\n", encoding="utf-8")
    with pytest.raises(EmbeddingError, match=r"broken.vec:2"):
        load_embedder(f"vectors:{broken}")


def test_a_large_knowledge_learns_its_combination_on_a_fixed_sample_of_topics(
    knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core import hybrid

    assert hybrid.for_validation(knowledge) is knowledge  # today's knowledge: all of it
    monkeypatch.setattr(hybrid, "CV_TOPICS", 10)
    sample = hybrid.for_validation(knowledge)
    assert len(sample.topics) == 10 and set(sample.topics) < set(knowledge.topics)
    assert list(hybrid.for_validation(knowledge).topics) == list(sample.topics)  # the same at every start
    assert sample.handoff == knowledge.handoff and sample.offtopic == knowledge.offtopic  # the intents whole
    rows, labels = hybrid.cross_validated_rows(sample, MatchSettings())
    assert rows and 0 < sum(labels) < len(labels)
