"""What the core works with and answers: a person's profile, and the replies (text, buttons) an edge shows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, get_args

from bot.core.dialogue import Decision
from bot.core.gaps import Gap

Step = Literal["language", "city", "town", "ready", "question"]
STEPS: tuple[str, ...] = get_args(Step)
RECENT = 3  # topics remembered for a handoff, if the person chooses to share them
MediaKind = Literal["voice", "photo", "video", "sticker", "document", "contact", "other"]
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True, slots=True)
class Profile:
    """What Lotse keeps about one person (the minimum: no name, no phone number, no questions)."""

    user_id: int
    lang: str | None = None
    city: str | None = None
    step: Step = "language"
    recent: tuple[str, ...] = ()  # ids of the last topics shown, newest first
    place: str | None = None  # the municipality the person lives in (``city`` is the file of its contacts)

    def saw(self, topic_id: str) -> Profile:
        """This profile after the topic ``topic_id`` was shown."""
        recent = (topic_id, *(t for t in self.recent if t != topic_id))[:RECENT]
        return self if recent == self.recent else replace(self, recent=recent)


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button (callback ``data``) or a reply-keyboard button that shares the location."""

    label: str
    data: str | None = None
    request_location: bool = False

    def __post_init__(self) -> None:
        if self.data is not None and len(self.data.encode("utf-8")) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data longer than {MAX_CALLBACK_BYTES} bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show: plain text (the edge escapes it), a bold title, buttons."""

    text: str
    title: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    keyboard: tuple[tuple[Button, ...], ...] = ()
    remove_keyboard: bool = False
    direction: str = "ltr"
    kind: str = "info"
    quote: bool = False  # sent as a reply to the person's message (the "not an emergency" button reads it there)
    places: tuple[tuple[str, str], ...] = ()  # (street address as ``text`` shows it, what to search on a map)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one event: the profile to store and the replies to send."""

    profile: Profile
    replies: tuple[Reply, ...]
    decision: Decision | None = None
    feedback: tuple[str, str] | None = field(default=None)  # (topic, "up"|"down") to record
    handoff: bool = False  # the person wants a human (the handoff flow takes over)
    gap: Gap | None = None  # for the volunteers' worklist (bot/core/gaps.py): nothing in it says who asked
    resolved: str | None = None  # the token of a clarify's gap the person answered by choosing (erased)


class Clock(Protocol):
    def __call__(self) -> float: ...
