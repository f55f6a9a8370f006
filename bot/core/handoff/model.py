"""The handoff's data: tickets, outbox deliveries, settings, and the small rules about them (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Status = Literal["draft", "open", "taken", "closed", "deleted"]
ACTIVE: tuple[Status, ...] = ("open", "taken")
StaffAction = Literal["take", "urgent", "close", "reopen"]
RelayMedia = Literal["photo", "document", "voice"]
RELAYED_MEDIA: tuple[str, ...] = get_args(RelayMedia)
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
    place: str | None = None  # the municipality the person lives in (city: the file of its contacts)
    created_at: float = 0.0
    opened_at: float | None = None
    first_reply_at: float | None = None
    closed_at: float | None = None
    source: int | None = None  # the id of the person's message with the question
    purged: bool = False  # its personal data were erased (/delete or retention)
    topic_tried: bool = False  # a forum topic was asked for; its id may have been lost
    card_version: int | None = None  # the version the card in the staff group shows
    card_tried: bool = False  # the card was sent; its message id may have been lost


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTicket:
    """What a new request holds before the person confirms it (see :meth:`~bot.core.ports.TicketStore.draft`)."""

    user_id: int
    centre_id: str
    chat_id: int
    lang: str
    city: str | None
    question: str
    candidates: tuple[str, ...]
    shared_topics: tuple[str, ...]
    source: int  # the id of the person's message with the question
    place: str | None = None  # the municipality the person lives in


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


def case_number(random_index: Callable[[int], int]) -> str:
    """A short pseudonymous case number like ``K7F3Q`` (``random_index(n)`` returns 0..n-1)."""
    return "K" + "".join(CASE_ALPHABET[random_index(len(CASE_ALPHABET))] for _ in range(4))


def retention_cutoffs(settings: HandoffSettings, now: float) -> tuple[float, float]:
    """(closed before, drafts before): closed tickets' texts and unconfirmed requests older than these are purged."""
    return now - settings.retention_days * 86400, now - settings.draft_hours * 3600
