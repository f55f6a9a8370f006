"""All of NRW: every district, every municipality found as people write it, a location mapped to its town, answers
and handoffs by district."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.centres import Centre, Centres
from bot.core.conversation import Conversation
from bot.core.dialogue import Dialogue
from bot.core.knowledge import check_knowledge
from bot.core.model import Knowledge
from bot.core.places import Places
from bot.core.render import contacts_text
from tests.conftest import KNOWLEDGE_DIR


@pytest.fixture(scope="module")
def places(knowledge: Knowledge) -> Places:
    return Places(knowledge)


def test_every_district_and_municipality_of_nrw_is_known(knowledge: Knowledge) -> None:
    levels = [city.level for city in knowledge.cities.values()]
    assert levels.count("district-free-city") == 22 and levels.count("district") == 31
    assert len(knowledge.municipalities) == 396
    districts = {slug for slug, city in knowledge.cities.items() if city.level != "municipality"}
    assert {m.district for m in knowledge.municipalities.values()} == districts  # every district has its towns
    assert all(m.lat is not None and m.lon is not None for m in knowledge.municipalities.values())
    assert knowledge.cities["moers"].level == "municipality" and knowledge.cities["moers"].district == "kreis-wesel"


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("Ense", "ense"),
        ("I live in Ense", "ense"),
        ("ich wohne in ense", "ense"),
        ("я живу в Ense", "ense"),
        ("59469", "ense"),  # its postcode
        ("muelhiem an der ruhr", "muelheim-an-der-ruhr"),  # two letters swapped, umlaut written out
        ("Gelsenkirche", "gelsenkirchen"),
        ("duseldorf", "duesseldorf"),
        ("Кёльн", "koeln"),
        ("أعيش في دوسلدورف", "duesseldorf"),
        ("мёрс", "moers"),
        ("Bad Berleburg", "bad-berleburg"),
        ("berleburg", "bad-berleburg"),
        ("Olpe", "olpe"),  # the town before the district of the same name
    ],
)
def test_a_town_is_found_as_people_write_it(places: Places, typed: str, place: str) -> None:
    hits = places.search(typed)
    assert hits and hits[0].place == place, hits


@pytest.mark.parametrize("typed", ["olpee", "wo ist der arzt", "ich brauche hilfe", ""])
def test_what_names_no_town_finds_none(places: Places, typed: str) -> None:
    assert places.search(typed) == []  # a short name needs every letter: "olpee" is no town


def test_a_town_is_shown_with_its_district_and_its_people_get_the_districts_contacts(places: Places) -> None:
    assert places.label("ense", "de") == "Ense (Kreis Soest)"
    assert places.label("koeln", "de") == "Köln"  # a district-free city is its own district
    assert places.contacts_of("ense") == "kreis-soest"
    assert places.contacts_of("moers") == "moers"  # a town with offices of its own
    assert places.contacts_of("@kreis-soest") == "kreis-soest"


def test_a_location_in_a_small_town_maps_to_it_and_to_its_district(places: Places) -> None:
    found = places.nearest(51.498, 7.965)  # a street in Ense, a few hundred metres from its centre
    assert found is not None and found[0] == "ense" and found[1] < 2
    assert places.contacts_of(found[0]) == "kreis-soest"
    assert places.nearest(52.52, 13.40) is None  # Berlin: outside NRW


def test_the_answer_for_ense_shows_kreis_soests_integration_centre(dialogue: Dialogue) -> None:
    conversation = Conversation(dialogue)
    start = conversation.on_start(None, 7, "de")
    asked = conversation.on_text(start.profile, "ich wohne in ense")
    (confirm,) = asked.replies
    assert next(b.data for row in confirm.buttons for b in row) == "place:ense"
    chosen = conversation.on_place(asked.profile, "ense")
    assert (chosen.profile.city, chosen.profile.place, chosen.profile.step) == ("kreis-soest", "ense", "ready")
    assert "Ense (Kreis Soest)" in chosen.replies[0].text
    (answer,) = conversation.on_text(chosen.profile, "wo ist das kommunale integrationszentrum").replies
    soest = dialogue.knowledge.cities["kreis-soest"]
    centre = next(c for c in soest.contacts if c.kind == "integration-centre")
    assert centre.address is not None and centre.address.split(",")[0] in answer.text


def test_an_emergency_at_the_town_step_is_answered_first(dialogue: Dialogue) -> None:
    conversation = Conversation(dialogue)
    typing = conversation.on_town(conversation.on_start(None, 8, "de").profile)
    assert typing.profile.step == "town"
    assert conversation.on_text(typing.profile, "mein kind atmet nicht mehr").replies[0].kind == "emergency"
    (again,) = conversation.on_text(typing.profile, "xqzv").replies
    assert "could not find" in again.text or "nicht gefunden" in again.text


def test_a_town_without_an_office_of_a_kind_gets_its_districts(knowledge: Knowledge) -> None:
    from bot.core.i18n import translator

    wesel = knowledge.cities["kreis-wesel"]
    shown = next(c for c in wesel.contacts if c.kind == "jobcenter")
    moers = knowledge.cities["moers"]
    without = moers.model_copy(update={"contacts": tuple(c for c in moers.contacts if c.kind != "jobcenter")})
    text = contacts_text("jobcenter", without, "de", knowledge, translator("de"))
    assert shown.name in text  # Moers without a Jobcenter of its own: the Kreis's
    assert shown.name not in contacts_text("jobcenter", moers, "de", knowledge, translator("de")) or any(
        c.name == shown.name for c in moers.contacts
    )  # with its own, its own


def test_the_handoff_goes_to_the_districts_centre_or_else_to_the_default_desk() -> None:
    def centre(ident: str, cities: tuple[str, ...]) -> Centre:
        return Centre(id=ident, name=ident, cities=cities, chat_id=-100)

    centres = Centres({"wesel": centre("wesel", ("kreis-wesel",)), "desk": centre("desk", ("*",))})
    assert centres.for_city("moers", "kreis-wesel").id == "wesel"  # type: ignore[union-attr]
    assert centres.for_city("kreis-soest", None).id == "desk"  # type: ignore[union-attr]


def test_a_town_in_an_unknown_district_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))
    path = root / "municipalities.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("district: kreis-soest,", "district: kreis-sost,", 1), encoding="utf-8")
    moers = root / "cities" / "moers.yaml"
    moers.write_text(moers.read_text(encoding="utf-8").replace("district: kreis-wesel\n", "", 1), encoding="utf-8")
    errors = check_knowledge(root).errors
    (town,) = [e for e in errors if "district 'kreis-sost' has no file" in e.message]
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "district: kreis-soest," in row)
    assert town.file.endswith("municipalities.yaml") and town.line == line
    assert any(e.file.endswith("moers.yaml") and "'district' is missing" in e.message for e in errors)


def test_a_town_is_not_warned_about_kinds_its_district_has(tmp_path: Path) -> None:
    root = Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))
    moers = root / "cities" / "moers.yaml"
    lines = moers.read_text(encoding="utf-8").splitlines()
    start = lines.index("  - kind: jobcenter")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("  - kind:"))
    moers.write_text("\n".join(lines[:start] + lines[end:]) + "\n", encoding="utf-8")  # Moers without a Jobcenter
    warnings = [w.message for w in check_knowledge(root).warnings if w.file.endswith("moers.yaml")]
    assert not [w for w in warnings if "no 'jobcenter' contact" in w]  # Kreis Wesel's stands in
