"""Typed messages and checked parameters → the ``generateContent`` request body.

Pure functions, no I/O. The body (Google's ``GenerateContentRequest``, camelCase JSON)::

    {"contents": [{"role": "user" | "model", "parts": [...]}],
     "systemInstruction": {"parts": [{"text": ...}]},
     "generationConfig": {"maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "seed",
                          "presencePenalty", "frequencyPenalty", "candidateCount": 1,
                          "responseMimeType", "responseJsonSchema", "thinkingConfig": {...}},
     "tools": [{"functionDeclarations": [...]}, {"googleSearch": {}} ...],
     "toolConfig": {"functionCallingConfig": {"mode", "allowedFunctionNames"}},
     "safetySettings": [...], "cachedContent": "cachedContents/...", "labels": {...}}

Messages: ``system`` / ``developer`` messages become ``systemInstruction`` (one part each, in
order); ``user`` → a ``user`` content; ``assistant`` → a ``model`` content (text, then a
``functionCall`` per tool call); ``tool`` messages → ``functionResponse`` parts of one ``user``
content (consecutive ones together), the function's name taken from the call they answer (or the
message's ``name``). Parts: text; images, audio, PDFs and other files given as bytes (or a
``data:`` URL) → ``inlineData`` (base64 with the MIME type); by URL (``gs://``, ``https://``, a
Files API URI) or file id → ``fileData``. A dict with ``"parts"`` among the messages is a Gemini
content sent as it is (see :func:`~.parsing.model_content`: thought signatures travel that way).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import AudioPart, ContentPart, FilePart, ImagePart, Message, TextPart
from ...base.pydantic_compat import is_pydantic_model_class

__all__ = [
    "contents_to_wire",
    "generation_config",
    "part_to_wire",
    "separate_contents",
    "thinking_config",
    "tool_config_to_wire",
    "tools_to_wire",
]

#: tools given as Gemini's own tool objects (passed through as they are).
NATIVE_TOOLS = frozenset(
    {
        "functionDeclarations",
        "googleSearch",
        "googleSearchRetrieval",
        "codeExecution",
        "urlContext",
        "retrieval",
        "googleMaps",
        "enterpriseWebSearch",
        "fileSearch",
        "computerUse",
    }
)
_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "any": "ANY"}
_EFFORT_BUDGETS = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
_LEVELS = frozenset({"minimal", "low", "medium", "high"})
_AUDIO_TYPES = {"mp3": "audio/mp3", "wav": "audio/wav", "m4a": "audio/mp4", "ogg": "audio/ogg"}


def _fail(message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(message, hint=hint)


# -- contents ---------------------------------------------------------------------------------


def is_content(value: Any) -> bool:
    """Is ``value`` a Gemini content dict (``{"role", "parts"}``) rather than a chat message?"""
    return isinstance(value, Mapping) and "parts" in value


def _checked_content(value: Mapping[str, Any], index: int) -> dict[str, Any]:
    role = value.get("role", "user")
    if role not in ("user", "model") or type(value.get("parts")) is not list:
        raise _fail(
            f"messages[{index}] is a Gemini content: it needs role 'user' or 'model' and a list of parts"
        )
    return {**value, "role": role}


def separate_contents(messages: Any) -> tuple[Any, dict[int, dict[str, Any]]]:
    """``(messages, contents)``: the messages with each Gemini content dict replaced by an empty
    placeholder message (so the rest is normalised and checked with its indexes intact), and
    the contents by index. Input without any comes back as it is, with ``{}``."""
    if is_content(messages):
        return [Message("user")], {0: _checked_content(messages, 0)}
    if isinstance(messages, str | bytes | Message | Mapping) or not isinstance(messages, Sequence):
        return messages, {}
    found = {i: _checked_content(m, i) for i, m in enumerate(messages) if is_content(m)}
    if not found:
        return messages, {}
    placeholder = Message("user")
    return [placeholder if i in found else m for i, m in enumerate(messages)], found


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _guess_type(uri: str, default: str) -> str:
    import mimetypes  # only for parts given by URI

    guessed, _ = mimetypes.guess_type(uri.split("?", 1)[0])
    return guessed or default


def _data_url(url: str, where: str) -> dict[str, Any]:
    header, _, data = url.partition(",")
    mime = header[5:].split(";", 1)[0] or "application/octet-stream"
    if ";base64" not in header:
        raise _fail(f"{where}: a data: URL must be base64-encoded")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"{where}: the data: URL is not valid base64") from None
    return {"inlineData": {"mimeType": mime, "data": data}}


def part_to_wire(part: ContentPart, where: str) -> dict[str, Any]:
    """One content part → a Gemini part (``text``, ``inlineData`` or ``fileData``)."""
    match part:
        case TextPart():
            return {"text": part.text}
        case ImagePart():
            if part.data is not None:
                return {"inlineData": {"mimeType": part.media_type, "data": _b64(part.data)}}
            url = part.url or ""
            if url.startswith("data:"):
                return _data_url(url, where)
            return {
                "fileData": {"mimeType": part.media_type or _guess_type(url, "image/jpeg"), "fileUri": url}
            }
        case AudioPart():
            mime = (
                part.format if "/" in part.format else _AUDIO_TYPES.get(part.format, f"audio/{part.format}")
            )
            return {"inlineData": {"mimeType": mime, "data": _b64(part.data)}}
        case FilePart():
            if part.data is not None:
                return {"inlineData": {"mimeType": part.media_type, "data": _b64(part.data)}}
            uri = part.url if part.url is not None else part.file_id
            assert uri is not None
            if uri.startswith("data:"):
                return _data_url(uri, where)
            return {"fileData": {"mimeType": part.media_type, "fileUri": uri}}
    raise _fail(f"{where}: unsupported part {type(part).__name__}")  # pragma: no cover


def _text_only(message: Message, where: str) -> str:
    for j, part in enumerate(message.content):
        if not isinstance(part, TextPart):
            raise _fail(
                f"{where}.content[{j}]: {message.role} messages carry text only, not {part.type} parts"
            )
    return message.text


def _arguments(arguments: str, where: str) -> Any:
    try:
        value = json.loads(arguments or "{}")
    except (ValueError, RecursionError):
        raise _fail(f"{where}: the tool call's arguments are not JSON") from None
    if not isinstance(value, dict):
        raise _fail(f"{where}: the tool call's arguments must be a JSON object")
    return value


def _response_value(text: str) -> dict[str, Any]:
    """A tool result as ``functionResponse.response`` (an object): a JSON object as it is,
    anything else as ``{"result": <the value or the text>}``."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {"result": text}
    return value if isinstance(value, dict) else {"result": value}


