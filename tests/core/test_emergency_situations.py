"""Emergencies on the real knowledge: situations in every script, near-misses, fitting answers, the safety line.

The messages here are written for these tests (not taken from any evaluation set).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.conversation import Conversation
from bot.core.dialogue import Dialogue
from bot.core.emergency import build_detector
from bot.core.knowledge import check_knowledge, load_knowledge
from bot.core.matcher import build_index
from bot.core.replies import Profile
from bot.core.selftest import check_triggers
from tests.conftest import KNOWLEDGE_DIR

# The messages quoted in the issue: all were missed before, none mentioned 112.
QUOTED = [
    ("my child swallowed cleaning liquid", "en", "poisoning"),
    ("help my baby is not waking", "en", "unresponsive"),
    ("my husband fell down and does not move", "en", "unresponsive"),
    ("the heim is burning", "en", "fire"),
    ("mein kind hat tabletten gegessen", "de", "poisoning"),
    ("es riecht nach gas", "de", "gas"),
]
NEAR_MISSES = [
    ("How do I become a volunteer firefighter", "en"),
    ("fire alarm test in our Heim tomorrow", "en"),
    ("our gas bill is too high", "en"),
    ("first-aid course for the driving licence", "en"),
    ("I was insulted at the Jobcenter last month", "en"),
]


@pytest.mark.parametrize(("text", "lang", "situation"), QUOTED)
def test_the_quoted_messages_get_the_emergency_answer(dialogue: Dialogue, text: str, lang: str, situation: str) -> None:
    decision = dialogue.decide(text, lang)
    assert decision.kind == "emergency", decision
    assert situation in decision.situations
    assert "112" in decision.text


@pytest.mark.parametrize(("text", "lang"), NEAR_MISSES)
def test_near_misses_get_their_topic_or_a_choice(dialogue: Dialogue, text: str, lang: str) -> None:
    decision = dialogue.decide(text, lang)
    assert decision.kind != "emergency", decision
    assert not (decision.kind == "answer" and decision.topic == "emergency"), decision


@pytest.mark.parametrize(
    ("text", "lang", "situation"),
    [
        # Latin script, with typos, inflection and German words mixed in
        ("my son swalowed bleach", "en", "poisoning"),
        ("he is unconscios on the floor", "en", "unresponsive"),
        ("meine tochter hat spülmittel getrunken", "de", "poisoning"),
        ("kocam beni bıçakla tehdit ediyor", "tr", "violence"),
        ("un homme me suit depuis la gare et j'ai très peur", "fr", "followed"),
        ("agir ket malê me, dûman heye", "ku", "fire"),
        ("ilmahaygii wuxuu cabbay saabuun", "so", "poisoning"),
        ("my wife contractions every 3 minutes, the heim has no car", "en", "labour"),
        # Arabic script
        ("ابني بلع بطارية", "ar", "poisoning"),
        ("پسرم قرص زیاد خورده بیهوش شده", "fa", "poisoning"),
        ("زما ماشوم د پاکولو درمل وڅښل", "ps", "poisoning"),
        # Cyrillic
        ("мій чоловік б'є мене і погрожує ножем", "uk", "violence"),
        ("хочу покончить с собой", "ru", "suicide"),
        ("у мамы онемела половина лица и она не может говорить", "ru", "heart-stroke"),
        # Ge'ez
        ("ወደይ ሳሙና ሰትዩ", "ti", "poisoning"),
    ],
)
def test_situations_in_every_script(dialogue: Dialogue, text: str, lang: str, situation: str) -> None:
    decision = dialogue.decide(text, lang)
    assert decision.kind == "emergency", (decision.kind, decision.topic)
    assert situation in decision.situations, decision.situations


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("is my child allowed to go to school here", "en"),  # "allowed" is not a misspelt "swallowed"
        ("je vais prendre le bus pour aller au jobcenter", "fr"),  # "prendre" is not "pendre"
        ("ich will nicht nur im zimmer sitzen, ich will arbeiten", "de"),  # "sitzen" is not "ritzen"
        ("i was cooking dinner when the letter came", "en"),  # "cooking" is not "choking"
        ("my son swallowed a cherry stone yesterday, now he is fine and playing", "en"),
        ("wie teuer ist ein erste-hilfe-kurs für den führerschein", "de"),
        # Pashto "بې حاله" (unconscious) is two words that Arabic uses too: "حالة" (status) and "بي" (mine)
        ("ما هي حالة طلب اللجوء الخاصة بي؟", "ar"),
    ],
)
def test_words_close_to_danger_are_no_emergency(dialogue: Dialogue, text: str, lang: str) -> None:
    assert dialogue.decide(text, lang).kind != "emergency"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("мой ребенок не говорит по немецки, есть спец класс в школе?", "ru"),
        ("моя дитина не говорить німецькою, чи є спецклас?", "uk"),
        ("ابني لا يتكلم الألمانية، هل يوجد صف خاص؟", "ar"),
        ("çocuğum almanca konuşmuyor, özel sınıf var mı?", "tr"),
    ],
)
def test_a_child_who_does_not_speak_german_is_a_school_question(dialogue: Dialogue, text: str, lang: str) -> None:
    # "does not speak" alone is no emergency for a child: it needs a fall, a cry for help, no breath, ...
    assert dialogue.decide(text, lang).kind != "emergency"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ребенок упал с лестницы и не говорит", "ru"),
        ("my dad fell down and is not talking", "en"),
        ("babam düştü konuşmuyor", "tr"),
        ("ابني وقع وما عم يحكي", "ar"),
        ("мой сын не говорит, помогите срочно", "ru"),
    ],
)
def test_not_speaking_after_a_fall_or_with_a_cry_for_help_is_an_emergency(
    dialogue: Dialogue, text: str, lang: str
) -> None:
    assert dialogue.decide(text, lang).kind == "emergency"


def test_poisoning_answer_names_the_poison_centre_and_the_sentence_with_the_city(dialogue: Dialogue) -> None:
    decision = dialogue.decide("my daughter drank bleach", "en", "dortmund")
    assert "0228 19240" in decision.text  # Giftnotruf NRW (Bonn), cited in emergency.yaml
    assert "„Ich brauche einen Krankenwagen. Jemand hat etwas Giftiges geschluckt." in decision.text
    assert "Die Adresse ist: …, Dortmund“" in decision.text
    assert decision.text.index("0228 19240") < decision.text.index("116117")  # the fitting number comes first


def test_violence_answer_names_police_and_the_womens_helpline(dialogue: Dialogue) -> None:
    decision = dialogue.decide("mein mann schlägt mich gerade", "de", None)
    assert decision.kind == "emergency" and "violence" in decision.situations
    assert "110" in decision.text and "116 016" in decision.text
    assert "„Ich brauche die Polizei." in decision.text and "Die Adresse ist: …“" in decision.text


def test_suicide_answer_names_112_and_the_telefonseelsorge(dialogue: Dialogue) -> None:
    decision = dialogue.decide("i want to kill myself tonight", "en", None)
    assert decision.kind == "emergency" and "suicide" in decision.situations
    assert "112" in decision.text and "0800 111 0 111" in decision.text


def test_every_service_number_cites_its_source(dialogue: Dialogue) -> None:
    emergency = dialogue.knowledge.emergency
    assert emergency is not None
    for service in emergency.services.values():
        assert service.source.url or service.source.seed
        assert service.source.note and service.phone.replace(" ", "")[-5:] in service.source.note.replace(" ", "")


def test_not_an_emergency_answers_the_text_as_a_question(dialogue: Dialogue) -> None:
    text = "my son swallowed a coin, which kinderarzt can we go to"
    assert dialogue.decide(text, "en").kind == "emergency"
    again = dialogue.decide(text, "en", emergency=False)
    assert (again.kind, again.topic) == ("answer", "doctor")


def test_uncertain_replies_end_with_the_safety_line(dialogue: Dialogue) -> None:
    for lang in dialogue.knowledge.languages:
        safety = dialogue.safety_line(lang)
        assert "112" in safety
        refusal = dialogue.decide("who won the football world cup in 1990", lang)
        assert refusal.kind == "fallback" and refusal.text.endswith(safety)
    conversation = Conversation(dialogue)
    profile = Profile(1, lang="fa", city="koeln", step="ready")
    (voice,) = conversation.on_media(profile, "voice").replies
    assert voice.text.endswith(dialogue.safety_line("fa"))
    (clarify,) = conversation.on_text(profile, "certificate").replies
    assert clarify.kind != "clarify" or clarify.text.endswith(dialogue.safety_line("fa"))


def test_emergency_reply_quotes_the_message_and_offers_a_way_out(dialogue: Dialogue) -> None:
    conversation = Conversation(dialogue)
    profile = Profile(1, lang="ar", city="koeln", step="ready")
    (reply,) = conversation.on_text(profile, "ابني بلع بطارية").replies
    assert reply.kind == "emergency" and reply.quote and reply.direction == "rtl"
    assert tuple(b.data for b in reply.buttons[0]) == ("ne",)
    assert reply.buttons[0][0].label == dialogue.emergency_line("ar", "not-emergency")
    (again,) = conversation.on_not_emergency(profile, "ابني بلع بطارية").replies
    assert again.kind != "emergency"
    (gone,) = conversation.on_not_emergency(profile, None).replies  # the quoted message is not there any more
    assert gone.text


def test_check_warns_when_a_topic_example_is_recognised_as_an_emergency(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE_DIR, kb)
    doctor = kb / "topics" / "doctor" / "de.yaml"
    text = doctor.read_text(encoding="utf-8")
    doctor.write_text(text.replace('"wo finde ich einen hausarzt"', '"mein sohn hat putzmittel getrunken"', 1), "utf-8")
    knowledge = load_knowledge(kb)
    index = build_index(knowledge)
    problems = check_triggers(kb, knowledge, index, build_detector(knowledge.emergency, index.knows, index.stopwords))
    found = [p for p in problems if "recognised as the emergency situation 'poisoning'" in p.message]
    assert found and found[0].file.endswith("doctor/de.yaml") and found[0].line > 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[[substance, ingest], [poison]", "[[substance, swallowd], [poison]"), "unknown concept 'swallowd'"),
        (("call: [ambulance, poison-centre]", "call: [ambulance, poison-centr]"), "call"),
    ],
)
def test_broken_situations_are_reported_with_file_and_line(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE_DIR, kb)
    path = kb / "emergency.yaml"
    text = path.read_text(encoding="utf-8")
    old, new = change
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = check_knowledge(kb)
    errors = [p for p in result.errors if message in p.message and p.file.endswith("emergency.yaml")]
    assert result.knowledge is None and errors and errors[0].line > 1, result.errors


def test_a_phone_number_in_a_line_must_come_from_services(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE_DIR, kb)
    path = kb / "emergency" / "en.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  safety-net:")
    end = text.index("\n", start)
    path.write_text(text[:start] + '  safety-net: "Call 112 or 0800 1234567."' + text[end:], encoding="utf-8")
    result = check_knowledge(kb)
    assert any("'0800 1234567' is not from a cited source" in p.message for p in result.errors), result.errors


def test_the_detector_survives_a_knowledge_without_words(dialogue: Dialogue) -> None:
    emergency = dialogue.knowledge.emergency
    assert emergency is not None
    assert build_detector(emergency.model_copy(update={"words": {}})) is None
    assert load_knowledge(KNOWLEDGE_DIR).emergency is not None


# One everyday message per situation of knowledge/emergency.yaml (written for this test).
EVERY_SITUATION = [
    ("poisoning", "my little boy drank from the bottle of drain cleaner", "en"),
    ("unresponsive", "grandpa is lying in the bathroom and does not react", "en"),
    ("not-breathing", "das baby bekommt keine luft mehr", "de"),
    ("heart-stroke", "my father has strong chest pain going into his left arm", "en"),
    ("heavy-bleeding", "er blutet sehr stark am bein", "de"),
    ("seizure", "my daughter is having a seizure on the floor", "en"),
    ("allergic-reaction", "after the peanuts his lips and throat are swelling, allergic", "en"),
    ("labour", "meine frau hat wehen alle fünf minuten", "de"),
    ("fire", "es brennt in der küche", "de"),
    ("gas", "it smells of gas in the staircase", "en"),
    ("violence", "mein mann schlägt mich", "de"),
    ("followed", "a man is following me and i am scared", "en"),
    ("sexual-assault", "someone raped my sister an hour ago", "en"),
    ("suicide", "ich will nicht mehr leben", "de"),
    ("missing-child", "my son is missing, we cannot find him anywhere", "en"),
    ("drowning", "ein kind ist im see untergegangen", "de"),
    ("electric-shock", "he got an electric shock from the socket and fell down", "en"),
    ("severe-burn", "boiling water fell on my baby, the skin is coming off", "en"),
    ("hypothermia", "he was outside all night in the snow, ice cold and confused", "en"),
    ("diabetic-emergency", "my mother is diabetic, she is sweating and confused", "en"),
    ("accident", "a car hit my son, he is injured and bleeding", "en"),
    ("call-now", "please send an ambulance now to our heim", "en"),
]


@pytest.mark.parametrize(("situation", "text", "lang"), EVERY_SITUATION)
def test_every_situation_is_recognised(dialogue: Dialogue, situation: str, text: str, lang: str) -> None:
    decision = dialogue.decide(text, lang)
    assert decision.kind == "emergency" and situation in decision.situations, decision.situations


def test_every_declared_situation_has_a_test(dialogue: Dialogue) -> None:
    emergency = dialogue.knowledge.emergency
    assert emergency is not None
    assert set(emergency.situations) == {situation for situation, _, _ in EVERY_SITUATION}


@pytest.mark.parametrize(
    ("text", "lang", "emergency"),
    [
        ("diese hitze bringt mich noch um, wo ist ein günstiges freibad", "de", False),  # a figure of speech
        ("er sagt er bringt mich um, er steht vor der tür", "de", True),  # a person threatening
        ("cette chaleur va me tuer, y a une piscine pas chère", "fr", False),
        ("mon mari dit qu'il va me tuer ce soir", "fr", True),
    ],
)
def test_a_thing_that_kills_in_a_figure_of_speech_is_no_threat(
    dialogue: Dialogue, text: str, lang: str, emergency: bool
) -> None:
    assert (dialogue.decide(text, lang).kind == "emergency") is emergency


def test_calm_phrases_keep_their_word_order(dialogue: Dialogue) -> None:
    # "не срочно" (not urgent) calms; "срочно, а я не могу" (urgent, and I cannot) does not
    assert dialogue.decide("схватки каждые 5 минут, срочно, а я не могу объяснить адрес", "ru").kind == "emergency"
    assert dialogue.decide("не срочно: где купить огнетушитель для квартиры", "ru").kind != "emergency"


def test_an_emergency_after_the_first_thousand_characters_is_found(dialogue: Dialogue) -> None:
    # Telegram allows 4,096 characters; the matcher reads the first thousand, the emergency check all of it.
    story = "Ich erzähle Ihnen von unserer Wohnung und dem Vermieter und den Nachbarn. " * 30
    assert len(story) > 2000 and not dialogue.is_emergency(story)
    cry = story + "Jetzt gerade schlägt mein Mann mich und die Kinder, bitte helfen Sie!"
    assert dialogue.is_emergency(cry)
    decision = dialogue.decide(cry, "de")
    assert decision.kind == "emergency" and "112" in decision.text
    assert dialogue.decide(cry, "de", emergency=False).kind != "emergency"  # "not an emergency" is respected


def test_a_language_without_emergency_words_is_warned_about(tmp_path: Path) -> None:
    kb = Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "kb"))
    (kb / "emergency" / "so.yaml").unlink()
    result = check_knowledge(kb)
    assert result.errors == []
    (warning,) = [w for w in result.warnings if "no emergency words in this language" in w.message]
    assert warning.file.endswith("emergency/so.yaml") and warning.message.startswith("so: ")
    assert not [w for w in check_knowledge(KNOWLEDGE_DIR).warnings if "no emergency words" in w.message]
