"""The dialogue decision: what Lotse does with one message. Pure: no Telegram, no database."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.core.emergency import Detection, Detector, build_detector
from bot.core.emergency.answer import emergency_text, line, safety_line
from bot.core.hybrid import Hybrid, train
from bot.core.i18n import DEFAULT_LOCALES_DIR, Translator, translator
from bot.core.knowledge import EMERGENCY_TOPIC
from bot.core.match_model import HANDOFF, INTENTS, OFFTOPIC, Candidate, MatchResult, MatchSettings
from bot.core.matcher import Index
from bot.core.model import Knowledge
from bot.core.normalize import tokens
from bot.core.places import Places
from bot.core.render import RenderedTopic, render_topic, translation_for

Kind = Literal["answer", "clarify", "fallback", "emergency", "handoff"]
KINDS: tuple[Kind, ...] = ("answer", "clarify", "fallback", "emergency", "handoff")
MAX_CLARIFY = 3
MAX_TEXT_LENGTH = 1000  # what the matcher reads of a question
WINDOW_OVERLAP = 200  # emergencies are looked for in the whole text, in overlapping windows of MAX_TEXT_LENGTH
MAX_WINDOWS = 40


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a message, and the reply a person would see."""

    kind: Kind
    topic: str | None
    candidates: tuple[str, ...]
    lang: str
    text: str
    city: str | None = None
    content_lang: str | None = None
    scores: tuple[Candidate, ...] = field(default=(), compare=False)
    situations: tuple[str, ...] = ()  # the emergency situations recognised (kind "emergency")
    more: str | None = None  # what the "More" button shows (kind "answer"); None: nothing more

    def to_json(self) -> dict[str, Any]:
        """The public result contract of ``ask --json``: ``text`` is the first message, ``more`` the rest."""
        return {
            "kind": self.kind,
            "topic": self.topic,
            "candidates": list(self.candidates),
            "lang": self.lang,
            "text": self.text,
            "more": self.more,
        }


