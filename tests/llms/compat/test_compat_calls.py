"""The LiteLLM-compatible API through the simulator: a LiteLLM program runs unchanged after the
import is swapped; OpenAI-shaped results; streams; errors under LiteLLM's names; fallbacks,
retries and the endpoint keywords; mock responses; model information."""

from __future__ import annotations

import asyncio
import textwrap
from typing import Any

import pytest

import core.llms as core
from core.llms import compat as litellm
from core.llms.simulator import Fault, Simulator

KEY = "sim-key-not-secret"
MESSAGES = [{"role": "user", "content": "hello there"}]
ANSWER = "Simulated answer to: hello there"


def base(sim: Simulator) -> dict[str, Any]:
    return {"api_base": f"{sim.url}/v1", "api_key": KEY}


# -- a LiteLLM program, unchanged ----------------------------------------------------------------

PROGRAM = """
from core.llms import compat as litellm

messages = [{"role": "user", "content": "What is 2 + 2?"}]
response = litellm.completion(model="gpt-4o-mini", messages=messages, api_base=BASE, api_key=KEY)
print(response.choices[0].message.content)
print(response["choices"][0]["message"]["content"])
print(response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens)
print(round(litellm.completion_cost(completion_response=response), 10) > 0)
text = ""
for chunk in litellm.completion(model="gpt-4o-mini", messages=messages, api_base=BASE, api_key=KEY,
                                stream=True):
    text += chunk.choices[0].delta.content or ""
print(text)
try:
    litellm.completion(model="gpt-4o-mini", messages=messages, api_base=BASE, api_key=KEY, num_retries=0,
                       mock_response=litellm.RateLimitError("slow down", llm_provider="openai",
                                                            model="gpt-4o-mini"))
except litellm.RateLimitError as e:
    print("rate limited", e.status_code)
"""


def test_a_litellm_program_runs_unchanged(
    threaded_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(textwrap.dedent(PROGRAM), {"BASE": f"{threaded_sim.url}/v1", "KEY": KEY})
    lines = capsys.readouterr().out.splitlines()
    answer = "Simulated answer to: What is 2 + 2?"
    assert lines[0] == lines[1] == answer
    prompt, completion, total = map(int, lines[2].split())
    assert prompt > 0 and completion > 0 and total == prompt + completion
    assert lines[3] == "True"
    assert lines[4] == answer
    assert lines[5] == "rate limited 429"


async def test_acompletion_shapes_like_openai(sim: Simulator) -> None:
    response = await litellm.acompletion(model="gpt-4o-mini", messages=MESSAGES, **base(sim))
    assert response.choices[0].message.content == ANSWER
    assert response.choices[0].message.role == "assistant"
    assert response.choices[0].finish_reason == "stop"
    dumped = response.model_dump()
    assert {"id", "object", "created", "model", "choices", "usage"} <= set(dumped)
    assert dumped["object"] == "chat.completion" and dumped["id"].startswith("chatcmpl-")
    assert dumped["choices"][0]["message"]["content"] == ANSWER
    assert {"prompt_tokens", "completion_tokens", "total_tokens"} <= set(dumped["usage"])
    assert response.to_dict() == dumped
    assert response._hidden_params["response_cost"] == pytest.approx(litellm.completion_cost(response))


async def test_async_stream_with_usage_and_chunk_builder(sim: Simulator) -> None:
    stream = await litellm.acompletion(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        **base(sim),
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER
    assert chunks[0].object == "chat.completion.chunk"
    assert chunks[-1].usage.total_tokens > 0
    assert "stop" in [c.choices[0].finish_reason for c in chunks if c.choices]
    built = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    assert built.choices[0].message.content == ANSWER


async def test_tool_calls_and_structured_output(sim: Simulator) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    response = await litellm.acompletion(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "use get_weather"}],
        tools=[tool],
        **base(sim),
    )
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and '"city"' in call.function.arguments
    assert response.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("fault", "error", "core_error"),
    [
        (Fault(status=401), litellm.AuthenticationError, core.AuthenticationError),
        (Fault(status=404), litellm.NotFoundError, core.NotFoundError),
        (Fault(status=429), litellm.RateLimitError, core.RateLimitError),
        (Fault(status=400), litellm.BadRequestError, core.BadRequestError),
        (Fault(status=503), litellm.ServiceUnavailableError, core.ServiceUnavailableError),
        (Fault(status=500), litellm.InternalServerError, core.ServiceUnavailableError),
    ],
)
async def test_errors_under_litellm_names(
    sim: Simulator, fault: Fault, error: type, core_error: type
) -> None:
    sim.enqueue(fault)
    with pytest.raises(error) as info:
        await litellm.acompletion(model="gpt-4o-mini", messages=MESSAGES, num_retries=0, **base(sim))
    assert isinstance(info.value, core_error) and isinstance(info.value, core.LLMError)
    assert info.value.status_code == fault.status
    assert info.value.llm_provider == "openai"
    assert KEY not in str(info.value) and KEY[:12] not in repr(info.value)


