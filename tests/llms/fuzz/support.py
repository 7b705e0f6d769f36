"""Shared pieces of the fuzz tests: the hypothesis settings, the example counter, the recorded
wire corpus, and strategies that mutate real transcripts.

Settings: every fuzz test runs ``CORE_LLMS_FUZZ_EXAMPLES`` examples when that variable is set
(a long run, randomised), else its default count with ``derandomize=True`` so the default suite
is deterministic. No example database is written.

Counting: each test body calls :func:`ran` with its target name; the fuzz ``conftest.py`` prints
the per-target counts at the end of the run (and writes them as JSON to
``CORE_LLMS_FUZZ_REPORT`` when set, which ``benchmarks/fuzz_report.py`` reads).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from wire_corpus import WIRE

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import LLMError
from core.llms.interfaces.llm_interfaces import StreamParser, WireEvent, WireRequest, WireResponse
from core.llms.interfaces.types import LLMResponse, LLMStreamChunk, ToolCallDelta, Usage

T = TypeVar("T")


_ENV_EXAMPLES = os.environ.get("CORE_LLMS_FUZZ_EXAMPLES", "").strip()
#: examples per test for a long run (None: each test's default).
LONG_RUN: int | None = int(_ENV_EXAMPLES) if _ENV_EXAMPLES else None

#: per-target count of examples that ran in this process.
COUNTS: Counter[str] = Counter()


def fuzz_settings(default: int = 200) -> settings:
    """Hypothesis settings of one fuzz test: ``default`` examples (or the long-run count)."""
    return settings(
        max_examples=LONG_RUN or default,
        deadline=None,
        derandomize=LONG_RUN is None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def ran(target: str) -> None:
    """Count one example of ``target``."""
    COUNTS[target] += 1


def typed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | LLMError:
    """Call ``fn``: its result, or the :class:`LLMError` it raised. Any other exception escapes
    (and fails the property)."""
    try:
        return fn(*args, **kwargs)
    except LLMError as exc:
        _check_error(exc)
        return exc


def _check_error(exc: LLMError) -> None:
    # str() and repr() of every error must work (they run in logs and tracebacks).
    assert isinstance(str(exc), str) and isinstance(repr(exc), str)
    assert exc.status is None or isinstance(exc.status, int)


# -- result shape checks ---------------------------------------------------------------------------

_FINISH = {None, "stop", "length", "tool_calls", "content_filter", "refusal", "error"}


def check_usage(usage: Usage | None) -> None:
    if usage is None:
        return
    for value in (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, usage.reasoning_tokens):
        assert type(value) is int and value >= 0, usage
    assert isinstance(usage.total_tokens, int)


def check_response(response: LLMResponse) -> None:
    """Every field has its declared type (the parsers never pass wire junk through)."""
    assert isinstance(response.text, str)
    assert isinstance(response.model, str)
    assert response.finish_reason in _FINISH
    for call in response.tool_calls:
        assert isinstance(call.id, str) and call.id
        assert isinstance(call.function.name, str) and call.function.name
        assert isinstance(call.function.arguments, str)
    check_usage(response.usage)
    assert response.refusal is None or isinstance(response.refusal, str)
    assert response.reasoning is None or isinstance(response.reasoning, str)
    assert response.cost is None or isinstance(response.cost, float)
    repr(response)


def check_chunk(chunk: LLMStreamChunk) -> None:
    assert isinstance(chunk, LLMStreamChunk)
    assert isinstance(chunk.text, str)
    assert chunk.finish_reason in _FINISH
    assert chunk.refusal is None or isinstance(chunk.refusal, str)
    assert chunk.reasoning is None or isinstance(chunk.reasoning, str)
    assert chunk.model is None or isinstance(chunk.model, str)
    for delta in chunk.tool_calls or ():
        assert isinstance(delta, ToolCallDelta)
        assert type(delta.index) is int
        assert delta.id is None or isinstance(delta.id, str)
        assert delta.name is None or isinstance(delta.name, str)
        assert isinstance(delta.arguments, str)
    check_usage(chunk.usage)


def run_parser(parser: Any, events: list[WireEvent]) -> list[LLMStreamChunk] | LLMError:
    """Feed ``events`` to a stream parser and close it: its chunks, or the typed error it raised."""

    def go() -> list[LLMStreamChunk]:
        out: list[LLMStreamChunk] = []
        for event in events:
            out.extend(parser.feed(event))
        out.extend(parser.close())
        return out

    result = typed(go)
    if not isinstance(result, LLMError):
        for chunk in result:
            check_chunk(chunk)
    return result


# -- the recorded corpus -----------------------------------------------------------------------


@cache
def chat_stream_transcripts() -> tuple[bytes, ...]:
    """Raw Chat Completions SSE bodies (OpenAI and Azure), plus the ``.txt`` fixture re-framed as
    SSE (first 40 events, with ``[DONE]``) and Azure's Responses-API stream (foreign input)."""
    out = [p.read_bytes() for p in sorted((WIRE / "openai").glob("chat-stream-*.sse"))]
    out += [p.read_bytes() for p in sorted((WIRE / "azure").glob("*.sse"))]
    lines = (WIRE / "openai" / "chat-stream-text-gpt41-nano.txt").read_text().splitlines()[:40]
    out.append("".join(f"data: {line}\n\n" for line in lines).encode() + b"data: [DONE]\n\n")
    assert len(out) >= 8, f"wire corpus not found under {WIRE}"
    return tuple(out)


