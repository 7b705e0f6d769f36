"""Deterministic answers: text, tool calls and schema-driven JSON, independent of any wire format.

A wire module (``openai_request``) turns a provider request into a :class:`ChatRequest`;
:func:`generate_answer` decides what the "model" says; a wire writer (``openai_wire``) renders the
:class:`Answer`. The same input always gives the same answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Answer",
    "ChatRequest",
    "SchemaError",
    "ToolCallOut",
    "ToolSpec",
    "fragments",
    "generate_answer",
    "value_for_schema",
]

_ANSWER_PREFIX = "Simulated answer to:"
_REASONING_PREFIX = "Simulated reasoning about:"
_TOOL_RESULT_PREFIX = "Based on the tool result:"
_FRAGMENT_CHARS = 8
_MAX_DEPTH = 12  # past this nesting only required members are generated (recursive schemas)
_LEAN_DEPTH = 4  # past this optional arrays are left empty and nullable values are null
_HARD_DEPTH = 64  # a schema whose required members recurse forever cannot be satisfied


class SchemaError(ValueError):
    """A JSON schema the generator cannot satisfy (unresolvable ``$ref``, endless recursion)."""


@dataclass(slots=True)
class ToolSpec:
    """A function tool offered to the model: its name and JSON-schema parameters."""

    name: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class ChatRequest:
    """What the simulator needs from a chat request, whatever the wire format."""

    model: str
    user_text: str = ""
    image_count: int = 0
    tool_results: list[str] | None = None  # contents of the trailing tool messages, if any
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: str = "auto"  # "auto" | "none" | "required" | "forced"
    forced_tool: str | None = None
    parallel_tool_calls: bool = True
    response_schema: dict[str, Any] | None = None
    json_object: bool = False
    max_tokens: int | None = None
    prompt_tokens: int = 0
    reasoning_tokens: int = 0
    content_filter: bool = False
    reasoning_marker: bool = False  # the last user message asks for reasoning text
    stream: bool = False
    include_usage: bool = False
    n: int = 1


@dataclass(slots=True)
class ToolCallOut:
    """One tool call of an answer; ``arguments`` is a JSON document."""

    id: str
    name: str
    arguments: str


@dataclass(slots=True)
class Answer:
    """What the model answers: text or tool calls, the finish reason and token counts.

    ``pieces`` are the content deltas of a stream (words with their leading space for text,
    short fragments for JSON); joined they equal ``content``. ``reasoning`` is the reasoning text
    (None unless asked for), ``reasoning_pieces`` its stream deltas; its words are counted in
    ``reasoning_tokens`` and ``completion_tokens``.
    """

    content: str | None
    finish_reason: str  # "stop" | "length" | "tool_calls" | "content_filter"
    completion_tokens: int
    reasoning_tokens: int = 0
    tool_calls: list[ToolCallOut] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    reasoning: str | None = None
    reasoning_pieces: list[str] = field(default_factory=list)


def generate_answer(
    req: ChatRequest, *, echo_words: int, next_call_id: Callable[[], str], reasoning: bool = False
) -> Answer:
    """The deterministic answer to ``req``; with ``reasoning`` it also carries reasoning text
    (``"Simulated reasoning about: <echo of the user message>"``, or about the tool result).

    Order of precedence: content filter → tool calls (tools offered, ``tool_choice`` not "none",
    last message not a tool result) → JSON schema / JSON object → text (tool result or echo).
    """
    if req.content_filter:
        return Answer(content="", finish_reason="content_filter", completion_tokens=0)
    if req.tools and req.tool_choice != "none" and req.tool_results is None:
        answer = _tool_answer(req, next_call_id)
    elif req.response_schema is not None:
        answer = _json_answer(req, value_for_schema(req.response_schema))
    elif req.json_object:
        answer = _json_answer(req, {"answer": _echo(req.user_text, echo_words)})
    else:
        answer = _text_answer(req, echo_words)
    if reasoning:
        _add_reasoning(answer, req, echo_words)
    return answer


def _add_reasoning(answer: Answer, req: ChatRequest, echo_words: int) -> None:
    if req.tool_results is not None:
        text = f"{_REASONING_PREFIX} the tool result."
    else:
        echo = _echo(req.user_text, echo_words)
        text = f"{_REASONING_PREFIX} {echo}" if echo else "Simulated reasoning."
    words = text.split()
    answer.reasoning_pieces = [words[0], *(" " + w for w in words[1:])]
    answer.reasoning = "".join(answer.reasoning_pieces)
    answer.reasoning_tokens += len(words)
    answer.completion_tokens += len(words)


def _echo(text: str, limit: int) -> str:
    words = text.split()
    if len(words) > limit:
        return " ".join(words[:limit]) + " ..."
    return " ".join(words)


def _text_answer(req: ChatRequest, echo_words: int) -> Answer:
    if req.tool_results is not None:
        text = f"{_TOOL_RESULT_PREFIX} {'; '.join(r.strip() for r in req.tool_results)}"
    else:
        echo = _echo(req.user_text, echo_words)
        text = f"{_ANSWER_PREFIX} {echo}" if echo else "Simulated answer."
        if req.image_count:
            text += f" I see {req.image_count} image{'' if req.image_count == 1 else 's'}."
    words = text.split()
    finish = "stop"
    if req.max_tokens is not None and len(words) > req.max_tokens:
        words = words[: req.max_tokens]
        finish = "length"
    pieces = [words[0], *(" " + w for w in words[1:])] if words else []
    return Answer(
        content="".join(pieces),
        finish_reason=finish,
        completion_tokens=len(words) + req.reasoning_tokens,
        reasoning_tokens=req.reasoning_tokens,
        pieces=pieces,
    )


def _json_answer(req: ChatRequest, value: Any) -> Answer:
    content = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    tokens = max(1, math.ceil(len(content) / 4))
    finish = "stop"
    if req.max_tokens is not None and tokens > req.max_tokens:
        content = content[: req.max_tokens * 4]
        tokens = req.max_tokens
        finish = "length"
    return Answer(
        content=content,
        finish_reason=finish,
        completion_tokens=tokens + req.reasoning_tokens,
        reasoning_tokens=req.reasoning_tokens,
        pieces=fragments(content),
    )


def _tool_answer(req: ChatRequest, next_call_id: Callable[[], str]) -> Answer:
    if req.tool_choice == "forced":
        chosen = [t for t in req.tools if t.name == req.forced_tool][:1]
    else:
        text = req.user_text.lower()
        chosen = [t for t in req.tools if t.name.lower() in text]
        if not req.parallel_tool_calls:
            chosen = chosen[:1]
    if not chosen:
        chosen = req.tools[:1]
    calls = [
        ToolCallOut(
            id=next_call_id(),
            name=tool.name,
            arguments=json.dumps(
                value_for_schema(tool.parameters), separators=(",", ":"), ensure_ascii=False
            ),
        )
        for tool in chosen
    ]
    tokens = sum(max(1, math.ceil((len(c.name) + len(c.arguments)) / 4)) for c in calls)
    return Answer(
        content=None,
        finish_reason="tool_calls",
        completion_tokens=tokens + req.reasoning_tokens,
        reasoning_tokens=req.reasoning_tokens,
        tool_calls=calls,
    )


def fragments(text: str, size: int = _FRAGMENT_CHARS) -> list[str]:
    """``text`` cut into pieces of ``size`` characters (the last may be shorter)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


