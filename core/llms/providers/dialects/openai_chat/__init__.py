"""The ``openai_chat`` wire dialect: OpenAI Chat Completions, as OpenAI, Azure OpenAI and the
OpenAI-compatible hosts speak it.

* :mod:`.payload` — typed messages and checked parameters → the request body;
* :mod:`.parsing` — a ``chat.completion`` body → :class:`LLMResponse`;
* :mod:`.streaming` — SSE ``chat.completion.chunk`` events → :class:`LLMStreamChunk`;
* :mod:`.errors` — OpenAI-shaped error bodies → the error tree;
* :mod:`.adapter` — URL, auth and error rules, set by data (:class:`ChatCompletionsAdapter`);
* :mod:`.model` — :class:`OpenAIChatModel`, the class catalogue rows are made from.
"""

from __future__ import annotations

from .adapter import ChatCompletionsAdapter
from .model import OpenAIBaseLLM, OpenAIChatModel
from .streaming import ChatStreamParser

__all__ = ["ChatCompletionsAdapter", "ChatStreamParser", "OpenAIBaseLLM", "OpenAIChatModel"]
