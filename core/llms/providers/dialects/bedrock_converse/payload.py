"""Converse ``system`` / ``messages`` and checked parameters → the request body of
``POST /model/{modelId}/converse`` (and ``/converse-stream``: the same body; the model id is in the
URL, never in the body).

Pure functions: no I/O, no model state (the model class passes what it knows: the reasoning
family, the maximum output). Parameters are described in :mod:`.parameters`; here:

**Tools.** ``tools`` takes what Chat Completions takes (OpenAI tool dicts, bare function
definitions, pydantic model classes), normalised by that dialect's ``tool_to_wire`` and written
as ``{"toolSpec": {"name", "description", "inputSchema": {"json": <parameters>}}}`` (OpenAI's
``strict`` has no Converse equivalent here and is left out), and Converse's own tool entries as
they are (``{"toolSpec": ...}``, ``{"systemTool": {"name"}}``, ``{"cachePoint": ...}``).
``tool_choice``: ``"auto"`` → ``{"auto": {}}``; ``"required"`` / ``"any"`` → ``{"any": {}}``; a
tool name, a pydantic class or ``{"type": "function", "function": {"name"}}`` → ``{"tool":
{"name"}}``; Converse's own ``{"auto"|"any"|"tool": ...}`` as it is; ``"none"`` sends no tools at
all (Converse has no "none"). A conversation that holds ``toolUse`` / ``toolResult`` blocks needs
its tools on every call (Bedrock refuses it without ``toolConfig``): without them it is refused
here, with a hint.

**Structured output** (``response_format``: a pydantic model class, a JSON schema, an OpenAI
``response_format`` dict) is asked for with a forced tool, which every Converse model with tools
supports: a tool named after the schema whose input schema is the answer's, and ``toolChoice``
naming it (``{"any": {}}`` when the call has tools of its own, so the model may call those
first). The answer's ``text`` is then the tool's input as JSON, ``parsed`` its decoded value,
and its finish reason ``"stop"``. Claude refuses a forced tool while thinking: the combination is
refused here.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ....interfaces.errors import InvalidInputError
from ...base.pydantic_compat import is_pydantic_model_class
from ..openai_chat.payload import response_format_to_wire, tool_choice_to_wire, tool_to_wire
from .parameters import check_parameter, reasoning_fields

__all__ = [
    "StructuredTool",
    "cache_point",
    "converse_payload",
    "structured_tool",
    "tool_choice_to_converse",
    "tool_to_converse",
]

#: Converse's own entries of ``toolConfig.tools``.
_TOOL_KEYS = frozenset({"toolSpec", "systemTool", "cachePoint"})
_CHOICE_KEYS = frozenset({"auto", "any", "tool"})
_GUARDRAIL_FIELDS = {
    "guardrailIdentifier": "guardrailIdentifier",
    "guardrail_identifier": "guardrailIdentifier",
    "guardrailVersion": "guardrailVersion",
    "guardrail_version": "guardrailVersion",
    "trace": "trace",
    "streamProcessingMode": "streamProcessingMode",
    "stream_processing_mode": "streamProcessingMode",
}
_TRACES = ("enabled", "disabled", "enabled_full")
_STRUCTURED_DESCRIPTION = "Give the final answer with this tool: its input is the answer."


@dataclass(frozen=True, slots=True)
class StructuredTool:
    """The forced tool standing for ``response_format``: its name and ``toolSpec`` entry."""

    name: str
    spec: dict[str, Any]


# -- tools -----------------------------------------------------------------------------------------


def tool_to_converse(tool: Any, index: int = 0) -> dict[str, Any]:
    """One ``toolConfig.tools`` entry from an OpenAI tool dict, a bare function definition, a
    pydantic model class, or Converse's own entry (passed through once its shape is checked)."""
    if isinstance(tool, Mapping) and len(tool) == 1 and next(iter(tool)) in _TOOL_KEYS:
        key = next(iter(tool))
        if not isinstance(tool[key], Mapping):
            raise InvalidInputError(f"tools[{index}].{key} must be a dict")
        return dict(tool)
    wire = tool_to_wire(tool, index)
    if wire.get("type") != "function":
        raise InvalidInputError(
            f"tools[{index}] is of type {str(wire.get('type'))[:40]!r}: Converse takes function tools "
            "(and its own {'systemTool': {'name': ...}} entries)",
        )
    function = wire["function"]
    spec: dict[str, Any] = {"name": function["name"]}
    description = function.get("description")
    if description:
        if not isinstance(description, str):
            raise InvalidInputError(f"tools[{index}].description must be a string")
        spec["description"] = description
    spec["inputSchema"] = {"json": dict(function.get("parameters") or {"type": "object", "properties": {}})}
    return {"toolSpec": spec}


