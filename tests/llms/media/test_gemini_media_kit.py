"""Shared helpers of the Gemini / Vertex AI media tests (no tests here).

* :data:`ROWS` — the catalogue rows the media modules serve (as proposed for the catalogue);
* :class:`KitModel` — a ``GeminiModel`` with the media methods delegating to the media modules
  (as the model class does once it serves them), so the modules are tested through the real
  ``_observe_call`` / ``_observed_stream`` wrappers;
* :class:`Scripted` — an in-memory connector answering from a script (request building and
  parsing without a server);
* :func:`sim_model` — a model on the real adapter and ``FailoverConnector`` against the simulator.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from multidict import CIMultiDict

from core.llms.interfaces import (
    LLMError,
    RequestContext,
    StreamInterruptedError,
    StreamParser,
    WireRequest,
    WireResponse,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.metadata import ModelMetadata
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.base.sse import SSEDecoder
from core.llms.providers.gemini.adapter import GeminiAdapter
from core.llms.providers.gemini.media_catalogue import ROWS, VERTEX_ONLY_ROWS, VERTEX_PRICES
from core.llms.providers.gemini.model import GeminiModel
from core.llms.providers.vertex.adapter import VertexAdapter
from core.llms.providers.vertex.settings import VertexSettings

T = TypeVar("T")

#: a key shaped like a Google API key: it must never show up in an error, repr or log.
KEY = "AIzaSyFAKE-test-key-0123456789abcdefghij"
TOKEN = "ya29.fake-access-token-0123456789"


def row(name: str, provider: str = "gemini") -> ModelMetadata:
    """The row of ``name`` as ``provider`` (``"gemini"`` or ``"vertex"``) serves it."""
    if provider == "vertex":
        if name in VERTEX_ONLY_ROWS:
            return VERTEX_ONLY_ROWS[name]
        return ROWS[name].replace(provider="vertex", pricing=VERTEX_PRICES.get(name, ROWS[name].pricing))
    return ROWS[name]


#: the model class the media tests make models from (GeminiModel serves the media methods).
KitModel = GeminiModel


def make_model(meta: ModelMetadata, connector: Any, defaults: dict[str, Any] | None = None) -> KitModel:
    cls = type(f"Kit_{meta.name}", (KitModel,), {"metadata": meta})
    return cls(connector, defaults=defaults)


def wire(
    data: Any = None,
    *,
    body: bytes | None = None,
    content_type: str = "application/json",
    endpoint: str = "ep",
) -> WireResponse:
    raw = body if body is not None else json.dumps(data).encode()
    return WireResponse(
        status=200,
        headers=CIMultiDict({"Content-Type": content_type}),
        body=raw,
        data=data if body is None else None,
        endpoint=endpoint,
        request_id="rid-1",
    )


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in events)


class Scripted:
    """An in-memory ``IConnector``: ``send`` answers from ``responses`` (an answer, an error, or a
    callable of the request); ``stream`` replays ``sse`` bytes through the model's parser.
    Records every request."""

    def __init__(self, responses: Sequence[Any] = (), sse: bytes = b"", endpoint: str = "ep") -> None:
        self.responses = list(responses)
        self.sse = sse
        self.endpoints = [endpoint]
        self.requests: list[WireRequest] = []

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        self.requests.append(request)
        item = self.responses.pop(0)
        if callable(item):
            item = item(request)
        if isinstance(item, LLMError):
            raise item
        return item  # type: ignore[no-any-return]

    async def stream(
        self,
        request: WireRequest,
        parser_factory: Callable[[str, str | None], StreamParser[T]],
        ctx: RequestContext | None = None,
    ) -> AsyncIterator[T]:
        self.requests.append(request)
        parser = parser_factory(self.endpoints[0], None)
        decoder = SSEDecoder()
        yielded = False
        for event in [*decoder.feed(self.sse), *decoder.close()]:
            for item in parser.feed(event):
                yielded = True
                yield item
        try:
            for item in parser.close():
                yield item
        except StreamInterruptedError:
            raise
        except LLMError as exc:
            if yielded:
                raise StreamInterruptedError("broke", cause=exc) from exc
            raise

    async def aclose(self) -> None:
        pass


FAST_RETRY = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


def sim_model(
    url: str,
    name: str,
    *,
    vertex: bool = False,
    api_key: str | None = KEY,
    token: str | None = None,
    backups: Sequence[dict[str, Any]] = (),
    defaults: dict[str, Any] | None = None,
    retry: RetryPolicy = FAST_RETRY,
    **endpoint: Any,
) -> KitModel:
    """A model for ``name`` on the real adapter and connector: the Gemini API at ``{url}/v1beta``,
    or Vertex AI at ``url`` (project ``proj``, location ``us-central1``) with a bearer ``token``."""
    if vertex:
        config = EndpointConfig(
            endpoint=url,
            api_key=None if token else api_key,
            token_provider=(lambda: token) if token else None,
            settings=VertexSettings(project="proj", location="us-central1"),
            **endpoint,
        )
        adapter: Any = VertexAdapter()
    else:
        config = EndpointConfig(endpoint=f"{url}/v1beta", api_key=api_key, **endpoint)
        adapter = GeminiAdapter()
    connector = FailoverConnector.from_endpoints(adapter, config, backups, retry)
    return make_model(row(name, "vertex" if vertex else "gemini"), connector, defaults)
