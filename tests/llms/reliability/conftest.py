"""Fixtures of the reliability tests: the provider registry (the TLS certificate is suite-wide)."""

from __future__ import annotations

import pytest

from core.llms.registry import ModelRegistry

from .fault_matrix_support import registry


@pytest.fixture(scope="session")
def providers_registry() -> ModelRegistry:
    """The built-in providers plus the Ollama plugin, independent of the environment."""
    return registry()
