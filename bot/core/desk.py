"""One entry per incoming message: an open case first, then the conversation, then a request for a person.

The Telegram handlers (and any other edge) turn an update into plain values and call one method here; the order of
the decisions lives here and nowhere else. Without configured centres a :class:`NoHandoff` stands in for the
handoff, so no caller asks whether there is one.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.conversation import Conversation
from bot.core.replies import MediaKind, Outcome, Profile


class PersonHandoff(Protocol):
    """The person's side of the handoff, as :class:`~bot.core.handoff.Handoff` offers it."""

    async def request(self, profile: Profile) -> Outcome: ...

    def cancel(self, profile: Profile) -> Outcome: ...

    async def consent(
        self, profile: Profile, ticket_id: int, choice: str, first_name: str | None, now: float
    ) -> Outcome: ...

    async def end(self, profile: Profile, now: float) -> Outcome: ...

    async def on_text(
        self,
        profile: Profile,
        text: str,
        message_id: int,
        first_name: str | None,
        now: float,
        has_case: bool | None = None,
    ) -> Outcome | None: ...

    async def on_media(
        self,
        profile: Profile,
        media: str,
        file_id: str | None,
        caption: str | None,
        message_id: int,
        now: float,
        has_case: bool | None = None,
    ) -> Outcome | None: ...

    def cases_since(self, now: float) -> float | None: ...

    async def on_edit(self, profile: Profile, text: str, message_id: int, edit_date: float) -> bool: ...

    async def forget(self, user_id: int, now: float) -> list[str]: ...

    async def purge(self, now: float) -> dict[str, int]: ...


class NoHandoff:
    """No centres configured (``LOTSE_CENTRES`` unset): "talk to a person" shows the city's contacts, nothing is
    relayed, nothing is stored for staff."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    async def request(self, profile: Profile) -> Outcome:
        return self.conversation.on_human(profile)

    def cancel(self, profile: Profile) -> Outcome:
        return self.conversation.on_human(profile)

    async def consent(
        self, profile: Profile, ticket_id: int, choice: str, first_name: str | None, now: float
    ) -> Outcome:
        return self.conversation.on_human(profile)

    async def end(self, profile: Profile, now: float) -> Outcome:
        return self.conversation.on_human(profile)

    async def on_text(
        self,
        profile: Profile,
        text: str,
        message_id: int,
        first_name: str | None,
        now: float,
        has_case: bool | None = None,
    ) -> Outcome | None:
        return None

    async def on_media(
        self,
        profile: Profile,
        media: str,
        file_id: str | None,
        caption: str | None,
        message_id: int,
        now: float,
        has_case: bool | None = None,
    ) -> Outcome | None:
        return None

    def cases_since(self, now: float) -> float | None:
        return None  # no cases: the flood gate need not look

    async def on_edit(self, profile: Profile, text: str, message_id: int, edit_date: float) -> bool:
        return False

    async def forget(self, user_id: int, now: float) -> list[str]:
        return []

    async def purge(self, now: float) -> dict[str, int]:
        return {}


class Desk:
    """Where every message of a person arrives; decides between an open case, the conversation and the handoff."""

    def __init__(self, conversation: Conversation, handoff: PersonHandoff | None = None) -> None:
        self.conversation = conversation
        self.handoff: PersonHandoff = handoff if handoff is not None else NoHandoff(conversation)

    async def on_text(
        self,
        profile: Profile,
        text: str,
        *,
        message_id: int,
        first_name: str | None,
        now: float,
        edited_at: float | None = None,
        has_case: bool | None = None,
    ) -> Outcome:
        """A text: an edit of a relayed message is relayed; text in an open case (or the question for a request)
        goes to the handoff; anything else is a question for the conversation, which may ask for a person.
        ``has_case`` False (the flood gate found no case, see :meth:`cases_since`) spares the case lookup."""
        if edited_at is not None and await self.handoff.on_edit(profile, text, message_id, edited_at):
            return Outcome(profile, ())
        relayed = await self.handoff.on_text(profile, text, message_id, first_name, now, has_case)
        if relayed is not None:
            return relayed
        return await self._or_person(self.conversation.on_text(profile, text))

    async def on_media(
        self,
        profile: Profile,
        kind: MediaKind,
        *,
        voice: bool,
        file_id: str | None,
        caption: str | None,
        message_id: int,
        now: float,
        edited: bool = False,
        has_case: bool | None = None,
    ) -> Outcome:
        """A photo, document or voice message goes to an open case; anything else gets a word on what Lotse does."""
        if not edited:
            media = "voice" if voice else kind
            relayed = await self.handoff.on_media(profile, media, file_id, caption, message_id, now, has_case)
            if relayed is not None:
                return relayed
        return self.conversation.on_media(profile, kind)

    async def on_not_emergency(self, profile: Profile, text: str | None) -> Outcome:
        """The "not an emergency" button: the quoted message as an ordinary question."""
        return await self._or_person(self.conversation.on_not_emergency(profile, text))

    async def on_human(self, profile: Profile) -> Outcome:
        """/human or "Talk to a person"."""
        return await self.handoff.request(profile)

    async def on_consent(self, profile: Profile, value: str, first_name: str | None, now: float) -> Outcome:
        """The consent buttons: ``cancel``, ``yes:<ticket>``, ``all:<ticket>`` (with the last topics), ``no:<ticket>``
        (``<ticket>`` is the request's id)."""
        choice, _, ticket = value.partition(":")
        if choice == "cancel" or not ticket.isdecimal():
            return self.handoff.cancel(profile)
        return await self.handoff.consent(profile, int(ticket), choice, first_name, now)

    async def on_end(self, profile: Profile, now: float) -> Outcome:
        """/end: the open case is closed."""
        return await self.handoff.end(profile, now)

    def cases_since(self, now: float) -> float | None:
        """For the flood gate: the cases a message may belong to are open or draft ones and those staff closed since
        this time (they reopen); None without a handoff (no cases at all)."""
        return self.handoff.cases_since(now)

    async def forget(self, user_id: int, now: float) -> None:
        """/delete confirmed: the person's cases are erased (the caller deletes the profile)."""
        await self.handoff.forget(user_id, now)

    async def _or_person(self, outcome: Outcome) -> Outcome:
        return await self.handoff.request(outcome.profile) if outcome.handoff else outcome
