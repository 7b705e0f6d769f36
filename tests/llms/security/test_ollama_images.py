"""The Ollama plugin downloads ``ImagePart(url=https://...)`` through the safe downloader: private
addresses refused by default (nothing sent to the model), allowed by the model's
``image_downloads`` policy, size-limited; ``data:`` URLs are never fetched."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from model_classes import model_class

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import InvalidInputError, UnsafeURLError
from core.llms.interfaces.llm_interfaces import WireEvent, WireRequest, WireResponse
from core.llms.interfaces.messages import ImagePart, Message
from core.llms.providers.base.download import DownloadPolicy

from .support import LocalServer

Gemma3 = model_class("ollama/gemma3")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
ANSWER = {
    "model": "llama3.2",
    "message": {"role": "assistant", "content": "a cat"},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 3,
    "eval_count": 2,
}


class Capture:
    """An IConnector that records the requests and answers like Ollama would."""

    endpoints = ("http://ollama.test:11434",)

    def __init__(self) -> None:
        self.requests: list[WireRequest] = []

    async def send(self, request: WireRequest, ctx: RequestContext | None = None) -> WireResponse:
        self.requests.append(request)
        return WireResponse(status=200, headers={}, body=b"", data=ANSWER, endpoint=self.endpoints[0])

    async def stream(
        self, request: WireRequest, parser_factory: Callable[[str, str | None], Any], ctx: Any = None
    ) -> AsyncIterator[Any]:
        self.requests.append(request)
        parser = parser_factory(self.endpoints[0], None)
        for item in parser.feed(WireEvent(data=json.dumps(ANSWER))):
            yield item
        for item in parser.close():
            yield item

    async def aclose(self) -> None:
        return None


async def png(request: web.Request) -> web.Response:
    return web.Response(body=PNG, content_type="image/png")


async def octet(request: web.Request) -> web.Response:
    return web.Response(body=PNG, content_type="application/octet-stream")


async def html(request: web.Request) -> web.Response:
    return web.Response(text="<html>not an image</html>", content_type="text/html")


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(
        [("GET", "/cat.png", png), ("GET", "/blob", octet), ("GET", "/page", html)]
    ) as srv:
        yield srv


def ask(url: str) -> list[Message]:
    return [Message.user("what is this?", ImagePart(url=url))]


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in stream]


async def test_private_image_urls_are_refused_by_default(server: LocalServer) -> None:
    connector = Capture()
    model = Gemma3(connector)
    with pytest.raises(UnsafeURLError, match="loopback"):
        await model.get_answer(ask(f"{server.url}/cat.png"))
    with pytest.raises(UnsafeURLError, match="loopback"):
        await collect(model.stream_answer(ask(f"http://localhost:{server.port}/cat.png")))
    assert connector.requests == [] and server.seen == []


@pytest.mark.parametrize("stream", [False, True])
async def test_allowed_image_urls_are_sent_as_bytes(server: LocalServer, stream: bool) -> None:
    connector = Capture()
    model = Gemma3(connector)
    model.image_downloads = DownloadPolicy(allow_private=True, max_bytes=1000, timeout=2)
    messages = [*ask(f"{server.url}/cat.png"), Message.user(ImagePart(url=f"{server.url}/blob"))]
    if stream:
        chunks = await collect(model.stream_answer(messages))
        assert "".join(c.text for c in chunks) == "a cat"
    else:
        assert (await model.get_answer(messages)).text == "a cat"
    [request] = connector.requests
    sent = [m.get("images") for m in request.payload["messages"]]
    assert sent == [[base64.b64encode(PNG).decode()], [base64.b64encode(PNG).decode()]]


async def test_download_limits_apply(server: LocalServer) -> None:
    connector = Capture()
    model = Gemma3(connector)
    model.image_downloads = DownloadPolicy(allow_private=True, max_bytes=10, timeout=2)
    with pytest.raises(InvalidInputError, match="larger than the download limit"):
        await model.get_answer(ask(f"{server.url}/cat.png"))
    model.image_downloads = DownloadPolicy(allow_private=True)
    with pytest.raises(InvalidInputError, match="not PNG, JPEG, GIF or WebP"):
        await model.get_answer(ask(f"{server.url}/page"))
    assert connector.requests == []


async def test_data_urls_are_never_fetched() -> None:
    connector = Capture()
    encoded = base64.b64encode(PNG).decode()
    await Gemma3(connector).get_answer(ask(f"data:image/png;base64,{encoded}"))
    assert connector.requests[0].payload["messages"][0]["images"] == [encoded]