@cache
def chat_completion_bodies() -> tuple[Any, ...]:
    """Decoded non-streamed ``chat.completion`` bodies: Azure's recorded one, plus the same answer
    reshaped as a tool call, a refusal and a reasoning answer."""
    recorded = json.loads((WIRE / "azure" / "azure-chat-nonstream-content-filter-results.json").read_bytes())
    tool = json.loads(json.dumps(recorded))
    tool["choices"][0]["finish_reason"] = "tool_calls"
    tool["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"c":1}'}},
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ],
    }
    refusal = json.loads(json.dumps(recorded))
    refusal["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "I can't."}
    reasoning = json.loads(json.dumps(recorded))
    reasoning["choices"][0]["message"]["reasoning_content"] = "thinking..."
    return (recorded, tool, refusal, reasoning)


@cache
def error_bodies() -> tuple[bytes, ...]:
    """Recorded HTTP error bodies of several providers (any of them may reach any mapper)."""
    names = [
        "openai/chat-400-unsupported-value.json",
        "azure/azure-chat-400-content-filter.json",
        "openai-responses/responses-429-insufficient-quota.json",
        "openai-compatible/openrouter-429-upstream-rate-limited.json",
        "gemini/gemini-429-resource-exhausted-retryinfo.json",
        "anthropic/messages-400-invalid-request.json",
    ]
    out = [(WIRE / n).read_bytes() for n in names]
    out += [
        b'{"error":"model \\"llama3.2\\" not found, try pulling it first"}',
        b"Internal Server Error",
        b"",
    ]
    return tuple(out)


def ollama_lines() -> list[dict[str, Any]]:
    """An Ollama ``/api/chat`` stream (written from Ollama's API documentation)."""

    def delta(content: str, **message: Any) -> dict[str, Any]:
        return {
            "model": "llama3.2",
            "created_at": "2024-07-22T20:33:28.1Z",
            "message": {"role": "assistant", "content": content, **message},
            "done": False,
        }

    return [
        delta("", thinking="Let me think."),
        delta("Hello"),
        delta(" world"),
        delta("", tool_calls=[{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]),
        {
            "model": "llama3.2",
            "created_at": "2024-07-22T20:33:28.123648Z",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 885095291,
            "prompt_eval_count": 26,
            "eval_count": 298,
        },
    ]


def ollama_answer() -> dict[str, Any]:
    """A whole (non-streamed) Ollama answer."""
    answer = dict(ollama_lines()[-1])
    answer["message"] = {
        "role": "assistant",
        "content": "Hello world",
        "thinking": "hmm",
        "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}],
    }
    return answer


# -- strategies --------------------------------------------------------------------------------

#: any JSON value, including deep-ish nesting and the number edge cases.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

#: awkward JSON texts that are not values the parsers expect.
hostile_json: st.SearchStrategy[str] = st.sampled_from(
    [
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        "1" * 5000,
        "1e999",
        "-0",
        "NaN",
        "Infinity",
        '"\\ud800"',
        '{"choices": [' + "[" * 2000 + "]" * 2000 + "]}",
        "\ufeff{}",
        '{"a": 1} trailing',
        "",
        "null",
        "[]",
        "{}",
        '""',
        "true",
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


@st.composite
def retyped(draw: st.DrawFn, value: Any, times: int = 3) -> Any:
    """``value`` with up to ``times`` nodes replaced by JSON values of other types (or deleted
    keys)."""
    for _ in range(draw(st.integers(1, times))):
        paths = list(_paths(value))
        path = draw(st.sampled_from(paths))
        if path and draw(st.integers(0, 5)) == 0:
            parent = _get(value, path[:-1])
            if isinstance(parent, dict):
                value = _replace(value, path[:-1], {k: v for k, v in parent.items() if k != path[-1]})
                continue
        value = _replace(value, path, draw(json_values))
    return value


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _events(raw: bytes) -> list[bytes]:
    return [block for block in raw.replace(b"\r\n", b"\n").split(b"\n\n") if block.strip()]


@st.composite
def mutated_bytes(draw: st.DrawFn, raw: bytes) -> bytes:
    """``raw`` with one or more byte-level mutations: flips, truncation, deletion, insertion of
    junk, duplication of a slice."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            data += draw(st.binary(max_size=16))
            continue
        pos = draw(st.integers(0, len(data) - 1))
        match draw(st.sampled_from(["flip", "truncate", "delete", "insert", "duplicate"])):
            case "flip":
                data[pos] ^= draw(st.integers(1, 255))
            case "truncate":
                del data[pos:]
            case "delete":
                del data[pos : pos + draw(st.integers(1, 64))]
            case "insert":
                data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
            case "duplicate":
                data[pos:pos] = data[pos : pos + draw(st.integers(1, 200))]
    return bytes(data)


@st.composite
def mutated_sse(draw: st.DrawFn, raw: bytes) -> bytes:
    """A recorded SSE transcript mutated at the event level (duplicate, drop, reorder, retype the
    JSON of an event) and then, sometimes, at the byte level."""
    events = _events(raw)
    for _ in range(draw(st.integers(1, 3))):
        if not events:
            break
        i = draw(st.integers(0, len(events) - 1))
        match draw(st.sampled_from(["duplicate", "drop", "swap", "retype", "retype", "retype"])):
            case "duplicate":
                events.insert(i, events[i])
            case "drop":
                del events[i]
            case "swap":
                j = draw(st.integers(0, len(events) - 1))
                events[i], events[j] = events[j], events[i]
            case "retype":
                head, sep, payload = events[i].partition(b"data: ")
                try:
                    value = json.loads(payload)
                except ValueError:
                    continue
                events[i] = head + sep + json.dumps(draw(retyped(value))).encode()
    out = b"\n\n".join(events) + b"\n\n"
    if draw(st.booleans()):
        out = draw(mutated_bytes(out))
    return out


@st.composite
def split(draw: st.DrawFn, raw: bytes) -> list[bytes]:
    """``raw`` cut into chunks at arbitrary positions (empty chunks included)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    pieces, last = [], 0
    for cut in cuts:
        pieces.append(raw[last:cut])
        last = cut
    pieces.append(raw[last:])
    return pieces


def decode(decoder: Any, chunks: list[bytes]) -> list[WireEvent]:
    """Feed ``chunks`` to a stream decoder and close it."""
    events: list[WireEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


# -- a fake connector for the model classes -----------------------------------------------------


class FakeConnector:
    """An ``IConnector`` answering every call with ``data`` (non-streamed) or by feeding ``events``
    to the call's stream parser, the way ``FailoverConnector`` does (without retries)."""

    endpoints = ("https://fuzz.invalid/v1",)

    def __init__(self, data: Any = None, events: list[WireEvent] | None = None) -> None:
        self.data = data
        self.events = events or []

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        return WireResponse(status=200, headers={}, body=b"", data=self.data, endpoint=self.endpoints[0])

    async def stream(
        self,
        request: WireRequest,
        parser_factory: Callable[[str, str | None], StreamParser[Any]],
        ctx: RequestContext | None = None,
    ) -> AsyncIterator[Any]:
        parser = parser_factory(self.endpoints[0], "req-1")
        for event in self.events:
            for item in parser.feed(event):
                yield item
        for item in parser.close():
            yield item

    async def aclose(self) -> None:
        return None


async def run_model(model: Any, **params: Any) -> None:
    """One ``get_answer`` and one ``stream_answer`` call: typed results or ``LLMError`` only."""
    try:
        check_response(await model.get_answer("hello", **params))
    except LLMError as exc:
        _check_error(exc)
    try:
        async for chunk in model.stream_answer("hello", **params):
            check_chunk(chunk)
    except LLMError as exc:
        _check_error(exc)
