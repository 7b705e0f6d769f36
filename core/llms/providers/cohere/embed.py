"""Embeddings (embed-v4.0, embed-english-v3.0, embed-multilingual-v3.0): ``embed`` of
:class:`~core.llms.providers.cohere.model.CohereModel`, over ``POST /v2/embed``.

``embed(texts)`` takes one string or a sequence of strings — or of images (``ImagePart`` with
bytes or a ``data:`` URL, or raw PNG/JPEG/GIF/WebP bytes), not both in one call — and returns one
vector per input, in the order given. Cohere takes at most :data:`MAX_TEXTS` texts per request,
so a longer list is split into batches (images: one per request on the v3 models, up to
:data:`MAX_TEXTS` and :data:`MAX_IMAGE_BYTES` on embed-v4.0), sent at most :data:`CONCURRENCY`
at a time through the model's connector (retries and failover apply to each); their vectors are
put back in input order, their billed tokens summed into ``usage`` (``cost`` from the model's
price per input token; None when images were billed, which are priced apart).

Parameters (keyword arguments, or the model's ``defaults``):

``input_type``
    what the vectors are for: ``"search_document"`` (the default: texts stored for search),
    ``"search_query"`` (the query searching them), ``"classification"``, ``"clustering"``, or
    ``"image"``. Cohere requires one for its v3 and newer models; embed documents and queries
    with their own types for the best search results. Images on the v3 models default to
    ``"image"``.
``output_dimension`` (or ``dimensions``)
    embed-v4.0 only: 256, 512, 1024 or 1536 (the default).
``truncate``
    ``"NONE"`` (an input longer than the model's context is an error), ``"START"`` or ``"END"``
    (Cohere's default: the end is cut).
``max_tokens``
    tokens embedded per input (longer inputs are truncated per ``truncate``).
``priority``, ``model``, ``timeout`` (seconds for the whole call, every batch included),
``read_timeout``.

Vectors are requested as floats (``embedding_types: ["float"]``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...interfaces.context import RequestContext
from ...interfaces.errors import InvalidInputError, ResponseParsingError
from ...interfaces.llm_interfaces import WireRequest, WireResponse
from ...interfaces.media import EmbeddingResponse
from ...interfaces.messages import ImagePart
from ...interfaces.types import Usage
from ..base.batches import gather_bounded
from ..base.implementation import sniff_image_media_type
from ..dialects.cohere_v2.parsing import billed_count
from ._calls import TRANSPORT_PARAMS, Transport, call_params, shown

if TYPE_CHECKING:
    from .model import CohereModel

__all__ = ["CONCURRENCY", "INPUT_TYPES", "MAX_IMAGE_BYTES", "MAX_TEXTS", "embed"]

#: texts (and images, on embed-v4.0) one request may carry (Cohere's limit).
MAX_TEXTS = 96
#: the combined size of the images of one request (embed-v4.0: 20 MB of data URLs).
MAX_IMAGE_BYTES = 20_000_000
#: batches in flight at once.
CONCURRENCY = 4
#: the ``input_type`` values Cohere takes.
INPUT_TYPES = ("search_document", "search_query", "classification", "clustering", "image")
_DEFAULT_INPUT_TYPE = "search_document"
_TRUNCATE = ("NONE", "START", "END")
_V4_DIMENSIONS = (256, 512, 1024, 1536)
_PARAMETERS = (
    frozenset({"input_type", "output_dimension", "dimensions", "truncate", "max_tokens", "priority"})
    | TRANSPORT_PARAMS
)


def _inputs(model: CohereModel, texts: Any) -> tuple[list[str], bool]:
    """The inputs as the wire takes them (texts, or images as data URLs) and whether they are
    images."""
    if isinstance(texts, str | ImagePart | bytes | bytearray):
        items: list[Any] = [texts]
    elif isinstance(texts, Sequence):
        items = list(texts)
    else:
        raise InvalidInputError(
            f"texts must be a string or a sequence of strings (or images), not {type(texts).__name__}",
            hint="embed('one text') or embed(['a', 'b', ...])",
        )
    if not items:
        raise InvalidInputError("texts is empty: nothing to embed")
    images = not isinstance(items[0], str)
    if images and not model.metadata.supports_input("image"):
        raise InvalidInputError(f"{model.name} embeds text only", hint="pass strings")
    out: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, str) != (not images):
            raise InvalidInputError(
                f"texts[{index}]: one call embeds texts or images, not both",
                hint="embed the texts and the images in two calls",
            )
        if images:
            out.append(_image_url(item, index))
        elif not item:
            raise InvalidInputError(
                f"texts[{index}] is an empty string", hint="Cohere embeds text, not nothing"
            )
        else:
            out.append(item)
    return out, images


def _image_url(item: Any, index: int) -> str:
    if isinstance(item, bytes | bytearray):
        data = bytes(item)
        item = ImagePart(data=data, media_type=sniff_image_media_type(data))
    if not isinstance(item, ImagePart):
        raise InvalidInputError(
            f"texts[{index}] must be a string, an ImagePart or image bytes, not {type(item).__name__}"
        )
    url = item.as_data_url()
    if not url.startswith("data:"):
        raise InvalidInputError(
            f"texts[{index}]: Cohere embeds images sent as data, not by URL",
            hint="download the image and pass its bytes (or ImagePart(data=..., media_type=...))",
        )
    return url


def _body(model: CohereModel, merged: Mapping[str, Any], images: bool) -> dict[str, Any]:
    """The request fields besides model and inputs."""
    meta = model.metadata
    v3 = meta.family == "embed-v3"
    input_type = merged.get("input_type", "image" if images and v3 else _DEFAULT_INPUT_TYPE)
    if input_type not in INPUT_TYPES:
        raise InvalidInputError(
            f"input_type={shown(input_type)} is not one of {', '.join(INPUT_TYPES)}",
            hint="'search_document' for texts to search, 'search_query' for the query",
        )
    body: dict[str, Any] = {"input_type": input_type, "embedding_types": ["float"]}
    if "dimensions" in merged and "output_dimension" in merged:
        raise InvalidInputError("pass only one of 'dimensions' and 'output_dimension'")
    dimension = merged.get("output_dimension", merged.get("dimensions"))
    if dimension is not None:
        if v3:
            raise InvalidInputError(
                f"{meta.name} has 1024-dimensional vectors: output_dimension is for embed-v4.0",
                hint="use embed-v4.0 for 256, 512 or 1024 dimensions",
            )
        allowed = _V4_DIMENSIONS if meta.family == "embed-v4" else None
        if (
            isinstance(dimension, bool)
            or not isinstance(dimension, int)
            or dimension < 1
            or (allowed is not None and dimension not in allowed)
        ):
            raise InvalidInputError(
                f"output_dimension={shown(dimension)} is not supported by {meta.name}",
                hint=f"one of {', '.join(map(str, allowed or _V4_DIMENSIONS))}",
            )
        body["output_dimension"] = dimension
    truncate = merged.get("truncate")
    if truncate is not None:
        if not isinstance(truncate, str) or truncate.upper() not in _TRUNCATE:
            raise InvalidInputError(f"truncate={shown(truncate)} is not one of {', '.join(_TRUNCATE)}")
        body["truncate"] = truncate.upper()
    for name in ("max_tokens", "priority"):
        value = merged.get(name)
        if value is not None:
            low = 1 if name == "max_tokens" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInputError(f"{name}={shown(value)} must be an integer >= {low}")
            body[name] = value
    return body


def _batches(model: CohereModel, inputs: list[str], images: bool) -> list[tuple[int, int]]:
    """``(start, end)`` of each batch."""
    if not images:
        return [(start, min(start + MAX_TEXTS, len(inputs))) for start in range(0, len(inputs), MAX_TEXTS)]
    if model.metadata.family == "embed-v3":
        return [(i, i + 1) for i in range(len(inputs))]
    batches: list[tuple[int, int]] = []
    start = size = 0
    for index, url in enumerate(inputs):
        if index > start and (index - start >= MAX_TEXTS or size + len(url) > MAX_IMAGE_BYTES):
            batches.append((start, index))
            start, size = index, 0
        size += len(url)
    batches.append((start, len(inputs)))
    return batches


def _parse(wire: WireResponse, count: int) -> tuple[list[list[float]], int, int]:
    """The vectors of one batch's answer, in input order, and its billed text and image tokens."""

    def bad(what: str) -> ResponseParsingError:
        return ResponseParsingError(
            f"{wire.endpoint} answered an embed request with {what}",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )

    data = wire.data
    embeddings = data.get("embeddings") if isinstance(data, dict) else None
    # (a list: the v1 shape, when embedding_types was not honoured)
    vectors = embeddings.get("float") if isinstance(embeddings, dict) else embeddings
    if not isinstance(vectors, list):
        raise bad("no 'embeddings.float' list")
    if len(vectors) != count:
        raise bad(f"{len(vectors)} vectors for {count} inputs")
    for index, vector in enumerate(vectors):
        if not isinstance(vector, list) or not vector:
            raise bad(f"an unreadable vector for input {index}")
    meta = data.get("meta") if isinstance(data, dict) else None
    billed = meta.get("billed_units") if isinstance(meta, dict) else None
    if not isinstance(billed, dict):
        billed = {}
    return vectors, billed_count(billed.get("input_tokens")), billed_count(billed.get("image_tokens"))


