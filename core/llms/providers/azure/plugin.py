"""The built-in Azure OpenAI plugin: registers the ``azure`` provider and its chat models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from ..base.implementation import BaseLLM
from .connector import AzureAdapter
from .models import AZURE_MODELS

if TYPE_CHECKING:
    from ...registry import ProviderSpec

hookimpl = pluggy.HookimplMarker("core_llms")


@hookimpl
def llms_register_providers() -> list[ProviderSpec]:
    """The ``azure`` provider: ``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY``,
    ``AZURE_OPENAI_DEPLOYMENT`` and ``OPENAI_API_VERSION`` (or ``AZURE_OPENAI_API_VERSION``)."""
    from ...registry import ProviderSpec

    return [
        ProviderSpec(
            name="azure",
            adapter_factory=AzureAdapter,
            default_endpoint=None,
            api_key_env=("AZURE_OPENAI_API_KEY",),
            endpoint_env=("AZURE_OPENAI_ENDPOINT",),
            required_fields=("deployment_name", "api_version"),
            field_env={
                "deployment_name": ("AZURE_OPENAI_DEPLOYMENT",),
                "api_version": ("OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION"),
            },
            description="Azure OpenAI (Chat Completions on Azure deployments; api-key or Entra ID)",
        )
    ]


@hookimpl
def llms_register_models() -> list[type[BaseLLM]]:
    """Every built-in Azure OpenAI chat model class."""
    return list(AZURE_MODELS)
