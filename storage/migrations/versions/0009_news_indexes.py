"""news indexes: matches by topic and by recency, for staff's default view and the
newest stories of 今日动态 (0008 as first landed had neither)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_matches_topic_story", "matches", ["topic_id", "cluster_id", "story_at"])
    op.create_index("ix_matches_recent", "matches", ["story_at", "cluster_id", "topic_id"])


def downgrade() -> None:
    op.drop_index("ix_matches_recent", table_name="matches")
    op.drop_index("ix_matches_topic_story", table_name="matches")
