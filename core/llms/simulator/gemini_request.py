"""Reading a ``generateContent`` request (the Gemini API's and Vertex AI's) the way the real
services do.

:func:`parse_gemini_request` validates the JSON body — ``contents`` (roles ``user`` / ``model``,
non-empty parts of one kind each, ``inlineData`` in base64), function responses answering the
function calls of the turn before them (as many as there were), Gemini 3's thought signatures on
the current turn's function calls, ``systemInstruction``, ``generationConfig`` (``maxOutputTokens``,
``temperature``, ``topP``, ``responseMimeType`` with ``responseSchema`` / ``responseJsonSchema``,
``thinkingConfig``), ``tools`` (``functionDeclarations``), ``toolConfig``, ``safetySettings``, and
fields a service does not know (``labels`` on the Gemini API) — and returns a
:class:`GeminiRequest` whose :attr:`~GeminiRequest.chat` is the wire-neutral
:class:`~.generation.ChatRequest` the answer generator takes. Every refusal is a
:class:`~.openai_wire.Rejection` with Google's error body.

Written from Google's API reference and the recordings in ``tests/llms/wire/gemini``; it never
imports the client's code.
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
from .openai_request import CONTENT_FILTER_TRIGGER
from .openai_wire import Rejection

__all__ = [
    "SAFETY_TRIGGER",
    "GeminiRequest",
    "google_rejection",
    "is_thinking_model",
    "needs_signatures",
    "parse_gemini_request",
    "signature",
]

#: in the last user message: the answer is stopped by the safety filters (``finishReason``
#: ``SAFETY``, a blocked rating). :data:`~.openai_request.CONTENT_FILTER_TRIGGER` blocks the
#: prompt itself (``promptFeedback.blockReason``, no candidates).
SAFETY_TRIGGER = "[[safety]]"

_PART_KINDS = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
)
_PART_EXTRAS = frozenset({"thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution"})
_TOP_LEVEL = frozenset(
    {
        "contents",
        "systemInstruction",
        "generationConfig",
        "tools",
        "toolConfig",
        "safetySettings",
        "cachedContent",
        "model",
    }
)
_VERTEX_ONLY = frozenset({"labels", "modelArmorConfig"})
_MIME_TYPES = ("text/plain", "application/json", "text/x.enum")
_MODES = ("AUTO", "ANY", "NONE", "VALIDATED")
_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-]{0,127}$")
_SIGNATURE_MARK = "sim-thought-signature:"
#: the thoughts a thinking model spends on an answer when no budget says otherwise.
_THOUGHT_TOKENS = 16
_CACHED_TOKENS = 8


def google_rejection(status: int, message: str, name: str = "INVALID_ARGUMENT") -> Rejection:
    """A refusal with Google's error body (``{"error": {"code", "message", "status"}}``)."""
    return Rejection(status, {"error": {"code": status, "message": message, "status": name}})


def _invalid(message: str) -> Rejection:
    return google_rejection(400, message)


def is_thinking_model(model: str) -> bool:
    """Does ``model`` think (Gemini 2.5 and later)?"""
    return not model.startswith(("gemini-2.0", "gemini-1", "gemma"))


def needs_signatures(model: str) -> bool:
    """Does ``model`` sign its function calls and require the signatures back (Gemini 3 and later)?"""
    return model.startswith("gemini-") and not model.startswith(("gemini-2", "gemini-1"))


def signature(model: str, n: int) -> str:
    """The opaque ``thoughtSignature`` of answer ``n`` of ``model`` (base64)."""
    return base64.b64encode(f"{_SIGNATURE_MARK}{model}:{n}".encode()).decode("ascii")


