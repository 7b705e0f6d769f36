"""Claude on Vertex AI through the Anthropic dialect, end to end against the simulator through the
real FailoverConnector: ``:rawPredict`` / ``:streamRawPredict`` URLs (publisher ``anthropic``),
the body (no ``model``, ``anthropic_version: vertex-2023-10-16``), names and prices, thinking
carried back with its signatures, tools across turns, failover between two locations, streams
cut before / after their first chunk, the recorded Vertex stream replayed through the Vertex
path, typed errors (Google's and Anthropic's bodies) and a token that never shows in them."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai_testkit import ReplayServer, accumulate, recorded_headers, sidecar, wire_bytes

from core.llms import create_llm
from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    LLMResponse,
    Message,
    NotFoundError,
    StreamInterruptedError,
    Usage,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.metadata import Pricing
from core.llms.providers.anthropic.catalogue import ANTHROPIC_CATALOGUE
from core.llms.providers.dialects.anthropic_messages import assistant_message
from core.llms.providers.gemini.model import GeminiModel
from core.llms.providers.vertex import VertexAdapter, VertexSettings
from core.llms.providers.vertex.anthropic import VERTEX_CLAUDE_MODELS, VertexClaudeModel
from core.llms.simulator import Fault, Simulator

TOKEN = "ya29.VertexClaudeCanary7Qm2ZpL9"
FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}
MODEL_PATH = "/v1/projects/sim-project/locations/{location}/publishers/anthropic/models/{model}"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
VERTEX_IDS = {
    "claude-opus-4-1": "claude-opus-4-1@20250805",
    "claude-opus-4": "claude-opus-4@20250514",
    "claude-sonnet-4-5": "claude-sonnet-4-5@20250929",
    "claude-sonnet-4": "claude-sonnet-4@20250514",
    "claude-3-7-sonnet": "claude-3-7-sonnet@20250219",
    "claude-haiku-4-5": "claude-haiku-4-5@20251001",
    "claude-3-5-haiku": "claude-3-5-haiku@20241022",
}


class Credentials:
    """A google-auth credentials object: each refresh makes a new token (``TOKEN-n``)."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.expiry: datetime.datetime | None = None
        self.quota_project_id = None
        self.issued: list[str] = []

    def refresh(self, request: Any) -> None:
        self.token = f"{TOKEN}-{len(self.issued) + 1}"
        self.issued.append(self.token)
        self.expiry = datetime.datetime.fromtimestamp(time.time() + 3600, datetime.UTC).replace(tzinfo=None)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


def claude(sim: Simulator, model_name: str = "claude-sonnet-4-5", **kw: Any) -> Any:
    kw.setdefault("project", "sim-project")
    kw.setdefault("location", "us-east5")
    if "credentials" not in kw:
        kw.setdefault("token_provider", lambda: TOKEN)
    kw.setdefault("retry", FAST)
    return create_llm(f"vertex/{model_name}", endpoint=sim.url, **kw)


async def streamed(model: Any, messages: Any, **params: Any) -> tuple[LLMResponse, list[Any]]:
    chunks = [c async for c in model.stream_answer(messages, **params)]
    return accumulate(chunks).to_response(model=model.name, provider=model.provider), chunks


def location_of(request: Any) -> str:
    return str(request.path.split("/")[5])


# -- names, rows, URLs ----------------------------------------------------------------------------


def test_catalogue_rows_are_anthropic_rows_on_vertex() -> None:
    names = {m.name: m for m in VERTEX_CLAUDE_MODELS}
    assert {n: m.model_id for n, m in names.items()} == VERTEX_IDS
    for name, meta in names.items():
        source = ANTHROPIC_CATALOGUE[name]
        assert meta.provider == "vertex" and meta.aliases == (VERTEX_IDS[name],)
        assert meta.pricing == source.pricing and meta.pricing.input_per_1m is not None
        assert (meta.context_window, meta.max_output_tokens, meta.capabilities) == (
            source.context_window,
            source.max_output_tokens,
            source.capabilities,
        )


