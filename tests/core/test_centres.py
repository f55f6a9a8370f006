"""Centres configuration: validation with file:line, routing by city, office hours and next opening."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.centres import CentresError, load_centres
from tests.conftest import ROOT

CITIES = {"duesseldorf", "koeln", "moers"}
BERLIN = ZoneInfo("Europe/Berlin")
TWO = (
    "centres:\n  - {{id: a, name: A, cities: [{a}], chat_id: -1}}\n  - {{id: b, name: B, cities: [{b}], chat_id: -2}}\n"
)


def test_example_file_is_valid_and_routes_cities() -> None:
    centres = load_centres(ROOT / "centres.example.yaml", CITIES)
    assert centres.for_city("duesseldorf") is not None
    assert centres.for_city("duesseldorf").id == "ki-duesseldorf"  # type: ignore[union-attr]
    assert centres.for_city("koeln").id == "nrw-default"  # type: ignore[union-attr]
    assert centres.for_city(None).id == "nrw-default"  # type: ignore[union-attr]
    assert centres.staff_chat_ids == {-1001234567890, -1009876543210}


def test_office_hours_and_next_opening() -> None:
    centre = load_centres(ROOT / "centres.example.yaml", CITIES).by_id["ki-duesseldorf"]
    thursday_evening = datetime(2026, 11, 26, 17, 30, tzinfo=BERLIN)
    assert centre.is_open(thursday_evening)  # Thursday until 18:00
    friday_afternoon = datetime(2026, 11, 27, 13, 0, tzinfo=BERLIN)
    assert not centre.is_open(friday_afternoon)
    assert centre.next_opening(friday_afternoon) == datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)  # Monday
    assert centre.is_open(datetime(2026, 11, 30, 8, 30, tzinfo=UTC))  # 09:30 in Berlin
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN)  # a Thursday, but closed
    assert not centre.is_open(christmas_eve)
    assert centre.next_opening(christmas_eve) == datetime(2026, 12, 28, 9, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("centres:\n  - {id: a, name: A, cities: [atlantis], chat_id: -100}\n", "unknown city 'atlantis'", 2),
        ("centres:\n  - {id: a, name: A, cities: [moers], chat_id: 42}\n", "chat_id of a staff group is negative", 2),
        ("centres:\n  - {id: a, name: A, cities: [moers], chat_id: -100123456789012345678901}\n", "too long", 2),
        ("centres:\n  - {id: a, name: A, cities: [moers], chat_id: -1, timezone: Mars/Base}\n", "unknown time zone", 2),
        ("centres:\n  - id: a\n    name: A\n    cities: [moers]\n    chat_id: -1\n    hours: {mon: '9-12'}\n",
         "malformed opening hours", 6),
        (TWO.format(a="'*'", b="'*'"), "more than one default centre", 2),
        (TWO.format(a="moers", b="moers"), "city 'moers' has two centres", 3),
        ("centres:\n  - {id: a, name: A, cities: [moers], chat_id: -1, colour: red}\n", "unknown field 'colour'", 2),
        ("centres:\n  - {id: a, name: A, cities: [moers], chat_id: -1, webhook: {url: 'http://x', secret_env: S}}\n",
         "webhook.url", 2),
        (TWO.format(a="moers", b="koeln").replace("id: b", "id: a"), "used twice", 3),
    ],
)  # fmt: skip
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str, line: int) -> None:
    path = tmp_path / "centres.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CentresError) as info:
        load_centres(path, CITIES)
    matching = [p for p in info.value.problems if message in p.message]
    assert matching, [p.format() for p in info.value.problems]
    assert matching[0].line == line
