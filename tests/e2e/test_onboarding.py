"""Onboarding, settings and preferences as a new user experiences them in Telegram."""

from __future__ import annotations

import pytest

from bot.core.i18n import translator
from tests.e2e.conftest import Lotse

GREETING = (
    "Hello! I am Lotse. I answer questions about arriving in North Rhine-Westphalia: doctors, "
    "documents, German courses, work, school and more."
)
CITY_QUESTION = "In which city or town do you live? Then I can show you local addresses."
READY = "Now ask me anything in your own words, or open the menu."


@pytest.mark.parametrize("lang", ["ar", "fa", "uk", "tr", "de"])
async def test_onboarding_in_the_client_language(lotse: Lotse, lang: str) -> None:
    t = translator(lang)
    assert t.gettext(GREETING) != GREETING, f"{lang}: greeting not translated"
    user = lotse.user(100 + len(lang) * 7 + ord(lang[0]), language_code=lang)
    greeting, city_picker, location = await user.send("/start", expect=3)
    assert greeting.text == t.gettext(GREETING)
    assert city_picker.text == t.gettext(CITY_QUESTION)
    köln = lotse.dialogue.knowledge.cities["koeln"].name(lang)
    assert köln in [label for label, _ in city_picker.buttons]
    assert location.keyboard[0]["request_location"] is True
    city_line, privacy, ready = await user.tap(köln, expect=3)
    assert köln in city_line.text
    assert t.gettext("Privacy") in privacy.text
    assert ready.text == t.gettext(READY)
    # the first question is answered in the chosen language with the city's contacts
    (answer,) = await user.send("integration centre" if lang != "de" else "integrationszentrum")
    title = lotse.dialogue.render("integration-centre", lang, "koeln").title
    assert answer.text.startswith(title.replace("\u2066", "").replace("\u2069", "")[:10]) or title in answer.text
    assert "Köln" in answer.text or "Integrationszentrum" in answer.text


async def test_unknown_client_language_gets_the_language_picker(lotse: Lotse) -> None:
    user = lotse.user(201, language_code="ja")
    (picker,) = await user.send("/start")
    labels = [label for label, _ in picker.buttons]
    for native in ("العربية", "فارسی", "Українська", "Türkçe", "Deutsch", "ትግርኛ", "پښتو"):
        assert native in labels
    language_set, city_picker, _ = await user.tap("Українська", expect=3)
    uk = translator("uk")
    assert city_picker.text == uk.gettext(CITY_QUESTION)
    assert "Українська" in language_set.text


async def test_change_language_and_city(lotse: Lotse) -> None:
    user = lotse.user(202, language_code="de")
    await user.send("/start", expect=3)
    await user.tap("Düsseldorf", expect=3)
    (picker,) = await user.send("/language")
    assert "Türkçe" in [label for label, _ in picker.buttons]
    (done,) = await user.tap("Türkçe")
    assert "Türkçe" in done.text
    await user.send("/city", expect=2)
    (city_line,) = await user.tap("Dortmund")
    assert "Dortmund" in city_line.text
    (answer,) = await user.send("eczane gece açık")
    tr_title = lotse.dialogue.render("pharmacy", "tr", "dortmund").title
    assert answer.text.startswith(tr_title)


async def test_location_finds_the_town_and_the_person_confirms(lotse: Lotse) -> None:
    user = lotse.user(203, language_code="de")
    await user.send("/start", expect=3)
    (question,) = await user.send_content(location={"latitude": 51.498, "longitude": 7.965})  # in Ense
    assert question.text == translator("de").gettext("Is this your town?")
    city_line, _, _ = await user.tap("✅ Ense (Kreis Soest)", expect=3)
    assert "Ense (Kreis Soest)" in city_line.text
    (answer,) = await user.send("wo ist das integrationszentrum")
    assert "Hoher Weg 1-3" in answer.text  # Kreis Soest's integration centre
    far = lotse.user(204, language_code="en")
    await far.send("/start", expect=3)
    (other, _, _) = await far.send_content(expect=3, location={"latitude": 48.137, "longitude": 11.575})  # Munich
    assert "no local addresses" in other.text


