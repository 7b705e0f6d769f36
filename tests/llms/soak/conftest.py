"""Loads ``benchmarks/soak.py`` (a script, not a package module) for the soak tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SOAK_SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "soak.py"


def load_soak() -> ModuleType:
    name = "core_llms_benchmark_soak"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, SOAK_SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def soak() -> ModuleType:
    return load_soak()
