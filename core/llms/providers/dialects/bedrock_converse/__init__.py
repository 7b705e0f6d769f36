"""The ``bedrock_converse`` wire dialect: Amazon Bedrock's Converse API
(``POST /model/{modelId}/converse`` and ``/converse-stream``), one wire for every chat model on
Bedrock (Claude, Nova, Llama, Mistral, gpt-oss …).

* :mod:`.parameters` — the call parameters and their checks; reasoning per model family;
* :mod:`.content` — typed messages → ``system`` and ``messages[]`` content blocks; Converse blocks
  among the messages pass through; :func:`converse_message` (an answer's message, for the next
  turn);
* :mod:`.payload` — the request body: inference settings, tools, structured output (a forced
  tool), guardrails, cache points;
* :mod:`.parsing` — a Converse response → :class:`LLMResponse`;
* :mod:`.streaming` — the event-stream events → :class:`LLMStreamChunk`
  (:class:`ConverseStreamParser`; the bytes are decoded by
  :class:`~core.llms.providers.base.eventstream.EventStreamDecoder`);
* :mod:`.errors` — Bedrock's errors (HTTP and in-stream) → the error tree
  (:func:`bedrock_error`, :func:`map_http_error`);
* :mod:`.model` — :class:`BedrockConverseModel`, the class Bedrock's catalogue rows are made from.
"""

from __future__ import annotations

from .content import converse_message
from .errors import bedrock_error, error_from_event, map_http_error
from .model import BedrockConverseModel
from .streaming import ConverseStreamParser

__all__ = [
    "BedrockConverseModel",
    "ConverseStreamParser",
    "bedrock_error",
    "converse_message",
    "error_from_event",
    "map_http_error",
]
