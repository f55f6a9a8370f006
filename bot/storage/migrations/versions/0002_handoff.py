"""handoff: tickets, outbox, users.recent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status IN ('open', 'taken')")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("recent", sa.String(length=200), nullable=False, server_default=""))
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_no", sa.String(length=8), nullable=False, unique=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("centre_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("blocked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("first_name", sa.String(length=64), nullable=True),
        sa.Column("candidates", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("shared_topics", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("card_message_id", sa.Integer(), nullable=True),
        sa.Column("taken_by", sa.String(length=64), nullable=True),
        sa.Column("closed_by", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=True),
        sa.Column("first_reply_at", sa.Float(), nullable=True),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.Column("purged_at", sa.Float(), nullable=True),
        sa.Column("source_msg", sa.BigInteger(), nullable=True),
        sqlite_autoincrement=True,  # ids are never reused: an old button can never point at a new ticket
    )
    op.create_index(
        "ix_tickets_one_active", "tickets", ["user_id"], unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE
    )
    op.create_index("ix_tickets_thread", "tickets", ["chat_id", "thread_id"])
    op.create_index("ix_tickets_user_status", "tickets", ["user_id", "status"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(length=160), nullable=False, unique=True),
        sa.Column("dest", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_at", sa.Float(), nullable=False, server_default="0"),
        sa.Column("lease_until", sa.Float(), nullable=False, server_default="0"),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("dst_chat", sa.BigInteger(), nullable=True),
        sa.Column("dst_msg", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False, server_default="1"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_pending", "outbox", ["status", "dest", "id"])
    op.create_index("ix_outbox_sent", "outbox", ["dest", "sent_at"])
    op.create_index("ix_outbox_copy", "outbox", ["dst_chat", "dst_msg"])
    op.create_index("ix_outbox_ticket", "outbox", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("tickets")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("recent")
