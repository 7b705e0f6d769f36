"""Replay of the recorded OpenAI-compatible host files in ``tests/llms/wire/openai-compatible``
(Mistral, Groq, xAI, OpenRouter): straight into :class:`ChatStreamParser` through the real SSE
decoder cut at seeded random offsets, and end to end from a loopback replay server through the
host's own profile (adapter and model class) and the real ``FailoverConnector``.

Expectations are literal facts of the recordings (texts, token counts, ids) plus an oracle that
reads them with nothing but ``json``.
"""

from __future__ import annotations

import json
import random

import model_classes
import pytest
from multidict import CIMultiDict
from openai_testkit import (
    ReplayServer,
    accumulate,
    decode_events,
    recorded_headers,
    reframe_chunks_txt,
    replay,
    sidecar,
    wire_bytes,
)

from core.llms.interfaces import (
    BadRequestError,
    LLMError,
    LLMResponse,
    LLMStreamChunk,
    RateLimitError,
    StreamInterruptedError,
    ToolCallDelta,
    Usage,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.dialects.openai_chat import ChatCompletionsAdapter, ChatStreamParser, OpenAIChatModel
from core.llms.providers.dialects.openai_chat.errors import map_error_response

MISTRAL = "openai-compatible/mistral-stream-thinking.sse"
GROQ = "openai-compatible/groq-stream-error-tool-use-failed.sse"
XAI = "openai-compatible/xai-stream-tool-call.txt"
OPENROUTER_429 = "openai-compatible/openrouter-429-upstream-rate-limited.json"

SEEDS = (0, 1, 2, 3)
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


def oracle(raw: bytes) -> tuple[str, str]:
    """(text, reasoning) of a recorded Chat Completions SSE body, read with nothing but ``json``:
    string content and ``text`` parts are text; ``thinking`` parts, ``reasoning_content`` and
    ``reasoning`` are reasoning."""
    text: list[str] = []
    reasoning: list[str] = []
    for line in raw.decode().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        for choice in json.loads(line[6:]).get("choices") or []:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str):
                text.append(content)
            for part in content if isinstance(content, list) else ():
                if part["type"] == "text":
                    text.append(part["text"])
                elif part["type"] == "thinking":
                    reasoning.extend(p["text"] for p in part["thinking"] if p["type"] == "text")
            reasoning.append(delta.get("reasoning_content") or delta.get("reasoning") or "")
    return "".join(text), "".join(reasoning)


def response_of(chunks: list[LLMStreamChunk]) -> LLMResponse:
    return accumulate(chunks).to_response(model="?", provider="?")


def feed_until_error(raw: bytes, seed: int) -> tuple[list[LLMStreamChunk], LLMError]:
    """The chunks a parser yields from ``raw`` before it raises, and the error it raises."""
    parser = ChatStreamParser("replay")
    chunks: list[LLMStreamChunk] = []
    with pytest.raises(LLMError) as info:
        for event in decode_events(raw, random.Random(seed)):
            chunks.extend(parser.feed(event))
        parser.close()
    return chunks, info.value


def host_model(name: str, url: str) -> OpenAIChatModel:
    """The model ``name`` (``host/model``) on a connector to ``url``, from the host's profile."""
    profile, cls = model_classes.test_registry().resolve(name)
    endpoint = EndpointConfig(endpoint=url, api_key="host-replay-key")
    model: OpenAIChatModel = cls(FailoverConnector.from_endpoints(profile.adapter(), endpoint, [], FAST))
    return model


# -- Mistral: content as typed parts (thinking / text) ------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_mistral_thinking_parts(seed: int) -> None:
    raw = wire_bytes(MISTRAL)
    response = response_of(replay(raw, seed=seed))
    text, reasoning = oracle(raw)
    assert (response.text, response.reasoning) == (text, reasoning)
    assert response.reasoning is not None
    assert response.reasoning.startswith("Okay, the user is asking how to cross the street.")
    assert response.reasoning.endswith("Let me compile this information into a clear and concise response.")
    assert len(response.reasoning) == 421
    assert response.text.startswith("To cross the street safely, follow these steps:\n\n1. Look both ways")
    assert response.text.endswith("By following these steps, you can ensure a safe crossing.")
    assert len(response.text) == 607
    assert "Okay, the user" not in response.text  # thinking never leaks into the answer
    assert (response.finish_reason, response.model) == ("stop", "magistral-medium-latest")
    assert response.usage == Usage(input_tokens=10, output_tokens=232)