async def embed(
    model: CohereModel, texts: Any, ctx: RequestContext | None, params: dict[str, Any]
) -> EmbeddingResponse:
    """Embed ``texts`` (see the module docstring)."""
    started = time.perf_counter()
    inputs, images = _inputs(model, texts)
    merged = call_params(model, params, _PARAMETERS, call="embed")
    transport = Transport(model, merged)
    body = _body(model, merged, images)
    field = "images" if images else "texts"

    async def send(start: int, end: int) -> tuple[WireResponse, list[list[float]], int, int]:
        remaining = transport.remaining(f"inputs {start}-{end - 1} were sent")
        payload = {"model": transport.model_id, field: inputs[start:end], **body}
        request = WireRequest(
            "embed",
            payload,
            model=transport.model_id,
            model_fixed=transport.model_fixed,
            read_timeout=transport.read_timeout,
            total_timeout=remaining,
        )
        wire = await model._connector.send(request, ctx)
        vectors, tokens, image_tokens = _parse(wire, end - start)
        return wire, vectors, tokens, image_tokens

    results = await gather_bounded(lambda span: send(*span), _batches(model, inputs, images), CONCURRENCY)
    vectors = [vector for _, batch, _, _ in results for vector in batch]
    text_tokens = sum(r[2] for r in results)
    image_tokens = sum(r[3] for r in results)
    usage = Usage(input_tokens=text_tokens + image_tokens) if text_tokens or image_tokens else None
    first = results[0][0]
    return EmbeddingResponse(
        vectors=vectors,
        model=model.name,
        provider=model.provider,
        usage=usage,
        cost=model.cost(usage) if not image_tokens else None,
        endpoint=first.endpoint,
        request_id=first.request_id,
        latency=time.perf_counter() - started,
    )
