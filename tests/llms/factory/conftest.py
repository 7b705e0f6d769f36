"""Every factory test starts from a clean environment and clean caches."""

from __future__ import annotations

import pytest
from plugins.support import clean_provider_env

__all__ = ["clean_provider_env"]  # a fixture: imported so that pytest sees it here


@pytest.fixture(autouse=True)
def _clean_env(clean_provider_env: None) -> None:
    """See :func:`plugins.support.clean_provider_env`."""