# --------------------------------------------------------------------------- JSON schema values


def value_for_schema(schema: Mapping[str, Any]) -> Any:
    """A deterministic JSON value that validates against ``schema`` (JSON Schema, roughly draft
    2020-12 as emitted by pydantic v2 and OpenAI's strict mode).

    Objects get every property; strings a short value from the property name, honouring
    ``enum``/``const``/``format``/``minLength``/``maxLength``; numbers honour the bounds and
    ``multipleOf``; arrays get ``minItems`` items (at least one); ``$ref`` resolves into
    ``$defs``/``definitions``; ``anyOf``/``oneOf`` take the first non-null branch; ``allOf`` is
    merged. ``pattern`` is not honoured.
    """
    return _value(schema, schema, "value", 0)


def _value(schema: Any, root: Mapping[str, Any], name: str, depth: int) -> Any:
    if depth > _HARD_DEPTH:
        raise SchemaError(f"schema nests deeper than {_HARD_DEPTH} levels (a required recursive member?)")
    if schema is True or not isinstance(schema, Mapping):
        return f"sample {name}"
    if "$ref" in schema:
        target = _resolve(root, schema["$ref"])
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return _value({**target, **extra} if extra else target, root, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return next((e for e in enum if e is not None), enum[0])
    if "allOf" in schema:
        return _value(_merge_all_of(schema, root), root, name, depth)
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            non_null = [b for b in branches if not _is_null_schema(b, root)]
            if not non_null or (depth >= _LEAN_DEPTH and len(non_null) < len(branches)):
                return None
            return _value(non_null[0], root, name, depth)
    kind = _type_of(schema)
    match kind:
        case "object":
            return _object(schema, root, depth)
        case "array":
            return _array(schema, root, name, depth)
        case "string":
            return _string(schema, name)
        case "integer":
            return int(_number(schema, integer=True))
        case "number":
            return _number(schema, integer=False)
        case "boolean":
            return True
        case "null":
            return None
        case _:
            return f"sample {name}"


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        kind = non_null[0] if non_null else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _resolve(root: Mapping[str, Any], ref: Any) -> Mapping[str, Any]:
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SchemaError(f"only local $ref pointers ('#/...') are supported, got {ref!r}")
    node: Any = root
    for raw in ref[1:].split("/"):
        if not raw:
            continue
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            raise SchemaError(f"$ref {ref!r} does not resolve in the schema")
        node = node[part]
    if not isinstance(node, Mapping):
        raise SchemaError(f"$ref {ref!r} does not point to a schema object")
    return node


def _is_null_schema(schema: Any, root: Mapping[str, Any]) -> bool:
    if not isinstance(schema, Mapping):
        return False
    if "$ref" in schema:
        schema = _resolve(root, schema["$ref"])
    return schema.get("type") == "null" or schema.get("const", 0) is None


def _merge_all_of(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        if isinstance(part, Mapping) and "$ref" in part:
            part = _resolve(root, part["$ref"])
        if not isinstance(part, Mapping):
            continue
        if "allOf" in part:
            part = _merge_all_of(part, root)
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _object(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> dict[str, Any]:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    out: dict[str, Any] = {}
    for prop, sub in props.items():
        if depth >= _MAX_DEPTH and prop not in required:
            continue
        out[prop] = _value(sub, root, prop, depth + 1)
    return out


def _array(schema: Mapping[str, Any], root: Mapping[str, Any], name: str, depth: int) -> list[Any]:
    min_items = int(schema.get("minItems", 0))
    max_items = schema.get("maxItems")
    count = max(min_items, 0 if depth >= _LEAN_DEPTH else 1)
    if max_items is not None:
        count = min(count, int(max_items))
    prefix = schema.get("prefixItems") or []
    items = schema.get("items", {})
    out: list[Any] = []
    for i in range(max(count, len(prefix) if count else 0)):
        sub = prefix[i] if i < len(prefix) else items
        value = _value(sub, root, name if i == 0 else f"{name} {i + 1}", depth + 1)
        out.append(value)
    return out


_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "duration": "P1D",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
}


def _string(schema: Mapping[str, Any], name: str) -> str:
    fmt = schema.get("format")
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "value"
    if fmt in _FORMATS:
        text = _FORMATS[fmt]
    elif fmt == "email":
        text = f"{slug}@example.com"
    elif fmt in ("uri", "url", "iri", "uri-reference"):
        text = f"https://example.com/{slug}"
    else:
        text = f"sample {name}"
    min_len = int(schema.get("minLength", 0))
    if len(text) < min_len:
        text = text + "x" * (min_len - len(text))
    max_len = schema.get("maxLength")
    if max_len is not None and len(text) > int(max_len):
        text = text[: int(max_len)]
    return text


def _number(schema: Mapping[str, Any], *, integer: bool) -> float:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    ex_lo = schema.get("exclusiveMinimum")
    ex_hi = schema.get("exclusiveMaximum")
    step = 1.0 if integer else 0.5
    if isinstance(ex_lo, int | float) and not isinstance(ex_lo, bool):
        lo = max(lo, ex_lo + step) if lo is not None else ex_lo + step
    if isinstance(ex_hi, int | float) and not isinstance(ex_hi, bool):
        hi = min(hi, ex_hi - step) if hi is not None else ex_hi - step
    value = 1.0 if integer else 1.5
    if lo is not None and value < lo:
        value = float(math.ceil(lo)) if integer else float(lo)
    if hi is not None and value > hi:
        value = float(math.floor(hi)) if integer else float(hi)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and not isinstance(multiple, bool) and multiple > 0:
        value = math.ceil(value / multiple) * multiple
        if hi is not None and value > hi:
            value -= multiple
    return value
