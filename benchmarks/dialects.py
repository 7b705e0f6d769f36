"""CPU per streamed chunk of the native dialects (Anthropic, Gemini, Bedrock), against a baseline
reading the same bytes.

    python -m benchmarks.dialects serve --port P            the stream server (one process)
    python -m benchmarks.dialects measure DIALECT VARIANT --url URL [--streams N] [--concurrency C]

Each dialect's route answers every request with the same stream of :data:`CHUNKS` text chunks:

* ``anthropic``: the Messages API's SSE events (``content_block_delta`` / ``text_delta`` …);
* ``gemini``: ``streamGenerateContent?alt=sse`` events (one ``GenerateContentResponse`` each);
* ``bedrock``: ConverseStream's ``application/vnd.amazon.eventstream`` frames
  (``contentBlockDelta`` …), with real prelude and message CRCs.

Variants: ``raw`` is the baseline — raw aiohttp reading the stream and decoding every event
(for SSE: splitting ``data:`` lines and ``json.loads``; for Bedrock: botocore's own event-stream
parser, ``EventStreamBuffer``, then ``json.loads`` of each payload); ``core-llms`` is
``create_llm(...).stream_answer(...)`` for that provider (the dialect's decoder and parser,
LLMStreamChunks, usage and cost; Bedrock requests are SigV4-signed). ``measure`` prints one JSON
line: ``cpu_us_per_chunk`` (user+sys CPU of the measuring process / (streams x chunks)).
The suite (``benchmarks/suite.py``) runs both variants interleaved, round by round, and reports
the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
import zlib
from typing import Any

from ._proc import cpu_seconds, pin, raise_fd_limit

DIALECTS = ("anthropic", "gemini", "bedrock")
#: text chunks per stream (the events around them — start, stop, usage — are not counted).
CHUNKS = 100
WORD = "token "
KEY = "bench-key-not-secret"
AWS = {
    "aws_access_key_id": "AKIDBENCHMARKEXAMPLE",
    "aws_secret_access_key": "bench/secret/not/real/0123456789",
}


# -- the streams ----------------------------------------------------------------------------------


def _sse(events: list[tuple[str | None, dict[str, Any]]]) -> bytes:
    out = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        out.append(f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n")
    return "".join(out).encode()


def anthropic_stream() -> bytes:
    message = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 20, "output_tokens": 1},
    }
    events: list[tuple[str | None, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
    ]
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": WORD}}
    events += [("content_block_delta", delta)] * CHUNKS
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": CHUNKS},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return _sse(events)


def gemini_stream() -> bytes:
    def chunk(text: str, last: bool = False) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}
        if last:
            candidate["finishReason"] = "STOP"
            body["usageMetadata"] = {
                "promptTokenCount": 20,
                "candidatesTokenCount": CHUNKS,
                "totalTokenCount": CHUNKS + 20,
            }
        return body

    return _sse([(None, chunk(WORD, last=i == CHUNKS - 1)) for i in range(CHUNKS)])


def _frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """One event-stream message: prelude (lengths + CRC), string headers, payload, message CRC."""
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        raw = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    body = json.dumps(payload, separators=(",", ":")).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def bedrock_stream() -> bytes:
    frames = [_frame("messageStart", {"role": "assistant", "p": "abc"})]
    delta = {"contentBlockIndex": 0, "delta": {"text": WORD}, "p": "abcdefgh"}
    frames += [_frame("contentBlockDelta", delta)] * CHUNKS
    frames += [
        _frame("contentBlockStop", {"contentBlockIndex": 0, "p": "ab"}),
        _frame("messageStop", {"stopReason": "end_turn", "p": "abcd"}),
        _frame(
            "metadata",
            {
                "usage": {"inputTokens": 20, "outputTokens": CHUNKS, "totalTokens": CHUNKS + 20},
                "metrics": {"latencyMs": 10},
            },
        ),
    ]
    return b"".join(frames)


STREAMS = {"anthropic": anthropic_stream, "gemini": gemini_stream, "bedrock": bedrock_stream}
CONTENT_TYPES = {
    "anthropic": "text/event-stream",
    "gemini": "text/event-stream",
    "bedrock": "application/vnd.amazon.eventstream",
}


def app() -> Any:
    from aiohttp import web

    bodies = {name: make() for name, make in STREAMS.items()}
    pieces = {name: [body[i : i + 1024] for i in range(0, len(body), 1024)] for name, body in bodies.items()}

    def handler(dialect: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            await request.read()
            resp = web.StreamResponse(headers={"Content-Type": CONTENT_TYPES[dialect]})
            await resp.prepare(request)
            for piece in pieces[dialect]:
                await resp.write(piece)
            await resp.write_eof()
            return resp

        return handle

    application = web.Application()
    application.router.add_post("/anthropic/v1/messages", handler("anthropic"))
    application.router.add_post("/gemini/v1beta/models/{model}", handler("gemini"))
    application.router.add_post("/bedrock/model/{model}/converse-stream", handler("bedrock"))
    return application


def serve(port: int) -> None:
    from aiohttp import web

    web.run_app(app(), host="127.0.0.1", port=port, print=None, access_log=None)


# -- the clients ----------------------------------------------------------------------------------


class Raw:
    """The baseline: raw aiohttp reading a dialect's stream and decoding every event."""

    def __init__(self, dialect: str, url: str) -> None:
        import aiohttp

        self.dialect = dialect
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        self.url = {
            "anthropic": f"{url}/anthropic/v1/messages",
            "gemini": f"{url}/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            "bedrock": f"{url}/bedrock/model/amazon.nova-lite-v1%3A0/converse-stream",
        }[dialect]
        self.body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()

    async def stream(self) -> int:
        async with self.session.post(
            self.url, data=self.body, headers={"Authorization": f"Bearer {KEY}"}
        ) as resp:
            if self.dialect == "bedrock":
                return await self._eventstream(resp)
            return await self._sse(resp)

    async def _sse(self, resp: Any) -> int:
        texts = 0
        async for line in resp.content:  # as the suite's raw-aiohttp client reads OpenAI's stream
            if line.startswith(b"data: "):
                obj = json.loads(line[6:])
                texts += 1 if obj else 0
        return texts

    async def _eventstream(self, resp: Any) -> int:
        from botocore.eventstream import EventStreamBuffer

        parser = EventStreamBuffer()
        texts = 0
        async for data in resp.content.iter_any():
            parser.add_data(data)
            for message in parser:
                obj = json.loads(message.payload)
                texts += 1 if "delta" in obj else 0
        return texts

    async def aclose(self) -> None:
        await self.session.close()


