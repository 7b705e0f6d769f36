"""o-series reasoning models on Azure OpenAI (system prompt sent as ``developer``)."""

from __future__ import annotations

from typing import ClassVar

from ....interfaces.metadata import ModelMetadata
from ...openai.catalogue import azure_metadata
from ..base_implementation import AzureChatModel

__all__ = ["AzureO3", "AzureO4Mini"]


class AzureO4Mini(AzureChatModel):
    """``azure/o4-mini``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("o4-mini")


class AzureO3(AzureChatModel):
    """``azure/o3``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("o3")
