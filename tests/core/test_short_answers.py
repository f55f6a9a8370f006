"""Answers that fit a phone: the first message is short, the rest is behind "More", nothing is lost or repeated."""

from __future__ import annotations

import re

from bot.core.dialogue import Dialogue
from bot.core.i18n import translator
from bot.core.render import PLACE, render_topic, split_short

FIRST_MESSAGE_LIMIT = 700


def test_every_first_message_is_short_for_every_topic_language_and_city(dialogue: Dialogue) -> None:
    too_long = []
    for topic in dialogue.knowledge.topics:
        if topic == "emergency":
            continue
        for lang in dialogue.knowledge.languages:
            for city in [None, *dialogue.knowledge.cities]:
                text, _ = dialogue.topic_text(topic, lang, city)
                if len(text) > FIRST_MESSAGE_LIMIT:
                    too_long.append(f"{topic}/{lang}/{city}: {len(text)}")
    assert not too_long, f"{len(too_long)} first messages over {FIRST_MESSAGE_LIMIT} characters: {too_long[:5]}"


def test_the_split_keeps_everything_once_and_the_first_contact_in_front() -> None:
    lines = [(f"{n}. Schritt {n} " + "mit Erklärung " * 6).strip() for n in range(1, 9)]
    contact_a = f"{PLACE}📍 Bürgerbüro Mitte\nMarkt 1, 12345 Stadt\n☎ +49 211 1"
    contact_b = f"{PLACE}📍 Bürgerbüro Nord\nNordstraße 2\n☎ +49 211 2"
    body = "\n".join(lines[:4]) + f"\n\n{contact_a}\n\n{contact_b}\n\n" + "\n".join(lines[4:])
    short, more = split_short(body, limit=400)
    assert more is not None and len(short) <= 400
    assert contact_a in short and contact_b in more  # where to go: one contact, the others behind "More"
    assert short.startswith("1. Schritt 1")
    for piece in [*lines, contact_a, contact_b]:
        assert (piece in short) != (piece in more), piece  # each part exactly once
    assert split_short("Kurz.", limit=400) == ("Kurz.", None)


def test_an_explicit_short_answer_line_is_respected(dialogue: Dialogue) -> None:
    # "---" on its own line in an answer ends the short answer: volunteers decide where (see knowledge/README.md)
    topic = dialogue.knowledge.topics["pharmacy"]
    marked = topic.translations["en"].model_copy(update={"answer": "Go to a pharmacy.\n---\nAt night: on duty."})
    swapped = topic.model_copy(update={"translations": {**topic.translations, "en": marked}})
    rendered = render_topic(swapped, "en", None, dialogue.knowledge, translator("en"))
    assert rendered.text == "Go to a pharmacy." and rendered.more == "At night: on duty."


def test_no_answer_for_one_city_names_another_city(dialogue: Dialogue) -> None:
    cities = dialogue.knowledge.cities
    found = []
    for topic in dialogue.knowledge.topics:
        for slug, city in cities.items():
            rendered = dialogue.render(topic, "de", slug)
            text = f"{rendered.text}\n{rendered.more or ''}"
            district = cities.get(city.district) if city.district else None
            # the town's own offices and its district's may carry another name ("AWO Gelsenkirchen/Bottrop")
            own = " ".join(c.name for c in (*city.contacts, *(district.contacts if district else ())))
            names = [c.name("de") for s, c in cities.items() if s != slug and s != city.district]
            others = [name for name in names if re.search(rf"\b{name}\b", text) and name not in own]
            found += [f"{topic}/{slug}: {name}" for name in others]
    assert not found, found[:10]


def test_lines_for_some_cities_only(dialogue: Dialogue) -> None:
    def whole(city: str | None) -> str:
        rendered = dialogue.render("welcome-point", "en", city)
        return f"{rendered.text}\n{rendered.more or ''}"

    assert "all ten city districts" in whole("duesseldorf")
    assert "all ten city districts" not in whole("koeln") and "all ten city districts" not in whole(None)
    assert "{only:" not in whole("duesseldorf") and "{only:" not in whole("koeln")
