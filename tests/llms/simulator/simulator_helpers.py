"""Raw-HTTP helpers for the simulator tests (imported by the test modules and conftest).

The tests talk to the simulator with plain aiohttp and parse the wire by hand, never with
core-llms client code, so they check the wire itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

from core.llms.simulator import Simulator

AZURE_VERSION = "2024-10-21"


def sse_payloads(raw: bytes) -> list[str]:
    """The ``data:`` payloads of an SSE body, checking the framing (``data: ...`` + blank line)."""
    assert raw.endswith(b"\n\n"), "an SSE body ends with a blank line"
    out = []
    for block in raw.decode().split("\n\n")[:-1]:
        assert block.startswith("data: "), f"unexpected SSE block {block[:60]!r}"
        assert "\n" not in block, "one data line per event"
        out.append(block[len("data: ") :])
    return out


@dataclass(frozen=True)
class SseBlock:
    """One blank-line-separated SSE block: its comment lines (text after ``": "``), its ``event:``
    name and its ``data:`` payload (None for a comment-only block)."""

    comments: tuple[str, ...]
    event: str | None
    data: str | None


def sse_blocks(raw: bytes) -> list[SseBlock]:
    """Every block of an SSE body, comments and named events included (checks the framing)."""
    assert raw.endswith(b"\n\n"), "an SSE body ends with a blank line"
    out = []
    for block in raw.decode().split("\n\n")[:-1]:
        comments: list[str] = []
        event = data = None
        for line in block.split("\n"):
            if line.startswith(": "):
                comments.append(line[2:])
            elif line.startswith("event: "):
                assert event is None and data is None, f"unexpected event line in {block!r}"
                event = line[len("event: ") :]
            else:
                assert line.startswith("data: ") and data is None, f"unexpected SSE line {line[:60]!r}"
                data = line[len("data: ") :]
        assert comments or data is not None, "an empty SSE block"
        out.append(SseBlock(tuple(comments), event, data))
    return out


def sse_json(raw: bytes) -> list[dict[str, Any]]:
    """Parsed JSON events of an SSE body, without the final ``[DONE]``."""
    payloads = sse_payloads(raw)
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


class Api:
    """Raw HTTP helpers around one simulator."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session

    def url(self, route: str, deployment: str = "gpt-4o") -> str:
        match route:
            case "openai":
                return f"{self.sim.url}/v1/chat/completions"
            case "azure":
                base = f"{self.sim.url}/openai/deployments/{deployment}/chat/completions"
                return f"{base}?api-version={AZURE_VERSION}"
            case "azure_v1":
                return f"{self.sim.url}/openai/v1/chat/completions"
            case _:
                raise ValueError(route)

    @staticmethod
    def auth(route: str, key: str = "sk-test") -> dict[str, str]:
        return {"api-key": key} if route == "azure" else {"Authorization": f"Bearer {key}"}

    async def post(
        self, body: Any, route: str = "openai", *, headers: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, CIMultiDict[str], bytes]:
        hdrs = self.auth(route) if headers is None else headers
        async with self.session.post(self.url(route, **kw), json=body, headers=hdrs) as resp:
            return resp.status, CIMultiDict(resp.headers), await resp.read()

    async def chat(self, body: dict[str, Any], route: str = "openai", **kw: Any) -> dict[str, Any]:
        status, _, raw = await self.post(body, route, **kw)
        assert status == 200, raw
        result: dict[str, Any] = json.loads(raw)
        return result

    async def stream(self, body: dict[str, Any], route: str = "openai", **kw: Any) -> list[dict[str, Any]]:
        status, headers, raw = await self.post({**body, "stream": True}, route, **kw)
        assert status == 200, raw
        assert headers["Content-Type"].startswith("text/event-stream")
        return sse_json(raw)

    async def error(self, body: Any, route: str = "openai", **kw: Any) -> tuple[int, dict[str, Any]]:
        status, _, raw = await self.post(body, route, **kw)
        assert status >= 400, raw
        result: dict[str, Any] = json.loads(raw)
        return status, result


def user(text: str, model: str = "gpt-4o", **extra: Any) -> dict[str, Any]:
    """A one-message chat body."""
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}
