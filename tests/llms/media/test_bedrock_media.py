"""Bedrock media modules, unit level: request bodies per model family, parsing, batching and
order, refusals before any request, typed errors and cost — each against a scripted in-memory
connector (no provider adapter, no network). The video job and its S3 download are tested in
``test_bedrock_media_video.py``, the whole path through the simulator in ``test_bedrock_media_e2e.py``."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from multidict import CIMultiDict

from core.llms.interfaces import (
    BadRequestError,
    ContentFilterError,
    InvalidInputError,
    LLMResponse,
    LLMStreamChunk,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
    UnsupportedOperationError,
    WireRequest,
    WireResponse,
)
from core.llms.interfaces.metadata import ModelMetadata, Pricing
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.bedrock.media import embeddings, images
from core.llms.providers.bedrock.media._common import base_model_id

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32


# -- a model on a scripted connector ------------------------------------------------------------


Handler = Callable[[WireRequest], Any]


class FakeConnector:
    """An in-memory ``IConnector``: ``handler(request)`` answers each ``send`` (a body dict, a
    :class:`WireResponse`, or an error to raise; may be async). Records every request and the
    most requests in flight at once."""

    def __init__(self, handler: Handler, endpoint: str = "https://bedrock-runtime.us-east-1.amazonaws.com"):
        self.handler = handler
        self.endpoint = endpoint
        self.requests: list[WireRequest] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, request: WireRequest, ctx: Any = None) -> WireResponse:
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let the other sends start: concurrency is observable
            answer = self.handler(request)
            if asyncio.iscoroutine(answer):
                answer = await answer
        finally:
            self.in_flight -= 1
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, WireResponse):
            return answer
        return wire(answer, endpoint=self.endpoint, request_id=f"req-{len(self.requests)}")

    def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise AssertionError("media calls here do not stream")

    async def aclose(self) -> None:
        pass


def wire(
    data: Any, *, endpoint: str = "fake", request_id: str | None = "req-1", headers: Any = None
) -> WireResponse:
    return WireResponse(
        status=200,
        headers=CIMultiDict(headers or {"Content-Type": "application/json"}),
        body=json.dumps(data).encode(),
        data=data,
        endpoint=endpoint,
        request_id=request_id,
        latency=0.2,
    )


class Toy(BaseLLM):
    """A model class for one Bedrock row (the registry's classes do the same: set ``metadata``)."""

    def _check_defaults(self) -> None:  # media defaults are checked by the media call
        pass

    async def get_answer(self, messages: Any, ctx: Any = None, **params: Any) -> LLMResponse:
        raise AssertionError("not a chat model")

    def stream_answer(self, messages: Any, ctx: Any = None, **params: Any) -> AsyncIterator[LLMStreamChunk]:
        raise AssertionError("not a chat model")


def toy(
    name: str,
    handler: Handler,
    *,
    output: str,
    pricing: Pricing | None = None,
    defaults: dict[str, Any] | None = None,
    family: str = "",
) -> tuple[Toy, FakeConnector]:
    meta = ModelMetadata(
        name=name,
        provider="bedrock",
        family=family,
        input_media=frozenset({"text"}),
        output_media=frozenset({output}),
        pricing=pricing or Pricing(),
    )
    cls = type("Row", (Toy,), {"metadata": meta})
    connector = FakeConnector(handler)
    return cls(connector, defaults=defaults), connector


TITAN = "amazon.titan-embed-text-v2:0"
TITAN_PRICE = Pricing(input_per_1m=0.02)
COHERE = "cohere.embed-english-v3"
COHERE_PRICE = Pricing(input_per_1m=0.10)


def titan_answer(request: WireRequest) -> dict[str, Any]:
    """Titan v2's answer: a vector whose first value names the text's length (order is visible)."""
    text = request.payload["inputText"]
    size = request.payload.get("dimensions", 1024)
    return {"embedding": [float(len(text))] + [0.5] * (size - 1), "inputTextTokenCount": len(text.split())}


def cohere_answer(request: WireRequest) -> dict[str, Any]:
    texts = request.payload["texts"]
    return {
        "id": "e-1",
        "response_type": "embeddings_floats",
        "texts": texts,
        "embeddings": [[float(len(t)), 0.25, -0.25] for t in texts],
    }


# -- embeddings: Titan v2 ------------------------------------------------------------------------


async def test_titan_embeds_one_text_per_invoke_in_input_order_with_usage_and_cost() -> None:
    model, connector = toy(TITAN, titan_answer, output="embedding", pricing=TITAN_PRICE)
    texts = [f"{'word ' * n}".strip() for n in range(1, 21)]  # 20 texts of 1..20 words

    result = await embeddings.embed(model, texts, None, {"dimensions": 256, "normalize": False})

    assert len(connector.requests) == 20
    for request in connector.requests:
        assert request.operation == "invoke" and request.method == "POST"
        assert request.model == TITAN and not request.model_fixed
        assert set(request.payload) == {"inputText", "dimensions", "normalize"}
        assert request.payload["dimensions"] == 256 and request.payload["normalize"] is False
    assert sorted(r.payload["inputText"] for r in connector.requests) == sorted(texts)
    assert [v[0] for v in result.vectors] == [float(len(t)) for t in texts]  # input order kept
    assert all(len(v) == 256 for v in result.vectors)
    assert 1 < connector.most_in_flight <= embeddings.TITAN_CONCURRENCY
    assert result.usage is not None and result.usage.input_tokens == sum(range(1, 21))
    assert result.cost == pytest.approx(sum(range(1, 21)) * 0.02 / 1e6)
    assert (result.model, result.provider) == (TITAN, "bedrock")
    assert result.endpoint == connector.endpoint and result.request_id is not None


async def test_titan_one_string_sends_only_the_text_without_options() -> None:
    model, connector = toy(TITAN, titan_answer, output="embedding")

    result = await embeddings.embed(model, "hello world", None, {})

    [request] = connector.requests
    assert request.payload == {"inputText": "hello world"}
    assert len(result.vectors) == 1 and len(result.vectors[0]) == 1024
    assert result.cost is None  # no price in the row


async def test_titan_reads_embeddings_by_type_and_token_header_or_estimates() -> None:
    def answer(request: WireRequest) -> WireResponse:
        text = request.payload["inputText"]
        if text == "header":
            return wire(
                {"embeddingsByType": {"float": [1, 2.5]}}, headers={"X-Amzn-Bedrock-Input-Token-Count": "7"}
            )
        return wire({"embedding": [0.0, 1.0]})  # nothing counted: estimated, four characters a token

    model, _ = toy(TITAN, answer, output="embedding")
    result = await embeddings.embed(model, ["header", "x" * 40], None, {})

    assert result.vectors == [[1.0, 2.5], [0.0, 1.0]]
    assert result.usage is not None and result.usage.input_tokens == 7 + 10


async def test_model_defaults_apply_and_a_call_may_remove_one() -> None:
    model, connector = toy(
        TITAN, titan_answer, output="embedding", defaults={"dimensions": 512, "normalize": True}
    )

    await embeddings.embed(model, "a", None, {})
    await embeddings.embed(model, "b", None, {"dimensions": None})

    assert connector.requests[0].payload == {"inputText": "a", "dimensions": 512, "normalize": True}
    assert connector.requests[1].payload == {"inputText": "b", "normalize": True}


@pytest.mark.parametrize(
    ("texts", "params", "match"),
    [
        ("a", {"dimensions": 300}, "dimensions=300"),
        ("a", {"dimensions": True}, "dimensions=<bool>"),
        ("a", {"dimensions": "256"}, "dimensions='256'"),
        ("a", {"normalize": "yes"}, "normalize='yes'"),
        ("a", {"input_type": "search_query"}, "'input_type' is not supported"),
        ("a", {"dimension": 256}, "'dimension' is an unknown parameter"),
        ("a", {"timeout": -1}, "timeout=-1"),
        ([], {}, "texts is empty"),
        (["ok", ""], {}, r"texts\[1\] is empty"),
        (["ok", 3], {}, r"texts\[1\] must be a string"),
        (b"bytes", {}, "texts must be a string or a sequence"),
        (["ok", "x" * 50_001], {}, r"texts\[1\] has 50,001 characters"),
    ],
)
async def test_titan_refuses_bad_input_before_any_request(
    texts: Any, params: dict[str, Any], match: str
) -> None:
    model, connector = toy(TITAN, titan_answer, output="embedding")

    with pytest.raises(InvalidInputError, match=match) as info:
        await embeddings.embed(model, texts, None, params)

    assert connector.requests == []
    assert info.value.hint is None or "x" * 20 not in info.value.hint


async def test_a_failing_request_fails_the_call_with_its_typed_error_and_cancels_the_rest() -> None:
    started: list[str] = []

    async def answer(request: WireRequest) -> Any:
        text = request.payload["inputText"]
        started.append(text)
        if text == "t3":
            return ServiceUnavailableError("down", status=503)
        await asyncio.sleep(0.05)
        return titan_answer(request)

    model, _ = toy(TITAN, answer, output="embedding")
    with pytest.raises(ServiceUnavailableError):
        await embeddings.embed(model, [f"t{i}" for i in range(40)], None, {})
    assert len(started) < 40  # the later texts were never sent


async def test_a_malformed_answer_is_a_parsing_error() -> None:
    for body in ({"embedding": "nope"}, {"embedding": [1, "x"]}, ["not", "an", "object"], {}):
        model, _ = toy(TITAN, lambda r, body=body: body, output="embedding")
        with pytest.raises(ResponseParsingError, match="embeddings request"):
            await embeddings.embed(model, "hello", None, {})
    model, _ = toy(TITAN, lambda r: {"embedding": [0.1] * 10}, output="embedding")
    with pytest.raises(ResponseParsingError, match="10 dimensions"):
        await embeddings.embed(model, "hello", None, {"dimensions": 256})


async def test_the_timeout_bounds_the_whole_call() -> None:
    async def slow(request: WireRequest) -> Any:
        await asyncio.sleep(0.05)
        return titan_answer(request)

    model, connector = toy(TITAN, slow, output="embedding")
    with pytest.raises(RequestTimeoutError, match="ran out of time"):
        await embeddings.embed(model, [f"t{i}" for i in range(64)], None, {"timeout": 0.12})
    assert len(connector.requests) < 64
    assert all(r.total_timeout is not None and r.total_timeout <= 0.12 for r in connector.requests)


async def test_a_per_call_model_id_goes_to_every_request() -> None:
    model, connector = toy(TITAN, titan_answer, output="embedding")
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"

    await embeddings.embed(model, ["a", "b"], None, {"model": arn, "read_timeout": 5})

    assert {(r.model, r.model_fixed, r.read_timeout) for r in connector.requests} == {(arn, True, 5)}


# -- embeddings: Cohere v3 -----------------------------------------------------------------------


async def test_cohere_batches_96_texts_a_request_in_order_with_its_options() -> None:
    model, connector = toy(COHERE, cohere_answer, output="embedding", pricing=COHERE_PRICE)
    texts = [f"text number {i}" + "!" * (i % 7) for i in range(200)]

    result = await embeddings.embed(model, texts, None, {"input_type": "search_query", "truncate": "end"})

    sizes = [len(r.payload["texts"]) for r in connector.requests]
    assert sorted(sizes) == [8, 96, 96]
    for request in connector.requests:
        assert request.operation == "invoke" and request.model == COHERE
        assert request.payload["input_type"] == "search_query"
        assert request.payload["truncate"] == "END"
        assert set(request.payload) == {"texts", "input_type", "truncate"}
    assert [v[0] for v in result.vectors] == [float(len(t)) for t in texts]
    estimate = sum(max(1, -(-len(t) // 4)) for t in texts)
    assert result.usage is not None and result.usage.input_tokens == estimate
    assert result.cost == pytest.approx(estimate * 0.10 / 1e6)


async def test_cohere_defaults_to_search_document_and_reads_embeddings_by_type() -> None:
    def answer(request: WireRequest) -> WireResponse:
        count = len(request.payload["texts"])
        body = {"response_type": "embeddings_by_type", "embeddings": {"float": [[1.0, 2.0]] * count}}
        return wire(body, headers={"x-amzn-bedrock-input-token-count": "42"})

    model, connector = toy("cohere.embed-multilingual-v3", answer, output="embedding")
    result = await embeddings.embed(model, ["uno", "dos"], None, {})

    [request] = connector.requests
    assert request.payload == {"texts": ["uno", "dos"], "input_type": "search_document"}
    assert result.vectors == [[1.0, 2.0], [1.0, 2.0]]
    assert result.usage is not None and result.usage.input_tokens == 42


@pytest.mark.parametrize(
    ("texts", "params", "match"),
    [
        ("a", {"input_type": "query"}, "input_type='query'"),
        ("a", {"truncate": "middle"}, "truncate='middle'"),
        ("a", {"dimensions": 256}, "'dimensions' is not supported"),
        ("a", {"normalize": True}, "'normalize' is not supported"),
        (["a", "b" * 2049], {}, r"texts\[1\] has 2,049 characters"),
    ],
)
async def test_cohere_refuses_bad_input_before_any_request(
    texts: Any, params: dict[str, Any], match: str
) -> None:
    model, connector = toy(COHERE, cohere_answer, output="embedding")
    with pytest.raises(InvalidInputError, match=match):
        await embeddings.embed(model, texts, None, params)
    assert connector.requests == []


async def test_cohere_vector_count_mismatch_is_a_parsing_error() -> None:
    model, _ = toy(COHERE, lambda r: {"embeddings": [[1.0]]}, output="embedding")
    with pytest.raises(ResponseParsingError, match="1 vectors for 2 texts"):
        await embeddings.embed(model, ["a", "b"], None, {})


async def test_an_unknown_embedding_model_is_unsupported() -> None:
    model, connector = toy("acme.embedder-v9", titan_answer, output="embedding")
    with pytest.raises(UnsupportedOperationError, match="no Bedrock embedding rules"):
        await embeddings.embed(model, "a", None, {})
    assert connector.requests == []


def test_family_found_through_inference_profile_prefixes_and_arns() -> None:
    assert base_model_id("us.amazon.nova-canvas-v1:0") == "amazon.nova-canvas-v1:0"
    assert base_model_id("amazon.titan-embed-text-v2:0") == "amazon.titan-embed-text-v2:0"
    assert base_model_id("arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3") == (
        "cohere.embed-english-v3"
    )
    model, _ = toy("us.amazon.titan-embed-text-v2:0", titan_answer, output="embedding")
    assert embeddings.family_of(model) is embeddings.EMBEDDING_FAMILIES["titan-embed-text-v2"]


# -- images -------------------------------------------------------------------------------------


CANVAS = "amazon.nova-canvas-v1:0"
TITAN_IMAGE = "amazon.titan-image-generator-v2:0"


def image_answer(request: WireRequest) -> dict[str, Any]:
    count = request.payload.get("imageGenerationConfig", {}).get("numberOfImages", 1)
    return {"images": [base64.b64encode(PNG).decode()] * count, "error": None}


async def test_nova_canvas_text_image_request_and_png_bytes_with_per_image_cost() -> None:
    model, connector = toy(CANVAS, image_answer, output="image", pricing=Pricing(per_image=0.04))

    result = await images.generate_image(
        model,
        "a lighthouse at dusk",
        None,
        {
            "size": "1280x720",
            "quality": "premium",
            "n": 3,
            "seed": 7,
            "negative_prompt": "people",
            "cfg_scale": 8,
            "style": "photorealism",
        },
    )

    [request] = connector.requests
    assert request.operation == "invoke" and request.model == CANVAS
    assert request.payload == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {
            "text": "a lighthouse at dusk",
            "negativeText": "people",
            "style": "PHOTOREALISM",
        },
        "imageGenerationConfig": {
            "width": 1280,
            "height": 720,
            "quality": "premium",
            "numberOfImages": 3,
            "cfgScale": 8.0,
            "seed": 7,
        },
    }
    assert [image.data for image in result.images] == [PNG] * 3
    assert {image.media_type for image in result.images} == {"image/png"}
    assert result.cost == pytest.approx(3 * 0.06)  # premium up to 1024x1024 pixels: 0.06 each
    assert (result.model, result.provider, result.endpoint) == (CANVAS, "bedrock", connector.endpoint)


async def test_nova_canvas_minimal_request_sends_only_the_prompt() -> None:
    model, connector = toy(CANVAS, image_answer, output="image", pricing=Pricing(per_image=0.04))

    result = await images.generate_image(model, "a fox", None, {})

    assert connector.requests[0].payload == {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a fox"}}
    assert result.cost == pytest.approx(0.04)


@pytest.mark.parametrize(
    ("size", "quality", "each"),
    [("2048x2032", "standard", 0.06), ("2048x2032", "premium", 0.08), ((1024, 1024), "standard", 0.04)],
)
async def test_nova_canvas_cost_by_size_tier_and_quality(size: Any, quality: str, each: float) -> None:
    model, _ = toy(CANVAS, image_answer, output="image", pricing=Pricing(per_image=0.04))
    result = await images.generate_image(model, "a fox", None, {"size": size, "quality": quality, "n": 2})
    assert result.cost == pytest.approx(2 * each)


async def test_titan_image_sizes_from_its_list_and_cost_tiers() -> None:
    model, connector = toy(TITAN_IMAGE, image_answer, output="image", pricing=Pricing(per_image=0.01))

    small = await images.generate_image(model, "a cat", None, {"size": "512x512", "quality": "premium"})
    large = await images.generate_image(model, "a cat", None, {"size": "1173x640"})

    assert connector.requests[0].payload["imageGenerationConfig"] == {
        "width": 512,
        "height": 512,
        "quality": "premium",
    }
    assert small.cost == pytest.approx(0.01)
    assert large.cost == pytest.approx(0.01)
    with pytest.raises(InvalidInputError, match="1280x720 is not a size") as info:
        await images.generate_image(model, "a cat", None, {"size": "1280x720"})
    assert "1173x640" in (info.value.hint or "")
    with pytest.raises(InvalidInputError, match="'style' is not supported"):
        await images.generate_image(model, "a cat", None, {"style": "MAXIMALISM"})
    with pytest.raises(InvalidInputError, match="at most 512"):
        await images.generate_image(model, "x" * 513, None, {})
    assert len(connector.requests) == 2


@pytest.mark.parametrize(
    ("prompt", "params", "match"),
    [
        ("a", {"n": 6}, "n=6"),
        ("a", {"n": 0}, "n=0"),
        ("a", {"number_of_images": 9}, "n=9"),
        ("a", {"n": 2, "number_of_images": 2}, "pass only one"),
        ("a", {"size": "1000x1000"}, "multiple of 16"),
        ("a", {"size": "256x256"}, "320 to 4096"),
        ("a", {"size": "4096x4096"}, "fewer than 4,194,304 pixels"),
        ("a", {"size": "2048x320"}, "aspect ratio"),
        ("a", {"size": "big"}, "WIDTHxHEIGHT"),
        ("a", {"quality": "hd"}, "quality='hd'"),
        ("a", {"seed": -1}, "seed=-1"),
        ("a", {"seed": 2_147_483_647}, "seed=2147483647"),
        ("a", {"cfg_scale": 11}, "cfg_scale=11"),
        ("a", {"cfg_scale": 1.0}, "cfg_scale=1.0"),
        ("a", {"style": "cubism"}, "style='cubism'"),
        ("a", {"negative_prompt": ""}, "negative_prompt must not be empty"),
        ("a", {"response_format": "url"}, "'response_format' is an unknown parameter"),
        ("", {}, "prompt must not be empty"),
        (b"bytes", {}, "prompt must be a string"),
        ("x" * 1025, {}, "prompt has 1,025 characters"),
    ],
)
async def test_nova_canvas_refuses_bad_parameters_before_any_request(
    prompt: Any, params: dict[str, Any], match: str
) -> None:
    model, connector = toy(CANVAS, image_answer, output="image")
    with pytest.raises(InvalidInputError, match=match):
        await images.generate_image(model, prompt, None, params)
    assert connector.requests == []


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("This request has been blocked by our content filters.", ContentFilterError),
        ({"message": "Our Responsible AI policy blocked it"}, ContentFilterError),
        ("Something else went wrong", BadRequestError),
    ],
)
async def test_an_error_in_a_200_answer_is_a_typed_error(error: Any, kind: type[Exception]) -> None:
    model, _ = toy(CANVAS, lambda r: {"images": [], "error": error}, output="image")
    with pytest.raises(kind) as info:
        await images.generate_image(model, "a fox", None, {})
    assert info.value.status == 200  # type: ignore[attr-defined]
    if kind is ContentFilterError:
        assert "blocked" in str(info.value)


async def test_unreadable_image_answers_are_parsing_errors() -> None:
    for body, match in (
        ({"images": []}, "no images"),
        ({"images": ["%%%not-base64"]}, "not valid base64"),
        ({"images": [42]}, "not a base64 string"),
        ([1, 2], "not an object"),
    ):
        model, _ = toy(CANVAS, lambda r, body=body: body, output="image")
        with pytest.raises(ResponseParsingError, match=match):
            await images.generate_image(model, "a fox", None, {})


async def test_image_media_type_is_sniffed() -> None:
    model, _ = toy(CANVAS, lambda r: {"images": [base64.b64encode(JPEG).decode()]}, output="image")
    result = await images.generate_image(model, "a fox", None, {})
    assert result.images[0].media_type == "image/jpeg"


async def test_image_defaults_and_transport_parameters() -> None:
    model, connector = toy(CANVAS, image_answer, output="image", defaults={"quality": "premium", "seed": 3})
    await images.generate_image(model, "a fox", None, {"seed": None, "timeout": 30, "read_timeout": 9})
    [request] = connector.requests
    assert request.payload["imageGenerationConfig"] == {"quality": "premium"}
    assert (request.total_timeout, request.read_timeout) == (30, 9)


async def test_an_unknown_image_model_is_unsupported() -> None:
    model, _ = toy("stability.sd3-large-v1:0", image_answer, output="image")
    with pytest.raises(UnsupportedOperationError, match="no Bedrock image rules"):
        await images.generate_image(model, "a fox", None, {})


async def test_stream_image_yields_each_image_as_a_final_chunk_the_last_with_the_cost() -> None:
    model, connector = toy(CANVAS, image_answer, output="image", pricing=Pricing(per_image=0.04))
    chunks = [c async for c in images.stream_image(model, "a fox", None, {"n": 2})]
    assert [(c.index, c.final, c.image.data) for c in chunks] == [(0, True, PNG), (1, True, PNG)]
    assert chunks[0].cost is None and chunks[1].cost == pytest.approx(0.08)
    assert len(connector.requests) == 1
