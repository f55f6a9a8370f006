"""Onboarding as a new user experiences it."""

from __future__ import annotations

from tests.e2e.conftest import Lotse


async def test_onboarding_in_german(lotse: Lotse) -> None:
    user = lotse.user(101, language_code="de")
    replies = await user.send("/start", expect=3)
    assert "Hallo" in replies[0].text or "Lotse" in replies[0].text
    city_picker = replies[1]
    assert "Düsseldorf" in [label for label, _ in city_picker.buttons]
    assert replies[2].keyboard[0]["request_location"] is True
    replies = await user.tap("Köln", expect=3)
    print([r.text for r in replies])
