"""Reading the Anthropic Messages body of Bedrock's ``/invoke`` for Claude
(``anthropic_version: "bedrock-2023-05-31"``) the way the service does: Anthropic's own checks and
messages (passed through by Bedrock), turned into the same :class:`~.bedrock_request.BedrockChat`
as a Converse body (see :mod:`.bedrock_request` for the rules both share)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .bedrock_request import (
    _ANTHROPIC_KEYS,
    _MALFORMED,
    _TOOL_NAME,
    ANTHROPIC_VERSION,
    BedrockChat,
    _Block,
    _block_tokens,
    _cache,
    _chat,
    _check_thinking_history,
    _check_tool_pairs,
    _json_type,
    _Prefix,
    _thinking,
    _Turn,
    _words,
)
from .bedrock_wire import BedrockModel, validation_error
from .generation import ToolSpec
from .openai_wire import Rejection

__all__ = ["parse_anthropic"]


def _malformed(detail: str) -> Rejection:
    return validation_error(_MALFORMED.format(detail=detail))


def _anthropic_content(content: Any, i: int, role: str, prefix: _Prefix) -> list[_Block]:
    if isinstance(content, str):
        if not content and role == "user":
            raise validation_error(
                f"messages.{i}: all messages must have non-empty content except for the optional final "
                "assistant message"
            )
        prefix.add(_words(content), content)
        return [_Block("text", text=content)]
    if not isinstance(content, list):
        raise validation_error(f"messages.{i}.content: Input should be a valid list")
    blocks: list[_Block] = []
    for j, part in enumerate(content):
        where = f"messages.{i}.content.{j}"
        if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
            raise validation_error(
                f"{where}: Input should be a valid dictionary or object to extract fields from"
            )
        kind = part["type"]
        block: _Block
        match kind:
            case "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise validation_error(f"{where}.text.text: Field required")
                if not text:
                    raise validation_error("messages: text content blocks must be non-empty")
                block = _Block("text", text=text)
            case "image":
                source = part.get("source")
                if not isinstance(source, Mapping) or source.get("type") not in ("base64", "url", "file"):
                    raise validation_error(f"{where}.image.source: Field required")
                block = _Block("image")
            case "document":
                block = _Block("document")
            case "tool_use":
                if role != "assistant":
                    raise validation_error(f"{where}: tool_use blocks may only appear in assistant messages")
                if not isinstance(part.get("id"), str) or not isinstance(part.get("name"), str):
                    raise validation_error(f"{where}.tool_use.id: Field required")
                block = _Block("tool_use", tool_id=part["id"], name=part["name"])
            case "tool_result":
                if role != "user":
                    raise validation_error(f"{where}: tool_result blocks may only appear in user messages")
                if not isinstance(part.get("tool_use_id"), str):
                    raise validation_error(f"{where}.tool_result.tool_use_id: Field required")
                raw = part.get("content", "")
                if isinstance(raw, list):
                    raw = " ".join(
                        p["text"] for p in raw if isinstance(p, Mapping) and isinstance(p.get("text"), str)
                    )
                block = _Block("tool_result", text=str(raw), tool_id=part["tool_use_id"])
            case "thinking":
                if not isinstance(part.get("thinking"), str):
                    raise validation_error(f"{where}.thinking.thinking: Field required")
                signature = part.get("signature")
                block = _Block(
                    "reasoning",
                    text=part["thinking"],
                    signature=signature if isinstance(signature, str) else None,
                )
            case "redacted_thinking":
                block = _Block("reasoning", redacted=True)
            case _:
                block = _Block("other")
        if "cache_control" in part:
            prefix.add(_block_tokens(block), part)
            prefix.mark()
        else:
            prefix.add(_block_tokens(block), part)
        blocks.append(block)
    if not blocks and role == "user":
        raise validation_error(
            f"messages.{i}: all messages must have non-empty content except for the optional final assistant "
            "message"
        )
    return blocks


def _anthropic_tools(
    body: Mapping[str, Any], prefix: _Prefix
) -> tuple[list[ToolSpec], str, str | None, bool, int]:
    tools = body.get("tools")
    specs: list[ToolSpec] = []
    tokens = 0
    if tools is not None:
        if not isinstance(tools, list):
            raise validation_error("tools: Input should be a valid list")
        for k, tool in enumerate(tools):
            if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
                raise validation_error(f"tools.{k}.custom.name: Field required")
            if tool.get("type") not in (None, "custom"):
                continue  # a server tool (web search, bash …): not a function the model calls here
            name = tool["name"]
            if not _TOOL_NAME.match(name):
                raise validation_error(
                    f"tools.{k}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                )
            schema = tool.get("input_schema")
            if not isinstance(schema, Mapping):
                raise validation_error(f"tools.{k}.custom.input_schema: Field required")
            specs.append(ToolSpec(name=name, parameters=dict(schema)))
            size = len(json.dumps(tool, separators=(",", ":"), default=str)) // 4
            tokens += size
            prefix.add(size, tool)
            if "cache_control" in tool:
                prefix.mark()
    choice = body.get("tool_choice")
    if choice is None:
        return specs, "auto", None, True, tokens
    if not isinstance(choice, Mapping) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise validation_error(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
        )
    parallel = not choice.get("disable_parallel_tool_use", False)
    match choice["type"]:
        case "auto":
            return specs, "auto", None, parallel, tokens
        case "none":
            return specs, "none", None, parallel, tokens
        case "any":
            return specs, "required", None, parallel, tokens
    name = choice.get("name")
    if not isinstance(name, str):
        raise validation_error("tool_choice.tool.name: Field required")
    if all(s.name != name for s in specs):
        raise validation_error(f"Tool '{name}' not found in provided tools")
    return specs, "forced", name, parallel, tokens


def _anthropic_system(system: Any, prefix: _Prefix) -> int:
    if system is None:
        return 0
    if isinstance(system, str):
        prefix.add(_words(system), system)
        return _words(system)
    if not isinstance(system, list):
        raise validation_error("system: Input should be a valid list")
    tokens = 0
    for k, block in enumerate(system):
        if (
            not isinstance(block, Mapping)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            raise validation_error(f"system.{k}: Input tag does not match any of the expected tags: 'text'")
        tokens += _words(block["text"])
        prefix.add(_words(block["text"]), block)
        if "cache_control" in block:
            prefix.mark()
    return tokens


def parse_anthropic(body: Any, model: BedrockModel, *, stream: bool, context_chars: int) -> BedrockChat:
    """Validate an Anthropic Messages body sent to ``/invoke`` (``/invoke-with-response-stream``)
    for a Claude ``model``; raise a Bedrock 400 otherwise."""
    if not isinstance(body, Mapping):
        raise _malformed("#: expected type: JSONObject, found: " + _json_type(body).capitalize())
    for key in ("anthropic_version", "max_tokens", "messages"):
        if key not in body:
            raise _malformed(f"#: required key [{key}] not found")
    extra = sorted(set(body) - _ANTHROPIC_KEYS)
    if extra:
        raise _malformed(f"#: extraneous key [{extra[0]}] is not permitted")
    if body["anthropic_version"] != ANTHROPIC_VERSION:
        raise _malformed(f"#/anthropic_version: {body['anthropic_version']} is not a valid enum value")
    max_tokens = body["max_tokens"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise _malformed(
            f"#/max_tokens: expected type: Integer, found: {_json_type(max_tokens).capitalize()}"
        )
    if max_tokens < 1:
        raise _malformed(f"#/max_tokens: {max_tokens} is not greater or equal to 1")
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float)
    ):
        raise _malformed(
            f"#/temperature: expected type: Number, found: {_json_type(temperature).capitalize()}"
        )
    if temperature is not None and not 0 <= temperature <= 1:
        raise validation_error("temperature: range: 0..1")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise _malformed(f"#/messages: expected type: JSONArray, found: {_json_type(messages).capitalize()}")
    if not messages:
        raise validation_error("messages: at least one message is required")
    prefix = _Prefix()
    tools, tool_choice, forced, parallel, tool_tokens = _anthropic_tools(body, prefix)
    system_tokens = _anthropic_system(body.get("system"), prefix)
    turns: list[_Turn] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") not in ("user", "assistant"):
            given = message.get("role") if isinstance(message, Mapping) else None
            raise validation_error(f"messages.{i}.role: Input should be 'user' or 'assistant', got {given!r}")
        if "content" not in message:
            raise validation_error(f"messages.{i}.content: Field required")
        role = message["role"]
        blocks = _anthropic_content(message["content"], i, role, prefix)
        if turns and turns[-1].role == role:
            turns[-1].blocks.extend(blocks)  # consecutive turns of one role are merged, as the API does
        else:
            turns.append(_Turn(role, blocks))
    if turns[0].role != "user":
        raise validation_error('messages: first message must use the "user" role')
    _check_tool_pairs(turns, converse=False)
    thinking = _thinking(
        {"thinking": body.get("thinking")} if "thinking" in body else {}, model, max_tokens, temperature
    )
    if thinking and tool_choice in ("required", "forced"):
        raise validation_error("Thinking may not be enabled when tool_choice forces tool use.")
    _check_thinking_history(turns, thinking=thinking, claude=True, converse=False)
    stops = body.get("stop_sequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise _malformed("#/stop_sequences: expected type: JSONArray")
    schema = None
    output = body.get("output_format") or (body.get("output_config") or {}).get("format")
    if (
        isinstance(output, Mapping)
        and output.get("type") == "json_schema"
        and isinstance(output.get("schema"), Mapping)
    ):
        schema = dict(output["schema"])
    chat = _chat(
        model,
        turns,
        system_tokens=system_tokens,
        tool_tokens=tool_tokens,
        tools=tools,
        tool_choice=tool_choice,
        forced=forced,
        parallel=parallel,
        schema=schema,
        max_tokens=max_tokens,
        stream=stream,
        context_chars=context_chars,
        long_context="prompt is too long: {tokens} tokens > {limit} maximum",
    )
    cache_key, cached = _cache(prefix)
    return BedrockChat(
        chat=chat,
        model=model,
        reasoning=thinking,
        signed=thinking,
        stop_sequences=list(stops),
        cache_key=cache_key,
        cache_tokens=cached,
    )
