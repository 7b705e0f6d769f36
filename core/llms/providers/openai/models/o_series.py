"""o-series reasoning models: ``max_completion_tokens``, no sampling parameters,
``reasoning_effort`` allowed, and the system prompt sent as a ``developer`` message."""

from __future__ import annotations

from typing import ClassVar

from ....interfaces.metadata import ModelMetadata
from ..base_implementation import OpenAIChatModel
from ..catalogue import openai_metadata

__all__ = ["O3", "O4Mini"]


class O4Mini(OpenAIChatModel):
    """``openai/o4-mini``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("o4-mini")


class O3(OpenAIChatModel):
    """``openai/o3``."""

    metadata: ClassVar[ModelMetadata] = openai_metadata("o3")
