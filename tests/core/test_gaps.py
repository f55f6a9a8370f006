"""The gaps worklist: what is kept of a question Lotse could not answer well, and how similar ones are grouped."""

from __future__ import annotations

from bot.core.conversation import Conversation
from bot.core.dialogue import Dialogue
from bot.core.gaps import DAY, Gap, group, report, scrub
from bot.core.replies import Profile


def test_what_could_identify_a_person_is_masked() -> None:
    text = (
        "Mein Name ist Amal, Tel. 0176 1234 5678 oder +49 (221) 555-12-34, mail amal.k@example.org, "
        "Aktenzeichen 12345678, IBAN DE89 3704 0044 0532 0130 00, siehe https://example.org/x?id=7"
    )
    kept = scrub(text)
    for secret in ("0176", "555-12", "amal.k@", "12345678", "DE89", "3704", "example.org/x"):
        assert secret not in kept, secret
    assert kept.count("[number]") >= 4 and "[e-mail]" in kept and "[web]" in kept
    assert kept.startswith("Mein Name ist Amal, Tel.")  # words stay (a name cannot be told from a word)
    assert scrub("wo ist das amt   in\n köln") == "wo ist das amt in köln"
    assert len(scrub("x" * 2000)) == 500
    assert scrub("Kita ab 3 Jahren, Kosten 150 Euro?") == "Kita ab 3 Jahren, Kosten 150 Euro?"  # short numbers stay


def test_a_gap_keeps_the_day_and_the_best_three_targets() -> None:
    gap = Gap.of("fallback", "de", "koeln", "führerschein", 3 * DAY + 4000.0, [("a", 1.23456), ("b", 1), ("c", 0.5),
                                                                               ("d", 0.1)])  # fmt: skip
    assert gap.day == 3 * DAY and gap.candidates == (("a", 1.235), ("b", 1.0), ("c", 0.5))
    assert not hasattr(gap, "user_id") and "user" not in Gap.__slots__


def _conversation(dialogue: Dialogue) -> Conversation:
    return Conversation(dialogue)


def test_the_conversation_notes_gaps_and_nothing_for_an_answer(dialogue: Dialogue) -> None:
    conversation = _conversation(dialogue)
    de, en = Profile(1, "de", "koeln", "ready"), Profile(2, "en", "koeln", "ready")
    assert conversation.on_text(de, "wo finde ich einen kinderarzt").gap is None
    fallback = conversation.on_text(de, "kann ich meinen führerschein umschreiben, Tel 0176 1234 5678").gap
    assert fallback is not None and fallback.kind == "fallback" and fallback.city == "koeln" and fallback.lang == "de"
    assert "0176" not in fallback.text and fallback.candidates[0][0] == "@uncovered"
    offered = conversation.on_text(en, "card")
    clarify = offered.gap
    assert clarify is not None and clarify.kind == "clarify" and len(clarify.topics()) >= 2
    assert clarify.token is not None and len(clarify.token) == 8
    choices = [b.data for row in offered.replies[0].buttons for b in row if b.data and b.data.startswith("t:")]
    assert choices and all(data.endswith(":" + clarify.token) and len(data.encode()) <= 64 for data in choices)
    chosen = conversation.on_topic(en, choices[0].removeprefix("t:"))
    assert chosen.resolved == clarify.token and chosen.replies[0].title  # answered, and the gap is resolved
    assert conversation.on_topic(en, "pharmacy").resolved is None  # a menu or related topic: nothing to resolve
    down = conversation.on_feedback(de, "pharmacy", helpful=False).gap
    assert down is not None and down.kind == "thumbs-down" and down.topic == "pharmacy" and down.text == ""
    assert conversation.on_feedback(de, "pharmacy", helpful=True).gap is None
    assert conversation.on_feedback(de, "no-such-topic", helpful=False).gap is None  # a forged button
    calm = conversation.on_not_emergency(de, "mein kind hat fieber, wo ist ein kinderarzt").gap
    assert calm is not None and calm.kind == "not-emergency" and "kinderarzt" in calm.text


def test_paraphrases_go_together_across_languages_and_other_matters_apart(dialogue: Dialogue) -> None:
    conversation = _conversation(dialogue)

    def gap(lang: str, text: str) -> Gap:
        found = conversation.on_text(Profile(9, lang, "koeln", "ready"), text).gap
        assert found is not None, text
        return found

    gaps = [
        gap("de", "kann ich meinen syrischen führerschein umschreiben"),
        gap("en", "card"),
        gap("de", "wie mache ich die steuererklärung"),
        gap("de", "führerschein umschreiben lassen, wo?"),
        gap("de", "karte"),
        gap("de", "steuererklärung machen wie"),
        gap("de", "kann ich meinen syrischen führerschein umschreiben"),
    ]
    groups = group(gaps)
    by_text = {text: found for found in groups for text in found.texts()}
    licence = by_text["kann ich meinen syrischen führerschein umschreiben"]
    assert licence.count == 3 and by_text["führerschein umschreiben lassen, wo?"] is licence
    card = by_text["card"]
    assert card is by_text["karte"] and card.languages() == ["de", "en"]  # the same choice offered
    taxes = by_text["wie mache ich die steuererklärung"]
    assert taxes is by_text["steuererklärung machen wie"] and taxes is not licence
    assert [g.count for g in groups] == [3, 2, 2]  # the largest first
    assert licence.texts()[0] == "kann ich meinen syrischen führerschein umschreiben"  # most frequent first
    listed = licence.to_json()
    assert listed["count"] == 3 and listed["languages"] == ["de"] and listed["kinds"] == ["fallback"]
    text = report(groups)
    assert text.startswith("7 questions in 3 groups") and "3x [de] fallback" in text
    assert report([]) == "No gaps recorded in this period."


def test_a_thumbs_down_and_questions_sure_of_the_same_topic_go_together() -> None:
    down = Gap("thumbs-down", "ar", "koeln", "", 0.0, (), "pharmacy")
    sure = Gap("not-emergency", "uk", None, "аптека вночі", 0.0, (("pharmacy", 1.2),))
    unsure = Gap("fallback", "fa", None, "دارو", 0.0, (("@offtopic", 1.0), ("pharmacy", 0.2)))
    groups = group([down, sure, unsure])
    assert sorted(g.count for g in groups) == [1, 2] and groups[0].languages() == ["ar", "uk"]
