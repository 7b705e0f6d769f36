"""The call parameters the Converse dialect takes, their checks, and reasoning per model family.

Parameters (keyword arguments of ``get_answer`` / ``stream_answer``) and where they go:

* ``max_tokens`` → ``inferenceConfig.maxTokens``; ``temperature`` (0..1) and ``top_p`` →
  ``inferenceConfig.temperature`` / ``topP``; ``stop`` (a string or a list) →
  ``inferenceConfig.stopSequences``;
* ``tools``, ``tool_choice`` → ``toolConfig``; ``response_format`` → a forced tool whose input is
  the answer (see :mod:`.payload`);
* ``reasoning_effort``, ``thinking`` → ``additionalModelRequestFields``, by family (below);
* ``additional_model_request_fields`` → ``additionalModelRequestFields`` (the model's own fields);
  ``additional_model_response_field_paths`` → ``additionalModelResponseFieldPaths``;
* ``guardrail`` → ``guardrailConfig``: ``{"guardrailIdentifier", "guardrailVersion", "trace",
  "streamProcessingMode"}`` (the last on streams only);
* ``prompt_cache`` (True, ``"5m"``, ``"1h"``) → cache points after the system prompt, the tools
  and the last message;
* ``request_metadata`` (a dict of strings) → ``requestMetadata``; ``performance_config``
  (``"standard"`` / ``"optimized"``) → ``performanceConfig``; ``service_tier`` (``"priority"``,
  ``"default"``, ``"flex"``, ``"reserved"``) → ``serviceTier``;
* ``timeout``, ``read_timeout``, ``model``: transport options and the per-call model id (never
  in the body).

Reasoning, per family (the model's ``metadata.family``, else its model id):

* **Claude** (``anthropic.`` ids): ``thinking={"budget_tokens": N}`` (or any Anthropic thinking
  object: ``{"type": "enabled", "budget_tokens": N}``, ``{"type": "adaptive"}``) →
  ``additionalModelRequestFields.thinking``; ``reasoning_effort`` picks a budget
  (:data:`CLAUDE_BUDGETS`; ``"none"``: no thinking). ``maxTokens`` must exceed the budget: a
  smaller ``max_tokens`` is refused, and without one the budget plus
  :data:`ANSWER_TOKENS` is sent (at most the model's maximum output).
* **Amazon Nova** (``amazon.nova`` ids): ``reasoning_effort`` (``low``/``medium``/``high``) →
  ``reasoningConfig: {"type": "enabled", "maxReasoningEffort": effort}``.
* **OpenAI gpt-oss** (``openai.`` ids): ``reasoning_effort`` → ``reasoning_effort``.
* any other family: refused with a hint to use ``additional_model_request_fields``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ....interfaces.errors import InvalidInputError

__all__ = [
    "ANSWER_TOKENS",
    "CLAUDE_BUDGETS",
    "CONVERSE_PARAMETERS",
    "REASONING_EFFORTS",
    "check_parameter",
    "reasoning_family",
    "reasoning_fields",
]

#: the parameters the Converse dialect understands (beyond ``max_tokens``).
CONVERSE_PARAMETERS: frozenset[str] = frozenset(
    {
        "temperature",
        "top_p",
        "stop",
        "tools",
        "tool_choice",
        "response_format",
        "reasoning_effort",
        "thinking",
        "additional_model_request_fields",
        "additional_model_response_field_paths",
        "guardrail",
        "prompt_cache",
        "request_metadata",
        "performance_config",
        "service_tier",
        # transport options and the request's model id, not copied into the body
        "timeout",
        "read_timeout",
        "model",
    }
)

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")
#: Claude's thinking budget (tokens) for each ``reasoning_effort``.
CLAUDE_BUDGETS: Mapping[str, int] = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384}
#: Claude's smallest thinking budget.
MIN_CLAUDE_BUDGET = 1024
#: tokens left for the answer after the thinking budget when the call sets no ``max_tokens``.
ANSWER_TOKENS = 4096


def _shown(value: Any) -> str:
    if isinstance(value, int | float | str) and len(repr(value)) <= 40:
        return repr(value)
    return f"<{type(value).__name__}>"


def _unit(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInputError(f"{name}={_shown(value)} must be a number in 0..1 on Bedrock")


def _stop(name: str, value: Any) -> None:
    if isinstance(value, str):
        if not value:
            raise InvalidInputError("stop must not be empty")
        return
    if (
        not isinstance(value, Sequence)
        or isinstance(value, bytes | bytearray)
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise InvalidInputError(f"stop must be a string or a list of non-empty strings, not {_shown(value)}")


def _mapping(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{name} must be a dict, not {type(value).__name__}")


def _strings(name: str, value: Any) -> None:
    if (
        isinstance(value, str | bytes)
        or not isinstance(value, Sequence)
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise InvalidInputError(f"{name} must be a list of non-empty strings, not {type(value).__name__}")


def _str_mapping(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInputError(f"{name} must be a dict of strings, not {type(value).__name__}")


def _choice(options: Sequence[str], key: str) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            value = value.get(key)
        if not isinstance(value, str) or value not in options:
            raise InvalidInputError(
                f"{name}={_shown(value)} must be one of {', '.join(map(repr, options))}",
                hint=f"or a dict {{{key!r}: ...}}",
            )

    return check


def _effort(name: str, value: Any) -> None:
    if not isinstance(value, str) or value not in REASONING_EFFORTS:
        raise InvalidInputError(
            f"reasoning_effort={_shown(value)} must be one of {', '.join(map(repr, REASONING_EFFORTS))}"
        )


def _prompt_cache(name: str, value: Any) -> None:
    if not isinstance(value, bool) and value not in ("5m", "1h"):
        raise InvalidInputError(f"prompt_cache={_shown(value)} must be True, False, '5m' or '1h'")


_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "temperature": _unit,
    "top_p": _unit,
    "stop": _stop,
    "reasoning_effort": _effort,
    "additional_model_request_fields": _mapping,
    "additional_model_response_field_paths": _strings,
    "request_metadata": _str_mapping,
    "performance_config": _choice(("standard", "optimized"), "latency"),
    "service_tier": _choice(("priority", "default", "flex", "reserved"), "type"),
    "prompt_cache": _prompt_cache,
}


def check_parameter(name: str, value: Any) -> None:
    """Check the value of a body parameter (:class:`InvalidInputError` naming it); parameters
    checked where they are written (tools, guardrail …) pass."""
    check = _CHECKS.get(name)
    if check is not None:
        check(name, value)


# -- reasoning -------------------------------------------------------------------------------------


def reasoning_family(family: str, model_id: str) -> str:
    """``"claude"``, ``"nova"``, ``"openai"`` or ``""``: how a model takes reasoning settings,
    from its family, else its model id (``us.anthropic.claude-…``, ``amazon.nova-2-lite-…``)."""
    for text in (family.lower(), model_id.lower()):
        if "claude" in text or "anthropic." in text:
            return "claude"
        if "nova" in text:
            return "nova"
        if "gpt-oss" in text or text.startswith("openai.") or ".openai." in text:
            return "openai"
    return ""


def reasoning_fields(
    family: str, params: Mapping[str, Any], max_tokens: int | None, max_output: int
) -> tuple[dict[str, Any], int | None]:
    """``(fields, max_tokens)``: the ``additionalModelRequestFields`` that ``reasoning_effort``
    / ``thinking`` in ``params`` stand for on a model of ``family`` (see the module doc), and the
    ``maxTokens`` to send (Claude's must exceed its thinking budget)."""
    effort, thinking = params.get("reasoning_effort"), params.get("thinking")
    if effort is None and thinking is None:
        return {}, max_tokens
    if effort is not None and thinking is not None:
        raise InvalidInputError("pass one of reasoning_effort and thinking")
    if effort is not None:
        _effort("reasoning_effort", effort)
    if family == "claude":
        return _claude(effort, thinking, max_tokens, max_output)
    if thinking is not None:
        raise InvalidInputError(
            "thinking= (a thinking budget) is for Claude models",
            hint="use reasoning_effort=, or additional_model_request_fields= with the model's own fields",
        )
    if effort == "none":
        return {}, max_tokens
    if family == "nova":
        level = "low" if effort == "minimal" else effort
        return {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": level}}, max_tokens
    if family == "openai":
        return {"reasoning_effort": "low" if effort == "minimal" else effort}, max_tokens
    raise InvalidInputError(
        "reasoning_effort is not known for this model family on Bedrock",
        hint="pass the model's own reasoning fields with additional_model_request_fields=",
    )


def _claude(
    effort: str | None, thinking: Any, max_tokens: int | None, max_output: int
) -> tuple[dict[str, Any], int | None]:
    if effort is not None:
        if effort == "none":
            return {}, max_tokens
        config: dict[str, Any] = {"type": "enabled", "budget_tokens": CLAUDE_BUDGETS[effort]}
    elif isinstance(thinking, bool):
        if not thinking:
            return {}, max_tokens
        config = {"type": "enabled", "budget_tokens": CLAUDE_BUDGETS["medium"]}
    elif isinstance(thinking, Mapping):
        config = dict(thinking)
        config.setdefault("type", "enabled" if "budget_tokens" in config else "adaptive")
        if not isinstance(config["type"], str):
            raise InvalidInputError("thinking['type'] must be a string such as 'enabled'")
    else:
        raise InvalidInputError(
            "thinking must be a dict such as {'budget_tokens': 4096} (or True), "
            f"not {type(thinking).__name__}"
        )
    if config["type"] == "disabled":
        return {"thinking": config}, max_tokens
    budget = config.get("budget_tokens")
    if config["type"] == "enabled":
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < MIN_CLAUDE_BUDGET:
            raise InvalidInputError(
                f"thinking budget_tokens={_shown(budget)} must be an integer >= {MIN_CLAUDE_BUDGET}"
            )
        if budget >= max_output:
            raise InvalidInputError(
                f"thinking budget_tokens={budget} leaves no room for an answer: the model's maximum output "
                f"is {max_output:,} tokens",
                hint=f"use a budget below {max_output}",
            )
        if max_tokens is None:
            max_tokens = min(budget + ANSWER_TOKENS, max_output)
        elif max_tokens <= budget:
            raise InvalidInputError(
                f"max_tokens={max_tokens} must exceed the thinking budget ({budget} tokens)",
                hint="raise max_tokens, or lower the budget / reasoning_effort",
            )
    return {"thinking": config}, max_tokens
