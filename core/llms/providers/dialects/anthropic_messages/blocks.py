"""Anthropic content blocks in a conversation: what an answer hands back for the next turn, and
the native messages a caller puts among the chat messages.

Claude thinks in ``thinking`` blocks (and, when a classifier flags the thinking,
``redacted_thinking`` blocks), each with an opaque ``signature``. With extended thinking on, a
turn that called tools must be sent back *with* its thinking blocks, signatures intact, ahead of
its ``tool_use`` blocks, or the API refuses the next request. A chat-style assistant message
(text and tool calls) cannot carry them, so:

* :func:`assistant_blocks` returns the content blocks of an answer (a non-streamed
  :class:`LLMResponse`, a stream's final chunk, or its accumulated response: both carry the whole
  message on ``raw``), exactly as the API sent them (thinking with its signature, redacted
  thinking, text with citations, ``tool_use``, server tool blocks such as ``server_tool_use`` and
  ``web_search_tool_result``); :func:`assistant_message` wraps them as an assistant message;
* among the messages of a call, a dict ``{"role": "user" | "assistant", "content": [blocks]}``
  whose blocks are Anthropic's own (any block of a type the chat format does not have —
  ``thinking``, ``tool_use``, ``tool_result``, ``document``, an ``image`` with a ``source`` … — or
  any block carrying ``cache_control`` or ``citations``) is a *native message*, sent as it is::

      answer = await model.get_answer(messages, tools=[...], reasoning_effort="low")
      messages.append(assistant_message(answer))          # thinking + signatures + tool_use kept
      messages.append(Message.tool(answer.tool_calls[0].id, "22 C"))
      final = await model.get_answer(messages, tools=[...], thinking=...)

A ``tool_use`` cut off by ``max_tokens`` (the answer's ``stop_reason`` is ``"max_tokens"`` and
its last block is a ``tool_use``) is incomplete: it is left out of :func:`assistant_blocks`, as it
is left out of the answer's ``tool_calls``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import Message, MessagesInput

__all__ = [
    "CHAT_PART_TYPES",
    "assistant_blocks",
    "assistant_message",
    "is_native_message",
    "native_tokens",
    "separate_native",
]

#: the part types of chat-format (OpenAI) message dicts, which ``normalize_messages`` reads.
CHAT_PART_TYPES: frozenset[str] = frozenset(
    {"text", "input_text", "image_url", "input_image", "image", "input_audio", "file"}
)
#: block fields whose (opaque, large) values are left out of a token estimate.
_OPAQUE = frozenset({"signature", "data", "encrypted_content", "encrypted_index"})
_CHARS_PER_TOKEN = 4


def _native_block(block: Any) -> bool:
    if not isinstance(block, Mapping):
        return False
    kind = block.get("type")
    if kind not in CHAT_PART_TYPES:
        return True
    return "cache_control" in block or "citations" in block or (kind == "image" and "source" in block)


def is_native_message(value: Any) -> bool:
    """Is ``value`` a native Anthropic message (see the module docs), not a chat message?"""
    if not isinstance(value, Mapping) or value.get("role") not in ("user", "assistant"):
        return False
    content = value.get("content")
    if not isinstance(content, list | tuple):
        return False
    return any(_native_block(block) for block in content)


def _checked(message: Mapping[str, Any], index: int) -> dict[str, Any]:
    where = f"messages[{index}]"
    extra = set(message) - {"role", "content"}
    if extra:
        raise InvalidInputError(
            f"{where} is a native Anthropic message with unknown field(s) {sorted(map(str, extra))[:5]}",
            hint="a native message has only 'role' and 'content' (a list of content blocks)",
        )
    blocks: list[dict[str, Any]] = []
    for j, block in enumerate(message["content"]):
        if isinstance(block, str):
            blocks.append({"type": "text", "text": block})
            continue
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str) or not block["type"]:
            raise InvalidInputError(
                f"{where}.content[{j}] must be a content block (a dict with a 'type'), "
                f"not {type(block).__name__}"
            )
        blocks.append(dict(block))
    if not blocks:
        raise InvalidInputError(f"{where} has no content blocks")
    return {"role": message["role"], "content": blocks}


def separate_native(messages: MessagesInput) -> tuple[MessagesInput, dict[int, dict[str, Any]]]:
    """``(messages, natives)``: the messages with each native Anthropic message replaced by an
    empty placeholder (so that normalising and checking the others keeps every index), and the
    native messages (checked, copied) by index. Input without any comes back as it is, with
    ``{}``."""
    if isinstance(messages, Mapping):
        if is_native_message(messages):
            return [Message("user")], {0: _checked(messages, 0)}
        return messages, {}
    if isinstance(messages, str | bytes | Message) or not isinstance(messages, Sequence):
        return messages, {}
    items: Sequence[Any] = messages
    natives = {i: _checked(m, i) for i, m in enumerate(items) if is_native_message(m)}
    if not natives:
        return messages, {}
    placeholder = Message("user")
    return [placeholder if i in natives else m for i, m in enumerate(items)], natives


def native_tokens(message: Mapping[str, Any]) -> int:
    """A rough token count of a native message (signatures and other opaque data left out)."""
    visible = [
        {k: v for k, v in block.items() if k not in _OPAQUE} if isinstance(block, Mapping) else block
        for block in message.get("content", ())
    ]
    try:
        text = json.dumps(visible, ensure_ascii=False, default=lambda _: "")
    except (TypeError, ValueError, RecursionError):
        raise InvalidInputError("a native Anthropic message is not JSON") from None
    return len(text) // _CHARS_PER_TOKEN + 4


def assistant_blocks(response: Any) -> list[dict[str, Any]]:
    """The content blocks of an answer, to send back on the next turn: thinking blocks with their
    signatures, redacted thinking, text, ``tool_use`` and server tool blocks, in order, each as
    the API sent it (null fields left out); a ``tool_use`` cut off by ``max_tokens`` is left out.

    ``response``: an :class:`~core.llms.interfaces.types.LLMResponse` of a Claude model
    (non-streamed, or accumulated from a stream), a stream's final
    :class:`~core.llms.interfaces.types.LLMStreamChunk`, or the decoded message itself.
    :class:`InvalidInputError` when it carries no Anthropic message (another provider's answer,
    or a stream chunk other than the last)."""
    raw = response if isinstance(response, Mapping) else getattr(response, "raw", None)
    content = raw.get("content") if isinstance(raw, Mapping) else None
    if not isinstance(content, list):
        raise InvalidInputError(
            "this answer carries no Anthropic content blocks",
            hint="pass the answer of a Claude model (of a stream: its last chunk, or the accumulated answer)",
        )
    blocks = [
        {k: v for k, v in block.items() if v is not None}
        for block in content
        if isinstance(block, Mapping) and isinstance(block.get("type"), str)
    ]
    cut_off = isinstance(raw, Mapping) and raw.get("stop_reason") == "max_tokens"
    if cut_off and blocks and blocks[-1]["type"] == "tool_use":
        blocks.pop()  # cut off mid-arguments: not a call that can be answered
    return blocks


def assistant_message(response: Any) -> dict[str, Any]:
    """``{"role": "assistant", "content": assistant_blocks(response)}``: the answer as a native
    message for the next turn's messages (thinking and its signatures kept)."""
    blocks = assistant_blocks(response)
    if not blocks:
        raise InvalidInputError("this answer has no content blocks to send back")
    return {"role": "assistant", "content": blocks}
