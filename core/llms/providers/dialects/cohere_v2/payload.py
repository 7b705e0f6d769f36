"""Typed messages and checked parameters → the Cohere v2 chat request body (``POST /v2/chat``).

Pure functions: no I/O, no model state. The model class decides *which* parameters are allowed
(``BaseLLM._merge_parameters``); this module writes each one the way the v2 API takes it and
checks the values it documents: ``p`` in 0.01..0.99, ``k`` in 0..500, penalties in 0..1, at most
5 ``stop_sequences``, ``safety_mode`` one of ``CONTEXTUAL`` / ``STRICT`` / ``OFF`` … A bad value
raises :class:`InvalidInputError` naming the parameter before anything is sent.

Messages (``messages``): ``system`` (and ``developer``) → ``system``; ``user`` → text, or text and
``image_url`` parts; ``assistant`` → ``content`` and/or ``tool_calls`` (OpenAI shape, which v2
shares) with the ``tool_plan`` it came with; ``tool`` → ``tool_call_id`` and its result as text
or as ``document`` parts. Two Cohere fields have no place in the typed :class:`Message`; message
dicts may carry them and :func:`split_cohere_fields` takes them out before the messages are
normalised: an assistant dict's ``tool_plan`` (and ``citations``), and a tool dict whose
``content`` is a list of ``{"type": "document", "document": {...}}`` parts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import AudioPart, FilePart, ImagePart, Message, MessagesInput, TextPart
from ...base.pydantic_compat import is_pydantic_model_class
from ..openai_chat.payload import text_content
from ..openai_chat.payload import tool_to_wire as openai_tool_to_wire
from ..openai_chat.schema import pydantic_strict_schema, schema_name

__all__ = [
    "CohereFields",
    "chat_payload",
    "documents_to_wire",
    "message_to_wire",
    "messages_to_wire",
    "response_format_to_wire",
    "split_cohere_fields",
    "text_messages_to_wire",
    "thinking_to_wire",
    "tool_choice_to_wire",
    "tool_to_wire",
]

_SAFETY_MODES = ("CONTEXTUAL", "STRICT", "OFF")
_MAX_STOP_SEQUENCES = 5
#: parameters handled here rather than copied verbatim (``model`` is the first argument).
_SPECIAL = frozenset({"tools", "tool_choice", "response_format", "documents", "thinking", "stream", "model"})


def _shown(value: Any) -> str:
    """A rejected value in a message: numbers and short strings as they are, else the type."""
    if isinstance(value, int | float) and len(repr(value)) <= 40:
        return repr(value)
    if isinstance(value, str) and len(value) <= 40:
        return repr(value)
    return f"<{type(value).__name__}>"


def _number(low: float, high: float) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise InvalidInputError(f"{name}={_shown(value)} must be a number in {low:g}..{high:g}")
        return value

    return check


def _integer(low: int, high: int | None = None) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(f"{name}={_shown(value)} must be an integer")
        if value < low or (high is not None and value > high):
            shown = f"{low}..{high}" if high is not None else f">= {low}"
            raise InvalidInputError(f"{name}={value} must be {shown}")
        return value

    return check


def _boolean(name: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name}={_shown(value)} must be True or False")
    return value


def _stop_sequences(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if (
        isinstance(value, Sequence)
        and not isinstance(value, bytes | bytearray)
        and len(value) <= _MAX_STOP_SEQUENCES
        and all(isinstance(v, str) and v for v in value)
    ):
        return list(value)
    raise InvalidInputError(
        f"{name} must be a string or a list of at most {_MAX_STOP_SEQUENCES} non-empty strings",
        hint="Cohere stops at up to 5 sequences",
    )


def _safety_mode(name: str, value: Any) -> str:
    if isinstance(value, str) and value.upper() in _SAFETY_MODES:
        return value.upper()
    raise InvalidInputError(
        f"safety_mode={_shown(value)} is not one of {', '.join(_SAFETY_MODES)}",
        hint="command-r7b-12-2024 and newer take CONTEXTUAL or STRICT only",
    )


def _mapping(name: str, value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{name} must be a dict, not {type(value).__name__}")
    return dict(value)


#: the checks of the body parameters copied as they are once checked (returning the wire value).
_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "temperature": _number(0, 1_000),  # (the model's temperature_range was checked already)
    "p": _number(0.01, 0.99),
    "k": _integer(0, 500),
    "frequency_penalty": _number(0, 1),
    "presence_penalty": _number(0, 1),
    "seed": _integer(-(2**63)),
    "stop_sequences": _stop_sequences,
    "safety_mode": _safety_mode,
    "strict_tools": _boolean,
    "priority": _integer(0),
    "citation_options": _mapping,
    "max_tokens": _integer(1),
}


# -- messages ------------------------------------------------------------------------------------


@dataclass(slots=True)
class CohereFields:
    """What message dicts carried that the typed messages cannot: by message index, an assistant
    message's ``tool_plan`` and ``citations``, and a tool message's ``document`` parts."""

    tool_plans: dict[int, str] = field(default_factory=dict)
    citations: dict[int, list[Any]] = field(default_factory=dict)
    documents: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tool_plans or self.citations or self.documents)


def split_cohere_fields(messages: MessagesInput) -> tuple[MessagesInput, CohereFields]:
    """``messages`` without the Cohere-only fields of its message dicts (see the module
    docstring), and those fields. Input without them is returned as it is."""
    fields = CohereFields()
    if isinstance(messages, str | Message | Mapping) or not isinstance(messages, Sequence):
        return messages, fields
    out: list[Any] | None = None
    for i, item in enumerate(messages):
        if not isinstance(item, Mapping):
            continue
        role = item.get("role")
        changed: dict[str, Any] | None = None
        if role == "assistant" and ("tool_plan" in item or "citations" in item):
            changed = {k: v for k, v in item.items() if k not in ("tool_plan", "citations")}
            plan = item.get("tool_plan")
            if plan is not None and not isinstance(plan, str):
                raise InvalidInputError(
                    f"messages[{i}].tool_plan must be a string, not {type(plan).__name__}"
                )
            if plan:
                fields.tool_plans[i] = plan
            cites = item.get("citations")
            if cites is not None:
                if not isinstance(cites, list):
                    raise InvalidInputError(f"messages[{i}].citations must be a list")
                fields.citations[i] = cites
        elif role == "tool" and _has_document_parts(item.get("content")):
            documents = [
                _tool_document(part, f"messages[{i}].content[{j}]") for j, part in enumerate(item["content"])
            ]
            fields.documents[i] = documents
            # the documents stand in the typed message as their JSON text (for the token estimate)
            changed = {**item, "content": json.dumps([d["document"] for d in documents], default=str)}
        if changed is not None:
            if out is None:
                out = list(messages)
            out[i] = changed
    return (messages if out is None else out), fields


def _has_document_parts(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and any(isinstance(p, Mapping) and p.get("type") == "document" for p in content)
    )


def _tool_document(part: Any, where: str) -> dict[str, Any]:
    """One part of a tool result given as parts: a ``document`` part or a ``text`` part."""
    if isinstance(part, Mapping) and part.get("type") == "document":
        return {"type": "document", "document": _document(part.get("document"), f"{where}.document")}
    if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str):
        return {"type": "document", "document": {"data": {"text": part["text"]}}}
    raise InvalidInputError(
        f"{where} must be a document part ({{'type': 'document', 'document': {{...}}}}) or a text part"
    )


def messages_to_wire(messages: Sequence[Message], fields: CohereFields | None = None) -> list[dict[str, Any]]:
    """Typed messages in the v2 shape (``fields``: what :func:`split_cohere_fields` took out)."""
    return [message_to_wire(m, i, fields) for i, m in enumerate(messages)]


def message_to_wire(message: Message, index: int = 0, fields: CohereFields | None = None) -> dict[str, Any]:
    """One :class:`Message` in the v2 shape."""
    where = f"messages[{index}]"
    out: dict[str, Any]
    match message.role:
        case "system" | "developer":
            out = {"role": "system", "content": text_content(message, where)}
        case "user":
            out = {"role": "user", "content": _user_content(message, where)}
        case "assistant":
            text = text_content(message, where)
            plan = fields.tool_plans.get(index) if fields else None
            out = {"role": "assistant"}
            if message.tool_calls:
                out["tool_calls"] = [call.to_dict() for call in message.tool_calls]
                # text said before calling tools is the tool plan in Cohere's terms
                plan = plan or text or None
                if plan:
                    out["tool_plan"] = plan
            else:
                out["content"] = text
            cites = fields.citations.get(index) if fields else None
            if cites is not None:
                out["citations"] = cites
        case "tool":
            if not message.tool_call_id:
                raise InvalidInputError(f"{where} has role 'tool' but no tool_call_id")
            documents = fields.documents.get(index) if fields else None
            content: Any = documents if documents is not None else text_content(message, where)
            out = {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
        case _:
            assert_never(message.role)
    return out


def text_messages_to_wire(messages: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Plain text messages, ``(role, text)``, in the v2 shape (what :func:`message_to_wire`
    writes for the same messages)."""
    out = []
    for role, text in messages:
        out.append({"role": "system" if role == "developer" else role, "content": text})
    return out


