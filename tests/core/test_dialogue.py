"""Dialogue decisions as a newcomer meets them (real knowledge base, phrasings not taken from the eval set)."""

from __future__ import annotations

import pytest

from bot.core.dialogue import Dialogue
from bot.core.i18n import translator
from bot.core.render import LRI, PDI


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("mein sohn atmet nicht mehr, bitte schnell", "de"),
        ("there is smoke and fire in our kitchen", "en"),
        ("أخي ينزف كثيرا", "ar"),
        ("پدرم بیهوش شده", "fa"),
        ("дружина втратила свідомість", "uk"),
        ("у ребёнка сильное кровотечение", "ru"),
        ("komşum bıçaklandı", "tr"),
        ("ماشوم ساه نه اخلي", "ps"),
        ("agir ket mala me", "ku"),
        ("ገዛና ሓዊ ተላዒሉ", "ti"),
        ("walaalkay miyir beelay", "so"),
        ("mon mari ne respire plus", "fr"),
        ("my frend is unconcious", "en"),  # typos
        ("HILFE ES BRENNT", "de"),
    ],
)
def test_emergency_in_every_language(dialogue: Dialogue, text: str, lang: str) -> None:
    decision = dialogue.decide(text, lang)
    assert decision.kind == "emergency", decision
    assert "112" in decision.text and "110" in decision.text


@pytest.mark.parametrize(
    ("text", "lang"),
    [("١١٢", "ar"), ("is 112 free from a german sim card without credit", "en"), ("numéro de la police ?", "fr")],
)
def test_questions_about_the_numbers_get_them_as_an_answer(dialogue: Dialogue, text: str, lang: str) -> None:
    # No danger is described: the emergency topic answers with the numbers, without raising the alarm.
    decision = dialogue.decide(text, lang)
    assert (decision.kind, decision.topic) == ("answer", "emergency"), decision
    assert "112" in decision.text and "110" in decision.text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ich brauche einen hausarzt für meine familie", "de"),
        ("where is a pharmacy open on sunday", "en"),
        ("I was fired from my job, what now", "en"),
        ("comment agir avec la lettre du jobcenter", "fr"),
        # a known word is not a typo of a trigger word one letter away ("баварія" / "аварія" = accident)
        ("баварія виграла вчора?", "uk"),
        # French elision: "m'ouvrir" is not "mouvrir", one letter from "mourir" of "veut mourir"
        ("la banque veut pas m'ouvrir un compte", "fr"),
    ],
)
def test_everyday_questions_are_not_emergencies(dialogue: Dialogue, text: str, lang: str) -> None:
    assert dialogue.decide(text, lang).kind != "emergency"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ich möchte bitte mit einem mitarbeiter sprechen", "de"),
        ("can i talk to a real person please", "en"),
        ("أريد التحدث مع موظف", "ar"),
        ("хочу поговорити з живою людиною", "uk"),
    ],
)
def test_asking_for_a_human_is_handoff(dialogue: Dialogue, text: str, lang: str) -> None:
    decision = dialogue.decide(text, lang)
    assert decision.kind == "handoff", decision
    assert "/human" in decision.text


@pytest.mark.parametrize(
    ("text", "lang", "topic"),
    [
        ("wie trenne ich den müll richtig", "de", "waste-separation"),
        ("where do i register my new address", "en", "registration"),
        ("kita platz für meine tochter", "de", "kita"),
        ("ابحث عن طبيب عائلة", "ar", "doctor"),
        ("Basiskonto eröffnen ohne pass", "de", "bank-account"),
        ("deutschlandticket kaufen", "en", "public-transport"),
        ("elektrik faturası değil, ben almanca kursu arıyorum", "tr", "language-course"),
        ("аусландербехёрде продлить внж", "ru", "residence-permit"),
    ],
)
def test_clear_questions_get_the_topic(dialogue: Dialogue, text: str, lang: str, topic: str) -> None:
    decision = dialogue.decide(text, lang)
    assert (decision.kind, decision.topic) == ("answer", topic), decision
    assert decision.candidates[0] == topic


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("what is the capital of peru", "en"),
        ("wie backe ich einen apfelkuchen", "de"),
        ("هل تحب كرة السلة", "ar"),
        ("напиши мне стихотворение о море", "ru"),
    ],
)
def test_unrelated_questions_are_not_answered(dialogue: Dialogue, text: str, lang: str) -> None:
    decision = dialogue.decide(text, lang)
    assert decision.kind in ("fallback", "clarify"), decision
    if decision.kind == "fallback":
        assert "/human" in decision.text and "/menu" in decision.text


