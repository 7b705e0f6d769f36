"""Replay of every recorded file in ``tests/llms/wire/gemini`` (Gemini API and Vertex AI).

Streams are replayed twice: straight into :class:`GeminiStreamParser` through the real SSE decoder,
cut at seeded random byte offsets (every seed must give the same answer); and end to end, served
by a loopback replay server in random pieces and read by a model through the real
``FailoverConnector`` and adapter. Expectations are literal facts of the recordings, plus an
oracle that reads them with nothing but ``json``. The error bodies are replayed as HTTP errors
(the 429's ``RetryInfo`` is the retry delay; the Vertex AI 400 is a ``BadRequestError``), and each
``.http.json`` sidecar's recorded URL is the one the adapter makes for that model.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import ReplayServer, accumulate, decode_events, run_parser, sidecar, wire_bytes
from wire_corpus import WIRE

from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    LLMStreamChunk,
    RateLimitError,
    ResponseParsingError,
    StreamAccumulator,
    StreamInterruptedError,
    Usage,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.dialects.gemini import GeminiStreamParser, model_content
from core.llms.providers.dialects.gemini.adapter import gemini_url, vertex_url
from core.llms.providers.dialects.gemini.errors import map_error_response
from core.llms.providers.gemini import GeminiAdapter
from core.llms.providers.vertex import VertexAdapter, VertexSettings

Flash = model_class("gemini/gemini-2.5-flash")
Pro = model_class("gemini/gemini-2.5-pro")
Gemini3 = model_class("gemini/gemini-3-pro-preview")
VertexFlash = model_class("vertex/gemini-2.5-flash")

SEEDS = (0, 1, 2, 3, 4)
GEMINI_DIR = WIRE / "gemini"
STREAMS = (
    "gemini/gemini-stream-text.sse",
    "gemini/gemini-stream-thinking.sse",
    "gemini/gemini-stream-function-call-thought-signature.sse",
    "gemini/gemini-stream-grounding-web-search.sse",
    "gemini/gemini-stream-refusal-text.sse",
    "gemini/gemini-stream-reasoning-gemini3.txt",
)
ERRORS = (
    "gemini/gemini-429-resource-exhausted-retryinfo.json",
    "gemini/vertex-gemini-400-invalid-argument.json",
)
KEY = "AIzaSyReplayKey0000000000000000000000"


def test_every_file_of_the_corpus_is_replayed_here() -> None:
    covered = {*STREAMS, *ERRORS}
    for name in list(covered):
        side = (WIRE / name).with_name((WIRE / name).name.rsplit(".", 1)[0] + ".http.json")
        if side.exists():
            covered.add(str(side.relative_to(WIRE)))
    present = {str(p.relative_to(WIRE)) for p in GEMINI_DIR.iterdir()}
    assert present == covered


def recording(name: str) -> bytes:
    """The SSE body of a corpus file (a vercel ``.chunks.txt`` reframed as the service sends it:
    ``data: <json>`` events, no ``[DONE]``)."""
    raw = wire_bytes(name)
    if name.endswith(".txt"):
        lines = [line for line in raw.decode().splitlines() if line.strip()]
        return "".join(f"data: {line}\r\n\r\n" for line in lines).encode()
    return raw


def replay(raw: bytes, seed: int = 0) -> list[LLMStreamChunk]:
    return run_parser(GeminiStreamParser("replay"), decode_events(raw, random.Random(seed)))


def events_of(raw: bytes) -> list[dict[str, Any]]:
    """The oracle: every event's JSON, read with nothing but ``json``."""
    return [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]


def oracle_text(raw: bytes, *, thought: bool) -> str:
    return "".join(
        part.get("text", "")
        for event in events_of(raw)
        for part in event["candidates"][0]["content"]["parts"]
        if part.get("thought", False) is thought
    )


