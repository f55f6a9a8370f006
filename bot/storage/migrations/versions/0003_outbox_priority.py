"""outbox.priority: new cases and emergency notices go first within a destination

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
    # what was pending before the upgrade keeps its order: new cases' items first, as from now on
    op.execute("UPDATE outbox SET priority = 0 WHERE kind IN ('announce', 'topic', 'card')")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["status", "dest", "priority", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["status", "dest", "id"])
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
