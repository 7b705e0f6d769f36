"""The four clients under test, each doing the same chat request the way its users would.

* ``raw-aiohttp`` — the floor: build the JSON by hand, POST it with one pooled
  ``aiohttp.ClientSession``, ``json.loads`` the body; for streams read the SSE lines and
  ``json.loads`` each ``data:`` payload.
* ``core-llms`` — ``create_llm("openai/gpt-4o-mini", ...)`` with a backup endpoint, so the
  failover connector, breakers, usage and cost are all on (the library's defaults otherwise).
* ``openai`` — the OpenAI SDK's ``AsyncOpenAI`` with its defaults.
* ``litellm`` — ``litellm.acompletion`` with its defaults.

Every client asks for usage on streams (``stream_options.include_usage``), reads the text of
every chunk and the usage of the answer. Each client's package is imported only when that client
is made, so one process holds one client's modules.
"""

from __future__ import annotations

import os
import time
from typing import Any, Protocol

CLIENTS = ("raw-aiohttp", "core-llms", "openai", "litellm")
#: the peers, which may be missing from the environment.
PEERS = ("openai", "litellm")
MODEL = "gpt-4o-mini"
API_KEY = "bench-key-not-secret"
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Say hello to the benchmark in one short sentence."},
]
MAX_TOKENS = 64
#: the same messages, typed loosely for the SDK's TypedDict parameters.
_OPENAI_MESSAGES: Any = MESSAGES

# LiteLLM fetches its model price map from the network at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


class BenchClient(Protocol):
    """What the worker drives."""

    name: str

    async def complete(self) -> tuple[str, int]:
        """One non-streamed answer: (text, total tokens)."""
        ...

    async def stream(self) -> tuple[int, float | None, int]:
        """One streamed answer: (chunks with text, seconds to the first one, total tokens)."""
        ...

    async def aclose(self) -> None: ...


def import_and_create(name: str, base_url: str) -> object:
    """What a program does before its first call: import the client and make it (no I/O).

    raw aiohttp: ``import aiohttp`` alone (its session needs a running loop); core-llms:
    ``import core.llms`` + ``create_llm(...)``; openai: ``AsyncOpenAI(...)``; litellm: the import
    (``acompletion`` needs no client object).
    """
    match name:
        case "raw-aiohttp":
            import aiohttp

            return aiohttp
        case "core-llms":
            import core.llms

            return core.llms.create_llm(
                f"openai/{MODEL}", endpoint=base_url, api_key=API_KEY, backups=[{"endpoint": base_url + "/b"}]
            )
        case "openai":
            from openai import AsyncOpenAI

            return AsyncOpenAI(base_url=base_url, api_key=API_KEY)
        case "litellm":
            import litellm

            return litellm
        case _:
            raise ValueError(f"unknown client {name!r}; known: {', '.join(CLIENTS)}")


async def open_client(
    name: str, base_url: str, *, max_connections: int = 100, backup_url: str | None = None
) -> BenchClient:
    """A ready client of kind ``name`` for the API root ``base_url`` (``.../v1``).

    ``max_connections`` sizes the pool of raw aiohttp and core-llms (both default to 100); the
    peers keep their own defaults. ``backup_url`` is core-llms' backup endpoint (default: the same
    server under another path, so the endpoint names differ).
    """
    match name:
        case "raw-aiohttp":
            return RawAiohttp(base_url, max_connections)
        case "core-llms":
            return CoreLLMs(base_url, max_connections, backup_url or _sibling(base_url))
        case "openai":
            return OpenAISDK(base_url)
        case "litellm":
            return LiteLLMClient(base_url)
        case _:
            raise ValueError(f"unknown client {name!r}; known: {', '.join(CLIENTS)}")


def _sibling(base_url: str) -> str:
    """The same API root under another first path segment (``http://h:p/x/v1`` → ``http://h:p/b/v1``)."""
    scheme, _, rest = base_url.partition("://")
    host, _, _ = rest.partition("/")
    return f"{scheme}://{host}/backup/v1"


