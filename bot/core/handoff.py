"""Handoff to the integration centre: consent, tickets, relay both ways, lifecycle and privacy.

Pure decisions over the :class:`~bot.core.ports.TicketStore` port. Every change of a ticket and everything it must
send (to the person, to the staff group, to a centre's webhook) are stored in one transaction as
:class:`Delivery` rows of an outbox; a worker at the edge sends them. So a crash never loses a ticket or a message,
and an update that arrives twice never makes a second ticket or a second message (deliveries have unique keys).

Texts for the person are translated (Babel); texts for the staff are German: the staff of the integration centres
in North Rhine-Westphalia work in German.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_day_names

from bot.core.centres import Centre, Centres
from bot.core.conversation import Button, Conversation, Outcome, Profile, Reply
from bot.core.model import DAYS
from bot.core.render import format_contact, isolate_ltr

if TYPE_CHECKING:
    from bot.core.ports import TicketStore

Status = Literal["draft", "open", "taken", "closed", "deleted"]
ACTIVE: tuple[Status, ...] = ("open", "taken")
StaffAction = Literal["take", "urgent", "close", "reopen"]
RelayMedia = Literal["photo", "document", "voice"]
RELAYED_MEDIA: tuple[str, ...] = ("photo", "document", "voice")
DeliveryKind = Literal["announce", "message", "media", "edit", "card", "topic", "delete", "webhook"]
MAX_QUESTION = 1500
STAFF_LANG = "de"
INTERNAL_PREFIX = "//"
CASE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to read out on the phone
CASE_IN_TOPIC = re.compile(rf"#(K[{CASE_ALPHABET}]{{4}}) ")  # the start of a topic's name (see topic_name)

STATUS_DE: dict[str, str] = {
    "draft": "Entwurf",
    "open": "offen",
    "taken": "übernommen",
    "closed": "geschlossen",
    "deleted": "gelöscht",
}


@dataclass(frozen=True, slots=True)
class Ticket:
    """One request for a person. ``question`` and ``first_name`` are erased by /delete and by retention."""

    id: int
    case: str
    user_id: int | None
    centre_id: str
    chat_id: int
    lang: str
    city: str | None
    status: Status
    version: int = 0
    urgent: bool = False
    question: str | None = None
    first_name: str | None = None
    candidates: tuple[str, ...] = ()
    shared_topics: tuple[str, ...] = ()
    thread_id: int | None = None
    card_message_id: int | None = None
    taken_by: str | None = None
    closed_by: Literal["staff", "user"] | None = None
    blocked: bool = False
    created_at: float = 0.0
    opened_at: float | None = None
    first_reply_at: float | None = None
    closed_at: float | None = None
    source: int | None = None  # the id of the person's message with the question
    purged: bool = False  # its personal data were erased (/delete or retention)
    topic_tried: bool = False  # a forum topic was asked for; its id may have been lost
    card_version: int | None = None  # the version the card in the staff group shows
    card_tried: bool = False  # the card was sent; its message id may have been lost


@dataclass(frozen=True, slots=True)
class Delivery:
    """Something to send, stored in the outbox in the same transaction as the change that caused it.

    ``key`` is unique: the same update processed twice, or a restart, never sends anything twice. Deliveries to one
    ``dest`` (``tg:<chat id>`` or ``hook:<centre id>``) are sent in the order they were stored.
    """

    key: str
    dest: str
    kind: DeliveryKind
    payload: Mapping[str, Any] = field(default_factory=dict)
    ticket_id: int | None = None
    urgent: bool = False  # an emergency notice: goes before the chatter waiting for the same group


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A stored delivery as the worker sees it."""

    id: int
    key: str
    dest: str
    kind: DeliveryKind
    payload: Mapping[str, Any]
    ticket_id: int | None
    attempts: int = 0

    @property
    def chat_id(self) -> int | None:
        kind, _, value = self.dest.partition(":")
        return int(value) if kind == "tg" else None


@dataclass(frozen=True, slots=True)
class HandoffSettings:
    """Time windows of the handoff (``LOTSE_REOPEN_HOURS``, ``LOTSE_RETENTION_DAYS``)."""

    reopen_hours: float = 24.0
    retention_days: int = 90
    draft_hours: float = 24.0  # a request never confirmed is deleted after this


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """A message staff wrote in the staff group."""

    chat_id: int
    message_id: int
    staff_name: str
    thread_id: int | None = None
    reply_to: int | None = None
    text: str | None = None
    media: RelayMedia | None = None
    file_id: str | None = None
    topic_name: str | None = None  # the name of the forum topic it was written in, as Telegram sends it along


WEIGHTS: dict[str, int] = {"announce": 2, "delete": 0, "webhook": 0}


def weight(kind: str, dest: str) -> int:
    """How many messages a delivery counts for in Telegram's limit of 20 messages a minute into one group."""
    return WEIGHTS.get(kind, 1) if dest.startswith("tg:-") else 0


FIRST_KINDS = ("announce", "topic", "card")  # a new case, its forum topic and its status card


def priority(kind: str, urgent: bool) -> int:
    """0 for new cases, status cards and emergency notices, 1 for the rest: within Telegram's 20 messages a minute
    into one group, the lower goes first; within one priority, stored order."""
    return 0 if urgent or kind in FIRST_KINDS else 1


