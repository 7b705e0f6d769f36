"""Discovery stays cheap: building the plugin manager and registry imports no heavy SDK."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("boto3", "botocore", "google", "googleapiclient", "anthropic", "openai", "torch", "transformers")

SCRIPT = """
import sys
import core.llms.plugins as plugins
from core.llms.registry import default_registry
plugins.get_plugin_manager()
default_registry().models()
print(",".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_discovery_imports_no_heavy_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(result.stdout.strip().split(","))
    assert not loaded & set(HEAVY), f"discovery imported {sorted(loaded & set(HEAVY))}"
    # -X importtime lines: "import time: self | cumulative | name"; the plugins module's total
    # (the contracts included) must stay well under a second.
    cumulative = {
        line.split("|")[2].strip(): int(line.split("|")[1])
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.split("|")[1].strip().isdigit()
    }
    assert cumulative["core.llms.plugins"] < 1_500_000, cumulative["core.llms.plugins"]
