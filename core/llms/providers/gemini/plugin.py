"""The built-in Gemini API plugin: the ``gemini`` provider profile and its catalogue rows."""

from __future__ import annotations

from ...hookspecs import hookimpl
from ...interfaces.provider import ProviderProfile
from .adapter import DEFAULT_BASE_URL, GeminiAdapter
from .catalogue import GEMINI_GENERIC, GEMINI_MODELS
from .model import GeminiModel

__all__ = ["PROFILE", "llms_register_providers"]

#: ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``); optional ``GEMINI_BASE_URL`` (the API root, with
#: its version).
PROFILE = ProviderProfile(
    name="gemini",
    adapter=GeminiAdapter,
    model_class=GeminiModel,
    default_endpoint=DEFAULT_BASE_URL,
    api_key_env=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    model_prefixes=("gemini-", "gemma-", "imagen-", "veo-", "text-embedding-00", "gemini-embedding-"),
    endpoint_env=("GEMINI_BASE_URL",),
    models=GEMINI_MODELS,
    generic=GEMINI_GENERIC,
    description="Google Gemini API (generateContent; x-goog-api-key)",
    notes="thought signatures travel back through model_content(answer); RetryInfo honoured on 429",
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``gemini`` provider."""
    return [PROFILE]