def tg(chat_id: int) -> str:
    return f"tg:{chat_id}"


def next_retry(attempts: int) -> float:
    """Seconds to wait before the next try after ``attempts`` failed ones: 2, 4, 8 ... at most 5 minutes."""
    return float(min(300, 2 ** max(1, attempts)))


def transition(ticket: Ticket, action: StaffAction | Literal["end", "reply"]) -> Status | None:
    """The status after ``action``, or None when the action does not apply in the ticket's status."""
    if ticket.status in ("draft", "deleted"):
        return None
    if action in ("take", "reply"):
        return "taken" if ticket.status in ACTIVE else None
    if action == "urgent":
        return ticket.status
    if action in ("close", "end"):
        return "closed" if ticket.status in ACTIVE else None
    return "open" if ticket.status == "closed" else None


def office_hours_text(centre: Centre, lang: str) -> str:
    """Office hours with day names in ``lang``, consecutive days with the same hours joined: "Mo.–Mi. 09:00-16:00"."""
    names = get_day_names("abbreviated", locale=lang)
    groups: list[tuple[int, int, str]] = []
    for index, day in enumerate(DAYS):
        hours = centre.hours.get(day)  # type: ignore[call-overload]
        if not hours:
            continue
        if groups and groups[-1][2] == hours and groups[-1][1] == index - 1:
            groups[-1] = (groups[-1][0], index, hours)
        else:
            groups.append((index, index, hours))
    parts = []
    for first, last, hours in groups:
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        parts.append(f"{days} {hours.replace(',', ', ')}")
    return "; ".join(parts)


def when_text(moment: datetime, lang: str) -> str:
    """A date and time as people read them in ``lang`` ("Montag, 23. November 2026, 09:00")."""
    return f"{format_date(moment, 'full', locale=lang)}, {format_time(moment, 'short', locale=lang)}"


