"""OpenAI chat model classes; :data:`OPENAI_MODELS` lists them for the plugin."""

from __future__ import annotations

from ..base_implementation import OpenAIChatModel
from .gpt4 import GPT41, GPT4o, GPT4oMini, GPT41Mini, GPT41Nano
from .gpt5 import GPT5, GPT5Mini
from .o_series import O3, O4Mini

__all__ = [
    "GPT5",
    "GPT41",
    "O3",
    "OPENAI_MODELS",
    "GPT4o",
    "GPT4oMini",
    "GPT5Mini",
    "GPT41Mini",
    "GPT41Nano",
    "O4Mini",
]

#: Every built-in OpenAI chat model class.
OPENAI_MODELS: tuple[type[OpenAIChatModel], ...] = (
    GPT41,
    GPT41Mini,
    GPT41Nano,
    GPT4o,
    GPT4oMini,
    O4Mini,
    O3,
    GPT5,
    GPT5Mini,
)
