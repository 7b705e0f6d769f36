"""Embeddings (text-embedding-3-small, text-embedding-3-large, text-embedding-ada-002): ``embed``
of :class:`~core.llms.providers.openai.model.OpenAIModel`.

``embed(texts)`` takes one string or a sequence of strings and returns one vector per string, in
the order given. The provider takes at most :data:`MAX_INPUTS` inputs and
:data:`MAX_REQUEST_TOKENS` tokens per request, so a longer list is split into batches, sent at
most :data:`CONCURRENCY` at a time through the model's connector (retries and failover apply to
each); their vectors are put back in input order, their usage summed (``cost`` from the model's
price per input token). An error on any batch fails the call with that typed error (the other
batches are cancelled).

Token counts are estimated, not computed: an input of more than :data:`MAX_INPUT_TOKENS` tokens
at about four characters a token (the library's prompt estimate) is refused before anything is
sent (:class:`InvalidInputError` naming its index); batches are filled counting a token for every
three UTF-8 bytes, which overestimates every tokenizer's count of ordinary text (English, code,
CJK), so a batch is not refused for its size.

Parameters (keyword arguments, or the model's ``defaults``): ``dimensions`` (an integer from 1
to the model's size: 1536 for -3-small, 3072 for -3-large; text-embedding-ada-002 refuses it),
``user`` (the end user's id, for the provider's abuse monitoring), ``encoding_format``
(``"base64"``, the default: each vector travels as base64 of little-endian float32s, a third the
size of JSON numbers and decoded in one step; or ``"float"``; ``vectors`` are floats either
way), ``timeout`` (seconds for the whole call, every batch included) and ``read_timeout``.
"""

from __future__ import annotations

import array
import base64
import binascii
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ....interfaces.context import RequestContext
from ....interfaces.errors import InvalidInputError, RequestTimeoutError, ResponseParsingError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.media import EmbeddingResponse
from ....interfaces.types import Usage
from ...base.batches import gather_bounded
from ._common import call_timeouts

if TYPE_CHECKING:
    from ..model import OpenAIModel

__all__ = ["CONCURRENCY", "MAX_INPUTS", "MAX_INPUT_TOKENS", "MAX_REQUEST_TOKENS", "MODEL_DIMENSIONS", "embed"]