def test_names_route_to_the_claude_class() -> None:
    for name in ("vertex/claude-sonnet-4-5", "vertex/claude-sonnet-4-5@20250929"):
        model = create_llm(name, project="p", location="us-east5", token_provider=lambda: TOKEN)
        assert isinstance(model, VertexClaudeModel)
        assert (
            model.metadata.model_id == "claude-sonnet-4-5@20250929" and model.metadata.pricing.output_per_1m
        )
    # an open name of a catalogue model's family: the Claude class with that row's limits, no price
    newer = create_llm("vertex/claude-haiku-4-5@20260301", project="p", token_provider=lambda: TOKEN)
    assert isinstance(newer, VertexClaudeModel) and newer.metadata.model_id == "claude-haiku-4-5@20260301"
    assert newer.metadata.pricing == Pricing()  # no price: cost is None
    assert newer.metadata.max_output_tokens == ANTHROPIC_CATALOGUE["claude-haiku-4-5"].max_output_tokens
    gemini = create_llm("vertex/gemini-2.5-flash", project="p", token_provider=lambda: TOKEN)
    assert isinstance(gemini, GeminiModel) and not isinstance(gemini, VertexClaudeModel)


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("us-east5", "https://us-east5-aiplatform.googleapis.com"),
        ("europe-west1", "https://europe-west1-aiplatform.googleapis.com"),
        ("global", "https://aiplatform.googleapis.com"),
    ],
)
def test_urls_on_google_hosts(location: str, host: str) -> None:
    adapter = VertexAdapter()
    endpoint = EndpointConfig(
        endpoint="https://us-central1-aiplatform.googleapis.com",
        settings=VertexSettings(project="my-proj", location=location),
    )
    base = f"{host}/v1/projects/my-proj/locations/{location}/publishers"
    model = "claude-sonnet-4-5@20250929"
    assert adapter.url(endpoint, "anthropic_messages", model) == f"{base}/anthropic/models/{model}:rawPredict"
    assert (
        adapter.url(endpoint, "anthropic_messages_stream", model)
        == f"{base}/anthropic/models/{model}:streamRawPredict"
    )
    # Gemini's operations are untouched
    assert adapter.url(endpoint, "generate", "gemini-2.5-flash") == (
        f"{base}/google/models/gemini-2.5-flash:generateContent"
    )


# -- calls ----------------------------------------------------------------------------------------


