"""Embeddings on the Gemini API and Vertex AI (``core.llms.providers.gemini.media.embeddings``):
request bodies, batching with the order kept, refusals before anything is sent, usage and cost;
end to end through the real adapters and connector against the simulator."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_gemini_media_kit import KEY, TOKEN, Scripted, make_model, row, sim_model, wire

from core.llms.interfaces import InvalidInputError, ResponseParsingError, ServiceUnavailableError, WireRequest
from core.llms.providers.gemini.media import embeddings as embeddings_module
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.embeddings_routes import embedding_vector


def texts_of(request: WireRequest) -> list[str]:
    payload = request.payload
    if request.operation == "embed":
        return [payload["content"]["parts"][0]["text"]]
    if request.operation == "batch_embed":
        return [item["content"]["parts"][0]["text"] for item in payload["requests"]]
    return [instance["content"] for instance in payload["instances"]]


def echo(request: WireRequest) -> Any:
    """An answer whose vector for each text is [its number] (the texts are "t<number>")."""
    vectors = [[float(text.split()[0][1:])] for text in texts_of(request)]
    if request.operation == "embed":
        return wire({"embedding": {"values": vectors[0]}})
    if request.operation == "batch_embed":
        return wire({"embeddings": [{"values": v} for v in vectors]})
    predictions = [{"embeddings": {"values": v, "statistics": {"token_count": 2.0}}} for v in vectors]
    billable = sum(len(t) for t in texts_of(request))
    return wire({"predictions": predictions, "metadata": {"billableCharacterCount": billable}})


def scripted(
    name: str = "gemini-embedding-001", provider: str = "gemini", answers: Any = None, **defaults: Any
):
    connector = Scripted(answers if answers is not None else [echo] * 100)
    return make_model(row(name, provider), connector, defaults or None), connector


# -- the Gemini API ---------------------------------------------------------------------------


async def test_one_text_is_an_embed_content_request() -> None:
    model, connector = scripted()
    result = await model.embed("t7", task_type="retrieval_query", dimensions=768)
    (request,) = connector.requests
    assert (request.operation, request.model) == ("embed", "gemini-embedding-001")
    assert request.payload == {
        "content": {"parts": [{"text": "t7"}]},
        "taskType": "RETRIEVAL_QUERY",
        "outputDimensionality": 768,
    }
    assert result.vectors == [[7.0]]
    assert (result.model, result.provider, result.usage, result.cost) == (
        "gemini-embedding-001",
        "gemini",
        None,
        None,
    )


async def test_many_texts_are_batches_of_100_in_input_order() -> None:
    model, connector = scripted()
    texts = [f"t{i}" for i in range(250)]
    result = await model.embed(texts, task_type="RETRIEVAL_DOCUMENT", title="Manual")
    assert [len(texts_of(r)) for r in connector.requests] == [100, 100, 50]
    assert all(r.operation == "batch_embed" for r in connector.requests)
    assert connector.requests[0].payload["requests"][0] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "t0"}]},
        "taskType": "RETRIEVAL_DOCUMENT",
        "title": "Manual",
    }
    assert result.vectors == [[float(i)] for i in range(250)]


async def test_batches_run_four_at_a_time_and_keep_the_order() -> None:
    in_flight = peak = 0

    async def slow(request: WireRequest) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01 if texts_of(request)[0] != "t0" else 0.03)  # the first batch ends last
        in_flight -= 1
        return echo(request)

    class Slow(Scripted):
        async def send(self, request: WireRequest, ctx: Any = None) -> Any:
            self.requests.append(request)
            return await slow(request)

    model = make_model(row("gemini-embedding-001"), Slow())
    result = await model.embed([f"t{i}" for i in range(1000)])
    assert peak == embeddings_module.CONCURRENCY
    assert result.vectors == [[float(i)] for i in range(1000)]


async def test_a_failing_batch_fails_the_call() -> None:
    answers = [echo, ServiceUnavailableError("overloaded", status=503), echo]
    model, _ = scripted(answers=answers)
    with pytest.raises(ServiceUnavailableError, match="overloaded"):
        await model.embed([f"t{i}" for i in range(300)])


@pytest.mark.parametrize(
    ("texts", "params", "words"),
    [
        ([], {}, ["empty"]),
        ("", {}, ["texts[0] is empty"]),
        (["t1", 2], {}, ["texts[1]", "int"]),
        (b"t1", {}, ["bytes"]),
        (["t1", "x" * (2_048 * 4 + 8)], {}, ["texts[1]", "2,048"]),
        (["t1"], {"task_type": "search"}, ["task_type", "RETRIEVAL_QUERY"]),
        (["t1"], {"dimensions": 4096}, ["dimensions=4096", "1 to 3072"]),
        (["t1"], {"output_dimensionality": 0}, ["dimensions=0"]),
        (["t1"], {"title": "x"}, ["title", "RETRIEVAL_DOCUMENT"]),
        (["t1"], {"auto_truncate": False}, ["auto_truncate", "Vertex AI only"]),
        (["t1"], {"encoding_format": "float"}, ["unknown parameter 'encoding_format'"]),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    texts: Any, params: dict[str, Any], words: list[str]
) -> None:
    model, connector = scripted()
    with pytest.raises(InvalidInputError) as caught:
        await model.embed(texts, **params)
    for word in words:
        assert word in str(caught.value)
    assert connector.requests == []


@pytest.mark.parametrize(
    "answer",
    [
        {"embeddings": [{"values": [1.0]}]},  # one vector for two texts
        {"embeddings": [{"values": [1.0]}, {"values": []}]},
        {"embeddings": [{"values": [1.0]}, "x"]},
        {"predictions": []},
        ["x"],
    ],
)
async def test_an_unreadable_answer_is_a_parsing_error(answer: Any) -> None:
    model, _ = scripted(answers=[wire(answer)])
    with pytest.raises(ResponseParsingError):
        await model.embed(["t1", "t2"])


# -- Vertex AI ----------------------------------------------------------------------------------


async def test_vertex_text_embeddings_are_predict_requests_with_usage_and_character_cost() -> None:
    model, connector = scripted("text-embedding-005", "vertex")
    result = await model.embed(["t1", "t22"], task_type="CLASSIFICATION", dimensions=256, auto_truncate=False)
    (request,) = connector.requests
    assert (request.operation, request.model) == ("predict", "text-embedding-005")
    assert request.payload == {
        "instances": [
            {"content": "t1", "task_type": "CLASSIFICATION"},
            {"content": "t22", "task_type": "CLASSIFICATION"},
        ],
        "parameters": {"outputDimensionality": 256, "autoTruncate": False},
    }
    assert result.vectors == [[1.0], [22.0]]
    assert result.usage is not None and result.usage.input_tokens == 4
    assert result.cost == pytest.approx(5 * 0.025 / 1e6)  # 5 billable characters


async def test_vertex_batches_hold_250_texts_and_20000_tokens() -> None:
    model, connector = scripted("text-embedding-005", "vertex")
    await model.embed([f"t{i}" for i in range(600)])
    assert [len(texts_of(r)) for r in connector.requests] == [250, 250, 100]
    connector.requests.clear()
    long = [f"t{i}" + " word" * 1_600 for i in range(20)]  # ~2,700 tokens each, counted generously
    await model.embed(long)
    sizes = [len(texts_of(r)) for r in connector.requests]
    assert sum(sizes) == 20 and sizes[0] == math.floor(20_000 / (len(long[0]) // 3 + 1)) == 7


async def test_gemini_embedding_on_vertex_sends_one_text_a_request() -> None:
    model, connector = scripted("gemini-embedding-001", "vertex")
    result = await model.embed(["t1", "t2", "t3"])
    assert [texts_of(r) for r in connector.requests] == [["t1"], ["t2"], ["t3"]]
    assert result.vectors == [[1.0], [2.0], [3.0]]
    assert result.usage is not None and result.cost == pytest.approx(6 * 0.15 / 1e6)  # by tokens


# -- end to end: the simulator ----------------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


async def test_gemini_api_embed_and_batch_embed(sim: Simulator) -> None:
    texts = [f"sentence number {i}" for i in range(150)]
    async with sim_model(sim.url, "gemini-embedding-001") as model:
        one = await model.embed("hello world")
        many = await model.embed(texts, dimensions=256, task_type="SEMANTIC_SIMILARITY")
    assert one.vectors[0] == pytest.approx(list(embedding_vector(b"hello world", 3072)))
    assert len(many.vectors) == 150 and all(len(v) == 256 for v in many.vectors)
    assert many.vectors[149] == pytest.approx(list(embedding_vector(texts[149].encode(), 256)))
    paths = [r.path for r in sim.requests]
    assert paths == [
        "/v1beta/models/gemini-embedding-001:embedContent",
        "/v1beta/models/gemini-embedding-001:batchEmbedContents",
        "/v1beta/models/gemini-embedding-001:batchEmbedContents",
    ]
    assert sorted(len(r.json["requests"]) for r in sim.requests[1:]) == [50, 100]


async def test_vertex_text_embedding_005(sim: Simulator) -> None:
    async with Simulator(api_key=TOKEN) as vertex_sim:
        async with sim_model(vertex_sim.url, "text-embedding-005", vertex=True, token=TOKEN) as model:
            result = await model.embed(["alpha", "beta gamma"], task_type="RETRIEVAL_DOCUMENT", title="Doc")
        (request,) = vertex_sim.requests
    assert (
        request.path
        == "/v1/projects/proj/locations/us-central1/publishers/google/models/text-embedding-005:predict"
    )
    assert request.json["instances"][1] == {
        "content": "beta gamma",
        "task_type": "RETRIEVAL_DOCUMENT",
        "title": "Doc",
    }
    assert result.vectors[0] == pytest.approx(list(embedding_vector(b"alpha", 768)))
    assert result.usage is not None and result.usage.input_tokens == 2 + 3
    assert result.cost == pytest.approx(15 * 0.025 / 1e6)


async def test_a_batch_is_retried_after_a_503(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with sim_model(sim.url, "gemini-embedding-001") as model:
        result = await model.embed(["a", "b"])
    assert len(result.vectors) == 2 and len(sim.requests) == 2