def _known_calls(messages: Sequence[Message], contents: Mapping[int, Mapping[str, Any]]) -> dict[str, str]:
    """Function call id → function name, from every assistant message and model content."""
    names: dict[str, str] = {}
    for message in messages:
        for call in message.tool_calls:
            names[call.id] = call.function.name
    for content in contents.values():
        for part in content.get("parts") or ():
            fn = part.get("functionCall") if isinstance(part, Mapping) else None
            if isinstance(fn, Mapping) and isinstance(fn.get("id"), str) and isinstance(fn.get("name"), str):
                names[fn["id"]] = fn["name"]
    return names


def contents_to_wire(
    messages: Sequence[Message], passthrough: Mapping[int, Mapping[str, Any]] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """``(contents, systemInstruction)`` of typed messages; ``passthrough`` holds Gemini
    contents by index (their messages are placeholders, see :func:`separate_contents`)."""
    passthrough = passthrough or {}
    names = _known_calls(messages, passthrough)
    contents: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] | None = None  # the functionResponse parts being gathered
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if i in passthrough:
            responses = None
            contents.append(dict(passthrough[i]))
            continue
        if message.role == "tool":
            part = _function_response(message, names, where)
            if responses is None:
                responses = []
                contents.append({"role": "user", "parts": responses})
            responses.append(part)
            continue
        responses = None
        match message.role:
            case "system" | "developer":
                system.append({"text": _text_only(message, where)})
            case "user":
                parts = [part_to_wire(p, f"{where}.content[{j}]") for j, p in enumerate(message.content)]
                if not parts:
                    raise _fail(f"{where}: a user message needs content")
                contents.append({"role": "user", "parts": parts})
            case "assistant":
                text = _text_only(message, where)
                parts = [{"text": text}] if text else []
                for call in message.tool_calls:
                    fn = {"id": call.id, "name": call.function.name}
                    fn["args"] = _arguments(call.function.arguments, f"{where}.tool_calls")
                    parts.append({"functionCall": fn})
                if not parts:
                    parts = [{"text": ""}]
                contents.append({"role": "model", "parts": parts})
    if not contents:
        raise _fail("the messages hold no user turn (a system prompt alone cannot be answered)")
    return contents, ({"parts": system} if system else None)


