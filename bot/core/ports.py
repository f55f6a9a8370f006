"""Interfaces the core needs from storage (implemented in :mod:`bot.storage`, faked in tests)."""

from __future__ import annotations

from typing import Literal, Protocol

from bot.core.conversation import Profile


class ProfileStore(Protocol):
    """Per-person state; the only place it lives, so that several bot processes can serve one bot."""

    async def get(self, user_id: int) -> Profile | None: ...

    async def save(self, profile: Profile) -> None: ...

    async def delete(self, user_id: int) -> None: ...


Admission = Literal["ok", "warn", "drop"]


class FloodGate(Protocol):
    """Per-person message budget (a token bucket in the database): "ok", once "warn" when it runs out, then "drop".

    ``admit`` also returns the stored profile, so that one database round trip serves both.
    """

    async def admit(self, user_id: int, now: float) -> tuple[Admission, Profile | None]: ...


class FeedbackStore(Protocol):
    """Anonymous 👍/👎 counts per topic and language."""

    async def record(self, topic: str, lang: str, helpful: bool) -> None: ...

    async def counts(self) -> dict[tuple[str, str], tuple[int, int]]: ...
