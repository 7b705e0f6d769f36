"""The built-in Cohere plugin: the ``cohere`` provider profile and its catalogue rows."""

from __future__ import annotations

from ...hookspecs import hookimpl
from ...interfaces.provider import ProviderProfile
from .adapter import DEFAULT_BASE_URL, CohereAdapter
from .catalogue import COHERE_GENERIC, COHERE_MODELS
from .model import CohereModel

__all__ = ["PROFILE", "llms_register_providers"]

#: ``CO_API_KEY`` (or ``COHERE_API_KEY``); optional ``CO_API_URL`` (as Cohere's SDK reads them).
PROFILE = ProviderProfile(
    name="cohere",
    adapter=CohereAdapter,
    model_class=CohereModel,
    default_endpoint=DEFAULT_BASE_URL,
    api_key_env=("CO_API_KEY", "COHERE_API_KEY"),
    model_prefixes=("command", "embed-", "rerank-", "c4ai-"),
    endpoint_env=("CO_API_URL",),
    models=COHERE_MODELS,
    generic=COHERE_GENERIC,
    description="Cohere API v2 (chat with tools, RAG citations and reasoning; embed; rerank)",
    notes=(
        "the cohere_v2 wire: Bearer auth, /v2/chat, /v2/embed, /v2/rerank; finish_reason ERROR is an "
        "error; usage counts billed tokens; see cohere.md"
    ),
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``cohere`` provider."""
    return [PROFILE]