def summary(acc: StreamAccumulator) -> tuple[Any, ...]:
    response = acc.to_response(model="", provider="")
    calls = [(c.id, c.name, c.arguments) for c in acc.tool_calls]
    return (acc.text, response.reasoning, acc.finish_reason, acc.usage, calls, acc.model, acc.raw)


# -- straight into the parser ----------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAMS)
def test_random_splits_give_the_same_answer(name: str) -> None:
    raw = recording(name)
    whole = summary(accumulate(replay(raw, seed=0)))
    for seed in SEEDS[1:]:
        assert summary(accumulate(replay(raw, seed=seed))) == whole
    acc = accumulate(replay(raw))
    assert acc.text == oracle_text(raw, thought=False)
    assert (acc.to_response(model="", provider="").reasoning or "") == oracle_text(raw, thought=True)
    last = events_of(raw)[-1]
    assert acc.model == last["modelVersion"]
    usage = last["usageMetadata"]
    assert acc.usage is not None
    assert acc.usage.input_tokens + acc.usage.output_tokens == usage["totalTokenCount"]


@pytest.mark.parametrize("name", STREAMS)
def test_a_stream_cut_before_its_last_event_is_never_a_success(name: str) -> None:
    raw = recording(name)
    cut = raw.rindex(b"data: ")  # the last event (the finish reason) never arrives
    with pytest.raises(StreamInterruptedError):
        replay(raw[:cut])
    rng = random.Random(7)
    for end in (rng.randint(1, cut - 1) for _ in range(5)):
        # cut inside an event: the decoder hands over its start, which is not JSON
        with pytest.raises((StreamInterruptedError, ResponseParsingError)):
            replay(raw[:end])


def test_plain_text_with_usage_on_every_event() -> None:
    chunks = replay(recording("gemini/gemini-stream-text.sse"), seed=3)
    acc = accumulate(chunks)
    assert acc.text == "The capital of France is Paris.\n"
    assert (acc.finish_reason, acc.model) == ("stop", "gemini-2.0-flash-exp")
    assert acc.usage == Usage(input_tokens=13, output_tokens=8)  # the last event's (cumulative)
    assert chunks[0].endpoint == "replay" and chunks[0].text == "The"
    assert chunks[-1].finish_reason == "stop" and chunks[-1].text == ""


