"""Every factory test starts from a clean environment and clean caches."""

from __future__ import annotations

import pytest
from plugins.support import clean_provider_env

__all__ = ["clean_provider_env"]  # a fixture: imported so that pytest sees it here

#: provider variables that :data:`plugins.support.PROVIDER_ENV` does not clear (yet) but that the
#: built-in providers read: a developer's shell must not change what these tests see.
_MORE_PROVIDER_ENV = ("OPENAI_PROJECT_ID",)


@pytest.fixture(autouse=True)
def _clean_env(clean_provider_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """See :func:`plugins.support.clean_provider_env`."""
    for name in _MORE_PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
