"""Cohere embed and rerank against an in-memory connector that answers from the request:
batching and order, parameters, usage and cost, and what is refused before anything is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import wire_response

from core.llms.interfaces import (
    ImagePart,
    InvalidInputError,
    RateLimitError,
    RequestContext,
    ResponseParsingError,
    Usage,
    WireRequest,
    WireResponse,
)
from core.llms.providers.cohere.embed import MAX_TEXTS

EmbedV4 = model_class("cohere/embed-v4.0")
EmbedV3 = model_class("cohere/embed-english-v3.0")
Rerank = model_class("cohere/rerank-v3.5")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


class AnsweringConnector:
    """Answers each request with ``answer(payload)``; records requests, in flight at most."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any]) -> None:
        self.answer = answer
        self.requests: list[WireRequest] = []
        self.endpoints = ["https://api.cohere.test"]
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001 * (len(self.requests) % 3))  # answers arrive out of order
            result = self.answer(request.payload)
            if isinstance(result, Exception):
                raise result
            return wire_response(result, endpoint=self.endpoints[0], request_id=f"trace-{len(self.requests)}")
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        pass


def embeddings(payload: dict[str, Any]) -> dict[str, Any]:
    items = payload.get("texts") or payload.get("images")
    vectors = [[float(len(payload.get("texts") or [])), float(hash(t) % 1000)] for t in items]
    billed = (
        {"input_tokens": len(items)} if "texts" in payload else {"images": len(items), "image_tokens": 10}
    )
    return {"id": "e", "embeddings": {"float": vectors}, "meta": {"billed_units": billed}}


def by_text(payload: dict[str, Any]) -> dict[str, Any]:
    """Each text's vector is its number: ``"t17"`` → ``[17.0]``."""
    vectors = [[float(t[1:])] for t in payload["texts"]]
    return {
        "id": "e",
        "embeddings": {"float": vectors},
        "meta": {"billed_units": {"input_tokens": 2 * len(vectors)}},
    }


async def test_batches_of_96_keep_the_order() -> None:
    connector = AnsweringConnector(by_text)
    texts = [f"t{i}" for i in range(250)]
    response = await EmbedV4(connector).embed(texts)
    assert [v[0] for v in response.vectors] == [float(i) for i in range(250)]
    assert sorted(len(r.payload["texts"]) for r in connector.requests) == [58, MAX_TEXTS, MAX_TEXTS]
    assert connector.most_in_flight <= 4
    assert response.usage == Usage(input_tokens=500)
    assert response.cost == pytest.approx(500 * 0.12 / 1_000_000)
    assert response.endpoint == "https://api.cohere.test" and response.request_id is not None
    for request in connector.requests:
        assert request.operation == "embed" and request.model == "embed-v4.0"
        assert request.payload["input_type"] == "search_document"
        assert request.payload["embedding_types"] == ["float"]


async def test_parameters() -> None:
    connector = AnsweringConnector(embeddings)
    model = EmbedV4(connector, defaults={"input_type": "search_query", "truncate": "end"})
    await model.embed("one", output_dimension=512, max_tokens=100)
    await model.embed(["two"], dimensions=256, input_type="clustering", model="embed-v4.0-custom", timeout=9)
    first, second = (r.payload for r in connector.requests)
    assert first == {
        "model": "embed-v4.0",
        "texts": ["one"],
        "input_type": "search_query",
        "embedding_types": ["float"],
        "output_dimension": 512,
        "truncate": "END",
        "max_tokens": 100,
    }
    assert (second["input_type"], second["output_dimension"], second["model"]) == (
        "clustering",
        256,
        "embed-v4.0-custom",
    )
    assert connector.requests[1].model_fixed and connector.requests[1].total_timeout is not None


@pytest.mark.parametrize(
    ("model_cls", "texts", "params", "fragment"),
    [
        (EmbedV4, [], {}, "texts is empty"),
        (EmbedV4, ["a", ""], {}, "texts[1] is an empty string"),
        (EmbedV4, 5, {}, "texts must be a string"),
        (EmbedV4, ["a"], {"input_type": "query"}, "input_type='query'"),
        (EmbedV4, ["a"], {"output_dimension": 300}, "output_dimension=300"),
        (EmbedV4, ["a"], {"dimensions": 256, "output_dimension": 256}, "only one of"),
        (EmbedV3, ["a"], {"output_dimension": 512}, "output_dimension is for embed-v4.0"),
        (EmbedV4, ["a"], {"truncate": "MIDDLE"}, "truncate="),
        (EmbedV4, ["a"], {"encoding_format": "base64"}, "unknown parameter 'encoding_format'"),
        (EmbedV4, ["a", PNG], {}, "texts or images, not both"),
        (EmbedV4, [ImagePart(url="https://example.com/cat.png")], {}, "not by URL"),
        (EmbedV4, ["a"], {"timeout": -1}, "timeout=-1"),
    ],
)
async def test_refused_before_sending(
    model_cls: Any, texts: Any, params: dict[str, Any], fragment: str
) -> None:
    connector = AnsweringConnector(embeddings)
    with pytest.raises(InvalidInputError) as info:
        await model_cls(connector).embed(texts, **params)
    assert fragment in str(info.value)
    assert connector.requests == []