def test_thinking_summaries_are_reasoning_and_thoughts_count_as_output() -> None:
    raw = recording("gemini/gemini-stream-thinking.sse")
    acc = accumulate(replay(raw, seed=11))
    response = acc.to_response(model="gemini-2.5-pro", provider="gemini")
    assert response.reasoning is not None and response.reasoning.startswith("**Clarifying User Goals**")
    assert "**Clarifying" not in response.text
    assert response.text.startswith("This is a great question")
    assert acc.usage == Usage(input_tokens=34, output_tokens=469 + 787, reasoning_tokens=787)
    # the signature on the first answer part is kept on the assembled answer
    parts = acc.raw["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and "thoughtSignature" not in parts[0]
    signed = [
        p for e in events_of(raw) for p in e["candidates"][0]["content"]["parts"] if "thoughtSignature" in p
    ]
    assert len(signed) == 1 and parts[1]["thoughtSignature"] == signed[0]["thoughtSignature"]
    assert "".join(p["text"] for p in parts if not p.get("thought")) == response.text


def test_whole_function_call_with_thought_signature() -> None:
    raw = recording("gemini/gemini-stream-function-call-thought-signature.sse")
    acc = accumulate(replay(raw, seed=5))
    (call,) = acc.tool_calls
    assert (call.name, call.arguments) == ("get_country", "{}")
    assert call.id.startswith("call_")
    assert acc.finish_reason == "tool_calls" and acc.text == ""
    assert acc.usage == Usage(input_tokens=29, output_tokens=10 + 202, reasoning_tokens=202)
    recorded = events_of(raw)[0]["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    content = model_content(acc.to_response(model="gemini-3-pro-preview", provider="gemini"))
    assert content["role"] == "model"
    first = content["parts"][0]
    assert first["thoughtSignature"] == recorded  # carried back byte for byte
    assert first["functionCall"] == {"name": "get_country", "args": {}, "id": call.id}


def test_gemini3_hidden_thoughts_and_a_signature_on_an_empty_part() -> None:
    raw = recording("gemini/gemini-stream-reasoning-gemini3.txt")
    acc = accumulate(replay(raw, seed=2))
    assert acc.text == 'There are **3** "r"s in strawberry.\n\nSt**r**awbe**rr**y'
    response = acc.to_response(model="gemini-3-pro-preview", provider="gemini")
    assert response.reasoning is None  # thoughts are hidden: counted only
    assert acc.usage == Usage(input_tokens=9, output_tokens=23 + 302, reasoning_tokens=302)
    (part,) = model_content(response)["parts"]  # the empty signed part merged into the text
    assert part["text"] == acc.text
    assert (
        part["thoughtSignature"]
        == events_of(raw)[-1]["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    )


def test_grounding_metadata_is_kept() -> None:
    raw = recording("gemini/gemini-stream-grounding-web-search.sse")
    acc = accumulate(replay(raw, seed=8))
    grounding = acc.raw["candidates"][0]["groundingMetadata"]
    assert grounding == events_of(raw)[-1]["candidates"][0]["groundingMetadata"]
    assert grounding["webSearchQueries"] and grounding["groundingChunks"] and grounding["groundingSupports"]
    assert acc.usage == Usage(input_tokens=17 + 102, output_tokens=241 + 412, reasoning_tokens=412)


def test_soft_refusal_is_plain_text_that_finishes_with_stop() -> None:
    acc = accumulate(replay(recording("gemini/gemini-stream-refusal-text.sse")))
    assert acc.finish_reason == "stop" and acc.content_filter is None
    assert json.loads(acc.text)["instructions"].startswith("I cannot provide instructions")


# -- recorded errors -------------------------------------------------------------------------------


def test_recorded_429_is_a_rate_limit_with_the_retry_info_delay() -> None:
    body = wire_bytes("gemini/gemini-429-resource-exhausted-retryinfo.json")
    error = map_error_response(429, {}, body, "replay", None)
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.code, error.status) == (34.4, "RESOURCE_EXHAUSTED", 429)
    assert error.message == "You exceeded your current quota, please check your plan."
    # the delay in the body wins over a Retry-After header
    assert map_error_response(429, {"retry-after": "3"}, body, "replay", None).retry_after == 34.4  # type: ignore[attr-defined]


def test_recorded_vertex_400_is_a_bad_request() -> None:
    name = "gemini/vertex-gemini-400-invalid-argument.json"
    error = map_error_response(sidecar(name)["response"]["status"], {}, wire_bytes(name), "replay", None)
    assert type(error) is BadRequestError
    assert error.code == "INVALID_ARGUMENT" and "URL_ROBOTED" in error.message


def test_an_invalid_api_key_is_an_authentication_error() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
        }
    }
    error = map_error_response(400, {}, json.dumps(body).encode(), "replay", None)
    assert isinstance(error, AuthenticationError) and error.status == 400


# -- the sidecars: the recorded URLs are the adapter's ----------------------------------------------


@pytest.mark.parametrize("name", [p.name for p in sorted(GEMINI_DIR.glob("*.http.json"))])
def test_recorded_request_urls_are_the_adapters_urls(name: str) -> None:
    recorded = json.loads((GEMINI_DIR / name).read_text())["request"]["uri"]
    path = recorded.split(".googleapis.com", 1)[1]
    resource, _, method = path.rpartition(":")
    model = resource.rsplit("/", 1)[1]
    operation = "stream_generate" if method.startswith("streamGenerateContent") else "generate"
    if "aiplatform" in recorded:
        version, _, project, _, location = resource.split("/")[1:6]
        url = vertex_url(
            "https://aiplatform.googleapis.com",
            operation,
            model,
            project=project,
            location=location,
            api_version=version,
        )
    else:
        url = gemini_url("https://generativelanguage.googleapis.com/v1beta", operation, model)
    assert url == recorded


# -- end to end through the transport -------------------------------------------------------------


def gemini_connector(url: str) -> FailoverConnector:
    return FailoverConnector.from_endpoints(
        GeminiAdapter(),
        EndpointConfig(endpoint=f"{url}/v1beta", api_key=KEY),
        policy=RetryPolicy(max_retries=0),
    )


def model_for(name: str) -> Any:
    if "gemini-3" in name or "thought-signature" in name:
        return Gemini3
    return Pro if ("thinking" in name or "grounding" in name) else Flash


@pytest.mark.parametrize("name", STREAMS)
async def test_end_to_end_stream_replay(name: str) -> None:
    raw = recording(name)
    headers = {"Content-Type": "text/event-stream"}
    async with (
        ReplayServer(raw, headers=headers, seed=len(name)) as server,
        model_for(name)(gemini_connector(server.url)) as model,
    ):
        acc = accumulate([chunk async for chunk in model.stream_answer("replay please")])
    assert summary(acc) == summary(accumulate(replay(raw)))
    (request,) = server.requests
    recorded_model = json.loads(raw.decode().split("data: ", 2)[1].split("\r\n")[0].split("\n")[0])[
        "modelVersion"
    ]
    assert request["path"].startswith("/v1beta/models/") and request["path"].endswith(
        ":streamGenerateContent"
    )
    assert request["query"] == {"alt": "sse"}
    assert request["headers"]["x-goog-api-key"] == KEY and "key" not in request["query"]
    assert request["json"]["contents"] == [{"role": "user", "parts": [{"text": "replay please"}]}]
    assert acc.endpoint == f"{server.url}/v1beta" and recorded_model == acc.model
    if model_for(name) is not Gemini3:
        assert acc.cost is not None and acc.cost > 0


async def test_end_to_end_recorded_429_waits_the_retry_info_delay_or_gives_up() -> None:
    body = wire_bytes("gemini/gemini-429-resource-exhausted-retryinfo.json")
    async with ReplayServer(body, status=429, headers={"Content-Type": "application/json"}) as server:
        connector = FailoverConnector.from_endpoints(
            GeminiAdapter(),
            EndpointConfig(endpoint=f"{server.url}/v1beta", api_key=KEY),
            policy=RetryPolicy(max_retries=2, max_retry_after=10),
        )
        async with Flash(connector) as model:
            with pytest.raises(RateLimitError) as info:
                await model.get_answer("hi")
    assert info.value.retry_after == 34.4  # longer than the policy waits: not retried
    assert len(server.requests) == 1
    assert (info.value.provider, info.value.model) == ("gemini", "gemini-2.5-flash")


async def test_end_to_end_recorded_vertex_400() -> None:
    name = "gemini/vertex-gemini-400-invalid-argument.json"
    async with ReplayServer(
        wire_bytes(name), status=400, headers={"Content-Type": "application/json"}
    ) as server:
        config = EndpointConfig(
            endpoint=server.url,
            token_provider=lambda: "ya29.replay-token-0000",
            settings=VertexSettings(
                project="gen-lang-client-0498264908", location="global", api_version="v1beta1"
            ),
        )
        async with VertexFlash(FailoverConnector.from_endpoints(VertexAdapter(), config)) as model:
            with pytest.raises(BadRequestError) as info:
                await model.get_answer("Call the get_images tool.")
    assert info.value.code == "INVALID_ARGUMENT" and info.value.status == 400
    (request,) = server.requests
    recorded = Path(sidecar(name)["request"]["uri"]).name.replace(
        "gemini-3-flash-preview", "gemini-2.5-flash"
    )
    assert request["path"].endswith(recorded)
    assert request["path"].startswith("/v1beta1/projects/gen-lang-client-0498264908/locations/global/")
    assert request["headers"]["Authorization"] == "Bearer ya29.replay-token-0000"