class Handoff:
    """The way from a person to the staff of their integration centre and back."""

    def __init__(
        self,
        conversation: Conversation,
        centres: Centres | None,
        store: TicketStore,
        settings: HandoffSettings = HandoffSettings(),
        translation: bool = False,
    ) -> None:
        self.conversation = conversation
        self.dialogue = conversation.dialogue
        self.knowledge = conversation.knowledge
        self.centres = centres
        self.store = store
        self.settings = settings
        self.translation = translation

    # -- helpers ----------------------------------------------------------------------------------------------

    def centre_for(self, city: str | None) -> Centre | None:
        return self.centres.for_city(city) if self.centres is not None else None

    def centre(self, ticket: Ticket) -> Centre | None:
        return self.centres.by_id.get(ticket.centre_id) if self.centres is not None else None

    def _centre_name(self, ticket: Ticket) -> str:
        centre = self.centre(ticket)
        return centre.name if centre is not None else ticket.centre_id

    def _city_name(self, city: str | None, lang: str) -> str | None:
        found = self.knowledge.cities.get(city) if city else None
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

    # -- the person's side ------------------------------------------------------------------------------------

    async def request(self, profile: Profile) -> Outcome:
        """Talk to a person (button, /human, a request in text): ask for the question, or say the case is open."""
        if self.centre_for(profile.city) is None:
            return self.conversation.on_human(profile)
        t = self.conversation.t(profile.lang)
        active = await self.store.active(profile.user_id)
        if active is not None:
            return Outcome(profile, (self._open_reply(active),))
        reply = Reply(
            t.gettext(
                "Write your question for the integration centre in one message. Before anything is sent, I show "
                "you what will be shared and ask you."
            ),
            title=t.gettext("Talk to a person"),
            buttons=((Button(t.gettext("✖ Cancel"), "ho:cancel"),),),
            direction=self.conversation.direction(profile.lang),
            kind="human",
        )
        return Outcome(replace(profile, step="question"), (reply,))

    def _open_reply(self, ticket: Ticket) -> Reply:
        t = self.conversation.t(ticket.lang)
        text = t.gettext("Your case {case} is open. Write here and your message goes to {centre}.").format(
            case=ticket.case, centre=self._centre_name(ticket)
        )
        end = t.gettext("/end ends the conversation.")
        return Reply(f"{text}\n{end}", direction=self.conversation.direction(ticket.lang))

    def cancel(self, profile: Profile) -> Outcome:
        """The person cancelled before writing the question."""
        t = self.conversation.t(profile.lang)
        reply = Reply(
            t.gettext("Nothing was sent. You can ask me something else or open the menu."),
            buttons=((Button(t.gettext("☰ Menu"), "menu"),),),
            direction=self.conversation.direction(profile.lang),
        )
        return Outcome(replace(profile, step="ready"), (reply,))

    async def on_text(
        self, profile: Profile, text: str, message_id: int, first_name: str | None, now: float
    ) -> Outcome | None:
        """Text from the person: the question for a request, a follow-up in an open case, or None (not ours)."""
        is_emergency = self.conversation.is_emergency  # only where the text is ours: the common path skips it
        since = now - self.settings.reopen_hours * 3600
        active, reopenable, draft = await self.store.situation(profile.user_id, message_id, since)
        if active is not None:
            if active.source == message_id:  # the question itself, processed again after a crash
                return Outcome(profile, ())
            return await self._relay(profile, active, message_id, now, text=text, emergency=is_emergency(text))
        if draft is not None:  # the question processed again after a crash: the same consent question
            centre = self.centre(draft)
            if centre is not None:
                reply = self.consent_reply(draft, centre, now, first_name)
                return Outcome(replace(profile, step="ready"), (reply,))
        if profile.step == "question":
            if is_emergency(text):
                return self.conversation.on_text(replace(profile, step="ready"), text)
            return await self._draft(profile, text, now, first_name, message_id)
        if reopenable is not None:
            return await self._reopen(profile, reopenable, message_id, now, text=text, emergency=is_emergency(text))
        return None

    async def on_media(
        self, profile: Profile, media: str, file_id: str | None, caption: str | None, message_id: int, now: float
    ) -> Outcome | None:
        """A photo, document or voice message in an open case is relayed; other media there get a short note."""
        active = await self.store.active(profile.user_id)
        if active is None:
            return None
        if media not in RELAYED_MEDIA or file_id is None:
            t = self.conversation.t(profile.lang)
            note = t.gettext("Only text, photos, documents and voice messages can be sent to the integration centre.")
            return Outcome(profile, (Reply(note, direction=self.conversation.direction(profile.lang)),))
        emergency = bool(caption) and self.conversation.is_emergency(caption or "")
        return await self._relay(
            profile, active, message_id, now, text=caption, media=media, file_id=file_id, emergency=emergency
        )

    async def on_edit(self, profile: Profile, text: str, message_id: int, edit_date: float) -> bool:
        """An edited message that was relayed: relay the edit too. False when it was never relayed."""
        key = f"u:{profile.user_id}:{message_id}"
        relayed = await self.store.delivery_ticket(key)
        if relayed is None:
            return False
        ticket = await self.store.get(relayed)
        if ticket is None or ticket.status == "deleted":
            return True
        label = self._user_label(ticket)
        payload = {"of": key, "text": text, "label": label}
        edit = Delivery(f"{key}:e{int(edit_date)}", tg(ticket.chat_id), "edit", payload, ticket.id)
        await self.store.enqueue([edit])
        return True

    def _user_label(self, ticket: Ticket) -> str:
        name = ticket.first_name or "Person"
        return f"👤 {name} · #{ticket.case}"

    async def _relay(
        self,
        profile: Profile,
        ticket: Ticket,
        message_id: int,
        now: float,
        *,
        text: str | None,
        media: str | None = None,
        file_id: str | None = None,
        emergency: bool = False,
    ) -> Outcome:
        key = f"u:{profile.user_id}:{message_id}"
        label = self._user_label(ticket)

        def deliveries(current: Ticket) -> list[Delivery]:
            out: list[Delivery] = []
            ack = {"chat_id": profile.user_id, "message_id": message_id}
            if media is not None:
                payload: dict[str, Any] = {"media": media, "file_id": file_id, "caption": text, "label": label}
                out.append(Delivery(key, tg(current.chat_id), "media", {**payload, "ack": ack}, current.id, emergency))
            else:
                relay = self._to_staff(current, key, text or "", translate=True)
                out.append(replace(relay, payload={**relay.payload, "label": label, "ack": ack}, urgent=emergency))
            if emergency:
                alert = (
                    "🚨 Notfallwörter in der Nachricht. Die Person hat sofort die Notrufnummern 112 und 110 "
                    "bekommen. Der Fall ist als dringend markiert."
                )
                out.append(replace(self._to_staff(current, f"{key}:sos", alert), urgent=True))
                if not ticket.urgent:
                    out.append(self._card(current))
                    out += self._webhook(current, "urgent", now)
            return out

        changes: dict[str, Any] = {"urgent": True} if emergency and not ticket.urgent else {}
        await self.store.change(ticket.id, ACTIVE, changes, deliveries, now)
        if not emergency:
            return Outcome(profile, ())
        outcome = self.conversation.on_text(profile, text or "")
        t = self.conversation.t(profile.lang)
        told = Reply(
            t.gettext("The integration centre has been told that it is urgent."),
            direction=self.conversation.direction(profile.lang),
        )
        return replace(outcome, replies=(*outcome.replies, told))

    async def _reopen(
        self, profile: Profile, ticket: Ticket, message_id: int, now: float, *, text: str, emergency: bool
    ) -> Outcome:
        def deliveries(current: Ticket) -> list[Delivery]:
            note = self._to_staff(current, f"t{current.id}:reopened:{current.version}", "↩ Die Person hat wieder "
                                  "geschrieben; der Fall ist wieder offen.")  # fmt: skip
            return [note, self._card(current), self._topic(current, "reopen"), *self._webhook(current, "reopened", now)]

        reopened = await self.store.change(
            ticket.id, ("closed",), {"status": "open", "closed_at": None, "closed_by": None}, deliveries, now
        )
        if reopened is None:
            return Outcome(profile, ())
        relayed = await self._relay(profile, reopened, message_id, now, text=text, emergency=emergency)
        t = self.conversation.t(profile.lang)
        again = t.gettext("Your case {case} is open again. Your message was sent to {centre}.").format(
            case=reopened.case, centre=self._centre_name(reopened)
        )
        return replace(
            relayed, replies=(Reply(again, direction=self.conversation.direction(profile.lang)), *relayed.replies)
        )

    async def _draft(
        self, profile: Profile, question: str, now: float, first_name: str | None, message_id: int
    ) -> Outcome:
        lang = self.dialogue.language(profile.lang)
        centre = self.centre_for(profile.city)
        assert centre is not None
        decision = self.dialogue.decide(question, lang, profile.city)
        candidates = tuple(dict.fromkeys(([decision.topic] if decision.topic else []) + list(decision.candidates)))
        ticket = await self.store.draft(
            user_id=profile.user_id,
            centre_id=centre.id,
            chat_id=centre.chat_id,
            lang=lang,
            city=profile.city,
            question=question.strip()[:MAX_QUESTION],
            candidates=candidates[:3],
            shared_topics=profile.recent,
            source=message_id,
            now=now,
        )
        return Outcome(replace(profile, step="ready"), (self.consent_reply(ticket, centre, now, first_name),))

    def consent_reply(self, ticket: Ticket, centre: Centre, now: float, first_name: str | None = None) -> Reply:
        """Exactly what will be shared, who reads it, when they answer, and the question whether to send it."""
        t = self.conversation.t(ticket.lang)
        lang = ticket.lang
        # exactly what the staff will see (the card stores the name stripped, at most 64 characters)
        name = (first_name or "").strip()[:64] or t.gettext("your first name in Telegram")
        city = self._city_name(ticket.city, lang) or t.gettext("not given")
        lines = [
            t.gettext("This goes to {centre}:").format(centre=centre.name),
            "• " + t.gettext("First name: {name}").format(name=name),
            "• " + t.gettext("Language: {language}").format(language=self.knowledge.languages[lang].native),
            "• " + t.gettext("City: {city}").format(city=city),
            "• " + t.gettext("Your question: “{question}”").format(question=ticket.question or ""),
        ]
        if ticket.shared_topics:
            titles = ", ".join(
                self.dialogue.title(tid, lang) for tid in ticket.shared_topics if tid in self.knowledge.topics
            )
            lines.append(
                "• "
                + t.gettext("Only if you choose: the topics Lotse showed you last ({topics})").format(topics=titles)
            )
        lines += [
            t.gettext("Your phone number and your Telegram username are not shared."),
            t.gettext("The staff of {centre} read it and answer you here in this chat.").format(centre=centre.name),
            "",
            self.hours_text(centre, lang, now),
        ]
        walk_in = self.walk_in(ticket.city, lang)
        if walk_in:
            lines += ["", t.gettext("You can also go there without an appointment:"), walk_in]
        lines += ["", t.gettext("Shall I send it?")]
        rows: list[tuple[Button, ...]] = [(Button(t.gettext("✅ Yes, send it"), f"ho:yes:{ticket.id}"),)]
        if ticket.shared_topics:
            rows.append((Button(t.gettext("✅ Yes, with my last topics"), f"ho:all:{ticket.id}"),))
        rows.append((Button(t.gettext("✖ No, do not send"), f"ho:no:{ticket.id}"),))
        text = isolate_ltr("\n".join(lines), self.conversation.direction(lang))
        return Reply(
            text,
            title=t.gettext("Before I send it"),
            buttons=tuple(rows),
            direction=self.conversation.direction(lang),
            kind="consent",
        )

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

    async def consent(
        self, profile: Profile, ticket_id: int, choice: str, first_name: str | None, now: float
    ) -> Outcome:
        """The answer to the consent question: ``yes``, ``all`` (with the last topics) or ``no``."""
        t = self.conversation.t(profile.lang)
        direction = self.conversation.direction(profile.lang)
        if choice == "no":
            await self.store.discard(ticket_id, profile.user_id)
            return self.cancel(profile)

        def deliveries(ticket: Ticket) -> list[Delivery]:
            announce = Delivery(f"t{ticket.id}:announce", tg(ticket.chat_id), "announce", {}, ticket.id)
            return [announce, *self._webhook(ticket, "opened", now, with_question=True)]

        draft = await self.store.get(ticket_id)
        if draft is None or draft.user_id != profile.user_id:
            return Outcome(profile, (self._expired(profile),))
        changes: dict[str, Any] = {
            "status": "open",
            "opened_at": now,
            "first_name": (first_name or "").strip()[:64] or None,
            "shared_topics": draft.shared_topics if choice == "all" else (),
        }
        opened = await self.store.change(ticket_id, ("draft",), changes, deliveries, now)
        if opened is None:  # already sent (the same tap arrived twice), or expired
            active = await self.store.active(profile.user_id)
            reply = self._open_reply(active) if active is not None else self._expired(profile)
            return Outcome(profile, (reply,))
        more = t.gettext("Everything you write now goes to the integration centre. /end ends the conversation.")
        if await self.store.unreachable(opened.chat_id):  # the truth: received, not yet with the staff
            waiting = self.waiting_text(opened)
            return Outcome(profile, (Reply(f"{waiting}\n{more}", direction=direction, kind="sent"),))
        sent = t.gettext("Sent. Your case number is {case}. The answer comes here in this chat.").format(
            case=opened.case
        )
        return Outcome(profile, (Reply(f"{sent}\n{more}", direction=direction, kind="sent"),))

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

    async def unreachable(self, ticket_id: int, now: float) -> None:
        """The new case could not be announced because of the staff group's setup: the person learns the truth
        (once), with the walk-in addresses."""

        def deliveries(ticket: Ticket) -> list[Delivery]:
            if ticket.user_id is None or ticket.blocked:
                return []
            return [self._to_user(ticket, f"t{ticket.id}:waiting", self.waiting_text(ticket))]

        await self.store.change(ticket_id, ACTIVE, {}, deliveries, now)

    async def reached(self, ticket_id: int, now: float) -> None:
        """The case was announced after the person had been told it waits: now they learn it arrived."""
        if await self.store.delivery_ticket(f"t{ticket_id}:waiting") is None:
            return

        def deliveries(ticket: Ticket) -> list[Delivery]:
            if ticket.user_id is None or ticket.blocked:
                return []
            t = self.conversation.t(ticket.lang)
            text = t.gettext("Your question (case {case}) has now reached {centre}. The answer comes here in this "
                             "chat.").format(case=ticket.case, centre=self._centre_name(ticket))  # fmt: skip
            return [self._to_user(ticket, f"t{ticket.id}:reached", text)]

        await self.store.change(ticket_id, ACTIVE, {}, deliveries, now)

    def _expired(self, profile: Profile) -> Reply:
        t = self.conversation.t(profile.lang)
        return Reply(
            t.gettext("This request is no longer valid. Please tap “Talk to a person” again."),
            buttons=((Button(t.gettext("💬 Talk to a person"), "human"),),),
            direction=self.conversation.direction(profile.lang),
        )

    async def end(self, profile: Profile, now: float) -> Outcome:
        """/end by the person: the case is closed and the staff are told."""
        t = self.conversation.t(profile.lang)
        active = await self.store.active(profile.user_id)
        if active is None:
            reply = Reply(
                t.gettext("You have no open conversation with the integration centre."),
                direction=self.conversation.direction(profile.lang),
            )
            return Outcome(profile, (reply,))

        def deliveries(ticket: Ticket) -> list[Delivery]:
            note = self._to_staff(
                ticket, f"t{ticket.id}:end:{ticket.version}", "Die Person hat den Fall beendet (/end)."
            )
            return [note, self._card(ticket), self._topic(ticket, "close"), *self._webhook(ticket, "closed", now)]

        changes = {"status": "closed", "closed_at": now, "closed_by": "user"}
        closed = await self.store.change(active.id, ACTIVE, changes, deliveries, now)
        case = (closed or active).case
        text = t.gettext("Your case {case} is closed. You can ask me anything again.").format(case=case)
        return Outcome(profile, (Reply(text, direction=self.conversation.direction(profile.lang)),))

    async def forget(self, user_id: int, now: float) -> list[str]:
        """/delete: erase the texts of the person's tickets and the relay records; the staff are told."""

        def deliveries(ticket: Ticket, copies: Sequence[tuple[int, int]]) -> list[Delivery]:
            note = (
                f"🗑 Fall #{ticket.case}: Die Person hat ihre Daten gelöscht (/delete). Der Fall ist geschlossen; "
                "Frage, Vorname und weitergeleitete Nachrichten sind gelöscht."
            )
            return self._wipe(ticket, copies, note) + self._webhook(ticket, "deleted", now)

        return await self.store.erase(user_id, deliveries, now)

    def _wipe(self, ticket: Ticket, copies: Sequence[tuple[int, int]], note: str) -> list[Delivery]:
        """What removes a case's personal data from the staff group, and the note that says so. In a forum the
        case's topic goes with everything in it (Telegram deletes a topic at any age, single messages only for 48
        hours); elsewhere the card is rewritten and each relayed message deleted, or overwritten where Telegram no
        longer deletes it."""
        told = Delivery(f"t{ticket.id}:wiped", tg(ticket.chat_id), "message", {"text": note}, ticket.id)
        if ticket.thread_id is not None:
            topic = Delivery(f"t{ticket.id}:topic:wipe", tg(ticket.chat_id), "topic", {"state": "delete"}, ticket.id)
            return [topic, told]
        out = [self._card(ticket), told]
        for index, (chat_id, message_id) in enumerate(copies):
            payload = {"chat_id": chat_id, "message_id": message_id}
            out.append(Delivery(f"t{ticket.id}:del:{index}", tg(chat_id), "delete", payload, ticket.id))
        return out

    # -- the staff's side -------------------------------------------------------------------------------------

    async def staff_action(self, ticket_id: int, action: StaffAction, chat_id: int, staff_name: str, now: float) -> str:
        """A staff button or command on a ticket; returns a short German answer for the staff member."""
        ticket = await self.store.get(ticket_id)
        if ticket is None or ticket.chat_id != chat_id:
            return "Fall nicht gefunden."
        if ticket.purged:
            return f"Fall #{ticket.case}: die Daten sind gelöscht."
        status = transition(ticket, action)
        if status is None:
            return f"Fall #{ticket.case} ist {STATUS_DE[ticket.status]}."
        changes: dict[str, Any] = {"status": status}
        name = self._centre_name(ticket)
        t = self.conversation.t(ticket.lang)

        def deliveries(current: Ticket) -> list[Delivery]:
            out = [self._card(current)]
            key = f"t{current.id}:{action}:{current.version}"
            if action == "take" and ticket.status == "open":
                text = t.gettext("A person at {centre} is now looking at your question (case {case}).")
                out.append(self._to_user(current, key, text.format(centre=name, case=current.case)))
            elif action == "close":
                until = datetime.fromtimestamp(now + self.settings.reopen_hours * 3600, UTC)
                centre = self.centre(current)
                local = until.astimezone(ZoneInfo(centre.timezone)) if centre is not None else until
                text = t.gettext(
                    "{centre} has closed your case {case}. If you write again before {until}, your message goes to "
                    "them again. Otherwise I answer you myself."
                ).format(centre=name, case=current.case, until=when_text(local, current.lang))
                out += [self._to_user(current, key, text), self._topic(current, "close")]
            elif action == "reopen":
                out += [self._to_user(current, key, self._open_reply(current).text), self._topic(current, "reopen")]
            event = {"take": "taken", "close": "closed", "reopen": "reopened", "urgent": "urgent"}[action]
            return out + self._webhook(current, event, now)

        if action == "take":
            changes["taken_by"] = staff_name[:64]
        elif action == "urgent":
            changes["urgent"] = not ticket.urgent
        elif action == "close":
            changes.update(closed_at=now, closed_by="staff")
        else:
            changes.update(closed_at=None, closed_by=None)
        if ticket.user_id is None or ticket.blocked:
            changes.pop("taken_by", None)
        expected = (ticket.status,)
        done = await self.store.change(ticket.id, expected, changes, deliveries, now)
        if done is None:
            return "Der Fall wurde gerade von jemand anderem geändert. Bitte noch einmal."
        answers = {
            "take": f"Fall #{done.case} übernommen.",
            "close": f"Fall #{done.case} geschlossen.",
            "reopen": f"Fall #{done.case} wieder geöffnet.",
            "urgent": f"Fall #{done.case} ist {'dringend' if done.urgent else 'nicht mehr dringend'}.",
        }
        return answers[action]

    async def ticket_for(self, message: StaffMessage) -> Ticket | None:
        """The ticket a staff message belongs to: its forum topic, or the ticket message it replies to."""
        if message.thread_id is not None:
            found = await self.store.by_thread(message.chat_id, message.thread_id)
            if found is not None:
                return found
            # A topic made for a case whose id was lost with Telegram's answer: its name says which case it is.
            named = CASE_IN_TOPIC.match(message.topic_name or "")
            if named is not None:
                adopted = await self.store.adopt(message.chat_id, named.group(1), message.thread_id)
                if adopted is not None:
                    return adopted
        if message.reply_to is not None:
            return await self.store.by_message(message.chat_id, message.reply_to)
        return None

    async def staff_message(self, message: StaffMessage, now: float) -> None:
        """Staff wrote in a ticket's topic (or replied to it): relay it to the person, labelled with the centre."""
        ticket = await self.ticket_for(message)
        if ticket is None:
            return
        if message.text is not None and message.text.startswith(INTERNAL_PREFIX):
            return
        key = f"s:{message.chat_id}:{message.message_id}"
        if ticket.status == "deleted" or ticket.user_id is None:
            await self._staff_note(ticket, key, f"Fall #{ticket.case} wurde gelöscht; nichts wurde zugestellt.")
            return
        if ticket.blocked:
            await self._staff_note(ticket, key, "Die Person hat den Bot blockiert; die Nachricht kann nicht zugestellt "
                                   "werden.")  # fmt: skip
            return
        title = f"💬 {self._centre_name(ticket)}"

        def deliveries(current: Ticket) -> list[Delivery]:
            assert current.user_id is not None
            if message.media is not None:
                payload = {"media": message.media, "file_id": message.file_id, "caption": message.text, "label": title}
                out = [Delivery(key, tg(current.user_id), "media", payload, current.id)]
            else:
                out = [self._to_user(current, key, message.text or "", title)]
            if ticket.status == "open":
                out.append(self._card(current))
            return out

        changes: dict[str, Any] = {}
        if ticket.first_reply_at is None:
            changes["first_reply_at"] = now
        if ticket.status == "open":
            changes.update(status="taken", taken_by=message.staff_name[:64])
        await self.store.change(ticket.id, None, changes, deliveries, now)

    async def staff_edit(self, chat_id: int, message_id: int, text: str, edit_date: float) -> None:
        """Staff edited a relayed message: the person's copy changes too."""
        key = f"s:{chat_id}:{message_id}"
        ticket_id = await self.store.delivery_ticket(key)
        ticket = await self.store.get(ticket_id) if ticket_id is not None else None
        if ticket is None or ticket.user_id is None:
            return
        payload = {"of": key, "text": text, "label": f"💬 {self._centre_name(ticket)}"}
        await self.store.enqueue([Delivery(f"{key}:e{int(edit_date)}", tg(ticket.user_id), "edit", payload, ticket.id)])

    async def send_topic(self, message: StaffMessage, topic_query: str, now: float) -> None:
        """/send <topic>: the knowledge answer in the person's language, labelled with the centre."""
        ticket = await self.ticket_for(message)
        key = f"s:{message.chat_id}:{message.message_id}"
        if ticket is None:
            await self._note_in_chat(message, key, "/send funktioniert im Thema eines Falls oder als Antwort auf "
                                     "die Fall-Nachricht.")  # fmt: skip
            return
        topic_id = self._find_topic(topic_query)
        if topic_id is None:
            ids = ", ".join(sorted(self.knowledge.topics))
            await self._staff_note(ticket, key, f"Unbekanntes Thema „{topic_query}“. Themen: {ids}")
            return
        if ticket.user_id is None or ticket.status == "deleted" or ticket.blocked:
            await self._staff_note(ticket, key, f"Fall #{ticket.case}: keine Zustellung möglich.")
            return
        rendered = self.dialogue.render(topic_id, ticket.lang, ticket.city)
        text = f"{rendered.title}\n\n{rendered.text}"
        title = f"💬 {self._centre_name(ticket)}"
        german = self.dialogue.title(topic_id, STAFF_LANG)
        native = self.knowledge.languages[rendered.lang].native

        def deliveries(current: Ticket) -> list[Delivery]:
            note = self._to_staff(current, f"{key}:ok", f"✔ Gesendet: „{german}“ auf {native}.")
            return [self._to_user(current, key, text, title), note]

        changes: dict[str, Any] = {"first_reply_at": now} if ticket.first_reply_at is None else {}
        await self.store.change(ticket.id, None, changes, deliveries, now)

    async def send_translated(self, message: StaffMessage, text: str, now: float) -> None:
        """/tr <German text>: translated into the person's language (when a translation service is configured)."""
        ticket = await self.ticket_for(message)
        key = f"s:{message.chat_id}:{message.message_id}"
        if ticket is None or ticket.user_id is None or ticket.blocked or ticket.status == "deleted":
            await self._note_in_chat(message, key, "/tr funktioniert im Thema eines offenen Falls.")
            return
        if not self.translation:
            await self._staff_note(ticket, key, "Keine Übersetzung eingerichtet (LOTSE_TRANSLATE_URL).")
            return
        title = f"💬 {self._centre_name(ticket)}"

        def deliveries(current: Ticket) -> list[Delivery]:
            delivery = self._to_user(current, key, text, title)
            return [replace(delivery, payload={**delivery.payload, "translate": [STAFF_LANG, current.lang]})]

        await self.store.change(ticket.id, None, {}, deliveries, now)

    def _find_topic(self, query: str) -> str | None:
        """A topic id, or what the matcher finds for the words staff typed ("jobcenter", "Arzt", "Deutschkurs")."""
        query = query.strip()
        if query.lower() in self.knowledge.topics:
            return query.lower()
        decision = self.dialogue.decide(query, STAFF_LANG) if query else None
        return decision.topic if decision is not None and decision.kind == "answer" else None

    async def _staff_note(self, ticket: Ticket, key: str, text: str) -> None:
        await self.store.enqueue([self._to_staff(ticket, f"{key}:note", text)])

    async def _note_in_chat(self, message: StaffMessage, key: str, text: str) -> None:
        payload: dict[str, Any] = {"text": text, "thread_id": message.thread_id, "reply_to": message.message_id}
        await self.store.enqueue([Delivery(f"{key}:note", tg(message.chat_id), "message", payload)])

    async def list_tickets(self, message: StaffMessage, now: float) -> None:
        """/tickets: the open cases of this group, waiting longest first."""
        tickets = await self.store.active_in(message.chat_id)
        if not tickets:
            text = "Keine offenen Fälle. 🎉"
        else:
            lines = [f"Offene Fälle ({len(tickets)}), am längsten wartend zuerst:"]
            for ticket in tickets[:50]:
                waiting = _duration(now - (ticket.opened_at or ticket.created_at))
                flag = "🚨 " if ticket.urgent else ""
                city = self._city_name(ticket.city, STAFF_LANG) or "–"
                who = f", {ticket.taken_by}" if ticket.taken_by else ""
                lines.append(f"{flag}#{ticket.case} · {ticket.lang} · {city} · {STATUS_DE[ticket.status]}{who} · "
                             f"wartet seit {waiting}")  # fmt: skip
            text = "\n".join(lines)
        await self._note_in_chat(message, f"s:{message.chat_id}:{message.message_id}", text)

    async def stats(self, message: StaffMessage, now: float, days: int = 30) -> None:
        """/stats: cases of this group in the last 30 days."""
        figures = await self.store.stats(message.chat_id, now - days * 86400)
        lines = [f"Fälle der letzten {days} Tage: {figures.get('total', 0)}"]
        for status in ("open", "taken", "closed", "deleted"):
            lines.append(f"• {STATUS_DE[status]}: {figures.get(status, 0)}")
        lines.append(f"• dringend: {figures.get('urgent', 0)}, Bot blockiert: {figures.get('blocked', 0)}")
        median = figures.get("median_first_reply")
        if median is not None:
            lines.append(f"Erste Antwort im Median nach {_duration(float(median))}")
        langs = figures.get("languages") or {}
        if langs:
            lines.append("Sprachen: " + ", ".join(f"{code} {count}" for code, count in langs.items()))
        await self._note_in_chat(message, f"s:{message.chat_id}:{message.message_id}", "\n".join(lines))

    def card(self, ticket: Ticket) -> Reply:
        """The ticket message in the staff group (German), with the buttons for the staff."""
        lang = self.knowledge.languages.get(ticket.lang)
        lines = [f"Status: {STATUS_DE[ticket.status]}" + (f" ({ticket.taken_by})" if ticket.taken_by else "")]
        if ticket.urgent:
            lines.insert(0, "🚨 DRINGEND")
        if ticket.blocked:
            lines.append("⛔ Die Person hat den Bot blockiert.")
        if ticket.status == "deleted":
            lines.append("Die Person hat ihre Daten gelöscht.")
        elif ticket.purged:
            lines.append("Frage und Vorname sind gelöscht (Aufbewahrungsfrist).")
        else:
            lines += [
                f"Vorname: {ticket.first_name or '–'}",
                f"Sprache: {lang.native if lang else ticket.lang} ({ticket.lang})",
                f"Stadt: {self._city_name(ticket.city, STAFF_LANG) or 'nicht angegeben'}",
                "",
                f"Frage:\n{ticket.question or '–'}",
            ]
            if ticket.candidates:
                titles = ", ".join(f"{self.dialogue.title(c, STAFF_LANG)} ({c})" for c in ticket.candidates
                                   if c in self.knowledge.topics)  # fmt: skip
                lines.append(f"\nPassende Themen: {titles}")
            if ticket.shared_topics:
                shown = ", ".join(self.dialogue.title(c, STAFF_LANG) for c in ticket.shared_topics
                                  if c in self.knowledge.topics)  # fmt: skip
                lines.append(f"Zuletzt von Lotse gezeigt: {shown}")
            where = "in diesem Thema" if ticket.thread_id is not None else "als Antwort auf diese Nachricht"
            lines.append(
                f"\nAntworten: {where} schreiben. /send <thema> schickt eine Antwort aus der Wissensbasis in der "
                f"Sprache der Person. Nachrichten mit {INTERNAL_PREFIX} am Anfang bleiben intern."
            )
        buttons: tuple[tuple[Button, ...], ...] = ()
        if ticket.status in ACTIVE:
            buttons = (
                (
                    Button("✋ Übernehmen", f"tk:take:{ticket.id}"),
                    Button("🚨 Dringend", f"tk:urgent:{ticket.id}"),
                    Button("✅ Schließen", f"tk:close:{ticket.id}"),
                ),
            )
        elif ticket.status == "closed" and not ticket.purged:
            buttons = ((Button("↩ Wieder öffnen", f"tk:reopen:{ticket.id}"),),)
        return Reply("\n".join(lines), title=f"Fall #{ticket.case}", buttons=buttons, kind="card")

    def topic_name(self, ticket: Ticket) -> str:
        """The forum topic's name: case number, language and city (no name of the person)."""
        city = self._city_name(ticket.city, STAFF_LANG) or "–"
        return f"#{ticket.case} · {ticket.lang} · {city}"[:128]

    async def blocked(self, ticket_id: int, now: float) -> None:
        """Telegram said the person blocked the bot: mark the ticket and tell the staff."""

        def deliveries(ticket: Ticket) -> list[Delivery]:
            note = "⛔ Die Person hat den Bot blockiert. Nachrichten können nicht mehr zugestellt werden."
            return [self._to_staff(ticket, f"t{ticket.id}:blocked", note), self._card(ticket)]

        await self.store.change(ticket_id, None, {"blocked": True}, deliveries, now)

    async def purge(self, now: float) -> dict[str, int]:
        """Retention: the personal data of cases closed longer than ``retention_days`` ago, and of cases still open
        that were opened longer ago (they are closed; the person and the staff are told), are erased, in the
        database and in the staff group; unconfirmed requests go after ``draft_hours``. Driven by timestamps in
        the database, so a restart only delays it."""
        closed_before, drafts_before = retention_cutoffs(self.settings, now)
        days = self.settings.retention_days

        def deliveries(ticket: Ticket, copies: Sequence[tuple[int, int]]) -> list[Delivery]:
            out: list[Delivery] = []
            if ticket.status in ACTIVE:
                note = (f"🗑 Fall #{ticket.case} war länger als {days} Tage offen und ist jetzt geschlossen. Frage, "
                        "Vorname und weitergeleitete Nachrichten sind gelöscht (Aufbewahrungsfrist).")  # fmt: skip
                if ticket.user_id is not None and not ticket.blocked:
                    t = self.conversation.t(ticket.lang)
                    text = t.gettext(
                        "Your case {case} was open for more than {days} days. It is now closed and its data are "
                        "deleted. If you still need help, write /human."
                    ).format(case=ticket.case, days=days)
                    out.append(self._to_user(ticket, f"t{ticket.id}:expired", text))
            else:
                note = (f"🗑 Fall #{ticket.case}: Frage, Vorname und weitergeleitete Nachrichten sind nach {days} "
                        "Tagen gelöscht (Aufbewahrungsfrist).")  # fmt: skip
            return out + self._wipe(ticket, copies, note)

        return await self.store.purge(closed_before, drafts_before, now, deliveries)


def _duration(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} Tagen"


def case_number(random_index: Callable[[int], int]) -> str:
    """A short pseudonymous case number like ``K7F3Q`` (``random_index(n)`` returns 0..n-1)."""
    return "K" + "".join(CASE_ALPHABET[random_index(len(CASE_ALPHABET))] for _ in range(4))


def retention_cutoffs(settings: HandoffSettings, now: float) -> tuple[float, float]:
    """(closed before, drafts before): closed tickets' texts and unconfirmed requests older than these are purged."""
    return now - settings.retention_days * 86400, now - settings.draft_hours * 3600
