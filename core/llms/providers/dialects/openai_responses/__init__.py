"""The ``openai_responses`` wire dialect: OpenAI's Responses API (``POST /responses``), as OpenAI
and Azure OpenAI serve it. :class:`~core.llms.providers.openai.model.OpenAIModel` sends a chat
call this way with ``api="responses"`` (per call, in its defaults, or by its ``metadata.api``);
this package is imported on that first call only.

* :mod:`.parameters` — which call parameters the Responses API takes, beyond and instead of
  Chat Completions' ones;
* :mod:`.payload` — typed messages and checked parameters → the request body (``input`` items,
  flat tools, ``text.format``, ``reasoning``);
* :mod:`.items` — Responses API items in a conversation: :func:`response_items` (an answer's
  output items, encrypted reasoning included, for the next turn) and the items a caller puts
  among the messages;
* :mod:`.parsing` — a ``response`` object → :class:`LLMResponse`;
* :mod:`.streaming` — the SSE events → :class:`LLMStreamChunk` (:class:`ResponsesStreamParser`);
* :mod:`.errors` — errors reported inside a 200 answer (``error`` / ``response.failed``);
* :mod:`.calls` — :func:`responses_answer` / :func:`responses_stream`, the model's entry points.
"""

from __future__ import annotations

from .calls import responses_answer, responses_stream
from .items import response_items
from .streaming import ResponsesStreamParser

__all__ = ["ResponsesStreamParser", "response_items", "responses_answer", "responses_stream"]
