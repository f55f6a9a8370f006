"""Emergencies as a frightened person meets them in Telegram: the fitting answer at once, and a way out of it."""

from __future__ import annotations

from bot.core.i18n import translator
from tests.e2e.conftest import Lotse, ready


async def test_poisoning_shows_the_poison_centre_and_a_sentence_for_the_dispatcher(lotse: Lotse) -> None:
    user = await ready(lotse, 401, "de")
    (answer,) = await user.send("mein kind hat tabletten gegessen")
    assert answer.text.startswith(lotse.dialogue.render("emergency", "de", "koeln").title)
    assert "0228 19240" in answer.text  # the poison information centre for NRW
    assert "„Ich brauche einen Krankenwagen. Jemand hat etwas Giftiges geschluckt." in answer.text
    assert "Die Adresse ist: …, Köln“" in answer.text
    assert answer.reply_to is not None  # quotes the person's message


async def test_not_an_emergency_button_answers_the_question(lotse: Lotse) -> None:
    user = await ready(lotse, 402, "en")
    text = "my son swallowed a coin, which kinderarzt can we go to"
    assert lotse.dialogue.decide(text, "en", "koeln").kind == "emergency"
    ordinary = lotse.dialogue.decide(text, "en", "koeln", emergency=False)
    assert (ordinary.kind, ordinary.topic) == ("answer", "doctor")
    (answer,) = await user.send(text)
    assert "112" in answer.text
    label = lotse.dialogue.emergency_line("en", "not-emergency")
    assert label is not None and label in [b for b, _ in answer.buttons]
    (reply,) = await user.tap(label)
    assert reply.text.startswith(lotse.dialogue.render("doctor", "en", "koeln").title)
    assert "👍" in [b for b, _ in reply.buttons]


async def test_uncertain_replies_end_with_the_safety_line(lotse: Lotse) -> None:
    user = await ready(lotse, 403, "ar")
    safety = lotse.dialogue.safety_line("ar")
    (refusal,) = await user.send("من فاز بكأس العالم")
    assert refusal.text.endswith(safety)
    (voice,) = await user.send_content(voice={"file_id": "v1", "file_unique_id": "v1", "duration": 3})
    assert voice.text.endswith(safety)
    ar = translator("ar")
    assert ar.gettext("💬 Talk to a person") in [b for b, _ in refusal.buttons]
