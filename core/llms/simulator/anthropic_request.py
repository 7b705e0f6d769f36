"""Reading an Anthropic Messages API request (``POST /v1/messages``) the way the real service does.

:func:`parse_messages_request` validates the JSON body (``model``, ``max_tokens``, ``messages``
of content blocks, ``system``, ``tools``, ``tool_choice``, ``thinking``, sampling parameters,
``stop_sequences``, ``metadata``, ``cache_control`` points) with the real service's rules and
messages: every ``tool_result`` answers a ``tool_use`` of the turn before it and every
``tool_use`` is answered in the next turn; while thinking, the last assistant turn of a tool loop
starts with a thinking block, and each thinking block sent back carries the signature this
simulator gave it; a thinking budget of at least 1,024 tokens below ``max_tokens``. It returns an
:class:`AnthropicRequest` whose :attr:`~AnthropicRequest.chat` is the wire-neutral
:class:`~.generation.ChatRequest` the answer generator takes. Every refusal is a
:class:`~.openai_wire.Rejection` with Anthropic's error body (:func:`anthropic_error`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .generation import ChatRequest, ToolSpec
from .openai_wire import Rejection

__all__ = [
    "REFUSAL_TRIGGER",
    "AnthropicRequest",
    "CachePoint",
    "anthropic_error",
    "parse_messages_request",
    "sign_thinking",
]

#: in the last user message: Claude refuses (``stop_reason: "refusal"``).
REFUSAL_TRIGGER = "[[refusal]]"

_FIELDS = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
        "service_tier",
        "cache_control",
        "container",
        "output_config",
    }
)
_BLOCK_TYPES = frozenset(
    {
        "text",
        "image",
        "document",
        "search_result",
        "thinking",
        "redacted_thinking",
        "tool_use",
        "tool_result",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "container_upload",
    }
)
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_MAX_CACHE_POINTS = 4
_MIN_BUDGET = 1024
_MESSAGE_OVERHEAD = 3
_IMAGE_TOKENS = 85
_THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
_SIGNATURE_MARK = b"sim-thinking:"


def anthropic_error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """Anthropic's error body: ``{"type": "error", "error": {"type", "message"}}``."""
    return {"type": "error", "error": {"type": kind, "message": message}}


def _reject(message: str, status: int = 400, kind: str = "invalid_request_error") -> Rejection:
    return Rejection(status, anthropic_error(message, kind))


