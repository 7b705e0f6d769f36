"""A program written the way LiteLLM's documentation writes them runs unchanged after the import
is swapped: blocking (against a simulator in its own thread) and async."""

from __future__ import annotations

import textwrap
from typing import Any

from core.llms.simulator import Fault, Simulator

SYNC_PROGRAM = textwrap.dedent(
    """
    from core.llms import compat as litellm

    messages = [{"role": "user", "content": "Hey, how's it going?"}]
    response = litellm.completion(model="gpt-4o-mini", messages=messages, api_base=API_BASE,
                                  api_key="sk-test")
    answer = response.choices[0].message.content
    answer_by_item = response["choices"][0]["message"]["content"]
    cost = litellm.completion_cost(completion_response=response)

    streamed = ""
    for chunk in litellm.completion(
        model="gpt-4o-mini", messages=messages, stream=True, api_base=API_BASE, api_key="sk-test"
    ):
        streamed += chunk.choices[0].delta.content or ""

    try:
        litellm.completion(model="gpt-4o-mini", messages=messages, api_base=API_BASE, api_key="sk-test",
                           num_retries=0)
        rate_limited = False
    except litellm.RateLimitError as e:
        rate_limited = e.status_code == 429
    except litellm.APIConnectionError:
        rate_limited = None

    embedding = litellm.embedding(model="text-embedding-3-small", input=["good morning"], api_base=API_BASE,
                                  api_key="sk-test")
    vector_size = len(embedding.data[0]["embedding"])
    info = litellm.get_model_info("gpt-4o-mini")
    vision = litellm.supports_vision(model="gpt-4o-mini")
    """
)

ASYNC_PROGRAM = textwrap.dedent(
    """
    import asyncio
    from core.llms import compat as litellm

    async def main():
        messages = [{"role": "user", "content": "Hey, how's it going?"}]
        response = await litellm.acompletion(model="openai/gpt-4o-mini", messages=messages,
                                             api_base=API_BASE, api_key="sk-test")
        out = {"answer": response.choices[0].message.content, "usage": response.usage.total_tokens}
        stream = await litellm.acompletion(model="openai/gpt-4o-mini", messages=messages, stream=True,
                                           stream_options={"include_usage": True},
                                           api_base=API_BASE, api_key="sk-test")
        chunks = []
        async for chunk in stream:
            chunks.append(chunk)
        out["streamed"] = litellm.stream_chunk_builder(chunks, messages=messages).choices[0].message.content
        try:
            await litellm.acompletion(model="openai/gpt-4o-mini", messages=messages, api_base=API_BASE,
                                      api_key="sk-test", num_retries=0)
        except litellm.ServiceUnavailableError as e:
            out["error"] = (type(e).__name__, e.status_code, e.llm_provider)
        results = await asyncio.gather(*(
            litellm.acompletion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": str(i)}],
                                api_base=API_BASE, api_key="sk-test")
            for i in range(3)
        ))
        out["gathered"] = [r.choices[0].message.content for r in results]
        return out
    """
)


def test_blocking_litellm_program(threaded_sim: Simulator) -> None:
    namespace: dict[str, Any] = {"API_BASE": f"{threaded_sim.url}/v1"}
    code = SYNC_PROGRAM.replace("try:\n", "try:\n    SIM.enqueue(FAULT)\n", 1)  # (the next call: a 429)
    namespace.update(SIM=threaded_sim, FAULT=Fault(status=429))
    exec(compile(code, "litellm_program.py", "exec"), namespace)
    assert namespace["answer"] == namespace["answer_by_item"] == "Simulated answer to: Hey, how's it going?"
    assert namespace["streamed"] == namespace["answer"]
    assert namespace["cost"] > 0
    assert namespace["rate_limited"] is True
    assert namespace["vector_size"] == 1536
    assert namespace["info"]["max_input_tokens"] > 0 and namespace["vision"] is True


async def test_async_litellm_program(sim: Simulator) -> None:
    namespace: dict[str, Any] = {"API_BASE": f"{sim.url}/v1"}
    exec(compile(ASYNC_PROGRAM, "litellm_async_program.py", "exec"), namespace)
    calls = {"n": 0}  # (the program's third request meets a 503)

    def next_fault() -> Fault | None:
        calls["n"] += 1
        return Fault(status=503) if calls["n"] == 3 else None

    sim.set_fault_generator(next_fault)
    out = await namespace["main"]()
    assert out["answer"] == out["streamed"] == "Simulated answer to: Hey, how's it going?"
    assert out["usage"] > 0
    assert out["error"] == ("ServiceUnavailableError", 503, "openai")
    assert out["gathered"] == [f"Simulated answer to: {i}" for i in range(3)]
