"""GPT-5 chat models (reasoning: ``max_completion_tokens``, no sampling parameters,
``reasoning_effort`` and ``verbosity`` allowed)."""

from __future__ import annotations

from typing import ClassVar

from ....interfaces.metadata import ModelMetadata
from ..base_implementation import OpenAIChatModel
from ..catalogue import openai_metadata

__all__ = ["GPT5", "GPT5Mini"]


class GPT5(OpenAIChatModel):
    """``openai/gpt-5``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("gpt-5")


class GPT5Mini(OpenAIChatModel):
    """``openai/gpt-5-mini``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("gpt-5-mini")
