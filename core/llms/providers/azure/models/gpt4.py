"""GPT-4.1 and GPT-4o on Azure OpenAI (same metadata as OpenAI's, provider ``azure``)."""

from __future__ import annotations

from typing import ClassVar

from ....interfaces.metadata import ModelMetadata
from ...openai.catalogue import azure_metadata
from ..base_implementation import AzureChatModel

__all__ = ["AzureGPT4o", "AzureGPT4oMini", "AzureGPT41", "AzureGPT41Mini", "AzureGPT41Nano"]


class AzureGPT41(AzureChatModel):
    """``azure/gpt-4.1``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("gpt-4.1")


class AzureGPT41Mini(AzureChatModel):
    """``azure/gpt-4.1-mini``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("gpt-4.1-mini")


class AzureGPT41Nano(AzureChatModel):
    """``azure/gpt-4.1-nano``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("gpt-4.1-nano")


class AzureGPT4o(AzureChatModel):
    """``azure/gpt-4o``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("gpt-4o")


class AzureGPT4oMini(AzureChatModel):
    """``azure/gpt-4o-mini``."""

    metadata: ClassVar[ModelMetadata] = azure_metadata("gpt-4o-mini")
