"""The parameters the Chat Completions wire understands, and which families take the system
prompt as a ``developer`` message. Per-model rules (:class:`ParameterRules`) narrow or extend
this set."""

from __future__ import annotations

__all__ = ["DEVELOPER_ROLE_FAMILIES", "OPENAI_CHAT_PARAMETERS"]

#: Parameters the Chat Completions API understands (beyond ``max_tokens``, which every model
#: accepts and sends under its ``max_tokens_param``). Per-model rules narrow or extend this.
OPENAI_CHAT_PARAMETERS: frozenset[str] = frozenset(
    {
        "temperature",
        "top_p",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "n",
        "stream",
        "service_tier",
        "store",
        "metadata",
        "prediction",
        "safety_identifier",
        "prompt_cache_key",
        # transport options and the request's model id, not copied into the body as they are
        "timeout",
        "read_timeout",
        "model",
    }
)

#: Families that take the system prompt as a ``developer`` message.
DEVELOPER_ROLE_FAMILIES: frozenset[str] = frozenset({"o-series"})