def _user_content(message: Message, where: str) -> str | list[dict[str, Any]]:
    parts = message.content
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    out: list[dict[str, Any]] = []
    for j, part in enumerate(parts):
        match part:
            case TextPart():
                out.append({"type": "text", "text": part.text})
            case ImagePart():
                image: dict[str, Any] = {"url": part.as_data_url()}
                if part.detail:
                    image["detail"] = part.detail
                out.append({"type": "image_url", "image_url": image})
            case AudioPart() | FilePart():
                raise InvalidInputError(
                    f"{where}.content[{j}]: Cohere's chat takes text and images, not {part.type} parts",
                    hint="pass a PDF's or a recording's text instead, or a document through documents=",
                )
            case _:
                assert_never(part)
    return out


# -- documents -----------------------------------------------------------------------------------


def documents_to_wire(documents: Any) -> list[Any]:
    """``documents=`` (RAG): a list of strings or dicts. A string is sent as it is; a dict with a
    ``data`` dict (and an optional ``id``) is a Cohere document; any other dict is the document's
    data (its ``id``, when a string, becomes the document id)."""
    if isinstance(documents, str | bytes | Mapping) or not isinstance(documents, Sequence):
        raise InvalidInputError(
            "documents must be a list of strings or dicts",
            hint="documents=['first text', {'title': 'T', 'snippet': '...'}]",
        )
    if not documents:
        raise InvalidInputError("documents is empty", hint="leave documents= out when there are none")
    return [d if isinstance(d, str) else _document(d, f"documents[{i}]") for i, d in enumerate(documents)]