def _signed(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return base64.b64decode(value, validate=True).decode().startswith(_SIGNATURE_MARK)
    except (binascii.Error, ValueError):
        return False


@dataclass(slots=True)
class GeminiRequest:
    """What the simulator needs from a ``generateContent`` request."""

    chat: ChatRequest
    include_thoughts: bool = False
    thinking: bool = False
    prompt_blocked: bool = False
    safety_stop: bool = False
    cached_tokens: int = 0
    json_mime: bool = False
    function_names: list[str] = field(default_factory=list)


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid(f"Invalid JSON payload received. Invalid value at '{where}': expected an object.")
    return value


def _lowercase_types(schema: Any) -> Any:
    """An OpenAPI ``Schema`` (``"type": "STRING"``) as JSON Schema (``"type": "string"``)."""
    if isinstance(schema, list):
        return [_lowercase_types(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _lowercase_types(v) for k, v in schema.items()}
    if isinstance(out.get("type"), str):
        out["type"] = out["type"].lower()
    return out


@dataclass(slots=True)
class _Turns:
    """The conversation: (role, text, images) per content, the last turn's function responses."""

    messages: list[tuple[str, str, int]] = field(default_factory=list)
    responses: list[str] | None = None
    chars: int = 0


def _check_part(part: Any, where: str) -> str:
    if not isinstance(part, dict):
        raise _invalid(f"Invalid JSON payload received. Invalid value at '{where}': expected an object.")
    kinds = [k for k in _PART_KINDS if k in part]
    unknown = [k for k in part if k not in _PART_KINDS and k not in _PART_EXTRAS]
    if unknown:
        raise _invalid(
            f"Invalid JSON payload received. Unknown name \"{unknown[0][:40]}\" at '{where}': "
            "Cannot find field."
        )
    if len(kinds) != 1:
        raise _invalid(
            f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
            "initialized field"
        )
    kind = kinds[0]
    value = part[kind]
    if kind == "text" and not isinstance(value, str):
        raise _invalid(f"Invalid value at '{where}.text': expected a string.")
    if kind == "inlineData":
        if not isinstance(value, dict) or not isinstance(value.get("mimeType"), str) or not value["mimeType"]:
            raise _invalid(f"* GenerateContentRequest.{where}.inline_data.mime_type: mime_type is required")
        try:
            base64.b64decode(value.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(
                f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
            ) from None
    if kind == "fileData" and (not isinstance(value, dict) or not isinstance(value.get("fileUri"), str)):
        raise _invalid(f"* GenerateContentRequest.{where}.file_data.file_uri: file_uri is required")
    if kind in ("functionCall", "functionResponse"):
        if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"]:
            raise _invalid(f"* GenerateContentRequest.{where}.{kind}.name: Name cannot be empty.")
        if kind == "functionResponse" and not isinstance(value.get("response", {}), dict):
            raise _invalid(f"Invalid value at '{where}.function_response.response': expected an object.")
    return kind


def _read_contents(body: Mapping[str, Any], model: str) -> _Turns:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _invalid("* GenerateContentRequest.contents: contents is not specified")
    turns = _Turns()
    previous_calls = 0
    current_turn_start = 0
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        if not isinstance(content, dict):
            raise _invalid(f"Invalid JSON payload received. Invalid value at '{where}': expected an object.")
        role = content.get("role", "user")
        if role not in ("user", "model"):
            raise _invalid("Please use a valid role: user, model.")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise _invalid(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.")
        kinds = [_check_part(p, f"{where}.parts[{j}]") for j, p in enumerate(parts)]
        texts = [p["text"] for p in parts if "text" in p and p.get("thought") is not True]
        images = sum(
            1
            for p in parts
            for key in ("inlineData", "fileData")
            if key in p and str(p[key].get("mimeType", "image/")).startswith("image/")
        )
        responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if responses:
            if previous_calls == 0:
                raise _invalid(
                    "Please ensure that function response turn comes immediately after a function call turn."
                )
            if len(responses) != previous_calls:
                raise _invalid(
                    "Please ensure that the number of function response parts is equal to the number of "
                    "function call parts of the function call turn."
                )
        calls = kinds.count("functionCall")
        if role == "user" and not responses:
            current_turn_start = i
        previous_calls = calls if role == "model" else 0
        text = " ".join(texts)
        turns.chars += len(text) + sum(len(json.dumps(r, separators=(",", ":"))) for r in responses)
        turns.messages.append((role, text, images))
        if role == "user":
            turns.responses = (
                [
                    json.dumps(r.get("response", {}), separators=(",", ":"), ensure_ascii=False)
                    for r in responses
                ]
                if responses
                else None
            )
    if needs_signatures(model):
        _check_signatures(contents[current_turn_start:], current_turn_start)
    return turns


def _check_signatures(turn: list[Any], offset: int) -> None:
    """Gemini 3: the first function call of each model step of the current turn carries the
    signature the model gave it."""
    for i, content in enumerate(turn):
        if content.get("role") != "model":
            continue
        for part in content["parts"]:
            if "functionCall" in part:
                if not _signed(part.get("thoughtSignature")):
                    name = str(part["functionCall"].get("name"))[:64]
                    raise _invalid(
                        "Function call is missing a thought_signature in functionCall parts. This is "
                        "required for tools to work correctly, and missing thought_signature may lead to "
                        "degraded model performance. Additional data, function call "
                        f"`default_api:{name}` , position {offset + i + 1}. Please refer to "
                        "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                    )
                break  # only the first function call of a step is signed


def _tools(body: Mapping[str, Any]) -> list[ToolSpec]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _invalid("Invalid JSON payload received. Invalid value at 'tools': expected a list.")
    specs: list[ToolSpec] = []
    for i, tool in enumerate(tools):
        declarations = _object(tool, f"tools[{i}]").get("functionDeclarations")
        if declarations is None:
            continue
        if not isinstance(declarations, list):
            raise _invalid(f"Invalid value at 'tools[{i}].function_declarations': expected a list.")
        for j, decl in enumerate(declarations):
            where = f"tools[{i}].function_declarations[{j}]"
            decl = _object(decl, where)
            name = decl.get("name")
            if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
                raise _invalid(
                    f"* GenerateContentRequest.{where}.name: Invalid function name. Must start with a letter "
                    "or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and "
                    "dashes, with a maximum length of 128."
                )
            if "parameters" in decl and "parametersJsonSchema" in decl:
                raise _invalid(
                    f"* GenerateContentRequest.{where}: parameters and parameters_json_schema are exclusive"
                )
            schema = decl.get("parametersJsonSchema")
            if schema is None:
                schema = _lowercase_types(decl.get("parameters") or {"type": "object", "properties": {}})
            specs.append(ToolSpec(name, _object(schema, f"{where}.parameters")))
    return specs


def _tool_choice(body: Mapping[str, Any], tools: list[ToolSpec]) -> tuple[str, str | None]:
    config = _object(_object(body.get("toolConfig"), "toolConfig").get("functionCallingConfig"), "toolConfig")
    mode = config.get("mode", "AUTO")
    if mode not in _MODES:
        raise _invalid(f"Invalid value at 'tool_config.function_calling_config.mode' ({str(mode)[:40]})")
    allowed = config.get("allowedFunctionNames")
    if allowed is not None:
        if mode != "ANY":
            raise _invalid("allowed_function_names may only be set when the mode is ANY.")
        names = {t.name for t in tools}
        if not isinstance(allowed, list) or not all(a in names for a in allowed):
            raise _invalid("allowed_function_names must name declared functions.")
        return ("forced", allowed[0]) if len(allowed) == 1 else ("required", None)
    return {"AUTO": "auto", "VALIDATED": "auto", "ANY": "required", "NONE": "none"}[mode], None


def _number(config: Mapping[str, Any], name: str, low: float, high: float | None, integer: bool) -> Any:
    value = config.get(name)
    if value is None:
        return None
    kind = int if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"[{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise _invalid(f"* GenerateContentRequest.generation_config.{name}: must be in {bound}")
    return value


def parse_gemini_request(body: Any, model: str, *, vertex: bool, context_chars: int) -> GeminiRequest:
    """Validate a ``generateContent`` body for ``model`` and extract what the answer depends on.
    Raises :class:`Rejection` with Google's 400 body for anything the service would refuse."""
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    known = _TOP_LEVEL | _VERTEX_ONLY if vertex else _TOP_LEVEL
    for key in body:
        if key not in known:
            raise _invalid(
                f'Invalid JSON payload received. Unknown name "{str(key)[:40]}": Cannot find field.'
            )
    turns = _read_contents(body, model)
    system = _object(body.get("systemInstruction"), "system_instruction")
    system_text = " ".join(p.get("text", "") for p in system.get("parts") or () if isinstance(p, dict))
    config = _object(body.get("generationConfig"), "generation_config")
    max_tokens = _number(config, "maxOutputTokens", 1, None, True)
    _number(config, "temperature", 0, 2, False)
    _number(config, "topP", 0, 1, False)
    _number(config, "topK", 1, None, True)
    count = _number(config, "candidateCount", 1, 8, True)
    if count not in (None, 1):
        raise _invalid(
            "* GenerateContentRequest.generation_config.candidate_count: the simulator answers one candidate"
        )
    mime = config.get("responseMimeType", "text/plain")
    if mime not in _MIME_TYPES:
        raise _invalid(
            "* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are "
            f"{', '.join(_MIME_TYPES)}."
        )
    schema = config.get("responseJsonSchema")
    if "responseSchema" in config:
        if schema is not None:
            raise _invalid("response_schema and response_json_schema cannot both be set.")
        schema = _lowercase_types(config["responseSchema"])
    if schema is not None and mime != "application/json":
        raise _invalid(
            "* GenerateContentRequest.generation_config.response_mime_type: must be application/json "
            "when a response schema is set."
        )
    thinking = _object(config.get("thinkingConfig"), "generation_config.thinking_config")
    thinks = is_thinking_model(model)
    if thinking and not thinks:
        raise _invalid("Thinking is not supported for this model.")
    budget = _number(thinking, "thinkingBudget", -1, 32768, True)
    level = thinking.get("thinkingLevel")
    if level is not None and (level not in _LEVELS or not needs_signatures(model)):
        raise _invalid(
            "Thinking level is not supported for this model."
            if level in _LEVELS
            else "Invalid thinking level."
        )
    tools = _tools(body)
    choice, forced = _tool_choice(body, tools)
    for i, setting in enumerate(body.get("safetySettings") or ()):
        if (
            not isinstance(setting, dict)
            or not isinstance(setting.get("category"), str)
            or not isinstance(setting.get("threshold"), str)
        ):
            raise _invalid(
                f"* GenerateContentRequest.safety_settings[{i}]: category and threshold are required"
            )
    chars = turns.chars + len(system_text)
    if chars > context_chars:
        raise _invalid(
            f"The input token count ({chars // 4}) exceeds the maximum number of tokens allowed "
            f"({context_chars // 4})."
        )
    prompt_tokens = 3 + sum(4 + len(text.split()) + 258 * images for _, text, images in turns.messages)
    prompt_tokens += len(system_text.split())
    if tools:
        prompt_tokens += len(json.dumps(body["tools"], separators=(",", ":"))) // 4
    user_text, image_count = next(
        ((t, im) for r, t, im in reversed(turns.messages) if r == "user" and t), ("", 0)
    )
    include = thinking.get("includeThoughts") is True
    reasons = thinks and budget != 0
    return GeminiRequest(
        chat=ChatRequest(
            model=model,
            user_text=user_text,
            image_count=image_count,
            tool_results=turns.responses,
            tools=tools,
            tool_choice=choice,
            forced_tool=forced,
            response_schema=schema,
            json_object=mime == "application/json" and schema is None,
            max_tokens=max_tokens,
            prompt_tokens=prompt_tokens,
            reasoning_tokens=_THOUGHT_TOKENS if reasons and not include else 0,
        ),
        include_thoughts=include and reasons,
        thinking=reasons,
        prompt_blocked=CONTENT_FILTER_TRIGGER in user_text,
        safety_stop=SAFETY_TRIGGER in user_text,
        cached_tokens=min(_CACHED_TOKENS, prompt_tokens) if body.get("cachedContent") else 0,
        json_mime=mime == "application/json",
        function_names=[t.name for t in tools],
    )
