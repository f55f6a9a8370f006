"""Asking, menus, other message kinds and Telegram faults, as a user and as Telegram see them."""

from __future__ import annotations

from bot.core.i18n import translator
from tests.e2e.conftest import Lotse, ready
from tests.e2e.fake_telegram import FakeUser


async def test_question_with_typos_gets_the_answer(lotse: Lotse) -> None:
    user = await ready(lotse, 301, "de")
    (answer,) = await user.send("wo kan ich deutsh lernen kostenlos")
    title = lotse.dialogue.render("language-course", "de", "koeln").title
    assert answer.text.startswith(title)
    labels = [label for label, _ in answer.buttons]
    assert "👍" in labels and "👎" in labels
    assert translator("de").gettext("💬 Talk to a person") in labels
    related = lotse.dialogue.render(lotse.dialogue.knowledge.topics["language-course"].related[0], "de", "koeln")
    assert "➡ " + related.title in labels


async def test_clarify_buttons_lead_to_the_answer(lotse: Lotse) -> None:
    user = await ready(lotse, 302, "en")
    decision = lotse.dialogue.decide("card", "en", "koeln")
    assert decision.kind == "clarify", decision  # a genuinely ambiguous word
    (choice,) = await user.send("card")
    assert choice.text.startswith(translator("en").gettext("I am not sure what you mean. Please choose a topic:"))
    assert choice.text.endswith(lotse.dialogue.safety_line("en"))  # an uncertain reply still says: in danger, 112
    first = lotse.dialogue.render(decision.candidates[0], "en", "koeln").title
    assert first in [label for label, _ in choice.buttons]
    (answer,) = await user.tap(first)
    assert answer.text.startswith(first)


async def test_emergency_in_ukrainian_comes_first(lotse: Lotse) -> None:
    user = lotse.user(303, language_code="uk")  # not even onboarded
    (answer,) = await user.send("допоможіть, у квартирі пожежа, дитина не дихає")
    assert "112" in answer.text and "110" in answer.text
    assert answer.text.startswith(lotse.dialogue.render("emergency", "uk", None).title)
    assert "👍" not in [label for label, _ in answer.buttons]


async def test_menu_browsing(lotse: Lotse) -> None:
    user = await ready(lotse, 304, "de")
    de = translator("de")
    (menu,) = await user.send("/menu")
    assert menu.text == de.gettext("Choose a topic area:")
    (health,) = await user.tap(de.gettext("Health"))
    pharmacy = lotse.dialogue.render("pharmacy", "de", "koeln").title
    assert pharmacy in [label for label, _ in health.buttons]
    (answer,) = await user.tap(pharmacy)
    assert answer.text.startswith(pharmacy)
    (thanks,) = await user.tap("👍")
    assert thanks.text == de.gettext("Thank you! I am glad it helped.")
    assert await lotse.stores.counts() == {("pharmacy", "de"): (1, 0)}


async def test_fallback_offers_a_person_and_the_menu(lotse: Lotse) -> None:
    user = await ready(lotse, 305, "en")
    (reply,) = await user.send("what is the capital of peru")
    labels = [label for label, _ in reply.buttons]
    assert translator("en").gettext("💬 Talk to a person") in labels
    (human,) = await user.tap("💬")
    assert "Integrationszentrum" in human.text or "integration" in human.text.lower()


async def test_voice_sticker_photo_and_document(lotse: Lotse) -> None:
    user = await ready(lotse, 306, "ar")
    ar = translator("ar")
    (voice,) = await user.send_content(voice={"file_id": "v1", "file_unique_id": "v1", "duration": 3})
    assert voice.text.startswith(
        ar.gettext("I cannot listen to voice messages yet. Please write your question in a few words.")[:20]
    )
    sticker_data = {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                    "is_animated": False, "is_video": False}  # fmt: skip
    (sticker,) = await user.send_content(sticker=sticker_data)
    assert "/menu" in sticker.text
    (photo,) = await user.send_content(photo=[{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}])
    assert "/human" in photo.text
    (document,) = await user.send_content(document={"file_id": "d1", "file_unique_id": "d1", "file_name": "x.pdf"})
    assert "/human" in document.text


async def test_edited_and_forwarded_messages_are_answered(lotse: Lotse) -> None:
    user = await ready(lotse, 307, "de")
    user.push_text("apotheke nachts", edited=True)
    (edited,) = await user._replies(1)
    assert edited.text.startswith(lotse.dialogue.render("pharmacy", "de", "koeln").title)
    (forwarded,) = await user.send("wo ist die ausländerbehörde", forwarded=True)
    assert forwarded.text.startswith(lotse.dialogue.render("residence-permit", "de", "koeln").title)


async def test_group_chats_are_ignored(lotse: Lotse) -> None:
    member = FakeUser(lotse.server, 308, language_code="de", chat_type="supergroup", chat_id=-100555)
    member.push_text("arzt")
    private = lotse.user(309, language_code="de")
    await private.send("/start", expect=3)  # the bot is alive and has processed the group update before
    assert lotse.server.to(-100555) == []


async def test_hostile_text_breaks_nothing(lotse: Lotse) -> None:
    user = await ready(lotse, 310, "en")
    (reply,) = await user.send("<b>&amp; </i> <script>alert(1)</script> & < >")
    assert reply.parse_mode == "HTML"  # the fake server parsed it like Telegram
    assert reply.text


