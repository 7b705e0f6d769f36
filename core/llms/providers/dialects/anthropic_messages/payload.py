"""Typed messages and checked parameters → the Messages API request body (``POST /v1/messages``).

Pure functions: no I/O, no model state.

Messages:

* every ``system`` / ``developer`` message becomes a text block of the top-level ``system`` (in
  order; the Messages API has no system role among the messages);
* a user message's parts become ``text``, ``image`` (``source``: ``base64`` from bytes or a
  ``data:`` URL, ``url`` for an http(s) URL) and ``document`` blocks (a PDF as ``base64`` or
  ``url``, a ``text/plain`` file as a ``text`` source, a ``file_id`` as a ``file`` source — the
  Files API beta); Claude takes no audio (:class:`InvalidInputError`);
* an assistant message's text is a ``text`` block and its tool calls ``tool_use`` blocks (``id``,
  ``name``, ``input``: the arguments decoded, a JSON object);
* a tool message is a ``tool_result`` block (``tool_use_id``, ``content``) in a user turn;
* a native message (see :mod:`.blocks`) is sent as it is;
* consecutive turns of one role are merged into one (tool results first in a user turn, as the
  API wants them right after the turn that called the tools); a turn of one text block without
  extras is sent as a plain string.

Parameters: ``stop`` → ``stop_sequences``; ``tools`` (OpenAI tool dicts, bare function
definitions, pydantic model classes, Anthropic tool dicts with ``input_schema``, server tools
such as ``{"type": "web_search_20250305", ...}``) → ``{name, description, input_schema}``;
``tool_choice`` (``"auto"``, ``"required"`` / ``"any"``, ``"none"``, a tool name, an OpenAI or
Anthropic dict) → Anthropic's; ``parallel_tool_calls=False`` → ``disable_parallel_tool_use``;
``user`` → ``metadata.user_id``; ``response_format`` → a forced tool (:func:`format_tool`);
``thinking`` / ``reasoning_effort`` → ``thinking`` (:func:`thinking_config`); the cache
parameters → ``cache_control`` points (:func:`add_cache_points`).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import AudioPart, ContentPart, FilePart, ImagePart, Message, TextPart
from ...base.pydantic_compat import is_pydantic_model_class
from ..openai_chat.payload import tool_to_wire
from ..openai_chat.schema import schema_name
from .parameters import EFFORT_BUDGETS, cache_control_value, check_value

__all__ = [
    "IMAGE_MEDIA_TYPES",
    "MAX_CACHE_POINTS",
    "FormatTool",
    "add_cache_points",
    "body_parameters",
    "format_tool",
    "messages_to_wire",
    "thinking_config",
    "tool_choice_to_anthropic",
    "tool_to_anthropic",
]

#: the image types Claude reads.
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
#: the API takes at most this many ``cache_control`` points in one request.
MAX_CACHE_POINTS = 4
_TOOL_CHOICE_TYPES = frozenset({"auto", "any", "tool", "none"})
_THINKING_TYPES = frozenset({"enabled", "disabled", "adaptive"})
#: the smallest thinking budget the API takes.
MIN_THINKING_BUDGET = 1024
#: ``thinking=True``: this budget.
DEFAULT_THINKING_BUDGET = 4096
_FORMAT_DESCRIPTION = "Respond with the final answer by calling this tool: its input is the answer."


# -- messages ------------------------------------------------------------------------------------


def messages_to_wire(
    messages: Sequence[Message], natives: Mapping[int, dict[str, Any]] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Checked messages as ``(system blocks, messages)``; ``natives``: native messages to send as
    they are in place of the (placeholder) messages at those indexes."""
    natives = natives or {}
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        native = natives.get(i)
        if native is not None:
            role, blocks = native["role"], [dict(b) for b in native["content"]]
        elif message.role in ("system", "developer"):
            text = _text_only(message, f"messages[{i}]")
            if text:
                system.append({"type": "text", "text": text})
            continue
        else:
            role, blocks = _message_blocks(message, i)
        if not blocks:
            raise InvalidInputError(
                f"messages[{i}] ({role}) is empty: Anthropic refuses messages without content",
                hint="leave the message out, or give it some text",
            )
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        content = turn["content"]
        if turn["role"] == "user" and any(b.get("type") == "tool_result" for b in content):
            content.sort(key=lambda b: b.get("type") != "tool_result")  # stable: results first
        if len(content) == 1 and set(content[0]) == {"type", "text"} and content[0]["type"] == "text":
            turn["content"] = content[0]["text"]
    return system, turns