#: inputs one request may carry (the provider's limit).
MAX_INPUTS = 2048
#: tokens one request may carry, all inputs together (the provider's limit).
MAX_REQUEST_TOKENS = 300_000
#: tokens one input may hold (the models' context).
MAX_INPUT_TOKENS = 8191
#: batches in flight at once.
CONCURRENCY = 4
#: the vector size of each model (the largest ``dimensions`` it takes).
MODEL_DIMENSIONS: Mapping[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_FIXED_SIZE = frozenset({"text-embedding-ada-002"})
_PARAMETERS = frozenset({"dimensions", "user", "encoding_format", "timeout", "read_timeout"})
_FORMATS = ("base64", "float")


@dataclass(slots=True)
class _Options:
    body: dict[str, Any]  # the request fields besides model and input
    timeout: float | None
    read_timeout: float | None


def _shown(value: Any) -> str:
    return repr(value)[:40] if isinstance(value, int | float | str) else f"<{type(value).__name__}>"


def _inputs(texts: Any) -> list[str]:
    if isinstance(texts, str):
        items = [texts]
    elif isinstance(texts, Sequence) and not isinstance(texts, bytes | bytearray):
        items = list(texts)
    else:
        raise InvalidInputError(
            f"texts must be a string or a sequence of strings, not {type(texts).__name__}",
            hint="embed('one text') or embed(['a', 'b', ...'])",
        )
    if not items:
        raise InvalidInputError("texts is empty: nothing to embed")
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise InvalidInputError(f"texts[{index}] must be a string, not {type(text).__name__}")
        if not text:
            raise InvalidInputError(
                f"texts[{index}] is an empty string", hint="the provider refuses empty inputs"
            )
        estimate = len(text) // 4
        if estimate > MAX_INPUT_TOKENS:
            raise InvalidInputError(
                f"texts[{index}] is ~{estimate:,} tokens ({len(text):,} characters), more than the "
                f"{MAX_INPUT_TOKENS:,} one input may hold",
                hint="split it into shorter pieces (e.g. paragraphs) and embed those",
            )
    return items


def _options(model: OpenAIModel, params: Mapping[str, Any]) -> _Options:
    merged: dict[str, Any] = {}
    for source in (model.metadata.parameters.defaults, model._defaults, params):
        for name, value in source.items():
            if name not in _PARAMETERS:
                raise InvalidInputError(
                    f"unknown parameter {name!r} for {model.name}",
                    hint=f"allowed: {', '.join(sorted(_PARAMETERS))}",
                )
            merged[name] = value
    body: dict[str, Any] = {"encoding_format": "base64"}
    dimensions = merged.get("dimensions")
    if dimensions is not None:
        name = model.metadata.name
        if name in _FIXED_SIZE:
            raise InvalidInputError(
                f"dimensions is not supported by {name}: "
                f"its vectors have {MODEL_DIMENSIONS[name]} dimensions",
                hint="use text-embedding-3-small or -3-large for shorter vectors",
            )
        largest = MODEL_DIMENSIONS.get(name)
        if (
            isinstance(dimensions, bool)
            or not isinstance(dimensions, int)
            or dimensions < 1
            or (largest is not None and dimensions > largest)
        ):
            limit = f"1 to {largest}" if largest is not None else "1 or more"
            raise InvalidInputError(
                f"dimensions={_shown(dimensions)} must be an integer from {limit} for {name}",
                hint=f"allowed: {limit}",
            )
        body["dimensions"] = dimensions
    user = merged.get("user")
    if user is not None:
        if not isinstance(user, str) or not user:
            raise InvalidInputError(f"user={_shown(user)} must be a non-empty string")
        body["user"] = user
    fmt = merged.get("encoding_format")
    if fmt is not None:
        if fmt not in _FORMATS:
            raise InvalidInputError(
                f"encoding_format={_shown(fmt)} is not one of {', '.join(map(repr, _FORMATS))}"
            )
        body["encoding_format"] = fmt
    timeout, read_timeout = call_timeouts(model, merged.get("timeout"), merged.get("read_timeout"))
    return _Options(body, timeout, read_timeout)


def _batch_tokens(text: str) -> int:
    """An overestimate of ``text``'s tokens: one for every three UTF-8 bytes."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return size // 3 + 1


def _batches(texts: list[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of each batch: at most MAX_INPUTS inputs, MAX_REQUEST_TOKENS tokens."""
    batches: list[tuple[int, int]] = []
    start = 0
    tokens = 0
    for index, text in enumerate(texts):
        cost = _batch_tokens(text)
        if index > start and (index - start >= MAX_INPUTS or tokens + cost > MAX_REQUEST_TOKENS):
            batches.append((start, index))
            start, tokens = index, 0
        tokens += cost
    batches.append((start, len(texts)))
    return batches


def _decode(embedding: Any) -> list[float] | None:
    """One ``embedding`` field: a list of numbers, or base64 of little-endian float32s."""
    if isinstance(embedding, list):
        return embedding
    if isinstance(embedding, str):
        try:
            raw = base64.b64decode(embedding, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) % 4:
            return None
        values = array.array("f")
        values.frombytes(raw)
        if sys.byteorder == "big":
            values.byteswap()
        return values.tolist()
    return None


def _parse(wire: WireResponse, count: int) -> tuple[list[list[float]], int | None]:
    """The vectors of one batch's answer, in input order, and its prompt tokens."""

    def bad(what: str) -> ResponseParsingError:
        return ResponseParsingError(
            f"{wire.endpoint} answered an embeddings request with {what}",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )

    data = wire.data
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise bad("no 'data' list")
    if len(items) != count:
        raise bad(f"{len(items)} vectors for {count} inputs")
    vectors: list[list[float] | None] = [None] * count
    for position, item in enumerate(items):
        index = item.get("index", position) if isinstance(item, dict) else None
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            raise bad(f"a vector whose index is {_shown(index)}")
        if vectors[index] is not None:
            raise bad(f"two vectors for input {index}")
        vector = _decode(item.get("embedding"))
        if vector is None:
            raise bad(f"an unreadable vector for input {index}")
        vectors[index] = vector
    filled = [vector for vector in vectors if vector is not None]
    if len(filled) != count:
        raise bad(f"{len(filled)} vectors for {count} inputs")
    usage = data.get("usage") if isinstance(data, dict) else None
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        tokens = None
    return filled, tokens


async def embed(
    model: OpenAIModel, texts: str | Sequence[str], ctx: RequestContext | None, params: dict[str, Any]
) -> EmbeddingResponse:
    """Embed ``texts`` (see the module docstring)."""
    started = time.perf_counter()
    clock_start = time.monotonic()
    inputs = _inputs(texts)
    options = _options(model, params)
    model_id = model.metadata.model_id
    deadline = None if options.timeout is None else clock_start + options.timeout

    async def send(start: int, end: int) -> tuple[WireResponse, list[list[float]], int | None]:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise RequestTimeoutError(
                f"the embeddings call ran out of time before inputs {start}-{end - 1} were sent",
                hint="pass a longer timeout=",
            )
        payload = {"model": model_id, "input": inputs[start:end], **options.body}
        request = WireRequest(
            "embeddings",
            payload,
            model=model_id,
            read_timeout=options.read_timeout,
            total_timeout=remaining,
        )
        wire = await model._connector.send(request, ctx)
        vectors, tokens = _parse(wire, end - start)
        return wire, vectors, tokens

    batches = _batches(inputs)
    results = await gather_bounded(lambda span: send(*span), batches, CONCURRENCY)
    vectors = [vector for _, batch, _ in results for vector in batch]
    counts = [tokens for _, _, tokens in results if tokens is not None]
    usage = Usage(input_tokens=sum(counts)) if counts else None
    first = results[0][0]
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