class Library:
    """core-llms: ``stream_answer`` of the dialect's provider."""

    def __init__(self, dialect: str, url: str) -> None:
        from core.llms import create_llm

        if dialect == "anthropic":
            self.model = create_llm("anthropic/claude-haiku-4-5", endpoint=f"{url}/anthropic", api_key=KEY)
        elif dialect == "gemini":
            self.model = create_llm("gemini/gemini-2.5-flash", endpoint=f"{url}/gemini/v1beta", api_key=KEY)
        else:
            self.model = create_llm("bedrock/nova-lite", endpoint=f"{url}/bedrock", region="us-east-1", **AWS)

    async def stream(self) -> int:
        texts = 0
        async for chunk in self.model.stream_answer("hi", max_tokens=256):
            texts += 1 if chunk.text else 0
        return texts

    async def aclose(self) -> None:
        await self.model.aclose()


async def measure(dialect: str, variant: str, url: str, streams: int, concurrency: int) -> dict[str, Any]:
    client: Raw | Library = Raw(dialect, url) if variant == "raw" else Library(dialect, url)
    try:
        for _ in range(concurrency):  # warm up: connections, imports, caches
            got = await client.stream()
            if got < CHUNKS:
                raise RuntimeError(f"{dialect}/{variant}: a stream gave {got} text chunks, not {CHUNKS}")
        queue = list(range(streams))

        async def lane() -> None:
            while queue:
                queue.pop()
                await client.stream()

        start = cpu_seconds()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        cpu = cpu_seconds() - start
    finally:
        await client.aclose()
    return {"cpu_us_per_chunk": cpu / (streams * CHUNKS) * 1e6, "streams": streams, "chunks": CHUNKS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.dialects")
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--cpu", type=int, default=1)
    m = sub.add_parser("measure")
    m.add_argument("dialect", choices=DIALECTS)
    m.add_argument("variant", choices=("raw", "core-llms"))
    m.add_argument("--url", required=True)
    m.add_argument("--streams", type=int, default=200)
    m.add_argument("--concurrency", type=int, default=16)
    m.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args(argv)
    raise_fd_limit()
    pin(args.cpu)
    if args.cmd == "serve":
        serve(args.port)
        return
    answer = asyncio.run(measure(args.dialect, args.variant, args.url, args.streams, args.concurrency))
    sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
