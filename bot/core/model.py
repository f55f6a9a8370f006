"""Typed, immutable objects of the knowledge base (validated with pydantic)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

Category = Literal["health", "documents", "learning", "work-money", "family-school", "daily-life", "help"]
ContactKind = Literal[
    "integration-centre",
    "service-point",
    "welcome-point",
    "bamf",
    "foreigners-office",
    "citizens-office",
    "jobcenter",
    "youth-migration-service",
    "migration-counselling",
    "anti-discrimination",
    "psychosocial-centre",
    "integration-guides",
    "other",
]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# The same names as tuples, for loops and menus (in this order): defined by the types above, never twice.
CATEGORIES: tuple[str, ...] = get_args(Category)
CONTACT_KINDS: tuple[str, ...] = get_args(ContactKind)
DAYS: tuple[str, ...] = get_args(Day)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CODE = re.compile(r"^[a-z]{2,3}$")
_SEED = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")
_PHONE = re.compile(r"^\+?[0-9][0-9 /()-]*[0-9]$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_URL = re.compile(r"^https://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?::\d+)?(?:[/?#][^\s<>\"]*)?$")
_HOURS_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_POSTCODE = re.compile(r"^\d{5}$")


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"'{value}' is not an id: use lower-case letters, digits and '-'")
    return value


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError(f"'{value}' is not a language code (two or three lower-case letters)")
    return value


def _phone(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.match(value) or not 3 <= digits <= 15:
        raise ValueError(f"malformed phone number '{value}'")
    if value.startswith("+") and not value.startswith("+49") and digits < 8:
        raise ValueError(f"malformed phone number '{value}'")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"malformed e-mail address '{value}'")
    return value


def _url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError(f"malformed URL '{value}' (only https:// addresses)")
    return value


def _hours(value: str) -> str:
    spans = [part.strip() for part in value.split(",")]
    previous_end = -1
    for span in spans:
        match = _HOURS_SPAN.match(span)
        if not match:
            raise ValueError(f"malformed opening hours '{value}'")
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if end > 24 * 60 or start >= end or start < previous_end:
            raise ValueError(f"malformed opening hours '{value}' (times must rise)")
        previous_end = end
    return value


def _postcode(value: str) -> str:
    if not _POSTCODE.match(value):
        raise ValueError(f"malformed postcode '{value}' (five digits)")
    return value


def _seed(value: str) -> str:
    if not _SEED.match(value):
        raise ValueError(f"'{value}' is not a seed file name like 002_966a1a22b8d7b6e6.txt")
    return value


def frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


Text = Annotated[StrictStr, AfterValidator(_nonblank)]
Slug = Annotated[StrictStr, AfterValidator(_slug)]
Code = Annotated[StrictStr, AfterValidator(_code)]
Phone = Annotated[StrictStr, AfterValidator(_phone)]
Email = Annotated[StrictStr, AfterValidator(_email)]
Url = Annotated[StrictStr, AfterValidator(_url)]
Hours = Annotated[StrictStr, AfterValidator(_hours)]
Postcode = Annotated[StrictStr, AfterValidator(_postcode)]
SeedName = Annotated[StrictStr, AfterValidator(_seed)]
ReviewStatus = Literal["machine", "draft", "reviewed"]
REVIEW_STATUSES: tuple[str, ...] = get_args(ReviewStatus)
Checked = date  # the day a person last checked a text: 2026-12-06 (YAML reads it as a date)

_CONFIG = ConfigDict(frozen=True, extra="forbid")


class Language(BaseModel):
    """One language Lotse speaks."""

    model_config = _CONFIG
    code: Code
    native: Text
    english: Text
    direction: Literal["ltr", "rtl"]
    fallback: Code | None = None
    required: StrictBool = False


class Source(BaseModel):
    """Where a fact comes from: a seed text, an official body, or a public page."""

    model_config = _CONFIG
    seed: SeedName | None = None
    body: Text | None = None
    url: Url | None = None
    note: Text | None = None
    seen: date | None = None  # when a web page was read

    @model_validator(mode="after")
    def _one_of(self) -> Source:
        if self.seed is None and self.body is None and self.url is None:
            raise ValueError("a source needs 'seed', 'body' or 'url'")
        return self


class Reviewable(BaseModel):
    """Who checked a text in one language, and for which revision of its topic or file.

    ``status``: ``machine`` (drafted by a program), ``draft`` (written or edited by a person, not yet checked by a
    second speaker) or ``reviewed`` (a native speaker checked it: ``reviewed_by`` names them, ``checked`` is the day).
    Whether a text is *outdated* (its ``revision`` below the topic's) is derived, never stored.
    """

    model_config = _CONFIG
    status: ReviewStatus
    reviewed_by: Text | None = None
    checked: Checked | None = None
    revision: StrictInt = Field(ge=1)

    @property
    def reviewed(self) -> bool:
        return self.status == "reviewed"


class Translation(Reviewable):
    """A topic in one language (``topics/<id>/<lang>.yaml``)."""

    title: Text
    answer: Text
    examples: tuple[Text, ...] = Field(min_length=1)  # fewer than 8: a warning (see topics.py)
    keywords: tuple[Text, ...] = Field(min_length=1)
    triggers: tuple[Text, ...] = ()


class TopicShared(BaseModel):
    """What a topic's languages share (``topics/<id>/topic.yaml``): the id is the folder's name."""

    model_config = _CONFIG
    category: Category
    related: tuple[Slug, ...] = ()
    revision: StrictInt = Field(ge=1)
    sources: tuple[Source, ...] = Field(min_length=1)


class Topic(BaseModel):
    """One question area, e.g. ``doctor``, with its translations."""

    model_config = _CONFIG
    id: Slug
    category: Category
    related: tuple[Slug, ...] = ()
    revision: StrictInt = Field(ge=1)
    sources: tuple[Source, ...] = Field(min_length=1)
    translations: Annotated[Mapping[Code, Translation], AfterValidator(frozen_map)]

    def outdated(self, lang: str) -> bool:
        """The translation was written for an earlier revision of the topic (derived, never stored)."""
        return lang in self.translations and self.translations[lang].revision < self.revision


class IntentTranslation(Reviewable):
    """How people ask for something (e.g. a human) in one language."""

    examples: tuple[Text, ...] = Field(min_length=5)
    keywords: tuple[Text, ...] = Field(min_length=1)
    triggers: tuple[Text, ...] = ()


class Intent(BaseModel):
    """A non-topic intent such as asking for a human (``handoff.yaml``)."""

    model_config = _CONFIG
    revision: StrictInt = Field(ge=1)
    translations: Annotated[Mapping[Code, IntentTranslation], AfterValidator(frozen_map)]


class Coordinates(BaseModel):
    """Latitude and longitude in decimal degrees."""

    model_config = _CONFIG
    lat: float = Field(ge=-90, le=90, strict=True)
    lon: float = Field(ge=-180, le=180, strict=True)


class Contact(BaseModel):
    """A local office or offer; every contact names its source."""

    model_config = _CONFIG
    kind: ContactKind
    name: Text
    address: Text | None = None
    phone: Phone | None = None
    email: Email | None = None
    url: Url | None = None
    hours: Annotated[Mapping[Day, Hours], AfterValidator(frozen_map)] | None = None
    languages: tuple[Code, ...] = ()
    note: Text | None = None
    source: Text
    seen: date | None = None  # when the source (a web page) was read; a seed file needs none
    status: ReviewStatus = "machine"  # machine-collected until a volunteer has confirmed it (draft, reviewed)


Level = Literal["district-free-city", "district", "municipality"]


class City(BaseModel):
    """A district-free city, a district (Kreis) or a municipality with offices of its own (``level``), with its
    names, spellings and contacts. A municipality names its ``district``, whose contacts stand in for kinds it has
    none of."""

    model_config = _CONFIG
    slug: Slug
    level: Level = "district-free-city"
    district: Slug | None = None
    names: Annotated[Mapping[Code, Text], AfterValidator(frozen_map)]
    aliases: tuple[Text, ...] = ()
    coordinates: Coordinates
    postcodes: tuple[Postcode, ...] = ()
    contacts: tuple[Contact, ...] = ()

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["de"]


class Municipality(BaseModel):
    """One of NRW's municipalities (``municipalities.yaml``): where people live, mapped to its district."""

    model_config = _CONFIG
    name: Text
    district: Slug
    lat: float | None = Field(default=None, ge=-90, le=90, strict=True)
    lon: float | None = Field(default=None, ge=-180, le=180, strict=True)
    postcodes: tuple[Postcode, ...] = ()
    aliases: tuple[Text, ...] = ()
    names: Annotated[Mapping[Code, Text], AfterValidator(frozen_map)] = Field(default_factory=dict)

    def label(self, lang: str) -> str:
        return self.names.get(lang) or self.name


class Municipalities(BaseModel):
    """``municipalities.yaml``: the municipalities and where their names, districts and coordinates come from."""

    model_config = _CONFIG
    sources: tuple[Source, ...] = Field(min_length=1)
    municipalities: tuple[Municipality, ...] = Field(min_length=1)


EmergencyCall = Literal["ambulance", "fire-brigade", "police", "poison-centre", "women-helpline", "crisis-line"]
EMERGENCY_LINES: tuple[str, ...] = (
    "ambulance",
    "fire-brigade",
    "police",
    "poison-centre",
    "women-helpline",
    "crisis-line",
    "read-this",
    "address",
    "not-emergency",
    "safety-net",
)


class Service(BaseModel):
    """A helpline an emergency answer may show, with its source."""

    model_config = _CONFIG
    name: Text
    phone: Phone
    hours: Text | None = None
    source: Source


class Situation(BaseModel):
    """An emergency situation: recognised by any one combination of concepts (``when``)."""

    model_config = _CONFIG
    when: tuple[tuple[Slug, ...], ...] = Field(min_length=1)
    always: StrictBool = False  # recognised even when the message also has a calm cue
    calmed_by: tuple[Slug, ...] = ()  # more concepts that calm this situation (idiom: "this heat is killing me")
    call: tuple[EmergencyCall, ...] = Field(min_length=1)
    dispatcher: Text  # the German sentence to read out on the phone


def _number_as_text(value: Any) -> Any:
    """A concept word written as a bare number (112) is the word "112"."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ConceptWord = Annotated[Text, BeforeValidator(_number_as_text)]


class EmergencyWords(BaseModel):
    """The words of every emergency concept in one language (``emergency/<lang>.yaml``)."""

    model_config = _CONFIG
    lang: Code
    status: ReviewStatus
    reviewed_by: Text | None = None
    checked: Checked | None = None
    endings: tuple[Text, ...] = ()
    common: tuple[Text, ...] = ()  # everyday words one letter away from a concept word: never read as a typo
    concepts: Annotated[Mapping[Slug, tuple[ConceptWord, ...]], AfterValidator(frozen_map)]
    lines: Annotated[Mapping[Slug, Text], AfterValidator(frozen_map)]


class Emergency(BaseModel):
    """Emergency situations and concepts (``emergency.yaml``) with their words per language."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    revision: StrictInt = Field(ge=1)
    concepts: Annotated[Mapping[Slug, Text], AfterValidator(frozen_map)]
    services: Annotated[Mapping[Slug, Service], AfterValidator(frozen_map)] = Field(default_factory=dict)
    situations: Annotated[Mapping[Slug, Situation], AfterValidator(frozen_map)]
    words: Annotated[Mapping[Code, EmergencyWords], AfterValidator(frozen_map)] = Field(default_factory=dict)


class Knowledge(BaseModel):
    """The whole validated knowledge base."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    languages: Mapping[str, Language]
    topics: Mapping[str, Topic]
    cities: Mapping[str, City]
    municipalities: Mapping[str, Municipality] = Field(default_factory=dict)  # by id (slug of the name)
    handoff: Intent
    offtopic: Intent | None = None
    uncovered: Intent | None = None  # everyday matters Lotse has no answer for (taxes, driving licence...)
    emergency: Emergency | None = None

    def intents(self) -> dict[str, Intent]:
        """The intents the knowledge declares, by file name: ``handoff``, and ``offtopic``/``uncovered`` when present
        (a matcher target is ``@`` + the name)."""
        found = {"handoff": self.handoff, "offtopic": self.offtopic, "uncovered": self.uncovered}
        return {name: intent for name, intent in found.items() if intent is not None}

    def fallback_chain(self, lang: str) -> list[str]:
        """``lang`` and its configured fallbacks, ending in English and German."""
        chain: list[str] = []
        code: str | None = lang if lang in self.languages else None
        while code is not None and code not in chain:
            chain.append(code)
            code = self.languages[code].fallback
        for last in ("en", "de"):
            if last in self.languages and last not in chain:
                chain.append(last)
        return chain