async def test_answer_url_body_and_cost(sim: Simulator) -> None:
    async with claude(sim) as m:
        r = await m.get_answer([Message.system("Be brief."), Message.user("hello there")], temperature=0.5)
    assert r.text == "Simulated answer to: hello there"
    assert (r.finish_reason, r.model, r.provider) == ("stop", "claude-sonnet-4-5-20250929", "vertex")
    assert r.request_id == "req_vrtx_sim_000001" and r.endpoint == sim.url
    assert r.usage is not None and r.cost == pytest.approx(
        (r.usage.input_tokens * 3.0 + r.usage.output_tokens * 15.0) / 1e6
    )
    (request,) = sim.requests
    assert request.path == MODEL_PATH.format(location="us-east5", model="claude-sonnet-4-5@20250929") + (
        ":rawPredict"
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json == {
        "anthropic_version": "vertex-2023-10-16",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": "hello there"}],
        "system": "Be brief.",
        "temperature": 0.5,
    }


async def test_stream_equals_the_whole_answer(sim: Simulator) -> None:
    async with claude(sim, "claude-haiku-4-5") as m:
        whole = await m.get_answer("count me", thinking=1024)
        s, chunks = await streamed(m, "count me", thinking=1024)
    assert (s.text, s.reasoning, s.usage, s.finish_reason) == (
        whole.text,
        whole.reasoning,
        whole.usage,
        whole.finish_reason,
    )
    assert whole.reasoning == "Simulated reasoning about: count me" and isinstance(whole.usage, Usage)
    assert chunks[-1].cost == whole.cost and chunks[0].request_id == "req_vrtx_sim_000002"
    stream_request = sim.requests[1]
    assert stream_request.path.endswith(
        "/publishers/anthropic/models/claude-haiku-4-5@20251001:streamRawPredict"
    )
    assert stream_request.json["stream"] is True and "model" not in stream_request.json
    assert stream_request.json["anthropic_version"] == "vertex-2023-10-16"
    assert stream_request.json["thinking"] == {"type": "enabled", "budget_tokens": 1024}


async def test_tools_round_trip(sim: Simulator) -> None:
    async with claude(sim) as m:
        first = await m.get_answer("weather in Paris?", tools=[WEATHER])
        (call,) = first.tool_calls
        assert first.finish_reason == "tool_calls" and call.name == "get_weather"
        history = [Message.user("weather in Paris?"), Message.assistant(tool_calls=first.tool_calls)]
        second = await m.get_answer([*history, Message.tool(call.id, "22 C")], tools=[WEATHER])
        third, _ = await streamed(m, [*history, Message.tool(call.id, "22 C")], tools=[WEATHER])
    assert second.text == third.text == "Based on the tool result: 22 C"
    assert sim.requests[1].json["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "22 C"}],
    }


@pytest.mark.parametrize("stream_first", [False, True])
async def test_thinking_is_carried_back_with_its_signature(sim: Simulator, stream_first: bool) -> None:
    params: dict[str, Any] = {"tools": [WEATHER], "thinking": {"type": "enabled", "budget_tokens": 2048}}
    async with claude(sim) as m:
        if stream_first:
            first, _ = await streamed(m, "weather in Oslo?", **params)
        else:
            first = await m.get_answer("weather in Oslo?", **params)
        (call,) = first.tool_calls
        turn = assistant_message(first)
        assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
        assert turn["content"][0]["signature"]
        messages = [Message.user("weather in Oslo?"), turn, Message.tool(call.id, "-3 C")]
        final = await m.get_answer(messages, **params)
        assert final.text == "Based on the tool result: -3 C"
        sent = sim.requests[-1].json["messages"][1]["content"][0]
        assert sent["type"] == "thinking" and sent["signature"] == turn["content"][0]["signature"]
        tampered = {
            "role": "assistant",
            "content": [dict(turn["content"][0], thinking="x"), turn["content"][1]],
        }
        with pytest.raises(BadRequestError, match="Invalid `signature`"):
            await m.get_answer([messages[0], tampered, messages[2]], **params)


# -- failover and streams cut ---------------------------------------------------------------------


async def test_failover_to_another_location(sim: Simulator) -> None:
    creds = Credentials()
    backups = [{"location": "europe-west1", "name": "vertex-eu"}]
    sim.enqueue(Fault(status=503))
    async with claude(
        sim, credentials=creds, backups=backups, name="vertex-us", retry={"max_retries": 0}
    ) as m:
        r = await m.get_answer("hello")
        assert r.endpoint == "vertex-eu" and r.text == "Simulated answer to: hello"
        sim.enqueue(Fault(drop="before_first_chunk"))
        s, chunks = await streamed(m, "hello stream")
    assert s.text == "Simulated answer to: hello stream" and chunks[0].endpoint == "vertex-eu"
    assert [location_of(r) for r in sim.requests] == ["us-east5", "europe-west1", "us-east5", "europe-west1"]
    assert all("/publishers/anthropic/models/claude-sonnet-4-5@20250929:" in r.path for r in sim.requests)
    assert len(creds.issued) == 1  # one token for both locations
    assert {r.headers["authorization"] for r in sim.requests} == {f"Bearer {creds.issued[0]}"}


async def test_a_stream_cut_before_its_first_chunk_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(drop="before_first_chunk"))
    async with claude(sim) as m:
        s, _ = await streamed(m, "hello")
    assert s.text == "Simulated answer to: hello" and s.finish_reason == "stop" and len(sim.requests) == 2


@pytest.mark.parametrize(
    "fault",
    [Fault(drop="after_first_chunk"), Fault(truncate_stream=True, after_chunks=1)],
)
async def test_a_stream_cut_after_its_first_chunk_is_not_failed_over(sim: Simulator, fault: Fault) -> None:
    sim.enqueue(fault)
    async with claude(sim, backups=[{"location": "europe-west1"}]) as m:
        received: list[Any] = []
        with pytest.raises(StreamInterruptedError) as info:
            async for chunk in m.stream_answer("one two three four five six"):
                received.append(chunk)
    assert received and info.value.partial_text == "".join(c.text for c in received)
    assert info.value.partial_text.startswith("Simulated")
    assert len(sim.requests) == 1


