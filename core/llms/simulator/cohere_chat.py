"""Cohere v2 chat for the simulator's ``/v2/chat`` route (:mod:`.cohere_routes`): reading a
request the way the real API does and writing the answer, whole or as named SSE events.

:func:`parse_chat_request` checks the body (unknown fields, roles, content blocks, tool results
answering a tool call, ``tool_choice``, ``response_format`` with tools or documents, ranges, the
context) and adapts it to the wire-neutral :class:`~.generation.ChatRequest`;
:func:`chat_body` / :func:`chat_events` write the :class:`~.generation.Answer` as a
``V2ChatResponse`` or as events, after :func:`cite` made the answer quote and cite the first
document when ``documents`` were given. Refusals are :class:`~.openai_wire.Rejection` with
Cohere's body ``{"id", "message"}``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from .generation import Answer, ChatRequest, ToolSpec, fragments
from .openai_wire import DONE_EVENT, Rejection, StreamEvents

__all__ = ["ChatCall", "chat_body", "chat_events", "check_number", "cite", "parse_chat_request", "reject"]

_CHAT_FIELDS = frozenset(
    {
        "model",
        "messages",
        "tools",
        "strict_tools",
        "documents",
        "citation_options",
        "response_format",
        "safety_mode",
        "max_tokens",
        "stop_sequences",
        "temperature",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "k",
        "p",
        "logprobs",
        "tool_choice",
        "thinking",
        "priority",
        "stream",
    }
)
_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL", "content_filter": "ERROR"}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: tokens Cohere adds to a chat prompt (its preamble), counted in ``tokens`` but not billed.
_UNBILLED_PROMPT_TOKENS = 64


def reject(message: str, status: int = 400) -> Rejection:
    return Rejection(status, {"id": "00000000-0000-4000-8000-000000000000", "message": message})


# -- chat requests ---------------------------------------------------------------------------------


def check_number(body: dict[str, Any], name: str, low: float, high: float, *, integer: bool = False) -> None:
    value = body.get(name)
    if value is None:
        return
    kind_ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not kind_ok or not low <= value <= high:
        raise reject(
            f"invalid request: {name} must be {'an integer' if integer else 'a number'} "
            f"between {low:g} and {high:g}"
        )


def _text_of(content: Any, where: str, parts: tuple[str, ...]) -> tuple[str, int]:
    """The text of a message's content (a string or parts of the given types) and its images."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise reject(f"invalid request: {where}.content must be a string or a list of content blocks")
    texts: list[str] = []
    images = 0
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in parts:
            raise reject(f"invalid request: {where} has a content block of type {str(kind)[:30]!r}")
        assert isinstance(part, dict)
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "thinking" and isinstance(part.get("thinking"), str):
            pass  # earlier reasoning sent back: read, not echoed
        elif kind == "image_url" and isinstance(part.get("image_url"), dict):
            images += 1
        elif kind == "document" and isinstance(part.get("document"), dict):
            texts.append(json.dumps(part["document"].get("data"), sort_keys=True))
        else:
            raise reject(f"invalid request: {where} has a malformed {kind} block")
    return " ".join(texts), images


@dataclasses.dataclass(slots=True)
class ChatCall:
    """A checked chat request: the generator's request, the documents (id, data) and whether
    the model thinks."""

    chat: ChatRequest
    documents: list[tuple[str, dict[str, Any]]]  # (id, data)
    thinking: bool


