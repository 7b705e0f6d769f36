"""Building a Messages API request for a model: :func:`prepare`, shared by the dialect's own
model class (``anthropic/…``) and by Claude's native payloads on other clouds (Bedrock's
``invoke``), which differ only in the envelope (:data:`Envelope`).

Everything is checked before anything is sent: the model's input media
(``_validate_messages``), its parameter rules, its capabilities (tools, structured output,
thinking), the context window (``_check_token_limits``), and the Messages API's own rules
(thinking budget below ``max_tokens``, sampling while thinking, at most four cache points …).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ....interfaces.errors import InvalidInputError, UnsupportedOperationError
from ....interfaces.messages import MessagesInput
from .blocks import native_tokens, separate_native
from .parameters import REASONING_PARAMETERS, check_value
from .payload import (
    add_cache_points,
    body_parameters,
    format_tool,
    messages_to_wire,
    thinking_budget,
    thinking_config,
    tools_and_choice,
)

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM

__all__ = ["ANTHROPIC_VERSION", "BEDROCK_VERSION", "DEFAULT_MAX_TOKENS", "Envelope", "Prepared", "prepare"]

#: the ``anthropic-version`` header of the Messages API.
ANTHROPIC_VERSION = "2023-06-01"
#: the ``anthropic_version`` body field of Claude's native payloads on Bedrock.
BEDROCK_VERSION = "bedrock-2023-05-31"
#: ``max_tokens`` when the caller gives none (Anthropic requires it): this many tokens plus the
#: thinking budget, within the model's maximum output and what the context window leaves.
DEFAULT_MAX_TOKENS = 8192
#: how the body is wrapped: Anthropic's API (``model`` and ``stream`` in the body, betas in the
#: ``anthropic-beta`` header) or Bedrock's ``invoke`` (neither: the model is in the URL and the
#: operation says whether it streams; ``anthropic_version`` and ``anthropic_beta`` in the body).
Envelope = Literal["anthropic", "bedrock"]


@dataclass(slots=True)
class Prepared:
    """A checked request: its body, and what reading the answer needs."""

    body: dict[str, Any]
    #: the model id the request is for, and whether the caller fixed it (``model=``).
    model: str
    model_fixed: bool
    response_format: Any = None
    #: the structured-output tool's name (its input is the answer), if any.
    format_tool: str | None = None
    read_timeout: float | None = None
    total_timeout: float | None = None
    #: the ``anthropic-beta`` header of this call (the Anthropic envelope), if any.
    headers: dict[str, str] | None = None


def _check_features(model: BaseLLM, params: dict[str, Any]) -> None:
    """Refuse tools / structured output / thinking on a model without them (thinking is dropped
    instead with ``drop_unsupported``)."""
    caps = model.metadata.capabilities
    fmt = params.get("response_format")
    wanted = (
        ("tools", bool(params.get("tools")), caps.tools),
        (
            "response_format",
            fmt is not None and not (isinstance(fmt, Mapping) and fmt.get("type") == "text"),
            caps.tools or caps.json_schema,
        ),
    )
    for name, asked, supported in wanted:
        if asked and not supported:
            raise UnsupportedOperationError(
                f"{model.name} does not support {name}", hint="see the model's metadata.capabilities"
            )
    if caps.reasoning:
        return
    for name in REASONING_PARAMETERS.intersection(params):
        value = params[name]
        if (
            value is False
            or value == "none"
            or (isinstance(value, Mapping) and value.get("type") == "disabled")
        ):
            continue  # "no thinking" is what this model does anyway
        if model._drop_unsupported:
            model._log_dropped(name)
            del params[name]
            continue
        raise UnsupportedOperationError(
            f"{model.name} does not think (no extended thinking): {name!r} is not supported",
            hint=f"remove {name!r}, or create the model with drop_unsupported=True to drop it",
        )


def prepare(
    model: BaseLLM,
    messages: MessagesInput,
    merged: Mapping[str, Any],
    *,
    stream: bool,
    envelope: Envelope = "anthropic",
) -> Prepared:
    """The request of a call with merged, checked parameters ``merged``: the body of ``POST
    /v1/messages`` (``envelope="anthropic"``) or of Bedrock's ``invoke`` (``"bedrock"``)."""
    model._check_text_output_support()
    params = dict(merged)
    _check_features(model, params)
    replaced, natives = separate_native(messages)
    msgs = model._validate_messages(replaced)
    system, wire_messages = messages_to_wire(msgs, natives)
    if not wire_messages:
        raise InvalidInputError(
            "there is no user message: Anthropic needs at least one message besides the system prompt"
        )
    typed = [m for i, m in enumerate(msgs) if i not in natives]
    estimate = model._estimate_tokens(typed) + sum(native_tokens(n) for n in natives.values())
    thinking = thinking_config(params.get("thinking"), params.get("reasoning_effort"))
    budget = thinking_budget(thinking)
    max_tokens = _max_tokens(model, params.get("max_tokens"), estimate, budget)
    fmt = format_tool(params["response_format"]) if "response_format" in params else None
    tools, choice = tools_and_choice(params, fmt, thinking)

    wire_model = params.get("model")
    if wire_model is not None and (not isinstance(wire_model, str) or not wire_model.strip()):
        raise InvalidInputError("model= must be a non-empty model id string")
    model_id = wire_model if wire_model is not None else model.metadata.model_id
    body: dict[str, Any] = {}
    if envelope == "anthropic":
        body["model"] = model_id
    else:
        body["anthropic_version"] = BEDROCK_VERSION
    body["max_tokens"] = max_tokens
    body["messages"] = wire_messages
    if system:
        body["system"] = system
    body.update(body_parameters(params, thinking))
    if thinking is not None:
        body["thinking"] = thinking
    if tools:
        body["tools"] = tools
    if choice is not None:
        body["tool_choice"] = choice
    add_cache_points(body, params)
    if system and len(system) == 1 and set(system[0]) == {"type", "text"}:
        body["system"] = system[0]["text"]  # one plain block: the string form
    headers = None
    betas = params.get("betas")
    if betas is not None:
        check_value("betas", betas)
        names = [betas] if isinstance(betas, str) else list(betas)
        if envelope == "anthropic":
            headers = {"anthropic-beta": ",".join(names)}
        else:
            body["anthropic_beta"] = names
    if stream and envelope == "anthropic":
        body["stream"] = True
    return Prepared(
        body=body,
        model=model_id,
        model_fixed=wire_model is not None,
        response_format=params.get("response_format") if fmt is not None else None,
        format_tool=fmt.name if fmt is not None else None,
        read_timeout=params.get("read_timeout"),
        total_timeout=params.get("timeout"),
        headers=headers,
    )


def _max_tokens(model: BaseLLM, given: Any, estimate: int, budget: int) -> int:
    """``max_tokens``: the caller's (above the thinking budget), or the default (see
    :data:`DEFAULT_MAX_TOKENS`); the prompt estimate plus it must fit the context window."""
    meta = model.metadata
    if given is not None:
        if budget and given <= budget:
            raise InvalidInputError(
                f"max_tokens={given} must be above the thinking budget ({budget} tokens)",
                hint=f"raise max_tokens (the answer gets max_tokens - {budget}), or lower the budget",
            )
        model._check_token_limits(estimate, given)
        return int(given)
    value = min(meta.max_output_tokens, DEFAULT_MAX_TOKENS + budget, meta.context_window - estimate)
    if value <= budget:
        model._check_token_limits(estimate, budget + 1)  # raises when the window is what is short
        raise InvalidInputError(
            f"the thinking budget ({budget} tokens) leaves no room for an answer: {model.name} writes at "
            f"most {meta.max_output_tokens:,} tokens",
            hint="lower the budget (thinking={'type': 'enabled', 'budget_tokens': ...} or reasoning_effort)",
        )
    return value