# -- errors ---------------------------------------------------------------------------------------


async def test_a_rejected_token_never_shows_in_the_error() -> None:
    async with Simulator(api_key="the-only-good-token-000000") as sim:
        creds = Credentials()
        async with claude(sim, credentials=creds) as m:
            with pytest.raises(AuthenticationError) as info:
                await m.get_answer("hi")
    (token,) = creds.issued
    error = info.value
    assert error.status == 401 and error.code == "UNAUTHENTICATED"  # Google's envelope
    for text in (str(error), repr(error), str(error.body)):
        assert token not in text and TOKEN[5:20] not in text


async def test_anthropic_error_bodies_are_typed(sim: Simulator) -> None:
    async with claude(sim) as m:
        with pytest.raises(NotFoundError) as info:
            await m.get_answer("hi", model="gpt-4o")  # not a Claude model: Anthropic's not_found_error
    assert info.value.code == "not_found_error" and info.value.request_id == "req_vrtx_sim_000001"
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert sim.requests[0].path.endswith("/models/gpt-4o:rawPredict")


async def test_the_simulator_refuses_anthropic_api_bodies(sim: Simulator) -> None:
    """The Vertex route is strict: the Anthropic API's body (with ``model``) or a missing
    ``anthropic_version`` is a 400 (so the tests above would catch a wrong body)."""
    import aiohttp

    url = sim.url + MODEL_PATH.format(location="us-east5", model="claude-sonnet-4-5@20250929") + ":rawPredict"
    base = {"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        for body in (
            {**base, "model": "claude-sonnet-4-5", "anthropic_version": "vertex-2023-10-16"},
            base,
            {**base, "anthropic_version": "bedrock-2023-05-31"},
        ):
            async with session.post(url, json=body, headers=headers) as response:
                assert response.status == 400
                assert (await response.json())["type"] == "error"
        async with session.post(url, json=base) as response:
            assert response.status == 401 and (await response.json())["error"]["status"] == "UNAUTHENTICATED"


# -- the recorded Vertex stream, through the Vertex path --------------------------------------------


async def test_recorded_vertex_stream_end_to_end() -> None:
    name = "anthropic/vertex-rawpredict-stream-thinking.sse"
    headers = recorded_headers(name, "text/event-stream")
    headers["Content-Type"] = "text/event-stream"
    headers["request-id"] = sidecar(name)["response"]["headers"]["request-id"]
    question = "How many primes below 400 contain 79 as a substring?"
    async with ReplayServer(wire_bytes(name), headers=headers, seed=3) as server:
        m = create_llm(
            "vertex/claude-haiku-4-5",
            project="dummy-gcp-project",
            location="us-east5",
            endpoint=server.url,
            token_provider=lambda: TOKEN,
        )
        async with m:
            chunks = [c async for c in m.stream_answer(question, max_tokens=16000, thinking=8000)]
    acc = accumulate(chunks)
    assert acc.text == "3" and acc.finish_reason == "stop" and acc.model == "claude-haiku-4-5-20251001"
    assert acc.usage == Usage(input_tokens=66, output_tokens=2206)
    assert chunks[0].request_id == "req_vrtx_011CUrxNLXd68mKPzidkmWDz"
    assert chunks[-1].cost == pytest.approx((66 * 1.0 + 2206 * 5.0) / 1e6)
    blocks = chunks[-1].raw["content"]
    assert blocks[0]["type"] == "thinking" and blocks[0]["signature"]
    (request,) = server.requests
    recorded = json.loads(sidecar(name)["request"]["body"])
    assert request["path"] == (
        "/v1/projects/dummy-gcp-project/locations/us-east5/publishers/anthropic/models/"
        "claude-haiku-4-5@20251001:streamRawPredict"
    )
    assert request["json"] == {**recorded, "messages": [{"role": "user", "content": question}]}
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"


async def test_betas_travel_in_the_header(sim: Simulator) -> None:
    async with claude(sim) as m:
        await m.get_answer("hi", betas=["context-1m-2025-08-07"])
    (request,) = sim.requests
    assert request.headers["anthropic-beta"] == "context-1m-2025-08-07"
    assert "anthropic_beta" not in request.json and "betas" not in request.json