def _text_only(message: Message, where: str) -> str:
    for j, part in enumerate(message.content):
        if not isinstance(part, TextPart):
            raise InvalidInputError(
                f"{where}.content[{j}]: {message.role} messages carry text only, not {part.type} parts"
            )
    return message.text


def _message_blocks(message: Message, index: int) -> tuple[str, list[dict[str, Any]]]:
    where = f"messages[{index}]"
    if message.name:
        raise InvalidInputError(
            f"{where} has a name ({message.name[:40]!r}): the Messages API has no message names",
            hint="leave name out",
        )
    match message.role:
        case "user":
            return "user", [
                b for j, p in enumerate(message.content) if (b := part_to_block(p, f"{where}.content[{j}]"))
            ]
        case "assistant":
            text = _text_only(message, where)
            blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
            for j, call in enumerate(message.tool_calls):
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.function.name,
                        "input": _tool_input(call.function.arguments, f"{where}.tool_calls[{j}]"),
                    }
                )
            return "assistant", blocks
        case "tool":
            if not message.tool_call_id:
                raise InvalidInputError(f"{where} has role 'tool' but no tool_call_id")
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
            text = _text_only(message, where)
            if text:
                result["content"] = text
            return "user", [result]
        case "system" | "developer":  # (handled by the caller)
            raise AssertionError("system messages are not blocks")
        case _:
            assert_never(message.role)


def _tool_input(arguments: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments or "{}")
    except (ValueError, RecursionError):
        raise InvalidInputError(f"{where}.function.arguments is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}.function.arguments must be a JSON object (a tool_use input)")
    return value


def part_to_block(part: ContentPart, where: str) -> dict[str, Any] | None:
    """One content part as an Anthropic content block (None for empty text)."""
    match part:
        case TextPart():
            return {"type": "text", "text": part.text} if part.text else None
        case ImagePart():
            return {"type": "image", "source": _image_source(part, where)}
        case FilePart():
            return _document(part, where)
        case AudioPart():
            raise InvalidInputError(
                f"{where}: Claude takes no audio input", hint="transcribe it first, and send the text"
            )
        case _:
            assert_never(part)


def _image_source(part: ImagePart, where: str) -> dict[str, Any]:
    if part.data is not None:
        media_type, data = part.media_type or "", base64.b64encode(part.data).decode("ascii")
    else:
        url = part.url or ""
        if url.startswith(("https://", "http://")):
            return {"type": "url", "url": url}
        if not url.startswith("data:") or "," not in url:
            raise InvalidInputError(f"{where}: an image URL must be http(s) or a base64 data: URL")
        header, _, data = url.partition(",")
        if not header.endswith(";base64"):
            raise InvalidInputError(f"{where}: a data: URL image must be base64 encoded")
        media_type = header[5:].split(";")[0]
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"{where}: the data: URL image is not valid base64") from None
    if media_type not in IMAGE_MEDIA_TYPES:
        raise InvalidInputError(
            f"{where}: Claude reads JPEG, PNG, GIF and WebP images, not {media_type[:40]!r}"
        )
    return {"type": "base64", "media_type": media_type, "data": data}


def _document(part: FilePart, where: str) -> dict[str, Any]:
    source: dict[str, Any]
    if part.file_id is not None:
        source = {"type": "file", "file_id": part.file_id}  # the Files API (a beta: betas=[...])
    elif part.url is not None:
        if not part.url.startswith(("https://", "http://")):
            raise InvalidInputError(f"{where}: a document URL must be http(s)")
        source = {"type": "url", "url": part.url}
    elif part.media_type == "application/pdf":
        assert part.data is not None
        source = {
            "type": "base64",
            "media_type": "application/pdf",
            "data": base64.b64encode(part.data).decode(),
        }
    elif part.media_type.startswith("text/"):
        assert part.data is not None
        try:
            text = part.data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(f"{where}: a text document must be UTF-8") from None
        source = {"type": "text", "media_type": "text/plain", "data": text}
    else:
        raise InvalidInputError(
            f"{where}: Claude reads PDF and plain-text documents, not {part.media_type[:40]!r}",
            hint="convert the document to PDF or text first",
        )
    block: dict[str, Any] = {"type": "document", "source": source}
    if part.filename:
        block["title"] = part.filename
    return block


