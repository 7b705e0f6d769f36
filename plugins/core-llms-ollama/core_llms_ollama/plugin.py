"""The core-llms plugin module of core-llms-ollama (entry point ``core_llms: ollama``).

Registers the ``ollama`` provider (native ``/api/chat``, default endpoint
``http://localhost:11434``, no API key needed, ``OLLAMA_BASE_URL`` / ``OLLAMA_API_KEY`` read from the
environment) and its model catalogue; any other ``ollama/<name>`` resolves to
:class:`~core_llms_ollama.models.OllamaModel`.
"""

from __future__ import annotations

from core.llms.hookspecs import hookimpl
from core.llms.registry import ProviderSpec

from .adapter import DEFAULT_ENDPOINT, PROVIDER, OllamaAdapter
from .models import CATALOGUE, OllamaModel

__all__ = ["llms_register_models", "llms_register_providers"]


@hookimpl
def llms_register_providers() -> list[ProviderSpec]:
    """The ``ollama`` provider."""
    return [
        ProviderSpec(
            name=PROVIDER,
            adapter_factory=OllamaAdapter,
            default_endpoint=DEFAULT_ENDPOINT,
            api_key_env=("OLLAMA_API_KEY",),
            endpoint_env=("OLLAMA_BASE_URL",),
            description="Ollama server, native /api/chat API (local models, no key needed)",
            generic_model=OllamaModel,
            requires_api_key=False,
        )
    ]


@hookimpl
def llms_register_models() -> list[type]:
    """The catalogue models (llama3.2, llama3.1:8b, qwen2.5, mistral, gemma3)."""
    return list(CATALOGUE)
