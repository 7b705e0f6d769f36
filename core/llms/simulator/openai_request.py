"""Reading an OpenAI chat-completions request the way the real service does.

:func:`parse_chat_request` validates the JSON body (messages, parameters, tools, response format),
applies the real parameter rules (reasoning models: ``temperature`` must be 1, ``max_tokens`` is
refused), checks the context length and returns the wire-neutral :class:`ChatRequest`. Every
refusal is a :class:`Rejection` carrying the HTTP 400 body a real server would send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .generation import ChatRequest, ToolSpec
from .hosts import REASONING_TRIGGER
from .openai_wire import Rejection, error_envelope

__all__ = [
    "CONTENT_FILTER_TRIGGER",
    "is_openai_model",
    "is_reasoning_model",
    "parse_chat_request",
    "unparseable_body",
]

CONTENT_FILTER_TRIGGER = "[[content_filter]]"

_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_PART_TYPES = ("text", "image_url", "input_audio", "refusal", "audio", "file")
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")
_OPENAI_MODEL = re.compile(r"^(o\d|gpt-|chatgpt-|ft:|text-|davinci|babbage)")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_EFFORT_TOKENS = {"none": 0, "minimal": 4, "low": 8, "medium": 16, "high": 32, "xhigh": 64}
_MESSAGE_OVERHEAD = 4
_REPLY_PRIMING = 3
_IMAGE_TOKENS = 85


def is_reasoning_model(model: str) -> bool:
    """o-series (``o1``, ``o3-mini``, ``o4-mini``...) and ``gpt-5*`` models."""
    return _REASONING_MODEL.match(model) is not None


def is_openai_model(model: str) -> bool:
    """An OpenAI model name (``gpt-*``, o-series, ``chatgpt-*``, fine-tunes...); any other name
    (``llama-3.3-70b-versatile``, ``deepseek-reasoner``...) is an OpenAI-compatible host's model,
    to which OpenAI's parameter rules do not apply."""
    return _OPENAI_MODEL.match(model) is not None


def unparseable_body() -> Rejection:
    """The 400 a real server sends for a body that is not a JSON object."""
    return _reject(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
        "JSON.)"
    )


def _reject(message: str, param: str | None = None, code: str | None = None) -> Rejection:
    return Rejection(400, error_envelope(message, param=param, code=code))


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "decimal"
        case str():
            return "string"
        case list():
            return "array"
        case _:
            return "object"


def _bad_type(param: str, expected: str, value: Any) -> Rejection:
    return _reject(
        f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead.",
        param,
        "invalid_type",
    )


