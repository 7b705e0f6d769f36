"""Azure OpenAI chat model classes; :data:`AZURE_MODELS` lists them for the plugin."""

from __future__ import annotations

from ..base_implementation import AzureChatModel
from .gpt4 import AzureGPT4o, AzureGPT4oMini, AzureGPT41, AzureGPT41Mini, AzureGPT41Nano
from .gpt5 import AzureGPT5, AzureGPT5Mini
from .o_series import AzureO3, AzureO4Mini

__all__ = [
    "AZURE_MODELS",
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

#: Every built-in Azure OpenAI chat model class.
AZURE_MODELS: tuple[type[AzureChatModel], ...] = (
    AzureGPT41,
    AzureGPT41Mini,
    AzureGPT41Nano,
    AzureGPT4o,
    AzureGPT4oMini,
    AzureO4Mini,
    AzureO3,
    AzureGPT5,
    AzureGPT5Mini,
)
