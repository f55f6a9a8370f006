"""Finding where a person lives: a town typed with typos, in another script, inside a sentence ("I live in Ense"),
as a postcode, or a shared location; and what that means for the contacts they are shown.

Every municipality of ``municipalities.yaml`` is searched by its German name, its spellings (``aliases``), its names
in other languages and its postcodes; a city file's names and spellings count for the municipality of the same
name, a district's for the district itself. The search compares every run of one to four words of the message
with those names (rapidfuzz, after the matcher's normalisation), so "ich wohne in muelhiem an der ruhr" finds
Mülheim an der Ruhr. A short name must match exactly: a one-letter slip in "Olpe" or "Hamm" is another word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.districts import DISTRICT_LEVELS, municipality_of
from bot.core.model import City, Knowledge, Municipality
from bot.core.normalize import tokens

NEAREST_KM = 30.0  # a shared location further than this from every municipality centre is outside NRW
MAX_WORDS = 4  # the longest name ("Mülheim an der Ruhr", "Verl Kaunitz") in words
MAX_TOKENS = 24  # of a message: a town is named early; a long text is no answer to "where do you live"
EXACT_BELOW = 5  # letters: shorter names must match exactly
DISTRICT = "@"  # a hit on a district's own name (no municipality): "@kreis-soest"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance of two points (haversine)."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _cutoff(key: str) -> float:
    return 100.0 if len(key) < EXACT_BELOW else 88.0 if len(key) < 8 else 84.0


@dataclass(frozen=True, slots=True)
class Hit:
    """A place the message names: a municipality id, or ``@`` + a district slug; how sure (0-100)."""

    place: str
    score: float


class Places:
    """The search over NRW's municipalities and districts of one knowledge."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        owners: dict[str, set[str]] = {}

        def add(name: str, owner: str) -> None:
            key = " ".join(tokens(name))
            if key:
                owners.setdefault(key, set()).add(owner)

        for ident, place in knowledge.municipalities.items():
            for name in (place.name, *place.aliases, *place.names.values(), *place.postcodes):
                add(name, ident)
        for city in knowledge.cities.values():
            ident = municipality_of(city)
            owner = ident if ident in knowledge.municipalities else DISTRICT + city.slug
            if owner.startswith(DISTRICT) and city.level not in DISTRICT_LEVELS:
                continue  # a municipality's file that municipalities.yaml does not list: nothing to map it to
            for name in (*city.names.values(), *city.aliases):
                add(name, owner)
        self._keys = list(owners)
        self._owners = [sorted(owners[key]) for key in self._keys]

    def search(self, text: str, limit: int = 3) -> list[Hit]:
        """The places ``text`` names, the surest first (each at most once)."""
        words = tokens(text)[:MAX_TOKENS]
        best: dict[str, tuple[float, int]] = {}  # place -> (score, length of the name matched)
        for size in range(1, MAX_WORDS + 1):
            for start in range(len(words) - size + 1):
                window = " ".join(words[start : start + size])
                for key, score, index in process.extract(window, self._keys, scorer=fuzz.ratio, limit=5):
                    if score < _cutoff(key) or score < _cutoff(window):
                        continue
                    for owner in self._owners[index]:
                        if (score, len(key)) > best.get(owner, (0.0, 0)):
                            best[owner] = (score, len(key))
        # the surest, then the longest name matched, then a municipality before a district of the same name
        ranked = sorted(
            best.items(), key=lambda item: (-item[1][0], -item[1][1], item[0].startswith(DISTRICT), item[0])
        )
        return [Hit(place, score) for place, (score, _) in ranked[:limit]]

    def nearest(self, lat: float, lon: float) -> tuple[str, float] | None:
        """The municipality whose centre is nearest to a shared location, and how far (km); None outside NRW."""
        found = min(
            ((ident, distance_km(lat, lon, p.lat, p.lon)) for ident, p in self.knowledge.municipalities.items()
             if p.lat is not None and p.lon is not None),
            key=lambda item: item[1],
            default=None,
        )  # fmt: skip
        return found if found is not None and found[1] <= NEAREST_KM else None

    def contacts_of(self, place: str) -> str | None:
        """The city file whose contacts a person in ``place`` is shown: the municipality's own file when it has one,
        else its district's (``@district`` is the district)."""
        if place.startswith(DISTRICT):
            slug = place.removeprefix(DISTRICT)
            return slug if slug in self.knowledge.cities else None
        municipality = self.knowledge.municipalities.get(place)
        if municipality is None:
            return None
        own = self.knowledge.cities.get(place)
        if own is not None and (own.level != "municipality" or own.district == municipality.district):
            return own.slug
        return municipality.district if municipality.district in self.knowledge.cities else None

    def label(self, place: str, lang: str) -> str:
        """How a place is shown: "Ense (Kreis Soest)", "Köln", "Kreis Soest"."""
        cities = self.knowledge.cities
        if place.startswith(DISTRICT):
            own = cities.get(place.removeprefix(DISTRICT))
            return own.name(lang) if own else place
        municipality: Municipality | None = self.knowledge.municipalities.get(place)
        if municipality is None:
            return place
        district: City | None = cities.get(municipality.district)
        name = municipality.label(lang)
        if district is None or district.level == "district-free-city":
            return name
        return f"{name} ({district.name(lang)})"
