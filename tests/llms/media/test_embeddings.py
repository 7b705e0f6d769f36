"""Embeddings end to end: ``embed`` through the real FailoverConnector against the simulator's
embeddings routes (OpenAI and Azure), batching, decoding, usage and cost; and the routes themselves."""

from __future__ import annotations

import base64
import math
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from core.llms import create_llm
from core.llms.interfaces import (
    BadRequestError,
    InvalidInputError,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
)
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.openai.media import embeddings as embeddings_module
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.embeddings_routes import embedding_vector

FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}
PRICE_SMALL = 0.02 / 1_000_000


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key="k") as simulator:
        yield simulator


def embedder(sim: Simulator, name: str = "text-embedding-3-small", **kw: Any) -> BaseLLM:
    kw.setdefault("retry", FAST)
    return create_llm(f"openai/{name}", api_key="k", endpoint=sim.url + "/v1", **kw)


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[BaseLLM]:
    async with embedder(sim) as m:
        yield m


def expected(text: str, dimensions: int) -> tuple[float, ...]:
    return embedding_vector(text.encode(), dimensions)


def sim_tokens(text: str) -> int:
    """The simulator's count (about four characters a token, at least one)."""
    return max(1, math.ceil(len(text) / 4))


def embedding_requests(sim: Simulator) -> list[Any]:
    return [r for r in sim.requests if r.path.endswith("/embeddings")]


# -- results --------------------------------------------------------------------------------------


async def test_one_text_gets_one_unit_vector_of_the_model_size(sim: Simulator, model: BaseLLM) -> None:
    response = await model.embed("hello world")

    [vector] = response.vectors
    assert len(vector) == 1536
    assert vector == pytest.approx(expected("hello world", 1536), abs=1e-6)
    assert math.fsum(x * x for x in vector) == pytest.approx(1.0, abs=1e-5)
    assert (response.model, response.provider) == ("text-embedding-3-small", "openai")
    assert response.endpoint == sim.url + "/v1" and response.request_id == "req_sim_000001"
    assert response.latency is not None and response.latency > 0
    [request] = sim.requests
    assert request.json == {
        "model": "text-embedding-3-small",
        "input": ["hello world"],
        "encoding_format": "base64",
    }


async def test_base64_and_float_answers_decode_to_the_same_vectors(sim: Simulator, model: BaseLLM) -> None:
    texts = ["alpha", "beta", "gamma"]
    packed = await model.embed(texts, dimensions=64)
    plain = await model.embed(texts, dimensions=64, encoding_format="float")

    assert [r.json["encoding_format"] for r in sim.requests] == ["base64", "float"]
    for a, b, text in zip(packed.vectors, plain.vectors, texts, strict=True):
        assert a == pytest.approx(b, abs=1e-6)  # float32 on the wire: equal to about 7 digits
        assert b == pytest.approx(expected(text, 64), abs=1e-12)
    assert all(type(x) is float for x in packed.vectors[0])


def test_base64_is_read_as_little_endian_float32() -> None:
    values = [1.0, -0.5, 0.25, 3.0]
    encoded = base64.b64encode(struct.pack("<4f", *values)).decode()
    assert embeddings_module._decode(encoded) == values
    assert embeddings_module._decode("not base64!") is None
    assert embeddings_module._decode(base64.b64encode(b"12345").decode()) is None  # not whole floats


async def test_dimensions_are_sent_and_honoured(sim: Simulator) -> None:
    async with embedder(sim, "text-embedding-3-large") as large:
        full = await large.embed("x")
        short = await large.embed("x", dimensions=256)

    assert len(full.vectors[0]) == 3072 and len(short.vectors[0]) == 256
    assert sim.requests[1].json["dimensions"] == 256
    # a shortened vector is the start of the full one, normalised again (as text-embedding-3's)
    head = full.vectors[0][:256]
    norm = math.sqrt(math.fsum(x * x for x in head))
    assert short.vectors[0] == pytest.approx([x / norm for x in head], abs=1e-5)


@pytest.mark.parametrize(
    ("name", "dimensions", "message"),
    [
        ("text-embedding-ada-002", 512, "not supported by text-embedding-ada-002"),
        ("text-embedding-3-small", 1537, "from 1 to 1536"),
        ("text-embedding-3-large", 0, "from 1 to 3072"),
        ("text-embedding-3-small", True, "from 1 to 1536"),
        ("text-embedding-3-small", "256", "from 1 to 1536"),
    ],
)
async def test_bad_dimensions_are_refused_before_sending(
    sim: Simulator, name: str, dimensions: Any, message: str
) -> None:
    async with embedder(sim, name) as m:
        with pytest.raises(InvalidInputError, match=message) as caught:
            await m.embed("x", dimensions=dimensions)
    assert caught.value.model == name
    assert sim.request_count == 0