def test_empty_or_symbol_only_input(dialogue: Dialogue) -> None:
    for text in ("", "   ", "???", "👍👍"):
        decision = dialogue.decide(text, "de")
        assert decision.kind == "fallback"
        assert decision.text


def test_answer_fills_city_contacts(dialogue: Dialogue) -> None:
    with_city = dialogue.decide("wo ist das kommunale integrationszentrum", "de", "koeln")
    assert with_city.kind == "answer"
    assert "Köln" in with_city.text or "Integrationszentrum" in with_city.text
    assert "{contact:" not in with_city.text
    without = dialogue.decide("wo ist das kommunale integrationszentrum", "de", None)
    assert "/city" in without.text
    assert "{contact:" not in without.text


def test_city_named_in_text_is_used(dialogue: Dialogue) -> None:
    decision = dialogue.decide("integrationszentrum in düsseldorf", "de")
    assert decision.city == "duesseldorf"


def test_unknown_language_falls_back_to_english(dialogue: Dialogue) -> None:
    decision = dialogue.decide("where is a doctor", "xx")
    assert decision.lang == "en"


def test_rtl_answers_isolate_numbers_and_latin(dialogue: Dialogue) -> None:
    text, lang = dialogue.topic_text("emergency", "ar", None)
    assert lang == "ar"
    assert f"{LRI}112{PDI}" in text


def test_clarify_and_fallback_language_note(fixture_dialogue: Dialogue) -> None:
    # the fixture has no Arabic pharmacy text: the English one is shown with a note
    text, lang = fixture_dialogue.topic_text("pharmacy", "ar", None)
    assert lang == "en"
    assert "Take your prescription" in text


def test_json_contract(dialogue: Dialogue) -> None:
    data = dialogue.decide("arzt", "de").to_json()
    assert set(data) == {"kind", "topic", "candidates", "lang", "text", "more"}
    assert isinstance(data["candidates"], list)


def test_offtopic_is_declined_politely(fixture_dialogue: Dialogue) -> None:
    decision = fixture_dialogue.decide("wie wird das wetter morgen", "de")
    assert decision.kind == "fallback"
    de = translator("de")
    first = decision.text.split("\n")[0]
    assert first == de.gettext("I can only help with questions about arriving and living in North Rhine-Westphalia.")
    assert first != de.gettext("Sorry, I do not have an answer to that.")


def test_offtopic_words_do_not_hide_real_questions(fixture_dialogue: Dialogue) -> None:
    decision = fixture_dialogue.decide("apotheke nachts offen", "de")
    assert (decision.kind, decision.topic) == ("answer", "pharmacy")


def test_an_answer_never_shows_the_same_address_twice(dialogue: Dialogue) -> None:
    # Köln has no Welcome Point: {contact:welcome-point} falls back to the integration centre, which the next
    # placeholder {contact:integration-centre} would show again.
    text = dialogue.render("language-course", "de", "koeln").text
    assert text.count("Kommunales Integrationszentrum Köln") == 1
    assert "Für Köln habe ich noch keine Adresse dieser Art" in text


def test_every_answer_outside_german_can_be_shown_in_german(dialogue: Dialogue) -> None:
    from bot.core.conversation import Conversation
    from bot.core.replies import Profile

    conversation = Conversation(dialogue)
    arabic = conversation.topic_reply("doctor", "ar", "koeln")
    assert "de:doctor" in [b.data for row in arabic.buttons for b in row]
    german = conversation.topic_reply("doctor", "de", "koeln")
    assert "de:doctor" not in [b.data for row in german.buttons for b in row]  # German already
    profile = Profile(7, lang="ar", city="koeln", step="ready")
    (shown,) = conversation.in_german(profile, "doctor").replies
    assert shown.direction == "ltr" and shown.title and shown.title != dialogue.title("doctor", "de")
    assert shown.text.startswith(dialogue.title("doctor", "de"))
    assert dialogue.render("doctor", "de", "koeln").text.split("\n", 1)[1].strip()[:40] in shown.text
    (menu,) = conversation.in_german(profile, "no-such-topic").replies  # a forged button: the menu
    assert menu.kind != "german"