def sign_thinking(thinking: str) -> str:
    """The opaque ``signature`` of a thinking block this simulator wrote (tied to its text)."""
    digest = hashlib.sha256(_SIGNATURE_MARK + thinking.encode()).digest()[:30]
    return base64.b64encode(_SIGNATURE_MARK + digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class CachePoint:
    """A ``cache_control`` point: the hash of the prompt up to it, its tokens and its TTL."""

    key: str
    tokens: int
    ttl: str = "5m"


@dataclass(slots=True)
class AnthropicRequest:
    """What the simulator needs from a Messages request: the generator's :class:`ChatRequest`
    and the Anthropic-only parts."""

    chat: ChatRequest
    thinking: bool = False
    refusal: bool = False
    stop_sequences: list[str] = field(default_factory=list)
    cache_points: list[CachePoint] = field(default_factory=list)


@dataclass(slots=True)
class _Prompt:
    """The prompt's blocks in cache order (tools, system, messages) with their token estimates."""

    hasher: Any = field(default_factory=hashlib.sha256)
    tokens: int = 0
    points: list[CachePoint] = field(default_factory=list)

    def add(self, block: Any, extra_tokens: int = 0) -> None:
        plain = (
            {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, Mapping) else block
        )
        text = json.dumps(plain, sort_keys=True, separators=(",", ":"), default=str)
        self.hasher.update(text.encode())
        images = 1 if isinstance(block, Mapping) and block.get("type") in ("image", "document") else 0
        self.tokens += max(1, len(text) // 4) + images * _IMAGE_TOKENS + extra_tokens
        control = block.get("cache_control") if isinstance(block, Mapping) else None
        if control is not None:
            ttl = control.get("ttl", "5m") if isinstance(control, Mapping) else "5m"
            self.points.append(CachePoint(self.hasher.copy().hexdigest(), self.tokens, str(ttl)))


def parse_messages_request(body: Any, *, context_chars: int) -> AnthropicRequest:
    """Validate ``body`` (see the module docs) and read what the answer depends on."""
    if not isinstance(body, Mapping):
        raise _reject("There was an error parsing the body of your request (expected a JSON object)")
    extra = sorted(set(body) - _FIELDS)
    if extra:
        raise _reject(f"{extra[0]}: Extra inputs are not permitted")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _reject("model: Field required")
    if not model.startswith("claude"):
        raise _reject(f"model: {model[:80]}", 404, "not_found_error")
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise _reject("max_tokens: Field required")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise _reject("max_tokens: Input should be a valid integer greater than or equal to 1")
    prompt = _Prompt()
    prompt.hasher.update(model.encode())  # a model's cache is its own
    tools = _tools(body.get("tools"), prompt)
    _system(body.get("system"), prompt)
    thinking = _thinking(body, max_tokens)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _reject(
            "messages: Field required" if messages is None else "messages: at least one message is required"
        )
    user_text, images, tool_results, chars = _messages(messages, prompt, thinking)
    if body.get("cache_control") is not None:  # automatic caching: a point after the last block
        prompt.points.append(
            CachePoint(prompt.hasher.copy().hexdigest(), prompt.tokens, _ttl(body["cache_control"]))
        )
    if len(prompt.points) > _MAX_CACHE_POINTS:
        raise _reject(
            f"A maximum of {_MAX_CACHE_POINTS} blocks with cache_control may be provided. "
            f"Found {len(prompt.points)}."
        )
    _sampling(body, thinking)
    choice, forced, parallel = _tool_choice(body.get("tool_choice"), tools, thinking)
    stop = body.get("stop_sequences") or []
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise _reject("stop_sequences: Input should be a valid list of non-empty strings")
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, Mapping) or set(metadata) - {"user_id"}):
        raise _reject("metadata: only user_id is permitted")
    tokens = prompt.tokens + _MESSAGE_OVERHEAD * len(messages)
    if chars > context_chars:
        limit = context_chars // 4
        raise _reject(f"prompt is too long: {tokens} tokens > {limit} maximum")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _reject("stream: Input should be a valid boolean")
    chat = ChatRequest(
        model=model,
        user_text=user_text,
        image_count=images,
        tool_results=tool_results,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        parallel_tool_calls=parallel,
        max_tokens=max_tokens,
        prompt_tokens=tokens,
        stream=stream,
    )
    return AnthropicRequest(
        chat=chat,
        thinking=thinking,
        refusal=REFUSAL_TRIGGER in user_text,
        stop_sequences=list(stop),
        cache_points=prompt.points,
    )


def _ttl(control: Any) -> str:
    if not isinstance(control, Mapping) or control.get("type") != "ephemeral":
        raise _reject("cache_control.type: Input should be 'ephemeral'")
    ttl = control.get("ttl", "5m")
    if ttl not in ("5m", "1h"):
        raise _reject("cache_control.ttl: Input should be '5m' or '1h'")
    return str(ttl)


