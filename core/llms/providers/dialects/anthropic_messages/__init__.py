"""The ``anthropic_messages`` wire dialect: Anthropic's Messages API (``POST /v1/messages``), as
Anthropic serves it, and Claude's native payloads on other clouds (Bedrock's ``invoke``).

* :mod:`.parameters` — the call parameters and their checks;
* :mod:`.payload` — typed messages and checked parameters → the request body (``system``,
  content blocks, tools, ``tool_choice``, structured output as a forced tool, ``thinking``,
  cache points);
* :mod:`.blocks` — content blocks across turns: :func:`assistant_blocks` /
  :func:`assistant_message` (an answer's blocks, thinking signatures kept) and native messages;
* :mod:`.calls` — :func:`~.calls.prepare`: a checked request for a model;
* :mod:`.parsing` — a ``message`` body → :class:`LLMResponse` (usage with cache reads and writes);
* :mod:`.streaming` — the SSE events → :class:`LLMStreamChunk` (:class:`AnthropicStreamParser`);
* :mod:`.errors` — Anthropic's error envelope → the error tree;
* :mod:`.model` — :class:`AnthropicModel`, the class catalogue rows are made from.
"""

from __future__ import annotations

from .blocks import assistant_blocks, assistant_message
from .model import AnthropicModel
from .streaming import AnthropicStreamParser

__all__ = ["AnthropicModel", "AnthropicStreamParser", "assistant_blocks", "assistant_message"]
