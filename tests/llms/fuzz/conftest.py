"""Reports how many fuzz examples ran, per target, at the end of the pytest run.

With ``CORE_LLMS_FUZZ_REPORT=<path>`` the counts are also written there as JSON
(``{"examples": N, "targets": {name: count}}``); ``benchmarks/fuzz_report.py`` uses that.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .support import COUNTS, LONG_RUN


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not COUNTS:
        return
    total = sum(COUNTS.values())
    mode = f"CORE_LLMS_FUZZ_EXAMPLES={LONG_RUN}" if LONG_RUN else "default (derandomized)"
    terminalreporter.write_sep("-", f"fuzz examples run: {total} over {len(COUNTS)} targets [{mode}]")
    width = max(len(name) for name in COUNTS)
    for name, count in sorted(COUNTS.items()):
        terminalreporter.write_line(f"  {name:<{width}}  {count:>8}")
    out = os.environ.get("CORE_LLMS_FUZZ_REPORT")
    if out:
        Path(out).write_text(json.dumps({"examples": LONG_RUN, "targets": dict(sorted(COUNTS.items()))}))
