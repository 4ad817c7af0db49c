"""Start-up time of the ``tingfeng`` command: how long a person waits for ``--help``
and ``check-config``.

Run: ``python bench/bench_cli.py [--runs 15]``.

Each command is a fresh process (what a person at a terminal pays), run ``--runs``
times; the median wall time is reported next to two baselines measured in the same
run: a bare interpreter (``python -c pass``) and importing the CLI module alone
(``python -c "import daemon.cli"``). The ratios show what the commands cost beyond
starting Python; the target is under 0.5 s for both commands.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.5

CONFIG = """\
[storage]
url = "sqlite:///bench.db"

[[sources]]
name = "县政府"
kind = "feed"
url = "http://127.0.0.1:9/feed.xml"

[[topics]]
name = "燃气安全"
query = "燃气 AND (安全 OR 检查)"
channels = ["ops-chat"]

[[channels]]
name = "ops-chat"
url = "json://127.0.0.1:9/hook"
"""


def median_seconds(argv: list[str], runs: int, cwd: Path) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (median kept)")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
        cases = [
            ("baseline: python -c pass", [python, "-c", "pass"]),
            ("baseline: python -c 'import daemon.cli'", [python, "-c", "import daemon.cli"]),
            ("tingfeng --help", [python, "-m", "daemon", "--help"]),
            ("tingfeng check-config", [python, "-m", "daemon", "check-config"]),
        ]
        results = {name: median_seconds(argv, args.runs, folder) for name, argv in cases}
    bare = results["baseline: python -c pass"]
    print(f"median of {args.runs} runs each, {sys.version.split()[0]}")
    print(f"{'command':<42} {'seconds':>8} {'× bare python':>14}  target")
    for name, seconds in results.items():
        verdict = ""
        if name.startswith("tingfeng"):
            verdict = "ok" if seconds < TARGET else f"OVER {TARGET}s"
        print(f"{name:<42} {seconds:>8.3f} {seconds / bare:>13.1f}×  {verdict}")


if __name__ == "__main__":
    main()
