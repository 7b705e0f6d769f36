"""Which call parameters the Responses API takes, and how they differ from Chat Completions'.

The model's parameter rules (``BaseLLM._merge_parameters``: defaults, unsupported parameters,
the temperature range, ``max_tokens``) are the Chat Completions ones; the Responses API adds a few
parameters of its own (:data:`RESPONSES_ONLY_PARAMETERS`, taken out of the call's parameters
before the merge and checked here) and has no equivalent for some Chat Completions ones
(:data:`CHAT_ONLY_PARAMETERS`, refused with a hint).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ....interfaces.errors import InvalidInputError

__all__ = [
    "CHAT_ONLY_PARAMETERS",
    "REASONING_SUMMARIES",
    "RESPONSES_ONLY_PARAMETERS",
    "check_own_parameter",
    "split_parameters",
]

#: parameters only the Responses API has (not in the model's Chat Completions rules).
#: ``max_output_tokens`` is another name for ``max_tokens``.
RESPONSES_ONLY_PARAMETERS: frozenset[str] = frozenset(
    {
        "reasoning_summary",
        "previous_response_id",
        "include",
        "truncation",
        "instructions",
        "max_tool_calls",
        "max_output_tokens",
    }
)

#: Chat Completions parameters the Responses API has no field for.
CHAT_ONLY_PARAMETERS: frozenset[str] = frozenset(
    {
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "logit_bias",
        "logprobs",
        "prediction",
    }
)

#: ``reasoning_summary`` values (the Responses API's ``reasoning.summary``).
REASONING_SUMMARIES = ("auto", "concise", "detailed")
_TRUNCATION = ("auto", "disabled")


def split_parameters(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(own, rest)``: the Responses-only parameters (None values left out) and the others, for
    the model's merge; ``max_output_tokens`` goes to ``rest`` as ``max_tokens`` (giving both is an
    error)."""
    own: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in params.items():
        if key == "max_output_tokens":
            if "max_tokens" in params or "max_completion_tokens" in params:
                raise InvalidInputError("pass only one of 'max_output_tokens' and 'max_tokens'")
            rest["max_tokens"] = value
        elif key in RESPONSES_ONLY_PARAMETERS:
            if value is not None:
                own[key] = value
        else:
            rest[key] = value
    return own, rest


def _choice(options: Sequence[str]) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, str) or value not in options:
            shown = repr(value)[:40] if isinstance(value, str) else f"<{type(value).__name__}>"
            raise InvalidInputError(f"{name}={shown} must be one of {', '.join(map(repr, options))}")

    return check


def _text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{name} must be a non-empty string, not {type(value).__name__}")


def _string(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, not {type(value).__name__}")


def _include(name: str, value: Any) -> None:
    if (
        isinstance(value, str | bytes)
        or not isinstance(value, Sequence)
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise InvalidInputError(
            f"{name} must be a list of strings (e.g. ['reasoning.encrypted_content']), "
            f"not {type(value).__name__}"
        )


def _count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, not {repr(value)[:40]}")


_OWN_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "reasoning_summary": _choice(REASONING_SUMMARIES),
    "previous_response_id": _text,
    "include": _include,
    "truncation": _choice(_TRUNCATION),
    "instructions": _string,
    "max_tool_calls": _count,
}


def check_own_parameter(name: str, value: Any) -> None:
    """Check the value of a Responses-only parameter (:class:`InvalidInputError` naming it)."""
    _OWN_CHECKS[name](name, value)