def _function_response(message: Message, names: Mapping[str, str], where: str) -> dict[str, Any]:
    call = message.tool_call_id or ""
    name = message.name or names.get(call)
    if not name:
        raise _fail(
            f"{where}: the tool message answers call {call[:64]!r}, which no earlier message made; "
            "Gemini needs the function's name",
            hint="keep the assistant message (or model_content(answer)) with its tool calls before the "
            "tool messages, or give the tool message a name",
        )
    text = _text_only(message, where)
    return {"functionResponse": {"id": call, "name": name, "response": _response_value(text)}}


# -- tools ------------------------------------------------------------------------------------


def _declaration(function: Mapping[str, Any], where: str) -> dict[str, Any]:
    name = function.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(f"{where}.name must be a non-empty string")
    out: dict[str, Any] = {"name": name}
    description = function.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise _fail(f"{where}.description must be a string")
        out["description"] = description
    parameters = function.get("parameters")
    if parameters is not None:
        if not isinstance(parameters, Mapping) or parameters.get("type", "object") != "object":
            raise _fail(
                f"{where} ({name[:64]}): parameters must be a JSON-schema object",
                hint="e.g. {'type': 'object', 'properties': {}} for a function without arguments",
            )
        out["parametersJsonSchema"] = dict(parameters)
    return out


def tools_to_wire(tools: Any) -> list[dict[str, Any]]:
    """``tools`` → Gemini's ``tools``: function tools (OpenAI tool dicts, bare function
    definitions, pydantic model classes, Gemini function declarations) gathered in one
    ``functionDeclarations`` tool, Gemini's own tools (``{"googleSearch": {}}``,
    ``{"codeExecution": {}}``, ``{"urlContext": {}}`` …) passed through."""
    if not isinstance(tools, Sequence) or isinstance(tools, str | bytes):
        raise _fail("tools must be a list of tool dicts or pydantic model classes")
    declarations: list[dict[str, Any]] = []
    native: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if is_pydantic_model_class(tool):
            declaration = {"name": tool.__name__, "parametersJsonSchema": tool.model_json_schema()}
            if tool.__doc__:
                declaration["description"] = inspect.cleandoc(tool.__doc__)
            declarations.append(declaration)
        elif isinstance(tool, Mapping) and tool.get("type") == "function":
            function = tool.get("function")
            if not isinstance(function, Mapping):
                raise _fail(f"{where}.function must be a dict with a name and parameters")
            declarations.append(_declaration(function, f"{where}.function"))
        elif isinstance(tool, Mapping) and "type" not in tool and "name" in tool:
            if "parametersJsonSchema" in tool or "parameters_json_schema" in tool:
                declarations.append(dict(tool))  # a Gemini function declaration
            else:
                declarations.append(_declaration(tool, where))
        elif isinstance(tool, Mapping) and len(tool) >= 1 and set(tool) <= NATIVE_TOOLS:
            native.append(dict(tool))
        else:
            raise _fail(
                f"{where} must be an OpenAI tool dict, a function definition, a pydantic model class or a "
                f"Gemini tool such as {{'googleSearch': {{}}}}, not {type(tool).__name__}"
            )
    return ([{"functionDeclarations": declarations}] if declarations else []) + native


