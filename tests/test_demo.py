"""``tingfeng demo`` is a new user's first contact: it must run the whole pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_matches_alerts_and_clusters_the_same_story(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "demo", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "alerts: 5 sent, 0 failed" in result.stdout
    assert result.stdout.count("── [听风]") == 5
    matched = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    lpg = [m for m in matched if "燃气安全" in m["topics"] and "液化石油气" in m["title"]]
    assert {m["source"] for m in lpg} == {"鱼台融媒", "县报第2版"}
    assert len({m["cluster"] for m in lpg}) == 1
    assert (tmp_path / "demo.db").exists()
