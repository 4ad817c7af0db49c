"""The LSH band index, kept in the database so dedup survives restarts.

One row per (band key, article). The primary key is the lookup order, and on
SQLite the table is WITHOUT ROWID, so the index *is* the table: no second copy
of the keys, and a candidate lookup is one B-tree seek per band key.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel


class DedupBand(SQLModel, table=True):
    __tablename__ = "dedup_bands"
    __table_args__ = {"sqlite_with_rowid": False}

    band_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    article_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
