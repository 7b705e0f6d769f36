"""GPT-4.1 and GPT-4o chat models (non-reasoning: ``max_tokens``, sampling parameters allowed)."""

from __future__ import annotations

from typing import ClassVar

from ....interfaces.metadata import ModelMetadata
from ..base_implementation import OpenAIChatModel
from ..catalogue import openai_metadata

__all__ = ["GPT41", "GPT4o", "GPT4oMini", "GPT41Mini", "GPT41Nano"]


class GPT41(OpenAIChatModel):
    """``openai/gpt-4.1``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("gpt-4.1")


class GPT41Mini(OpenAIChatModel):
    """``openai/gpt-4.1-mini``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("gpt-4.1-mini")


class GPT41Nano(OpenAIChatModel):
    """``openai/gpt-4.1-nano``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("gpt-4.1-nano")


class GPT4o(OpenAIChatModel):
    """``openai/gpt-4o``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("gpt-4o")


class GPT4oMini(OpenAIChatModel):
    """``openai/gpt-4o-mini``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("gpt-4o-mini")
