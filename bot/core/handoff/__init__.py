"""Handoff to the integration centre: consent, tickets, relay both ways, lifecycle and privacy.

Pure decisions over the :class:`~bot.core.ports.TicketStore` port. Every change of a ticket and everything it must
send (to the person, to the staff group, to a centre's webhook) are stored in one transaction as
:class:`Delivery` rows of an outbox; a worker at the edge sends them. So a crash never loses a ticket or a message,
and an update that arrives twice never makes a second ticket or a second message (deliveries have unique keys).

Texts for the person are translated (Babel); texts for the staff are German: the staff of the integration centres
in North Rhine-Westphalia work in German.
"""

from __future__ import annotations

from bot.core.handoff.model import (
    ACTIVE,
    CASE_ALPHABET,
    CASE_IN_TOPIC,
    INTERNAL_PREFIX,
    MAX_QUESTION,
    RELAYED_MEDIA,
    STAFF_LANG,
    STATUS_DE,
    Delivery,
    DeliveryKind,
    HandoffSettings,
    NewTicket,
    OutboxItem,
    RelayMedia,
    StaffAction,
    StaffMessage,
    Status,
    Ticket,
    case_number,
    next_retry,
    priority,
    retention_cutoffs,
    tg,
    transition,
    weight,
)
from bot.core.handoff.person import PersonSide
from bot.core.handoff.privacy import Privacy
from bot.core.handoff.staff import StaffSide
from bot.core.handoff.texts import office_hours_text, when_text


class Handoff(PersonSide, StaffSide, Privacy):
    """The way from a person to the staff of their integration centre and back."""


__all__ = [
    "ACTIVE",
    "CASE_ALPHABET",
    "CASE_IN_TOPIC",
    "INTERNAL_PREFIX",
    "MAX_QUESTION",
    "RELAYED_MEDIA",
    "STAFF_LANG",
    "STATUS_DE",
    "Delivery",
    "DeliveryKind",
    "Handoff",
    "HandoffSettings",
    "NewTicket",
    "OutboxItem",
    "RelayMedia",
    "StaffAction",
    "StaffMessage",
    "Status",
    "Ticket",
    "case_number",
    "next_retry",
    "office_hours_text",
    "priority",
    "retention_cutoffs",
    "tg",
    "transition",
    "weight",
    "when_text",
]
