"""Time `nerbert-hf data build` for every dataset that has raw files in ../shared/data.

    python benchmarks/build_datasets.py [--data ../shared/data] [--results benchmarks/results/build_datasets.md]

Each dataset is built by the real CLI in a fresh process (start-up included), as a user runs it.
Target (issue #2): all of them together in at most 60 s on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import write_results  # benchmarks/, this script's folder

REPO = Path(__file__).resolve().parents[1]
SOURCES = {
    "crossner": "crossner", "conll2003": "conll2003", "wnut2017": "wnut2017", "fin": "fin",
    "bionlp2004": "bionlp2004", "bc5cdr": "bc5cdr", "mit_restaurant": "mit_restaurant", "mit_movie": "mit_movie",
    "twitter": "twitter2015", "btc": "btc", "bionlp13cg": "bionlp13cg", "bionlp13pc": "bionlp13pc", "re3d": "re3d",
}
TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "build_datasets.md"))
    args = parser.parse_args()
    rows, total = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, folder in SOURCES.items():
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "nerbert_hf.cli", "data", "build", name,
                 "--source", str(Path(args.data) / folder), "--output", str(Path(tmp) / name)],
                capture_output=True, text=True,
            )
            seconds = time.perf_counter() - start
            if result.returncode != 0:
                print(result.stderr, file=sys.stderr)
                return 1
            size = sum(f.stat().st_size for f in (Path(tmp) / name).rglob("*.parquet"))
            rows.append((name, seconds, size))
            total += seconds
            print(f"{name:16s} {seconds:6.2f} s")
    verdict = "PASS" if total <= TARGET_SECONDS else "FAIL"
    print(f"{'total':16s} {total:6.2f} s (target <= {TARGET_SECONDS:.0f} s: {verdict})")
    lines = [
        "# Building every dataset from ../shared/data",
        "",
        f"Command: `python benchmarks/build_datasets.py` ({datetime.date.today()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}).",
        "Each build is a fresh `nerbert-hf data build NAME --source ... --output ...` process.",
        "",
        "| dataset | seconds | Parquet bytes |",
        "|---|---|---|",
        *[f"| {n} | {s:.2f} | {b:,} |" for n, s, b in rows],
        f"| **total** | **{total:.2f}** | |",
        "",
        f"Target: at most {TARGET_SECONDS:.0f} s in total: **{verdict}**.",
        "",
    ]
    write_results(args.results, lines, echo=False)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