# -- tools ---------------------------------------------------------------------------------------


def tool_to_anthropic(tool: Any, index: int = 0) -> dict[str, Any]:
    """An Anthropic tool from an OpenAI tool dict or bare function definition (checked like Chat
    Completions ones), a pydantic model class (its JSON schema, its docstring as description), an
    Anthropic tool dict (``name`` + ``input_schema``, sent as given) or a server tool (a dict
    whose ``type`` is not ``function``, e.g. ``web_search_20250305``: sent as given)."""
    if is_pydantic_model_class(tool):
        out: dict[str, Any] = {"name": schema_name(tool.__name__), "input_schema": tool.model_json_schema()}
        doc = inspect.cleandoc(tool.__doc__) if tool.__doc__ else ""
        if doc:
            out["description"] = doc
        return out
    if isinstance(tool, Mapping) and "input_schema" in tool:
        name, schema = tool.get("name"), tool.get("input_schema")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"tools[{index}].name must be a non-empty string")
        if not isinstance(schema, Mapping) or schema.get("type", "object") != "object":
            raise InvalidInputError(
                f"tools[{index}] ({name[:64]}): input_schema must be a JSON-schema object"
            )
        return dict(tool)
    wire = tool_to_wire(tool, index)
    if wire.get("type") != "function":
        return wire  # a server tool (web search, code execution, bash …)
    function = wire["function"]
    out = {"name": function["name"], "input_schema": dict(function.get("parameters") or {"type": "object"})}
    if function.get("description"):
        out["description"] = function["description"]
    return out


def tool_choice_to_anthropic(choice: Any) -> dict[str, Any]:
    """``"auto"``, ``"required"`` / ``"any"``, ``"none"``, a tool name (or pydantic class), an
    OpenAI ``tool_choice`` dict or Anthropic's own (``{"type": "auto" | "any" | "tool" | "none"}``)."""
    if is_pydantic_model_class(choice):
        choice = schema_name(choice.__name__)
    if isinstance(choice, str):
        if choice in ("auto", "none", "any"):
            return {"type": choice}
        if choice == "required":
            return {"type": "any"}
        if not choice:
            raise InvalidInputError("tool_choice must not be an empty string")
        return {"type": "tool", "name": choice}
    if isinstance(choice, Mapping):
        kind = choice.get("type")
        if kind == "function":
            function = choice.get("function")
            name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
            if not isinstance(name, str) or not name:
                raise InvalidInputError("tool_choice of type 'function' needs a function name")
            return {"type": "tool", "name": name}
        if kind in _TOOL_CHOICE_TYPES:
            if kind == "tool" and (not isinstance(choice.get("name"), str) or not choice["name"]):
                raise InvalidInputError("tool_choice of type 'tool' needs a name")
            return dict(choice)
        raise InvalidInputError(
            f"a tool_choice dict needs a type of 'auto', 'any', 'tool', 'none' or 'function', not {kind!r}"[
                :160
            ]
        )
    raise InvalidInputError(
        f"tool_choice must be 'auto', 'required', 'none', a tool name or a dict, not {type(choice).__name__}"
    )


@dataclass(frozen=True, slots=True)
class FormatTool:
    """Structured output as a forced tool: the tool's definition; its ``input`` is the answer."""

    name: str
    definition: dict[str, Any]


def format_tool(fmt: Any) -> FormatTool | None:
    """``response_format`` (a pydantic model class, an OpenAI ``response_format`` dict — ``json_schema``
    or ``json_object`` — or a bare JSON schema) as a tool the model is made to call; None for
    ``{"type": "text"}``. The Messages API has no JSON mode: a tool whose input schema is the
    answer's schema is the way Anthropic documents for JSON output."""
    if is_pydantic_model_class(fmt):
        name, schema = schema_name(fmt.__name__), fmt.model_json_schema()
    elif isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind == "text":
            return None
        if kind == "json_object":
            name, schema = "json_response", {"type": "object"}
        elif kind == "json_schema" and isinstance(fmt.get("json_schema"), Mapping):
            spec = fmt["json_schema"]
            if not isinstance(spec.get("schema"), Mapping):
                raise InvalidInputError("response_format of type 'json_schema' needs json_schema.schema")
            name = schema_name(spec.get("name") if isinstance(spec.get("name"), str) else "response")
            schema = dict(spec["schema"])
        else:  # a bare JSON schema
            title = fmt.get("title")
            name, schema = schema_name(title if isinstance(title, str) else "response"), dict(fmt)
    else:
        raise InvalidInputError(
            "response_format must be a pydantic model class, a response_format dict or a JSON schema, "
            f"not {type(fmt).__name__}"
        )
    if schema.get("type", "object") != "object":
        raise InvalidInputError(
            "response_format's schema must describe a JSON object (Claude answers through a tool's input)",
            hint="wrap the value in an object property",
        )
    return FormatTool(name, {"name": name, "description": _FORMAT_DESCRIPTION, "input_schema": schema})


