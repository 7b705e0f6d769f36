"""Text embeddings on the Gemini API and Vertex AI: ``embed`` of the Gemini model class
(gemini-embedding-001; Vertex AI's text-embedding-005, text-multilingual-embedding-002 …).

``embed(texts)`` takes one string or a sequence of strings and returns one vector per string, in
the order given.

* Gemini API: one text is a ``:embedContent`` request (the adapter's ``"embed"`` operation,
  ``{"content": {"parts": [{"text"}]}, "taskType", "outputDimensionality", "title"}`` →
  ``{"embedding": {"values"}}``); several are ``:batchEmbedContents`` requests (``"batch_embed"``,
  ``{"requests": [{"model": "models/<id>", "content", ...}]}`` → ``{"embeddings": [{"values"}]}``)
  of at most :data:`GEMINI_BATCH` texts each.
* Vertex AI: ``:predict`` requests (``"predict"``, ``{"instances": [{"content", "task_type",
  "title"}], "parameters": {"outputDimensionality", "autoTruncate"}}`` →
  ``predictions[].embeddings.values`` with ``statistics.token_count``) of at most
  :data:`VERTEX_BATCH` texts and :data:`VERTEX_REQUEST_TOKENS` tokens (gemini-embedding-001 on
  Vertex AI: one text a request).

Batches are sent at most :data:`CONCURRENCY` at a time through the model's connector (retries and
failover apply to each); their vectors are put back in input order. An error on any batch fails
the call with that typed error (the others are cancelled).

Parameters (keyword arguments, or the model's ``defaults``):

``task_type``
    what the vectors are for, one of :data:`TASK_TYPES` (lower case taken too).
``dimensions`` (alias ``output_dimensionality``)
    a shorter vector: an integer from 1 to the model's size (:data:`MODEL_DIMENSIONS`).
``title``
    the title of the documents (``task_type="RETRIEVAL_DOCUMENT"`` only).
``auto_truncate``
    Vertex AI only: False makes an input longer than the model takes an error instead of being cut.
``timeout`` (seconds for the whole call, every batch included), ``read_timeout``, ``model``
    as for chat calls.

An input of more than the model's ``context_window`` tokens (estimated at four characters a
token) is refused before anything is sent, naming its index. ``usage``: the input tokens Vertex
AI counts (``statistics.token_count``), summed; the Gemini API reports none unless its answer
has ``usageMetadata``. ``cost``: by the catalogue's price per 1M characters where it has one
(Vertex AI's text-embedding models: billable characters), else by its token prices and ``usage``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ....interfaces.errors import InvalidInputError, RequestTimeoutError, ResponseParsingError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.media import EmbeddingResponse
from ....interfaces.types import Usage
from ...base.batches import gather_bounded
from ...base.wire_values import token_count
from ._common import (
    TRANSPORT_PARAMS,
    MediaModel,
    call_params,
    choice,
    flag,
    integer,
    is_vertex,
    text_param,
    transport,
    vertex_only,
)

if TYPE_CHECKING:
    from ....interfaces.context import RequestContext

__all__ = [
    "CONCURRENCY",
    "GEMINI_BATCH",
    "MODEL_DIMENSIONS",
    "TASK_TYPES",
    "VERTEX_BATCH",
    "VERTEX_REQUEST_TOKENS",
    "embed",
]

#: texts one ``batchEmbedContents`` request may carry (the Gemini API's limit).
GEMINI_BATCH = 100
#: texts one Vertex AI ``:predict`` request may carry ...
VERTEX_BATCH = 250
#: ... and tokens, all of them together (Vertex AI's limit for its text embedding models).
VERTEX_REQUEST_TOKENS = 20_000
#: batches in flight at once.
CONCURRENCY = 4
#: the vector size of each model (the largest ``dimensions`` it takes).
MODEL_DIMENSIONS: Mapping[str, int] = {
    "gemini-embedding-001": 3072,
    "text-embedding-005": 768,
    "text-embedding-004": 768,
    "text-multilingual-embedding-002": 768,
}
TASK_TYPES = (
    "RETRIEVAL_QUERY",
    "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
)
_PARAMS = frozenset({"task_type", "dimensions", "title", "auto_truncate"}) | TRANSPORT_PARAMS
_ALIASES = {"output_dimensionality": "dimensions"}


@dataclass(slots=True)
class _Options:
    task_type: str | None
    dimensions: int | None
    title: str | None
    auto_truncate: bool | None
    model_id: str
    model_fixed: bool
    timeout: float | None
    read_timeout: float | None


@dataclass(slots=True)
class _Batch:
    """One answered batch: its vectors, tokens and billable characters (when reported)."""

    wire: WireResponse
    vectors: list[list[float]]
    tokens: int | None
    characters: int | None


def _refuse(model: MediaModel, message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(message, provider=model.provider, model=model.name, hint=hint)


def _inputs(model: MediaModel, texts: Any) -> list[str]:
    if isinstance(texts, str):
        items = [texts]
    elif isinstance(texts, Sequence) and not isinstance(texts, bytes | bytearray):
        items = list(texts)
    else:
        raise _refuse(
            model,
            f"texts must be a string or a sequence of strings, not {type(texts).__name__}",
            hint="embed('one text') or embed(['a', 'b', ...'])",
        )
    if not items:
        raise _refuse(model, "texts is empty: nothing to embed")
    window = model.metadata.context_window
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise _refuse(model, f"texts[{index}] must be a string, not {type(text).__name__}")
        if not text.strip():
            raise _refuse(model, f"texts[{index}] is empty", hint="the provider refuses empty inputs")
        estimate = math.ceil(len(text) / 4)
        if estimate > window:
            raise _refuse(
                model,
                f"texts[{index}] is ~{estimate:,} tokens ({len(text):,} characters), more than the "
                f"{window:,} {model.name} takes",
                hint="split it into shorter pieces (e.g. paragraphs) and embed those",
            )
    return items


def _options(model: MediaModel, params: Mapping[str, Any]) -> _Options:
    merged = call_params(model, params, _PARAMS, call="embed", aliases=_ALIASES)
    vertex_only(model, merged, frozenset({"auto_truncate"}))
    task_type = merged.get("task_type")
    if task_type is not None:
        upper = task_type.upper() if isinstance(task_type, str) else task_type
        task_type = choice(model, "task_type", upper, TASK_TYPES)
    dimensions = merged.get("dimensions")
    if dimensions is not None:
        largest = MODEL_DIMENSIONS.get(model.metadata.model_id) or MODEL_DIMENSIONS.get(model.name) or 100_000
        dimensions = integer(model, "dimensions", dimensions, 1, largest)
    title = merged.get("title")
    if title is not None:
        title = text_param(model, "title", title, 1_000)
        if task_type != "RETRIEVAL_DOCUMENT":
            raise _refuse(
                model, "title is for task_type='RETRIEVAL_DOCUMENT' only", "pass that task_type too"
            )
    auto_truncate = merged.get("auto_truncate")
    if auto_truncate is not None:
        auto_truncate = flag(model, "auto_truncate", auto_truncate)
    how = transport(model, merged)
    return _Options(
        task_type,
        dimensions,
        title,
        auto_truncate,
        how.model_id,
        how.model_fixed,
        how.total_timeout,
        how.read_timeout,
    )


def _batch_tokens(text: str) -> int:
    """An overestimate of ``text``'s tokens: one for every three UTF-8 bytes."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return size // 3 + 1