async def test_context_window_and_timeout(sim: Simulator) -> None:
    with pytest.raises(litellm.ContextWindowExceededError) as info:
        await litellm.acompletion(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x " * 600_000}], **base(sim)
        )
    assert isinstance(info.value, litellm.BadRequestError)
    sim.enqueue(Fault(delay=2.0))
    with pytest.raises(litellm.Timeout):
        await litellm.acompletion(
            model="gpt-4o-mini", messages=MESSAGES, timeout=0.2, num_retries=0, **base(sim)
        )


async def test_num_retries_and_fallbacks(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503, retry_after=0.01), Fault(status=503, retry_after=0.01))
    response = await litellm.acompletion(model="gpt-4o-mini", messages=MESSAGES, num_retries=2, **base(sim))
    assert response.choices[0].message.content == ANSWER
    assert sim.request_count == 3
    async with Simulator() as other:
        sim.enqueue(Fault(status=503))
        response = await litellm.acompletion(
            model="gpt-4o-mini",
            messages=MESSAGES,
            num_retries=0,
            fallbacks=[{"model": "gpt-4.1-mini", "api_base": f"{other.url}/v1", "api_key": KEY}],
            **base(sim),
        )
        assert response.choices[0].message.content == ANSWER
        assert other.request_count == 1


async def test_unsupported_parameters_and_drop_params(sim: Simulator) -> None:
    with pytest.raises(litellm.UnsupportedParamsError):
        await litellm.acompletion(model="gpt-4o-mini", messages=MESSAGES, not_a_parameter=1, **base(sim))
    response = await litellm.acompletion(
        model="gpt-4o-mini", messages=MESSAGES, not_a_parameter=1, drop_params=True, **base(sim)
    )
    assert response.choices[0].message.content == ANSWER


async def test_n_greater_than_one(sim: Simulator) -> None:
    response = await litellm.acompletion(model="gpt-4o-mini", messages=MESSAGES, n=3, **base(sim))
    assert [c.index for c in response.choices] == [0, 1, 2]
    assert sim.request_count in (1, 3)


def test_mock_response_makes_no_call() -> None:
    response = litellm.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="It's simple!")
    assert response.choices[0].message.content == "It's simple!"
    chunks = list(
        litellm.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a b", stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "a b"


def test_sync_inside_a_running_loop(threaded_sim: Simulator) -> None:
    async def handler() -> str:
        response = litellm.completion(model="gpt-4o-mini", messages=MESSAGES, **base(threaded_sim))
        return str(response.choices[0].message.content)

    assert asyncio.run(handler()) == ANSWER


def test_sync_stream_closed_early(threaded_sim: Simulator) -> None:
    stream = litellm.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, **base(threaded_sim))
    for chunk in stream:
        assert chunk.choices
        break
    stream.close()
    again = litellm.completion(model="gpt-4o-mini", messages=MESSAGES, **base(threaded_sim))
    assert again.choices[0].message.content == ANSWER


async def test_embedding(sim: Simulator) -> None:
    response = await litellm.aembedding(model="text-embedding-3-small", input=["a", "b"], **base(sim))
    assert [d["index"] for d in response.data] == [0, 1]
    assert len(response.data[0]["embedding"]) > 10
    assert response.usage.prompt_tokens > 0


def test_model_information() -> None:
    info = litellm.get_model_info("gpt-4o-mini")
    assert info["litellm_provider"] == "openai" and info["mode"] == "chat"
    assert info["max_input_tokens"] > info["max_output_tokens"] > 0
    assert info["input_cost_per_token"] > 0
    prompt_cost, completion_cost = litellm.cost_per_token(
        model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=1000
    )
    assert prompt_cost == pytest.approx(1000 * info["input_cost_per_token"])
    assert completion_cost == pytest.approx(1000 * info["output_cost_per_token"])
    assert litellm.get_max_tokens("gpt-4o-mini") == info["max_output_tokens"]
    assert litellm.supports_vision("gpt-4o-mini") and litellm.supports_function_calling("gpt-4o-mini")
    assert litellm.supports_response_schema("gpt-4o-mini")
    assert litellm.supports_reasoning("o3-mini") and not litellm.supports_reasoning("gpt-4o-mini")
    assert litellm.supports_pdf_input("gpt-4o-mini") in (True, False)
    assert litellm.get_model_info("anthropic/claude-sonnet-4")["litellm_provider"] == "anthropic"
    assert litellm.get_model_info("vertex_ai/gemini-2.5-pro")["litellm_provider"] in ("vertex", "vertex_ai")
    with pytest.raises(litellm.NotFoundError):
        litellm.get_model_info("no-such-model-anywhere")


async def test_image_speech_and_transcription(sim: Simulator, tmp_path: Any) -> None:
    image = await litellm.aimage_generation(prompt="a red square", model="dall-e-3", **base(sim))
    assert image.data[0].get("url") or image.data[0].get("b64_json")
    speech = await litellm.aspeech(
        model="tts-1", input="hello there", voice="alloy", response_format="wav", **base(sim)
    )
    assert len(speech.content) > 100
    path = tmp_path / "hello.wav"
    speech.stream_to_file(path)
    with open(path, "rb") as audio:
        text = await litellm.atranscription(model="whisper-1", file=audio, **base(sim))
    assert isinstance(text.text, str) and text.text


def test_blocking_media(threaded_sim: Simulator) -> None:
    vectors = litellm.embedding(model="text-embedding-3-small", input="one", **base(threaded_sim))
    assert len(vectors.data) == 1
