"""The call parameters the Gemini wire understands (``generateContent`` on the Gemini API and
Vertex AI), and the reasoning ones only thinking models take (a row's ``extra_allowed``)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["GEMINI_PARAMETERS", "PARAMETER_ALIASES", "THINKING_PARAMETERS"]

#: Parameters every Gemini model accepts (beyond ``max_tokens``, sent as ``maxOutputTokens``).
GEMINI_PARAMETERS: frozenset[str] = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "tools",
        "tool_choice",
        "response_format",
        "safety_settings",
        "cached_content",
        "generation_config",
        "labels",
        # transport options and the request's model id, not body fields as they are
        "timeout",
        "read_timeout",
        "model",
    }
)

#: Reasoning controls of thinking models (``thinkingConfig``): in the rows' ``extra_allowed``.
THINKING_PARAMETERS: frozenset[str] = frozenset(
    {"reasoning_effort", "thinking_budget", "thinking_level", "include_thoughts"}
)

#: Other spellings callers may use (OpenAI's, Google's snake_case field names).
PARAMETER_ALIASES: Mapping[str, str] = {
    "max_output_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "candidate_count": "n",
    "stop_sequences": "stop",
}