def _document(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, Mapping) or not doc:
        raise InvalidInputError(f"{where} must be a string or a non-empty dict, not {type(doc).__name__}")
    data = doc.get("data")
    if isinstance(data, Mapping) and set(doc) <= {"data", "id"}:
        out: dict[str, Any] = {"data": dict(data)}
    else:
        out = {"data": {k: v for k, v in doc.items() if k != "id"}}
    doc_id = doc.get("id")
    if doc_id is not None:
        if not isinstance(doc_id, str) or not doc_id:
            raise InvalidInputError(f"{where}.id must be a non-empty string")
        out["id"] = doc_id
    for key in out["data"]:
        if not isinstance(key, str):
            raise InvalidInputError(f"{where}: a document's keys must be strings")
    return out


# -- tools, tool choice, structured output, thinking ------------------------------------------------


def tool_to_wire(tool: Any, index: int = 0) -> dict[str, Any]:
    """A v2 tool (``{"type": "function", "function": {"name", "description", "parameters"}}``)
    from an OpenAI tool dict, a bare function definition or a pydantic model class (checked as
    for Chat Completions). OpenAI's per-function ``strict`` has no place here: Cohere's is the
    request's ``strict_tools=True``."""
    openai_tool = openai_tool_to_wire(tool, index)
    if openai_tool.get("type") != "function":
        raise InvalidInputError(
            f"tools[{index}] is of type {_shown(openai_tool.get('type'))}: Cohere takes function tools only"
        )
    fn = openai_tool["function"]
    function: dict[str, Any] = {"name": fn["name"], "parameters": dict(fn.get("parameters") or {})}
    description = fn.get("description")
    if description:
        function["description"] = description
    return {"type": "function", "function": function}


def tool_choice_to_wire(
    choice: Any, tools: list[dict[str, Any]] | None
) -> tuple[str | None, list[Any] | None]:
    """``(tool_choice, tools)`` for the body. ``"auto"`` sends nothing (the default), ``"none"``
    → ``NONE``, ``"required"`` → ``REQUIRED``. A tool name (or pydantic class, or OpenAI's
    ``{"type": "function", "function": {"name"}}``) forces that function: Cohere cannot name one,
    so the request offers only that tool, with ``REQUIRED``."""
    if is_pydantic_model_class(choice):
        choice = schema_name(choice.__name__)
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        name = fn.get("name") if choice.get("type") == "function" and isinstance(fn, Mapping) else None
        if not isinstance(name, str) or not name:
            raise InvalidInputError(
                "a tool_choice dict must be {'type': 'function', 'function': {'name': ...}}",
                hint="or tool_choice='auto' / 'none' / 'required' / a tool name",
            )
        choice = name
    if not isinstance(choice, str) or not choice:
        raise InvalidInputError(
            f"tool_choice must be 'auto', 'none', 'required' or a tool name, not {type(choice).__name__}"
        )
    mode = choice.upper()
    if mode == "AUTO":
        return None, tools
    if mode in ("NONE", "REQUIRED"):
        if mode == "REQUIRED" and not tools:
            raise InvalidInputError("tool_choice='required' needs tools=")
        return mode, tools
    chosen = [t for t in tools or () if t["function"]["name"] == choice]
    if not chosen:
        raise InvalidInputError(
            f"tool_choice names {_shown(choice)}, which is not one of the tools",
            hint="name a tool given in tools=, or pass 'auto', 'none' or 'required'",
        )
    return "REQUIRED", chosen


