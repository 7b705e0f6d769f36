"""A minimal OpenAI-compatible mock server for the benchmarks (stdlib only, one asyncio process).

It is deliberately not the simulator: every response is precomputed bytes, requests are parsed
just enough to find their end, and nothing is validated, so the server costs as little as
possible and the client's cost dominates. Run as its own process, pinned to CPU 1::

    python -m benchmarks.mockserver [--port 0] [--cpu 1]

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

DEFAULT_CHUNKS = 100
DEFAULT_INTERVAL_MS = 0
_SCENARIO = re.compile(rb"^/k(\d+)-i(\d+)(/.*)$")
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


def completion_response() -> bytes:
    """The whole HTTP response of a non-streamed chat completion."""
    body = _dumps(
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
    head = _head(
        "200 OK",
        {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "x-request-id": "req_bench0000000000000000000001",
            "openai-processing-ms": "1",
        },
    )
    return head + body


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench0000000000000000000002",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": _MODEL,
        "system_fingerprint": "fp_bench01",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def stream_frames(chunks: int) -> list[bytes]:
    """The HTTP response head and one chunked-encoding frame per SSE event of a streamed answer.

    Events: a role chunk, ``chunks`` content chunks, a finish chunk, a usage chunk, ``[DONE]``;
    so a stream carries ``chunks + 3`` JSON events. The terminating zero-length frame is last.
    """
    events = [_chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [_chunk({"content": f" word{i}"}) for i in range(chunks)]
    events.append(_chunk({}, "stop"))
    usage = _chunk({})
    usage["choices"] = []
    usage["usage"] = _USAGE
    events.append(usage)
    payloads = [b"data: " + _dumps(e) + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]
    head = _head(
        "200 OK",
        {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Transfer-Encoding": "chunked",
            "Cache-Control": "no-cache",
            "x-request-id": "req_bench0000000000000000000002",
        },
    )
    frames = [b"%x\r\n%s\r\n" % (len(p), p) for p in payloads]
    return [head, *frames, b"0\r\n\r\n"]


class Stats:
    """Request counters, read through ``GET /_stats``."""

    def __init__(self) -> None:
        self.requests = 0
        self.streams = 0
        self.open_streams = 0
        self.peak_open_streams = 0

    def snapshot(self) -> bytes:
        body = _dumps(
            {
                "requests": self.requests,
                "streams": self.streams,
                "open_streams": self.open_streams,
                "peak_open_streams": self.peak_open_streams,
            }
        )
        self.peak_open_streams = self.open_streams
        return _head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body))}) + body


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
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

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
        stats.streams += 1
        stats.open_streams += 1
        stats.peak_open_streams = max(stats.peak_open_streams, stats.open_streams)
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


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    routes, stats = _Routes(), Stats()
    server = await loop.create_server(
        lambda: HTTPHandler(routes, stats), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    held, dead = refused_port()
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"READY {bound} {dead}\n")
    sys.stdout.flush()
    try:
        await server.serve_forever()
    finally:
        held.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=1, help="CPU to pin to (-1: no pinning)")
    args = parser.parse_args(argv)
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity") and args.cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {args.cpu})
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