async def test_mistral_end_to_end() -> None:
    raw = wire_bytes(MISTRAL)
    async with (
        ReplayServer(raw, headers=recorded_headers(MISTRAL, "text/event-stream"), seed=7) as server,
        host_model("mistral/magistral-medium-latest", f"{server.url}/v1") as model,
    ):
        chunks = [c async for c in model.stream_answer("How do I cross the street?")]
    response, direct = response_of(chunks), response_of(replay(raw))
    assert (response.text, response.reasoning, response.finish_reason, response.usage) == (
        direct.text,
        direct.reasoning,
        "stop",
        Usage(10, 232),
    )
    assert response.cost == pytest.approx((10 * 2.00 + 232 * 5.00) / 1e6)
    assert response.endpoint == f"{server.url}/v1"
    (request,) = server.requests
    recorded = sidecar(MISTRAL)["request"]
    assert (
        request["path"] == recorded["uri"].split("mistral.ai", 1)[1].split("#")[0] == "/v1/chat/completions"
    )
    assert request["json"]["model"] == recorded["body"]["model"] == "magistral-medium-latest"
    assert request["headers"]["Authorization"] == "Bearer host-replay-key"


# -- Groq: reasoning deltas, then an error event inside the 200 stream ---------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_groq_error_event_after_reasoning(seed: int) -> None:
    raw = wire_bytes(GROQ)
    assert sidecar(GROQ)["response"]["status"] == 200
    chunks, error = feed_until_error(raw, seed)
    assert type(error) is BadRequestError
    assert (error.status, error.code, error.endpoint) == (400, "tool_use_failed", "replay")
    assert error.message.startswith("Tool call validation failed: tool call validation failed: parameters")
    assert error.body is not None
    assert json.loads(error.body["error"]["failed_generation"])["name"] == "get_something_by_name"
    # 93 reasoning deltas came first; no text, no finish reason
    assert len(chunks) == 93
    assert all(c.text == "" and c.reasoning and c.finish_reason is None for c in chunks)
    reasoning = "".join(c.reasoning or "" for c in chunks)
    assert reasoning == oracle(raw)[1]
    assert reasoning.startswith("We need to call the tool with invalid parameters first")
    assert reasoning.endswith('Then second call with name: "test". Let\'s do that.')
    assert len(reasoning) == 412
    assert chunks[0].model == "openai/gpt-oss-120b" and chunks[0].endpoint == "replay"


async def test_groq_error_event_end_to_end() -> None:
    raw = wire_bytes(GROQ)
    chunks: list[LLMStreamChunk] = []
    async with (
        ReplayServer(raw, headers=recorded_headers(GROQ, "text/event-stream"), seed=3) as server,
        host_model("groq/openai/gpt-oss-120b", f"{server.url}/openai/v1") as model,
    ):
        with pytest.raises(StreamInterruptedError) as info:
            async for chunk in model.stream_answer("call the tool"):
                chunks.append(chunk)
    err = info.value
    assert (err.provider, err.model) == ("groq", "openai/gpt-oss-120b")
    assert isinstance(err.cause, BadRequestError)
    assert (err.cause.status, err.cause.code) == (400, "tool_use_failed")
    assert err.partial_text == "" and err.partial_tool_calls == []
    assert len(chunks) == 93 and "".join(c.reasoning or "" for c in chunks) == oracle(raw)[1]
    assert len(server.requests) == 1  # data had arrived: never retried
    assert server.requests[0]["path"] == "/openai/v1/chat/completions"


# -- xAI: reasoning_content, then one tool call in one delta -------------------------------------------


def xai_sse(*, done: bool) -> bytes:
    """The xAI ``.chunks.txt`` as the SSE body (with or without the ``[DONE]`` the fixture
    author stripped)."""
    framed = reframe_chunks_txt(wire_bytes(XAI))
    return framed if done else framed.removesuffix(b"data: [DONE]\n\n")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("done", [True, False], ids=["with-done", "without-done"])
def test_xai_reasoning_and_one_tool_call(seed: int, done: bool) -> None:
    raw = xai_sse(done=done)
    chunks = replay(raw, seed=seed)
    response = response_of(chunks)
    assert response.text == ""
    assert response.reasoning == oracle(raw)[1]
    assert response.reasoning is not None and len(response.reasoning) == 1069
    assert response.reasoning.startswith("First, the user is asking about the weather in San Francisco.")
    assert response.reasoning.endswith("but for now, this is the logical next step.")
    # the tool call arrives whole in one delta
    (delta,) = [c for c in chunks if c.tool_calls]
    assert delta.tool_calls == [ToolCallDelta(0, "call_79382389", "weather", '{"location":"San Francisco"}')]
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_79382389", "weather", '{"location":"San Francisco"}')
    ]
    assert (response.finish_reason, response.model) == ("tool_calls", "grok-3-mini")
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.cached_input_tokens, usage.reasoning_tokens) == (307, 306, 227)


def test_xai_usage_counts_reasoning_as_output() -> None:
    usage = response_of(replay(xai_sse(done=True))).usage
    assert usage is not None
    assert usage.reasoning_tokens <= usage.output_tokens  # Usage's own contract
    assert usage.total_tokens == 560  # the recording's total_tokens
    assert usage.output_tokens == 26 + 227


