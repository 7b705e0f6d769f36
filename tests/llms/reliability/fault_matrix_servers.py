"""Endpoints that fail in each way, for the fault matrix and deadline tests.

* :func:`closed_port` — a port that is bound but never listens: connecting is refused.
* :class:`NoDNSResolver` — an aiohttp resolver whose every lookup fails with ``socket.gaierror``
  (the suite's network guard forbids real DNS; this replaces the lookup, not the guard).
* :class:`TLSRejectingServer` — accepts TCP and answers the TLS handshake with a throw-away
  self-signed certificate (made by ``openssl`` at test time) that the client cannot verify.
* :class:`OllamaFaultServer` — a small fake Ollama ``/api/chat`` server (the simulator speaks
  only the OpenAI and Azure wire) that applies the simulator's own :class:`Fault` objects to
  Ollama's NDJSON wire, so one fault vocabulary drives every provider.
* :class:`ReplayServer` — answers every request with a given (recorded, possibly cut) stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from local_http import serve_locally

from core.llms.simulator import Fault
from core.llms.simulator.faults import FaultQueue
from core.llms.simulator.responder import drop_connection

# -- endpoints that fail before HTTP -----------------------------------------------------------


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A local port that is bound but not listening (so nobody else takes it): connecting to it
    is refused (ECONNREFUSED)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


class NoDNSResolver(AbstractResolver):
    """Every lookup fails with ``socket.gaierror(EAI_NONAME)``, as for an unknown host name.

    Install it with ``monkeypatch.setattr(aiohttp.connector, "DefaultResolver", NoDNSResolver)``.
    ``lookups`` counts the attempts (class-wide; reset it per test).
    """

    lookups = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        type(self).lookups += 1
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


class TLSRejectingServer:
    """Accepts TCP connections on 127.0.0.1 and offers a certificate the client does not trust.

    ``connections`` counts accepted connections (one per client attempt).
    """

    def __init__(self, cert: Path, key: Path) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        self._server: asyncio.Server | None = None
        self.connections = 0
        self.port = 0

    async def __aenter__(self) -> TLSRejectingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await writer.start_tls(self._context)  # the client rejects the certificate
        except (ssl.SSLError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ssl.SSLError, OSError):
                await writer.wait_closed()


# -- a fake Ollama server that understands the simulator's faults ------------------------------

_OLLAMA_PIECES = ("Simulated", " answer", " from", " Ollama")


def _line(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _delta(text: str) -> bytes:
    return _line({"model": "llama3.2", "message": {"role": "assistant", "content": text}, "done": False})


def _done(text: str = "") -> bytes:
    return _line(
        {
            "model": "llama3.2",
            "message": {"role": "assistant", "content": text},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 12,
            "eval_count": 4,
        }
    )


def _ollama_error(fault: Fault) -> dict[str, Any]:
    if isinstance(fault.body, dict):
        return fault.body
    return {"error": f"simulated error (HTTP {fault.status or 500})"}


class OllamaFaultServer:
    """``POST /api/chat`` answering ``"Simulated answer from Ollama"`` (NDJSON when streamed), with
    the simulator's :class:`Fault` semantics (see ``core.llms.simulator.faults``)."""

    def __init__(self) -> None:
        self.faults = FaultQueue()
        self.request_count = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    def enqueue(self, *faults: Fault) -> None:
        self.faults.enqueue(*faults)

    def set_default_fault(self, fault: Fault | None) -> None:
        self.faults.set_default(fault)

    async def __aenter__(self) -> OllamaFaultServer:
        app = web.Application()
        app.router.add_post("/api/chat", self._chat)
        self._runner, port = await serve_locally(app, shutdown_timeout=0.25, handler_cancellation=True)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.request_count += 1
        stream = (await request.json()).get("stream") is True
        fault = self.faults.next()
        if fault is None:
            return await (self._stream(request, None) if stream else self._whole(request, None))
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop is not None and (fault.drop == "before_headers" or not stream):
            return drop_connection(request, reset=fault.reset)
        if fault.replaces_response:
            body = fault.body if isinstance(fault.body, str) else json.dumps(_ollama_error(fault))
            return web.Response(
                status=fault.status or 200,
                text=body,
                content_type="application/json",
                headers=fault.response_headers(),
            )
        return await (self._stream(request, fault) if stream else self._whole(request, fault))

    async def _whole(self, request: web.Request, fault: Fault | None) -> web.StreamResponse:
        data = _done("".join(_OLLAMA_PIECES)).rstrip(b"\n")
        if fault is not None and fault.error_event:
            data = json.dumps(_ollama_error(fault)).encode()
        elif fault is not None and fault.malformed_json:
            data = b'{"model":"llama3.2","message":{"role":'
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(data)
        await response.prepare(request)
        if fault is not None and fault.stall:
            await asyncio.sleep(fault.stall)
        if fault is not None and fault.truncate_stream:
            await response.write(data[: len(data) // 2])
            drop_connection(request)
            return response
        await response.write(data)
        await response.write_eof()
        return response

    async def _stream(self, request: web.Request, fault: Fault | None) -> web.StreamResponse:
        lines = [_delta(p) for p in _OLLAMA_PIECES]
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        if fault is None:
            await response.write(b"".join([*lines, _done()]))
            await response.write_eof()
            return response
        if fault.drop is not None:
            if fault.drop == "after_first_chunk":
                await response.write(lines[0])
            if fault.reset:
                await asyncio.sleep(0.02)  # let the client read what was sent before the RST
            drop_connection(request, reset=fault.reset)
            return response
        early = fault.at == "before_first_chunk"
        if not early:
            await response.write(lines[0])
            lines = lines[1:]
        if fault.stall:
            await asyncio.sleep(fault.stall)
        if fault.error_event:
            await response.write(_line(_ollama_error(fault)))
        elif fault.malformed_json:
            await response.write(b'{"model":"llama3.2","message":\n')
        elif fault.truncate_stream:
            await response.write(b"".join(lines[: 0 if early else len(lines) // 2]))
        else:
            await response.write(b"".join([*lines, _done()]))
        await response.write_eof()
        return response


class ReplayServer:
    """Answers every POST with status 200 and ``body`` (a recorded stream, possibly cut), written
    in ``piece``-byte writes; ``request_count`` counts requests."""

    def __init__(self, body: bytes, content_type: str, piece: int = 512) -> None:
        self.body = body
        self.content_type = content_type
        self.piece = piece
        self.request_count = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> ReplayServer:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._replay)
        self._runner, port = await serve_locally(app, shutdown_timeout=0.25, handler_cancellation=True)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _replay(self, request: web.Request) -> web.StreamResponse:
        self.request_count += 1
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": self.content_type})
        await response.prepare(request)
        for start in range(0, len(self.body), self.piece):
            await response.write(self.body[start : start + self.piece])
        await response.write_eof()
        return response
