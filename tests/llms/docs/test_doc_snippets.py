"""Every docs code block marked ``<!-- tested ... -->`` runs as written (against the simulator),
in a fresh interpreter with no provider credentials."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_BLOCK = re.compile(r"<!-- tested[^>]*-->\s*```python\n(.*?)```", re.S)
_CREDENTIALS = re.compile(r"(_API_KEY|_KEY|_TOKEN|_ENDPOINT|_BASE_URL|_HOST)$|^AWS_|^GOOGLE_|^AZURE_")


def _snippets() -> list[tuple[str, str]]:
    out = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for i, code in enumerate(_BLOCK.findall(page.read_text())):
            out.append((f"{page.name}#{i + 1}", code))
    return out


SNIPPETS = _snippets()


def test_some_snippets_are_marked() -> None:
    assert any(name.startswith("client.md") for name, _ in SNIPPETS)


@pytest.mark.parametrize(("name", "code"), SNIPPETS, ids=[n for n, _ in SNIPPETS])
def test_snippet_runs(name: str, code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not _CREDENTIALS.search(k)}
    script = tmp_path / "snippet.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stderr[-3000:]}"
