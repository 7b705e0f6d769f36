"""Cohere models end to end against the simulator's v2 routes, through the real FailoverConnector:
chat (whole and streamed), tools round trip, structured output, RAG citations, reasoning,
embed batching, rerank ordering, failover, cut streams and errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import model_classes
import pytest
from model_classes import model_class
from openai_testkit import accumulate
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    Message,
    RateLimitError,
    ServiceUnavailableError,
    StreamInterruptedError,
    Usage,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.cohere import CohereAdapter
from core.llms.providers.dialects.cohere_v2 import citations_of, tool_plan_of
from core.llms.simulator import Fault, Simulator

CommandA = model_class("cohere/command-a-03-2025")
CommandR7B = model_class("cohere/command-r7b-12-2024")
Reasoning = model_class("cohere/command-a-reasoning-08-2025")
EmbedV4 = model_class("cohere/embed-v4.0")
EmbedV3 = model_class("cohere/embed-english-v3.0")
Rerank = model_class("cohere/rerank-v3.5")

KEY = "co-sim-key-4f9a2b7c"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


class Weather(BaseModel):
    """Weather in a city."""

    city: str
    unit: str


class Person(BaseModel):
    name: str
    age: int


def connector(*urls: str, policy: RetryPolicy | None = FAST, key: str = KEY) -> FailoverConnector:
    primary = EndpointConfig(endpoint=urls[0], api_key=key)
    backups = [{"endpoint": u} for u in urls[1:]]
    return FailoverConnector.from_endpoints(CohereAdapter(), primary, backups, policy)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[Any]:
    async with CommandA(connector(sim.url)) as m:
        yield m


async def test_answer(sim: Simulator, model: Any) -> None:
    response = await model.get_answer(
        [Message.system("be brief"), Message.user("hello there")], max_tokens=50
    )
    assert response.text == "Simulated answer to: hello there"
    assert (response.finish_reason, response.provider, response.model) == (
        "stop",
        "cohere",
        "command-a-03-2025",
    )
    usage = response.raw["usage"]
    assert response.usage == Usage(
        usage["billed_units"]["input_tokens"], usage["billed_units"]["output_tokens"]
    )
    assert usage["tokens"]["input_tokens"] > response.usage.input_tokens  # billed, not every token
    assert response.cost == pytest.approx(model.cost(response.usage)) and response.cost > 0
    assert response.endpoint == sim.url and response.request_id == "cohere-sim-000001"
    (request,) = sim.requests
    assert request.path == "/v2/chat"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {
        "model": "command-a-03-2025",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}],
        "max_tokens": 50,
    }


async def test_stream(sim: Simulator, model: Any) -> None:
    chunks = [c async for c in model.stream_answer("stream these words please", temperature=0.1, top_p=0.5)]
    acc = accumulate(chunks)
    assert acc.text == "Simulated answer to: stream these words please"
    assert len([c for c in chunks if c.text]) > 3
    final = chunks[-1]
    assert final.finish_reason == "stop" and final.usage is not None and final.cost is not None
    assert final.raw["message"]["content"] == [{"type": "text", "text": acc.text}]
    assert chunks[0].endpoint == sim.url and chunks[0].request_id == "cohere-sim-000001"
    assert sim.requests[0].json["stream"] is True and sim.requests[0].json["p"] == 0.5


async def test_tools_round_trip(model: Any) -> None:
    messages: list[Any] = [Message.user("What's the weather in Oslo?")]
    first = await model.get_answer(messages, tools=[Weather], tool_choice="required")
    assert first.finish_reason == "tool_calls" and first.text == ""
    (call,) = first.tool_calls
    assert call.name == "Weather"
    Weather.model_validate_json(call.arguments)
    assert first.reasoning == tool_plan_of(first.raw) == "I will use Weather to answer this."
    messages.append(
        {"role": "assistant", "tool_calls": [call.to_dict()], "tool_plan": tool_plan_of(first.raw)}
    )
    messages.append(Message.tool(call.id, {"temperature": 3, "unit": "c"}))
    second = await model.get_answer(messages, tools=[Weather])
    assert second.finish_reason == "stop"
    assert second.text == 'Based on the tool result: {"temperature": 3, "unit": "c"}'


async def test_tools_streamed(model: Any) -> None:
    acc = accumulate(
        [c async for c in model.stream_answer("Use Weather and Person please", tools=[Weather, Person])]
    )
    assert acc.finish_reason == "tool_calls"
    assert [c.name for c in acc.tool_calls] == ["Weather", "Person"]
    assert len({c.id for c in acc.tool_calls}) == 2
    Person.model_validate_json(acc.tool_calls[1].arguments)
    assert tool_plan_of(acc.raw) == acc.to_response(model="m", provider="cohere").reasoning


async def test_a_tool_result_must_answer_a_tool_call(model: Any) -> None:
    with pytest.raises(BadRequestError, match="tool_call_id"):
        await model.get_answer([Message.user("x"), Message.tool("call_nobody_made", "42")])


async def test_structured_output(sim: Simulator, model: Any) -> None:
    response = await model.get_answer("Make up a person", response_format=Person)
    assert isinstance(response.parsed, Person)
    sent = sim.requests[0].json["response_format"]
    assert sent["type"] == "json_object" and sent["json_schema"]["required"] == ["name", "age"]
    loose = await model.get_answer("Make up a person as JSON", response_format={"type": "json_object"})
    assert isinstance(loose.parsed, dict)


async def test_documents_are_cited(sim: Simulator, model: Any) -> None:
    docs = [
        "Tall pines cover the northern hills of Norway.",
        {"title": "Birds", "snippet": "Puffins nest on cliffs"},
    ]
    response = await model.get_answer("What grows in the hills?", documents=docs)
    (citation,) = citations_of(response.raw)
    assert (
        response.text[citation["start"] : citation["end"]]
        == citation["text"]
        == "Tall pines cover the northern hills"
    )
    assert citation["sources"][0]["id"] == "doc:0"
    assert sim.requests[0].json["documents"] == [
        docs[0],
        {"data": {"title": "Birds", "snippet": "Puffins nest on cliffs"}},
    ]
    acc = accumulate([c async for c in model.stream_answer("What grows in the hills?", documents=docs)])
    assert acc.text == response.text and citations_of(acc.raw) == [citation]


async def test_reasoning_model_thinks(sim: Simulator) -> None:
    async with Reasoning(connector(sim.url)) as model:
        response = await model.get_answer(
            "why is the sky blue", thinking={"type": "enabled", "token_budget": 500}
        )
        chunks = [c async for c in model.stream_answer("why is the sky blue")]
        quiet = await model.get_answer("why is the sky blue", thinking=False)
    assert response.reasoning == "Simulated reasoning about: why is the sky blue"
    assert response.text == "Simulated answer to: why is the sky blue"
    acc = accumulate(chunks)
    assert acc.to_response(model="m", provider="cohere").reasoning == response.reasoning
    assert acc.text == response.text and acc.cost is None  # no public price
    first_text = next(i for i, c in enumerate(chunks) if c.text)
    assert all(c.reasoning for c in chunks[:first_text])
    assert quiet.reasoning is None
    assert sim.requests[0].json["thinking"] == {"type": "enabled", "token_budget": 500}


async def test_embed_batches_more_than_96_texts(sim: Simulator) -> None:
    texts = [f"document number {i}" for i in range(200)]
    async with EmbedV4(connector(sim.url)) as model:
        response = await model.embed(texts, input_type="search_document")
        singles = [await model.embed(t) for t in (texts[0], texts[150], texts[199])]
        short = await model.embed("short", output_dimension=256)
    assert len(response.vectors) == 200 and len(response.vectors[0]) == 1536
    assert [response.vectors[i] for i in (0, 150, 199)] == [s.vectors[0] for s in singles]  # order kept
    assert len({tuple(v) for v in response.vectors}) == 200
    batches = sim.requests[:3]
    assert sorted(len(r.json["texts"]) for r in batches) == [8, 96, 96]
    assert all(r.path == "/v2/embed" and r.json["embedding_types"] == ["float"] for r in batches)
    assert response.usage is not None and response.usage.input_tokens > 0
    assert response.cost == pytest.approx(response.usage.input_tokens * 0.12 / 1_000_000)
    assert len(short.vectors[0]) == 256


async def test_embed_images_on_v3(sim: Simulator) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    async with EmbedV3(connector(sim.url)) as model:
        response = await model.embed([png, png + b"\1"])
    assert len(response.vectors) == 2 and len(response.vectors[0]) == 1024
    assert [r.json["input_type"] for r in sim.requests] == ["image", "image"]


async def test_rerank_ordering(sim: Simulator) -> None:
    docs = ["Bananas are yellow.", "The capital of Norway is Oslo.", "Oslo has a fjord.", "Cats sleep a lot."]
    async with Rerank(connector(sim.url)) as model:
        response = await model.rerank("capital of Norway Oslo", docs, return_documents=True)
        top = await model.rerank("capital of Norway Oslo", docs, top_n=1)
    assert [r.index for r in response.results][:2] == [1, 2]
    scores = [r.relevance_score for r in response.results]
    assert scores == sorted(scores, reverse=True)
    assert response.results[0].document == docs[1]
    assert [r.index for r in top.results] == [1] and top.results[0].document is None
    assert response.cost == pytest.approx(0.002)
    assert sim.requests[1].json == {
        "model": "rerank-v3.5",
        "query": "capital of Norway Oslo",
        "documents": docs,
        "top_n": 1,
    }


async def test_failover_between_two_endpoints() -> None:
    async with Simulator(api_key=KEY) as broken, Simulator(api_key=KEY) as healthy:
        broken.set_default_fault(Fault(status=503))
        async with CommandA(connector(broken.url, healthy.url)) as model:
            response = await model.get_answer("are you there?")
            chunks = [c async for c in model.stream_answer("and streaming?")]
        async with EmbedV4(connector(broken.url, healthy.url)) as embedder:
            vectors = await embedder.embed(["a", "b"])
        async with Rerank(connector(broken.url, healthy.url)) as reranker:
            ranked = await reranker.rerank("a", ["a", "b"])
        assert broken.request_count >= 4 and healthy.request_count == 4
        backup = healthy.url
    assert response.endpoint == backup and response.text == "Simulated answer to: are you there?"
    assert chunks[0].endpoint == backup and accumulate(chunks).text == "Simulated answer to: and streaming?"
    assert vectors.endpoint == backup and ranked.endpoint == backup


@pytest.mark.parametrize(
    "fault",
    [
        Fault(drop="before_first_chunk"),
        Fault(truncate_stream=True, at="before_first_chunk"),
        Fault(error_event=True, at="before_first_chunk"),
    ],
)
async def test_stream_cut_before_its_first_chunk_is_retried(sim: Simulator, model: Any, fault: Fault) -> None:
    sim.enqueue(fault)
    acc = accumulate([c async for c in model.stream_answer("one two three")])
    assert acc.text == "Simulated answer to: one two three" and acc.finish_reason == "stop"
    assert sim.request_count == 2


@pytest.mark.parametrize("fault", [Fault(drop="after_first_chunk"), Fault(truncate_stream=True)])
async def test_stream_cut_after_its_first_chunk_keeps_partial_text(
    sim: Simulator, model: Any, fault: Fault
) -> None:
    sim.enqueue(fault)
    received = ""
    with pytest.raises(StreamInterruptedError) as info:
        async for chunk in model.stream_answer("one two three four five six seven eight"):
            received += chunk.text
    assert received and info.value.partial_text == received
    assert (info.value.model, info.value.endpoint) == ("command-a-03-2025", sim.url)
    assert sim.request_count == 1


async def test_error_event_mid_stream(sim: Simulator, model: Any) -> None:
    sim.enqueue(Fault(error_event=True, message="generation failed upstream"))
    with pytest.raises(StreamInterruptedError) as info:
        async for _ in model.stream_answer("one two three four"):
            pass
    assert isinstance(info.value.cause, ServiceUnavailableError)
    assert "generation failed upstream" in info.value.cause.message
    assert info.value.partial_text


async def test_error_in_a_200_body_is_retried(sim: Simulator, model: Any) -> None:
    sim.enqueue(Fault(error_event=True))
    response = await model.get_answer("patience")
    assert response.text == "Simulated answer to: patience" and sim.request_count == 2


async def test_rate_limit_then_success(sim: Simulator, model: Any) -> None:
    sim.enqueue(Fault(status=429, retry_after=0.01))
    response = await model.get_answer("patience")
    assert response.text == "Simulated answer to: patience"
    assert sim.request_count == 2 and sim.requests[0].json == sim.requests[1].json


async def test_rate_limit_error_shape(sim: Simulator) -> None:
    sim.set_default_fault(Fault(status=429, retry_after=3))
    async with CommandA(connector(sim.url, policy=RetryPolicy(max_retries=0))) as model:
        with pytest.raises(RateLimitError) as info:
            await model.get_answer("hi")
    assert info.value.retry_after == 3 and "Trial key" in info.value.message


async def test_wrong_key_and_echoed_key_never_show(sim: Simulator) -> None:
    wrong = "co-wrong-key-0123456789"
    async with CommandA(connector(sim.url, key=wrong)) as model:
        with pytest.raises(AuthenticationError) as info:
            await model.get_answer("hi")
    assert info.value.status == 401 and info.value.message == "invalid api token"
    assert sim.request_count == 1  # never retried
    sim.enqueue(Fault(status=401, message=f"invalid api token {KEY}"))
    async with CommandA(connector(sim.url)) as model:
        with pytest.raises(AuthenticationError) as info:
            await model.get_answer("hi")
    error = info.value
    for text in (str(error), repr(error), error.message, json.dumps(error.body)):
        assert KEY not in text and KEY[-8:] not in text


async def test_context_window_from_the_server() -> None:
    async with Simulator(api_key=KEY, context_chars=50) as small:
        async with CommandR7B(connector(small.url)) as model:
            with pytest.raises(ContextWindowExceededError) as info:
                await model.get_answer("word " * 40)
        assert small.request_count == 1
    assert info.value.status == 400 and "too many tokens" in info.value.message


async def test_through_the_factory_with_a_backup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CO_API_KEY", KEY)
    async with Simulator(api_key=KEY) as down, Simulator(api_key=KEY) as up:
        down.set_default_fault(Fault(drop="before_headers"))
        llm = create_llm(
            "cohere/command-r7b-12-2024",
            endpoint=down.url,
            backups=[{"endpoint": f"{up.url}/v2"}],
            retry={"max_retries": 0},
            registry=model_classes.test_registry(),
        )
        async with llm:
            response = await llm.get_answer("hi from the factory", stop="END", top_k=5)
        assert up.requests[0].path == "/v2/chat"
        assert up.requests[0].json["stop_sequences"] == ["END"] and up.requests[0].json["k"] == 5
    assert response.text == "Simulated answer to: hi from the factory"
