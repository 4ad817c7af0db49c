"""The labelled evaluation: precision and recall of clustering on synthetic copies."""

from __future__ import annotations

from pathlib import Path

from storage.dedup.config import DedupConfig
from tests.dedup_corpus import evaluate


async def test_precision_and_recall_on_labelled_set(tmp_path: Path) -> None:
    scores = await evaluate(f"sqlite:///{tmp_path / 'eval.db'}", DedupConfig(), stories=80)
    overall = scores["all"]
    assert overall.precision >= 0.98, scores
    assert overall.recall >= 0.95, scores
    # Every kind of copy is caught, and no kind of negative is clustered.
    for kind in ("exact", "retitled", "edited", "trimmed", "redated", "edited+retitled"):
        assert scores[kind].recall >= 0.9, (kind, scores[kind])
    assert scores["different"].false_pos == 0
    assert scores["short"].false_pos == 0
