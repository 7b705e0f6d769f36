"""Typed messages and checked parameters → the Chat Completions request body.

Pure functions: no I/O, no model state. The model class decides *which* parameters are allowed
(``BaseLLM._merge_parameters``); this module decides how each one is written on the wire.
"""

from __future__ import annotations

import base64
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, assert_never

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import AudioPart, ContentPart, FilePart, ImagePart, Message, TextPart
from ...base.pydantic_compat import is_pydantic_model_class
from .schema import pydantic_strict_schema, schema_name

__all__ = [
    "build_chat_payload",
    "chat_payload",
    "message_to_wire",
    "response_format_to_wire",
    "text_messages_to_wire",
    "tool_choice_to_wire",
    "tool_to_wire",
]

_TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})
_FORMAT_TYPES = frozenset({"json_schema", "json_object", "text"})
#: parameters handled here rather than copied verbatim (``model`` is the first argument).
_SPECIAL = frozenset({"tools", "tool_choice", "response_format", "n", "stream", "model"})


def build_chat_payload(
    model: str,
    messages: Sequence[Message],
    params: Mapping[str, Any],
    *,
    stream: bool,
    system_role: str = "system",
) -> dict[str, Any]:
    """The request body for ``POST /chat/completions``: :func:`chat_payload` of the messages
    written with :func:`message_to_wire`."""
    wire_messages = [message_to_wire(m, system_role, i) for i, m in enumerate(messages)]
    return chat_payload(model, wire_messages, params, stream=stream)