def _messages(body: dict[str, Any]) -> tuple[list[tuple[str, str, int]], list[str] | None]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise reject("invalid request: messages must be a non-empty list")
    out: list[tuple[str, str, int]] = []
    calls: set[str] = set()
    trailing: list[str] = []
    for i, message in enumerate(raw):
        where = f"messages[{i}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("system", "user", "assistant", "tool"):
            raise reject(f"invalid request: {where}.role must be one of system, user, assistant, tool")
        assert isinstance(message, dict)
        if role != "tool":
            trailing = []
        if role == "system":
            text, _ = _text_of(message.get("content"), where, ("text",))
            out.append((role, text, 0))
        elif role == "user":
            text, images = _text_of(message.get("content"), where, ("text", "image_url"))
            if not text.strip() and not images:
                raise reject(
                    "invalid request: message must be at least 1 token long or tool results must be "
                    "specified."
                )
            out.append((role, text, images))
        elif role == "assistant":
            tool_calls = message.get("tool_calls") or []
            content = message.get("content")
            if not tool_calls and content is None:
                raise reject(f"invalid request: {where} must have content or tool_calls")
            for call in tool_calls if isinstance(tool_calls, list) else [None]:
                fn = call.get("function") if isinstance(call, dict) else None
                if (
                    not isinstance(call, dict)
                    or not isinstance(fn, dict)
                    or not isinstance(call.get("id"), str)
                    or not isinstance(fn.get("name"), str)
                ):
                    raise reject(f"invalid request: {where}.tool_calls must be [{{id, type, function}}]")
                calls.add(call["id"])
            plan = message.get("tool_plan")
            if plan is not None and not isinstance(plan, str):
                raise reject(f"invalid request: {where}.tool_plan must be a string")
            text = _text_of(content, where, ("text", "thinking"))[0] if content is not None else (plan or "")
            out.append((role, text, 0))
        else:
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in calls:
                raise reject(f"invalid request: {where}.tool_call_id does not match a tool call")
            text, _ = _text_of(message.get("content"), where, ("text", "document"))
            trailing.append(text)
            out.append((role, text, 0))
    return out, (trailing or None)


def _tools(body: dict[str, Any]) -> list[ToolSpec]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise reject("invalid request: tools must be a list")
    specs = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise reject(
                f"invalid request: tools[{i}] must be {{type: function, function: {{name, parameters}}}}"
            )
        if not _TOOL_NAME.match(fn["name"]):
            raise reject(f"invalid request: tools[{i}].function.name must match ^[a-zA-Z0-9_-]{{1,64}}$")
        parameters = fn.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, dict) or "strict" in fn:
            raise reject(f"invalid request: tools[{i}].function has unknown or malformed fields")
        specs.append(ToolSpec(fn["name"], parameters))
    return specs