async def test_xai_end_to_end() -> None:
    raw = xai_sse(done=False)
    async with (
        ReplayServer(raw, headers={"Content-Type": "text/event-stream"}, seed=11) as server,
        host_model("xai/grok-3-mini", f"{server.url}/v1") as model,
    ):
        chunks = [c async for c in model.stream_answer("weather in San Francisco?")]
        pricing = model.metadata.pricing
    response, direct = response_of(chunks), response_of(replay(raw))
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_79382389", "weather", '{"location":"San Francisco"}')
    ]
    assert (response.reasoning, response.finish_reason, response.usage) == (
        direct.reasoning,
        "tool_calls",
        direct.usage,
    )
    assert response.usage is not None and response.cost == pytest.approx(pricing.cost(response.usage))
    assert response.cost is not None and response.cost > 307 * 0.30 / 1e6 * 0.99
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions" and request["json"]["model"] == "grok-3-mini"
    assert request["json"]["stream_options"] == {"include_usage": True}


# -- OpenRouter: an upstream 429 ------------------------------------------------------------------


def test_openrouter_429_maps_to_a_rate_limit() -> None:
    recorded = sidecar(OPENROUTER_429)["response"]
    assert recorded["status"] == 429
    headers = CIMultiDict(recorded["headers"])
    body = wire_bytes(OPENROUTER_429)
    url = "https://openrouter.ai/api/v1"
    errors = [
        map_error_response(429, headers, body, url, "req-or-1"),
        ChatCompletionsAdapter("openrouter").map_error(429, headers, body, url),
        model_classes.test_registry().provider("openrouter").adapter().map_error(429, headers, body, url),
    ]
    for error in errors:
        assert type(error) is RateLimitError
        assert (error.status, error.code, error.endpoint) == (429, "429", url)
        assert error.message == "Provider returned error"
        assert error.retry_after is None  # no Retry-After was recorded
        assert error.body is not None
        assert error.body["error"]["metadata"]["provider_name"] == "Google"
    assert errors[0].request_id == "req-or-1"
    # a Retry-After, when a gateway sends one, is kept
    later = ChatCompletionsAdapter("openrouter").map_error(
        429, CIMultiDict({**recorded["headers"], "retry-after": "7"}), body, url
    )
    assert isinstance(later, RateLimitError) and later.retry_after == 7.0


async def test_openrouter_429_end_to_end() -> None:
    headers = recorded_headers(OPENROUTER_429, "application/json")
    async with (
        ReplayServer(wire_bytes(OPENROUTER_429), status=429, headers=headers) as server,
        host_model("openrouter/google/gemini-2.0-flash-exp:free", f"{server.url}/api/v1") as model,
    ):
        with pytest.raises(RateLimitError) as info:
            await model.get_answer("hi")
    err = info.value
    assert (err.status, err.code, err.message) == (429, "429", "Provider returned error")
    assert (err.provider, err.model) == ("openrouter", "google/gemini-2.0-flash-exp:free")
    assert err.attempt == 2  # retried once (max_retries=1), then given up: one endpoint
    assert [r["json"]["model"] for r in server.requests] == ["google/gemini-2.0-flash-exp:free"] * 2
    assert server.requests[0]["path"] == "/api/v1/chat/completions"


# -- Bedrock's OpenAI-compatible endpoint (gpt-oss): reasoning inline, an obfuscation field ------

BEDROCK_OPENAI = "bedrock/openai-compat-chat-stream-gpt-oss.sse"


@pytest.mark.parametrize("seed", SEEDS)
def test_bedrock_openai_compatible_gpt_oss(seed: int) -> None:
    raw = wire_bytes(BEDROCK_OPENAI)
    response = response_of(replay(raw, seed=seed))
    text, _ = oracle(raw)
    # the OpenAI SDK reads the inline <reasoning> tags as content: so does the dialect
    assert response.text == text and response.text.startswith("<reasoning>The user requests instructions")
    assert response.reasoning is None
    assert response.finish_reason == "stop" and response.model == "openai.gpt-oss-20b-1:0"
    # the recording's last chunk: usage {completion_tokens 60, prompt_tokens 78, cached_tokens 32}
    assert response.usage == Usage(input_tokens=78, output_tokens=60, cached_input_tokens=32)


async def test_bedrock_openai_compatible_end_to_end() -> None:
    raw = wire_bytes(BEDROCK_OPENAI)
    async with (
        ReplayServer(raw, headers=recorded_headers(BEDROCK_OPENAI, "text/event-stream"), seed=3) as server,
        host_model("bedrock_openai/openai.gpt-oss-20b-1:0", f"{server.url}/openai/v1") as model,
    ):
        chunks = [c async for c in model.stream_answer("hi")]
    response, direct = response_of(chunks), response_of(replay(raw))
    assert (response.text, response.finish_reason, response.usage) == (direct.text, "stop", direct.usage)
    assert response.cost == pytest.approx((78 * 0.07 + 60 * 0.30) / 1e6)  # no cached price: input rate
