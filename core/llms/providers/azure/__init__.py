"""Azure OpenAI provider: the OpenAI chat models served from Azure deployments.

::

    from core.llms.providers.azure import AzureAdapter, AzureGPT41Mini
    from core.llms.providers.base.endpoint import EndpointConfig
    from core.llms.providers.base.failover import FailoverConnector

    primary = EndpointConfig(
        endpoint="https://myres.openai.azure.com", api_key="...",
        deployment_name="gpt-4.1-mini", api_version="2024-10-21",
    )
    connector = FailoverConnector.from_endpoints(
        AzureAdapter(), primary, backups=[{"endpoint": "https://other.openai.azure.com"}]
    )
    async with AzureGPT41Mini(connector) as model:
        answer = await model.get_answer("Hello")
"""

from __future__ import annotations

from .base_implementation import AzureBaseLLM, AzureChatModel
from .connector import V1_API_VERSION, AzureAdapter
from .models import (
    AZURE_MODELS,
    AzureGPT4o,
    AzureGPT4oMini,
    AzureGPT5,
    AzureGPT5Mini,
    AzureGPT41,
    AzureGPT41Mini,
    AzureGPT41Nano,
    AzureO3,
    AzureO4Mini,
)

__all__ = [
    "AZURE_MODELS",
    "V1_API_VERSION",
    "AzureAdapter",
    "AzureBaseLLM",
    "AzureChatModel",
    "AzureGPT4o",
    "AzureGPT4oMini",
    "AzureGPT5",
    "AzureGPT5Mini",
    "AzureGPT41",
    "AzureGPT41Mini",
    "AzureGPT41Nano",
    "AzureO3",
    "AzureO4Mini",
]