class RawAiohttp:
    """The floor: what a careful engineer would write by hand with aiohttp and json."""

    name = "raw-aiohttp"

    def __init__(self, base_url: str, max_connections: int) -> None:
        import json

        import aiohttp

        self._loads = json.loads
        self._dumps = json.dumps
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max_connections))
        self._url = base_url + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    async def complete(self) -> tuple[str, int]:
        body = self._dumps({"model": MODEL, "messages": MESSAGES, "max_tokens": MAX_TOKENS}).encode()
        async with self._session.post(self._url, data=body, headers=self._headers) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"status {resp.status}")
        data = self._loads(raw)
        return data["choices"][0]["message"]["content"], data["usage"]["total_tokens"]

    async def stream(self) -> tuple[int, float | None, int]:
        body = self._dumps(
            {
                "model": MODEL,
                "messages": MESSAGES,
                "max_tokens": MAX_TOKENS,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ).encode()
        loads = self._loads
        started = time.perf_counter()
        first: float | None = None
        count = tokens = 0
        done = False
        async with self._session.post(self._url, data=body, headers=self._headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"status {resp.status}")
            async for line in resp.content:  # read to the end so the connection goes back to the pool
                if done or not line.startswith(b"data: "):
                    continue
                payload = line[6:].rstrip()
                if payload == b"[DONE]":
                    done = True
                    continue
                event = loads(payload)
                choices = event["choices"]
                if choices:
                    if choices[0]["delta"].get("content"):
                        count += 1
                        if first is None:
                            first = time.perf_counter() - started
                elif event.get("usage"):
                    tokens = event["usage"]["total_tokens"]
        if not done:
            raise RuntimeError("stream ended without [DONE]")
        return count, first, tokens

    async def aclose(self) -> None:
        await self._session.close()


class CoreLLMs:
    """core-llms as a service would use it: factory-made model with a backup endpoint."""

    name = "core-llms"

    def __init__(self, base_url: str, max_connections: int, backup_url: str) -> None:
        from core.llms import create_llm

        self.llm = create_llm(
            f"openai/{MODEL}",
            endpoint=base_url,
            api_key=API_KEY,
            backups=[{"endpoint": backup_url}],
            max_connections=max_connections,
        )

    async def complete(self) -> tuple[str, int]:
        response = await self.llm.get_answer(MESSAGES, max_tokens=MAX_TOKENS)
        usage = response.usage
        if usage is None or response.cost is None:
            raise RuntimeError("core-llms answered without usage or cost")
        return response.text, usage.input_tokens + usage.output_tokens

    async def stream(self) -> tuple[int, float | None, int]:
        started = time.perf_counter()
        first: float | None = None
        count = tokens = 0
        async for chunk in self.llm.stream_answer(MESSAGES, max_tokens=MAX_TOKENS):
            if chunk.text:
                count += 1
                if first is None:
                    first = time.perf_counter() - started
            if chunk.usage is not None:
                tokens = chunk.usage.input_tokens + chunk.usage.output_tokens
        return count, first, tokens

    async def aclose(self) -> None:
        await self.llm.aclose()


class OpenAISDK:
    """The OpenAI SDK's async client with its defaults (retries, httpx pool)."""

    name = "openai"

    def __init__(self, base_url: str) -> None:
        from openai import AsyncOpenAI

        self.client = AsyncOpenAI(base_url=base_url, api_key=API_KEY)

    async def complete(self) -> tuple[str, int]:
        response = await self.client.chat.completions.create(
            model=MODEL,
            messages=_OPENAI_MESSAGES,
            max_tokens=MAX_TOKENS,
        )
        usage = response.usage
        return response.choices[0].message.content or "", usage.total_tokens if usage else 0

    async def stream(self) -> tuple[int, float | None, int]:
        started = time.perf_counter()
        first: float | None = None
        count = tokens = 0
        stream = await self.client.chat.completions.create(
            model=MODEL,
            messages=_OPENAI_MESSAGES,
            max_tokens=MAX_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.choices:
                if chunk.choices[0].delta.content:
                    count += 1
                    if first is None:
                        first = time.perf_counter() - started
            elif chunk.usage is not None:
                tokens = chunk.usage.total_tokens
        return count, first, tokens

    async def aclose(self) -> None:
        await self.client.close()


class LiteLLMClient:
    """``litellm.acompletion`` with its defaults (its own cached OpenAI client per endpoint)."""

    name = "litellm"

    def __init__(self, base_url: str) -> None:
        import litellm

        litellm.suppress_debug_info = True
        self._litellm = litellm
        self._base_url = base_url

    async def complete(self) -> tuple[str, int]:
        response: Any = await self._litellm.acompletion(
            model=f"openai/{MODEL}",
            messages=MESSAGES,
            max_tokens=MAX_TOKENS,
            api_base=self._base_url,
            api_key=API_KEY,
        )
        return response.choices[0].message.content or "", response.usage.total_tokens

    async def stream(self) -> tuple[int, float | None, int]:
        started = time.perf_counter()
        first: float | None = None
        count = tokens = 0
        stream: Any = await self._litellm.acompletion(
            model=f"openai/{MODEL}",
            messages=MESSAGES,
            max_tokens=MAX_TOKENS,
            api_base=self._base_url,
            api_key=API_KEY,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
                if first is None:
                    first = time.perf_counter() - started
            usage = getattr(chunk, "usage", None)
            if usage is not None and usage.total_tokens:
                tokens = usage.total_tokens
        return count, first, tokens

    async def aclose(self) -> None:
        closer = getattr(self._litellm, "close_litellm_async_clients", None)
        if closer is not None:
            await closer()
