"""Run the fuzz targets (``tests/llms/fuzz``) with N examples each and print per-target counts.

    .venv/bin/python benchmarks/fuzz_report.py            # 2,000 examples per target
    .venv/bin/python benchmarks/fuzz_report.py 20000      # a longer run

The default test suite runs the same targets with a few hundred derandomized examples each; this
script sets ``CORE_LLMS_FUZZ_EXAMPLES=N`` (randomised examples) and reads the counts the fuzz
``conftest.py`` writes to ``CORE_LLMS_FUZZ_REPORT``. Exit status: pytest's (non-zero when a
target found an input that makes a reader raise anything but the library's own typed errors).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    examples = int(argv[1]) if len(argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "fuzz.json"
        env = {**os.environ, "CORE_LLMS_FUZZ_EXAMPLES": str(examples), "CORE_LLMS_FUZZ_REPORT": str(report)}
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/llms/fuzz", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=env,
            check=False,
        )
        elapsed = time.perf_counter() - started
        counts: dict[str, int] = json.loads(report.read_text())["targets"] if report.exists() else {}
    print()
    print(
        f"fuzz report: CORE_LLMS_FUZZ_EXAMPLES={examples}, {elapsed:.1f} s, pytest exit {result.returncode}"
    )
    width = max((len(name) for name in counts), default=10)
    for name, count in sorted(counts.items()):
        print(f"  {name:<{width}}  {count:>9,}")
    print(f"  {'total':<{width}}  {sum(counts.values()):>9,}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