class Dialogue:
    """Decides on messages with one knowledge base and its index."""

    def __init__(
        self,
        knowledge: Knowledge,
        index: Index,
        locales_dir: Path = DEFAULT_LOCALES_DIR,
        hybrid: Hybrid | None = None,
        detector: Detector | Literal["build"] | None = "build",
    ) -> None:
        """``hybrid`` is the trained matcher (:func:`bot.core.hybrid.load_or_train`); without one it is trained on
        the first question (checks that need only the index and the detector never train). ``detector``: the
        emergency detector when it is at hand (bot/core/start_cache.py), else it is built here."""
        self.knowledge = knowledge
        self._hybrid = hybrid
        self.index = hybrid.index if hybrid is not None else index
        self.locales_dir = locales_dir
        self.towns = Places(knowledge)  # the search for where a person lives
        if detector == "build":
            detector = build_detector(knowledge.emergency, self.index.knows, self.index.stopwords)
        self.detector: Detector | None = detector
        # One message is checked for an emergency by the update processor (to let it go first), by the guard and by
        # the decision: the same text is not checked twice. The knowledge does not change under a Dialogue (a new
        # knowledge is a new Dialogue), so a topic rendered for a language and a city is rendered once.
        self._alarm_cached = functools.lru_cache(maxsize=256)(self._alarm)
        self._detect_cached = functools.lru_cache(maxsize=256)(self._detect)
        self._render_cached = functools.lru_cache(maxsize=4096)(self._render)

    @property
    def hybrid(self) -> Hybrid:
        if self._hybrid is None:
            self._hybrid = train(self.knowledge, self.index.settings, index=self.index)
        return self._hybrid

    @property
    def settings(self) -> MatchSettings:
        return self.index.settings

    def language(self, lang: str | None) -> str:
        """``lang`` if Lotse speaks it, else the closest supported code, else English."""
        if lang:
            code = lang.lower().replace("_", "-").split("-")[0]
            if code in self.knowledge.languages:
                return code
        return "en"

    def t(self, lang: str) -> Translator:
        return translator(lang, self.locales_dir)

    def detect(self, text: str) -> Detection:
        """The emergency situations in ``text`` (none when the knowledge declares no situations)."""
        return self._detect_cached((text or "")[:MAX_TEXT_LENGTH])

    def _detect(self, text: str) -> Detection:
        if self.detector is None:
            return Detection((), frozenset(), calm=False)
        return self.detector.detect(text)

    def is_emergency(self, text: str) -> bool:
        """Whether ``text`` describes an emergency (a situation, or a trigger phrase in a message that is not calm),
        anywhere in it: a long message that ends with a cry for help is an emergency too."""
        return self._alarm_cached(text or "") is not None

    def _alarm(self, text: str) -> Detection | None:
        """The detection of the first window of ``text`` that raises the alarm, or None."""
        text = text or ""
        step = MAX_TEXT_LENGTH - WINDOW_OVERLAP
        for start in range(0, max(1, len(text) - WINDOW_OVERLAP), step)[:MAX_WINDOWS]:
            window = text[start : start + MAX_TEXT_LENGTH]
            detection = self.detect(window)
            if detection.alarm(self.index.emergency_trigger(tokens(window)) is not None):
                return detection
        return None

    def decide(
        self, text: str, lang: str | None = None, city: str | None = None, *, emergency: bool = True
    ) -> Decision:
        """Decide what to answer to ``text`` from someone using interface language ``lang`` in ``city``.

        ``emergency=False`` answers the text as an ordinary question (the person tapped "not an emergency").
        """
        lang = self.language(lang)
        t = self.t(lang)
        full = text or ""
        text = full[:MAX_TEXT_LENGTH]
        result = self.index.search(text, lang)
        city = city if city in self.knowledge.cities else result.city
        # "Not an emergency" (emergency=False): nothing is read as danger, and the message counts as calm.
        detection = self.detect(text) if emergency else Detection((), frozenset(), calm=True)
        if detection.alarm(result.emergency_trigger is not None):
            return self._emergency(lang, city, result, detection.situations)
        later = (
            self._alarm(full[MAX_TEXT_LENGTH - WINDOW_OVERLAP :]) if emergency and len(full) > MAX_TEXT_LENGTH else None
        )
        if later is not None:  # the danger is told after the first thousand characters
            return self._emergency(lang, city, result, later.situations)
        if result.handoff_trigger is not None:  # "can someone call me back" may consist of function words only
            return Decision("handoff", None, (), lang, self._handoff_text(t), city, scores=result.candidates)
        if not result.query_tokens and not result.candidates:
            return Decision(
                "fallback",
                None,
                (),
                lang,
                t.gettext("Please write your question in a few words, in any language.")
                + "\n"
                + t.gettext("You can also browse all topics: /menu")
                + "\n"
                + self.safety_line(lang),
                city,
            )
        s = self.settings
        cands = result.candidates
        topic_score = max((c.score for c in cands if c.target not in INTENTS), default=0.0)
        handoff = next((c for c in cands if c.target == HANDOFF), None)
        # Without a trigger phrase, only strong evidence far ahead of every topic is a request for a person: "the
        # staff at the Ausländerbehörde was rude to me" names staff but is about discrimination.
        if handoff is not None and handoff.score >= s.handoff_score and handoff.score >= s.handoff_ratio * topic_score:
            return Decision("handoff", None, (), lang, self._handoff_text(t), city, scores=cands)
        ranked = self.hybrid.rank(text, lang, result).ranked
        if not ranked:
            return self._fallback(lang, city, cands)
        first = ranked[0]
        if first.target in INTENTS and first.confidence >= s.intent_confidence:
            # Small talk, or an everyday matter Lotse has no answer for (taxes, a driving licence): said honestly.
            return self._fallback(lang, city, cands, offtopic=first.target == OFFTOPIC)
        topics = [r for r in ranked if r.target not in INTENTS]
        if not topics:
            return self._fallback(lang, city, cands)
        best = topics[0]
        # Small talk or an uncovered matter close behind weighs more than another topic there: "وصفة" is a
        # prescription and a recipe, and a falafel recipe must not get the pharmacy answer.
        second = max(
            (r.confidence * (s.intent_weight if r.target in INTENTS else 1.0) for r in ranked if r is not best),
            default=0.0,
        )
        lead = best.confidence - second
        names = self.hybrid.names
        sure = best.confidence >= s.answer_confidence and lead >= s.answer_lead
        if best.target == EMERGENCY_TOPIC:
            # No situation was recognised: a question about the emergency numbers ("is 112 free?", "police number")
            # is answered with them; a calm message ("fire alarm test in our Heim") or one the person said is no
            # emergency gets them as a choice.
            if sure and not detection.quiet:
                # Without declared situations (an older knowledge base) the scores are the only way to see danger.
                kind: Kind = "answer" if self.detector is not None else "emergency"
                return self._topic_decision(kind, best.target, lang, city, result)
        elif sure:
            return self._topic_decision("answer", best.target, lang, city, result)
        if best.confidence < s.clarify_confidence:
            return self._fallback(lang, city, cands)
        floor = max(s.clarify_confidence, best.confidence * s.clarify_ratio)
        chosen = [r.target for r in topics if r.confidence >= floor]
        # When the signals disagree, each one's favourite (ahead of every other target) is among the choices.
        for position in (names.index("lexical_ratio"), names.index("classifier_ratio")):
            favourite = next((r.target for r in topics if r.signals[position] > 0), None)
            if favourite is not None and favourite not in chosen:
                chosen.append(favourite)
        chosen = sorted(chosen, key=[r.target for r in topics].index)[:MAX_CLARIFY]
        if len(chosen) == 1 and best.target != EMERGENCY_TOPIC and best.confidence >= s.sole_confidence and lead > 0:
            # One plausible topic and nothing else: a menu of one choice would only cost the person a tap.
            return self._topic_decision("answer", best.target, lang, city, result)
        return self._clarify(lang, city, chosen, cands)

    # -- replies --------------------------------------------------------------------------------------------

    def render(self, topic_id: str, lang: str, city: str | None) -> RenderedTopic:
        """A topic rendered for ``lang`` and ``city`` (used for menu taps and clarify choices too)."""
        return self._render_cached(topic_id, self.language(lang), city)

    def _render(self, topic_id: str, lang: str, city: str | None) -> RenderedTopic:
        topic = self.knowledge.topics[topic_id]
        city_obj = self.knowledge.cities.get(city) if city else None
        return render_topic(topic, lang, city_obj, self.knowledge, self.t(lang))

    def title(self, topic_id: str, lang: str) -> str:
        """A topic's title in ``lang`` or its fallback (cheap: no placeholders are filled)."""
        return translation_for(self.knowledge.topics[topic_id], self.language(lang), self.knowledge)[1].title

    def topic_text(self, topic_id: str, lang: str, city: str | None) -> tuple[str, str]:
        """The first message for a topic (title, short answer, fallback note) and the language it is written in."""
        lang = self.language(lang)
        rendered = self.render(topic_id, lang, city)
        return self._compose(rendered, lang, rendered.text), rendered.lang

    def topic_more(self, topic_id: str, lang: str, city: str | None) -> str | None:
        """What the topic's "More" button shows (None when the short answer is all)."""
        return self.render(topic_id, self.language(lang), city).more

    def _compose(self, rendered: RenderedTopic, lang: str, body: str) -> str:
        """Title and body, led by a note when the topic is shown in a fallback language."""
        parts = [rendered.title, "", body]
        if rendered.fell_back:
            name = self.knowledge.languages[rendered.lang].native
            note = self.t(lang).gettext("This answer is not yet available in your language. Here it is in {language}.")
            parts = [note.format(language=name), "", *parts]
        return "\n".join(parts)

    def emergency_line(self, lang: str, key: str) -> str | None:
        """A short emergency text of ``emergency/<lang>.yaml`` (e.g. the "not an emergency" button)."""
        return line(self.knowledge, self.language(lang), key)

    def safety_line(self, lang: str) -> str:
        """The one line every uncertain reply ends with: in danger now, call 112."""
        return safety_line(self.knowledge, self.language(lang))

    def emergency_text(self, lang: str, city: str | None, situations: tuple[str, ...]) -> tuple[str, str]:
        """The emergency answer fitted to the situations (numbers, the sentence to read out) and its language."""
        lang = self.language(lang)
        rendered = self.render(EMERGENCY_TOPIC, lang, city)
        city_obj = self.knowledge.cities.get(city) if city else None
        body = emergency_text(self.knowledge, rendered.lang, rendered.text, city_obj, situations)
        return self._compose(rendered, lang, body), rendered.lang

    def _emergency(self, lang: str, city: str | None, res: MatchResult, situations: tuple[str, ...]) -> Decision:
        text, content_lang = self.emergency_text(lang, city, situations)
        ranked = tuple(c.target for c in res.candidates if c.target not in (*INTENTS, EMERGENCY_TOPIC))[:2]
        return Decision(
            "emergency",
            EMERGENCY_TOPIC,
            (EMERGENCY_TOPIC, *ranked),
            lang,
            text,
            city,
            content_lang,
            res.candidates,
            situations,
        )

    def _topic_decision(self, kind: Kind, topic_id: str, lang: str, city: str | None, res: MatchResult) -> Decision:
        text, content_lang = self.topic_text(topic_id, lang, city)
        ranked = tuple(c.target for c in res.candidates if c.target not in (*INTENTS, topic_id))[:2]
        more = self.topic_more(topic_id, lang, city)
        return Decision(kind, topic_id, (topic_id, *ranked), lang, text, city, content_lang, res.candidates, more=more)

    def _clarify(self, lang: str, city: str | None, chosen: list[str], cands: tuple[Candidate, ...]) -> Decision:
        t = self.t(lang)
        lines = [t.gettext("I am not sure what you mean. Please choose a topic:")]
        for number, target in enumerate(chosen, start=1):
            lines.append(f"{number}. {self.title(target, lang)}")
        lines.append(t.gettext("None of these? Write your question in other words, or talk to a person: /human"))
        lines.append(self.safety_line(lang))
        return Decision("clarify", None, tuple(chosen), lang, "\n".join(lines), city, scores=cands)

    def _fallback(
        self, lang: str, city: str | None, cands: tuple[Candidate, ...], *, offtopic: bool = False
    ) -> Decision:
        t = self.t(lang)
        first = (
            t.gettext("I can only help with questions about arriving and living in North Rhine-Westphalia.")
            if offtopic
            else t.gettext("Sorry, I do not have an answer to that.")
        )
        text = "\n".join(
            [
                first,
                t.gettext("A person from the integration centre can help you: /human"),
                t.gettext("You can also browse all topics: /menu"),
                self.safety_line(lang),
            ]
        )
        return Decision("fallback", None, (), lang, text, city, scores=cands)

    @staticmethod
    def _handoff_text(t: Translator) -> str:
        return "\n".join(
            [
                t.gettext("You would like to talk to a person."),
                t.gettext(
                    "Staff of the integration centre or Service Point can answer you here. "
                    "Before anything is sent, I will show you exactly what they will see: /human"
                ),
            ]
        )
