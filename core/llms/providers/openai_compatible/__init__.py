"""OpenAI-compatible hosts (Groq, Together, Fireworks, DeepSeek, Perplexity, Databricks, Mistral,
xAI, OpenRouter, vLLM, llama.cpp, LM Studio, any other base URL): one row each in
:mod:`.hosts`, all on the ``openai_chat`` dialect."""

from __future__ import annotations

from .hosts import HOSTS, Host

__all__ = ["HOSTS", "Host"]
