"""Typed messages and checked parameters → the Responses API request body (``POST /responses``).

Pure functions: no I/O, no model state. Messages become ``input`` items:

* the first message, when it is a ``system`` message, becomes ``instructions`` (unless the call
  gives ``instructions=``); any other system or developer message is a message item of its role;
* a user message is ``{"role": "user", "content": ...}``: a string, or ``input_text`` /
  ``input_image`` (URL or ``data:`` URL, ``detail``) / ``input_file`` (``file_data`` data URL and
  ``filename``, ``file_id`` or ``file_url``) parts. The Responses API takes no audio input:
  :class:`InvalidInputError` (Chat Completions does: ``api="chat"``);
* an assistant message's text is an assistant message item, its tool calls ``function_call``
  items (``call_id``, ``name``, ``arguments``); a tool message is a ``function_call_output``;
* a Responses API item given among the messages (see :mod:`.items`) is sent as it is.

Tools, ``tool_choice`` and ``response_format`` take every form Chat Completions takes (checked by
that dialect's :mod:`~..openai_chat.payload`) and the Responses API's own (flat) forms; they are
written flat: ``{"type": "function", "name", "description", "parameters", "strict"}``,
``{"type": "function", "name"}``, and ``text.format``: ``{"type": "json_schema", "name",
"schema", "strict"}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, assert_never

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import AudioPart, ContentPart, FilePart, ImagePart, Message, TextPart
from ...base.pydantic_compat import is_pydantic_model_class
from ..openai_chat.payload import (
    PARAMETER_CHECKS,
    response_format_to_wire,
    text_content,
    tool_choice_to_wire,
    tool_to_wire,
    user_content,
)
from .parameters import RESPONSES_ONLY_PARAMETERS, check_own_parameter

__all__ = [
    "input_from_messages",
    "input_from_text_messages",
    "message_to_items",
    "responses_payload",
    "text_format",
    "tool_choice_to_responses",
    "tool_to_responses",
]

#: parameters written by :func:`responses_payload` itself rather than copied once checked.
_SPECIAL = frozenset(
    {
        "tools",
        "tool_choice",
        "response_format",
        "reasoning_effort",
        "reasoning_summary",
        "verbosity",
        "include",
        "max_output_tokens",
        "n",
    }
)


# -- input ---------------------------------------------------------------------------------------


def input_from_text_messages(
    messages: Sequence[tuple[str, str]], *, instructions: bool = True
) -> tuple[str | None, list[dict[str, Any]]]:
    """Plain text messages, ``(role, text)``, as ``(instructions, input)``: what
    :func:`input_from_messages` makes of the same messages."""
    first = None
    if instructions and messages and messages[0][0] == "system":
        first, messages = messages[0][1], messages[1:]
    return first, [{"role": role, "content": text} for role, text in messages]


def input_from_messages(
    messages: Sequence[Message],
    items: Mapping[int, dict[str, Any]] | None = None,
    *,
    instructions: bool = True,
) -> tuple[str | None, list[dict[str, Any]]]:
    """Checked messages as ``(instructions, input)``. ``items``: Responses API items to send
    as they are in place of the messages at those indexes (placeholders, see
    :func:`~.items.separate_items`). With ``instructions`` a first system message becomes the
    ``instructions``; else it is sent as a message item."""
    items = items or {}
    first = None
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        item = items.get(i)
        if item is not None:
            out.append(item)
        elif i == 0 and instructions and message.role == "system":
            first = text_content(message, f"messages[{i}]")
        else:
            out.extend(message_to_items(message, i))
    return first, out


def message_to_items(message: Message, index: int = 0) -> list[dict[str, Any]]:
    """One :class:`Message` as Responses API input items (usually one; an assistant message with
    tool calls gives one per call, after its text)."""
    where = f"messages[{index}]"
    if message.name:
        raise InvalidInputError(
            f"{where} has a name ({message.name[:40]!r}): the Responses API has no message names",
            hint="leave name out, or call through Chat Completions (api='chat')",
        )
    match message.role:
        case "system" | "developer":
            return [{"role": message.role, "content": text_content(message, where)}]
        case "user":
            return [{"role": "user", "content": user_content(message.content, where, _part_to_wire)}]
        case "assistant":
            text = text_content(message, where)
            out: list[dict[str, Any]] = []
            if text or not message.tool_calls:
                out.append({"role": "assistant", "content": text})
            for call in message.tool_calls:
                out.append(
                    {
                        "type": "function_call",
                        "call_id": call.id,
                        "name": call.function.name,
                        "arguments": call.function.arguments,
                    }
                )
            return out
        case "tool":
            if not message.tool_call_id:
                raise InvalidInputError(f"{where} has role 'tool' but no tool_call_id")
            return [
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id,
                    "output": text_content(message, where),
                }
            ]
        case _:
            assert_never(message.role)


def _part_to_wire(part: ContentPart, where: str) -> dict[str, Any]:
    match part:
        case TextPart():
            return {"type": "input_text", "text": part.text}
        case ImagePart():
            return {"type": "input_image", "image_url": part.as_data_url(), "detail": part.detail or "auto"}
        case AudioPart():
            raise InvalidInputError(
                f"{where}: the Responses API takes no audio input",
                hint="send audio through Chat Completions (api='chat') with an audio model",
            )
        case FilePart():
            if part.file_id is not None:
                return {"type": "input_file", "file_id": part.file_id}
            if part.url is not None:
                return {"type": "input_file", "file_url": part.url}
            assert part.data is not None
            encoded = base64.b64encode(part.data).decode("ascii")
            return {
                "type": "input_file",
                "filename": part.filename or "document.pdf",
                "file_data": f"data:{part.media_type};base64,{encoded}",
            }
        case _:
            assert_never(part)


# -- tools and formats ---------------------------------------------------------------------------


def tool_to_responses(tool: Any, index: int = 0) -> dict[str, Any]:
    """A Responses API tool from a Chat Completions tool dict (``{"type": "function",
    "function": {...}}``), a bare function definition, a Responses function tool (``{"type":
    "function", "name", "parameters", ...}``) or a pydantic model class (strict). Function tools
    are checked like Chat Completions ones and written flat; ``strict`` is False unless asked for
    (the Responses API would otherwise assume True, which refuses most hand-written schemas).
    Tools of another type (``web_search``, ``file_search`` …) are sent as given."""
    if isinstance(tool, Mapping) and tool.get("type") == "function" and "function" not in tool:
        tool = {k: v for k, v in tool.items() if k != "type"}  # the flat form: checked as bare
    wire = tool_to_wire(tool, index)
    if wire.get("type") != "function":
        return wire
    function = dict(wire["function"])
    out: dict[str, Any] = {"type": "function", "name": function.pop("name")}
    out.update(function)
    out["strict"] = bool(function.get("strict", False))
    return out


def tool_choice_to_responses(choice: Any) -> Any:
    """``"auto"`` / ``"none"`` / ``"required"``, a tool name (or pydantic class), a Chat
    Completions ``tool_choice`` dict or the Responses API's own (``{"type": "function", "name"}``,
    ``{"type": "allowed_tools", ...}`` …)."""
    if isinstance(choice, Mapping) and choice.get("type") == "function" and "function" not in choice:
        name = choice.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidInputError("tool_choice of type 'function' needs a name")
        return dict(choice)
    wire = tool_choice_to_wire(choice)
    if isinstance(wire, dict) and wire.get("type") == "function":
        return {"type": "function", "name": wire["function"]["name"]}
    return wire


def text_format(fmt: Any) -> dict[str, Any]:
    """``response_format`` (a pydantic model class, a Chat Completions ``response_format`` dict, a
    bare JSON schema, or the Responses API's own flat ``{"type": "json_schema", "name",
    "schema"}``) as ``text.format``."""
    if (
        isinstance(fmt, Mapping)
        and not is_pydantic_model_class(fmt)
        and fmt.get("type") == "json_schema"
        and "json_schema" not in fmt
    ):
        name, schema = fmt.get("name"), fmt.get("schema")
        if not isinstance(name, str) or not name or not isinstance(schema, Mapping):
            raise InvalidInputError("a text format of type 'json_schema' needs a name and a schema")
        return dict(fmt)
    wire = response_format_to_wire(fmt)
    if wire.get("type") != "json_schema":
        return {"type": wire["type"]}
    spec = wire["json_schema"]
    out: dict[str, Any] = {"type": "json_schema", "name": spec["name"], "schema": spec.get("schema", {})}
    if spec.get("description") is not None:
        out["description"] = spec["description"]
    if spec.get("strict") is not None:
        out["strict"] = spec["strict"]
    return out


# -- the body ------------------------------------------------------------------------------------


def responses_payload(
    model: str,
    input_items: list[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    stream: bool,
    instructions: str | None = None,
    encrypted_reasoning: bool = False,
) -> dict[str, Any]:
    """The body of ``POST /responses``.

    ``params`` are merged and checked (transport options and the per-call model left out), with
    the maximum output under ``max_output_tokens``. ``reasoning_effort`` / ``reasoning_summary``
    become ``reasoning: {effort, summary}``; ``response_format`` / ``verbosity`` become ``text:
    {format, verbosity}``. ``encrypted_reasoning`` adds ``"reasoning.encrypted_content"`` to
    ``include`` (a reasoning model called with ``store=False``: the only way to carry its
    reasoning to the next turn). ``n`` other than 1 is refused: one request, one answer.
    """
    if "stream" in params:
        raise InvalidInputError(
            "'stream' is not a parameter here", hint="call stream_answer() to stream an answer"
        )
    n = params.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n != 1):
        raise InvalidInputError(
            f"n={n!r} is not supported: each call returns one answer"[:120],
            hint="make n separate calls (e.g. with asyncio.gather)",
        )
    payload: dict[str, Any] = {"model": model, "input": input_items}
    if instructions is not None:
        payload["instructions"] = instructions
    for key, value in params.items():
        if key in _SPECIAL:
            continue
        check = PARAMETER_CHECKS.get(key)
        if check is not None:
            check(key, value)
        elif key in RESPONSES_ONLY_PARAMETERS:
            check_own_parameter(key, value)
        payload[key] = value
    if "max_output_tokens" in params:
        payload["max_output_tokens"] = params["max_output_tokens"]
    tools = params.get("tools")
    if tools is not None:
        if not isinstance(tools, Sequence) or isinstance(tools, str | bytes):
            raise InvalidInputError("tools must be a list of tool dicts or pydantic model classes")
        if tools:
            payload["tools"] = [tool_to_responses(t, i) for i, t in enumerate(tools)]
    if "tool_choice" in params:
        payload["tool_choice"] = tool_choice_to_responses(params["tool_choice"])
    reasoning = _reasoning(params)
    if reasoning:
        payload["reasoning"] = reasoning
    text = _text(params)
    if text:
        payload["text"] = text
    include = list(params.get("include") or ())
    if "include" in params:
        check_own_parameter("include", params["include"])
    if encrypted_reasoning and "reasoning.encrypted_content" not in include:
        include.append("reasoning.encrypted_content")
    if include:
        payload["include"] = include
    if stream:
        payload["stream"] = True
    return payload


def _reasoning(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    effort = params.get("reasoning_effort")
    if effort is not None:
        PARAMETER_CHECKS["reasoning_effort"]("reasoning_effort", effort)
        out["effort"] = effort
    summary = params.get("reasoning_summary")
    if summary is not None:
        check_own_parameter("reasoning_summary", summary)
        out["summary"] = summary
    return out


def _text(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "response_format" in params:
        out["format"] = text_format(params["response_format"])
    verbosity = params.get("verbosity")
    if verbosity is not None:
        PARAMETER_CHECKS["verbosity"]("verbosity", verbosity)
        out["verbosity"] = verbosity
    return out
