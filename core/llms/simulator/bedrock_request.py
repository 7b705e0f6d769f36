"""Reading Bedrock chat requests the way the service does: the Converse body (``/converse``,
``/converse-stream``) and, with :mod:`.bedrock_invoke_request`, the Anthropic Messages body of
``/invoke`` for Claude (``anthropic_version: "bedrock-2023-05-31"``).

Both are checked (roles alternate and start with the user, blocks are well formed, every
``toolUse`` / ``tool_use`` is answered by a ``toolResult`` / ``tool_result`` in the next user
message, Claude's thinking rules) and turned into the generator's wire-neutral
:class:`~.generation.ChatRequest` inside a :class:`BedrockChat`, so echoes, tools and structured
output behave as on the chat routes. Refusals are :class:`~.openai_wire.Rejection` s in Bedrock's
shape (400 ``ValidationException``, ``{"message": ...}``), with Bedrock's messages for Converse
and Anthropic's (passed through by Bedrock) for the Messages body.

Prompt caching: a ``cachePoint`` block (Converse) or a ``cache_control`` marker (Anthropic) makes
everything before it — tools, then system, then messages — a cached prefix; the route counts its
tokens as written the first time it sees that prefix and as read after that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .bedrock_wire import BedrockModel, signature_ok, validation_error
from .generation import ChatRequest, ToolSpec
from .hosts import REASONING_TRIGGER
from .openai_request import CONTENT_FILTER_TRIGGER
from .openai_wire import Rejection

__all__ = ["ANTHROPIC_VERSION", "BedrockChat", "parse_converse"]

ANTHROPIC_VERSION = "bedrock-2023-05-31"
_MESSAGE_OVERHEAD = 4
_IMAGE_TOKENS = 85
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")
_CONVERSE_BLOCKS = (
    "text",
    "image",
    "document",
    "video",
    "audio",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
    "citationsContent",
    "searchResult",
)
_MALFORMED = "Malformed input request: {detail}, please reformat your input and try again."
_ANTHROPIC_KEYS = frozenset(
    {
        "anthropic_version",
        "anthropic_beta",
        "max_tokens",
        "messages",
        "system",
        "stop_sequences",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
        "output_config",
        "output_format",
        "context_management",
        "service_tier",
    }
)
_THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
_LONG_CONTEXT = "Input is too long for requested model."


@dataclass(slots=True)
class _Block:
    kind: str  # text | image | document | tool_use | tool_result | reasoning | other
    text: str = ""
    tool_id: str = ""
    name: str = ""
    signature: str | None = None
    redacted: bool = False


@dataclass(slots=True)
class _Turn:
    role: str
    blocks: list[_Block]


@dataclass(slots=True)
class _Prefix:
    """The prompt as cacheable segments: tokens and content of each, and where cache points are."""

    tokens: list[int] = field(default_factory=list)
    parts: list[Any] = field(default_factory=list)
    cache_at: int = 0  # segments before the last cache point

    def add(self, tokens: int, material: Any) -> None:
        self.tokens.append(tokens)
        self.parts.append(material)

    def mark(self) -> None:
        self.cache_at = len(self.tokens)


@dataclass(slots=True)
class BedrockChat:
    """A parsed Bedrock chat request: the generator's ``chat`` request and what the wire adds.

    ``reasoning``: the answer carries reasoning text (Claude with thinking, Nova with a reasoning
    config, DeepSeek R1); ``signed``: that text gets a signature (Claude). ``cache_key`` /
    ``cache_tokens``: the cached prefix (None when the request marks none)."""

    chat: ChatRequest
    model: BedrockModel
    reasoning: bool = False
    signed: bool = False
    stop_sequences: list[str] = field(default_factory=list)
    cache_key: str | None = None
    cache_tokens: int = 0


def _words(text: str) -> int:
    return len(text.split())


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case _:
            return "object"


# --------------------------------------------------------------------------- Converse


def _coral(value: Any, where: str, constraint: str) -> Rejection:
    shown = "null" if value is None else str(value)[:100]
    return validation_error(
        f"1 validation error detected: Value '{shown}' at '{where}' failed to satisfy constraint: "
        f"{constraint}"
    )


def _converse_block(block: Any, i: int, j: int, role: str) -> tuple[str, _Block]:
    where = f"messages.{i}.content.{j}"
    keys = [k for k in _CONVERSE_BLOCKS if isinstance(block, Mapping) and k in block]
    if len(keys) != 1:
        raise validation_error(
            f"The ContentBlock object at {where} must set exactly one of: {', '.join(_CONVERSE_BLOCKS)}."
        )
    key = keys[0]
    value = block[key]
    match key:
        case "text":
            if not isinstance(value, str) or not value.strip():
                raise validation_error(
                    f"The text field in the ContentBlock object at {where} is blank. Add text to the text "
                    "field, "
                    "and try again."
                )
            return key, _Block("text", text=value)
        case "image":
            _check_image(value, f"{where}.image")
            return key, _Block("image")
        case "toolUse":
            if role != "assistant":
                raise validation_error(
                    f"The toolUse block at {where} is only allowed in an assistant message."
                )
            if not isinstance(value, Mapping) or not isinstance(value.get("toolUseId"), str):
                raise _coral(None, f"{where}.member.toolUse.toolUseId", "Member must not be null")
            if not isinstance(value.get("name"), str):
                raise _coral(None, f"{where}.member.toolUse.name", "Member must not be null")
            if "input" not in value:
                raise _coral(None, f"{where}.member.toolUse.input", "Member must not be null")
            return key, _Block("tool_use", tool_id=value["toolUseId"], name=value["name"])
        case "toolResult":
            if role != "user":
                raise validation_error(f"The toolResult block at {where} is only allowed in a user message.")
            if not isinstance(value, Mapping) or not isinstance(value.get("toolUseId"), str):
                raise _coral(None, f"{where}.member.toolResult.toolUseId", "Member must not be null")
            content = value.get("content")
            if not isinstance(content, list):
                raise _coral(None, f"{where}.member.toolResult.content", "Member must not be null")
            status = value.get("status")
            if status is not None and status not in ("success", "error"):
                raise _coral(
                    status,
                    f"{where}.member.toolResult.status",
                    "Member must satisfy enum value set: [success, error]",
                )
            texts = []
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part, Mapping) and "json" in part:
                    texts.append(json.dumps(part["json"], separators=(",", ":"), ensure_ascii=False))
            return key, _Block("tool_result", text=" ".join(texts), tool_id=value["toolUseId"])
        case "reasoningContent":
            if role != "assistant":
                raise validation_error(
                    f"The reasoningContent block at {where} is only allowed in an assistant message."
                )
            if not isinstance(value, Mapping):
                raise _coral(None, f"{where}.member.reasoningContent", "Member must not be null")
            if "redactedContent" in value:
                return key, _Block("reasoning", redacted=True)
            text_block = value.get("reasoningText")
            if not isinstance(text_block, Mapping) or not isinstance(text_block.get("text"), str):
                raise _coral(
                    None, f"{where}.member.reasoningContent.reasoningText.text", "Member must not be null"
                )
            signature = text_block.get("signature")
            return key, _Block(
                "reasoning",
                text=text_block["text"],
                signature=signature if isinstance(signature, str) else None,
            )
        case "cachePoint":
            if not isinstance(value, Mapping) or value.get("type") != "default":
                raise _coral(
                    value.get("type") if isinstance(value, Mapping) else value,
                    f"{where}.member.cachePoint.type",
                    "Member must satisfy enum value set: [default]",
                )
            return key, _Block("other")
        case "document":
            if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
                raise _coral(None, f"{where}.member.document.name", "Member must not be null")
            return key, _Block("document")
        case _:
            return key, _Block("other")


def _check_image(value: Any, where: str) -> None:
    if not isinstance(value, Mapping):
        raise _coral(None, where, "Member must not be null")
    fmt = value.get("format")
    if fmt not in _IMAGE_FORMATS:
        raise _coral(
            fmt, f"{where}.format", f"Member must satisfy enum value set: [{', '.join(_IMAGE_FORMATS)}]"
        )
    source = value.get("source")
    if not isinstance(source, Mapping) or not ("bytes" in source or "s3Location" in source):
        raise _coral(None, f"{where}.source", "Member must not be null")
    raw = source.get("bytes")
    if raw is not None:
        try:
            if not isinstance(raw, str) or not base64.b64decode(raw, validate=True):
                raise ValueError
        except (ValueError, binascii.Error):
            raise validation_error(f"Invalid base64 image bytes at {where}.source.bytes.") from None


def _converse_turns(messages: Any, prefix: _Prefix) -> list[_Turn]:
    if not isinstance(messages, list) or not messages:
        raise validation_error(
            "A conversation must start with a user message. Try again with a conversation that starts with a "
            "user "
            "message."
        )
    turns: list[_Turn] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise _coral(message, f"messages.{i}", "Member must be a structure")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise _coral(
                role, f"messages.{i}.member.role", "Member must satisfy enum value set: [user, assistant]"
            )
        if i == 0 and role != "user":
            raise validation_error(
                "A conversation must start with a user message. Try again with a conversation that starts "
                "with a "
                "user message."
            )
        if turns and turns[-1].role == role:
            raise validation_error(
                "A conversation must alternate between user and assistant roles. Make sure the conversation "
                "alternates between user and assistant roles and try again."
            )
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise validation_error(
                f"The content field in the Message object at messages.{i} is empty. Add a ContentBlock "
                "object to "
                "the content field and try again."
            )
        blocks: list[_Block] = []
        for j, raw in enumerate(content):
            key, block = _converse_block(raw, i, j, role)
            if key == "cachePoint":
                prefix.mark()
                continue
            prefix.add(_block_tokens(block), raw)
            blocks.append(block)
        turns.append(_Turn(role, blocks))
    _check_tool_pairs(turns, converse=True)
    return turns


def _block_tokens(block: _Block) -> int:
    if block.kind == "image":
        return _IMAGE_TOKENS
    return _words(block.text) + (1 if block.kind in ("tool_use", "tool_result") else 0)


def _check_tool_pairs(turns: list[_Turn], *, converse: bool) -> None:
    """Every tool use is answered by a result in the next (user) message, and every result answers
    a tool use of the previous (assistant) message."""
    for i, turn in enumerate(turns):
        if turn.role != "user":
            continue
        results = [b.tool_id for b in turn.blocks if b.kind == "tool_result"]
        asked = [b.tool_id for b in turns[i - 1].blocks if b.kind == "tool_use"] if i else []
        if converse:
            if len(results) > len(asked):
                raise validation_error(
                    f"The number of toolResult blocks at messages.{i}.content exceeds the number of toolUse "
                    "blocks "
                    "of previous turn."
                )
            unanswered = [tool_id for tool_id in asked if tool_id not in results]
            if unanswered:
                raise validation_error(
                    f"Expected toolResult blocks at messages.{i}.content for the following Ids: "
                    f"{', '.join(unanswered)}"
                )
        else:
            stray = [tool_id for tool_id in results if tool_id not in asked]
            if stray:
                raise validation_error(
                    f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{stray[0]}. "
                    "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
                    "message."
                )
            unanswered = [tool_id for tool_id in asked if tool_id not in results]
            if unanswered:
                raise validation_error(
                    f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                    "after: "
                    f"{', '.join(unanswered)}. Each `tool_use` block must have a corresponding `tool_result` "
                    "block "
                    "in the next message."
                )
    if turns and turns[-1].role == "assistant" and not converse:
        asked = [b.tool_id for b in turns[-1].blocks if b.kind == "tool_use"]
        if asked:
            raise validation_error(
                f"messages.{len(turns) - 1}: `tool_use` ids were found without `tool_result` blocks "
                "immediately "
                f"after: {', '.join(asked)}. Each `tool_use` block must have a corresponding `tool_result` "
                "block in "
                "the next message."
            )


def _converse_tools(config: Any, prefix: _Prefix) -> tuple[list[ToolSpec], str, str | None, int]:
    """Tools, tool choice, forced tool and the tools' token count of a ``toolConfig``."""
    if config is None:
        return [], "auto", None, 0
    if not isinstance(config, Mapping):
        raise _coral(config, "toolConfig", "Member must be a structure")
    tools = config.get("tools")
    if not isinstance(tools, list) or not tools:
        raise _coral(
            None if tools is None else "[]",
            "toolConfig.tools",
            "Member must have length greater than or equal to 1",
        )
    specs: list[ToolSpec] = []
    tokens = 0
    for k, tool in enumerate(tools):
        where = f"toolConfig.tools.{k + 1}.member"
        if isinstance(tool, Mapping) and "cachePoint" in tool:
            prefix.mark()
            continue
        if isinstance(tool, Mapping) and "systemTool" in tool:
            continue
        spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
        if not isinstance(spec, Mapping):
            raise _coral(None, f"{where}.toolSpec", "Member must not be null")
        name = spec.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise _coral(
                name,
                f"{where}.toolSpec.name",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
            )
        schema = spec.get("inputSchema")
        document = schema.get("json") if isinstance(schema, Mapping) else None
        if not isinstance(document, Mapping):
            raise validation_error(
                f"The input schema of tool {name} must be a JSON object (toolSpec.inputSchema.json)."
            )
        if any(s.name == name for s in specs):
            raise validation_error(f"The toolConfig field contains duplicate tool names: {name}.")
        specs.append(ToolSpec(name=name, parameters=dict(document)))
        size = len(json.dumps(spec, separators=(",", ":"), default=str)) // 4
        tokens += size
        prefix.add(size, tool)
    choice = config.get("toolChoice")
    if choice is None:
        return specs, "auto", None, tokens
    if not isinstance(choice, Mapping) or len(choice) != 1:
        raise validation_error("The toolChoice field must set exactly one of: auto, any, tool.")
    if "auto" in choice:
        return specs, "auto", None, tokens
    if "any" in choice:
        return specs, "required", None, tokens
    forced = choice.get("tool")
    name = forced.get("name") if isinstance(forced, Mapping) else None
    if not isinstance(name, str):
        raise _coral(None, "toolConfig.toolChoice.tool.name", "Member must not be null")
    if all(s.name != name for s in specs):
        raise validation_error(f"The tool {name} named in toolChoice is not defined in toolConfig.tools.")
    return specs, "forced", name, tokens


