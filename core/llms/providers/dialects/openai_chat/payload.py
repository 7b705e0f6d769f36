"""Typed messages and checked parameters → the Chat Completions request body.

Pure functions: no I/O, no model state. The model class decides *which* parameters are allowed
(``BaseLLM._merge_parameters``); this module decides how each one is written on the wire, and
checks the values the Chat Completions API defines (``top_p`` in 0..1, penalties in -2..2, ``stop``
a string or up to 4, tools with a name and a JSON-schema object of parameters …): a bad value
raises :class:`InvalidInputError` naming the parameter before anything is sent.
"""

from __future__ import annotations

import base64
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, assert_never

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import AudioPart, ContentPart, FilePart, ImagePart, Message, TextPart
from ...base.pydantic_compat import is_pydantic_model_class
from .schema import pydantic_strict_schema, schema_name

__all__ = [
    "PARAMETER_CHECKS",
    "build_chat_payload",
    "chat_payload",
    "message_to_wire",
    "response_format_to_wire",
    "text_content",
    "text_messages_to_wire",
    "tool_choice_to_wire",
    "tool_to_wire",
    "user_content",
]

_TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})
_FORMAT_TYPES = frozenset({"json_schema", "json_object", "text"})
#: parameters handled here rather than copied verbatim (``model`` is the first argument).
_SPECIAL = frozenset({"tools", "tool_choice", "response_format", "n", "stream", "model"})


def _number(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInputError(f"{name}={_shown(value)} must be a number in {low:g}..{high:g}")


def _integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name}={_shown(value)} must be an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidInputError(f"{name}={value} must be in {low}..{high}")


def _boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name}={_shown(value)} must be True or False")