def _documents(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    docs = body.get("documents")
    if docs is None:
        return []
    if not isinstance(docs, list) or not docs:
        raise reject("invalid request: list of documents must not be empty")
    out = []
    for i, doc in enumerate(docs):
        if isinstance(doc, str):
            out.append((f"doc:{i}", {"text": doc}))
        elif isinstance(doc, dict) and isinstance(doc.get("data"), dict) and set(doc) <= {"data", "id"}:
            out.append((doc.get("id") or f"doc:{i}", doc["data"]))
        else:
            raise reject(f"invalid request: documents[{i}] must be a string or {{data, id}}")
    return out


def parse_chat_request(body: Any, model_reasoning: bool, context_chars: int) -> ChatCall:
    if not isinstance(body, dict):
        raise reject("invalid request: the body must be a JSON object")
    unknown = sorted(set(body) - _CHAT_FIELDS)
    if unknown:
        raise reject(f"invalid request: unknown field: {unknown[0][:40]!r}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise reject("invalid request: model must be provided")
    messages, tool_results = _messages(body)
    tools = _tools(body)
    documents = _documents(body)
    choice = body.get("tool_choice")
    if choice is not None and (choice not in ("REQUIRED", "NONE") or not tools):
        raise reject("invalid request: tool_choice must be REQUIRED or NONE, and needs tools")
    fmt = body.get("response_format")
    schema: dict[str, Any] | None = None
    if fmt is not None:
        if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object"):
            raise reject("invalid request: response_format.type must be text or json_object")
        if fmt.get("type") == "json_object" and (tools or documents):
            raise reject("invalid request: response_format is not supported with RAG or tools.")
        if fmt.get("json_schema") is not None:
            if not isinstance(fmt["json_schema"], dict) or fmt["type"] != "json_object":
                raise reject("invalid request: response_format.json_schema must be a JSON schema object")
            schema = fmt["json_schema"]
    thinking = body.get("thinking")
    if thinking is not None:
        if not model_reasoning:
            raise reject(f"invalid request: thinking is not supported by model {model[:60]!r}")
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
            raise reject("invalid request: thinking.type must be enabled or disabled")
    for name, low, high, integer in (
        ("temperature", 0, 1e9, False),
        ("p", 0.01, 0.99, False),
        ("k", 0, 500, True),
        ("frequency_penalty", 0, 1, False),
        ("presence_penalty", 0, 1, False),
        ("max_tokens", 1, 1e9, True),
        ("priority", 0, 1e9, True),
    ):
        check_number(body, name, low, high, integer=integer)
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or len(stops) > 5 or not all(isinstance(s, str) for s in stops)
    ):
        raise reject("invalid request: stop_sequences must be a list of at most 5 strings")
    if body.get("safety_mode") not in (None, "CONTEXTUAL", "STRICT", "OFF"):
        raise reject("invalid request: safety_mode must be CONTEXTUAL, STRICT or OFF")
    for name in ("stream", "strict_tools", "logprobs"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise reject(f"invalid request: {name} must be a boolean")
    chars = sum(len(t) for _, t, _ in messages) + sum(len(json.dumps(d)) for _, d in documents)
    if chars > context_chars:
        raise reject(
            f"too many tokens: total number of tokens in the prompt cannot exceed {context_chars // 4} - "
            f"received {chars // 4}. Try using a shorter prompt or enabling prompt truncating."
        )
    prompt = 3 + sum(4 + len(t.split()) + 85 * im for _, t, im in messages) + _chars_of(documents) // 4
    if tools:
        prompt += len(json.dumps(body["tools"])) // 4
    user_text, images = next(((t, im) for r, t, im in reversed(messages) if r == "user"), ("", 0))
    chat = ChatRequest(
        model=model,
        user_text=user_text,
        image_count=images,
        tool_results=tool_results,
        tools=tools,
        tool_choice={"REQUIRED": "required", "NONE": "none"}.get(str(choice), "auto"),
        response_schema=schema,
        json_object=isinstance(fmt, dict) and fmt.get("type") == "json_object" and schema is None,
        max_tokens=body.get("max_tokens"),
        prompt_tokens=prompt,
        stream=body.get("stream") is True,
    )
    reasons = model_reasoning and not (isinstance(thinking, dict) and thinking.get("type") == "disabled")
    return ChatCall(chat, documents, reasons)


def _chars_of(documents: list[tuple[str, dict[str, Any]]]) -> int:
    return sum(len(json.dumps(data)) for _, data in documents)


# -- chat answers ----------------------------------------------------------------------------------


def cite(answer: Answer, documents: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Quote the first document in a text answer and cite it (the answer is changed)."""
    if not documents or answer.content is None or answer.tool_calls or answer.finish_reason != "stop":
        return []
    doc_id, data = documents[0]
    source = next((v for k, v in sorted(data.items()) if isinstance(v, str) and v.strip()), json.dumps(data))
    snippet = " ".join(source.split()[:6])
    text = f"{answer.content} According to the documents: {snippet}."
    words = text.split()
    answer.content = text
    answer.pieces = [words[0], *(" " + w for w in words[1:])]
    answer.completion_tokens += len(snippet.split()) + 4
    start = text.rindex(snippet)
    return [
        {
            "start": start,
            "end": start + len(snippet),
            "text": snippet,
            "sources": [{"type": "document", "id": doc_id, "document": {"id": doc_id, **data}}],
            "type": "TEXT_CONTENT",
        }
    ]


def _tool_plan(answer: Answer) -> str:
    return f"I will use {', '.join(c.name for c in answer.tool_calls)} to answer this."


def _usage(req: ChatRequest, answer: Answer) -> dict[str, Any]:
    billed = {"input_tokens": req.prompt_tokens, "output_tokens": answer.completion_tokens}
    tokens = {
        "input_tokens": req.prompt_tokens + _UNBILLED_PROMPT_TOKENS,
        "output_tokens": answer.completion_tokens,
    }
    return {"billed_units": billed, "tokens": tokens}


def chat_body(n: int, req: ChatRequest, answer: Answer, citations: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    content = []
    if answer.reasoning is not None:
        content.append({"type": "thinking", "thinking": answer.reasoning})
    if answer.tool_calls:
        message["tool_plan"] = _tool_plan(answer)
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in answer.tool_calls
        ]
    elif answer.content is not None:
        content.append({"type": "text", "text": answer.content})
    if content:
        message["content"] = content
    if citations:
        message["citations"] = citations
    return {
        "id": f"cohere-sim-{n}",
        "finish_reason": _FINISH.get(answer.finish_reason, "COMPLETE"),
        "message": message,
        "usage": _usage(req, answer),
    }


def _event(kind: str, **fields: Any) -> bytes:
    data = json.dumps({"type": kind, **fields}, separators=(",", ":"), ensure_ascii=False)
    return f"event: {kind}\ndata: {data}\n\n".encode()


def _content_delta(index: int, key: str, piece: str) -> bytes:
    return _event("content-delta", index=index, delta={"message": {"content": {key: piece}}})


def _error_end(body: dict[str, Any]) -> bytes:
    """An in-stream error the Cohere way: ``message-end`` with ``finish_reason`` ``ERROR``."""
    err = body.get("error")
    message = err.get("message") if isinstance(err, dict) else body.get("message")
    return _event("message-end", delta={"finish_reason": "ERROR", "error": str(message or "internal error")})


def chat_events(n: int, req: ChatRequest, answer: Answer, citations: list[dict[str, Any]]) -> StreamEvents:
    start = {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}
    events = StreamEvents(error_event=_error_end)
    events.head.append(_event("message-start", id=f"cohere-sim-{n}", delta={"message": start}))
    index = 0
    if answer.reasoning is not None:
        events.head.append(
            _event(
                "content-start", index=0, delta={"message": {"content": {"type": "thinking", "thinking": ""}}}
            )
        )
        events.body += [_content_delta(0, "thinking", p) for p in answer.reasoning_pieces]
        index = 1
    if answer.tool_calls:
        if index:
            events.body.append(_event("content-end", index=0))
        words = _tool_plan(answer).split()
        events.body += [
            _event("tool-plan-delta", delta={"message": {"tool_plan": w if i == 0 else " " + w}})
            for i, w in enumerate(words)
        ]
        for i, call in enumerate(answer.tool_calls):
            header = {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            events.body.append(_event("tool-call-start", index=i, delta={"message": {"tool_calls": header}}))
            for piece in fragments(call.arguments):
                delta = {"message": {"tool_calls": {"function": {"arguments": piece}}}}
                events.body.append(_event("tool-call-delta", index=i, delta=delta))
            events.body.append(_event("tool-call-end", index=i))
    elif answer.content is not None:
        text_start = _event(
            "content-start", index=index, delta={"message": {"content": {"type": "text", "text": ""}}}
        )
        if index:
            events.body += [_event("content-end", index=0), text_start]
        else:
            events.head.append(text_start)
        events.body += [_content_delta(index, "text", p) for p in answer.pieces]
    for i, citation in enumerate(citations):
        events.tail.append(_event("citation-start", index=i, delta={"message": {"citations": citation}}))
        events.tail.append(_event("citation-end", index=i))
    if answer.content is not None and not answer.tool_calls:
        events.tail.append(_event("content-end", index=index))
    end = {"finish_reason": _FINISH.get(answer.finish_reason, "COMPLETE"), "usage": _usage(req, answer)}
    events.tail += [_event("message-end", delta=end), DONE_EVENT]
    return events
