"""Embeddings on Amazon Bedrock: ``embed`` of the Bedrock model (``InvokeModel``, operation
``"invoke"``: ``POST /model/{modelId}/invoke``).

``embed(texts)`` takes one string or a sequence of strings and returns one vector per string, in
the order given. Each model family (a row of :data:`EMBEDDING_FAMILIES`, found from the model id)
says how many texts one request carries:

Titan Text Embeddings v2 (``amazon.titan-embed-text-v2:0``)
    one text per request (``{"inputText": ..., "dimensions": ..., "normalize": ...}``); a list is
    sent as concurrent requests, at most :data:`TITAN_CONCURRENCY` in flight. Parameters:
    ``dimensions`` (256, 512 or 1024; the model's default 1024) and ``normalize`` (bool; the
    model's default True). A text holds at most 50,000 characters.
Titan Text Embeddings G1 (``amazon.titan-embed-text-v1``)
    the same, without parameters (1536 dimensions).
Cohere Embed v3 (``cohere.embed-english-v3``, ``cohere.embed-multilingual-v3``)
    up to :data:`COHERE_BATCH` texts per request (``{"texts": [...], "input_type": ...,
    "truncate": ...}``), batches sent at most :data:`COHERE_CONCURRENCY` at a time. Parameters:
    ``input_type`` (``search_document``, the default here, ``search_query``, ``classification``,
    ``clustering``) and ``truncate`` (``NONE``, ``START``, ``END``; lower case accepted). A text
    holds at most 2,048 characters.

Every family also takes ``timeout`` (seconds for the whole call, every request included),
``read_timeout`` and ``model=`` (a model id for this call: a provisioned model's ARN, an
inference profile). Everything is checked before anything is sent: an unknown parameter, one the
family does not take, a bad value, an empty text or one over the family's limit (named by its
index) raise :class:`InvalidInputError`.

Every request goes through the model's connector (retries, failover and breakers apply to each);
an error on any request fails the call with that typed error and cancels the others.

``usage.input_tokens`` is summed over the requests: Titan's ``inputTextTokenCount``, else the
``X-Amzn-Bedrock-Input-Token-Count`` header, else an estimate (four characters a token);
``cost`` from it at the model's input price.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ....interfaces.context import RequestContext
from ....interfaces.errors import (
    InvalidInputError,
    RequestTimeoutError,
    ResponseParsingError,
    UnsupportedOperationError,
)
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.media import EmbeddingResponse
from ....interfaces.types import Usage
from ...base.batches import gather_bounded
from ._common import TRANSPORT_PARAMS, choice, model_ids, shown, transport

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM

__all__ = [
    "COHERE_BATCH",
    "COHERE_CONCURRENCY",
    "EMBEDDING_FAMILIES",
    "TITAN_CONCURRENCY",
    "EmbeddingFamily",
    "embed",
]

#: Titan requests (one text each) in flight at once.
TITAN_CONCURRENCY = 8
#: texts one Cohere Embed request may carry (the provider's limit).
COHERE_BATCH = 96
#: Cohere batches in flight at once.
COHERE_CONCURRENCY = 4
#: the response header Bedrock reports the input tokens in.
_TOKEN_HEADER = "X-Amzn-Bedrock-Input-Token-Count"
_COHERE_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering")
_COHERE_TRUNCATE = ("NONE", "START", "END")


@dataclass(frozen=True, slots=True)
class EmbeddingFamily:
    """What the embedding models of one family take (a row of :data:`EMBEDDING_FAMILIES`)."""

    #: the wire: ``"titan"`` (one ``inputText`` per request) or ``"cohere"`` (a ``texts`` list).
    wire: str
    #: model id prefixes (without an inference-profile prefix) of the family's models.
    prefixes: tuple[str, ...]
    #: the longest text, in characters.
    max_chars: int
    #: allowed ``dimensions`` (empty: the parameter is refused).
    dimensions: tuple[int, ...] = ()
    #: whether ``normalize`` is taken.
    normalize: bool = False
    #: whether ``input_type`` / ``truncate`` are taken (Cohere).
    cohere_options: bool = False

    @property
    def parameters(self) -> frozenset[str]:
        own = {"dimensions"} if self.dimensions else set()
        if self.normalize:
            own.add("normalize")
        if self.cohere_options:
            own |= {"input_type", "truncate"}
        return frozenset(own) | TRANSPORT_PARAMS


#: family name -> its rules; a model's family is found from its id.
EMBEDDING_FAMILIES: Mapping[str, EmbeddingFamily] = {
    "titan-embed-text-v2": EmbeddingFamily(
        "titan", ("amazon.titan-embed-text-v2",), 50_000, dimensions=(256, 512, 1024), normalize=True
    ),
    "titan-embed-text-v1": EmbeddingFamily("titan", ("amazon.titan-embed-text-v1",), 50_000),
    "cohere-embed-v3": EmbeddingFamily(
        "cohere", ("cohere.embed-english-v3", "cohere.embed-multilingual-v3"), 2048, cohere_options=True
    ),
}
_KNOWN_PARAMETERS = frozenset().union(*(f.parameters for f in EMBEDDING_FAMILIES.values()))


def family_of(model: BaseLLM) -> EmbeddingFamily:
    """The embedding family of ``model`` (by ``metadata.family``, else its model id)."""
    family = EMBEDDING_FAMILIES.get(model.metadata.family)
    if family is not None:
        return family
    for model_id in model_ids(model):
        for rules in EMBEDDING_FAMILIES.values():
            if model_id.startswith(rules.prefixes):
                return rules
    raise UnsupportedOperationError(
        f"{model.name} has no Bedrock embedding rules",
        provider=model.provider,
        model=model.name,
        hint="embedding models: "
        + ", ".join(p for f in EMBEDDING_FAMILIES.values() for p in f.prefixes)
        + "; add a row to EMBEDDING_FAMILIES for another",
    )


@dataclass(slots=True)
class _Call:
    """One checked call."""

    family: EmbeddingFamily
    options: dict[str, Any]  # the request fields besides the text(s)
    model_id: str
    model_fixed: bool
    timeout: float | None
    read_timeout: float | None


def _inputs(model: BaseLLM, family: EmbeddingFamily, texts: Any) -> list[str]:
    def error(message: str, hint: str | None = None) -> InvalidInputError:
        return InvalidInputError(message, provider=model.provider, model=model.name, hint=hint)

    if isinstance(texts, str):
        items = [texts]
    elif isinstance(texts, Sequence) and not isinstance(texts, bytes | bytearray):
        items = list(texts)
    else:
        raise error(
            f"texts must be a string or a sequence of strings, not {type(texts).__name__}",
            hint="embed('one text') or embed(['a', 'b', ...])",
        )
    if not items:
        raise error("texts is empty: nothing to embed")
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise error(f"texts[{index}] must be a string, not {type(text).__name__}")
        if not text.strip():
            raise error(f"texts[{index}] is empty", hint="the provider refuses empty inputs")
        if len(text) > family.max_chars:
            raise error(
                f"texts[{index}] has {len(text):,} characters; {model.name} takes at most "
                f"{family.max_chars:,} per text",
                hint="split it into shorter pieces (e.g. paragraphs) and embed those",
            )
    return items


def _prepare(model: BaseLLM, family: EmbeddingFamily, params: Mapping[str, Any]) -> _Call:
    merged: dict[str, Any] = {**model._defaults, **params}
    allowed = family.parameters
    for name in merged:
        if name in allowed:
            continue
        why = "is not supported by" if name in _KNOWN_PARAMETERS else "is an unknown parameter for"
        raise InvalidInputError(
            f"{shown(name)} {why} embed() with {model.name}",
            provider=model.provider,
            model=model.name,
            hint=f"allowed: {', '.join(sorted(allowed))}",
        )
    merged = {k: v for k, v in merged.items() if v is not None}
    options: dict[str, Any] = {}
    if "dimensions" in merged:
        value = merged["dimensions"]
        if isinstance(value, bool) or not isinstance(value, int) or value not in family.dimensions:
            raise InvalidInputError(
                f"dimensions={shown(value)} is not a vector size {model.name} makes",
                provider=model.provider,
                model=model.name,
                hint=f"allowed: {', '.join(map(str, family.dimensions))}",
            )
        options["dimensions"] = value
    if "normalize" in merged:
        value = merged["normalize"]
        if not isinstance(value, bool):
            raise InvalidInputError(
                f"normalize={shown(value)} must be True or False", provider=model.provider, model=model.name
            )
        options["normalize"] = value
    if family.cohere_options:
        options["input_type"] = choice(
            model, "input_type", merged.get("input_type", "search_document"), _COHERE_INPUT_TYPES
        )
        if "truncate" in merged:
            value = merged["truncate"]
            upper = value.upper() if isinstance(value, str) else value
            choice(model, "truncate", upper if upper in _COHERE_TRUNCATE else value, _COHERE_TRUNCATE)
            options["truncate"] = upper
    wire = transport(model, merged)
    return _Call(family, options, wire.model_id, wire.model_fixed, wire.total_timeout, wire.read_timeout)


def _header_tokens(wire: WireResponse) -> int | None:
    headers = wire.headers
    raw = headers.get(_TOKEN_HEADER) if headers is not None else None
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _estimate(texts: Sequence[str]) -> int:
    return sum(max(1, math.ceil(len(text) / 4)) for text in texts)


def _vector(value: Any) -> list[float] | None:
    """A list of numbers as floats, or None."""
    if not isinstance(value, list) or not value:
        return None
    out: list[float] = []
    for x in value:
        if isinstance(x, float):
            out.append(x)
        elif isinstance(x, int) and not isinstance(x, bool):
            out.append(float(x))
        else:
            return None
    return out


def _bad(wire: WireResponse, what: str) -> ResponseParsingError:
    return ResponseParsingError(
        f"{wire.endpoint} answered an embeddings request with {what}",
        endpoint=wire.endpoint,
        status=wire.status,
        request_id=wire.request_id,
    )


def _parse_titan(wire: WireResponse, dimensions: int | None) -> tuple[list[float], int | None]:
    data = wire.data
    if not isinstance(data, dict):
        raise _bad(wire, f"a JSON {type(data).__name__}, not an object")
    raw = data.get("embedding")
    if raw is None:
        by_type = data.get("embeddingsByType")
        raw = by_type.get("float") if isinstance(by_type, dict) else None
    vector = _vector(raw)
    if vector is None:
        raise _bad(wire, "no readable 'embedding'")
    if dimensions is not None and len(vector) != dimensions:
        raise _bad(wire, f"a vector of {len(vector)} dimensions ({dimensions} were asked)")
    tokens = data.get("inputTextTokenCount")
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        tokens = _header_tokens(wire)
    return vector, tokens


def _parse_cohere(wire: WireResponse, count: int) -> list[list[float]]:
    data = wire.data
    if not isinstance(data, dict):
        raise _bad(wire, f"a JSON {type(data).__name__}, not an object")
    raw = data.get("embeddings")
    if isinstance(raw, dict):  # embeddings_by_type
        raw = raw.get("float")
    if not isinstance(raw, list):
        raise _bad(wire, "no 'embeddings' list")
    if len(raw) != count:
        raise _bad(wire, f"{len(raw)} vectors for {count} texts")
    vectors = []
    for index, item in enumerate(raw):
        vector = _vector(item)
        if vector is None:
            raise _bad(wire, f"an unreadable vector for text {index} of the batch")
        vectors.append(vector)
    return vectors


async def embed(
    model: BaseLLM, texts: str | Sequence[str], ctx: RequestContext | None, params: dict[str, Any]
) -> EmbeddingResponse:
    """Embed ``texts`` (see the module docstring)."""
    started = time.perf_counter()
    clock_start = time.monotonic()
    family = family_of(model)
    call = _prepare(model, family, params)
    inputs = _inputs(model, family, texts)
    deadline = None if call.timeout is None else clock_start + call.timeout

    async def send(payload: dict[str, Any], what: str) -> WireResponse:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise RequestTimeoutError(
                f"the embeddings call ran out of time before {what} was sent",
                hint="pass a longer timeout=",
            )
        request = WireRequest(
            "invoke",
            payload,
            model=call.model_id,
            model_fixed=call.model_fixed,
            read_timeout=call.read_timeout,
            total_timeout=remaining,
        )
        return await model._connector.send(request, ctx)

    vectors: list[list[float]] = []
    tokens = 0
    first: WireResponse
    if family.wire == "titan":
        dimensions = call.options.get("dimensions")

        async def one(index: int) -> tuple[WireResponse, list[float], int]:
            wire = await send({"inputText": inputs[index], **call.options}, f"text {index}")
            vector, counted = _parse_titan(wire, dimensions)
            return wire, vector, counted if counted is not None else _estimate(inputs[index : index + 1])

        done = await gather_bounded(one, range(len(inputs)), TITAN_CONCURRENCY)
        first = done[0][0]
        for _, vector, counted in done:
            vectors.append(vector)
            tokens += counted
    else:
        batches = [
            (start, min(start + COHERE_BATCH, len(inputs))) for start in range(0, len(inputs), COHERE_BATCH)
        ]

        async def batch(span: tuple[int, int]) -> tuple[WireResponse, list[list[float]], int]:
            start, end = span
            wire = await send({"texts": inputs[start:end], **call.options}, f"texts {start}-{end - 1}")
            counted = _header_tokens(wire)
            return (
                wire,
                _parse_cohere(wire, end - start),
                (counted if counted is not None else _estimate(inputs[start:end])),
            )

        results = await gather_bounded(batch, batches, COHERE_CONCURRENCY)
        first = results[0][0]
        for _, batch_vectors, counted in results:
            vectors.extend(batch_vectors)
            tokens += counted
    usage = Usage(input_tokens=tokens)
    return EmbeddingResponse(
        vectors=vectors,
        model=model.name,
        provider=model.provider,
        usage=usage,
        cost=model.cost(usage),
        endpoint=first.endpoint,
        request_id=first.request_id,
        latency=time.perf_counter() - started,
    )
