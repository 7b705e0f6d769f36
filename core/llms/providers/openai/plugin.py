"""The built-in OpenAI plugin: the ``openai`` provider profile and its catalogue rows."""

from __future__ import annotations

from ...hookspecs import hookimpl
from ...interfaces.provider import ProviderProfile
from .adapter import DEFAULT_BASE_URL, OpenAIAdapter
from .catalogue import OPENAI_GENERIC, OPENAI_MODELS
from .model import OpenAIModel
from .settings import OpenAISettings

__all__ = ["PROFILE", "llms_register_providers"]

#: ``OPENAI_API_KEY``; optional ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``.
PROFILE = ProviderProfile(
    name="openai",
    adapter=OpenAIAdapter,
    model_class=OpenAIModel,
    settings=OpenAISettings,
    default_endpoint=DEFAULT_BASE_URL,
    api_key_env=("OPENAI_API_KEY",),
    model_prefixes=(
        "gpt-", "chatgpt-", "o1", "o3", "o4", "codex-", "text-embedding-", "dall-e-", "gpt-image-",
        "tts-", "whisper-", "sora-", "omni-moderation-",
    ),
    endpoint_env=("OPENAI_BASE_URL",),
    settings_env={"organization": ("OPENAI_ORG_ID",), "project": ("OPENAI_PROJECT_ID",)},
    models=OPENAI_MODELS,
    generic=OPENAI_GENERIC,
    description="OpenAI API (Chat Completions)",
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``openai`` provider."""
    return [PROFILE]
