"""OpenAI / Azure OpenAI chat-completions wire: response bodies, SSE events and error envelopes.

Written from the providers' documented formats and the recordings in ``tests/llms/wire/openai`` and
``tests/llms/wire/azure``: ``chat.completion`` bodies, ``chat.completion.chunk`` events framed as
``data: {...}\\n\\n``, the usage chunk with ``"choices": []``, ``data: [DONE]``, Azure's
``prompt_filter_results`` first chunk and per-choice ``content_filter_results``, the error envelope
``{"error": {"message", "type", "param", "code"}}`` and Azure's 400 ``content_filter`` body.
The OpenAI-compatible hosts' departures (reasoning fields, usage placement, ``[DONE]``, keep-alive
comments, error shapes) follow ``WireContext.flavor`` (see ``hosts``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .generation import Answer, fragments
from .hosts import OPENAI_FLAVOR, HostFlavor

__all__ = [
    "DONE_EVENT",
    "Rejection",
    "StreamEvents",
    "WireContext",
    "azure_content_filter_body",
    "azure_error",
    "completion_body",
    "error_envelope",
    "error_event",
    "host_error_body",
    "malformed_body",
    "malformed_event",
    "status_error_body",
    "stream_events",
    "usage_body",
]

DONE_EVENT = b"data: [DONE]\n\n"
SYSTEM_FINGERPRINT = "fp_sim"

_SAFE = {"filtered": False, "severity": "safe"}
_NOT_DETECTED = {"filtered": False, "detected": False}
# Azure's per-category results, shaped like the recordings.
_PROMPT_FILTER_RESULTS = [
    {
        "prompt_index": 0,
        "content_filter_results": {
            "hate": _SAFE,
            "jailbreak": _NOT_DETECTED,
            "self_harm": _SAFE,
            "sexual": _SAFE,
            "violence": _SAFE,
        },
    }
]
_COMPLETION_FILTER_RESULTS = {
    "hate": _SAFE,
    "protected_material_code": _NOT_DETECTED,
    "protected_material_text": _NOT_DETECTED,
    "self_harm": _SAFE,
    "sexual": _SAFE,
    "violence": _SAFE,
}
_CHUNK_FILTER_RESULTS = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
_ROLE_DELTA_TEXT = '{"role":"assistant","content":"","refusal":null}'
_ROLE_DELTA_TOOLS = '{"role":"assistant","content":null}'
_CHUNK_FILTER_JSON = json.dumps(_CHUNK_FILTER_RESULTS, separators=(",", ":"))
_AZURE_FILTER_CHUNK = (
    b"data: "
    + json.dumps(
        {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": _PROMPT_FILTER_RESULTS,
        },
        separators=(",", ":"),
    ).encode()
    + b"\n\n"
)


class Rejection(Exception):
    """The simulator refuses a request: HTTP ``status`` with JSON ``body`` (and extra headers)."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = headers or {}


# --------------------------------------------------------------------------- errors


def error_envelope(
    message: str,
    *,
    type: str | None = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def azure_error(code: str, message: str) -> dict[str, Any]:
    """The body Azure's gateway sends for its own errors (auth, api-version): ``{code, message}``."""
    return {"error": {"code": code, "message": message}}


def azure_content_filter_body() -> dict[str, Any]:
    """Azure's 400 ``content_filter`` body for a filtered prompt (as recorded)."""
    return {
        "error": {
            "message": (
                "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                "policy. Please modify your prompt and retry. To learn more about our content filtering "
                "policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
            ),
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {
                    "hate": _SAFE,
                    "jailbreak": _NOT_DETECTED,
                    "self_harm": {"filtered": True, "severity": "medium"},
                    "sexual": _SAFE,
                    "violence": _SAFE,
                },
            },
        }
    }