def _batches(texts: list[str], most: int, max_tokens: int | None) -> list[tuple[int, int]]:
    """``(start, end)`` of each batch: at most ``most`` texts and ``max_tokens`` tokens."""
    batches: list[tuple[int, int]] = []
    start = tokens = 0
    for index, text in enumerate(texts):
        cost = _batch_tokens(text) if max_tokens is not None else 0
        full = max_tokens is not None and tokens + cost > max_tokens
        if index > start and (index - start >= most or full):
            batches.append((start, index))
            start, tokens = index, 0
        tokens += cost
    batches.append((start, len(texts)))
    return batches


# -- requests and answers ------------------------------------------------------------------------


def _gemini_request(options: _Options, texts: list[str]) -> WireRequest:
    def one(text: str, with_model: bool) -> dict[str, Any]:
        item: dict[str, Any] = {"model": f"models/{options.model_id}"} if with_model else {}
        item["content"] = {"parts": [{"text": text}]}
        if options.task_type is not None:
            item["taskType"] = options.task_type
        if options.title is not None:
            item["title"] = options.title
        if options.dimensions is not None:
            item["outputDimensionality"] = options.dimensions
        return item

    if len(texts) == 1:
        operation, payload = "embed", one(texts[0], False)
    else:
        operation, payload = "batch_embed", {"requests": [one(text, True) for text in texts]}
    return WireRequest(
        operation,
        payload,
        model=options.model_id,
        model_fixed=options.model_fixed,
        read_timeout=options.read_timeout,
    )


def _vertex_request(options: _Options, texts: list[str]) -> WireRequest:
    instances = []
    for text in texts:
        instance: dict[str, Any] = {"content": text}
        if options.task_type is not None:
            instance["task_type"] = options.task_type
        if options.title is not None:
            instance["title"] = options.title
        instances.append(instance)
    parameters: dict[str, Any] = {}
    if options.dimensions is not None:
        parameters["outputDimensionality"] = options.dimensions
    if options.auto_truncate is not None:
        parameters["autoTruncate"] = options.auto_truncate
    payload: dict[str, Any] = {"instances": instances}
    if parameters:
        payload["parameters"] = parameters
    return WireRequest(
        "predict",
        payload,
        model=options.model_id,
        model_fixed=options.model_fixed,
        read_timeout=options.read_timeout,
    )


