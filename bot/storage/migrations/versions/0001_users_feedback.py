"""users and topic_feedback

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("rate_tokens", sa.Float(), nullable=False),
        sa.Column("rate_updated", sa.Float(), nullable=False),
        sa.Column("rate_warned", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "topic_feedback",
        sa.Column("topic", sa.String(length=64), primary_key=True),
        sa.Column("lang", sa.String(length=8), primary_key=True),
        sa.Column("up", sa.Integer(), nullable=False),
        sa.Column("down", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("topic_feedback")
    op.drop_table("users")