async def test_images() -> None:
    connector = AnsweringConnector(embeddings)
    response = await EmbedV3(connector).embed([PNG, ImagePart(data=PNG, media_type="image/png")])
    assert len(response.vectors) == 2 and len(connector.requests) == 2  # v3: one image per request
    payload = connector.requests[0].payload
    assert payload["images"][0].startswith("data:image/png;base64,") and "texts" not in payload
    assert payload["input_type"] == "image"
    assert response.usage == Usage(input_tokens=20) and response.cost is None  # image tokens: no price here
    connector = AnsweringConnector(embeddings)
    await EmbedV4(connector).embed([PNG] * 3)
    assert len(connector.requests) == 1 and connector.requests[0].payload["input_type"] == "search_document"


@pytest.mark.parametrize(
    "answer",
    [
        {"id": "e", "embeddings": {"float": [[1.0]]}},  # one vector for two texts
        {"id": "e", "embeddings": {"int8": [[1], [2]]}},
        {"id": "e", "embeddings": {"float": [[1.0], "x"]}},
        {"id": "e"},
    ],
)
async def test_unreadable_answers(answer: dict[str, Any]) -> None:
    with pytest.raises(ResponseParsingError) as info:
        await EmbedV4(AnsweringConnector(lambda _: answer)).embed(["a", "b"])
    assert (info.value.provider, info.value.model) == ("cohere", "embed-v4.0")


async def test_a_failed_batch_fails_the_call() -> None:
    def answer(payload: dict[str, Any]) -> Any:
        if payload["texts"][0] == "t96":
            return RateLimitError("slow down", status=429)
        return by_text(payload)

    with pytest.raises(RateLimitError) as info:
        await EmbedV4(AnsweringConnector(answer)).embed([f"t{i}" for i in range(300)])
    assert (info.value.provider, info.value.model) == ("cohere", "embed-v4.0")


# -- rerank ----------------------------------------------------------------------------------------


def ranked(payload: dict[str, Any]) -> dict[str, Any]:
    scores = [0.2, 0.9, 0.5, 0.9][: len(payload["documents"])]
    results = [{"index": i, "relevance_score": s} for i, s in enumerate(scores)]  # not sorted
    return {"id": "r", "results": results, "meta": {"billed_units": {"search_units": 1}}}


async def test_rerank_orders_and_fills_documents() -> None:
    connector = AnsweringConnector(ranked)
    docs = ["a", "b", "c", "d"]
    response = await Rerank(connector).rerank(
        "q", docs, return_documents=True, top_n=4, max_tokens_per_doc=512
    )
    assert [(r.index, r.relevance_score, r.document) for r in response.results] == [
        (1, 0.9, "b"),
        (3, 0.9, "d"),
        (2, 0.5, "c"),
        (0, 0.2, "a"),
    ]
    assert connector.requests[0].payload == {
        "model": "rerank-v3.5",
        "query": "q",
        "documents": docs,
        "top_n": 4,
        "max_tokens_per_doc": 512,
    }
    assert connector.requests[0].operation == "rerank"
    assert response.cost == pytest.approx(0.002) and response.usage is None
    plain = await Rerank(AnsweringConnector(ranked)).rerank("q", docs)
    assert all(r.document is None for r in plain.results)


@pytest.mark.parametrize(
    ("query", "documents", "params", "fragment"),
    [
        ("", ["a"], {}, "query must be a non-empty string"),
        ("q", [], {}, "documents is empty"),
        ("q", "abc", {}, "documents must be a sequence of strings"),
        ("q", ["a", 3], {}, "documents[1] must be a string"),
        ("q", ["a"], {"top_n": 0}, "top_n=0"),
        ("q", ["a"], {"return_documents": "yes"}, "return_documents='yes'"),
        ("q", ["a"], {"rank_fields": ["x"]}, "unknown parameter 'rank_fields'"),
    ],
)
async def test_rerank_refused_before_sending(
    query: str, documents: Any, params: dict[str, Any], fragment: str
) -> None:
    connector = AnsweringConnector(ranked)
    with pytest.raises(InvalidInputError) as info:
        await Rerank(connector).rerank(query, documents, **params)
    assert fragment in str(info.value)
    assert connector.requests == []


@pytest.mark.parametrize(
    "results",
    [[{"index": 5, "relevance_score": 0.1}], [{"index": 0, "relevance_score": 0.1}] * 2, [{"index": 0}], "x"],
)
async def test_rerank_unreadable_answers(results: Any) -> None:
    with pytest.raises(ResponseParsingError):
        await Rerank(AnsweringConnector(lambda _: {"results": results})).rerank("q", ["a", "b"])


async def test_rerank_usage_when_counted() -> None:
    answer = {"results": [{"index": 0, "relevance_score": 1}], "meta": {"tokens": {"input_tokens": 12}}}
    response = await Rerank(AnsweringConnector(lambda _: answer)).rerank("q", ["a"])
    assert response.usage == Usage(input_tokens=12) and response.cost is None  # no search units billed