def _inference(config: Any) -> tuple[int | None, float | None, list[str]]:
    if config is None:
        return None, None, []
    if not isinstance(config, Mapping):
        raise _coral(config, "inferenceConfig", "Member must be a structure")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise _coral(max_tokens, "inferenceConfig.maxTokens", "Member must be an integer")
        if max_tokens < 1:
            raise _coral(
                max_tokens, "inferenceConfig.maxTokens", "Member must have value greater than or equal to 1"
            )
    temperature = config.get("temperature")
    for name in ("temperature", "topP"):
        value = config.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _coral(value, f"inferenceConfig.{name}", "Member must be a number")
        if value < 0:
            raise _coral(
                value, f"inferenceConfig.{name}", "Member must have value greater than or equal to 0"
            )
        if value > 1:
            raise _coral(value, f"inferenceConfig.{name}", "Member must have value less than or equal to 1")
    stops = config.get("stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise _coral(stops, "inferenceConfig.stopSequences", "Member must be a list of non-empty strings")
    return max_tokens, temperature, list(stops)


def _output_schema(config: Any) -> dict[str, Any] | None:
    """``outputConfig.textFormat`` (structured output): the JSON schema, sent as a string."""
    if config is None:
        return None
    fmt = config.get("textFormat") if isinstance(config, Mapping) else None
    if fmt is None:
        return None
    if not isinstance(fmt, Mapping) or fmt.get("type") != "json_schema":
        raise _coral(
            fmt.get("type") if isinstance(fmt, Mapping) else fmt,
            "outputConfig.textFormat.type",
            "Member must satisfy enum value set: [json_schema]",
        )
    structure = fmt.get("structure")
    spec = structure.get("jsonSchema") if isinstance(structure, Mapping) else None
    raw = spec.get("schema") if isinstance(spec, Mapping) else None
    if not isinstance(raw, str):
        raise _coral(None, "outputConfig.textFormat.structure.jsonSchema.schema", "Member must not be null")
    try:
        schema = json.loads(raw)
    except ValueError:
        raise validation_error("The JSON schema in outputConfig.textFormat is not valid JSON.") from None
    if not isinstance(schema, dict):
        raise validation_error("The JSON schema in outputConfig.textFormat must be a JSON object.")
    return schema


def _system_converse(system: Any, prefix: _Prefix) -> int:
    if system is None:
        return 0
    if not isinstance(system, list):
        raise _coral(system, "system", "Member must be a list")
    tokens = 0
    for k, block in enumerate(system):
        if isinstance(block, Mapping) and "cachePoint" in block:
            prefix.mark()
            continue
        text = block.get("text") if isinstance(block, Mapping) else None
        if isinstance(block, Mapping) and "guardContent" in block:
            continue
        if not isinstance(text, str) or not text.strip():
            raise validation_error(
                f"The text field in the SystemContentBlock object at system.{k} is blank. Add text to the "
                "text "
                "field, and try again."
            )
        tokens += _words(text)
        prefix.add(_words(text), block)
    return tokens


def _thinking(
    fields: Mapping[str, Any], model: BedrockModel, max_tokens: int | None, temperature: float | None
) -> bool:
    """Is reasoning asked for (and allowed) by ``additionalModelRequestFields`` / the Messages body?"""
    if model.nova:
        extra = sorted(set(fields) - {"inferenceConfig", "reasoningConfig"})
        if extra:
            raise validation_error(_MALFORMED.format(detail=f"extraneous key [{extra[0]}] is not permitted"))
        config = fields.get("reasoningConfig")
        return isinstance(config, Mapping) and config.get("type") == "enabled"
    if model.base is not None and model.base.startswith("deepseek.r1"):
        return True
    thinking = fields.get("thinking")
    if thinking is None or not model.claude:
        return False
    if not isinstance(thinking, Mapping) or thinking.get("type") not in ("enabled", "disabled", "adaptive"):
        raise validation_error(
            "thinking: Input tag does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'"
        )
    if thinking["type"] == "disabled":
        return False
    if thinking["type"] == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise validation_error("thinking.enabled.budget_tokens: Field required")
        if budget < 1024:
            raise validation_error(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if max_tokens is not None and max_tokens <= budget:
            raise validation_error(
                "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                "documentation at "
                f"{_THINKING_DOCS}#max-tokens-and-context-window-size"
            )
    if temperature is not None and temperature != 1:
        raise validation_error(
            "`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation "
            "at "
            f"{_THINKING_DOCS}#feature-compatibility"
        )
    return True


def _check_thinking_history(turns: list[_Turn], *, thinking: bool, claude: bool, converse: bool) -> None:
    """Claude checks the signatures of the thinking sent back, and with thinking on wants the last
    assistant turn of a tool loop to start with its thinking."""
    if not claude:
        return
    for i, turn in enumerate(turns):
        for j, block in enumerate(turn.blocks):
            if block.kind != "reasoning" or block.redacted:
                continue
            if block.signature is None:
                field_name = "reasoningText.signature" if converse else "thinking.signature"
                raise validation_error(f"messages.{i}.content.{j}.{field_name}: Field required")
            if not signature_ok(block.text, block.signature):
                raise validation_error(f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block")
    if not thinking or len(turns) < 2 or turns[-1].role != "user":
        return
    last = turns[-2]
    if not any(b.kind == "tool_result" for b in turns[-1].blocks) or not last.blocks:
        return
    first = last.blocks[0]
    if first.kind != "reasoning":
        found = "tool_use" if first.kind == "tool_use" else "text"
        raise validation_error(
            f"messages.{len(turns) - 2}.content.0.type: Expected `thinking` or `redacted_thinking`, but "
            "found "
            f"`{found}`. When `thinking` is enabled, a final `assistant` message must start with a thinking "
            "block "
            "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
            "thinking "
            "blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our "
            f"documentation at {_THINKING_DOCS}"
        )


def _chat(
    model: BedrockModel,
    turns: list[_Turn],
    *,
    system_tokens: int,
    tool_tokens: int,
    tools: list[ToolSpec],
    tool_choice: str,
    forced: str | None,
    parallel: bool,
    schema: dict[str, Any] | None,
    max_tokens: int | None,
    stream: bool,
    context_chars: int,
    long_context: str,
) -> ChatRequest:
    chars = sum(len(b.text) for t in turns for b in t.blocks)
    if chars > context_chars:
        raise validation_error(long_context.format(tokens=chars // 4, limit=context_chars // 4))
    prompt_tokens = system_tokens + tool_tokens
    for turn in turns:
        prompt_tokens += _MESSAGE_OVERHEAD + sum(_block_tokens(b) for b in turn.blocks)
    last = turns[-1]
    trailing = [b.text for b in last.blocks if b.kind == "tool_result"] if last.role == "user" else []
    user_turn = next((t for t in reversed(turns) if t.role == "user"), last)
    user_text = " ".join(b.text for b in user_turn.blocks if b.kind == "text")
    images = sum(1 for b in user_turn.blocks if b.kind == "image")
    user_texts = [b.text for t in turns if t.role == "user" for b in t.blocks if b.kind == "text"]
    return ChatRequest(
        model=model.model_id,
        user_text=user_text,
        image_count=images,
        tool_results=trailing or None,
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        parallel_tool_calls=parallel,
        response_schema=schema,
        max_tokens=max_tokens,
        prompt_tokens=prompt_tokens,
        content_filter=any(CONTENT_FILTER_TRIGGER in t for t in user_texts),
        reasoning_marker=REASONING_TRIGGER in user_text,
        stream=stream,
    )


def _cache(prefix: _Prefix) -> tuple[str | None, int]:
    if not prefix.cache_at:
        return None, 0
    material = json.dumps(prefix.parts[: prefix.cache_at], sort_keys=True, default=str)
    key = hashlib.sha256(material.encode()).hexdigest()
    return key, sum(prefix.tokens[: prefix.cache_at])


def parse_converse(body: Any, model: BedrockModel, *, stream: bool, context_chars: int) -> BedrockChat:
    """Validate a Converse / ConverseStream body for ``model``; raise a Bedrock 400 otherwise."""
    if not isinstance(body, Mapping):
        raise validation_error("Malformed input request, please reformat your input and try again.")
    if model.kind != "chat":
        raise validation_error(
            "This action doesn't support the model that you provided. Try again with a supported text or "
            "chat model."
        )
    prefix = _Prefix()
    tools, tool_choice, forced, tool_tokens = _converse_tools(body.get("toolConfig"), prefix)
    system_tokens = _system_converse(body.get("system"), prefix)
    turns = _converse_turns(body.get("messages"), prefix)
    uses_tools = any(b.kind in ("tool_use", "tool_result") for t in turns for b in t.blocks)
    if uses_tools and body.get("toolConfig") is None:
        raise validation_error(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."
        )
    max_tokens, temperature, stops = _inference(body.get("inferenceConfig"))
    fields = body.get("additionalModelRequestFields") or {}
    if not isinstance(fields, Mapping):
        raise _coral(fields, "additionalModelRequestFields", "Member must be a document object")
    thinking = _thinking(fields, model, max_tokens, temperature)
    if thinking and model.claude and tool_choice in ("required", "forced"):
        raise validation_error("Thinking may not be enabled when tool_choice forces tool use.")
    _check_thinking_history(turns, thinking=thinking, claude=model.claude, converse=True)
    chat = _chat(
        model,
        turns,
        system_tokens=system_tokens,
        tool_tokens=tool_tokens,
        tools=tools,
        tool_choice=tool_choice,
        forced=forced,
        parallel=True,
        schema=_output_schema(body.get("outputConfig")),
        max_tokens=max_tokens,
        stream=stream,
        context_chars=context_chars,
        long_context=_LONG_CONTEXT,
    )
    cache_key, cached = _cache(prefix)
    return BedrockChat(
        chat=chat,
        model=model,
        reasoning=thinking,
        signed=thinking and model.claude,
        stop_sequences=stops,
        cache_key=cache_key,
        cache_tokens=cached,
    )
