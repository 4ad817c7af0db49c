"""notify: digests as outbox rows, split-message progress, dead-letter alerts

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="alert"
            )
        )
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "operator_alerted_at", storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.alter_column("match_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_deliveries_digest_id"), ["digest_id"], unique=False)
        batch_op.create_foreign_key("fk_deliveries_digest_id", "deliveries", ["digest_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_digest_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deliveries_digest_id"))
        batch_op.alter_column("match_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("operator_alerted_at")
        batch_op.drop_column("parts_sent")
        batch_op.drop_column("digest_id")
        batch_op.drop_column("kind")