def tool_config_to_wire(choice: Any) -> dict[str, Any]:
    """``tool_choice`` → ``toolConfig``: ``"auto"`` / ``"none"`` / ``"required"`` → mode AUTO /
    NONE / ANY; a function name (or pydantic class, or OpenAI's ``{"type": "function", ...}``)
    → ANY limited to it; Gemini's own ``functionCallingConfig`` dict as it is."""
    if is_pydantic_model_class(choice):
        choice = choice.__name__
    if isinstance(choice, str):
        mode = _MODES.get(choice.lower())
        if mode is not None:
            return {"functionCallingConfig": {"mode": mode}}
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}
    if isinstance(choice, Mapping):
        if "mode" in choice or "allowedFunctionNames" in choice:
            return {"functionCallingConfig": dict(choice)}
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if choice.get("type") == "function" and isinstance(name, str) and name:
            return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    raise _fail(
        "tool_choice must be 'auto', 'none', 'required', a tool name, or a functionCallingConfig dict",
        hint="e.g. tool_choice='get_weather' or {'mode': 'ANY', 'allowedFunctionNames': ['get_weather']}",
    )


# -- generationConfig -------------------------------------------------------------------------


def _number(name: str, value: Any, low: float, high: float | None = None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"{low:g}..{high:g}" if high is not None else f">= {low:g}"
        raise _fail(f"{name} must be a number in {bound}")


def _integer(name: str, value: Any, low: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        raise _fail(f"{name} must be an integer" + (f" >= {low}" if low is not None else ""))


def _stop(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if (
        isinstance(value, Sequence)
        and not isinstance(value, bytes)
        and len(value) <= 5
        and all(isinstance(v, str) for v in value)
    ):
        return list(value)
    raise _fail("stop must be a string or a list of at most 5 strings")


def response_format_to_wire(fmt: Any) -> dict[str, Any]:
    """``response_format`` → ``generationConfig`` fields: a pydantic model class or a JSON schema
    (bare, or OpenAI's ``{"type": "json_schema", "json_schema": {"schema"}}``) → JSON output with
    ``responseJsonSchema``; ``{"type": "json_object"}`` → JSON output; ``{"type": "text"}`` →
    nothing; a dict of Gemini's own fields (``responseMimeType``, ``responseSchema`` …) as it is."""
    if is_pydantic_model_class(fmt):
        return {"responseMimeType": "application/json", "responseJsonSchema": fmt.model_json_schema()}
    if not isinstance(fmt, Mapping):
        raise _fail(
            "response_format must be a pydantic model class, a JSON schema or a format dict, "
            f"not {type(fmt).__name__}"
        )
    if any(key in fmt for key in ("responseMimeType", "responseSchema", "responseJsonSchema")):
        return dict(fmt)
    kind = fmt.get("type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        if not isinstance(schema, Mapping):
            raise _fail("response_format of type 'json_schema' needs json_schema: {'name', 'schema'}")
        return {"responseMimeType": "application/json", "responseJsonSchema": dict(schema)}
    return {"responseMimeType": "application/json", "responseJsonSchema": dict(fmt)}


def thinking_config(params: Mapping[str, Any], *, levels: bool) -> dict[str, Any] | None:
    """``thinkingConfig`` from ``reasoning_effort`` / ``thinking_budget`` / ``thinking_level`` /
    ``include_thoughts``. ``levels``: the model takes a ``thinkingLevel`` (Gemini 3 and later)
    rather than a token budget (Gemini 2.5). ``reasoning_effort`` maps to a budget (none 0,
    minimal 512, low 1024, medium 8192, high 24576) or to the level of the same name."""
    effort = params.get("reasoning_effort")
    budget = params.get("thinking_budget")
    level = params.get("thinking_level")
    if effort is not None and (budget is not None or level is not None):
        raise _fail("pass reasoning_effort or thinking_budget / thinking_level, not both")
    out: dict[str, Any] = {}
    if effort is not None:
        if not isinstance(effort, str) or effort not in _EFFORT_BUDGETS:
            raise _fail(f"reasoning_effort must be one of {', '.join(_EFFORT_BUDGETS)}")
        if levels:
            if effort == "none":
                raise _fail(
                    "reasoning_effort='none': this model cannot turn thinking off",
                    hint="use 'minimal' or 'low'",
                )
            level = effort
        else:
            budget = _EFFORT_BUDGETS[effort]
    if budget is not None:
        _integer("thinking_budget", budget, -1)
        out["thinkingBudget"] = budget
    if level is not None:
        if not isinstance(level, str) or level.lower() not in _LEVELS:
            raise _fail(f"thinking_level must be one of {', '.join(sorted(_LEVELS))}")
        out["thinkingLevel"] = level.upper()
    include = params.get("include_thoughts")
    if include is not None:
        if not isinstance(include, bool):
            raise _fail("include_thoughts must be True or False")
        out["includeThoughts"] = include
    return out or None


def generation_config(params: Mapping[str, Any], *, levels: bool) -> dict[str, Any]:
    """``generationConfig`` from checked, merged call parameters (Gemini's own fields given as
    ``generation_config={...}`` are added last, winning)."""
    config: dict[str, Any] = {}
    n = params.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise _fail("n (candidateCount) other than 1 is not supported: each call returns one answer")
    if "max_tokens" in params:
        config["maxOutputTokens"] = params["max_tokens"]
    if "temperature" in params:
        config["temperature"] = params["temperature"]
    if "top_p" in params:
        _number("top_p", params["top_p"], 0, 1)
        config["topP"] = params["top_p"]
    if "top_k" in params:
        _integer("top_k", params["top_k"], 1)
        config["topK"] = params["top_k"]
    if "stop" in params:
        config["stopSequences"] = _stop(params["stop"])
    if "seed" in params:
        _integer("seed", params["seed"])
        config["seed"] = params["seed"]
    for name, wire in (("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty")):
        if name in params:
            _number(name, params[name], -2, 2)
            config[wire] = params[name]
    if "response_format" in params:
        config.update(response_format_to_wire(params["response_format"]))
    thinking = thinking_config(params, levels=levels)
    if thinking:
        config["thinkingConfig"] = thinking
    extra = params.get("generation_config")
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise _fail("generation_config must be a dict of generationConfig fields")
        config.update(extra)
    return config


def request_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """The body fields beside ``contents`` and ``generationConfig``: ``tools``, ``toolConfig``,
    ``safetySettings``, ``cachedContent``, ``labels``."""
    out: dict[str, Any] = {}
    tools = params.get("tools")
    if tools is not None:
        wire_tools = tools_to_wire(tools)
        if wire_tools:
            out["tools"] = wire_tools
    if "tool_choice" in params:
        out["toolConfig"] = tool_config_to_wire(params["tool_choice"])
    safety = params.get("safety_settings")
    if safety is not None:
        if (
            not isinstance(safety, Sequence)
            or isinstance(safety, str | bytes)
            or not all(isinstance(s, Mapping) for s in safety)
        ):
            raise _fail(
                "safety_settings must be a list of {'category', 'threshold'} dicts",
                hint="e.g. [{'category': 'HARM_CATEGORY_HARASSMENT', 'threshold': 'BLOCK_ONLY_HIGH'}]",
            )
        out["safetySettings"] = [dict(s) for s in safety]
    cached = params.get("cached_content")
    if cached is not None:
        if not isinstance(cached, str) or not cached:
            raise _fail("cached_content must be a cache name such as 'cachedContents/abc123'")
        out["cachedContent"] = cached
    labels = params.get("labels")
    if labels is not None:
        if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            raise _fail("labels must be a dict of strings")
        out["labels"] = dict(labels)
    return out
