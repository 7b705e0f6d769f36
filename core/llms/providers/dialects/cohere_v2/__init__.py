"""The ``cohere_v2`` wire dialect: Cohere's v2 API (``/v2/chat``; the provider adds ``/v2/embed``
and ``/v2/rerank``).

* :mod:`.payload` — typed messages and checked parameters → the chat request body;
* :mod:`.parsing` — a chat body → :class:`LLMResponse` (and :func:`citations_of`,
  :func:`tool_plan_of` for what only ``raw`` holds);
* :mod:`.streaming` — named SSE events → :class:`LLMStreamChunk`;
* :mod:`.errors` — Cohere's ``{"message": ...}`` errors and failed generations → the error tree;
* :mod:`.adapter` — URL, auth and error rules (:class:`CohereV2Adapter`);
* :mod:`.model` — :class:`CohereChatModel`, the class catalogue rows are made from.
"""

from __future__ import annotations

from .adapter import CohereV2Adapter
from .model import CohereChatModel
from .parsing import citations_of, tool_plan_of
from .streaming import CohereStreamParser

__all__ = ["CohereChatModel", "CohereStreamParser", "CohereV2Adapter", "citations_of", "tool_plan_of"]
