"""Database tables (SQLModel). Changes need an Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Text, text
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


class UserRow(SQLModel, table=True):
    """One person: language, city, onboarding step, last topic, message budget. No name, no phone number."""

    __tablename__ = "users"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    lang: str | None = Field(default=None, max_length=8)
    city: str | None = Field(default=None, max_length=64)
    place: str | None = Field(default=None, max_length=64)  # the municipality (an id of municipalities.yaml)
    step: str = Field(default="language", max_length=16)
    recent: str = Field(default="", max_length=200)  # ids of the last topics shown, comma-separated
    rate_tokens: float = Field(default=0.0)
    rate_updated: float = Field(default=0.0)
    rate_warned: bool = Field(default=False)
    busy_until: float = Field(default=0.0)  # whose turn it is: one instance at a time processes a person's updates
    busy_by: str | None = Field(default=None, max_length=40)
    # The newest of the person's updates processed to the end: one Telegram sends again is not processed twice.
    done_update: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # How many replies of update ``sent_update`` went out: processed again (its instance died), it sends the rest.
    sent_update: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sent_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class FeedbackRow(SQLModel, table=True):
    """Anonymous helpfulness counts per topic and language."""

    __tablename__ = "topic_feedback"

    topic: str = Field(primary_key=True, max_length=64)
    lang: str = Field(primary_key=True, max_length=8)
    up: int = Field(default=0)
    down: int = Field(default=0)


class TicketRow(SQLModel, table=True):
    """A handoff request. ``question`` and ``first_name`` are erased by /delete and after the retention period."""

    __tablename__ = "tickets"
    __table_args__ = (
        # At most one open or taken ticket per person, whatever several bot processes do at the same time.
        Index(
            "ix_tickets_one_active",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('open', 'taken')"),
            postgresql_where=text("status IN ('open', 'taken')"),
        ),
        Index("ix_tickets_thread", "chat_id", "thread_id"),
        Index("ix_tickets_user_status", "user_id", "status"),
        {"sqlite_autoincrement": True},  # ids are never reused: an old button can never point at a new ticket
    )

    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(max_length=8, unique=True)
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    centre_id: str = Field(max_length=64)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    lang: str = Field(max_length=8)
    city: str | None = Field(default=None, max_length=64)
    place: str | None = Field(default=None, max_length=64)  # the municipality, shown to the staff
    status: str = Field(default="draft", max_length=16)
    version: int = Field(default=0)
    urgent: bool = Field(default=False)
    blocked: bool = Field(default=False)
    question: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    first_name: str | None = Field(default=None, max_length=64)
    candidates: str = Field(default="", max_length=200)
    shared_topics: str = Field(default="", max_length=200)
    thread_id: int | None = Field(default=None)
    # A forum topic was asked for at this time; until its id is stored, no second one is made (Telegram's answer
    # may have been lost after the topic was created).
    topic_tried_at: float | None = Field(default=None)
    card_message_id: int | None = Field(default=None)
    card_version: int | None = Field(default=None)  # the version the card in the staff group shows
    card_tried_at: float | None = Field(default=None)  # the card was sent; Telegram's answer may have been lost
    taken_by: str | None = Field(default=None, max_length=64)
    closed_by: str | None = Field(default=None, max_length=8)
    created_at: float = Field(default=0.0)
    opened_at: float | None = Field(default=None)
    first_reply_at: float | None = Field(default=None)
    closed_at: float | None = Field(default=None)
    purged_at: float | None = Field(default=None)
    source_msg: int | None = Field(default=None)  # the person's message with the question (drafts are idempotent)


class OutboxRow(SQLModel, table=True):
    """Something to send; delivered in (``priority``, ``id``) order per destination by the outbox worker, retried
    with backoff.

    After delivery the payload (which may hold message text) is dropped; (``dst_chat``, ``dst_msg``) is kept so that
    edits can be relayed, until the ticket is erased or purged.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "dest", "priority", "id"),
        Index("ix_outbox_sent", "dest", "sent_at"),
        Index("ix_outbox_copy", "dst_chat", "dst_msg"),
        Index("ix_outbox_ticket", "ticket_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    dest: str = Field(max_length=80)
    kind: str = Field(max_length=16)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    ticket_id: int | None = Field(default=None)
    status: str = Field(default="pending", max_length=8)  # pending | sent | failed
    attempts: int = Field(default=0)
    next_at: float = Field(default=0.0)
    lease_until: float = Field(default=0.0)
    error: str | None = Field(default=None, max_length=200)
    created_at: float = Field(default=0.0)
    sent_at: float | None = Field(default=None)
    dst_chat: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    dst_msg: int | None = Field(default=None)
    weight: int = Field(default=1)  # how many messages this counts for in Telegram's per-group limit
    priority: int = Field(default=1)  # 0 goes first within its destination (new cases, emergency notices)


class QuarantineRow(SQLModel, table=True):
    """An update that could not be processed: its id, kind and error for an operator; never its content."""

    __tablename__ = "update_quarantine"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kinds: str = Field(default="", max_length=100)
    error: str = Field(default="", max_length=100)
    tries: int = Field(default=0)
    at: float = Field(default=0.0)


class InstanceRow(SQLModel, table=True):
    """A running bot process and when it last said so: the instances share Telegram's overall rate between them."""

    __tablename__ = "instances"

    id: str = Field(primary_key=True, max_length=40)
    seen_at: float = Field(default=0.0)


class JobRow(SQLModel, table=True):
    """When a periodic job (retention) last ran, so that of several instances only one runs it per period."""

    __tablename__ = "job_runs"

    name: str = Field(primary_key=True, max_length=50)
    last_run: float = Field(default=0.0)


class GapRow(SQLModel, table=True):
    """A question Lotse could not answer well (bot/core/gaps.py): no user id, no chat, the day only."""

    __tablename__ = "gaps"

    id: int | None = Field(default=None, primary_key=True)
    day: float = Field(index=True)  # the start of the day (UTC)
    kind: str = Field(max_length=16)
    lang: str = Field(max_length=8)
    city: str | None = Field(default=None, max_length=64)
    text: str = Field(default="", max_length=500)
    topic: str | None = Field(default=None, max_length=64)
    candidates: str = Field(default="[]", max_length=400)  # JSON: [[target, score], ...], best first
    token: str | None = Field(default=None, max_length=16, index=True)  # a clarify's: its choice erases it
