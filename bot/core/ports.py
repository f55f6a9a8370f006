"""Interfaces the core needs from storage (implemented in :mod:`bot.storage`, faked in tests)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

from bot.core.gaps import Gap
from bot.core.handoff.model import Delivery, NewTicket, OutboxItem, Status, Ticket
from bot.core.replies import Profile


class ProfileStore(Protocol):
    """Per-person state; the only place it lives, so that several bot processes can serve one bot."""

    async def get(self, user_id: int) -> Profile | None: ...

    async def save(self, profile: Profile, before: Profile | None = None, end: TurnEnd | None = None) -> None:
        """Store ``profile``. With ``before`` (the profile as it was read), only the fields that differ from it are
        written, so that two updates of one person handled at once (two instances, or a tap racing a question)
        never undo each other's change. With ``end``, the same transaction ends that turn (see
        :meth:`FloodGate.release`): a message's answer costs one write, after its replies went out."""
        ...

    async def delete(self, user_id: int) -> None: ...


def changed_fields(profile: Profile, before: Profile | None) -> dict[str, object]:
    """The profile's fields that differ from ``before`` (all of them without ``before``), by name."""
    names = ("lang", "city", "step", "recent", "place")
    return {n: getattr(profile, n) for n in names if before is None or getattr(profile, n) != getattr(before, n)}


class StoreUnavailableError(Exception):
    """The database cannot be reached right now (down, restarting, network): the work can be done again later."""


Admission = Literal["ok", "warn", "drop", "busy", "done"]


@dataclass(frozen=True, slots=True)
class Turn:
    """A person's turn: of several instances, one at a time processes a person's updates. ``holder`` names the
    instance and the update; a holder that died loses the turn after ``lease`` seconds. ``update_id``: "done" when
    that update of the person was processed to the end before (Telegram sent it again)."""

    holder: str
    lease: float
    update_id: int | None = None


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The end of a person's turn: its holder, and the update processed to the end (None: it comes again)."""

    holder: str
    done: int | None = None


def processed(turn: Turn, done_update: int | None) -> bool:
    """Whether the turn's update was processed to the end before (Telegram's update ids only grow)."""
    return turn.update_id is not None and done_update is not None and turn.update_id <= done_update


def turn_free(busy_until: float, busy_by: str | None, now: float, turn: Turn) -> bool:
    """Whether ``turn`` may be taken: nobody holds the person's turn, it expired, or it is the same holder's."""
    return busy_by is None or busy_by == turn.holder or busy_until <= now


def spend(
    tokens: float, updated: float, warned: bool, now: float, *, burst: float, per_second: float
) -> tuple[Admission, float, bool]:
    """The flood gate's rule, for every store that keeps the bucket: refill ``per_second`` since ``updated`` up to
    ``burst``, spend one token per message; without one, "warn" once and then "drop". Returns (verdict, tokens,
    warned) to store."""
    tokens = min(burst, tokens + max(0.0, now - updated) * per_second)
    if tokens >= 1.0:
        return "ok", tokens - 1.0, False
    return ("drop" if warned else "warn"), tokens, True


class Admitted(NamedTuple):
    """What the flood gate found: its verdict, the stored profile, and whether the person may have a case (an open
    or draft one, or one staff closed since ``cases_since``); None when not asked or not known."""

    verdict: Admission
    profile: Profile | None
    case: bool | None = None
    sent: int = 0  # replies of the turn's update that went out before (its processing was cut off mid-way)


class FloodGate(Protocol):
    """Per-person message budget (a token bucket in the database): "ok", once "warn" when it runs out, then "drop".

    ``admit`` also returns the stored profile, so that one database round trip serves both. With a ``turn`` it also
    takes the person's turn (:class:`Turn`): "busy", with nothing spent, while another holder's turn lasts, and
    "done" for an update :meth:`release` recorded as processed.
    """

    async def admit(
        self, user_id: int, now: float, turn: Turn | None = None, cases_since: float | None = None
    ) -> Admitted: ...

    async def release(self, user_id: int, holder: str, done: int | None = None) -> None:
        """End ``holder``'s turn (nothing happens when another holds it now), recording update ``done`` as
        processed."""
        ...

    async def progress(self, user_id: int, holder: str, update_id: int, sent: int) -> None:
        """Record that ``sent`` replies of update ``update_id`` went out (while ``holder`` holds the turn); if the
        update is processed again (``admit`` with a turn for it), ``Admitted.sent`` says how many to leave out."""
        ...


