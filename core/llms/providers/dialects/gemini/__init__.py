"""The ``gemini`` wire dialect: Google's ``generateContent``, as the Gemini API and Vertex AI speak it.

* :mod:`.payload` — typed messages and checked parameters → the request body;
* :mod:`.parsing` — a ``GenerateContentResponse`` → :class:`LLMResponse`; :func:`model_content`;
* :mod:`.streaming` — SSE events → :class:`LLMStreamChunk` (:class:`GeminiStreamParser`);
* :mod:`.errors` — Google's error envelope (``google.rpc.Status``) → the error tree;
* :mod:`.adapter` — the URL rules of both APIs and what their adapters share (:class:`GoogleAdapter`);
* :mod:`.model` — :class:`GeminiChatModel`, the class catalogue rows are made from.
"""

from __future__ import annotations

from .adapter import OPERATIONS, GoogleAdapter
from .model import GeminiBaseLLM, GeminiChatModel
from .parsing import model_content
from .streaming import GeminiStreamParser

__all__ = [
    "OPERATIONS",
    "GeminiBaseLLM",
    "GeminiChatModel",
    "GeminiStreamParser",
    "GoogleAdapter",
    "model_content",
]
