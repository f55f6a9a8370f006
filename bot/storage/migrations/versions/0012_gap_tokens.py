"""gaps.token: a clarify's gap is erased when the person chooses one of its topics (the buttons carry the token)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gaps") as batch:
        batch.add_column(sa.Column("token", sa.String(length=16), nullable=True))
    op.create_index("ix_gaps_token", "gaps", ["token"])


def downgrade() -> None:
    op.drop_index("ix_gaps_token", table_name="gaps")
    with op.batch_alter_table("gaps") as batch:
        batch.drop_column("token")
