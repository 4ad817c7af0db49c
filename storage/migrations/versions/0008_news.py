"""news: each match carries its story's time, so 今日动态 pages without joining articles;
articles indexed by place for its place filter

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "matches", sa.Column("story_at", storage.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE matches SET story_at = (SELECT coalesce(articles.published_at, "
        "articles.fetched_at) FROM articles WHERE articles.id = matches.article_id)"
    )
    op.create_index(
        "ix_matches_story", "matches", ["cluster_id", "story_at", "topic_id", "article_id"]
    )
    op.create_index("ix_articles_place", "articles", ["place"])


def downgrade() -> None:
    op.drop_index("ix_articles_place", table_name="articles")
    op.drop_index("ix_matches_story", table_name="matches")
    op.drop_column("matches", "story_at")
