"""Embeddings routes: registered by :meth:`.routes.ProviderRoutes.add_to`.

::

    POST /v1/embeddings                                        OpenAI
    POST /openai/deployments/{deployment}/embeddings           Azure (?api-version=)
    POST /openai/v1/embeddings                                 Azure's v1 API (not when the
                                                               simulator plays a host)

Each input gets a deterministic unit vector made from a hash of its text (the same text always
gets the same vector, any other text an unrelated one), of the model's size — 1536 for
text-embedding-3-small and ada-002, 3072 for text-embedding-3-large (and any other model name:
1536) — or ``dimensions`` long: a shorter vector is the longer one's start, normalised again,
as text-embedding-3 models shorten theirs. ``encoding_format: "base64"`` sends each vector as
base64 of little-endian float32s. ``usage`` counts about one token per four characters (at least
one per input; a token array counts its length).

Checked like the real API (400 with OpenAI's error body): ``input`` a string, a list of at most
2048 strings (none empty), a token array or a list of them; an input over 8192 tokens
(``context_length_exceeded``); more than 300,000 tokens in one request; ``dimensions`` an
integer from 1 to the model's size, refused by text-embedding-ada-002; ``encoding_format``
``"float"`` or ``"base64"``; ``user`` a string. Scripted faults apply as to chat.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import struct
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .openai_request import unparseable_body
from .openai_wire import Rejection, error_envelope
from .responder import send_body

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import Family, ProviderRoutes

__all__ = ["MAX_INPUTS", "MAX_INPUT_TOKENS", "MAX_REQUEST_TOKENS", "add_routes", "embedding_vector"]

#: inputs one request may hold.
MAX_INPUTS = 2048
#: tokens one input may hold.
MAX_INPUT_TOKENS = 8192
#: tokens one request may hold, all inputs together.
MAX_REQUEST_TOKENS = 300_000
_DEFAULT_DIMENSIONS = 1536
_INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)


def model_dimensions(model: str) -> int:
    """The vector size of ``model`` (by its name; 1536 for a name it does not know)."""
    return 3072 if "3-large" in model else _DEFAULT_DIMENSIONS


def _fixed_size(model: str) -> bool:
    """Does ``model`` refuse ``dimensions`` (text-embedding-ada-002)?"""
    return "ada" in model


@functools.lru_cache(maxsize=4096)
def embedding_vector(key: bytes, dimensions: int) -> tuple[float, ...]:
    """The unit vector of an input (``key``: its UTF-8 text, or its token array's JSON)."""
    raw = hashlib.shake_256(b"core-llms-sim-embedding\0" + key).digest(2 * dimensions)
    values = struct.unpack(f"<{dimensions}h", raw)
    norm = math.hypot(*values) or 1.0
    return tuple(v / norm for v in values)


def _reject(message: str, param: str | None = None, code: str | None = None) -> Rejection:
    return Rejection(400, error_envelope(message, param=param, code=code))


def _tokens(item: str | list[int]) -> int:
    return len(item) if isinstance(item, list) else max(1, math.ceil(len(item) / 4))


def _inputs(value: Any) -> list[str | list[int]]:
    """The inputs of ``input``; a :class:`Rejection` like the real API's when it is not valid."""
    if value is None:
        raise _reject("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value and all(type(v) is int for v in value):
        items = [value]  # one token array
    elif isinstance(value, list):
        items = value
    else:
        raise _reject("Invalid type for 'input': expected a string or an array.", "input", "invalid_type")
    if not items:
        raise _reject(_INVALID_INPUT, "input")
    if len(items) > MAX_INPUTS:
        raise _reject(
            f"Too many inputs. The max number of inputs is {MAX_INPUTS}. We recommend batching your inputs "
            "into smaller requests.",
            "input",
        )
    for item in items:
        ok_text = isinstance(item, str) and item != ""
        ok_tokens = isinstance(item, list) and item and all(type(t) is int and t >= 0 for t in item)
        if not (ok_text or ok_tokens):
            raise _reject(_INVALID_INPUT, "input")
    return items


def _dimensions(body: dict[str, Any], model: str) -> int:
    value = body.get("dimensions")
    largest = model_dimensions(model)
    if value is None:
        return largest
    if isinstance(value, bool) or not isinstance(value, int):
        raise _reject("Invalid type for 'dimensions': expected an integer.", "dimensions", "invalid_type")
    if _fixed_size(model):
        raise _reject("This model does not support specifying dimensions.", "dimensions")
    if not 1 <= value <= largest:
        raise _reject(
            f"Invalid value for 'dimensions': {value}. It must be between 1 and {largest}.",
            "dimensions",
            "invalid_value",
        )
    return value


def embeddings_body(body: Any, deployment: str | None) -> dict[str, Any]:
    """The answer to an embeddings request (a :class:`Rejection` when it is not valid)."""
    if not isinstance(body, dict):
        raise unparseable_body()
    model = deployment or body.get("model")
    if not model:
        raise _reject("You must provide a model parameter, e.g. 'model': 'text-embedding-3-small'.", "model")
    if not isinstance(model, str):
        raise _reject("Invalid type for 'model': expected a string.", "model", "invalid_type")
    items = _inputs(body.get("input"))
    dimensions = _dimensions(body, model)
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise _reject(
            f"Invalid value: '{str(fmt)[:50]}'. Supported values are: 'float' and 'base64'.",
            "encoding_format",
            "invalid_value",
        )
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise _reject("Invalid type for 'user': expected a string.", "user", "invalid_type")
    total = 0
    for item in items:
        tokens = _tokens(item)
        if tokens > MAX_INPUT_TOKENS:
            raise _reject(
                f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however you requested "
                f"{tokens} tokens ({tokens} in your prompt; 0 for the completion). Please reduce your "
                "prompt; or completion length.",
                code="context_length_exceeded",
            )
        total += tokens
    if total > MAX_REQUEST_TOKENS:
        raise _reject(
            f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
            code="max_tokens_per_request",
        )
    data = []
    for index, item in enumerate(items):
        key = item.encode() if isinstance(item, str) else json.dumps(item).encode()
        vector = embedding_vector(key, dimensions)
        embedding: Any = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode("ascii")
            if fmt == "base64"
            else list(vector)
        )
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the embeddings routes to ``app``."""

    async def answer(
        request: web.Request, family: Family, deployment: str | None, *, check_api_version: bool
    ) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            data = json.dumps(embeddings_body(body, deployment), separators=(",", ":")).encode()
            return await send_body(request, data, headers, fault, f"emb-sim-{n}")

        return await routes.serve(request, family, deployment, produce, check_api_version=check_api_version)

    async def openai_embeddings(request: web.Request) -> web.StreamResponse:
        return await answer(request, "openai", None, check_api_version=False)

    async def azure_embeddings(request: web.Request) -> web.StreamResponse:
        return await answer(request, "azure", request.match_info["deployment"], check_api_version=True)

    async def azure_v1_embeddings(request: web.Request) -> web.StreamResponse:
        return await answer(request, "azure", None, check_api_version=False)

    app.router.add_post("/v1/embeddings", openai_embeddings)
    app.router.add_post("/openai/deployments/{deployment}/embeddings", azure_embeddings)
    if routes.azure_v1:
        app.router.add_post("/openai/v1/embeddings", azure_v1_embeddings)