def response_format_to_wire(fmt: Any) -> dict[str, Any]:
    """The ``response_format`` body field: ``{"type": "json_object", "json_schema": {...}}``.

    * a pydantic model class → its strict JSON schema;
    * Cohere's own dicts (``{"type": "json_object"[, "json_schema"]}``, ``{"type": "text"}``) as
      given; OpenAI's ``{"type": "json_schema", "json_schema": {"schema": ...}}`` → its schema;
    * any other dict is taken as a bare JSON schema.
    """
    if is_pydantic_model_class(fmt):
        return {"type": "json_object", "json_schema": pydantic_strict_schema(fmt)}
    if not isinstance(fmt, Mapping):
        raise InvalidInputError(
            "response_format must be a pydantic model class, a response_format dict or a JSON schema, "
            f"not {type(fmt).__name__}"
        )
    kind = fmt.get("type")
    if kind == "text":
        return {"type": "text"}
    if kind == "json_object":
        out: dict[str, Any] = {"type": "json_object"}
        schema = fmt.get("json_schema", fmt.get("schema"))
        if schema is not None:
            if not isinstance(schema, Mapping):
                raise InvalidInputError("response_format json_schema must be a JSON schema (a dict)")
            out["json_schema"] = dict(schema)
        return out
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        if not isinstance(schema, Mapping):
            raise InvalidInputError(
                "response_format of type 'json_schema' needs json_schema: {'name', 'schema'}",
                hint="or pass the JSON schema itself, or a pydantic model class",
            )
        return {"type": "json_object", "json_schema": dict(schema)}
    return {"type": "json_object", "json_schema": dict(fmt)}


def thinking_to_wire(value: Any) -> dict[str, Any]:
    """``thinking=``: Cohere's ``{"type": "enabled" | "disabled", "token_budget": n}``, or
    ``True`` / ``False``, or a token budget (an int > 0: enabled with that budget)."""
    if isinstance(value, bool):
        return {"type": "enabled" if value else "disabled"}
    if isinstance(value, int):
        _integer(1)("thinking", value)
        return {"type": "enabled", "token_budget": value}
    if isinstance(value, Mapping):
        kind = value.get("type", "enabled")
        if kind not in ("enabled", "disabled") or not set(value) <= {"type", "token_budget"}:
            raise InvalidInputError(
                "thinking must be {'type': 'enabled' | 'disabled', 'token_budget': n}",
                hint="or thinking=True / False / a token budget",
            )
        out: dict[str, Any] = {"type": kind}
        budget = value.get("token_budget")
        if budget is not None:
            out["token_budget"] = _integer(1)("thinking.token_budget", budget)
        return out
    raise InvalidInputError(f"thinking must be a dict, a bool or a token budget, not {type(value).__name__}")


# -- the body --------------------------------------------------------------------------------------


def chat_payload(
    model: str, messages: list[dict[str, Any]], params: Mapping[str, Any], *, stream: bool
) -> dict[str, Any]:
    """The body of ``POST /v2/chat`` from wire-shaped messages and merged, checked, wire-named
    ``params`` (transport options already left out)."""
    if "stream" in params:
        raise InvalidInputError(
            "'stream' is not a parameter here", hint="call stream_answer() to stream an answer"
        )
    payload: dict[str, Any] = {"model": model, "messages": messages}
    for key, value in params.items():
        if key in _SPECIAL:
            continue
        check = _CHECKS.get(key)
        payload[key] = check(key, value) if check is not None else value
    tools: list[dict[str, Any]] | None = None
    raw_tools = params.get("tools")
    if raw_tools is not None:
        if not isinstance(raw_tools, Sequence) or isinstance(raw_tools, str | bytes):
            raise InvalidInputError("tools must be a list of tool dicts or pydantic model classes")
        tools = [tool_to_wire(t, i) for i, t in enumerate(raw_tools)] or None
    if "tool_choice" in params:
        choice, tools = tool_choice_to_wire(params["tool_choice"], tools)
        if choice is not None:
            payload["tool_choice"] = choice
    if tools:
        payload["tools"] = tools
    if "documents" in params:
        payload["documents"] = documents_to_wire(params["documents"])
    if "response_format" in params:
        payload["response_format"] = response_format_to_wire(params["response_format"])
    if "thinking" in params:
        payload["thinking"] = thinking_to_wire(params["thinking"])
    if stream:
        payload["stream"] = True
    return payload
