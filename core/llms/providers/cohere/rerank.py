"""Rerank (rerank-v3.5, rerank-english-v3.0): ``rerank`` of
:class:`~core.llms.providers.cohere.model.CohereModel`, over ``POST /v2/rerank``.

``rerank(query, documents)`` sends the query and the documents (strings) in one request and
returns a :class:`RerankResponse` whose ``results`` are the documents most relevant first: each a
:class:`RerankResult` with the document's ``index`` in ``documents`` and its ``relevance_score``
(0..1). Cohere recommends at most 1,000 documents per request; longer documents are truncated to
``max_tokens_per_doc`` tokens.

Parameters (keyword arguments, or the model's ``defaults``): ``top_n`` (return only the best n),
``max_tokens_per_doc`` (Cohere's default: 4096), ``return_documents`` (``True``: each result's
``document`` is filled with its text, here: nothing more is sent or received), ``priority``,
``model``, ``timeout``, ``read_timeout``.

Cost: Cohere bills rerank in search units (a query with up to 100 documents, each up to 500
tokens, is one; ``meta.billed_units.search_units``), priced per 1,000 (the row's
``pricing.per_1k_searches``). ``usage`` holds the tokens Cohere counted, when it says
(``meta.tokens``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...interfaces.context import RequestContext
from ...interfaces.errors import InvalidInputError, ResponseParsingError
from ...interfaces.llm_interfaces import WireRequest, WireResponse
from ...interfaces.media import RerankResponse, RerankResult
from ...interfaces.types import Usage
from ..dialects.cohere_v2.parsing import billed_count
from ._calls import TRANSPORT_PARAMS, Transport, call_params, shown

if TYPE_CHECKING:
    from .model import CohereModel

__all__ = ["rerank", "search_cost"]

_PARAMETERS = frozenset({"top_n", "max_tokens_per_doc", "return_documents", "priority"}) | TRANSPORT_PARAMS


def _documents(documents: Any) -> list[str]:
    if isinstance(documents, str | bytes | bytearray) or not isinstance(documents, Sequence):
        raise InvalidInputError(
            f"documents must be a sequence of strings, not {type(documents).__name__}",
            hint="rerank('query', ['first document', 'second document'])",
        )
    if not documents:
        raise InvalidInputError("documents is empty: nothing to rerank")
    for index, doc in enumerate(documents):
        if not isinstance(doc, str):
            raise InvalidInputError(f"documents[{index}] must be a string, not {type(doc).__name__}")
    return list(documents)


def _integer(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInputError(f"{name}={shown(value)} must be an integer >= {low}")
    return value


def search_cost(model: CohereModel, search_units: int) -> float | None:
    """USD cost of ``search_units`` at the row's price per 1K searches (None when unpriced)."""
    price = model.metadata.pricing.per_1k_searches
    return None if price is None else search_units * price / 1000


def _parse(wire: WireResponse, count: int) -> tuple[list[RerankResult], int, Usage | None]:
    def bad(what: str) -> ResponseParsingError:
        return ResponseParsingError(
            f"{wire.endpoint} answered a rerank request with {what}",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )

    data = wire.data
    items = data.get("results") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise bad("no 'results' list")
    seen: set[int] = set()
    results: list[RerankResult] = []
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get("relevance_score") if isinstance(item, dict) else None
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            raise bad(f"a result whose index is {shown(index)}")
        if index in seen:
            raise bad(f"two results for document {index}")
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise bad(f"a result whose relevance_score is {shown(score)}")
        seen.add(index)
        results.append(RerankResult(index=index, relevance_score=float(score)))
    results.sort(key=lambda r: -r.relevance_score)  # (stable: ties keep the server's order)
    meta = data.get("meta") if isinstance(data, dict) else None
    billed = meta.get("billed_units") if isinstance(meta, dict) else None
    units = billed_count(billed.get("search_units")) if isinstance(billed, dict) else 0
    tokens = meta.get("tokens") if isinstance(meta, dict) else None
    usage = None
    if isinstance(tokens, dict) and tokens.get("input_tokens") is not None:
        usage = Usage(
            input_tokens=billed_count(tokens.get("input_tokens")),
            output_tokens=billed_count(tokens.get("output_tokens")),
        )
    return results, units, usage


async def rerank(
    model: CohereModel,
    query: str,
    documents: Sequence[str],
    ctx: RequestContext | None,
    params: dict[str, Any],
) -> RerankResponse:
    """Rerank ``documents`` by relevance to ``query`` (see the module docstring)."""
    started = time.perf_counter()
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("query must be a non-empty string")
    docs = _documents(documents)
    merged = call_params(model, params, _PARAMETERS, call="rerank")
    transport = Transport(model, merged)
    payload: dict[str, Any] = {"model": transport.model_id, "query": query, "documents": docs}
    if "top_n" in merged:
        payload["top_n"] = _integer("top_n", merged["top_n"], 1)
    if "max_tokens_per_doc" in merged:
        payload["max_tokens_per_doc"] = _integer("max_tokens_per_doc", merged["max_tokens_per_doc"], 1)
    if "priority" in merged:
        payload["priority"] = _integer("priority", merged["priority"], 0)
    fill = merged.get("return_documents", False)
    if not isinstance(fill, bool):
        raise InvalidInputError(f"return_documents={shown(fill)} must be True or False")
    request = WireRequest(
        "rerank",
        payload,
        model=transport.model_id,
        model_fixed=transport.model_fixed,
        read_timeout=transport.read_timeout,
        total_timeout=transport.remaining("the request was sent"),
    )
    wire = await model._connector.send(request, ctx)
    results, units, usage = _parse(wire, len(docs))
    if fill:
        for result in results:
            result.document = docs[result.index]
    return RerankResponse(
        results=results,
        model=model.name,
        provider=model.provider,
        usage=usage,
        cost=search_cost(model, units) if units else None,
        endpoint=wire.endpoint,
        request_id=wire.request_id,
        latency=time.perf_counter() - started,
    )
