"""A walk-through of core-llms.

With no credentials it starts the built-in simulator (no network) and shows a factory-built model
answering, streaming, calling a tool, returning structured output, failing over from a dead
primary to its backup, falling back from a dead provider to another provider's model (an
OpenAI-compatible host), refusing an unsupported operation with a hint, and making an image, a
short speech clip and embeddings with OpenAI's media models; then an AWS Bedrock model failing
over from a dead region to a backup region, signed for that region (unless AWS credentials are set);
then the providerless ``LLMClient``: a one-line ``ask``, streamed events, labels and a shared budget,
and its blocking twin ``client.sync`` for code without an event loop; a batch through
``RequestManager`` with a cache; and the in-memory metrics recorder and call log.

With ``AZURE_OPENAI_API_KEY`` + ``AZURE_OPENAI_ENDPOINT`` + ``AZURE_OPENAI_DEPLOYMENT`` (or
``OPENAI_API_KEY``) set, the same walk-through talks to the real service.

Run it with ``./run.sh example``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel

from core.llms import (
    ILLM,
    BaseLLM,
    Budget,
    FallbackLLM,
    LLMClient,
    LLMFactory,
    StreamAccumulator,
    UnsupportedOperationError,
    create_llm,
)
from core.llms.simulator import Fault, Simulator

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
async def target() -> AsyncIterator[tuple[str, dict[str, Any], list[Simulator]]]:
    """Yields (model name, endpoint settings, simulators standing in for two regions).

    Real credentials win (and the simulator list is empty); otherwise two simulators stand in
    for two Azure regions.
    """
    if os.environ.get("AZURE_OPENAI_API_KEY") and os.environ.get("AZURE_OPENAI_ENDPOINT"):
        model = "azure/" + os.environ.get("CORE_LLMS_EXAMPLE_MODEL", "gpt-4.1-mini")
        yield model, {"api_version": os.environ.get("OPENAI_API_VERSION", "2024-10-21")}, []
        return
    if os.environ.get("OPENAI_API_KEY"):
        yield "openai/" + os.environ.get("CORE_LLMS_EXAMPLE_MODEL", "gpt-4.1-mini"), {}, []
        return
    async with Simulator() as east, Simulator() as west:
        settings = {
            "endpoint": east.url,
            "api_key": "sim-key-not-secret",
            "deployment_name": "gpt-41-mini",
            "api_version": "2024-10-21",
        }
        yield "azure/gpt-4.1-mini", settings, [east, west]


async def walk_through(llm: BaseLLM) -> None:
    """Steps 1-5: answer, stream, tool call, structured output, an unsupported operation."""
    print(f"\n1. {type(llm).__name__} (isinstance ILLM: {isinstance(llm, ILLM)})")
    answer = await llm.get_answer("What is the capital of France?")
    print(f"   answer: {answer.text!r}")
    print(f"   finish={answer.finish_reason} usage={answer.usage} cost=${answer.cost or 0:.6f}")

    print("\n2. streaming:", end=" ", flush=True)
    acc = StreamAccumulator()
    async for chunk in llm.stream_answer("Tell me a short fact about Paris."):
        acc.add(chunk)
        print(chunk.text, end="", flush=True)
    print(f"\n   finish={acc.finish_reason} usage={acc.usage}")

    answer = await llm.get_answer("What's the weather in Paris? Use get_weather.", tools=[WEATHER_TOOL])
    for call in answer.tool_calls:
        print(f"\n3. tool call: {call.function.name}({call.function.arguments})")

    answer = await llm.get_answer("Give me facts about Paris as JSON.", response_format=CityFacts)
    print(f"\n4. structured output: {answer.parsed!r}")

    try:
        await llm.get_image("a watercolour of Paris")
    except UnsupportedOperationError as exc:
        print(f"\n5. get_image on a text model: {type(exc).__name__}: {exc.hint}")


async def failover(model_name: str, settings: dict[str, Any], east: Simulator, west: Simulator) -> None:
    """Step 6: the primary region is down (refused connections, then 503s); the backup serves."""
    refused = {"endpoint": f"http://127.0.0.1:{_free_port()}", "backups": [{"endpoint": west.url}]}
    config = {"models": {"chat": {"model": model_name, **settings, **refused}}}
    async with LLMFactory.from_config(config) as factory:
        answer = await factory["chat"].get_answer("Are you there?")
        print(f"\n6. primary refuses connections -> served by the backup {answer.endpoint}")

    east.set_default_fault(Fault(status=503))
    async with create_llm(model_name, **settings, backups=[{"endpoint": west.url}]) as llm:
        answer = await llm.get_answer("Still there?")
        print(f"   primary answers 503 -> served by the backup {answer.endpoint}")
        print(f"   answer: {answer.text!r}")
    east.set_default_fault(None)


async def fallback_across_providers(model_name: str, settings: dict[str, Any]) -> None:
    """Step 7: the whole Azure model is down; FallbackLLM moves on to a Groq model."""
    async with Simulator() as azure_down, Simulator(flavor="groq") as groq:
        azure_down.set_default_fault(Fault(status=503))
        primary = create_llm(model_name, **{**settings, "endpoint": azure_down.url}, retry={"max_retries": 0})
        backup = create_llm(
            "groq/llama-3.3-70b-versatile", endpoint=f"{groq.url}/openai/v1", api_key="sim-key-not-secret"
        )
        async with FallbackLLM(primary, backup) as llm:
            answer = await llm.get_answer("Anyone there?")
            print(f"\n7. {model_name} is down -> answered by {answer.provider}/{answer.model}")
            chunks = [chunk.text async for chunk in llm.stream_answer("And streaming?")]
            print(f"   streamed by the fallback too: {''.join(chunks)!r}")


async def media() -> None:
    """Step 8: an image, a short speech clip and embeddings (OpenAI's media models, simulated)."""
    async with Simulator() as sim:
        openai: dict[str, Any] = {"endpoint": f"{sim.url}/v1", "api_key": "sim-key-not-secret"}
        async with create_llm("openai/gpt-image-1", **openai) as painter:
            made = await painter.get_image("a watercolour of the Seine at dawn", size="1024x1024")
            image = made.images[0]
            size = len(image.data or b"")
            print(f"\n8. image: {size} bytes of {image.media_type}, cost=${made.cost or 0:.4f}")
        async with create_llm("openai/tts-1", **openai) as voice:
            clip = await voice.get_audio("Bonjour, Paris!", voice="nova", format="wav")
            seconds = clip.duration_seconds or 0
            print(f"   speech: {len(clip.data)} bytes of {clip.media_type}, {seconds:.2f} s")
        async with create_llm("openai/text-embedding-3-small", **openai) as embedder:
            vectors = await embedder.embed(["Paris", "Lyon", "Marseille"], dimensions=256)
            print(f"   embeddings: {len(vectors.vectors)} vectors of {len(vectors.vectors[0])} numbers")


async def bedrock_failover() -> None:
    """AWS Bedrock (simulated): SigV4-signed calls, us-east-1 down -> the us-west-2 backup serves,
    its requests signed for its own region."""
    if importlib.util.find_spec("botocore") is None:
        print("\n9. AWS Bedrock: skipped (SigV4 needs botocore: pip install 'core-llms[bedrock]')")
        return
    async with Simulator() as east, Simulator(aws_region="us-west-2") as west:
        east.set_default_fault(Fault(status=503))
        keys: dict[str, Any] = {
            "aws_access_key_id": "AKIASIMULATED000000",
            "aws_secret_access_key": "sim-secret-not-secret",
        }
        backups = [{"endpoint": west.url, "region": "us-west-2"}]
        async with create_llm(
            "bedrock/claude-sonnet-4", region="us-east-1", endpoint=east.url, backups=backups, **keys
        ) as llm:
            answer = await llm.get_answer("Hello from Bedrock?")
            scope = west.requests[-1].headers["authorization"].split("/")[2]
            print(f"\n9. bedrock/claude-sonnet-4: us-east-1 answers 503 -> {scope} backup: {answer.text!r}")
            print(f"   sent as {west.requests[-1].path} (an inference profile), cost=${answer.cost or 0:.6f}")


async def client_layer(model_name: str, settings: dict[str, Any]) -> None:
    """Steps 10-11: the providerless client (one line per call, events, labels, a budget) and
    its blocking twin for code without an event loop."""
    provider = model_name.partition("/")[0]
    client = LLMClient(default_model=model_name, providers={provider: settings})
    async with client:
        print(f"\n10. LLMClient: {await client.ask('Name a river in France.')!r}")
        words: list[str] = []
        async for event in client.chat_stream([("system", "Be brief."), "Describe Lyon."]):
            if event.type == "chunk":
                words.append(event.delta)
            elif event.type == "usage":
                print(f"    streamed {''.join(words)!r} then usage={event.usage} cost=${event.cost or 0:.6f}")
        budget = Budget(cost_usd=0.50)  # shared by every call of the bound client
        team = client.bind(tenant="acme", run_id="nightly", budget=budget)
        await team.ask("Name a mountain in France.")
        print(f"    bound labels {team.labels}; spent ${budget.spent_usd:.6f} of $0.50")

        def blocking_code() -> None:  # e.g. a script, a Flask view, a notebook cell
            print(f"\n11. client.sync.ask: {client.sync.ask('Name a city in Italy.')!r}")
            chunks = [e.delta for e in client.sync.chat_stream("Count to three.") if e.type == "chunk"]
            print(f"    client.sync.chat_stream: {''.join(chunks)!r}")

        # the simulator serves from this event loop, so the blocking code runs in a thread here
        await asyncio.to_thread(blocking_code)


async def batch(model_name: str, settings: dict[str, Any]) -> None:
    """Step 12: a batch in input order, one failure kept as its own typed result, a cache that
    answers the second run for nothing."""
    from core.llms.batch import MemoryCache, RequestBatch, RequestManager

    with RequestBatch() as requests:  # written like OpenAI SDK calls, sent by the manager
        for city in ("Paris", "Lyon", "Nice"):
            requests.chat.completions.create(messages=[{"role": "user", "content": f"A fact about {city}."}])
    too_hot = {"messages": "Too hot?", "temperature": 9, "id": "bad"}  # refused by the model, alone
    cache = MemoryCache()
    async with (
        create_llm(model_name, **settings) as llm,
        RequestManager(llm, concurrency=8, cache=cache, show_progress=False) as manager,
    ):
        results = await manager.aprocess_batch([*requests, too_hot])
        print(f"\n12. RequestManager: {len(results)} results in input order")
        for result in results:
            outcome = repr(result.response.text) if result.response else type(result.error).__name__
            print(f"    {result.id}: {outcome}")
        again = await manager.aprocess_batch(requests)
        hits = sum(r.cached for r in again)
        print(f"    second run: {hits}/3 from the cache, cost ${manager.stats.cost_usd:.6f}")


async def observe(model_name: str, settings: dict[str, Any]) -> None:
    """Step 13: the in-memory metrics recorder and the call log, switched on with one call, and
    the caller's W3C traceparent sent with the request."""
    import logging
    import sys

    from core.llms import RequestContext, observability
    from core.llms.observability import MetricsRecorder

    logging.basicConfig(stream=sys.stdout, format="    log: %(message)s (tokens out %(output_tokens)s)")
    logging.getLogger("core.llms.calls").setLevel(logging.INFO)
    recorder = MetricsRecorder()
    handle = observability.enable(metrics=recorder, logs=True)  # models made from now on report
    try:
        async with create_llm(model_name, **settings) as llm:
            trace = RequestContext(trace_parent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            print("\n13. observability:")
            await llm.get_answer("Name a river in Spain.", ctx=trace)
            async for _ in llm.stream_answer("Name a lake in Italy."):
                pass
        snap = recorder.snapshot()
        print(
            f"    recorder: {snap.totals.calls} calls, {snap.count(outcome='ok')} ok, "
            f"{snap.totals.output_tokens} output tokens, {snap.totals.time_to_first_chunk.count} stream"
        )
    finally:
        handle.disable()
        logging.getLogger("core.llms.calls").setLevel(logging.NOTSET)


async def main() -> None:
    async with target() as (model_name, settings, regions):
        where = "the simulator" if regions else "the real service"
        print(f"== core-llms walk-through of {model_name} against {where}")
        async with create_llm(model_name, **settings) as llm:
            await walk_through(llm)
        if regions:
            await failover(model_name, settings, *regions)
            await fallback_across_providers(model_name, settings)
            await media()
        aws = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK")
        if not any(os.environ.get(v) for v in aws):
            await bedrock_failover()
        await client_layer(model_name, settings)
        await batch(model_name, settings)
        await observe(model_name, settings)
    print("\ndone.")


if __name__ == "__main__":
    asyncio.run(main())