async def test_ada_002_embeds_without_dimensions(sim: Simulator) -> None:
    async with embedder(sim, "text-embedding-ada-002") as ada:
        response = await ada.embed(["a", "b"])
    assert [len(v) for v in response.vectors] == [1536, 1536]
    assert "dimensions" not in sim.requests[0].json
    assert response.cost == pytest.approx(2 * 0.10 / 1_000_000)


# -- batching -------------------------------------------------------------------------------------


async def test_more_than_2048_inputs_go_in_several_batches_and_come_back_in_order(
    sim: Simulator, model: BaseLLM
) -> None:
    texts = [f"text number {i}" for i in range(5000)]
    response = await model.embed(texts, dimensions=8)

    batches = [r.json["input"] for r in embedding_requests(sim)]
    assert sorted(len(b) for b in batches) == [904, 2048, 2048]
    assert sorted(t for b in batches for t in b) == sorted(texts)
    assert len(response.vectors) == 5000
    for i in (0, 1, 2047, 2048, 2049, 4095, 4096, 4999):
        assert response.vectors[i] == pytest.approx(expected(texts[i], 8), abs=1e-6), i
    total = sum(sim_tokens(t) for t in texts)
    assert response.usage is not None and response.usage.input_tokens == total
    assert response.cost == pytest.approx(total * PRICE_SMALL)


async def test_long_inputs_are_batched_by_tokens(sim: Simulator, model: BaseLLM) -> None:
    texts = [chr(ord("a") + i % 26) * 30_000 for i in range(40)]  # ~7,500 tokens each
    response = await model.embed(texts, dimensions=4)

    sizes = [len(r.json["input"]) for r in embedding_requests(sim)]
    assert sum(sizes) == 40 and len(sizes) >= 2  # 300,000 tokens a request at most
    assert response.vectors[39] == pytest.approx(expected(texts[39], 4), abs=1e-6)


async def test_batches_are_sent_a_few_at_a_time(sim: Simulator, model: BaseLLM) -> None:
    sim.set_default_fault(Fault(delay=0.2))
    started = time.monotonic()
    await model.embed([f"t{i}" for i in range(2048 * 8)], dimensions=2)
    elapsed = time.monotonic() - started

    assert len(embedding_requests(sim)) == 8
    assert 0.4 <= elapsed < 1.5  # 8 batches of 0.2 s, four at a time: two rounds, not eight


async def test_an_error_on_one_batch_fails_the_call_with_its_typed_error(
    sim: Simulator, model: BaseLLM
) -> None:
    sim.enqueue(Fault(status=400, message="bad batch"))
    with pytest.raises(BadRequestError, match="bad batch") as caught:
        await model.embed([f"t{i}" for i in range(5000)], dimensions=4)

    assert caught.value.model == "text-embedding-3-small"
    assert caught.value.status == 400


async def test_a_batch_that_fails_for_good_fails_the_call(sim: Simulator) -> None:
    sim.set_default_fault(Fault(status=503))
    async with embedder(sim, retry={"max_retries": 0}) as m:
        with pytest.raises(ServiceUnavailableError):
            await m.embed([f"t{i}" for i in range(3000)], dimensions=4)


async def test_a_transient_error_on_a_batch_is_retried(sim: Simulator, model: BaseLLM) -> None:
    sim.enqueue(Fault(status=500))
    response = await model.embed([f"t{i}" for i in range(3000)], dimensions=4)

    assert len(response.vectors) == 3000
    assert len(embedding_requests(sim)) == 3  # two batches, one of them sent twice


