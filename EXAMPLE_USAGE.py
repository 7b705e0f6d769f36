"""A walk-through of core-llms.

With no credentials it starts the built-in simulator (no network) and shows a factory-built model
answering, streaming, calling a tool, returning structured output, failing over from a dead
primary to its backup, and refusing an unsupported operation with a hint.

With ``AZURE_OPENAI_API_KEY`` + ``AZURE_OPENAI_ENDPOINT`` + ``AZURE_OPENAI_DEPLOYMENT`` (or
``OPENAI_API_KEY``) set, the same walk-through talks to the real service.

Run it with ``./run.sh example``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel

from core.llms import (
    ILLM,
    LLMFactory,
    StreamAccumulator,
    UnsupportedOperationError,
    create_llm,
)
from core.llms.simulator import Simulator

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


class CityFacts(BaseModel):
    city: str
    country: str
    population: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def target() -> AsyncIterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Yields (model name, primary endpoint settings, a dead-primary setup or None).

    Real credentials win; otherwise two simulators stand in for two Azure regions.
    """
    if os.environ.get("AZURE_OPENAI_API_KEY") and os.environ.get("AZURE_OPENAI_ENDPOINT"):
        model = "azure/" + os.environ.get("CORE_LLMS_EXAMPLE_MODEL", "gpt-4.1-mini")
        yield model, {"api_version": os.environ.get("OPENAI_API_VERSION", "2024-10-21")}, None
        return
    if os.environ.get("OPENAI_API_KEY"):
        yield "openai/" + os.environ.get("CORE_LLMS_EXAMPLE_MODEL", "gpt-4.1-mini"), {}, None
        return
    async with Simulator() as east, Simulator() as west:
        settings = {
            "endpoint": east.url,
            "api_key": "sim-key-not-secret",
            "deployment_name": "gpt-41-mini",
            "api_version": "2024-10-21",
        }
        east_down = {
            # The primary region refuses connections: nothing listens on this port.
            "endpoint": f"http://127.0.0.1:{_free_port()}",
            "backups": [{"endpoint": west.url}],
        }
        yield "azure/gpt-4.1-mini", settings, east_down


async def main() -> None:
    async with target() as (model_name, settings, failover_setup):
        simulated = failover_setup is not None
        print(f"== core-llms walk-through against {'the simulator' if simulated else 'the real service'}")

        # 1. A model from the factory: an instance of the model's own class, and an ILLM.
        llm = create_llm(model_name, **settings)
        async with llm:
            print(f"\n1. {type(llm).__name__} (isinstance ILLM: {isinstance(llm, ILLM)})")
            answer = await llm.get_answer("What is the capital of France?")
            print(f"   answer: {answer.text!r}")
            print(f"   finish={answer.finish_reason} usage={answer.usage} cost=${answer.cost or 0:.6f}")

            # 2. Streaming, with usage on the final chunk.
            print("\n2. streaming:", end=" ", flush=True)
            acc = StreamAccumulator()
            async for chunk in llm.stream_answer("Tell me a short fact about Paris."):
                acc.add(chunk)
                print(chunk.text, end="", flush=True)
            print(f"\n   finish={acc.finish_reason} usage={acc.usage}")

            # 3. A tool call (OpenAI shape; arguments are a JSON string).
            answer = await llm.get_answer(
                "What's the weather in Paris? Use get_weather.", tools=[WEATHER_TOOL]
            )
            for call in answer.tool_calls:
                print(f"\n3. tool call: {call.function.name}({call.function.arguments})")

            # 4. Structured output from a pydantic model.
            answer = await llm.get_answer(
                "Give me facts about Paris as JSON.", response_format=CityFacts
            )
            print(f"\n4. structured output: {answer.parsed!r}")

            # 5. Unsupported operations fail with a typed error and a hint.
            try:
                await llm.get_image("a watercolour of Paris")
            except UnsupportedOperationError as exc:
                print(f"\n5. get_image on a text model: {type(exc).__name__}: {exc.hint}")

        # 6. Failover: the primary region is down; the backup serves.
        if failover_setup is not None:
            config = {
                "models": {
                    "chat": {"model": model_name, **settings, **failover_setup},
                }
            }
            async with LLMFactory.from_config(config) as factory:
                chat = factory["chat"]
                answer = await chat.get_answer("Are you there?")
                print(f"\n6. failover: primary refused the connection; served by {answer.endpoint}")
                print(f"   answer: {answer.text!r}")

    print("\ndone.")


if __name__ == "__main__":
    asyncio.run(main())