async def test_blocked_user_does_not_stop_the_bot(lotse: Lotse) -> None:
    blocked = await ready(lotse, 311, "de")
    lotse.server.blocked.add(311)
    blocked.push_text("arzt")
    other = lotse.user(312, language_code="de")
    greeting, _, _ = await other.send("/start", expect=3)
    assert greeting.text
    sends = [p for m, p in lotse.server.calls if m == "sendMessage" and int(p["chat_id"]) == 311]
    assert len(sends) >= 7  # onboarding plus the refused reply


async def test_429_burst_is_retried_in_order(lotse: Lotse) -> None:
    lotse.server.throttle = 3
    lotse.server.retry_after = 1
    user = lotse.user(313, language_code="de")
    greeting, picker, location = await user.send("/start", expect=3)
    assert lotse.server.throttled == 3
    assert greeting.text == translator("de").gettext(
        "Hello! I am Lotse. I answer questions about arriving in North Rhine-Westphalia: doctors, "
        "documents, German courses, work, school and more."
    )
    assert picker.buttons and location.keyboard


async def test_flood_is_slowed_down_without_affecting_others(lotse: Lotse) -> None:
    flooder = await ready(lotse, 314, "en")
    before = len(lotse.server.to(314))
    for i in range(15):
        flooder.push_text(f"doctor {i}")
    calm = lotse.user(315, language_code="en")
    greeting, _, _ = await calm.send("/start", expect=3)
    assert greeting.text
    await lotse.server.settle()  # all 15 processed
    replies = lotse.server.to(314)[before:]
    warning = translator("en").gettext("Please wait a moment before sending more messages.")
    assert [r.text for r in replies].count(warning) == 1
    assert len(replies) < 15
    # emergencies always get through
    flooder.seen = len(lotse.server.to(314))
    (emergency,) = await flooder.send("fire! my flat is burning")
    assert "112" in emergency.text


async def test_admin_sees_feedback_others_do_not(lotse: Lotse) -> None:
    await lotse.restart(admin_ids=frozenset({399}))
    user = await ready(lotse, 398, "de")
    (answer,) = await user.send("apotheke nachts")
    assert "👎" in [label for label, _ in answer.buttons]
    await user.tap("👎")
    (not_admin,) = await user.send("/feedback")
    assert "👎" not in not_admin.text  # an ordinary user gets the help text, not the figures
    admin = lotse.user(399, language_code="de")
    (figures,) = await admin.send("/feedback")
    assert "pharmacy (de): 👍 0  👎 1" in figures.text
    await user.send("kann ich meinen führerschein <b>umschreiben</b> 0176 1234 5678")
    (worklist,) = await admin.send("/gaps")
    assert worklist.text.startswith("What Lotse could not answer well, last 14 days")
    assert "2 questions in 2 groups" in worklist.text and "1x [de] thumbs-down; topics: pharmacy" in worklist.text
    assert "führerschein <b>umschreiben</b> [number]" in worklist.text  # escaped: shown as written, no markup
    (not_admin,) = await user.send("/gaps")
    assert "questions in" not in not_admin.text


async def test_an_answer_can_be_shown_in_german_at_the_counter(lotse: Lotse) -> None:
    user = await ready(lotse, 320, "fa")
    (answer,) = await user.send("کجا می‌توانم دکتر پیدا کنم")
    fa = translator("fa")
    assert any(label == fa.gettext("🇩🇪 Show in German") for label, _ in answer.buttons)
    (german,) = await user.tap(fa.gettext("🇩🇪 Show in German"))
    assert german.text.startswith(fa.gettext("In German, to show at an office or to someone who can help:"))
    assert lotse.dialogue.render("doctor", "de", "koeln").title in german.text


async def test_an_address_opens_a_map(lotse: Lotse) -> None:
    user = await ready(lotse, 322, "ar")
    (answer,) = await user.send("أين أسجل عنواني")  # registration: the citizens' office of Köln
    addresses = [c.address for c in lotse.dialogue.knowledge.cities["koeln"].contacts if c.address]
    shown = [a for a in addresses if a in answer.text]
    assert shown, answer.text
    for address in shown:
        link = answer.links[address]  # the whole address line is the link, right-to-left text or not
        assert link.startswith("https://www.openstreetmap.org/search?query=")
        assert "K%C3%B6ln" in link  # with the city, so the map finds the street in Köln


async def test_a_long_answer_comes_short_first_and_the_rest_on_more(lotse: Lotse) -> None:
    user = await ready(lotse, 321, "de")
    (answer,) = await user.send("wo kann ich mich anmelden")
    de = translator("de")
    assert len(answer.text) <= 700 and "📍" in answer.text  # what to do, what to bring, where
    assert any(label == de.gettext("➕ More") for label, _ in answer.buttons)
    (more,) = await user.tap(de.gettext("➕ More"))
    assert more.text.startswith(lotse.dialogue.render("registration", "de", "koeln").title)
    rest = lotse.dialogue.topic_more("registration", "de", "koeln")
    assert rest is not None and rest.split("\n")[0] in more.text
    assert not any(line and line in answer.text for line in rest.split("\n") if len(line) > 20)  # nothing twice