async def test_vectors_are_placed_by_their_index_not_their_position(sim: Simulator, model: BaseLLM) -> None:
    body = {
        "object": "list",
        "data": [{"index": 1, "embedding": [0.0, 1.0]}, {"index": 0, "embedding": [1.0, 0.0]}],
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    sim.enqueue(Fault(status=200, body=body))
    response = await model.embed(["first", "second"])

    assert response.vectors == [[1.0, 0.0], [0.0, 1.0]]
    assert response.usage is not None and response.usage.input_tokens == 2


async def test_an_unreadable_answer_is_a_parsing_error(sim: Simulator, model: BaseLLM) -> None:
    body = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": "!!"}], "usage": {}}
    sim.enqueue(Fault(status=200, body=body))
    with pytest.raises(ResponseParsingError, match="unreadable vector"):
        await model.embed("x")
    sim.enqueue(Fault(status=200, body={"object": "list", "data": [], "usage": {}}))
    with pytest.raises(ResponseParsingError, match="0 vectors for 1 inputs"):
        await model.embed("x")


async def test_the_timeout_bounds_the_whole_call(sim: Simulator, model: BaseLLM) -> None:
    sim.set_default_fault(Fault(delay=5))
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await model.embed([f"t{i}" for i in range(3000)], dimensions=4, timeout=0.3)
    assert time.monotonic() - started < 0.3 + 0.3


# -- input, checked before anything is sent -------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([], "empty"),
        (["ok", 3], r"texts\[1\] must be a string, not int"),
        (["ok", ""], r"texts\[1\] is an empty string"),
        (b"bytes", "must be a string or a sequence of strings"),
        (None, "must be a string or a sequence of strings"),
        (["ok", "x" * 40_000], r"texts\[1\] is ~10,000 tokens"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    sim: Simulator, model: BaseLLM, texts: Any, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        await model.embed(texts)
    assert caught.value.provider == "openai"
    assert sim.request_count == 0


@pytest.mark.parametrize(
    "params",
    [{"encoding_format": "int8"}, {"user": 5}, {"timeout": 0}, {"read_timeout": "1"}, {"temperature": 0.2}],
)
async def test_bad_parameters_are_refused_before_sending(
    sim: Simulator, model: BaseLLM, params: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError, match=next(iter(params))):
        await model.embed("x", **params)
    assert sim.request_count == 0


async def test_user_and_defaults_are_sent(sim: Simulator) -> None:
    async with embedder(sim, defaults={"dimensions": 16, "user": "u-1"}) as m:
        response = await m.embed("x")
        await m.embed("y", dimensions=None)  # None removes a default

    assert len(response.vectors[0]) == 16
    assert sim.requests[0].json["user"] == "u-1" and sim.requests[0].json["dimensions"] == 16
    assert "dimensions" not in sim.requests[1].json


# -- Azure ----------------------------------------------------------------------------------------


async def test_the_azure_deployment_route(sim: Simulator) -> None:
    async with create_llm(
        "azure/text-embedding-3-small", api_key="k", endpoint=sim.url, api_version="2024-10-21"
    ) as m:
        response = await m.embed(["a", "b"], dimensions=32)

    [request] = sim.requests
    assert request.path == "/openai/deployments/text-embedding-3-small/embeddings"
    assert request.query == {"api-version": "2024-10-21"}
    assert request.headers["api-key"] == "k"
    assert response.provider == "azure" and response.endpoint == sim.url
    assert response.vectors[1] == pytest.approx(expected("b", 32), abs=1e-6)


async def test_the_azure_v1_route(sim: Simulator) -> None:
    async with create_llm(
        "azure/text-embedding-3-large", api_key="k", endpoint=sim.url, api_version="v1"
    ) as m:
        response = await m.embed("a")
    assert sim.requests[0].path == "/openai/v1/embeddings"
    assert len(response.vectors[0]) == 3072


# -- the simulator's route ------------------------------------------------------------------------


async def test_the_simulator_refuses_what_the_api_refuses(sim: Simulator) -> None:
    url = sim.url + "/v1/embeddings"
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session:
        cases = [
            ({"model": "text-embedding-3-small", "input": ["x"] * 2049}, "max number of inputs is 2048"),
            ({"model": "text-embedding-3-small", "input": []}, "'$.input' is invalid"),
            ({"model": "text-embedding-3-small", "input": [""]}, "'$.input' is invalid"),
            ({"model": "text-embedding-ada-002", "input": "x", "dimensions": 8}, "does not support"),
            ({"model": "text-embedding-3-small", "input": "x", "dimensions": 2000}, "between 1 and 1536"),
            ({"model": "text-embedding-3-small", "input": "x" * 40_000}, "maximum context length"),
            ({"model": "text-embedding-3-small", "input": [[0] * 8000] * 38}, "max 300000 tokens"),
            (
                {"model": "text-embedding-3-small", "input": "x", "encoding_format": "hex"},
                "'float' and 'base64'",
            ),
            ({"input": "x"}, "model parameter"),
        ]
        for body, message in cases:
            async with session.post(url, json=body) as resp:
                assert resp.status == 400, body
                assert message in (await resp.json())["error"]["message"]
        async with session.post(url, json={"model": "m", "input": [[1, 2, 3], [4]]}) as resp:
            answer = await resp.json()
        assert [len(d["embedding"]) for d in answer["data"]] == [1536, 1536]
        assert answer["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
