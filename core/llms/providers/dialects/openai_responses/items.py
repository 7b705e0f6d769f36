"""Responses API items in a conversation: what an answer hands back for the next turn, and the
items a caller puts among the messages.

Reasoning models think in ``reasoning`` output items. To keep that thinking across turns without
``previous_response_id`` (``store=False``, zero data retention), the next request sends those
items back, each with its opaque ``encrypted_content`` (asked for with
``include=["reasoning.encrypted_content"]``, which the dialect adds itself when ``store`` is
False), in order with the function calls they led to. So:

* :func:`response_items` returns the output items of an answer (a non-streamed
  :class:`LLMResponse`, or a stream's final chunk — or its accumulated response — which carries
  the completed response on ``raw``), ready to append to the conversation;
* among the messages of a Responses API call, any dict with a ``"type"`` key (``"reasoning"``,
  ``"function_call"``, ``"function_call_output"``, ``"message"`` …) is such an item and is sent
  as it is, in its place::

      answer = await model.get_answer(messages, api="responses", store=False, tools=[...])
      messages += response_items(answer)  # reasoning + function_call items, encrypted content kept
      messages.append(Message.tool(answer.tool_calls[0].id, "22 C"))
      final = await model.get_answer(messages, api="responses", store=False, tools=[...])

  (Chat-style messages still work: an assistant message's tool calls become ``function_call``
  items and a tool message a ``function_call_output``; only the reasoning is lost that way.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import Message, MessagesInput

__all__ = ["is_item", "response_items", "separate_items"]

#: the fields each output item type may carry when it is sent back as input (a response's items
#: carry some that a request refuses, e.g. an image generation call's ``size``).
_INPUT_FIELDS: dict[str, frozenset[str]] = {
    "message": frozenset({"id", "type", "role", "content", "status", "phase"}),
    "function_call": frozenset({"id", "type", "call_id", "name", "arguments", "status", "namespace"}),
    "reasoning": frozenset({"id", "type", "summary", "content", "encrypted_content", "status"}),
    "image_generation_call": frozenset({"id", "type", "result", "status"}),
}


def is_item(value: Any) -> bool:
    """Is ``value`` a Responses API item (a dict with a ``"type"``), not a chat message?"""
    return isinstance(value, Mapping) and "type" in value


def _checked(item: Mapping[str, Any], index: int) -> dict[str, Any]:
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidInputError(
            f"messages[{index}].type must be a Responses API item type such as 'reasoning' or "
            f"'function_call_output', not {type(kind).__name__}"
        )
    return dict(item)


def separate_items(messages: MessagesInput) -> tuple[MessagesInput, dict[int, dict[str, Any]]]:
    """``(messages, items)``: the messages with each Responses API item replaced by an empty
    placeholder message (so that normalising and checking the rest keeps every index), and the
    items by index. Input without items comes back as it is, with ``{}``."""
    if is_item(messages):
        assert isinstance(messages, Mapping)
        return [Message("user")], {0: _checked(messages, 0)}
    if isinstance(messages, str | bytes | Message | Mapping) or not isinstance(messages, Sequence):
        return messages, {}
    items = {i: _checked(m, i) for i, m in enumerate(messages) if isinstance(m, Mapping) and "type" in m}
    if not items:
        return messages, {}
    placeholder = Message("user")
    replaced: list[Any] = [placeholder if i in items else m for i, m in enumerate(messages)]
    return replaced, items


def response_items(response: Any) -> list[dict[str, Any]]:
    """The output items of a Responses API answer, to append to the conversation of the next
    turn: its reasoning items (``id``, ``summary``, ``encrypted_content``), message and
    ``function_call`` items, in order, each with only the fields a request takes.

    ``response``: an :class:`~core.llms.interfaces.types.LLMResponse` (non-streamed, or
    accumulated from a stream), a stream's final :class:`~core.llms.interfaces.types.LLMStreamChunk`,
    or the decoded response object itself. :class:`InvalidInputError` when it carries none (an
    answer through Chat Completions, or a stream chunk other than the last)."""
    raw = response if isinstance(response, Mapping) else getattr(response, "raw", None)
    output = raw.get("output") if isinstance(raw, Mapping) else None
    if not isinstance(output, list):
        raise InvalidInputError(
            "this answer carries no Responses API output items",
            hint="pass the answer of a call made with api='responses' (for a stream: its last chunk)",
        )
    out: list[dict[str, Any]] = []
    for item in output:
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            continue
        fields = _INPUT_FIELDS.get(item["type"])
        if fields is None:
            out.append(dict(item))
        else:
            out.append({k: v for k, v in item.items() if k in fields and (v is not None or k == "type")})
    return out
