"""OpenAI provider: Chat Completions models, their adapter (auth, URLs, errors) and wire helpers.

::

    from core.llms.providers.base.endpoint import EndpointConfig
    from core.llms.providers.base.failover import FailoverConnector
    from core.llms.providers.openai import GPT41Mini, OpenAIAdapter

    connector = FailoverConnector.from_endpoints(
        OpenAIAdapter(), EndpointConfig(endpoint="https://api.openai.com/v1", api_key="sk-...")
    )
    async with GPT41Mini(connector) as model:
        answer = await model.get_answer("Hello")
"""

from __future__ import annotations

from .base_implementation import OpenAIBaseLLM, OpenAIChatModel
from .catalogue import OPENAI_CATALOGUE, azure_metadata, openai_metadata
from .connector import DEFAULT_BASE_URL, OpenAIAdapter
from .models import (
    GPT5,
    GPT41,
    O3,
    OPENAI_MODELS,
    GPT4o,
    GPT4oMini,
    GPT5Mini,
    GPT41Mini,
    GPT41Nano,
    O4Mini,
)
from .streaming import ChatStreamParser

__all__ = [
    "DEFAULT_BASE_URL",
    "GPT5",
    "GPT41",
    "O3",
    "OPENAI_CATALOGUE",
    "OPENAI_MODELS",
    "ChatStreamParser",
    "GPT4o",
    "GPT4oMini",
    "GPT5Mini",
    "GPT41Mini",
    "GPT41Nano",
    "O4Mini",
    "OpenAIAdapter",
    "OpenAIBaseLLM",
    "OpenAIChatModel",
    "azure_metadata",
    "openai_metadata",
]
