"""A minimal OpenAI-compatible mock server for the benchmarks, in two implementations.

It is deliberately not the simulator: every response is precomputed bytes and nothing is
validated, so the server costs as little as possible and the client's cost dominates. Run as its
own process, pinned to CPU 1::

    python -m benchmarks.mockserver [--port 0] [--cpu 1] [--impl raw|web] [--loop asyncio|uvloop]

* ``--impl raw`` (default): its own tiny HTTP/1.1 server on an ``asyncio.Protocol`` (stdlib
  only); requests are parsed just enough to find their end.
* ``--impl web``: an ``aiohttp.web`` application serving the same bytes: an independent HTTP
  implementation (aiohttp's server, its C parser, its response writer), closer to what a client
  meets in the field and to outside harnesses ("a mock server on uvloop").
* ``--loop uvloop`` runs either on uvloop's event loop instead of asyncio's (needs ``uvloop``).

The suite's flavours (``SERVERS`` in ``benchmarks/suite.py``): ``asyncio-raw`` (raw on asyncio,
the primary, every figure) and ``uvloop-web`` (web on uvloop: CPU per request).

It prints one line ``READY <port> <refused_port>`` on stdout once it listens. ``refused_port`` is
a port it holds bound but not listening, so connecting there is refused (the dead primary).

Routes (any method; ``/v1`` may be preceded by one scenario segment ``k<chunks>-i<interval_ms>``):

* ``POST [/k100-i0]/v1/chat/completions`` — a ``chat.completion`` JSON body, or, when the body
  contains ``"stream":true`` (or ``"stream": true``), an SSE stream in chunked transfer encoding:
  a role chunk, ``<chunks>`` content chunks, a finish chunk, a usage chunk (choices ``[]``) and
  ``data: [DONE]``. The head, the role chunk and the first content chunk go out at once, then
  ``<interval_ms>`` passes before each further event (0: the server only yields to its loop
  between two events, so concurrent streams interleave but nothing waits).
* ``GET /_stats`` — ``{"requests", "streams", "open_streams", "peak_open_streams"}``; resets the
  peak to the current count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import sys
from collections.abc import Callable
from typing import Any, cast

DEFAULT_CHUNKS = 100
DEFAULT_INTERVAL_MS = 0
_SCENARIO = re.compile(rb"^/k(\d+)-i(\d+)(/.*)$")
_SCENARIO_STR = re.compile(r"^/k(\d+)-i(\d+)(/.*)$")
_CREATED = 1727346169
_MODEL = "gpt-4o-mini-2024-07-18"
_ANSWER = (
    "Hello! This is the benchmark's fixed answer, about as long as a short real reply, so that "
    "parsing it costs what parsing a typical answer costs."
)
_USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 40,
    "total_tokens": 59,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _head(status: str, fields: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def completion_body() -> bytes:
    """The JSON body of a non-streamed chat completion."""
    return _dumps(
        {
            "id": "chatcmpl-bench0000000000000000000001",
            "object": "chat.completion",
            "created": _CREATED,
            "model": _MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": _ANSWER, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _USAGE,
            "service_tier": "default",
            "system_fingerprint": "fp_bench01",
        }
    )


#: the headers of a non-streamed answer besides Content-Length (the web flavour adds its own).
COMPLETION_HEADERS = {
    "Content-Type": "application/json",
    "x-request-id": "req_bench0000000000000000000001",
    "openai-processing-ms": "1",
}
#: the headers of a streamed answer (chunked transfer encoding).
STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "x-request-id": "req_bench0000000000000000000002",
}


def completion_response() -> bytes:
    """The whole HTTP response of a non-streamed chat completion."""
    body = completion_body()
    return _head("200 OK", {**COMPLETION_HEADERS, "Content-Length": str(len(body))}) + body


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench0000000000000000000002",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": _MODEL,
        "system_fingerprint": "fp_bench01",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def stream_payloads(chunks: int) -> list[bytes]:
    """The SSE events of a streamed answer, one ``data: ...\\n\\n`` each: a role chunk, ``chunks``
    content chunks, a finish chunk, a usage chunk, ``[DONE]`` (``chunks + 3`` JSON events)."""
    events = [_chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [_chunk({"content": f" word{i}"}) for i in range(chunks)]
    events.append(_chunk({}, "stop"))
    usage = _chunk({})
    usage["choices"] = []
    usage["usage"] = _USAGE
    events.append(usage)
    return [b"data: " + _dumps(e) + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]


def stream_frames(chunks: int) -> list[bytes]:
    """The HTTP response head and one chunked-encoding frame per SSE event of a streamed answer
    (see :func:`stream_payloads`). The terminating zero-length frame is last."""
    head = _head("200 OK", {**STREAM_HEADERS, "Transfer-Encoding": "chunked"})
    frames = [b"%x\r\n%s\r\n" % (len(p), p) for p in stream_payloads(chunks)]
    return [head, *frames, b"0\r\n\r\n"]


class Stats:
    """Request counters, read through ``GET /_stats``."""

    def __init__(self) -> None:
        self.requests = 0
        self.streams = 0
        self.open_streams = 0
        self.peak_open_streams = 0

    def snapshot_body(self) -> bytes:
        """The counters as JSON; resets the peak of open streams to the current count."""
        body = _dumps(
            {
                "requests": self.requests,
                "streams": self.streams,
                "open_streams": self.open_streams,
                "peak_open_streams": self.peak_open_streams,
            }
        )
        self.peak_open_streams = self.open_streams
        return body

    def snapshot(self) -> bytes:
        body = self.snapshot_body()
        return _head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body))}) + body

    def stream_opened(self) -> None:
        self.streams += 1
        self.open_streams += 1
        self.peak_open_streams = max(self.peak_open_streams, self.open_streams)


class _Routes:
    """Precomputed responses per scenario segment."""

    def __init__(self) -> None:
        self.completion = completion_response()
        self._frames: dict[int, list[bytes]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def frames(self, chunks: int) -> list[bytes]:
        frames = self._frames.get(chunks)
        if frames is None:
            frames = self._frames[chunks] = stream_frames(chunks)
        return frames


_NOT_FOUND = _head("404 Not Found", {"Content-Type": "text/plain", "Content-Length": "9"}) + b"not found"
_BAD_REQUEST = (
    _head("400 Bad Request", {"Content-Type": "text/plain", "Content-Length": "30", "Connection": "close"})
    + b"chunked request body: not here"
)


class HTTPHandler(asyncio.Protocol):
    """HTTP/1.1 keep-alive, Content-Length request bodies, one request at a time per connection."""

    def __init__(self, routes: _Routes, stats: Stats) -> None:
        self.routes = routes
        self.stats = stats
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a stream is being written: later requests wait in the buffer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy:
            self._process()

    def _process(self) -> None:
        buf = self.buf
        while not self.busy and self.transport is not None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            length = 0
            lower = head.lower()
            if b"transfer-encoding: chunked" in lower:
                self.transport.write(_BAD_REQUEST)
                self.transport.close()
                return
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else len(lower)])
            total = end + 4 + length
            if len(buf) < total:
                return
            body = bytes(buf[end + 4 : total])
            del buf[:total]
            self._respond(head, body)

    def _respond(self, head: bytes, body: bytes) -> None:
        transport = self.transport
        assert transport is not None
        line_end = head.find(b"\r\n")
        parts = head[: line_end if line_end >= 0 else len(head)].split(b" ")
        path = parts[1] if len(parts) > 1 else b"/"
        chunks, interval = DEFAULT_CHUNKS, DEFAULT_INTERVAL_MS
        scenario = _SCENARIO.match(path)
        if scenario is not None:
            chunks, interval, path = int(scenario[1]), int(scenario[2]), scenario[3]
        if path.endswith(b"/chat/completions"):
            self.stats.requests += 1
            if b'"stream":true' in body or b'"stream": true' in body:
                self.busy = True
                task = asyncio.ensure_future(self._stream(self.routes.frames(chunks), interval / 1000.0))
                self.routes.tasks.add(task)
                task.add_done_callback(self.routes.tasks.discard)
            else:
                transport.write(self.routes.completion)
        elif path.startswith(b"/_stats"):
            transport.write(self.stats.snapshot())
        else:
            transport.write(_NOT_FOUND)

    async def _stream(self, frames: list[bytes], interval: float) -> None:
        stats = self.stats
        stats.stream_opened()
        try:
            transport = self.transport
            if transport is None:
                return
            transport.write(frames[0] + frames[1] + frames[2])  # head, role chunk, first text
            for frame in frames[3:]:
                await asyncio.sleep(interval)
                if transport.is_closing():
                    return
                transport.write(frame)
        finally:
            stats.open_streams -= 1
            self.busy = False
        if self.buf:
            self._process()


def refused_port() -> tuple[socket.socket, int]:
    """A socket bound to a loopback port but not listening: connecting to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, int(sock.getsockname()[1])