# -- thinking ------------------------------------------------------------------------------------


def thinking_config(thinking: Any, effort: Any) -> dict[str, Any] | None:
    """``thinking`` (True, False, a budget in tokens, or Anthropic's dict: ``{"type": "enabled",
    "budget_tokens": N}``, ``{"type": "disabled"}``, ``{"type": "adaptive"}``) or
    ``reasoning_effort`` (``"minimal"`` 1,024, ``"low"`` 2,048, ``"medium"`` 8,192, ``"high"``
    16,384, ``"xhigh"`` 32,768 tokens of budget; ``"none"``: no thinking) as the ``thinking``
    field; None when neither is given."""
    if thinking is not None and effort is not None:
        raise InvalidInputError("pass only one of 'thinking' and 'reasoning_effort'")
    if effort is not None:
        check_value("reasoning_effort", effort)
        return None if effort == "none" else {"type": "enabled", "budget_tokens": EFFORT_BUDGETS[effort]}
    if thinking is None:
        return None
    if thinking is True:
        return {"type": "enabled", "budget_tokens": DEFAULT_THINKING_BUDGET}
    if thinking is False:
        return {"type": "disabled"}
    if isinstance(thinking, int):
        thinking = {"type": "enabled", "budget_tokens": thinking}
    if not isinstance(thinking, Mapping) or thinking.get("type") not in _THINKING_TYPES:
        raise InvalidInputError(
            "thinking must be True, False, a budget in tokens or {'type': 'enabled', 'budget_tokens': N}",
            hint="or pass reasoning_effort='low' | 'medium' | 'high'",
        )
    if thinking["type"] == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < MIN_THINKING_BUDGET:
            raise InvalidInputError(f"thinking.budget_tokens must be an integer >= {MIN_THINKING_BUDGET}")
    return dict(thinking)


def thinking_budget(thinking: Mapping[str, Any] | None) -> int:
    """The budget of an enabled ``thinking`` config (0 otherwise)."""
    if thinking is None or thinking.get("type") != "enabled":
        return 0
    return int(thinking["budget_tokens"])


# -- the body ------------------------------------------------------------------------------------


def body_parameters(params: Mapping[str, Any], thinking: Mapping[str, Any] | None) -> dict[str, Any]:
    """The sampling and metadata fields of the body from merged, checked parameters: ``stop`` →
    ``stop_sequences``, ``user`` → ``metadata.user_id``; with thinking on, ``temperature`` other
    than 1, ``top_k`` and ``top_p`` below 0.95 are refused (the API refuses them)."""
    out: dict[str, Any] = {}
    for name in ("temperature", "top_p", "top_k", "stop", "metadata", "user", "service_tier"):
        if name in params:
            check_value(name, params[name])
    if "temperature" in params:
        out["temperature"] = params["temperature"]
    if "top_p" in params:
        out["top_p"] = params["top_p"]
    if "top_k" in params:
        out["top_k"] = params["top_k"]
    stop = params.get("stop")
    if stop is not None:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    metadata = dict(params.get("metadata") or {})
    if "user" in params:
        metadata["user_id"] = params["user"]
    if metadata:
        out["metadata"] = metadata
    if "service_tier" in params:
        out["service_tier"] = params["service_tier"]
    if thinking_budget(thinking):
        if out.get("temperature", 1) != 1:
            raise InvalidInputError(
                "temperature must be 1 (or left out) while Claude thinks", hint="leave temperature out"
            )
        if "top_k" in out:
            raise InvalidInputError("top_k is not allowed while Claude thinks", hint="leave top_k out")
        if out.get("top_p", 1) < 0.95:
            raise InvalidInputError("top_p must be between 0.95 and 1 while Claude thinks")
    return out


