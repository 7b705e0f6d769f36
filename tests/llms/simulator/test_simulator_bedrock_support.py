"""Helpers for the Bedrock simulator tests (imported by the ``test_simulator_bedrock_*`` modules;
no tests of its own).

The tests speak raw HTTP with aiohttp, build SigV4-shaped headers by hand and decode event streams
with botocore's ``EventStreamBuffer`` (which checks both CRCs of every frame), so they check the
wire itself, not the client's parsers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from botocore.eventstream import EventStreamBuffer, EventStreamMessage
from multidict import CIMultiDict

from core.llms.simulator import Simulator

WIRE = Path(__file__).resolve().parents[1] / "wire" / "bedrock"
NOVA = "us.amazon.nova-micro-v1:0"
CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
ANTHROPIC_VERSION = "bedrock-2023-05-31"
WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "inputSchema": {
            "json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        },
    }
}


def amz_date(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")


def sigv4(
    *,
    region: str = "us-east-1",
    service: str = "bedrock",
    key_id: str = "AKIDEXAMPLE",
    when: dt.datetime | None = None,
    signed: str = "content-type;host;x-amz-date",
    signature: str | None = None,
    token: str | None = None,
) -> dict[str, str]:
    """Headers shaped like a SigV4-signed request (the signature is 64 hex digits of nothing)."""
    stamp = amz_date(when)
    sig = signature if signature is not None else hashlib.sha256(stamp.encode()).hexdigest()
    headers = {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={key_id}/{stamp[:8]}/{region}/{service}/aws4_request, "
            f"SignedHeaders={signed}, Signature={sig}"
        ),
        "X-Amz-Date": stamp,
    }
    if token is not None:
        headers["X-Amz-Security-Token"] = token
    if service == "s3":
        headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    return headers


def model_path(model_id: str, operation: str) -> str:
    return f"/model/{quote(model_id, safe='')}/{operation}"


def text_message(text: str, role: str = "user") -> dict[str, Any]:
    return {"role": role, "content": [{"text": text}]}


def converse_body(text: str = "Hello there", **extra: Any) -> dict[str, Any]:
    return {"messages": [text_message(text)], **extra}


def anthropic_body(text: str = "What is 4200 + 42?", **extra: Any) -> dict[str, Any]:
    return {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


@dataclass
class Reply:
    status: int
    headers: CIMultiDict[str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def error_type(self) -> str:
        return self.headers.get("x-amzn-ErrorType", "").split(":", 1)[0]


class Bedrock:
    """Raw HTTP calls to one simulator's Bedrock routes."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        hdrs = dict(sigv4() if headers is None else headers)
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        async with self.session.request(method, f"{self.sim.url}{path}", data=data, headers=hdrs) as resp:
            return Reply(resp.status, CIMultiDict(resp.headers), await resp.read())

    async def post(self, model_id: str, operation: str, body: Any, **kw: Any) -> Reply:
        return await self.request("POST", model_path(model_id, operation), body, **kw)

    async def converse(self, body: Any, model_id: str = NOVA, **kw: Any) -> dict[str, Any]:
        reply = await self.post(model_id, "converse", body, **kw)
        assert reply.status == 200, reply.raw
        assert reply.headers["Content-Type"].startswith("application/json")
        result: dict[str, Any] = reply.json()
        return result

    async def stream(self, body: Any, model_id: str = NOVA, operation: str = "converse-stream") -> Reply:
        reply = await self.post(model_id, operation, body)
        assert reply.status == 200, reply.raw
        assert reply.headers["Content-Type"] == "application/vnd.amazon.eventstream"
        return reply


def decode_frames(raw: bytes) -> tuple[list[EventStreamMessage], int]:
    """The frames of an event-stream body (CRCs checked by botocore) and the bytes left over
    (a frame cut short)."""
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    frames = list(buffer)
    used = sum(f.prelude.total_length for f in frames)
    return frames, len(raw) - used


def events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """``(event type, payload without the "p" padding)`` per frame of a complete stream."""
    frames, left = decode_frames(raw)
    assert left == 0, f"{left} bytes of a cut frame"
    out = []
    for frame in frames:
        assert frame.headers[":message-type"] == "event", frame.headers
        assert frame.headers[":content-type"] == "application/json"
        payload = json.loads(frame.payload)
        payload.pop("p", None)
        out.append((frame.headers[":event-type"], payload))
    return out


def anthropic_events(raw: bytes) -> list[dict[str, Any]]:
    """The Anthropic Messages events inside the ``chunk`` frames of an invoke stream."""
    out = []
    for kind, payload in events(raw):
        assert kind == "chunk"
        assert set(payload) == {"bytes"}
        out.append(json.loads(base64.b64decode(payload["bytes"])))
    return out


def recorded_frames(name: str) -> list[EventStreamMessage]:
    frames, left = decode_frames((WIRE / name).read_bytes())
    assert left == 0
    return frames
