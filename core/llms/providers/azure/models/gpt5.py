"""GPT-5 models on Azure OpenAI (reasoning rules as on OpenAI)."""

from __future__ import annotations

from typing import ClassVar

from ....interfaces.metadata import ModelMetadata
from ...openai.catalogue import azure_metadata
from ..base_implementation import AzureChatModel

__all__ = ["AzureGPT5", "AzureGPT5Mini"]


class AzureGPT5(AzureChatModel):
    """``azure/gpt-5``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("gpt-5")


class AzureGPT5Mini(AzureChatModel):
    """``azure/gpt-5-mini``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("gpt-5-mini")
