"""The situation detector as plain functions, on a small emergency knowledge in four scripts."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from bot.core.emergency.check import collisions
from bot.core.emergency.detect import Detector
from bot.core.model import Emergency, EmergencyWords, Situation

CONCEPTS = (
    "person",
    "child",
    "ingest",
    "substance",
    "fall",
    "no-response",
    "unconscious",
    "gas",
    "smell",
    "choking",
    "calm",
    "past",
    "recovered",
    "worry",
    "urgent",
    "suicide",
)


def _words(lang: str, concepts: dict[str, list[str]], **extra: object) -> EmergencyWords:
    return EmergencyWords.model_validate(
        {"lang": lang, "status": "machine", "concepts": concepts, "lines": {"safety-net": "112"}, **extra}
    )


EN = _words(
    "en",
    {
        "person": ["husband", "wife", "baby"],
        "child": ["child", "baby", "son"],
        "ingest": ["swallowed", "drank", "ate"],
        "substance": ["cleaning liquid", "bleach", "pills", "tablets"],
        "fall": ["fell down", "collapsed"],
        "no-response": ["does not move", "not waking", "unresponsive"],
        "unconscious": ["unconscious"],
        "gas": ["gas"],
        "smell": ["smell", "smells"],
        "choking": ["choking"],
        "calm": ["course", "bill"],
        "past": ["yesterday", "last week"],
        "recovered": ["fine now"],
        "worry": ["afraid that"],
        "urgent": ["help", "now"],
        "suicide": ["kill myself"],
    },
    common=["cooking"],
)
DE = _words(
    "de",
    {
        "child": ["kind"],
        "ingest": ["gegessen", "geschluckt", "getrunken"],
        "substance": ["tabletten", "putzmittel"],
        "gas": ["gas"],
        "smell": ["riecht"],
        "no-response": ["bewusstlos*"],
    },
)
AR = _words("ar", {"child": ["ابني", "بنتي"], "ingest": ["شرب", "بلع"], "substance": ["كلور", "حبوب"]})
UK = _words("uk", {"person": ["чоловік"], "no-response": ["не рухається", "не прокидається"], "fall": ["впав"]})
RU = _words("ru", {"person": ["муж"], "no-breath": ["задыхается"], "poison": ["отравился"]})
FA = _words("fa", {"child": ["پسرم"], "substance": ["سفیدکننده"], "ingest": ["خورده"]})
TI = _words("ti", {"person": ["ኣቦይ"], "fall": ["ወዲቑ"], "no-response": ["ኣይዛረብን"]}, endings=["ን"])

EMERGENCY = Emergency(
    revision=1,
    concepts=MappingProxyType(dict.fromkeys(CONCEPTS, "a concept")),
    situations=MappingProxyType(
        {
            "poisoning": Situation(when=(("substance", "ingest"),), call=("ambulance",), dispatcher="Ich brauche x."),
            "unresponsive": Situation(
                when=(("unconscious",), ("fall", "no-response"), ("person", "no-response")),
                call=("ambulance",),
                dispatcher="Ich brauche x.",
            ),
            "not-breathing": Situation(when=(("choking",),), call=("ambulance",), dispatcher="Ich brauche x."),
            "gas": Situation(when=(("gas", "smell"),), call=("fire-brigade",), dispatcher="Ich brauche x."),
            "suicide": Situation(when=(("suicide",),), always=True, call=("ambulance",), dispatcher="Ich brauche x."),
        }
    ),
    words=MappingProxyType({"en": EN, "de": DE, "ar": AR, "uk": UK, "ti": TI, "ru": RU, "fa": FA}),
)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(EMERGENCY, known=lambda word: word in {"allowed", "prendre"})


@pytest.mark.parametrize(
    ("text", "situation"),
    [
        ("my child swallowed cleaning liquid", "poisoning"),  # Latin: a two-concept combination
        ("mein kind hat tabletten gegessen", "poisoning"),
        ("es riecht nach gas", "gas"),
        ("بنتي شربت من الكلور", "poisoning"),  # Arabic script: the article and a feminine verb ending
        ("чоловік не рухається", "unresponsive"),  # Cyrillic: a phrase of two words
        ("ኣቦይ ኣብ መሬት ወዲቑ ኣሎ። ኣይዛረብን", "unresponsive"),  # Ge'ez
        ("my husband fell down and does not move", "unresponsive"),
        ("help my baby is not waking", "unresponsive"),
    ],
)
def test_situations_from_concept_combinations(detector: Detector, text: str, situation: str) -> None:
    assert situation in detector.detect(text).situations


def test_one_concept_alone_is_not_a_situation(detector: Detector) -> None:
    assert not detector.detect("where can I buy cleaning liquid").emergency
    assert not detector.detect("my son ate breakfast").emergency


@pytest.mark.parametrize(
    ("text", "situation"),
    [
        ("my son swalowed bleach", "poisoning"),  # one letter missing
        ("my husband is unconscios", "unresponsive"),
        ("wife unresponsiv", "unresponsive"),
        ("پسرم سفیدکنده خورده", "poisoning"),  # Arabic script: a letter missing in a long word
        ("ኣቦይ ወዲቑ ኣይዛረቡን", "unresponsive"),  # Ge'ez: one syllable with another vowel
    ],
)
def test_typos_of_concept_words_are_found(detector: Detector, text: str, situation: str) -> None:
    assert situation in detector.detect(text).situations


def test_a_known_word_is_not_a_typo_of_a_concept_word(detector: Detector) -> None:
    # "allowed" is a word Lotse knows; "cooking" is listed as common: neither is a misspelt concept word.
    assert "ingest" not in detector.concepts("is my child allowed pills")
    assert "choking" not in detector.concepts("i was cooking")
    assert "choking" in detector.concepts("baby chocking")  # an unknown word one letter away still is


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("er ist bewusstlose", "no-response"),  # a stem* entry meets its inflected forms
        ("she swallows bleach", "ingest"),  # English Snowball stem
        ("ابني بلعت حبوب", "ingest"),  # Arabic Snowball stem
        ("ኣቦይ ወዲቑን", "fall"),  # Ge'ez: a listed ending removed from the message word
        ("чоловік не рухаеться", "no-response"),  # Cyrillic: a typo inside a phrase word
        ("она отравилась", "poison"),  # Cyrillic: Russian Snowball stem (отравился / отравилась)
        ("мама задыхаются", "no-breath"),
    ],
)
def test_inflected_forms_meet_their_concept_words(detector: Detector, text: str, concept: str) -> None:
    assert concept in detector.concepts(text)


def test_irregular_forms_must_be_listed(detector: Detector) -> None:
    assert "ingest" not in detector.concepts("the baby drinks")  # "drank" is listed; no stemmer joins drink/drank


def test_words_of_a_phrase_must_stand_close(detector: Detector) -> None:
    assert "no-response" in detector.concepts("he does really not move")
    far = "does the office answer my letter, i asked a lot of people and nobody could tell me, i will move soon"
    assert "no-response" not in detector.concepts(far)


def test_calm_cues_keep_talk_about_danger_from_being_an_emergency(detector: Detector) -> None:
    calm = detector.detect("my son swallowed pills yesterday, he is fine now")
    assert not calm.emergency and calm.suppressed == ("poisoning",) and calm.quiet
    assert not detector.detect("our gas bill, it smells like money").emergency
    assert detector.detect("help my son swallowed pills yesterday and now he vomits").emergency  # urgent wins
    assert detector.detect("i want to kill myself, i took a course once").emergency  # suicide is always


def test_collision_guard_lists_everyday_words_one_letter_from_concept_words() -> None:
    everyday = {("en", "clicking"), ("en", "cooking"), ("en", "swallowing")}
    found = collisions(EMERGENCY, lambda word, lang: (lang, word) in everyday, ["en"])
    assert ("en", "choking", "choking", "cooking") not in found  # listed under common already
    words = EMERGENCY.words["en"].model_copy(update={"common": ()})
    bare = EMERGENCY.model_copy(update={"words": MappingProxyType({"en": words})})
    found = collisions(bare, lambda word, lang: (lang, word) in everyday, ["en"])
    assert ("en", "choking", "choking", "cooking") in found
    assert all(near != "swallowing" for *_, near in found)  # two letters away: not a collision
