"""A fake Ollama server (aiohttp on 127.0.0.1) for the core-llms-ollama tests.

It answers ``POST /api/chat`` from a queue of scripted :class:`Reply` objects and records every
request. Its wire format is written here from Ollama's API documentation, not taken from the
plugin's code. If the plugin distribution is not installed, its source folder is put on
``sys.path`` so the unit tests still run (the entry-point test skips in that case).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from local_http import serve_locally

from core.llms.registry import ModelRegistry

from .support import make_pm

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "core-llms-ollama"
PLUGIN_INSTALLED = importlib.util.find_spec("core_llms_ollama") is not None
if not PLUGIN_INSTALLED:
    sys.path.insert(0, str(PLUGIN_DIR))

import core_llms_ollama.plugin as ollama_plugin  # noqa: E402


def ollama_registry(*extra: tuple[str, object]) -> ModelRegistry:
    """A registry holding only the Ollama plugin (plus ``extra`` plugins)."""
    return ModelRegistry.from_plugins(make_pm(("ollama", ollama_plugin), *extra))


def done_line(reason: str = "stop", prompt: int = 26, output: int = 5, **extra: Any) -> dict[str, Any]:
    """The last object of an answer, as Ollama sends it."""
    return {
        "model": "llama3.2",
        "created_at": "2024-07-22T20:33:28.123648Z",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": reason,
        "total_duration": 885095291,
        "load_duration": 3753500,
        "prompt_eval_count": prompt,
        "prompt_eval_duration": 328493000,
        "eval_count": output,
        "eval_duration": 552222000,
        **extra,
    }


def delta_line(content: str = "", **message: Any) -> dict[str, Any]:
    """A streamed content object (``done: false``)."""
    return {
        "model": "llama3.2",
        "created_at": "2024-07-22T20:33:28.1Z",
        "message": {"role": "assistant", "content": content, **message},
        "done": False,
    }


def whole_answer(content: str, reason: str = "stop", **message: Any) -> dict[str, Any]:
    """A non-streamed answer."""
    answer = done_line(reason)
    answer["message"] = {"role": "assistant", "content": content, **message}
    return answer


@dataclass
class Reply:
    """One scripted answer: a JSON body, or NDJSON ``lines`` written in ``split``-byte pieces."""

    status: int = 200
    json: Any = None
    lines: list[Any] | None = None
    split: int = 0
    raw: bytes | None = None


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeOllama:
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[Seen] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    def enqueue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1].body

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/chat", self._chat)
        self._runner, port = await serve_locally(app)
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Seen(request.path, dict(request.headers), body))
        reply = self.replies.popleft() if self.replies else Reply(json=whole_answer("ok"))
        if reply.raw is not None:
            return web.Response(status=reply.status, body=reply.raw, content_type="text/plain")
        if reply.lines is None:
            return web.json_response(reply.json, status=reply.status)
        response = web.StreamResponse(status=reply.status, headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        data = b"".join(
            (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)).encode() + b"\n"
            for line in reply.lines
        )
        step = reply.split or len(data) or 1
        for start in range(0, len(data), step):
            await response.write(data[start : start + step])
            await asyncio.sleep(0)
        await response.write_eof()
        return response
