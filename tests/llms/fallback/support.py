"""Helpers of the FallbackLLM tests: model construction in one place, and fake ILLMs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from core.llms import create_llm
from core.llms.interfaces import LLMError, LLMResponse, LLMStreamChunk, RequestContext

ANSWER = "Simulated answer to: hello"


def openai_model(base_url: str, **fields: Any) -> Any:
    """``openai/gpt-4.1-mini`` on the simulator at ``base_url``, without same-endpoint retries."""
    return create_llm(
        "openai/gpt-4.1-mini", endpoint=f"{base_url}/v1", api_key="k", retry={"max_retries": 0}, **fields
    )


def azure_model(base_url: str, **fields: Any) -> Any:
    """``azure/gpt-4o-mini`` on the simulator at ``base_url``, without same-endpoint retries."""
    return create_llm(
        "azure/gpt-4o-mini",
        endpoint=base_url,
        api_key="k",
        deployment_name="d",
        api_version="2024-10-21",
        retry={"max_retries": 0},
        **fields,
    )


class Tracking:
    """An ILLM around another one that records calls and whether each inner stream was closed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.streams_opened = 0
        self.streams_closed = 0

    async def get_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        self.calls += 1
        answer: LLMResponse = await self.inner.get_answer(messages, ctx, **params)
        return answer

    async def stream_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        self.calls += 1
        self.streams_opened += 1
        try:
            async for chunk in self.inner.stream_answer(messages, ctx, **params):
                yield chunk
        finally:
            self.streams_closed += 1


class Failing:
    """An ILLM that always raises ``error`` (from get_answer, and from its stream before any chunk);
    counts calls and ``aclose()`` calls."""

    def __init__(self, error: LLMError, name: str = "failing") -> None:
        self.error = error
        self.name = name
        self.provider = "fake"
        self.calls = 0
        self.closes = 0

    async def get_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        self.calls += 1
        raise self.error

    async def stream_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        self.calls += 1
        raise self.error
        yield LLMStreamChunk()  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        self.closes += 1

    def __repr__(self) -> str:
        return f"Failing({self.name})"


class Answering(Failing):
    """An ILLM that answers ``text`` (streamed word by word)."""

    def __init__(self, text: str = "fake answer", name: str = "answering") -> None:
        super().__init__(LLMError("unused"), name)
        self.text = text

    async def get_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        self.calls += 1
        return LLMResponse(text=self.text, model=self.name, provider=self.provider)

    async def stream_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        self.calls += 1
        for word in self.text.split():
            yield LLMStreamChunk(text=word)
