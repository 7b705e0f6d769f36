"""The built-in Anthropic plugin: the ``anthropic`` provider profile and its catalogue rows."""

from __future__ import annotations

from ...hookspecs import hookimpl
from ...interfaces.provider import ProviderProfile
from ..dialects.anthropic_messages.model import AnthropicModel
from .adapter import DEFAULT_BASE_URL, AnthropicAdapter
from .catalogue import ANTHROPIC_GENERIC, ANTHROPIC_MODELS
from .settings import AnthropicSettings

__all__ = ["PROFILE", "llms_register_providers"]

#: ``ANTHROPIC_API_KEY``; optional ``ANTHROPIC_BASE_URL``, ``ANTHROPIC_BETA``.
PROFILE = ProviderProfile(
    name="anthropic",
    adapter=AnthropicAdapter,
    model_class=AnthropicModel,
    settings=AnthropicSettings,
    default_endpoint=DEFAULT_BASE_URL,
    api_key_env=("ANTHROPIC_API_KEY",),
    model_prefixes=("claude-",),
    endpoint_env=("ANTHROPIC_BASE_URL",),
    settings_env={"beta": ("ANTHROPIC_BETA",)},
    models=ANTHROPIC_MODELS,
    generic=ANTHROPIC_GENERIC,
    description="Anthropic API (Messages)",
    notes=(
        "x-api-key auth, anthropic-version 2023-06-01; max_tokens always sent (default 8192 + "
        "thinking budget); structured output via a forced tool; thinking blocks carried back with "
        "assistant_message(answer); overloaded (529) is retried and failed over"
    ),
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``anthropic`` provider."""
    return [PROFILE]