def tool_choice_to_converse(choice: Any) -> dict[str, Any] | None:
    """``toolConfig.toolChoice`` (see the module doc); None for ``"none"``."""
    if isinstance(choice, Mapping) and len(choice) == 1 and next(iter(choice)) in _CHOICE_KEYS:
        key = next(iter(choice))
        value = choice[key]
        if not isinstance(value, Mapping):
            raise InvalidInputError(f"tool_choice.{key} must be a dict")
        if key == "tool" and (not isinstance(value.get("name"), str) or not value["name"]):
            raise InvalidInputError("tool_choice {'tool': ...} needs a name")
        return dict(choice)
    if choice == "any":
        return {"any": {}}
    wire = tool_choice_to_wire(choice)
    if wire == "none":
        return None
    if wire == "auto":
        return {"auto": {}}
    if wire == "required":
        return {"any": {}}
    if isinstance(wire, dict) and wire.get("type") == "function":
        return {"tool": {"name": wire["function"]["name"]}}
    raise InvalidInputError(
        f"tool_choice of type {str(wire.get('type') if isinstance(wire, dict) else wire)[:40]!r} has no "
        "Converse equivalent",
        hint="'auto', 'required' (or 'any'), 'none', or a tool name",
    )


def structured_tool(fmt: Any) -> StructuredTool | None:
    """The forced tool standing for ``response_format`` (None for a ``text`` format)."""
    wire = response_format_to_wire(fmt)
    kind = wire.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        name, schema, description = "json_answer", {"type": "object"}, None
    else:
        spec = wire["json_schema"]
        name, schema, description = (
            spec["name"],
            spec.get("schema") or {"type": "object"},
            spec.get("description"),
        )
    if is_pydantic_model_class(fmt) and fmt.__doc__:
        description = inspect.cleandoc(fmt.__doc__)
    if not isinstance(schema, Mapping) or schema.get("type", "object") != "object":
        raise InvalidInputError(
            "response_format must describe a JSON object on Bedrock (it is asked for as a tool's input)",
            hint="wrap the value in an object, e.g. {'type': 'object', 'properties': {'items': ...}}",
        )
    text = description if isinstance(description, str) and description else _STRUCTURED_DESCRIPTION
    tool_spec = {"name": name, "description": text, "inputSchema": {"json": dict(schema)}}
    return StructuredTool(name, {"toolSpec": tool_spec})


def _tool_config(
    params: Mapping[str, Any], structured: StructuredTool | None, thinking: bool
) -> dict[str, Any] | None:
    tools = params.get("tools")
    if tools is not None and (not isinstance(tools, Sequence) or isinstance(tools, str | bytes)):
        raise InvalidInputError("tools must be a list of tool dicts or pydantic model classes")
    entries = [tool_to_converse(tool, i) for i, tool in enumerate(tools or ())]
    choice: dict[str, Any] | None = {"auto": {}}
    given = "tool_choice" in params
    if given:
        choice = tool_choice_to_converse(params["tool_choice"])
        if choice is None:  # "none": no tools at all
            entries = []
    if structured is not None:
        if thinking:
            raise InvalidInputError(
                "response_format is asked for with a forced tool, which Claude refuses while thinking",
                hint="leave out reasoning_effort / thinking, or ask for JSON in the prompt",
            )
        names = {e["toolSpec"].get("name") for e in entries if "toolSpec" in e}
        if structured.name in names:
            raise InvalidInputError(
                f"response_format's tool name {structured.name!r} is also the name of one of the tools",
                hint="rename the tool or the response format",
            )
        if not any("toolSpec" in e or "systemTool" in e for e in entries):
            choice = {"tool": {"name": structured.name}}
        elif choice is None or "auto" in choice:
            choice = {"any": {}}
        entries.append(structured.spec)
    if not entries:
        return None
    config: dict[str, Any] = {"tools": entries}
    if choice is not None and (given or structured is not None):
        config["toolChoice"] = choice
    return config


# -- the body --------------------------------------------------------------------------------------


def cache_point(value: Any) -> dict[str, Any]:
    """A ``cachePoint`` block for ``prompt_cache`` (True: the default TTL; ``"5m"`` / ``"1h"``)."""
    point: dict[str, Any] = {"type": "default"}
    if isinstance(value, str):
        point["ttl"] = value
    return {"cachePoint": point}


