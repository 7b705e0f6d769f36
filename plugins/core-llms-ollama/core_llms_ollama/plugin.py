"""The core-llms plugin module of core-llms-ollama (entry point ``core_llms: ollama``).

Registers the ``ollama`` provider profile (native ``/api/chat``, default endpoint
``http://localhost:11434``, no API key needed, ``OLLAMA_BASE_URL`` / ``OLLAMA_API_KEY`` read from the
environment) with its catalogue rows; any other ``ollama/<name>`` is served with the ``GENERIC``
template's limits.
"""

from __future__ import annotations

from core.llms.hookspecs import hookimpl
from core.llms.interfaces.provider import ProviderProfile

from .adapter import DEFAULT_ENDPOINT, PROVIDER, OllamaAdapter
from .base import OllamaBaseLLM
from .models import CATALOGUE, GENERIC

__all__ = ["PROFILE", "llms_register_providers"]

PROFILE = ProviderProfile(
    name=PROVIDER,
    adapter=OllamaAdapter,
    model_class=OllamaBaseLLM,
    default_endpoint=DEFAULT_ENDPOINT,
    api_key_env=("OLLAMA_API_KEY",),
    endpoint_env=("OLLAMA_BASE_URL",),
    requires_api_key=False,
    models=CATALOGUE,
    generic=GENERIC,
    description="Ollama server, native /api/chat API (local models, no key needed)",
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``ollama`` provider."""
    return [PROFILE]
