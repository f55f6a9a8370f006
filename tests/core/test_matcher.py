"""Matching mechanisms on the small fixture knowledge base: triggers, keyword phrases, trigger checks."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.core.dialogue import Dialogue
from bot.core.knowledge import load_knowledge
from bot.core.matcher import build_index
from bot.core.model import Knowledge
from bot.core.normalize import tokens
from bot.core.selftest import check_triggers
from tests.conftest import FIXTURE_KB


def test_a_handoff_trigger_needs_all_its_words_in_any_order(fixture_dialogue: Dialogue) -> None:
    index = fixture_dialogue.index
    assert index.handoff_trigger(tokens("could someone from your office talk to me")) == "talk to someone"
    assert index.handoff_trigger(tokens("i want to talk")) is None
    assert index.handoff_trigger(tokens("someone stole my bag")) is None


def test_a_handoff_trigger_forgives_a_typo_in_a_long_word(fixture_dialogue: Dialogue) -> None:
    assert fixture_dialogue.index.handoff_trigger(tokens("kann ich mit jemandem sprechn")) == "mit jemandem sprechen"


def test_a_handoff_trigger_offers_a_person(fixture_dialogue: Dialogue) -> None:
    # none of the words is a handoff keyword: only the trigger knows this request
    decision = fixture_dialogue.decide("please let me speak to someone", "en")
    assert decision.kind == "handoff", decision
    assert "/human" in decision.text


def test_an_emergency_outranks_a_handoff_trigger(fixture_dialogue: Dialogue) -> None:
    assert fixture_dialogue.decide("fire! i need to talk to someone", "en").kind == "emergency"


def test_a_keyword_phrase_keeps_its_function_words(fixture_dialogue: Dialogue) -> None:
    # "out of hours": "out" and "of" are English function words, yet the phrase only counts when they are there
    index = fixture_dialogue.index
    full = {c.target: c for c in index.search("out of hours", "en").candidates}
    part = {c.target: c for c in index.search("hours", "en").candidates}
    assert full["pharmacy"].keyword_score > 0
    assert part["pharmacy"].keyword_score == 0


def test_check_warns_where_triggers_and_examples_disagree(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    handoff = kb / "handoff.yaml"
    handoff.write_text(
        handoff.read_text(encoding="utf-8").replace('"talk to someone"', '"talk to someone", "doctor appointment"'),
        encoding="utf-8",
    )
    knowledge = load_knowledge(kb)
    problems = [p.format() for p in check_triggers(kb, knowledge, build_index(knowledge))]
    doctor_line = next(
        n
        for n, line in enumerate((kb / "topics" / "doctor" / "en.yaml").read_text(encoding="utf-8").splitlines(), 1)
        if '"doctor appointment"' in line
    )
    assert any(
        f"doctor/en.yaml:{doctor_line}: warning: en: example 'doctor appointment' contains the handoff trigger" in p
        for p in problems
    ), problems
    clean = load_knowledge(FIXTURE_KB)
    found = [p.message for p in check_triggers(FIXTURE_KB, clean, build_index(clean)) if "contains the" in p.message]
    # the fixture's one-word trigger "emergency" also fires on its "emergency pharmacy" example: reported too
    assert found == ["en: example 'emergency pharmacy' contains the emergency trigger 'emergency'"]


def test_a_long_message_with_one_clear_topic_is_answered(fixture_dialogue: Dialogue) -> None:
    text = "wo finde ich einen hausarzt, mein bruder ist krank, wir wohnen seit drei wochen hier und kennen niemanden"
    decision = fixture_dialogue.decide(text, "de")
    assert (decision.kind, decision.topic) == ("answer", "doctor"), decision.scores


def test_a_trigger_of_function_words_only_is_still_a_request(fixture_dialogue: Dialogue) -> None:
    # every word of "can someone call me back" is an English stopword: nothing is left to match, yet it is a request
    assert fixture_dialogue.decide("can someone call me back?", "en").kind == "handoff"


def test_naming_staff_in_a_topic_question_is_not_a_request(fixture_dialogue: Dialogue) -> None:
    decision = fixture_dialogue.decide("the staff at the clinic was rude, my doctor said i am sick", "en")
    assert (decision.kind, decision.topic) == ("answer", "doctor"), decision.scores
    assert fixture_dialogue.decide("staff please", "en").kind == "handoff"


def test_a_phrase_of_function_words_only_counts_when_complete(fixture_dialogue: Dialogue) -> None:
    # every word of "in the world" is an English stopword: the phrase is evidence only as a whole
    index = fixture_dialogue.index
    whole = {c.target: c for c in index.search("biggest house in the world", "en").candidates}
    assert whole["@offtopic"].keyword_score == 1.0
    assert "@offtopic" not in {c.target for c in index.search("the house is in the city", "en").candidates}
    # a message of nothing but the phrase is understood, not "please write a few words"
    assert fixture_dialogue.decide("in the world", "en").kind == "fallback"
    assert "North Rhine-Westphalia" in fixture_dialogue.decide("in the world", "en").text


def test_an_emergency_without_trigger_needs_evidence_well_ahead(fixture_dialogue: Dialogue) -> None:
    # "call an ambulance" is an emergency example, not a trigger: scoring alone decides
    assert fixture_dialogue.index.emergency_trigger(tokens("please call an ambulance")) is None
    assert fixture_dialogue.decide("please call an ambulance", "en").kind == "emergency"


def test_a_phrase_of_function_words_must_be_in_order(fixture_dialogue: Dialogue) -> None:
    index = fixture_dialogue.index
    assert "@offtopic" not in {c.target for c in index.search("the world is big in my eyes", "en").candidates}


def test_a_city_name_that_is_a_topics_keyword_is_read_as_the_word(knowledge: Knowledge) -> None:
    index = build_index(knowledge)
    assert index.detect_city(tokens("wo bekomme ich kostenloses essen"))[0] is None  # food, not the city of Essen
    assert index.detect_city(tokens("auslanderbehorde in bochum termin"))[0] == "bochum"
    assert index.detect_city(tokens("jobcenter kreis soest"))[0] == "kreis-soest"