def _missing(param: str) -> Rejection:
    return _reject(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def _bad_value(param: str, value: Any, allowed: tuple[str, ...]) -> Rejection:
    options = ", ".join(f"'{a}'" for a in allowed[:-1]) + f", and '{allowed[-1]}'"
    return _reject(f"Invalid value: '{value}'. Supported values are: {options}.", param, "invalid_value")


def _number(body: Mapping[str, Any], name: str, lo: float, hi: float, *, integer: bool) -> Any:
    value = body.get(name)
    if value is None:
        return None
    kind = "integer" if integer else "decimal"
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        raise _bad_type(name, "an integer" if integer else "a decimal", value)
    if value < lo:
        raise _reject(
            f"Invalid '{name}': {kind} below minimum value. Expected a value >= {lo:g}, but got {value} "
            "instead.",
            name,
            f"{kind}_below_min_value",
        )
    if value > hi:
        raise _reject(
            f"Invalid '{name}': {kind} above maximum value. Expected a value <= {hi:g}, but got {value} "
            "instead.",
            name,
            f"{kind}_above_max_value",
        )
    return value


def _bool(body: Mapping[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad_type(name, "a boolean", value)
    return value


def _content_text(content: Any, where: str) -> tuple[str, int]:
    """The text of a message's content and its number of images; checks the part shapes."""
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise _bad_type(f"{where}.content", "one of a string or an array of objects", content)
    texts: list[str] = []
    images = 0
    for j, part in enumerate(content):
        param = f"{where}.content[{j}]"
        if not isinstance(part, Mapping):
            raise _bad_type(param, "an object", part)
        kind = part.get("type")
        if kind is None:
            raise _missing(f"{param}.type")
        match kind:
            case "text" | "refusal":
                text = part.get(kind)
                if not isinstance(text, str):
                    raise _missing(f"{param}.{kind}")
                texts.append(text)
            case "image_url":
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, Mapping) else image
                if not isinstance(url, str) or not url:
                    raise _missing(f"{param}.image_url.url")
                images += 1
            case "input_audio" | "audio" | "file":
                pass
            case _:
                raise _bad_value(f"{param}.type", kind, _PART_TYPES)
    return " ".join(texts), images


def _check_messages(messages: Any) -> list[tuple[str, str, int]]:
    """Validate ``messages``; return ``(role, text, images)`` per message."""
    if messages is None:
        raise _missing("messages")
    if not isinstance(messages, list):
        raise _bad_type("messages", "an array of objects", messages)
    if not messages:
        raise _reject(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
            "array instead.",
            "messages",
            "empty_array",
        )
    out: list[tuple[str, str, int]] = []
    pending: list[str] = []  # tool_call ids of the last assistant message still without a tool answer
    pending_at = -1
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise _bad_type(where, "an object", message)
        role = message.get("role")
        if role is None:
            raise _missing(f"{where}.role")
        if role not in _ROLES:
            raise _bad_value(f"{where}.role", role, _ROLES)
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                raise _missing(f"{where}.tool_call_id")
            if pending_at < 0:
                raise _reject(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            if call_id not in pending:
                raise _reject(
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in 'tool_calls' of previous "
                    "message.",
                    f"messages.[{i}].tool_call_id",
                )
            pending.remove(call_id)
        else:
            if pending:
                raise _unanswered(pending, pending_at)
            pending_at = -1
        if role == "assistant":
            calls = message.get("tool_calls")
            if calls is not None:
                pending, pending_at = _assistant_call_ids(calls, where), i
        elif message.get("content") is None:
            raise _missing(f"{where}.content")
        text, images = _content_text(message.get("content"), where)
        out.append((role, text, images))
    if pending:
        raise _unanswered(pending, pending_at)
    return out


def _assistant_call_ids(calls: Any, where: str) -> list[str]:
    if not isinstance(calls, list):
        raise _bad_type(f"{where}.tool_calls", "an array of objects", calls)
    ids: list[str] = []
    for j, call in enumerate(calls):
        if not isinstance(call, Mapping) or not isinstance(call.get("id"), str):
            raise _missing(f"{where}.tool_calls[{j}].id")
        function = call.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise _missing(f"{where}.tool_calls[{j}].function.name")
        ids.append(call["id"])
    return ids


def _unanswered(pending: list[str], index: int) -> Rejection:
    return _reject(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
        f"messages.[{index}].role",
    )


def _check_tools(body: Mapping[str, Any]) -> list[ToolSpec]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _bad_type("tools", "an array of objects", tools)
    if not tools:
        raise _reject(
            "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array "
            "instead.",
            "tools",
            "empty_array",
        )
    specs: list[ToolSpec] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, Mapping):
            raise _bad_type(where, "an object", tool)
        if tool.get("type") != "function":
            raise _bad_value(f"{where}.type", tool.get("type"), ("function", "custom"))
        function = tool.get("function")
        if not isinstance(function, Mapping):
            raise _missing(f"{where}.function")
        name = function.get("name")
        if not isinstance(name, str):
            raise _missing(f"{where}.function.name")
        if not _TOOL_NAME.match(name):
            raise _reject(
                f"Invalid '{where}.function.name': string does not match pattern. Expected a string that "
                "matches the pattern '^[a-zA-Z0-9_-]+$'.",
                f"{where}.function.name",
                "invalid_value",
            )
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, Mapping):
            raise _bad_type(f"{where}.function.parameters", "an object", parameters)
        specs.append(ToolSpec(name=name, parameters=dict(parameters)))
    return specs


def _tool_choice(body: Mapping[str, Any], tools: list[ToolSpec]) -> tuple[str, str | None]:
    choice = body.get("tool_choice")
    if choice is None:
        return "auto", None
    if not tools:
        raise _reject(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        )
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise _bad_value("tool_choice", choice, ("none", "auto", "required"))
        return choice, None
    function = choice.get("function") if isinstance(choice, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    if not isinstance(name, str):
        raise _missing("tool_choice.function.name")
    if all(t.name != name for t in tools):
        raise _reject(
            f"Invalid value for 'tool_choice': tool choice '{name}' is not one of the provided tools.",
            "tool_choice",
            "invalid_value",
        )
    return "forced", name


def _response_format(body: Mapping[str, Any], texts: list[str]) -> tuple[dict[str, Any] | None, bool]:
    fmt = body.get("response_format")
    if fmt is None:
        return None, False
    if not isinstance(fmt, Mapping):
        raise _bad_type("response_format", "an object", fmt)
    match fmt.get("type"):
        case "text":
            return None, False
        case "json_object":
            if not any("json" in t.lower() for t in texts):
                raise _reject(
                    "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                    "'json_object'.",
                    "messages",
                )
            return None, True
        case "json_schema":
            spec = fmt.get("json_schema")
            if not isinstance(spec, Mapping):
                raise _missing("response_format.json_schema")
            if not isinstance(spec.get("name"), str):
                raise _missing("response_format.json_schema.name")
            schema = spec.get("schema", {"type": "object", "properties": {}})
            if not isinstance(schema, Mapping):
                raise _bad_type("response_format.json_schema.schema", "an object", schema)
            return dict(schema), False
        case other:
            raise _bad_value("response_format.type", other, ("json_object", "json_schema", "text"))


def _reasoning_rules(body: Mapping[str, Any], model: str) -> int:
    """Apply the reasoning-model parameter rules; return the reasoning tokens to report."""
    effort = body.get("reasoning_effort")
    if not is_openai_model(model):  # a host's model: any effort is taken, no OpenAI rule applies
        return _EFFORT_TOKENS.get(effort, _EFFORT_TOKENS["medium"]) if isinstance(effort, str) else 0
    if not is_reasoning_model(model):
        if effort is not None:
            raise _reject(
                "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                "reasoning_effort",
                "unsupported_parameter",
            )
        return 0
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        raise _reject(
            f"Unsupported value: 'temperature' does not support {json.dumps(temperature)} with this model. "
            "Only the default (1) value is supported.",
            "temperature",
            "unsupported_value",
        )
    if body.get("max_tokens") is not None:
        raise _reject(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    if effort is None:
        return _EFFORT_TOKENS["medium"]
    if effort not in _EFFORT_TOKENS:
        raise _bad_value("reasoning_effort", effort, tuple(_EFFORT_TOKENS))
    return max(_EFFORT_TOKENS[effort], 1)


def parse_chat_request(body: Any, *, model_override: str | None, context_chars: int) -> ChatRequest:
    """Validate an OpenAI chat-completions body and extract what the answer depends on.

    ``model_override`` is Azure's deployment name (the body's ``model`` is then optional).
    Raises :class:`Rejection` with the real service's 400 body for anything it would refuse.
    """
    if not isinstance(body, Mapping):
        raise unparseable_body()
    model = model_override if model_override is not None else body.get("model")
    if not isinstance(model, str) or not model:
        raise _reject("you must provide a model parameter")
    messages = _check_messages(body.get("messages"))
    stream = _bool(body, "stream", False)
    options = body.get("stream_options")
    if options is not None and not stream:
        raise _reject(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
        )
    if options is not None and not isinstance(options, Mapping):
        raise _bad_type("stream_options", "an object", options)
    n = _number(body, "n", 1, 128, integer=True) or 1
    _number(body, "temperature", 0, 2, integer=False)
    reasoning_tokens = _reasoning_rules(body, model)
    max_tokens = _number(body, "max_completion_tokens", 1, 10**9, integer=True)
    if max_tokens is None:
        max_tokens = _number(body, "max_tokens", 1, 10**9, integer=True)
    tools = _check_tools(body)
    tool_choice, forced = _tool_choice(body, tools)
    schema, json_object = _response_format(body, [text for _, text, _ in messages])

    chars = sum(len(text) for _, text, _ in messages)
    if chars > context_chars:
        raise _reject(
            f"This model's maximum context length is {context_chars // 4} tokens. However, your messages "
            f"resulted in {chars // 4} tokens. Please reduce the length of the messages.",
            "messages",
            "context_length_exceeded",
        )
    prompt_tokens = _REPLY_PRIMING + sum(
        _MESSAGE_OVERHEAD + len(text.split()) + _IMAGE_TOKENS * images for _, text, images in messages
    )
    if tools:
        prompt_tokens += len(json.dumps(body["tools"], separators=(",", ":"))) // 4

    trailing: list[str] = []
    for role, text, _ in reversed(messages):
        if role != "tool":
            break
        trailing.append(text)
    user_text, image_count = next(((t, im) for r, t, im in reversed(messages) if r == "user"), ("", 0))
    return ChatRequest(
        model=model,
        user_text=user_text,
        image_count=image_count,
        tool_results=list(reversed(trailing)) if trailing else None,
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        parallel_tool_calls=_bool(body, "parallel_tool_calls", True),
        response_schema=schema,
        json_object=json_object,
        max_tokens=max_tokens,
        prompt_tokens=prompt_tokens,
        reasoning_tokens=reasoning_tokens,
        content_filter=any(CONTENT_FILTER_TRIGGER in t for r, t, _ in messages if r == "user"),
        reasoning_marker=REASONING_TRIGGER in user_text,
        stream=stream,
        include_usage=bool(options and options.get("include_usage")),
        n=n,
    )