def _ready(port: int, dead: int) -> None:
    sys.stdout.write(f"READY {port} {dead}\n")
    sys.stdout.flush()


async def serve(port: int) -> None:
    """The raw flavour: :class:`HTTPHandler` on the running loop's ``create_server``."""
    loop = asyncio.get_running_loop()
    routes, stats = _Routes(), Stats()
    server = await loop.create_server(
        lambda: HTTPHandler(routes, stats), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    held, dead = refused_port()
    _ready(server.sockets[0].getsockname()[1], dead)
    try:
        await server.serve_forever()
    finally:
        held.close()


def web_app(stats: Stats) -> Any:
    """The web flavour: one catch-all ``aiohttp.web`` handler serving the same routes and bytes
    as :class:`HTTPHandler` (aiohttp adds its own ``Date``, ``Server`` and length headers)."""
    from aiohttp import web

    completion = completion_body()
    payloads: dict[int, list[bytes]] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        chunks, interval = DEFAULT_CHUNKS, DEFAULT_INTERVAL_MS
        scenario = _SCENARIO_STR.match(path)
        if scenario is not None:
            chunks, interval, path = int(scenario[1]), int(scenario[2]), scenario[3]
        if path.endswith("/chat/completions"):
            stats.requests += 1
            body = await request.read()
            if b'"stream":true' not in body and b'"stream": true' not in body:
                return web.Response(body=completion, headers=COMPLETION_HEADERS)
            events = payloads.get(chunks)
            if events is None:
                events = payloads[chunks] = stream_payloads(chunks)
            return await _web_stream(request, events, interval / 1000.0)
        if path.startswith("/_stats"):
            return web.Response(body=stats.snapshot_body(), content_type="application/json")
        return web.Response(status=404, text="not found")

    async def _web_stream(request: web.Request, events: list[bytes], interval: float) -> web.StreamResponse:
        stats.stream_opened()
        try:
            resp = web.StreamResponse(headers=STREAM_HEADERS)
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(events[0] + events[1])  # role chunk and first text, with the head
            for event in events[2:]:
                await asyncio.sleep(interval)
                await resp.write(event)
            await resp.write_eof()
            return resp
        finally:
            stats.open_streams -= 1

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def serve_web(port: int) -> None:
    """The web flavour: :func:`web_app` behind aiohttp's ``AppRunner`` (no access log)."""
    from aiohttp import web

    runner = web.AppRunner(web_app(Stats()), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096, reuse_address=True)
    await site.start()
    held, dead = refused_port()
    server = getattr(site, "_server", None)
    bound = server.sockets[0].getsockname()[1] if server is not None else port
    _ready(bound, dead)
    try:
        await asyncio.Event().wait()
    finally:
        held.close()
        await runner.cleanup()


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """A new event loop of the named kind: ``asyncio`` (the default loop) or ``uvloop``."""
    if name == "uvloop":
        import uvloop  # ImportError: the suite reports this flavour missing

        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    return asyncio.new_event_loop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=1, help="CPU to pin to (-1: no pinning)")
    parser.add_argument(
        "--impl", choices=("raw", "web"), default="raw", help="raw asyncio.Protocol or aiohttp.web"
    )
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio", help="the event loop")
    args = parser.parse_args(argv)
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity") and args.cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {args.cpu})
    try:
        factory = loop_factory(args.loop)
    except ImportError as exc:
        sys.stdout.write(f"MISSING {exc}\n")
        sys.stdout.flush()
        sys.exit(3)
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve_web(args.port) if args.impl == "web" else serve(args.port))


if __name__ == "__main__":
    main()