def tools_and_choice(
    params: Mapping[str, Any], fmt: FormatTool | None, thinking: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
    """The ``tools`` and ``tool_choice`` fields: the caller's tools, plus the format tool of
    structured output (forced; with other tools too, ``any``: the model must call one of them)."""
    raw_tools = params.get("tools")
    tools: list[dict[str, Any]] | None = None
    if raw_tools is not None:
        if not isinstance(raw_tools, Sequence) or isinstance(raw_tools, str | bytes):
            raise InvalidInputError("tools must be a list of tool dicts or pydantic model classes")
        tools = [tool_to_anthropic(t, i) for i, t in enumerate(raw_tools)] or None
    choice = tool_choice_to_anthropic(params["tool_choice"]) if "tool_choice" in params else None
    if fmt is not None:
        if thinking_budget(thinking) or (thinking or {}).get("type") == "adaptive":
            raise InvalidInputError(
                "response_format cannot be combined with thinking on Anthropic: structured output is a "
                "forced tool call, and a thinking model may not be forced to call a tool",
                hint="leave thinking out, or ask for JSON in the prompt and parse it yourself",
            )
        if any(t.get("name") == fmt.name for t in tools or ()):
            raise InvalidInputError(f"response_format's name {fmt.name!r} is also the name of a tool")
        if choice is not None and choice.get("type") not in ("auto", "any"):
            raise InvalidInputError("response_format cannot be combined with this tool_choice")
        forced = {"type": "any"} if tools else {"type": "tool", "name": fmt.name}
        choice = {**forced, **{k: v for k, v in (choice or {}).items() if k == "disable_parallel_tool_use"}}
        tools = [*(tools or ()), fmt.definition]
    if choice is not None and choice.get("type") in ("any", "tool") and thinking_budget(thinking):
        raise InvalidInputError(
            "tool_choice cannot force a tool call while Claude thinks (the API refuses it)",
            hint="use tool_choice='auto' or 'none', or leave thinking out",
        )
    parallel = params.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise InvalidInputError("parallel_tool_calls must be True or False")
    if parallel is False and tools:
        choice = {**(choice or {"type": "auto"})}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    return tools, choice


def add_cache_points(body: dict[str, Any], params: Mapping[str, Any]) -> None:
    """Put the ``cache_control`` points the cache parameters ask for: ``cache_system`` on the last
    system block, ``cache_tools`` on the last tool, ``cache_messages`` on the last block of the
    last message, ``cache_control`` as the top-level field (Anthropic then puts it on the last
    cacheable block itself). At most :data:`MAX_CACHE_POINTS` points in all (those in native
    messages and tool dicts included): :class:`InvalidInputError` past that."""
    system = params.get("cache_system")
    if system is not None:
        control = cache_control_value("cache_system", system)
        if control is not None:
            blocks = body.get("system")
            if not blocks:
                raise InvalidInputError("cache_system=... needs a system message to cache")
            blocks[-1]["cache_control"] = control
    tools = params.get("cache_tools")
    if tools is not None:
        control = cache_control_value("cache_tools", tools)
        if control is not None:
            if not body.get("tools"):
                raise InvalidInputError("cache_tools=... needs tools to cache")
            body["tools"][-1] = {**body["tools"][-1], "cache_control": control}
    messages = params.get("cache_messages")
    if messages is not None:
        control = cache_control_value("cache_messages", messages)
        if control is not None:
            last = body["messages"][-1]
            if isinstance(last["content"], str):
                last["content"] = [{"type": "text", "text": last["content"]}]
            last["content"][-1] = {**last["content"][-1], "cache_control": control}
    top = params.get("cache_control")
    if top is not None:
        control = cache_control_value("cache_control", top)
        if control is not None:
            body["cache_control"] = control
    points = _count_cache_points(body.get("system")) + _count_cache_points(body.get("tools"))
    points += sum(_count_cache_points(m.get("content")) for m in body["messages"])
    points += 1 if body.get("cache_control") else 0  # the automatic point takes a slot too
    if points > MAX_CACHE_POINTS:
        raise InvalidInputError(
            f"{points} cache_control points: Anthropic takes at most {MAX_CACHE_POINTS} in one request"
        )


def _count_cache_points(blocks: Any) -> int:
    if not isinstance(blocks, list):
        return 0
    return sum(1 for b in blocks if isinstance(b, Mapping) and b.get("cache_control") is not None)
