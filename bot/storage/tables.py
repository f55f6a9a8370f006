"""Database tables (SQLModel). Changes need an Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class UserRow(SQLModel, table=True):
    """One person: language, city, onboarding step, last topic, message budget. No name, no phone number."""

    __tablename__ = "users"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    lang: str | None = Field(default=None, max_length=8)
    city: str | None = Field(default=None, max_length=64)
    step: str = Field(default="language", max_length=16)
    rate_tokens: float = Field(default=0.0)
    rate_updated: float = Field(default=0.0)
    rate_warned: bool = Field(default=False)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class FeedbackRow(SQLModel, table=True):
    """Anonymous helpfulness counts per topic and language."""

    __tablename__ = "topic_feedback"

    topic: str = Field(primary_key=True, max_length=64)
    lang: str = Field(primary_key=True, max_length=8)
    up: int = Field(default=0)
    down: int = Field(default=0)
