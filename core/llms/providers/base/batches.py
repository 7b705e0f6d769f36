"""Sending a call's batches concurrently: :func:`gather_bounded`, shared by the embedding calls of
every provider (OpenAI, Gemini / Vertex AI, Bedrock, Cohere).

Pure standard library: importing it loads nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

__all__ = ["gather_bounded"]

_T = TypeVar("_T")
_A = TypeVar("_A")


async def gather_bounded(send: Callable[[_A], Awaitable[_T]], items: Sequence[_A], limit: int) -> list[_T]:
    """``send(item)`` for every item, at most ``limit`` at a time, results in item order; the
    first error (of the earliest failed item) cancels the others and is raised. One item is
    simply awaited."""
    if len(items) == 1:
        return [await send(items[0])]
    gate = asyncio.Semaphore(limit)

    async def one(item: _A) -> _T:
        async with gate:
            return await send(item)

    tasks = [asyncio.ensure_future(one(item)) for item in items]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:  # in item order: the earliest failed item's error
            if task in done and not task.cancelled() and task.exception() is not None:
                error = task.exception()
                assert error is not None
                raise error
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