def _guardrail(value: Any, stream: bool) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            "guardrail must be a dict: {'guardrailIdentifier': ..., 'guardrailVersion': ..., 'trace': ...}"
        )
    config: dict[str, Any] = {}
    for key, item in value.items():
        field = _GUARDRAIL_FIELDS.get(key) if isinstance(key, str) else None
        if field is None:
            raise InvalidInputError(
                f"guardrail has an unknown field {str(key)[:40]!r}",
                hint="fields: guardrailIdentifier, guardrailVersion, trace, streamProcessingMode",
            )
        if not isinstance(item, str):
            raise InvalidInputError(f"guardrail.{field} must be a string")
        config[field] = item
    for field in ("guardrailIdentifier", "guardrailVersion"):
        if not config.get(field):
            raise InvalidInputError(f"guardrail needs {field}", hint="e.g. {'guardrailVersion': 'DRAFT'}")
    if "trace" in config and config["trace"] not in _TRACES:
        raise InvalidInputError(f"guardrail.trace must be one of {', '.join(map(repr, _TRACES))}")
    mode = config.get("streamProcessingMode")
    if mode is not None and mode not in ("sync", "async"):
        raise InvalidInputError("guardrail.streamProcessingMode must be 'sync' or 'async'")
    if not stream:
        config.pop("streamProcessingMode", None)  # a streaming option; Converse refuses it
    return config


def converse_payload(
    system: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    params: Mapping[str, Any],
    *,
    stream: bool,
    reasoning: str = "",
    max_output: int = 1 << 30,
    structured: StructuredTool | None = None,
) -> dict[str, Any]:
    """The Converse request body.

    ``params`` are merged and checked, wire-named by the generic names (``max_tokens`` …) with
    transport options left out. ``reasoning``: the model's reasoning family (see
    :func:`~.parameters.reasoning_family`); ``max_output``: its maximum output tokens;
    ``structured``: the forced tool of ``response_format`` (see :func:`structured_tool`)."""
    if "stream" in params:
        raise InvalidInputError(
            "'stream' is not a parameter here", hint="call stream_answer() to stream an answer"
        )
    for key, value in params.items():
        check_parameter(key, value)
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
    extra, max_tokens = reasoning_fields(reasoning, params, params.get("max_tokens"), max_output)
    thinking = extra.get("thinking", {}).get("type") not in (None, "disabled")
    inference: dict[str, Any] = {}
    if max_tokens is not None:
        inference["maxTokens"] = max_tokens
    if "temperature" in params:
        inference["temperature"] = params["temperature"]
    if "top_p" in params:
        inference["topP"] = params["top_p"]
    stop = params.get("stop")
    if stop is not None:
        inference["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(params, structured, thinking)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    elif _holds_tool_blocks(messages):
        raise InvalidInputError(
            "the conversation holds tool calls or results: Converse then needs its tools (toolConfig)",
            hint="pass the conversation's tools= (Converse has no tool_choice='none': leave it out)",
        )
    fields = dict(params.get("additional_model_request_fields") or {})
    for key, value in extra.items():
        if key in fields:
            raise InvalidInputError(
                f"additional_model_request_fields has {key!r}, which reasoning_effort / thinking also sets",
                hint="set it in one place",
            )
        fields[key] = value
    if fields:
        body["additionalModelRequestFields"] = fields
    paths = params.get("additional_model_response_field_paths")
    if paths:
        body["additionalModelResponseFieldPaths"] = list(paths)
    if params.get("guardrail") is not None:
        body["guardrailConfig"] = _guardrail(params["guardrail"], stream)
    if params.get("request_metadata"):
        body["requestMetadata"] = dict(params["request_metadata"])
    performance = params.get("performance_config")
    if performance is not None:
        body["performanceConfig"] = (
            dict(performance) if isinstance(performance, Mapping) else {"latency": performance}
        )
    tier = params.get("service_tier")
    if tier is not None:
        body["serviceTier"] = dict(tier) if isinstance(tier, Mapping) else {"type": tier}
    cache = params.get("prompt_cache")
    if cache:
        _add_cache_points(body, cache)
    return body


def _holds_tool_blocks(messages: list[dict[str, Any]]) -> bool:
    for message in messages:
        for block in message["content"]:
            if "toolUse" in block or "toolResult" in block:
                return True
    return False


def _add_cache_points(body: dict[str, Any], value: Any) -> None:
    """Cache points after the system prompt, the tools and the last message (the whole prompt
    so far, which the next turn reads back)."""
    point = cache_point(value)
    if body.get("system"):
        body["system"] = [*body["system"], point]
    tools = body.get("toolConfig", {}).get("tools")
    if tools:
        body["toolConfig"]["tools"] = [*tools, point]
    messages = body["messages"]
    if messages:
        last = messages[-1]
        messages[-1] = {**last, "content": [*last["content"], point]}
