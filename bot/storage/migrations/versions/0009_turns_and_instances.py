"""users.busy_until/busy_by/done_update (a person's turn across instances) and instances (sharing Telegram's rate)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("busy_until", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("busy_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("done_update", sa.BigInteger(), nullable=True))
    op.create_table(
        "instances",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("instances")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("done_update")
        batch.drop_column("busy_by")
        batch.drop_column("busy_until")
