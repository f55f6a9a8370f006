"""Contacts as a person uses them: phone numbers in international format (tappable in Telegram, dialable with a
SIM from home), short numbers untouched."""

from __future__ import annotations

import pytest

from bot.core.dialogue import Dialogue
from bot.core.render import international


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("0221 / 221-0", "+49 221 221-0"),
        ("+49 (0)221 / 221-0", "+49 221 221-0"),
        ("02841 / 201-666", "+49 2841 201-666"),
        ("0049 30 1234", "+49 30 1234"),
        ("116 117", "116 117"),
        ("112", "112"),
    ],
)
def test_phone_numbers_in_international_format(written: str, shown: str) -> None:
    assert international(written) == shown


def test_every_contact_phone_in_an_answer_is_international(dialogue: Dialogue) -> None:
    rendered = dialogue.render("registration", "en", "koeln").text
    phones = [line for line in rendered.split("\n") if line.startswith("☎")]
    assert phones and all(line.startswith("☎ +") or len(line) <= 12 for line in phones), phones
