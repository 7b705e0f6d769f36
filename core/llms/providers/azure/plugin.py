"""The built-in Azure OpenAI plugin: the ``azure`` provider profile and its catalogue rows."""

from __future__ import annotations

from ...hookspecs import hookimpl
from ...interfaces.provider import ProviderProfile
from ..openai.catalogue import AZURE_MODELS, OPENAI_GENERIC
from ..openai.model import OpenAIModel
from .adapter import AzureAdapter
from .settings import AzureSettings

__all__ = ["PROFILE", "llms_register_providers"]

#: ``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY`` (or ``AZURE_OPENAI_KEY``; none is needed with
#: ``credential=`` / ``token_provider=``: Entra ID), ``AZURE_OPENAI_DEPLOYMENT`` (else the model
#: name) and ``OPENAI_API_VERSION`` (or ``AZURE_OPENAI_API_VERSION``; neither: each operation's
#: default API version).
PROFILE = ProviderProfile(
    name="azure",
    adapter=AzureAdapter,
    model_class=OpenAIModel,
    settings=AzureSettings,
    api_key_env=("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"),
    endpoint_env=("AZURE_OPENAI_ENDPOINT",),
    settings_env={
        "deployment_name": ("AZURE_OPENAI_DEPLOYMENT",),
        "api_version": ("OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION"),
    },
    model_setting="deployment_name",
    models=AZURE_MODELS,
    generic=OPENAI_GENERIC.replace(
        provider="azure", description="an Azure OpenAI deployment outside the catalogue"
    ),
    description="Azure OpenAI (Chat Completions on Azure deployments; api-key or Entra ID)",
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``azure`` provider."""
    return [PROFILE]
