"""Reading a Responses API request (``POST /v1/responses``) the way the real service does.

:func:`parse_responses_request` validates the JSON body (``input`` items, flat function tools,
``tool_choice``, ``text.format``, ``reasoning``, ``include``, the reasoning-model rules), checks
that each ``function_call_output`` answers a ``function_call`` and that each reasoning item sent
back carries encrypted content this simulator made (when ``store`` is false it must), and
returns a :class:`ResponsesRequest` whose :attr:`~ResponsesRequest.chat` is the wire-neutral
:class:`~.generation.ChatRequest` the answer generator takes. Every refusal is a
:class:`~.openai_wire.Rejection` with the real service's error body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .generation import ChatRequest, ToolSpec
from .openai_request import CONTENT_FILTER_TRIGGER, is_openai_model, is_reasoning_model, unparseable_body
from .openai_wire import Rejection, error_envelope

__all__ = [
    "REFUSAL_TRIGGER",
    "ResponsesRequest",
    "encrypt_reasoning",
    "parse_responses_request",
]

#: in the last user message: the model refuses (a ``refusal`` content part).
REFUSAL_TRIGGER = "[[refusal]]"

_ROLES = ("user", "assistant", "system", "developer")
_ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning")
_INPUT_PARTS = ("input_text", "input_image", "input_file", "output_text", "refusal")
_INCLUDES = (
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
    "message.input_image.image_url",
    "file_search_call.results",
    "web_search_call.action.sources",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
)
#: Chat Completions parameters a Responses request may not carry, and what the service says.
_MOVED = {
    "response_format": "In the Responses API, this parameter has moved to 'text.format'.",
    "max_tokens": "In the Responses API, use 'max_output_tokens' instead.",
    "max_completion_tokens": "In the Responses API, use 'max_output_tokens' instead.",
    "reasoning_effort": "In the Responses API, this parameter has moved to 'reasoning.effort'.",
}
_UNKNOWN = (
    "messages",
    "n",
    "stop",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
    "logprobs",
)
_EFFORT_TOKENS = {"none": 0, "minimal": 4, "low": 8, "medium": 16, "high": 32, "xhigh": 64}
_SUMMARIES = ("auto", "concise", "detailed")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ENCRYPTED_PREFIX = "gAAAAAB"
_ENCRYPTED_MARK = "sim-reasoning:"
_MESSAGE_OVERHEAD = 4
_REPLY_PRIMING = 3
_IMAGE_TOKENS = 85
_MIN_OUTPUT_TOKENS = 16
#: request fields the response repeats as they were sent.
_ECHOED = ("instructions", "max_output_tokens", "previous_response_id", "tool_choice", "truncation", "user")


@dataclass(slots=True)
class ResponsesRequest:
    """What the simulator needs from a Responses request: the generator's :class:`ChatRequest`
    and the fields the response echoes or depends on."""

    chat: ChatRequest
    reasoning_model: bool = False
    summary: str | None = None
    effort: str | None = None
    include: list[str] = field(default_factory=list)
    store: bool = True
    refusal: bool = False
    echo: dict[str, Any] = field(default_factory=dict)


def encrypt_reasoning(item_id: str) -> str:
    """The opaque ``encrypted_content`` of the reasoning item ``item_id`` (Fernet-looking)."""
    token = base64.urlsafe_b64encode(f"{_ENCRYPTED_MARK}{item_id}".encode()).decode("ascii")
    return _ENCRYPTED_PREFIX + token


def _verified(item_id: str, content: str) -> bool:
    if not content.startswith(_ENCRYPTED_PREFIX):
        return False
    try:
        decoded = base64.urlsafe_b64decode(content[len(_ENCRYPTED_PREFIX) :]).decode()
    except (binascii.Error, ValueError):
        return False
    return decoded == f"{_ENCRYPTED_MARK}{item_id}"


def _reject(message: str, param: str | None = None, code: str | None = None, status: int = 400) -> Rejection:
    return Rejection(status, error_envelope(message, param=param, code=code))


def _missing(param: str) -> Rejection:
    return _reject(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def _bad_type(param: str, expected: str) -> Rejection:
    return _reject(f"Invalid type for '{param}': expected {expected}.", param, "invalid_type")


def _bad_value(param: str, value: Any, allowed: tuple[str, ...]) -> Rejection:
    options = ", ".join(f"'{a}'" for a in allowed)
    return _reject(
        f"Invalid value: '{str(value)[:60]}'. Supported values are: {options}.", param, "invalid_value"
    )


def _unsupported(param: str) -> Rejection:
    return _reject(
        f"Unsupported parameter: '{param}' is not supported with this model.", param, "unsupported_parameter"
    )


@dataclass(slots=True)
class _Input:
    """The conversation read from ``input``: (role, text, images) per message, and tool state."""

    messages: list[tuple[str, str, int]] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)
    trailing_outputs: list[str] = field(default_factory=list)


def _content(content: Any, where: str) -> tuple[str, int]:
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise _bad_type(f"{where}.content", "a string or an array of objects")
    texts: list[str] = []
    images = 0
    for j, part in enumerate(content):
        param = f"{where}.content[{j}]"
        if not isinstance(part, Mapping):
            raise _bad_type(param, "an object")
        kind = part.get("type")
        if kind is None:
            raise _missing(f"{param}.type")
        if kind not in _INPUT_PARTS:
            raise _bad_value(f"{param}.type", kind, _INPUT_PARTS)
        if kind in ("input_text", "output_text"):
            if not isinstance(part.get("text"), str):
                raise _missing(f"{param}.text")
            texts.append(part["text"])
        elif kind == "input_image":
            if not isinstance(part.get("image_url"), str) and not isinstance(part.get("file_id"), str):
                raise _reject(
                    f"Missing required parameter: '{param}.image_url'.", param, "missing_required_parameter"
                )
            images += 1
        elif kind == "input_file" and not any(
            isinstance(part.get(k), str) for k in ("file_data", "file_id", "file_url")
        ):
            raise _missing(f"{param}.file_data")
    return " ".join(texts), images


def _read_input(body: Mapping[str, Any], store: bool) -> _Input:
    raw = body.get("input")
    if raw is None:
        raise _missing("input")
    out = _Input()
    if isinstance(raw, str):
        out.messages.append(("user", raw, 0))
        return out
    if not isinstance(raw, list):
        raise _bad_type("input", "a string or an array of objects")
    if not raw:
        raise _reject(
            "Invalid 'input': empty array. Expected an array with minimum length 1.", "input", "empty_array"
        )
    resumes = isinstance(body.get("previous_response_id"), str)
    for i, item in enumerate(raw):
        where = f"input[{i}]"
        if not isinstance(item, Mapping):
            raise _bad_type(where, "an object")
        kind = item.get("type", "message")
        if kind not in _ITEM_TYPES:
            raise _bad_value(f"{where}.type", kind, _ITEM_TYPES)
        if kind != "function_call_output":
            out.trailing_outputs = []
        match kind:
            case "message":
                role = item.get("role")
                if role is None:
                    raise _missing(f"{where}.role")
                if role not in _ROLES:
                    raise _bad_value(f"{where}.role", role, _ROLES)
                if "content" not in item:
                    raise _missing(f"{where}.content")
                text, images = _content(item["content"], where)
                out.messages.append((role, text, images))
            case "function_call":
                for key in ("call_id", "name", "arguments"):
                    if not isinstance(item.get(key), str):
                        raise _missing(f"{where}.{key}")
                out.calls.add(item["call_id"])
                out.messages.append(("assistant", item["name"] + " " + item["arguments"], 0))
            case "function_call_output":
                call_id = item.get("call_id")
                if not isinstance(call_id, str):
                    raise _missing(f"{where}.call_id")
                output = item.get("output")
                if not isinstance(output, str | list):
                    raise _missing(f"{where}.output")
                if call_id not in out.calls and not resumes:
                    raise _reject(
                        f"No tool call found for function call output with call_id {call_id}.", "input"
                    )
                text = output if isinstance(output, str) else json.dumps(output)
                out.trailing_outputs.append(text)
                out.messages.append(("tool", text, 0))
            case "reasoning":
                _check_reasoning_item(item, where, store)
    return out


def _check_reasoning_item(item: Mapping[str, Any], where: str, store: bool) -> None:
    item_id = item.get("id")
    if not isinstance(item_id, str):
        raise _missing(f"{where}.id")
    if not isinstance(item.get("summary"), list):
        raise _missing(f"{where}.summary")
    encrypted = item.get("encrypted_content")
    if encrypted is None:
        if not store:
            raise _reject(
                f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to false. "
                "Try again with `store` set to true, or remove this item from your input.",
                "input",
                status=404,
            )
        return
    if not isinstance(encrypted, str) or not _verified(item_id, encrypted):
        raise _reject(
            f"The encrypted content for item {item_id} could not be verified.",
            f"{where}.encrypted_content",
            "invalid_encrypted_content",
        )


def _tools(body: Mapping[str, Any]) -> list[ToolSpec]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _bad_type("tools", "an array of objects")
    specs: list[ToolSpec] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, Mapping):
            raise _bad_type(where, "an object")
        if tool.get("type") != "function":
            continue  # hosted tools (web_search, file_search ...) are accepted and never called
        name = tool.get("name")
        if not isinstance(name, str):
            raise _missing(f"{where}.name")
        if not _TOOL_NAME.match(name):
            raise _reject(
                f"Invalid '{where}.name': string does not match pattern '^[a-zA-Z0-9_-]+$'.",
                f"{where}.name",
                "invalid_value",
            )
        parameters = tool.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(parameters, Mapping):
            raise _bad_type(f"{where}.parameters", "an object")
        specs.append(ToolSpec(name=name, parameters=dict(parameters)))
    return specs


def _tool_choice(body: Mapping[str, Any], tools: list[ToolSpec]) -> tuple[str, str | None]:
    choice = body.get("tool_choice")
    if choice is None:
        return "auto", None
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise _bad_value("tool_choice", choice, ("none", "auto", "required"))
        return choice, None
    if not isinstance(choice, Mapping):
        raise _bad_type("tool_choice", "a string or an object")
    if choice.get("type") != "function":
        return "auto", None
    name = choice.get("name")
    if not isinstance(name, str):
        raise _missing("tool_choice.name")
    if all(t.name != name for t in tools):
        raise _reject(f"Tool choice '{name}' not found in 'tools' parameter.", "tool_choice", "invalid_value")
    return "forced", name


def _text_format(body: Mapping[str, Any], texts: list[str]) -> tuple[dict[str, Any] | None, bool]:
    text = body.get("text")
    if text is None:
        return None, False
    if not isinstance(text, Mapping):
        raise _bad_type("text", "an object")
    fmt = text.get("format")
    if fmt is None:
        return None, False
    if not isinstance(fmt, Mapping):
        raise _bad_type("text.format", "an object")
    match fmt.get("type"):
        case "text":
            return None, False
        case "json_object":
            if not any("json" in t.lower() for t in texts):
                raise _reject(
                    "Response input messages must contain the word 'json' in some form to use "
                    "'text.format' of type 'json_object'.",
                    "input",
                )
            return None, True
        case "json_schema":
            if not isinstance(fmt.get("name"), str):
                raise _missing("text.format.name")
            schema = fmt.get("schema")
            if not isinstance(schema, Mapping):
                raise _missing("text.format.schema")
            return dict(schema), False
        case other:
            raise _bad_value("text.format.type", other, ("text", "json_object", "json_schema"))


def _number(body: Mapping[str, Any], name: str, lo: float, hi: float, *, integer: bool) -> Any:
    value = body.get(name)
    if value is None:
        return None
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        raise _bad_type(name, "an integer" if integer else "a decimal")
    if not lo <= value <= hi:
        kind = "integer" if integer else "decimal"
        where, bound = ("below minimum", f">= {lo:g}") if value < lo else ("above maximum", f"<= {hi:g}")
        raise _reject(
            f"Invalid '{name}': {kind} {where} value. Expected a value {bound}, but got {value} instead.",
            name,
            f"{kind}_{where.split()[0]}_{'min' if value < lo else 'max'}_value",
        )
    return value


def _reasoning(body: Mapping[str, Any], model: str) -> tuple[bool, str | None, str | None]:
    """(reasoning model?, effort, summary), with the reasoning-model parameter rules applied."""
    reasoning = body.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, Mapping):
        raise _bad_type("reasoning", "an object")
    effort = reasoning.get("effort") if reasoning else None
    summary = reasoning.get("summary") if reasoning else None
    if effort is not None and effort not in _EFFORT_TOKENS:
        raise _bad_value("reasoning.effort", effort, tuple(_EFFORT_TOKENS))
    if summary is not None and summary not in _SUMMARIES:
        raise _bad_value("reasoning.summary", summary, _SUMMARIES)
    if not is_openai_model(model):  # a deployment or host's name: any reasoning asked for is taken
        return effort is not None or summary is not None, effort, summary
    if not is_reasoning_model(model):
        if effort is not None:
            raise _unsupported("reasoning.effort")
        if summary is not None:
            raise _unsupported("reasoning.summary")
        return False, None, None
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and value != 1:
            raise _unsupported(name)
    return True, effort, summary


def parse_responses_request(body: Any, *, context_chars: int) -> ResponsesRequest:
    """Validate a Responses API body and extract what the answer depends on. Raises
    :class:`Rejection` with the real service's error body for anything it would refuse."""
    if not isinstance(body, Mapping):
        raise unparseable_body()
    for name, hint in _MOVED.items():
        if name in body:
            raise _reject(f"Unsupported parameter: '{name}'. {hint}", name, "unsupported_parameter")
    for name in _UNKNOWN:
        if name in body:
            raise _reject(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _missing("model")
    store = body.get("store", True)
    if not isinstance(store, bool):
        raise _bad_type("store", "a boolean")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad_type("stream", "a boolean")
    include = body.get("include") or []
    if not isinstance(include, list) or not all(isinstance(v, str) for v in include):
        raise _bad_type("include", "an array of strings")
    for i, value in enumerate(include):
        if value not in _INCLUDES:
            raise _bad_value(f"include[{i}]", value, _INCLUDES)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _bad_type("instructions", "a string")
    conversation = _read_input(body, store)
    _number(body, "temperature", 0, 2, integer=False)
    _number(body, "top_p", 0, 1, integer=False)
    max_tokens = _number(body, "max_output_tokens", _MIN_OUTPUT_TOKENS, 10**9, integer=True)
    reasons, effort, summary = _reasoning(body, model)
    tools = _tools(body)
    tool_choice, forced = _tool_choice(body, tools)
    messages = conversation.messages
    schema, json_object = _text_format(body, [t for _, t, _ in messages] + [instructions or ""])
    parallel = body.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise _bad_type("parallel_tool_calls", "a boolean")

    chars = sum(len(text) for _, text, _ in messages) + len(instructions or "")
    if chars > context_chars:
        raise _reject(
            f"Your input exceeds the context window of this model ({context_chars // 4} tokens). "
            "Please adjust your input and try again.",
            "input",
            "context_length_exceeded",
        )
    prompt_tokens = _REPLY_PRIMING + len((instructions or "").split())
    prompt_tokens += sum(_MESSAGE_OVERHEAD + len(t.split()) + _IMAGE_TOKENS * im for _, t, im in messages)
    if tools:
        prompt_tokens += len(json.dumps(body["tools"], separators=(",", ":"))) // 4
    user_text, images = next(((t, im) for r, t, im in reversed(messages) if r == "user"), ("", 0))
    trailing = conversation.trailing_outputs
    chat = ChatRequest(
        model=model,
        user_text=user_text,
        image_count=images,
        tool_results=list(trailing) if trailing else None,
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        parallel_tool_calls=parallel,
        response_schema=schema,
        json_object=json_object,
        max_tokens=max_tokens,
        prompt_tokens=prompt_tokens,
        reasoning_tokens=max(_EFFORT_TOKENS[effort or "medium"], 1) if reasons else 0,
        content_filter=any(CONTENT_FILTER_TRIGGER in t for r, t, _ in messages if r == "user"),
        stream=stream,
    )
    echo = {key: body.get(key) for key in _ECHOED}
    echo.update(
        parallel_tool_calls=parallel,
        temperature=body.get("temperature", 1.0),
        top_p=body.get("top_p", 1.0),
        tools=body.get("tools") or [],
        metadata=body.get("metadata") or {},
        text={"format": (body.get("text") or {}).get("format") or {"type": "text"}},
    )
    return ResponsesRequest(
        chat=chat,
        reasoning_model=reasons,
        summary=summary,
        effort=effort,
        include=list(include),
        store=store,
        refusal=REFUSAL_TRIGGER in user_text,
        echo=echo,
    )