class GapLog(Protocol):
    """The volunteers' worklist (:mod:`bot.core.gaps`): questions Lotse could not answer well, without who asked."""

    async def record(self, gap: Gap) -> None: ...

    async def resolve(self, token: str) -> None:
        """Erase the clarify gap with ``token``: the person chose one of its topics after all."""
        ...

    async def since(self, day: float, city: str | None = None) -> list[Gap]:
        """The gaps of ``day`` and later (of ``city`` only, when given), oldest first."""
        ...

    async def drop_older(self, day: float) -> int:
        """Erase the gaps of the days before ``day`` (retention); how many."""
        ...


class JobTurns(Protocol):
    """Periodic jobs (retention) when several instances serve one bot: one of them runs a job per period."""

    async def take_turn(self, job: str, now: float, every: float) -> bool:
        """True for the one caller that finds ``job`` last run ``every`` seconds ago or longer (and records now)."""
        ...


class Instances(Protocol):
    """The running bot processes: they share Telegram's overall rate between them."""

    async def heartbeat(self, instance: str, now: float, stale: float) -> int:
        """Record that ``instance`` runs; forget those not seen for ``stale`` seconds; how many run now."""
        ...

    async def leave(self, instance: str) -> None: ...


class FeedbackStore(Protocol):
    """Anonymous 👍/👎 counts per topic and language."""

    async def record(self, topic: str, lang: str, helpful: bool) -> None: ...

    async def counts(self) -> dict[tuple[str, str], tuple[int, int]]: ...


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An update Lotse could not process, kept for inspection: its id, its kind and the error, never its content."""

    update_id: int
    kinds: str
    error: str
    tries: int
    at: float


@dataclass(frozen=True, slots=True)
class Vitals:
    """What an operator watches (``/healthz``, ``/metrics``): counts only, nothing about a person."""

    open_cases: int
    outbox_pending: int  # deliveries not yet made
    outbox_overdue: int  # of those, due for more than a minute (a stuck or slow worker)
    outbox_failed: int  # given up, until retention removes them


class VitalSigns(Protocol):
    async def vitals(self, now: float) -> Vitals:
        """The counts above, in one short read; raises :class:`StoreUnavailableError` when the database is away."""
        ...


class UpdateQuarantine(Protocol):
    """Updates that were skipped (unreadable, or failing again and again), kept until the retention period ends."""

    async def quarantine(self, entry: Quarantined) -> None: ...

    async def quarantined(self, limit: int = 50) -> list[Quarantined]: ...

    async def drop_quarantined(self, before: float) -> int: ...


# What a change stores to send, made from the ticket as changed; what erasing stores, from the ticket as it was and
# the (chat, message) copies relayed for it.
Expected = Sequence[Status] | None  # the statuses a change applies to (None: any)
Deliveries = Callable[[Ticket], Sequence[Delivery]]
WipeDeliveries = Callable[[Ticket, Sequence[tuple[int, int]]], Sequence[Delivery]]


def place_changes(
    *,
    thread_id: int | None = None,
    card_message_id: int | None = None,
    clear_thread: bool = False,
    topic_tried: bool | None = None,
    card_version: int | None = None,
    card_tried: bool | None = None,
) -> dict[str, Any]:
    """What :meth:`TicketStore.set_place` changes on a ticket, as :class:`Ticket` fields (the intents as booleans;
    a store that keeps them as times converts them)."""
    values: dict[str, Any] = {}
    if card_tried is not None:
        values["card_tried"] = card_tried
    if card_version is not None:
        values["card_version"] = card_version
    if thread_id is not None or clear_thread:
        values["thread_id"] = thread_id
    if clear_thread:
        values["topic_tried"] = False
    if topic_tried is not None:
        values["topic_tried"] = topic_tried
    if card_message_id is not None:
        values["card_message_id"] = card_message_id
    return values


def case_figures(rows: Iterable[Any]) -> dict[str, Any]:
    """The figures of /stats from a group's cases (anything with status, urgent, blocked, lang, opened_at and
    first_reply_at): total, per status, urgent, blocked, languages by count, median wait for the first reply."""
    out: dict[str, Any] = {"total": 0, "urgent": 0, "blocked": 0}
    langs: dict[str, int] = {}
    waits = []
    for row in rows:
        out["total"] += 1
        out[row.status] = out.get(row.status, 0) + 1
        out["urgent"] += int(bool(row.urgent))
        out["blocked"] += int(bool(row.blocked))
        langs[row.lang] = langs.get(row.lang, 0) + 1
        if row.first_reply_at is not None and row.opened_at is not None:
            waits.append(row.first_reply_at - row.opened_at)
    out["languages"] = dict(sorted(langs.items(), key=lambda kv: -kv[1]))
    out["median_first_reply"] = statistics.median(waits) if waits else None
    return out


class TicketStore(Protocol):
    """Handoff tickets and their outbox. Every ``change`` stores the ticket and its deliveries in one transaction."""

    async def draft(self, new: NewTicket, now: float) -> Ticket:
        """A new unconfirmed request with a fresh case number (the person's earlier drafts are dropped).

        ``new.source`` is the id of the person's message with the question: the same message processed again (after a
        crash) returns the same draft instead of a new one.
        """
        ...

    async def get(self, ticket_id: int) -> Ticket | None: ...

    async def active(self, user_id: int) -> Ticket | None:
        """The person's open or taken ticket."""
        ...

    async def reopenable(self, user_id: int, closed_since: float) -> Ticket | None:
        """The person's latest ticket closed by staff at or after ``closed_since``."""
        ...

    async def situation(
        self, user_id: int, message_id: int, closed_since: float
    ) -> tuple[Ticket | None, Ticket | None, Ticket | None]:
        """In one query: the person's active ticket, the one ``reopenable`` returns, and the draft made from
        ``message_id`` (when that message is processed again after a crash)."""
        ...

    async def by_thread(self, chat_id: int, thread_id: int) -> Ticket | None: ...

    async def adopt(self, chat_id: int, case: str, thread_id: int) -> Ticket | None:
        """Give the case ``case`` of ``chat_id``, when it has no forum topic stored, the topic ``thread_id`` (a topic
        made for it whose id was lost with Telegram's answer); the ticket, or None."""
        ...

    async def by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """The ticket whose card, or a relayed copy of whose messages, is ``message_id`` in ``chat_id``."""
        ...

    async def delivery_ticket(self, key: str) -> int | None:
        """The ticket of the delivery with ``key`` (used to relay edits)."""
        ...

    async def change(
        self, ticket_id: int, expect: Expected, changes: Mapping[str, Any], deliveries: Deliveries, now: float
    ) -> Ticket | None:
        """Apply ``changes`` if the ticket's status is in ``expect`` (any when None) and store its deliveries.

        Returns the changed ticket, or None when the ticket does not exist or is in another status.
        """
        ...

    async def enqueue(self, deliveries: Sequence[Delivery]) -> int:
        """Store deliveries, skipping keys already stored; returns how many were new."""
        ...

    async def unreachable(self, chat_id: int) -> bool:
        """Whether deliveries to this staff group wait for an administrator's fix (rights, membership, the id):
        computed from the outbox, never stored."""
        ...

    async def discard(self, ticket_id: int, user_id: int) -> None:
        """Delete an unconfirmed request."""
        ...

    async def erase(self, user_id: int, deliveries: WipeDeliveries, now: float) -> list[str]:
        """Erase the texts of the person's tickets and their relay records; returns the case numbers."""
        ...

    async def active_in(self, chat_id: int) -> list[Ticket]:
        """Open and taken tickets of a staff group, waiting longest first."""
        ...

    async def stats(self, chat_id: int, since: float) -> dict[str, Any]: ...

    async def purge(
        self, closed_before: float, drafts_before: float, now: float, deliveries: WipeDeliveries = ...
    ) -> dict[str, int]:
        """Retention: erase texts and relay records of tickets closed before ``closed_before``; close and erase
        tickets still open that were opened before it; store ``deliveries(ticket as it was, relayed copies)`` for
        each; delete unconfirmed requests older than ``drafts_before`` and delivered outbox rows without a ticket."""
        ...