def _bad(wire: WireResponse, what: str) -> ResponseParsingError:
    return ResponseParsingError(
        f"{wire.endpoint} answered an embeddings request with {what}",
        endpoint=wire.endpoint,
        status=wire.status,
        request_id=wire.request_id,
    )


def _values(wire: WireResponse, item: Any, index: int) -> list[float]:
    values = item.get("values") if isinstance(item, dict) else None
    if not isinstance(values, list) or not values:
        raise _bad(wire, f"an unreadable vector for input {index}")
    return values


def _count(value: Any) -> int | None:
    """A count from the wire (Vertex AI sends some as floats: ``6.0``)."""
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return token_count(value) if type(value) is int else None


def _parse_gemini(wire: WireResponse, count: int) -> _Batch:
    data = wire.data
    if not isinstance(data, dict):
        raise _bad(wire, f"a JSON {type(data).__name__}")
    if count == 1 and "embedding" in data:
        vectors = [_values(wire, data["embedding"], 0)]
    else:
        items = data.get("embeddings")
        if not isinstance(items, list):
            raise _bad(wire, "no 'embeddings' list")
        if len(items) != count:
            raise _bad(wire, f"{len(items)} vectors for {count} inputs")
        vectors = [_values(wire, item, i) for i, item in enumerate(items)]
    usage = data.get("usageMetadata")
    tokens = _count(usage.get("promptTokenCount")) if isinstance(usage, dict) else None
    return _Batch(wire, vectors, tokens, None)


def _parse_vertex(wire: WireResponse, count: int) -> _Batch:
    data = wire.data
    predictions = data.get("predictions") if isinstance(data, dict) else None
    if not isinstance(predictions, list):
        raise _bad(wire, "no 'predictions' list")
    if len(predictions) != count:
        raise _bad(wire, f"{len(predictions)} vectors for {count} inputs")
    vectors = []
    tokens: int | None = 0
    for i, prediction in enumerate(predictions):
        embeddings = prediction.get("embeddings") if isinstance(prediction, dict) else None
        vectors.append(_values(wire, embeddings, i))
        statistics = embeddings.get("statistics") if isinstance(embeddings, dict) else None
        counted = _count(statistics.get("token_count")) if isinstance(statistics, dict) else None
        tokens = None if counted is None or tokens is None else tokens + counted
    metadata = data.get("metadata") if isinstance(data, dict) else None
    characters = _count(metadata.get("billableCharacterCount")) if isinstance(metadata, dict) else None
    return _Batch(wire, vectors, tokens, characters)


def _cost(model: MediaModel, usage: Usage | None, characters: int) -> float | None:
    pricing = model.metadata.pricing
    if pricing.per_1m_characters is not None:
        return pricing.media_cost(characters=characters)
    return model.cost(usage)


async def embed(
    model: MediaModel, texts: str | Sequence[str], ctx: RequestContext | None, params: dict[str, Any]
) -> EmbeddingResponse:
    """Embed ``texts`` (see the module docstring)."""
    started = time.perf_counter()
    clock_start = time.monotonic()
    inputs = _inputs(model, texts)
    options = _options(model, params)
    vertex = is_vertex(model)
    if vertex:
        single = "gemini-embedding" in options.model_id  # Vertex AI takes one text a request for these
        batches = _batches(inputs, 1 if single else VERTEX_BATCH, VERTEX_REQUEST_TOKENS)
    else:
        batches = _batches(inputs, GEMINI_BATCH, None)
    deadline = None if options.timeout is None else clock_start + options.timeout

    async def send(start: int, end: int) -> _Batch:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise RequestTimeoutError(
                f"the embeddings call ran out of time before inputs {start}-{end - 1} were sent",
                hint="pass a longer timeout=",
            )
        chunk = inputs[start:end]
        request = _vertex_request(options, chunk) if vertex else _gemini_request(options, chunk)
        request.total_timeout = remaining
        wire = await model._connector.send(request, ctx)
        return _parse_vertex(wire, len(chunk)) if vertex else _parse_gemini(wire, len(chunk))

    results = await gather_bounded(lambda span: send(*span), batches, CONCURRENCY)
    vectors = [vector for batch in results for vector in batch.vectors]
    counts = [batch.tokens for batch in results]
    usage = Usage(input_tokens=sum(c for c in counts if c is not None)) if None not in counts else None
    billed = [batch.characters for batch in results]
    characters = sum(c for c in billed if c is not None) if None not in billed else sum(map(len, inputs))
    first = results[0].wire
    return EmbeddingResponse(
        vectors=vectors,
        model=model.name,
        provider=model.provider,
        usage=usage,
        cost=_cost(model, usage, characters),
        endpoint=first.endpoint,
        request_id=first.request_id,
        latency=time.perf_counter() - started,
    )
