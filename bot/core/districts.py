"""NRW's districts and municipalities: ``cities/<slug>.yaml`` at three levels (a district-free city, a district, a
municipality with offices of its own) and ``municipalities.yaml``, every municipality mapped to its district.

A person lives in a municipality; the contacts they are shown are those of the municipality's own file when it has
one (its district's stand in for kinds it lacks), else those of its district.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from bot.core.checking import Reporter, load_validated
from bot.core.model import City, Contact, Municipalities, Municipality
from bot.core.yamlsafe import LList

MUNICIPALITIES_FILE = "municipalities.yaml"
DISTRICT_LEVELS = ("district-free-city", "district")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def place_id(name: str) -> str:
    """A municipality's id: its German name in lower-case ASCII, words joined by '-' ("Mülheim an der Ruhr" ->
    "muelheim-an-der-ruhr")."""
    text = unicodedata.normalize("NFKD", name.casefold().translate(_FOLD)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def check_levels(folder: Path, cities: Mapping[str, City], rep: Reporter) -> None:
    """A municipality's file names an existing district (or district-free city); the others name none."""
    for city in cities.values():
        path = folder / f"{city.slug}.yaml"
        if city.level == "municipality":
            if city.district is None:
                rep.add(path, 1, f"{city.slug} is a municipality: 'district' is missing",
                        "write district: <the slug of its district's file>, e.g. kreis-wesel")  # fmt: skip
            elif city.district not in cities or cities[city.district].level not in DISTRICT_LEVELS:
                rep.add(path, 1, f"district '{city.district}' is no district in cities/",
                        "use the slug of a district or district-free city file")  # fmt: skip
        elif city.district is not None:
            rep.add(path, 1, f"{city.slug} is a {city.level}: it has no 'district'", "remove 'district', or set "
                    "level: municipality")  # fmt: skip


def check_centres(folder: Path, cities: Mapping[str, City], rep: Reporter) -> None:
    """A warning for a district without an integration centre that has a street address and a phone or web page."""
    for city in cities.values():
        if city.level not in DISTRICT_LEVELS:
            continue
        centres = [c for c in city.contacts if c.kind == "integration-centre"]
        if not any(c.address and (c.phone or c.url) for c in centres):
            rep.add(folder / f"{city.slug}.yaml", 1, f"{city.slug}: no integration centre with a street address and "
                    "a phone number or web page", "add the Kommunales Integrationszentrum from a source you can "
                    "cite", "warning")  # fmt: skip


def contacts_around(city: City, cities: Mapping[str, City]) -> tuple[Contact, ...]:
    """The contacts a person in ``city`` may be shown: its own first, then its district's (a town's file), which
    stand in for the kinds it has none of."""
    district = cities.get(city.district) if city.district else None
    return (*city.contacts, *(district.contacts if district else ()))


def municipality_of(city: City) -> str:
    """The id in municipalities.yaml of the municipality a city file is (its German name); for a district's own
    file ("Kreis Soest") an id no municipality has."""
    return place_id(city.names["de"])


def check_municipalities(
    path: Path, cities: Mapping[str, City], codes: set[str], rep: Reporter
) -> dict[str, Municipality]:
    """``municipalities.yaml`` (optional): every municipality in an existing district, each id once."""
    if not path.is_file():
        return {}
    loaded = load_validated(Municipalities, path, rep)
    if loaded is None:
        return {}
    raw, data = loaded
    items = raw.get("municipalities")
    found: dict[str, Municipality] = {}
    for index, place in enumerate(data.municipalities):
        line = items.line_of(index) if isinstance(items, LList) else 1
        district = cities.get(place.district)
        if district is None or district.level not in DISTRICT_LEVELS:
            rep.add(path, line, f"{place.name}: district '{place.district}' has no file in cities/",
                    "use the slug of a district or district-free city file")  # fmt: skip
        for lang in place.names:
            if lang not in codes:
                rep.add(path, line, f"{place.name}: names: language '{lang}' is not in languages.yaml", "fix the code")
        ident = place_id(place.name)
        if ident in found:
            ident = f"{ident}-{place.district}"
        if ident in found:
            rep.add(path, line, f"{place.name} is listed twice in {place.district}", "remove one")
            continue
        if (place.lat is None) != (place.lon is None):
            rep.add(path, line, f"{place.name}: give both lat and lon, or neither", "complete the coordinates")
        found[ident] = place
    for city in cities.values():
        if city.level == "municipality" and municipality_of(city) not in found:
            rep.add(path.parent / "cities" / f"{city.slug}.yaml", 1, f"{city.names['de']} is not in "
                    f"{MUNICIPALITIES_FILE}: nobody can choose it as their town", "use the German name the list "
                    "has, or add the town to the list with its source", "warning")  # fmt: skip
    return found