class Outbox(Protocol):
    """The worker's view of the outbox."""

    async def claim(self, now: float, lease: float, limit: int) -> list[OutboxItem]:
        """For each destination its oldest undelivered item, if due and not leased by another worker."""
        ...

    async def delivered(self, item_id: int, chat_id: int | None, message_id: int | None, now: float) -> None:
        """Mark an item sent (its text is dropped; the message id pair is kept for edits)."""
        ...

    async def retry(self, item_id: int, at: float, error: str) -> None: ...

    async def postpone(self, item_id: int, at: float) -> None:
        """Try again at ``at`` without counting a failed attempt (the group's message budget is used up)."""
        ...

    async def give_up(self, item_id: int, error: str, now: float) -> None: ...

    async def sent_since(self, dest: str, since: float) -> list[float]:
        """Times at which messages were sent to ``dest`` since ``since`` (for the 20-per-minute group limit)."""
        ...

    async def copy_of(self, key: str) -> tuple[int, int] | None:
        """(chat id, message id) of what the delivery ``key`` produced."""
        ...

    async def set_place(self, ticket_id: int, *, thread_id: int | None = None, card_message_id: int | None = None,
                        clear_thread: bool = False, topic_tried: bool | None = None,
                        card_version: int | None = None, card_tried: bool | None = None) -> None:  # fmt: skip
        """Remember the ticket's forum topic, its card message and the version the card shows, and whether a topic
        was asked for or a card sent (the intent, stored before the call whose answer may be lost)."""
        ...
