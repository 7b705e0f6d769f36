"""The built-in OpenAI plugin: registers the ``openai`` provider and its chat models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from ..base.implementation import BaseLLM
from .connector import DEFAULT_BASE_URL, OpenAIAdapter
from .models import OPENAI_MODELS

if TYPE_CHECKING:
    from ...registry import ProviderSpec

hookimpl = pluggy.HookimplMarker("core_llms")


@hookimpl
def llms_register_providers() -> list[ProviderSpec]:
    """The ``openai`` provider: ``OPENAI_API_KEY``, optional ``OPENAI_BASE_URL`` / ``OPENAI_ORG_ID``."""
    from ...registry import ProviderSpec

    return [
        ProviderSpec(
            name="openai",
            adapter_factory=OpenAIAdapter,
            default_endpoint=DEFAULT_BASE_URL,
            api_key_env=("OPENAI_API_KEY",),
            endpoint_env=("OPENAI_BASE_URL",),
            required_fields=(),
            field_env={"organization": ("OPENAI_ORG_ID",)},
            description="OpenAI API (Chat Completions)",
        )
    ]


@hookimpl
def llms_register_models() -> list[type[BaseLLM]]:
    """Every built-in OpenAI chat model class."""
    return list(OPENAI_MODELS)
