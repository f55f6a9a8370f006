"""users.place and tickets.place: the municipality a person lives in (city stays the file of its contacts)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("place", sa.String(length=64), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("place", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in ("tickets", "users"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("place")
