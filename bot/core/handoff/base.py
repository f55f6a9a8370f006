"""What both sides of the handoff share: the centres, the ticket store, and how deliveries are addressed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from bot.core.centres import Centre, Centres
from bot.core.conversation import Conversation
from bot.core.handoff.model import STAFF_LANG, Delivery, HandoffSettings, Ticket, tg
from bot.core.handoff.texts import office_hours_text, when_text
from bot.core.render import format_contact, isolate_ltr
from bot.core.replies import Button, Profile, Reply

if TYPE_CHECKING:
    from bot.core.dialogue import Dialogue
    from bot.core.model import Knowledge
    from bot.core.ports import TicketStore


class HandoffBase:
    """The state and helpers the person's side, the staff's side and privacy share."""

    def __init__(
        self,
        conversation: Conversation,
        centres: Centres | None,
        store: TicketStore,
        settings: HandoffSettings | None = None,
        translation: bool = False,
    ) -> None:
        self.conversation = conversation
        self.centres = centres
        self.store = store
        self.settings = settings or HandoffSettings()
        self.translation = translation

    @property
    def dialogue(self) -> Dialogue:
        return self.conversation.dialogue  # read each time: the knowledge may be reloaded (Conversation.use)

    @property
    def knowledge(self) -> Knowledge:
        return self.conversation.knowledge

    # -- helpers ----------------------------------------------------------------------------------------------

    def centre_for(self, city: str | None) -> Centre | None:
        """The centre for the person's city file, else for its district (a town's), else the default desk."""
        if self.centres is None:
            return None
        found = self.knowledge.cities.get(city) if city else None
        return self.centres.for_city(city, found.district if found is not None else None)

    def centre(self, ticket: Ticket) -> Centre | None:
        return self.centres.by_id.get(ticket.centre_id) if self.centres is not None else None

    def _centre_name(self, ticket: Ticket) -> str:
        centre = self.centre(ticket)
        return centre.name if centre is not None else ticket.centre_id

    def _city_name(self, ticket: Ticket, lang: str) -> str | None:
        """Where the person lives: the municipality with its district ("Ense (Kreis Soest)"), else the city."""
        if ticket.place and ticket.place in self.knowledge.municipalities:
            return self.dialogue.towns.label(ticket.place, lang)
        found = self.knowledge.cities.get(ticket.city) if ticket.city else None
        return found.name(lang) if found is not None else None

    def _to_user(self, ticket: Ticket, key: str, text: str, title: str | None = None) -> Delivery:
        assert ticket.user_id is not None
        payload = {"text": text, "title": title, "direction": self.conversation.direction(ticket.lang)}
        return Delivery(key, tg(ticket.user_id), "message", payload, ticket.id)

    def _to_staff(self, ticket: Ticket, key: str, text: str, translate: bool = False) -> Delivery:
        payload: dict[str, Any] = {"text": text, "thread": True}
        if translate and self.translation and ticket.lang != STAFF_LANG:
            payload["translate"] = [ticket.lang, STAFF_LANG]
        return Delivery(key, tg(ticket.chat_id), "message", payload, ticket.id)

    def _card(self, ticket: Ticket) -> Delivery:
        return Delivery(f"t{ticket.id}:card:{ticket.version}", tg(ticket.chat_id), "card", {}, ticket.id)

    def _topic(self, ticket: Ticket, state: Literal["close", "reopen"]) -> Delivery:
        payload = {"state": state}
        return Delivery(f"t{ticket.id}:topic:{ticket.version}", tg(ticket.chat_id), "topic", payload, ticket.id)

    def _webhook(self, ticket: Ticket, event: str, now: float, with_question: bool = False) -> list[Delivery]:
        centre = self.centre(ticket)
        if centre is None or centre.webhook is None:
            return []
        body: dict[str, Any] = {
            "event": f"ticket.{event}",
            "case": ticket.case,
            "centre": ticket.centre_id,
            "status": ticket.status,
            "urgent": ticket.urgent,
            "language": ticket.lang,
            "city": ticket.city,
            "at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        }
        if with_question:
            body["question"] = ticket.question
            body["first_name"] = ticket.first_name
            body["topics"] = list(ticket.candidates)
        return [Delivery(f"t{ticket.id}:hook:{ticket.version}", f"hook:{centre.id}", "webhook", body, ticket.id)]

    def _open_reply(self, ticket: Ticket) -> Reply:
        t = self.conversation.t(ticket.lang)
        text = t.gettext("Your case {case} is open. Write here and your message goes to {centre}.").format(
            case=ticket.case, centre=self._centre_name(ticket)
        )
        end = t.gettext("/end ends the conversation.")
        return Reply(f"{text}\n{end}", direction=self.conversation.direction(ticket.lang))

    def _user_label(self, ticket: Ticket) -> str:
        name = ticket.first_name or "Person"
        return f"👤 {name} · #{ticket.case}"

    def hours_text(self, centre: Centre, lang: str, now: float) -> str:
        """Whether the office is open now, and if not, when it opens again; then the office hours."""
        t = self.conversation.t(lang)
        at = datetime.fromtimestamp(now, UTC)
        if not centre.hours:
            return t.gettext("Staff answer as soon as they can.")
        hours = t.gettext("Office hours: {hours}").format(hours=office_hours_text(centre, lang))
        if centre.is_open(at):
            now_open = t.gettext("The office is open now.")
            return f"{now_open}\n{hours}"
        opening = centre.next_opening(at)
        if opening is None:
            return t.gettext("Staff answer as soon as they can.")
        closed = t.gettext("The office is closed now. It opens again on {when}.").format(when=when_text(opening, lang))
        return f"{closed}\n{hours}"

    def walk_in(self, city: str | None, lang: str) -> str:
        """Welcome Points (or else Service Points) of the city, where people can go without an appointment."""
        found = self.knowledge.cities.get(city) if city else None
        if found is None:
            return ""
        for kind in ("welcome-point", "service-point"):
            contacts = [c for c in found.contacts if c.kind == kind][:2]
            if contacts:
                return "\n\n".join(format_contact(c, lang, self.knowledge) for c in contacts)
        return ""

    def waiting_text(self, ticket: Ticket) -> str:
        """Received, but the staff group cannot be reached yet (a setup error); where to go meanwhile."""
        t = self.conversation.t(ticket.lang)
        text = t.gettext(
            "Your question (case {case}) has been received, but {centre} cannot be reached through Lotse at the "
            "moment. It waits here and goes to them as soon as possible. The answer comes here in this chat."
        ).format(case=ticket.case, centre=self._centre_name(ticket))
        walk_in = self.walk_in(ticket.city, ticket.lang)
        if walk_in:
            text += "\n\n" + t.gettext("You can also go there without an appointment:") + "\n" + walk_in
        return isolate_ltr(text, self.conversation.direction(ticket.lang))

    def _expired(self, profile: Profile) -> Reply:
        t = self.conversation.t(profile.lang)
        return Reply(
            t.gettext("This request is no longer valid. Please tap “Talk to a person” again."),
            buttons=((Button(t.gettext("💬 Talk to a person"), "human"),),),
            direction=self.conversation.direction(profile.lang),
        )