def _tools(raw: Any, prompt: _Prompt) -> list[ToolSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _reject("tools: Input should be a valid list")
    specs: list[ToolSpec] = []
    for i, tool in enumerate(raw):
        if not isinstance(tool, Mapping):
            raise _reject(f"tools.{i}: Input should be a valid dictionary")
        kind = tool.get("type", "custom")
        if "cache_control" in tool and tool["cache_control"] is not None:
            _ttl(tool["cache_control"])
        prompt.add(tool)
        if kind not in ("custom", None):
            if not isinstance(kind, str) or not isinstance(tool.get("name"), str):
                raise _reject(f"tools.{i}: a server tool needs a type and a name")
            continue  # a server tool (web search, code execution …): offered, never called here
        name = tool.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise _reject(f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise _reject(f"tools.{i}.custom.input_schema.type: Input should be 'object'")
        if any(spec.name == name for spec in specs):
            raise _reject(f"tools: Tool names must be unique. Found duplicate: {name}")
        specs.append(ToolSpec(name, dict(schema)))
    return specs


def _system(raw: Any, prompt: _Prompt) -> None:
    if raw is None:
        return
    if isinstance(raw, str):
        prompt.add({"type": "text", "text": raw})
        return
    if not isinstance(raw, list):
        raise _reject("system: Input should be a valid string or list of text blocks")
    for i, block in enumerate(raw):
        if (
            not isinstance(block, Mapping)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            raise _reject(f"system.{i}: Input should be a text block")
        if not block["text"]:
            raise _reject(f"system.{i}.text: text content blocks must be non-empty")
        if block.get("cache_control") is not None:
            _ttl(block["cache_control"])
        prompt.add(block)


def _thinking(body: Mapping[str, Any], max_tokens: int) -> bool:
    raw = body.get("thinking")
    if raw is None:
        return False
    if not isinstance(raw, Mapping) or raw.get("type") not in ("enabled", "disabled", "adaptive"):
        raise _reject("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'")
    if raw["type"] == "disabled":
        return False
    if raw["type"] == "enabled":
        budget = raw.get("budget_tokens")
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise _reject("thinking.enabled.budget_tokens: Field required")
        if budget < _MIN_BUDGET:
            raise _reject(
                f"thinking.enabled.budget_tokens: Input should be greater than or equal to {_MIN_BUDGET}"
            )
        if max_tokens <= budget:
            raise _reject(
                "`max_tokens` must be greater than `thinking.budget_tokens`. "
                "Please consult our documentation at " + _THINKING_DOCS
            )
    return True


def _sampling(body: Mapping[str, Any], thinking: bool) -> None:
    for name, high in (("temperature", 1.0), ("top_p", 1.0)):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _reject(f"{name}: Input should be a valid number")
        if not 0 <= value <= high:
            raise _reject(
                f"{name}: Input should be less than or equal to {high:g}"
                if value > high
                else f"{name}: Input should be greater than or equal to 0"
            )
    top_k = body.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0):
        raise _reject("top_k: Input should be a valid integer")
    if thinking:
        if body.get("temperature", 1) != 1:
            raise _reject(
                "`temperature` may only be set to 1 when thinking is enabled. "
                "Please consult our documentation at " + _THINKING_DOCS
            )
        if top_k is not None:
            raise _reject(
                "`top_k` must be unset when thinking is enabled. Please consult our documentation at "
                + _THINKING_DOCS
            )
        if body.get("top_p", 1) < 0.95:
            raise _reject("`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled")


def _tool_choice(raw: Any, tools: list[ToolSpec], thinking: bool) -> tuple[str, str | None, bool]:
    if raw is None:
        return "auto", None, True
    if not isinstance(raw, Mapping) or raw.get("type") not in ("auto", "any", "tool", "none"):
        raise _reject("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    kind = raw["type"]
    parallel = raw.get("disable_parallel_tool_use") is not True
    if thinking and kind in ("any", "tool"):
        raise _reject("Thinking may not be enabled when tool_choice forces tool use.")
    if kind == "tool":
        name = raw.get("name")
        if not isinstance(name, str) or not any(t.name == name for t in tools):
            raise _reject(f"Tool '{str(name)[:64]}' not found in provided tools")
        return "forced", name, parallel
    if kind in ("any", "tool") and not tools:
        raise _reject("tool_choice: tools must be provided when tool_choice is 'any' or 'tool'")
    return {"auto": "auto", "any": "required", "none": "none"}[kind], None, parallel


def _blocks(content: Any, where: str) -> list[Mapping[str, Any]]:
    if isinstance(content, str):
        if not content:
            raise _reject(f"{where}.content: messages must have non-empty content")
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not content:
        raise _reject(f"{where}.content: messages must have non-empty content")
    for j, block in enumerate(content):
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind not in _BLOCK_TYPES:
            raise _reject(
                f"{where}.content.{j}.type: Input tag '{str(kind)[:40]}' found using 'type' "
                "does not match any of the expected tags"
            )
        if kind == "text" and (not isinstance(block.get("text"), str) or not block["text"]):
            raise _reject(f"{where}.content.{j}.text: text content blocks must be non-empty")
        if block.get("cache_control") is not None:
            _ttl(block["cache_control"])
    return content


def _messages(messages: list[Any], prompt: _Prompt, thinking: bool) -> tuple[str, int, list[str] | None, int]:
    """Check the turns; (text and images of the last user turn, its tool results, characters)."""
    previous_calls: set[str] = set()
    previous_assistant = -1
    chars = 0
    last_user: list[Mapping[str, Any]] = []
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, Mapping) or message.get("role") not in ("user", "assistant"):
            raise _reject(f"{where}.role: Input should be 'user' or 'assistant'")
        blocks = _blocks(message.get("content"), where)
        for j, block in enumerate(blocks):
            prompt.add(block)
            chars += len(json.dumps(block, default=str))
            kind = block["type"]
            if kind == "tool_result":
                if message["role"] != "user":
                    raise _reject(
                        f"{where}.content.{j}: tool_result blocks are only allowed in user messages"
                    )
                call = block.get("tool_use_id")
                if call not in previous_calls:
                    raise _reject(
                        f"{where}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{str(call)[:64]}. Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message."
                    )
            elif kind in ("thinking", "redacted_thinking") and message["role"] == "user":
                raise _reject(f"{where}.content.{j}: thinking blocks are only allowed in assistant messages")
            elif kind == "thinking" and block.get("signature") != sign_thinking(
                str(block.get("thinking", ""))
            ):
                raise _reject(f"{where}.content.{j}: Invalid `signature` in `thinking` block")
        answered = {b.get("tool_use_id") for b in blocks if b["type"] == "tool_result"}
        if previous_calls - answered and message["role"] == "user":
            missing = ", ".join(sorted(previous_calls - answered))[:200]
            raise _reject(
                f"messages.{previous_assistant}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {missing}. Each `tool_use` block must have a corresponding "
                "`tool_result` block in the next message."
            )
        previous_calls = (
            {str(b.get("id")) for b in blocks if b["type"] == "tool_use"}
            if message["role"] == "assistant"
            else set()
        )
        if message["role"] == "assistant":
            previous_assistant = i
        else:
            last_user = blocks
    _check_thinking_turn(messages, thinking)
    texts = [str(b.get("text", "")) for b in last_user if b.get("type") == "text"]
    images = sum(1 for b in last_user if b.get("type") == "image")
    results = [_result_text(b) for b in last_user if b.get("type") == "tool_result"]
    last_is_user = messages[-1].get("role") == "user"
    return " ".join(texts), images, (results if results and last_is_user else None), chars


def _check_thinking_turn(messages: list[Any], thinking: bool) -> None:
    """While thinking, the assistant turn of the last tool loop must start with a thinking block."""
    if not thinking or len(messages) < 2 or messages[-1].get("role") != "user":
        return
    last = messages[-1]["content"]
    if not isinstance(last, list) or not any(
        isinstance(b, Mapping) and b.get("type") == "tool_result" for b in last
    ):
        return
    i = len(messages) - 2
    content = messages[i].get("content")
    first = content[0] if isinstance(content, list) and content else {"type": "text"}
    kind = first.get("type") if isinstance(first, Mapping) else "text"
    if kind not in ("thinking", "redacted_thinking"):
        raise _reject(
            f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
            f"`{kind}`. When `thinking` is enabled, a final `assistant` message must start with a "
            "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We "
            "recommend you include thinking blocks from previous turns. To avoid this requirement, "
            "disable `thinking`. Please consult our documentation at " + _THINKING_DOCS
        )


def _result_text(block: Mapping[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(b.get("text", "")) for b in content if isinstance(b, Mapping) and b.get("type") == "text"
        )
    return ""