_STATUS_ERRORS: dict[int, tuple[str, str | None, str | None]] = {
    400: ("Simulated bad request.", "invalid_request_error", None),
    401: (
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("You are not allowed to sample from this model.", "invalid_request_error", "permission_denied"),
    404: (
        "The model does not exist or you have no access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    408: ("Request timed out.", "invalid_request_error", "timeout"),
    409: ("Conflict: a request with the same idempotency key is in progress.", "invalid_request_error", None),
    413: ("Request too large.", "invalid_request_error", "request_too_large"),
    422: ("Unprocessable entity.", "invalid_request_error", None),
    429: (
        "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in "
        "20s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: (
        "Service unavailable: the engine is currently overloaded, please try again later.",
        "server_error",
        "service_unavailable",
    ),
    504: ("Gateway timeout.", "server_error", None),
    529: ("The engine is currently overloaded, please try again later.", "server_error", "overloaded"),
}


def status_error_body(status: int) -> dict[str, Any]:
    """The OpenAI-style error body a real server would send with ``status``."""
    known = _STATUS_ERRORS.get(status)
    if known is not None:
        message, type_, code = known
        return error_envelope(message, type=type_, code=code)
    if status >= 500:
        return error_envelope(f"Simulated server error (HTTP {status}).", type="server_error")
    return error_envelope(f"Simulated error (HTTP {status}).")


def error_event(body: dict[str, Any], event: str | None = None) -> bytes:
    """An in-stream error event: ``data: {"error": {...}}`` (preceded by ``event: <event>``)."""
    data = b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"
    return data if event is None else b"event: " + event.encode() + b"\n" + data


def host_error_body(body: dict[str, Any], status: int, flavor: HostFlavor) -> dict[str, Any]:
    """An OpenAI error envelope in ``flavor``'s error style: OpenRouter's is
    ``{"error": {"code": <status as an int>, "message": ...}}``; OpenAI's is left as it is."""
    err = body.get("error")
    if flavor.error_style != "openrouter" or not isinstance(err, dict) or "message" not in err:
        return body
    code = err.get("code")
    return {"error": {"code": code if isinstance(code, int) else status, "message": err["message"]}}


def malformed_event(completion_id: str) -> bytes:
    """A ``data:`` event whose JSON is cut off."""
    return (
        b'data: {"id":"' + completion_id.encode() + b'","object":"chat.completion.chunk",'
        b'"choices":[{"index":0,"delta":{"content":"broken\n\n'
    )


def malformed_body(completion_id: str) -> bytes:
    """A non-streaming body whose JSON is cut off."""
    return (
        b'{"id":"' + completion_id.encode() + b'","object":"chat.completion","choices":[{"index":0,"message":'
    )


# --------------------------------------------------------------------------- responses


@dataclass(slots=True)
class WireContext:
    """Per-response identity: ids, model name, time, and whether to add Azure's filter fields."""

    completion_id: str
    model: str
    created: int
    azure: bool
    n: int = 1
    prompt_tokens: int = 0
    flavor: HostFlavor = OPENAI_FLAVOR


def usage_body(answer: Answer, ctx: WireContext) -> dict[str, Any]:
    """The ``usage`` object: prompt/completion/total tokens with cached and reasoning details."""
    completion = answer.completion_tokens * ctx.n
    return {
        "prompt_tokens": ctx.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": ctx.prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": answer.reasoning_tokens * ctx.n,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _message(answer: Answer, flavor: HostFlavor) -> dict[str, Any]:
    content: Any = answer.content
    reasoning = answer.reasoning if flavor.reasoning is not None else None
    if reasoning is not None and flavor.reasoning == "mistral":
        content = [_mistral_thinking(reasoning)]
        if answer.content is not None:
            content.append({"type": "text", "text": answer.content})
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": None,
        "annotations": [],
    }
    if reasoning is not None and flavor.reasoning in ("reasoning_content", "reasoning"):
        message[flavor.reasoning] = reasoning
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in answer.tool_calls
        ]
    return message


def completion_body(answer: Answer, ctx: WireContext) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` body (Azure: with prompt and completion filter results)."""
    choices = []
    for index in range(ctx.n):
        choice: dict[str, Any] = {
            "index": index,
            "message": _message(answer, ctx.flavor),
            "logprobs": None,
            "finish_reason": answer.finish_reason,
        }
        if ctx.azure:
            choice["content_filter_results"] = _COMPLETION_FILTER_RESULTS
        choices.append(choice)
    body: dict[str, Any] = {
        "id": ctx.completion_id,
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model,
        "choices": choices,
        "usage": usage_body(answer, ctx),
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if ctx.azure:
        body["prompt_filter_results"] = _PROMPT_FILTER_RESULTS
    else:
        body["service_tier"] = "default"
    return body


@dataclass(slots=True)
class StreamEvents:
    """The SSE events of one streamed answer, in three parts so faults can cut between them.

    ``head``: Azure's prompt-filter chunk and the first role chunk. ``body``: reasoning, content
    and tool-call deltas. ``tail``: finish chunk(s), the usage chunk when asked for, and
    ``[DONE]`` (unless the host omits it). ``error_event`` renders an in-stream error the host's
    way.
    """

    head: list[bytes] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    tail: list[bytes] = field(default_factory=list)
    error_event: Callable[[dict[str, Any]], bytes] = error_event


class _Chunks:
    """Builds ``chat.completion.chunk`` events; the constant part of each is serialized once."""

    __slots__ = ("_filters", "_prefix")

    def __init__(self, ctx: WireContext) -> None:
        completion_id, model = json.dumps(ctx.completion_id), json.dumps(ctx.model)
        self._prefix = (
            f'data: {{"id":{completion_id},"object":"chat.completion.chunk","created":{ctx.created},'
            f'"model":{model},"system_fingerprint":"{SYSTEM_FINGERPRINT}","choices":['
        )
        self._filters = ctx.azure

    def choice(
        self,
        index: int,
        delta: str,
        finish: str | None = None,
        *,
        filtered: bool = False,
        usage: dict[str, Any] | None = None,
    ) -> bytes:
        """One event with one choice; ``delta`` is the delta's JSON text (``usage``: Mistral's
        usage on the finish chunk)."""
        filters = ""
        if self._filters:
            filters = '"content_filter_results":' + (_CHUNK_FILTER_JSON if filtered else "{}") + ","
        finish_json = "null" if finish is None else f'"{finish}"'
        usage_json = "" if usage is None else ',"usage":' + json.dumps(usage, separators=(",", ":"))
        return (
            f'{self._prefix}{{{filters}"index":{index},"delta":{delta},'
            f'"logprobs":null,"finish_reason":{finish_json}}}]{usage_json}}}\n\n'
        ).encode()

    def usage(self, usage: dict[str, Any]) -> bytes:
        """The final usage event, with ``"choices": []``."""
        return (self._prefix + '],"usage":' + json.dumps(usage, separators=(",", ":")) + "}\n\n").encode()


def _mistral_thinking(text: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": [{"type": "text", "text": text}]}


def _reasoning_delta(piece: str, flavor: HostFlavor) -> str:
    if flavor.reasoning == "mistral":
        return json.dumps({"content": [_mistral_thinking(piece)]}, separators=(",", ":"), ensure_ascii=False)
    return json.dumps({str(flavor.reasoning): piece}, separators=(",", ":"), ensure_ascii=False)


def stream_events(answer: Answer, ctx: WireContext, *, include_usage: bool) -> StreamEvents:
    """All SSE events of a streamed answer (reasoning and content: one piece per event; tool calls:
    a header delta per call then its arguments in fragments, calls in index order), shaped by
    ``ctx.flavor`` (reasoning field, usage placement, ``[DONE]``, keep-alive comments)."""
    chunks = _Chunks(ctx)
    flavor = ctx.flavor
    events = StreamEvents(error_event=_error_renderer(ctx))
    if ctx.azure:
        events.head.append(_AZURE_FILTER_CHUNK)
    tool_mode = bool(answer.tool_calls)
    role_delta = _ROLE_DELTA_TOOLS if tool_mode else _ROLE_DELTA_TEXT
    reasoning = answer.reasoning_pieces if flavor.reasoning is not None else []
    for index in range(ctx.n):
        role = chunks.choice(index, role_delta)
        (events.head if index == 0 else events.body).append(role)
        for piece in reasoning:
            events.body.append(chunks.choice(index, _reasoning_delta(piece, flavor)))
        if tool_mode:
            for call_index, call in enumerate(answer.tool_calls):
                header = {
                    "tool_calls": [
                        {
                            "index": call_index,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
                events.body.append(chunks.choice(index, json.dumps(header, separators=(",", ":"))))
                prefix = '{"tool_calls":[{"index":' + str(call_index) + ',"function":{"arguments":'
                for frag in fragments(call.arguments):
                    events.body.append(chunks.choice(index, prefix + json.dumps(frag) + "}}]}"))
        else:
            for piece in answer.pieces:
                events.body.append(
                    chunks.choice(
                        index, '{"content":' + json.dumps(piece, ensure_ascii=False) + "}", filtered=True
                    )
                )
    for index in range(ctx.n):
        usage = usage_body(answer, ctx) if flavor.usage_in_finish_chunk and index == ctx.n - 1 else None
        events.tail.append(chunks.choice(index, "{}", answer.finish_reason, usage=usage))
    if include_usage and not flavor.usage_in_finish_chunk:
        events.tail.append(chunks.usage(usage_body(answer, ctx)))
    if flavor.done_sentinel:
        events.tail.append(DONE_EVENT)
    if flavor.keepalive is not None:
        _add_keepalives(events, flavor.keepalive, flavor.keepalive_every)
    return events


def _add_keepalives(events: StreamEvents, text: str, every: int) -> None:
    """Put the comment line ``: <text>`` before the first event and every ``every``-th one (glued to
    the event it precedes, so fault positions, counted in events, do not move)."""
    comment = b": " + text.encode() + b"\n\n"
    position = 0
    for part in (events.head, events.body, events.tail):
        for i, event in enumerate(part):
            if position % every == 0:
                part[i] = comment + event
            position += 1


def _error_renderer(ctx: WireContext) -> Callable[[dict[str, Any]], bytes]:
    """How the host reports an error inside a stream: a named event (Groq), a chunk-shaped event
    with ``finish_reason: "error"`` (OpenRouter, as documented), or a bare ``data: {"error": ...}``."""
    flavor = ctx.flavor
    if flavor.error_style != "openrouter":
        return lambda body: error_event(body, flavor.error_event_name)

    def render(body: dict[str, Any]) -> bytes:
        chunk = {
            "id": ctx.completion_id,
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.model,
            **body,
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
        }
        return error_event(chunk, flavor.error_event_name)

    return render
