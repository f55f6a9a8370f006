"""Handoff decisions as plain functions: transitions, office hours, the consent text, the staff card."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.centres import Centre
from bot.core.conversation import Conversation
from bot.core.dialogue import Dialogue
from bot.core.handoff import (
    CASE_ALPHABET,
    Handoff,
    Ticket,
    case_number,
    next_retry,
    office_hours_text,
    transition,
    weight,
)
from bot.core.i18n import translator

CENTRE = Centre.model_validate(
    {
        "id": "ki",
        "name": "KI Köln",
        "cities": ["koeln"],
        "chat_id": -1001,
        "timezone": "Europe/Berlin",
        "hours": {
            "mon": "09:00-16:00",
            "tue": "09:00-16:00",
            "wed": "09:00-16:00",
            "thu": "09:00-18:00",
            "fri": "09:00-12:00",
        },
        "closed": ["2026-12-24"],
    }
)


def _ticket(**changes: Any) -> Ticket:
    values: dict[str, Any] = {"id": 1, "case": "K7F3Q", "user_id": 5, "centre_id": "ki", "chat_id": -1001,
                              "lang": "ar", "city": "koeln", "status": "open", "question": "وين الدكتور؟",
                              "first_name": "Amal", "candidates": ("doctor",)}  # fmt: skip
    return Ticket(**{**values, **changes})


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


@pytest.fixture(scope="module")
def handoff(dialogue: Dialogue) -> Handoff:
    return Handoff(Conversation(dialogue), None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("open", "take", "taken"),
        ("taken", "take", "taken"),
        ("open", "close", "closed"),
        ("taken", "end", "closed"),
        ("closed", "reopen", "open"),
        ("open", "reopen", None),
        ("closed", "close", None),
        ("closed", "urgent", "closed"),
        ("deleted", "take", None),
        ("draft", "close", None),
    ],
)
def test_transitions(status: str, action: str, after: str | None) -> None:
    assert transition(_ticket(status=status), action) == after  # type: ignore[arg-type]


def test_office_hours_in_the_readers_language() -> None:
    assert office_hours_text(CENTRE, "de") == "Mo.–Mi. 09:00-16:00; Do. 09:00-18:00; Fr. 09:00-12:00"
    assert office_hours_text(CENTRE, "en").startswith("Mon–Wed 09:00-16:00")


def test_open_closed_and_next_opening(handoff: Handoff) -> None:
    de = translator("de")
    assert handoff.hours_text(CENTRE, "de", _at(2026, 11, 23, 10, 0)).startswith(de.gettext("The office is open now."))
    friday_evening = handoff.hours_text(CENTRE, "de", _at(2026, 11, 27, 13, 0))
    assert "Montag, 30. November 2026, 09:00" in friday_evening
    christmas_eve = handoff.hours_text(CENTRE, "en", _at(2026, 12, 24, 10, 0))
    assert "Friday, December 25, 2026, 9:00" in christmas_eve  # closed on the 24th, open on the 25th


def test_consent_says_exactly_what_is_shared_and_who_reads_it(handoff: Handoff) -> None:
    reply = handoff.consent_reply(_ticket(status="draft"), CENTRE, _at(2026, 11, 23, 10, 0), "Amal")
    ar = translator("ar")
    for expected in ("KI Köln", "Amal", "وين الدكتور؟", ar.gettext("Your phone number and your Telegram username are "
                                                                  "not shared.")):  # fmt: skip
        assert expected in reply.text
    assert reply.direction == "rtl"
    assert [b.data for row in reply.buttons for b in row] == ["ho:yes:1", "ho:no:1"]
    with_topics = handoff.consent_reply(_ticket(status="draft", shared_topics=("pharmacy",)), CENTRE, 0.0, "Amal")
    assert [b.data for row in with_topics.buttons for b in row] == ["ho:yes:1", "ho:all:1", "ho:no:1"]
    assert handoff.dialogue.title("pharmacy", "ar") in with_topics.text


def test_staff_card_has_no_contact_data_and_the_right_buttons(handoff: Handoff) -> None:
    card = handoff.card(_ticket(urgent=True, taken_by="Petra", status="taken"))
    assert card.title == "Fall #K7F3Q"
    assert card.text.startswith("🚨 DRINGEND\nStatus: übernommen (Petra)")
    assert "Sprache: العربية (ar)" in card.text and "Stadt: Köln" in card.text
    assert "Arzt" in card.text or "doctor" in card.text
    assert [b.data for row in card.buttons for b in row] == ["tk:take:1", "tk:urgent:1", "tk:close:1"]
    closed = handoff.card(_ticket(status="closed"))
    assert [b.data for row in closed.buttons for b in row] == ["tk:reopen:1"]
    deleted = handoff.card(_ticket(status="deleted", question=None, first_name=None))
    assert "Frage" not in deleted.text and deleted.buttons == ()
    assert handoff.topic_name(_ticket()) == "#K7F3Q · ar · Köln"


def test_case_numbers_retries_and_group_weights() -> None:
    numbers = {case_number(lambda n, i=i: (i * 7) % n) for i in range(50)}  # type: ignore[misc]
    assert all(len(c) == 5 and c[0] == "K" and set(c[1:]) <= set(CASE_ALPHABET) for c in numbers)
    assert not set("01OIL") & set(CASE_ALPHABET)
    assert [next_retry(n) for n in (1, 2, 3, 9, 20)] == [2.0, 4.0, 8.0, 300.0, 300.0]
    assert weight("announce", "tg:-1001") == 2 and weight("message", "tg:-1001") == 1
    assert weight("message", "tg:5") == 0 and weight("webhook", "hook:ki") == 0
