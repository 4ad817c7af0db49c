"""``tingfeng demo`` is a new user's first contact: it must run the whole pipeline."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import cli


def test_demo_matches_alerts_and_clusters_the_same_story(tmp_path: Path) -> None:
    result = cli("demo", "--keep", str(tmp_path))
    assert result.code == 0, result.err
    assert "alerts: 5 sent, 0 failed" in result.out
    assert result.out.count("── [听风]") == 5
    matched = [json.loads(line) for line in result.out.splitlines() if line.startswith("{")]
    lpg = [m for m in matched if "燃气安全" in m["topics"] and "液化石油气" in m["title"]]
    assert {m["source"] for m in lpg} == {"鱼台融媒", "县报第2版"}
    assert len({m["cluster"] for m in lpg}) == 1
    assert (tmp_path / "demo.db").exists()
