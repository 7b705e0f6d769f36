"""The parameters the Cohere v2 chat wire understands (``POST /v2/chat``), and the other
spellings callers may use for them. Per-model rules (:class:`ParameterRules`) narrow or extend
this set: ``thinking`` is only in the reasoning models' ``extra_allowed``."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COHERE_CHAT_PARAMETERS", "COHERE_PARAMETER_ALIASES", "TRANSPORT_PARAMETERS"]

#: call parameters that set this call's transport options (or its model id), not body fields.
TRANSPORT_PARAMETERS: frozenset[str] = frozenset({"timeout", "read_timeout", "model"})

#: Parameters Cohere's v2 chat takes (beyond ``max_tokens``, which every model accepts).
COHERE_CHAT_PARAMETERS: frozenset[str] = frozenset(
    {
        "temperature",
        "p",
        "k",
        "stop_sequences",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "tools",
        "tool_choice",
        "strict_tools",
        "response_format",
        "documents",
        "citation_options",
        "safety_mode",
        "priority",
        "stream",  # (refused with a hint: stream_answer() streams)
        *TRANSPORT_PARAMETERS,
    }
)

#: the names other providers use for the same settings (so one call's parameters work across a
#: ``FallbackLLM`` chain): ``top_p`` → ``p``, ``top_k`` → ``k``, ``stop`` → ``stop_sequences``,
#: ``max_completion_tokens`` → ``max_tokens``.
COHERE_PARAMETER_ALIASES: Mapping[str, str] = {
    "top_p": "p",
    "top_k": "k",
    "stop": "stop_sequences",
    "max_completion_tokens": "max_tokens",
}