def chat_payload(
    model: str,
    messages: list[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    stream: bool,
    stream_usage: bool = True,
) -> dict[str, Any]:
    """The request body for ``POST /chat/completions`` from messages already in the wire shape.

    ``params`` are wire-named (already merged and checked). ``tools`` may hold OpenAI tool dicts
    or pydantic model classes; ``response_format`` a pydantic model class, an OpenAI
    ``response_format`` dict or a bare JSON schema. ``n`` other than 1 is refused: one request
    yields one answer here (:class:`InvalidInputError`). Streams ask for usage unless
    ``stream_usage`` is False (a host that refuses ``stream_options``).
    """
    if "stream" in params:
        raise InvalidInputError(
            "'stream' is not a parameter here", hint="call stream_answer() to stream an answer"
        )
    n = params.get("n")
    if n is not None and n != 1:
        raise InvalidInputError(
            f"n={n!r} is not supported: each call returns one answer",
            hint="make n separate calls (e.g. with asyncio.gather)",
        )
    payload: dict[str, Any] = {"model": model, "messages": messages}
    for key, value in params.items():
        if key not in _SPECIAL:
            payload[key] = value
    tools = params.get("tools")
    if tools is not None:
        if not isinstance(tools, Sequence) or isinstance(tools, str | bytes):
            raise InvalidInputError("tools must be a list of tool dicts or pydantic model classes")
        if tools:
            payload["tools"] = [tool_to_wire(t, i) for i, t in enumerate(tools)]
    if "tool_choice" in params:
        payload["tool_choice"] = tool_choice_to_wire(params["tool_choice"])
    if "response_format" in params:
        payload["response_format"] = response_format_to_wire(params["response_format"])
    if stream:
        payload["stream"] = True
        if stream_usage:
            payload["stream_options"] = {"include_usage": True}
    return payload


def text_messages_to_wire(
    messages: Sequence[tuple[str, str]], system_role: str = "system"
) -> list[dict[str, Any]]:
    """Plain text messages, ``(role, text)`` (see
    :func:`~core.llms.interfaces.messages.plain_text_messages`), in the Chat Completions shape:
    what :func:`message_to_wire` writes for the same messages."""
    out = []
    for role, text in messages:  # a loop: cheaper than a comprehension for a few messages
        out.append({"role": system_role if role == "system" else role, "content": text})
    return out


def message_to_wire(message: Message, system_role: str = "system", index: int = 0) -> dict[str, Any]:
    """One :class:`Message` in the Chat Completions shape (``system`` is sent as
    ``system_role``, ``"developer"`` for reasoning models)."""
    where = f"messages[{index}]"
    out: dict[str, Any]
    match message.role:
        case "system" | "developer":
            role = system_role if message.role == "system" else "developer"
            out = {"role": role, "content": _text_content(message, where)}
        case "user":
            out = {"role": "user", "content": _user_content(message.content, where)}
        case "assistant":
            out = {"role": "assistant", "content": _text_content(message, where) or None}
            if message.tool_calls:
                out["tool_calls"] = [call.to_dict() for call in message.tool_calls]
            elif out["content"] is None:
                out["content"] = ""
        case "tool":
            if not message.tool_call_id:
                raise InvalidInputError(f"{where} has role 'tool' but no tool_call_id")
            out = {
                "role": "tool",
                "tool_call_id": message.tool_call_id,
                "content": _text_content(message, where),
            }
        case _:
            assert_never(message.role)
    if message.name:
        out["name"] = message.name
    return out


def _text_content(message: Message, where: str) -> str:
    for j, part in enumerate(message.content):
        if not isinstance(part, TextPart):
            raise InvalidInputError(
                f"{where}.content[{j}]: {message.role} messages carry text only, not {part.type} parts"
            )
    return message.text


def _user_content(parts: Sequence[ContentPart], where: str) -> str | list[dict[str, Any]]:
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    return [_part_to_wire(part, f"{where}.content[{j}]") for j, part in enumerate(parts)]


def _part_to_wire(part: ContentPart, where: str) -> dict[str, Any]:
    match part:
        case TextPart():
            return {"type": "text", "text": part.text}
        case ImagePart():
            image: dict[str, Any] = {"url": part.as_data_url()}
            if part.detail:
                image["detail"] = part.detail
            return {"type": "image_url", "image_url": image}
        case AudioPart():
            data = base64.b64encode(part.data).decode("ascii")
            return {"type": "input_audio", "input_audio": {"data": data, "format": part.format}}
        case FilePart():
            if part.file_id is not None:
                return {"type": "file", "file": {"file_id": part.file_id}}
            if part.data is None:
                raise InvalidInputError(
                    f"{where}: Chat Completions cannot fetch a file by URL",
                    hint="download it and pass FilePart(data=...), or upload it and pass file_id=",
                )
            encoded = base64.b64encode(part.data).decode("ascii")
            file = {
                "filename": part.filename or "document.pdf",
                "file_data": f"data:{part.media_type};base64,{encoded}",
            }
            return {"type": "file", "file": file}
        case _:
            assert_never(part)


def tool_to_wire(tool: Any, index: int = 0) -> dict[str, Any]:
    """An OpenAI tool dict from a tool dict (passed through), a bare function definition
    (``{"name", "parameters", ...}``) or a pydantic model class (a strict function tool whose
    arguments are the model's fields, described by its docstring)."""
    if is_pydantic_model_class(tool):
        function: dict[str, Any] = {
            "name": schema_name(tool.__name__),
            "parameters": pydantic_strict_schema(tool),
            "strict": True,
        }
        doc = inspect.cleandoc(tool.__doc__) if tool.__doc__ else ""
        if doc:
            function["description"] = doc
        return {"type": "function", "function": function}
    if isinstance(tool, Mapping):
        if "type" in tool:
            return dict(tool)
        if isinstance(tool.get("name"), str):
            return {"type": "function", "function": dict(tool)}
    raise InvalidInputError(
        f"tools[{index}] must be an OpenAI tool dict or a pydantic model class, not {type(tool).__name__}"
    )


def tool_choice_to_wire(choice: Any) -> Any:
    """``"auto"`` / ``"none"`` / ``"required"``, a tool name (or pydantic class) forcing that
    function, or an OpenAI ``tool_choice`` dict."""
    if is_pydantic_model_class(choice):
        choice = schema_name(choice.__name__)
    if isinstance(choice, str):
        if choice in _TOOL_CHOICE_MODES:
            return choice
        return {"type": "function", "function": {"name": choice}}
    if isinstance(choice, Mapping):
        return dict(choice)
    raise InvalidInputError(
        f"tool_choice must be 'auto', 'none', 'required', a tool name or a dict, not {type(choice).__name__}"
    )


def response_format_to_wire(fmt: Any) -> dict[str, Any]:
    """The ``response_format`` body field.

    * a pydantic model class → a strict ``json_schema`` format (see :mod:`.schema`);
    * a dict whose ``type`` is ``json_schema`` / ``json_object`` / ``text`` → sent as given;
    * any other dict is taken as a bare JSON schema → a non-strict ``json_schema`` format (strict
      mode would require every property; pass the full ``{"type": "json_schema", ...}`` dict with
      ``strict: true`` for that).
    """
    if is_pydantic_model_class(fmt):
        return {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(fmt.__name__),
                "schema": pydantic_strict_schema(fmt),
                "strict": True,
            },
        }
    if isinstance(fmt, Mapping):
        if fmt.get("type") in _FORMAT_TYPES:
            return dict(fmt)
        title = fmt.get("title")
        return {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(title) if isinstance(title, str) else "response",
                "schema": dict(fmt),
                "strict": False,
            },
        }
    raise InvalidInputError(
        "response_format must be a pydantic model class, a response_format dict or a JSON schema, "
        f"not {type(fmt).__name__}"
    )
