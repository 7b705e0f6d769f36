"""Every factory test starts from a clean environment and clean caches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from plugins.support import PROVIDER_ENV

from core.llms.plugins import reset_plugin_manager


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()
