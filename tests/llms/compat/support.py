"""Helpers of the LiteLLM-compatibility tests."""

from __future__ import annotations

from typing import Any

from core.llms.simulator import Simulator


def user(text: str = "hi") -> list[dict[str, str]]:
    """One user message, as LiteLLM programs write it."""
    return [{"role": "user", "content": text}]


def openai_at(sim: Simulator) -> dict[str, Any]:
    """The endpoint keywords of the simulator's OpenAI API, as LiteLLM takes them."""
    return {"api_base": f"{sim.url}/v1", "api_key": "sk-test"}
