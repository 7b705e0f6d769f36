"""The simulator writes the wire with code of its own: it imports only the standard library,
aiohttp and its own modules (never the client's providers, payload builders or parsers)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import core.llms.simulator as simulator_pkg

PACKAGE_DIR = Path(simulator_pkg.__file__).parent
ALLOWED_THIRD_PARTY = {"aiohttp"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """(top-level module, relative level) of every import in a file."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_simulator_imports_only_stdlib_aiohttp_and_itself() -> None:
    files = sorted(PACKAGE_DIR.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        for module, level in _imports(path):
            if level == 1:
                continue  # a sibling module of the simulator package
            assert level == 0, f"{path.name}: relative import reaching outside the package"
            top = module.split(".")[0]
            ok = top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY or top == "__future__"
            assert ok, f"{path.name} imports {module!r}"


def test_importing_the_simulator_loads_no_client_code() -> None:
    # core.llms/__init__.py re-exports the interfaces, so those load with any core.llms module;
    # providers, payload builders, parsers and the client must not.
    code = (
        "import sys, core.llms.simulator, core.llms.simulator.__main__\n"
        "ok = ('core.llms.simulator', 'core.llms.interfaces')\n"
        "bad = [m for m in sys.modules if m.startswith('core.llms.') and not m.startswith(ok)]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