async def test_type_your_town_with_typos_in_any_script(lotse: Lotse) -> None:
    t = translator("uk")
    user = lotse.user(206, language_code="uk")
    await user.send("/start", expect=3)
    (prompt,) = await user.tap(t.gettext("✏️ Type my town"))
    assert prompt.text == t.gettext("Please type the name of your town or its postcode.")
    (nothing,) = await user.send("абвгд")
    assert nothing.text == t.gettext(
        "I could not find that town. Please type its name again, or its postcode, or share your location."
    )
    (question,) = await user.send("я живу в Мёрс")
    assert question.text == t.gettext("Is this your town?")
    moers = [label for label, data in question.buttons if data == "place:moers"]
    assert moers, question.buttons
    city_line, _privacy, ready = await user.tap(moers[0], expect=3)
    assert "Moers" in city_line.text or "Мерс" in city_line.text
    assert ready.text == t.gettext(READY)
    stored = await lotse.stores.get(206)
    assert stored is not None and (stored.city, stored.place) == ("moers", "moers")


async def test_a_town_typed_at_the_city_step_without_the_button(lotse: Lotse) -> None:
    user = lotse.user(207, language_code="de")
    await user.send("/start", expect=3)
    (question,) = await user.send("ich wohne in gelsenkirche")
    assert next(data for _, data in question.buttons) == "place:gelsenkirchen"
    (question,) = await user.send("59469")  # a postcode
    assert next(data for _, data in question.buttons) == "place:ense"
    (answer,) = await user.send("wo finde ich einen kinderarzt")  # no town in it: the question is answered
    assert answer.text.startswith(lotse.dialogue.render("doctor", "de", None).title)


async def test_restart_keeps_preferences(lotse: Lotse) -> None:
    user = lotse.user(205, language_code="fa")
    await user.send("/start", expect=3)
    bielefeld = lotse.dialogue.knowledge.cities["bielefeld"].name("fa")
    await user.tap(bielefeld, expect=3)
    await lotse.restart()
    (answer,) = await user.send("bamf")
    assert "Bielefeld" in answer.text or bielefeld in answer.text
    assert answer.text != ""
    (welcome, menu) = await user.send("/start", expect=2)
    assert menu.buttons
    assert welcome.text == translator("fa").gettext("Welcome back! Ask me anything, or choose a topic.")


async def test_commands_are_set_per_language(lotse: Lotse) -> None:
    for code in ("ar", "de", "uk", "ti"):
        commands = {c["command"]: c["description"] for c in lotse.server.commands[code]}
        assert set(commands) >= {"start", "menu", "human", "language", "city", "privacy", "delete", "help"}
        assert commands["human"] == translator(code).gettext("Talk to a person")
    assert {c["command"] for c in lotse.server.commands[""]} >= {"start", "menu"}


async def test_delete_forgets_the_person(lotse: Lotse) -> None:
    user = lotse.user(206, language_code="de")
    await user.send("/start", expect=3)
    await user.tap("Köln", expect=3)
    (confirm,) = await user.send("/delete")
    assert "del:yes" in [data for _, data in confirm.buttons]
    (done,) = await user.tap("del:yes")
    assert "/start" in done.text
    assert await lotse.stores.get(206) is None


async def test_delete_passes_the_flood_gate(lotse: Lotse) -> None:
    user = lotse.user(207, language_code="en")
    await user.send("/start", expect=3)
    await user.tap("city:koeln", expect=3)
    for i in range(15):  # far beyond the flood gate's budget
        user.push_text(f"doctor {i}")
    await lotse.server.settle()
    user.seen = len(lotse.server.to(207))
    (confirm,) = await user.send("/delete")  # not "please wait": the way out is always open
    assert "del:yes" in [data for _, data in confirm.buttons]
    (done,) = await user.tap("del:yes")
    assert "/start" in done.text
    assert await lotse.stores.get(207) is None
