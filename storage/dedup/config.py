"""The ``[dedup]`` table of config.toml: thresholds and sketch shape.

Defaults come from the labelled evaluation in tests/test_dedup_eval.py (see
docs/dedup.md for the figures). Changing the sketch shape (shingle_size,
num_perm, bands, rows, lead_chars, lead_bands) changes every band key: articles
stored before the change are then found only by URL and exact hash, never wrongly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DedupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jaccard: float = Field(default=0.4, gt=0.0, le=1.0)
    """Exact shingle Jaccard at or above which a candidate is the same story."""
    containment: float = Field(default=0.8, gt=0.0, le=1.0)
    """Share of the shorter text's shingles found in the longer one (trimmed copies)."""
    shingle_size: int = Field(default=4, ge=2, le=8)
    num_perm: int = Field(default=128, ge=16, le=1024)
    bands: int = Field(default=32, ge=1)
    rows: int = Field(default=4, ge=1)
    lead_chars: int = Field(default=50, ge=0)
    """Length of the opening whose own sketch finds trimmed copies (0 turns it off)."""
    lead_bands: int = Field(default=8, ge=0)
    min_chars: int = Field(default=50, ge=1)
    """Cleaned texts shorter than this (one-line notices, captions) match only exactly."""
    max_chars: int = Field(default=20_000, ge=1_000)
    """Only this many cleaned characters are shingled, so huge articles stay cheap."""
    max_candidates: int = Field(default=50, ge=1)
    """Most candidates confirmed per article (by shared band count, best first)."""

    @model_validator(mode="after")
    def _shape(self) -> DedupConfig:
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands × rows must not exceed num_perm")
        if self.lead_bands * self.rows > self.num_perm:
            raise ValueError("lead_bands × rows must not exceed num_perm")
        return self