def _string(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, not {type(value).__name__}")


def _stop(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    if (
        not isinstance(value, Sequence)
        or isinstance(value, bytes | bytearray)
        or len(value) > 4
        or not all(isinstance(v, str) for v in value)
    ):
        raise InvalidInputError(
            f"stop must be a string or a list of at most 4 strings, not {_described(value)}"
        )


def _logit_bias(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"logit_bias must be a dict of token id -> bias, not {type(value).__name__}")
    for token, bias in value.items():
        if isinstance(token, bool) or not (
            isinstance(token, int) or (isinstance(token, str) and token.isdigit() and token.isascii())
        ):
            raise InvalidInputError(f"logit_bias keys must be token ids (integers), not {_shown(token)}")
        _number(f"logit_bias[{token}]", bias, -100, 100)


def _str_mapping(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInputError(f"{name} must be a dict of strings, not {_described(value)}")


def _mapping(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{name} must be a dict, not {type(value).__name__}")


def _shown(value: Any) -> str:
    """A rejected value in a message: numbers and short strings as they are, else the type."""
    if isinstance(value, int | float) and len(repr(value)) <= 40:
        return repr(value)
    if isinstance(value, str) and len(value) <= 40:
        return repr(value)
    return f"<{type(value).__name__}>"


def _described(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


#: the checks of body parameters the Chat Completions API defines (copied verbatim once checked).
_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "top_p": lambda name, value: _number(name, value, 0, 1),
    "presence_penalty": lambda name, value: _number(name, value, -2, 2),
    "frequency_penalty": lambda name, value: _number(name, value, -2, 2),
    "seed": lambda name, value: _integer(name, value),
    "logprobs": _boolean,
    "top_logprobs": lambda name, value: _integer(name, value, 0, 20),
    "stop": _stop,
    "logit_bias": _logit_bias,
    "user": _string,
    "service_tier": _string,
    "safety_identifier": _string,
    "prompt_cache_key": _string,
    "reasoning_effort": _string,
    "verbosity": _string,
    "store": _boolean,
    "parallel_tool_calls": _boolean,
    "metadata": _str_mapping,
    "prediction": _mapping,
}
#: the value checks of the body parameters both OpenAI dialects share (the Responses dialect
#: checks the same parameters the same way), by parameter name.
PARAMETER_CHECKS: Mapping[str, Callable[[str, Any], None]] = _CHECKS


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
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n != 1):
        raise InvalidInputError(
            f"n={_shown(n)} is not supported: each call returns one answer",
            hint="make n separate calls (e.g. with asyncio.gather)",
        )
    payload: dict[str, Any] = {"model": model, "messages": messages}
    for key, value in params.items():
        if key not in _SPECIAL:
            check = _CHECKS.get(key)
            if check is not None:
                check(key, value)
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
            out = {"role": role, "content": text_content(message, where)}
        case "user":
            out = {"role": "user", "content": user_content(message.content, where)}
        case "assistant":
            out = {"role": "assistant", "content": text_content(message, where) or None}
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
                "content": text_content(message, where),
            }
        case _:
            assert_never(message.role)
    if message.name:
        out["name"] = message.name
    return out


def text_content(message: Message, where: str) -> str:
    """The text of a message that may carry text only (system, assistant, tool): its parts
    joined; :class:`InvalidInputError` naming a part of another kind."""
    for j, part in enumerate(message.content):
        if not isinstance(part, TextPart):
            raise InvalidInputError(
                f"{where}.content[{j}]: {message.role} messages carry text only, not {part.type} parts"
            )
    return message.text


def user_content(
    parts: Sequence[ContentPart],
    where: str,
    part_to_wire: Callable[[ContentPart, str], dict[str, Any]] | None = None,
) -> str | list[dict[str, Any]]:
    """A user message's content: its text alone, or its parts each made by ``part_to_wire``
    (the dialect's; Chat Completions' by default)."""
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    convert = part_to_wire or _part_to_wire
    return [convert(part, f"{where}.content[{j}]") for j, part in enumerate(parts)]


#: the ``input_audio`` formats Chat Completions accepts.
CHAT_AUDIO_FORMATS = ("wav", "mp3")


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
            if part.format not in CHAT_AUDIO_FORMATS:
                raise InvalidInputError(
                    f"{where}: Chat Completions takes audio input as "
                    f"{' or '.join(CHAT_AUDIO_FORMATS)}, not {part.format[:20]!r}",
                    hint="convert the audio to WAV or MP3 first",
                )
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
    """An OpenAI tool dict from a tool dict (passed through once checked), a bare function
    definition (``{"name", "parameters", ...}``) or a pydantic model class (a strict function tool
    whose arguments are the model's fields, described by its docstring).

    A function (``{"type": "function", "function": {...}}`` or bare) needs a non-empty ``name``
    and ``parameters`` that are a JSON-schema object (``{"type": "object", ...}``; a function
    without arguments: ``{"type": "object", "properties": {}}``); ``description`` is a string and
    ``strict`` a bool when given. Tools of another ``type`` are passed through as given."""
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
            kind = tool["type"]
            if not isinstance(kind, str) or not kind:
                raise InvalidInputError(f"tools[{index}].type must be a string such as 'function'")
            if kind == "function":
                _check_function(tool.get("function"), f"tools[{index}].function")
            return dict(tool)
        if "name" in tool:
            _check_function(tool, f"tools[{index}]")
            return {"type": "function", "function": dict(tool)}
    raise InvalidInputError(
        f"tools[{index}] must be an OpenAI tool dict or a pydantic model class, not {type(tool).__name__}"
    )


def _check_function(function: Any, where: str) -> None:
    """A function definition: a name, and parameters that are a JSON-schema object."""
    if not isinstance(function, Mapping):
        raise InvalidInputError(
            f"{where} must be a dict with a name and parameters, not {type(function).__name__}"
        )
    name = function.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{where}.name must be a non-empty string, not {_shown(name)}")
    parameters = function.get("parameters")
    if not isinstance(parameters, Mapping) or parameters.get("type", "object") != "object":
        got = "missing" if parameters is None else f"not a JSON-schema object ({_described(parameters)})"
        raise InvalidInputError(
            f"{where} ({name[:64]}): parameters {got}",
            hint="give a JSON schema of the arguments, e.g. {'type': 'object', 'properties': {}} for none",
        )
    description = function.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidInputError(f"{where}.description must be a string, not {type(description).__name__}")
    strict = function.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise InvalidInputError(f"{where}.strict must be True or False, not {_shown(strict)}")


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
        kind = choice.get("type")
        if not isinstance(kind, str) or not kind:
            raise InvalidInputError("a tool_choice dict needs a 'type' (e.g. 'function')")
        if kind == "function":
            function = choice.get("function")
            name = function.get("name") if isinstance(function, Mapping) else None
            if not isinstance(name, str) or not name:
                raise InvalidInputError(
                    "tool_choice of type 'function' needs function.name",
                    hint="tool_choice='my_tool', or {'type': 'function', 'function': {'name': 'my_tool'}}",
                )
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
        kind = fmt.get("type")
        if isinstance(kind, str) and kind in _FORMAT_TYPES:
            if kind == "json_schema":
                spec = fmt.get("json_schema")
                if (
                    not isinstance(spec, Mapping)
                    or not isinstance(spec.get("name"), str)
                    or not spec["name"]
                    or not isinstance(spec.get("schema", {}), Mapping)
                ):
                    raise InvalidInputError(
                        "response_format of type 'json_schema' needs json_schema: {'name', 'schema'}",
                        hint="or pass the JSON schema itself, or a pydantic model class",
                    )
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
