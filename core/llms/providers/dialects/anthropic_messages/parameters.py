"""The call parameters the Messages API dialect takes, how each one is checked, and the merge of
defaults and call parameters for a model class of another dialect (Claude's native payloads on
Bedrock, whose model class speaks Converse).

Beyond ``max_tokens`` (every model, sent as ``max_tokens``; Anthropic requires it, so the dialect
fills in a default) the parameters are :data:`ANTHROPIC_PARAMETERS`; ``stop_sequences`` is another
name for ``stop``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ....interfaces.endpoint import Timeouts
from ....interfaces.errors import InvalidInputError

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM

__all__ = [
    "ANTHROPIC_PARAMETERS",
    "CACHE_PARAMETERS",
    "EFFORT_BUDGETS",
    "PARAMETER_ALIASES",
    "REASONING_PARAMETERS",
    "TRANSPORT_PARAMETERS",
    "cache_control_value",
    "check_value",
    "merge_parameters",
]

#: the parameters of a Messages API call (beyond ``max_tokens``).
ANTHROPIC_PARAMETERS: frozenset[str] = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "thinking",
        "reasoning_effort",
        "metadata",
        "user",
        "service_tier",
        "cache_system",
        "cache_tools",
        "cache_messages",
        "cache_control",
        "betas",
        # transport options and the request's model id, not copied into the body as they are
        "timeout",
        "read_timeout",
        "model",
    }
)
#: other spellings callers may use, mapped to the names above.
PARAMETER_ALIASES: Mapping[str, str] = {"stop_sequences": "stop"}
#: parameters that need a model with extended thinking (``capabilities.reasoning``).
REASONING_PARAMETERS: frozenset[str] = frozenset({"thinking", "reasoning_effort"})
#: the prompt-caching parameters (each: True, a TTL "5m" / "1h", or a cache_control dict).
CACHE_PARAMETERS: frozenset[str] = frozenset(
    {"cache_system", "cache_tools", "cache_messages", "cache_control"}
)
#: parameters that are not body fields (transport options, the model id, the beta header).
TRANSPORT_PARAMETERS: frozenset[str] = frozenset({"timeout", "read_timeout", "model", "betas"})
#: ``reasoning_effort`` → the thinking budget in tokens ("none": no thinking).
EFFORT_BUDGETS: Mapping[str, int] = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
}
_TTLS = ("5m", "1h")
_SERVICE_TIERS = ("auto", "standard_only")


def _shown(value: Any) -> str:
    """A rejected value in a message: numbers and short strings as they are, else the type."""
    if isinstance(value, int | float | str) and len(repr(value)) <= 40:
        return repr(value)
    return f"<{type(value).__name__}>"


def _number(low: float, high: float) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise InvalidInputError(f"{name}={_shown(value)} must be a number in {low:g}..{high:g}")

    return check


def _top_k(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name}={_shown(value)} must be an integer >= 1")


def _stop(name: str, value: Any) -> None:
    if isinstance(value, str):
        if not value:
            raise InvalidInputError("stop must not be an empty string")
        return
    if (
        not isinstance(value, Sequence)
        or isinstance(value, bytes | bytearray)
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise InvalidInputError(f"stop must be a string or a list of non-empty strings, not {_shown(value)}")


def _metadata(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or set(value) - {"user_id"}:
        raise InvalidInputError(
            "metadata must be a dict with only 'user_id' (Anthropic takes no other metadata)",
            hint="metadata={'user_id': 'an opaque id'}, or user='an opaque id'",
        )
    user_id = value.get("user_id")
    if user_id is not None and not isinstance(user_id, str):
        raise InvalidInputError(f"metadata.user_id must be a string, not {type(user_id).__name__}")


def _string(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{name} must be a non-empty string, not {_shown(value)}")


def _service_tier(name: str, value: Any) -> None:
    if value not in _SERVICE_TIERS:
        raise InvalidInputError(f"service_tier={_shown(value)} must be 'auto' or 'standard_only'")


def _effort(name: str, value: Any) -> None:
    if value != "none" and value not in EFFORT_BUDGETS:
        options = ", ".join(repr(e) for e in ("none", *EFFORT_BUDGETS))
        raise InvalidInputError(f"reasoning_effort={_shown(value)} must be one of {options}")


def _betas(name: str, value: Any) -> None:
    if isinstance(value, str):
        values: Sequence[Any] = [value]
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        values = value
    else:
        raise InvalidInputError(f"betas must be a beta name or a list of them, not {_shown(value)}")
    for beta in values:
        if not isinstance(beta, str) or not beta or any(c in beta for c in ",\r\n"):
            raise InvalidInputError(f"betas holds {_shown(beta)}: each beta is one name without commas")


def _cache(name: str, value: Any) -> None:
    cache_control_value(name, value)


#: the value checks of body parameters (tools, tool_choice, response_format and thinking are
#: checked where they are written, in :mod:`.payload`).
_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "temperature": _number(0, 1),
    "top_p": _number(0, 1),
    "top_k": _top_k,
    "stop": _stop,
    "metadata": _metadata,
    "user": _string,
    "service_tier": _service_tier,
    "reasoning_effort": _effort,
    "betas": _betas,
    "cache_system": _cache,
    "cache_tools": _cache,
    "cache_messages": _cache,
    "cache_control": _cache,
}


def check_value(name: str, value: Any) -> None:
    """Check the value of a parameter whose check lives here (no-op for the others)."""
    check = _CHECKS.get(name)
    if check is not None:
        check(name, value)


def cache_control_value(name: str, value: Any) -> dict[str, Any] | None:
    """A prompt-caching parameter as a ``cache_control`` object: True → ``{"type": "ephemeral"}``
    (5 minutes), ``"5m"`` / ``"1h"`` → with that ``ttl``, a dict → as given (checked); False →
    None (no cache point)."""
    if value is False:
        return None
    if value is True:
        return {"type": "ephemeral"}
    if isinstance(value, str):
        if value not in _TTLS:
            raise InvalidInputError(f"{name}={_shown(value)} must be True, '5m' or '1h' (a cache TTL)")
        return {"type": "ephemeral", "ttl": value}
    if isinstance(value, Mapping):
        if (
            value.get("type") != "ephemeral"
            or set(value) - {"type", "ttl"}
            or value.get("ttl", "5m") not in _TTLS
        ):
            raise InvalidInputError(
                f"{name} must be {{'type': 'ephemeral'}} with an optional 'ttl' of '5m' or '1h'"
            )
        return dict(value)
    raise InvalidInputError(
        f"{name} must be True, False, '5m', '1h' or a cache_control dict, not {_shown(value)}"
    )


def merge_parameters(model: BaseLLM, params: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata defaults then ``params``, checked against this dialect's parameters and the
    model's rules (``unsupported``, ``extra_allowed``, the temperature range, ``max_tokens``), for
    a model class of another dialect (its own ``defaults`` are its dialect's and are not used).
    The same rules as ``BaseLLM._merge_parameters``, which the dialect's own model class uses."""
    rules = model.metadata.parameters
    known = ANTHROPIC_PARAMETERS | rules.extra_allowed | {"max_tokens"}
    merged: dict[str, Any] = {}
    for source in (rules.defaults, params):
        for key, value in source.items():
            name = PARAMETER_ALIASES.get(key, key)
            if name != key and name in source:
                raise InvalidInputError(f"pass only one of {key!r} and {name!r}")
            merged[name] = value
    out: dict[str, Any] = {}
    for name, value in merged.items():
        if value is None:
            continue
        if name in rules.unsupported:
            if model._drop_unsupported:
                model._log_dropped(name)
                continue
            raise InvalidInputError(
                f"parameter {name!r} is not supported by {model.name}",
                hint=f"remove {name!r}, or create the model with drop_unsupported=True to drop it",
            )
        if name not in known:
            raise InvalidInputError(
                f"unknown parameter {name!r} for {model.name} (Anthropic Messages API)",
                hint=f"allowed: {', '.join(sorted(known))}",
            )
        if name == "temperature":
            model._check_temperature(value)
        elif name == "max_tokens":
            model._check_max_tokens(value)
        elif name == "timeout" and isinstance(value, Timeouts):
            value = value.total
            if merged.get("read_timeout") is None:
                out["read_timeout"] = merged["timeout"].read
        elif name in ("timeout", "read_timeout") and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf
        ):
            raise InvalidInputError(f"{name}={_shown(value)} must be a positive number of seconds")
        out[name] = value
    return out
