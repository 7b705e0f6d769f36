"""Building the ``POST /api/chat`` request body from typed messages and merged parameters.

Wire shape::

    {"model": "llama3.2", "stream": true,
     "messages": [{"role": "user", "content": "...", "images": ["<base64>"]},
                  {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f",
                                                                        "arguments": {...}}}]},
                  {"role": "tool", "content": "...", "tool_name": "f"}],
     "tools": [{"type": "function", "function": {...}}],
     "format": "json" | {<JSON schema>},
     "options": {"temperature": 0.2, "num_predict": 100, "seed": 1, "stop": ["\\n"]},
     "keep_alive": "5m", "think": true}

Generic sampling parameters go into ``options``; ``max_tokens`` arrives here already renamed to
``num_predict`` by the model's parameter rules. ``response_format`` (OpenAI shape, or a pydantic
model class) becomes ``format``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any, assert_never

from core.llms.interfaces.errors import InvalidInputError, UnsupportedOperationError
from core.llms.interfaces.messages import AudioPart, FilePart, ImagePart, Message, TextPart

__all__ = ["OPTION_PARAMETERS", "TOP_LEVEL_PARAMETERS", "build_payload", "output_format"]

#: parameters sent inside ``options`` (Ollama's Modelfile parameters that matter per call).
OPTION_PARAMETERS: frozenset[str] = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "typical_p",
        "seed",
        "stop",
        "num_predict",
        "num_ctx",
        "repeat_penalty",
        "repeat_last_n",
        "presence_penalty",
        "frequency_penalty",
    }
)
#: parameters sent at the top level of the request.
TOP_LEVEL_PARAMETERS: frozenset[str] = frozenset(
    {"tools", "format", "response_format", "keep_alive", "think"}
)
#: ``options`` itself may be passed as a mapping of further Modelfile parameters.
RAW_OPTIONS = "options"


def build_payload(
    model_id: str, messages: Sequence[Message], params: Mapping[str, Any], *, stream: bool
) -> dict[str, Any]:
    """The request body for ``messages`` with the already merged and checked ``params``."""
    payload: dict[str, Any] = {
        "model": model_id,
        "messages": _messages(messages),
        "stream": stream,
    }
    options: dict[str, Any] = {}
    for name, value in params.items():
        match name:
            case "tools":
                payload["tools"] = _tools(value)
            case "format" | "response_format":
                fmt = output_format(value, name)
                if fmt is not None:
                    payload["format"] = fmt
            case "keep_alive" | "think":
                payload[name] = value
            case "stop":
                options["stop"] = [value] if isinstance(value, str) else list(value)
            case "options":
                if not isinstance(value, Mapping):
                    raise InvalidInputError(
                        f"options must be a mapping of Ollama options, not {type(value).__name__}"
                    )
                options.update(value)
            case _ if name in OPTION_PARAMETERS:
                options[name] = value
            case _:
                known = sorted(OPTION_PARAMETERS | TOP_LEVEL_PARAMETERS | {RAW_OPTIONS})
                raise InvalidInputError(
                    f"parameter {name!r} cannot be sent to Ollama", hint=f"known: {', '.join(known)}"
                )
    if options:
        payload["options"] = options
    return payload


def output_format(value: Any, name: str = "format") -> str | dict[str, Any] | None:
    """Ollama's ``format`` for ``value``: ``"json"``, a JSON schema dict, or None (plain text).

    Accepts Ollama's own values (``"json"``, a schema), OpenAI's ``response_format``
    (``{"type": "json_object"}``, ``{"type": "json_schema", "json_schema": {"schema": ...}}``,
    ``{"type": "text"}``) and a pydantic model class (its JSON schema).
    """
    if value == "json":
        return "json"
    schema_of = getattr(value, "model_json_schema", None)
    if isinstance(value, type) and callable(schema_of):
        schema: dict[str, Any] = schema_of()
        return schema
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"{name} must be 'json', a JSON schema, an OpenAI response_format or a pydantic model class"
        )
    match value.get("type"):
        case "json_object":
            return "json"
        case "text":
            return None
        case "json_schema" if isinstance(value.get("json_schema"), Mapping):
            inner = value["json_schema"].get("schema")
            if not isinstance(inner, Mapping):
                raise InvalidInputError(f"{name}.json_schema.schema must be a JSON schema object")
            return dict(inner)
        case _:
            return dict(value)  # a JSON schema given directly


def _messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    names_by_id: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        wire = _message(message, i)
        for call in message.tool_calls:
            names_by_id[call.id] = call.function.name
        if message.role == "tool" and message.tool_call_id in names_by_id:
            wire["tool_name"] = names_by_id[message.tool_call_id]
        out.append(wire)
    return out


def _message(message: Message, i: int) -> dict[str, Any]:
    role = "system" if message.role == "developer" else message.role
    texts: list[str] = []
    images: list[str] = []
    for j, part in enumerate(message.content):
        match part:
            case TextPart():
                texts.append(part.text)
            case ImagePart():
                images.append(_image_base64(part, f"messages[{i}].content[{j}]"))
            case AudioPart() | FilePart():
                raise UnsupportedOperationError(
                    f"messages[{i}].content[{j}] is a {part.type} part: Ollama's chat API takes only "
                    "text and images",
                    hint="send the document or audio as extracted text",
                )
            case _:
                assert_never(part)
    wire: dict[str, Any] = {"role": role, "content": "\n".join(texts)}
    if images:
        if role != "user":
            raise InvalidInputError(f"messages[{i}] ({role}) has images; only user messages may carry images")
        wire["images"] = images
    if message.tool_calls:
        wire["tool_calls"] = [
            {"function": {"name": call.function.name, "arguments": _arguments(call.function.arguments, i, k)}}
            for k, call in enumerate(message.tool_calls)
        ]
    return wire


def _arguments(arguments: str, i: int, k: int) -> Any:
    try:
        return json.loads(arguments or "{}")
    except ValueError:
        raise InvalidInputError(f"messages[{i}].tool_calls[{k}].function.arguments is not JSON") from None


def _image_base64(part: ImagePart, where: str) -> str:
    if part.data is not None:
        return base64.b64encode(part.data).decode("ascii")
    url = part.url or ""
    if url.startswith("data:"):
        header, sep, encoded = url.partition(",")
        if not sep or ";base64" not in header:
            raise InvalidInputError(f"{where} is a data: URL that is not base64-encoded")
        return encoded
    raise InvalidInputError(
        f"{where} is an image URL; Ollama takes image bytes only",
        hint="download the image and pass ImagePart(data=..., media_type=...) or bytes",
    )


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, Sequence) or isinstance(tools, str | bytes):
        raise InvalidInputError("tools must be a list of OpenAI-shape tool definitions")
    out: list[dict[str, Any]] = []
    for k, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(fn, Mapping) or tool.get("type", "function") != "function":
            raise InvalidInputError(
                f"tools[{k}] must be {{'type': 'function', 'function': {{'name': ..., 'parameters': ...}}}}"
            )
        if not isinstance(fn.get("name"), str) or not fn["name"]:
            raise InvalidInputError(f"tools[{k}].function.name must be a non-empty string")
        out.append({"type": "function", "function": dict(fn)})
    return out
