"""core-llms-ollama end to end: create_llm → FailoverConnector → a fake Ollama server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import BaseModel

from core.llms.factory import create_llm
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    APIConnectionError,
    InvalidInputError,
    NotFoundError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.interfaces.messages import ImagePart, Message
from core.llms.interfaces.types import StreamAccumulator, Usage
from core.llms.providers.base.implementation import BaseLLM
from core.llms.registry import ModelRegistry

from .ollama_support import FakeOllama, Reply, delta_line, done_line, ollama_registry, whole_answer
from .test_plugins_observer import Recorder

from core_llms_ollama.base import OllamaBaseLLM  # isort: skip

from model_classes import model_class

Gemma3 = model_class("ollama/gemma3")
Llama32 = model_class("ollama/llama3.2")


NO_RETRY = {"max_retries": 0}
MakeLLM = Callable[..., BaseLLM]


@pytest.fixture
async def make_llm(ollama: FakeOllama) -> AsyncIterator[MakeLLM]:
    made: list[BaseLLM] = []

    def make(model: str = "ollama/llama3.2", registry: ModelRegistry | None = None, **kw: Any) -> BaseLLM:
        kw.setdefault("endpoint", ollama.url)
        kw.setdefault("retry", NO_RETRY)
        llm = create_llm(model, registry=registry or ollama_registry(), **kw)
        made.append(llm)
        return llm

    yield make
    for llm in made:
        await llm.aclose()


async def test_answer(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(json=whole_answer("Hello! How are you today?")))
    llm = make_llm()
    assert isinstance(llm, Llama32)
    response = await llm.get_answer("why is the sky blue?", temperature=0.2, max_tokens=50, seed=1)
    assert response.text == "Hello! How are you today?"
    assert (response.model, response.provider, response.finish_reason) == ("llama3.2", "ollama", "stop")
    assert response.usage == Usage(26, 5) and response.cost is None
    assert response.endpoint == ollama.url and response.latency is not None
    seen = ollama.requests[-1]
    assert seen.path == "/api/chat" and "Authorization" not in seen.headers
    assert seen.body == {
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "why is the sky blue?"}],
        "stream": False,
        "options": {"temperature": 0.2, "num_predict": 50, "seed": 1},
    }


async def test_defaults_and_unknown_parameters(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    llm = make_llm(defaults={"temperature": 0.7, "keep_alive": "1m"})
    await llm.get_answer("hi")
    assert ollama.last["options"] == {"temperature": 0.7} and ollama.last["keep_alive"] == "1m"
    with pytest.raises(InvalidInputError, match="unknown parameter 'tool_choice'"):
        await llm.get_answer("hi", tool_choice="auto")
    assert len(ollama.requests) == 1  # nothing was sent


async def test_stream_split_at_odd_boundaries(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    lines = [delta_line("Hé"), delta_line("llo, wö"), delta_line("rld ✓"), done_line("length", 12, 3)]
    ollama.enqueue(Reply(lines=lines, split=3))
    chunks = [c async for c in make_llm().stream_answer("hi", max_tokens=3)]
    acc = StreamAccumulator()
    for chunk in chunks:
        acc.add(chunk)
    assert acc.text == "Héllo, wörld ✓"
    assert acc.finish_reason == "length" and acc.usage == Usage(12, 3)
    assert chunks[0].endpoint == ollama.url
    assert ollama.last["stream"] is True and ollama.last["options"] == {"num_predict": 3}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}


async def test_tool_calls(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    calls = [
        {
            "function": {
                "name": "get_current_weather",
                "arguments": {"location": "Paris, FR", "format": "celsius"},
            }
        },
        {"function": {"name": "get_current_weather", "arguments": {"location": "Oslo"}}},
    ]
    ollama.enqueue(Reply(json=whole_answer("", tool_calls=calls)))
    llm = make_llm()
    response = await llm.get_answer("weather in Paris and Oslo?", tools=[WEATHER_TOOL])
    assert response.finish_reason == "tool_calls"
    first, second = response.tool_calls
    assert first.name == "get_current_weather"
    assert json.loads(first.arguments) == {"location": "Paris, FR", "format": "celsius"}
    assert first.id != second.id and first.id.startswith("call_")
    assert ollama.last["tools"] == [WEATHER_TOOL]

    # the conversation goes on with the tool results
    await llm.get_answer(
        [
            Message.user("weather in Paris?"),
            Message.assistant("", [first]),
            Message.tool(first.id, {"temperature": 21}),
        ],
        tools=[WEATHER_TOOL],
    )
    sent = ollama.last["messages"]
    assert sent[1]["tool_calls"] == [
        {"function": {"name": "get_current_weather", "arguments": json.loads(first.arguments)}}
    ]
    assert sent[2] == {"role": "tool", "content": '{"temperature": 21}', "tool_name": "get_current_weather"}


async def test_streamed_tool_call(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    call = {"function": {"name": "get_current_weather", "arguments": {"location": "Paris"}}}
    ollama.enqueue(Reply(lines=[delta_line("", tool_calls=[call]), done_line()], split=5))
    acc = StreamAccumulator()
    async for chunk in make_llm().stream_answer("weather?", tools=[WEATHER_TOOL]):
        acc.add(chunk)
    [tool_call] = acc.tool_calls
    assert json.loads(tool_call.arguments) == {"location": "Paris"} and acc.finish_reason == "tool_calls"


class Person(BaseModel):
    name: str
    age: int


async def test_format_schema_from_pydantic(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(json=whole_answer('{"name": "Ollama", "age": 22}')))
    response = await make_llm().get_answer("who?", response_format=Person)
    assert ollama.last["format"] == Person.model_json_schema()
    assert response.parsed == Person(name="Ollama", age=22)


async def test_format_json_schema_and_json_mode(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    ollama.enqueue(Reply(json=whole_answer('{"age": 22}')), Reply(json=whole_answer('{"a": [1]}')))
    llm = make_llm()
    assert (await llm.get_answer("age?", format=schema)).parsed == {"age": 22}
    assert ollama.last["format"] == schema
    assert (await llm.get_answer("json!", format="json")).parsed == {"a": [1]}
    assert ollama.last["format"] == "json"


async def test_structured_answer_that_does_not_parse(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(json=whole_answer('{"name": "cut', reason="length")))
    with pytest.raises(ResponseParsingError) as info:
        await make_llm().get_answer("who?", response_format=Person)
    assert "Person" in str(info.value) and info.value.model == "llama3.2"


async def test_images(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 16
    llm = make_llm("ollama/gemma3")
    assert isinstance(llm, Gemma3)
    await llm.get_answer_with_vision("what is in this picture?", [png])
    [message] = ollama.last["messages"]
    assert message["images"] == [base64.b64encode(png).decode()]
    assert ollama.last["model"] == "gemma3"


async def test_text_only_model_refuses_images(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    with pytest.raises(Exception, match="cannot read images"):
        await make_llm().get_answer_with_vision("?", [ImagePart(data=b"x", media_type="image/png")])
    assert ollama.requests == []


async def test_generic_model_sends_its_name(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    llm = make_llm("ollama/hf.co/org/phi-4-GGUF:Q4_K_M")
    assert isinstance(llm, OllamaBaseLLM) and llm.metadata.name == "hf.co/org/phi-4-GGUF:Q4_K_M"
    assert llm.cost(None) is None and not llm.metadata.pricing.known
    await llm.get_answer("hi")
    assert ollama.last["model"] == "hf.co/org/phi-4-GGUF:Q4_K_M"


async def test_unknown_model_404(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(status=404, json={"error": 'model "llama3.2" not found, try pulling it first'}))
    with pytest.raises(NotFoundError) as info:
        await make_llm().get_answer("hi")
    error = info.value
    assert error.status == 404 and "ollama pull llama3.2" in (error.hint or "")
    assert (error.provider, error.model, error.endpoint) == ("ollama", "llama3.2", ollama.url)


async def test_server_error_status(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(status=500, json={"error": "llama runner process has terminated"}))
    with pytest.raises(ServiceUnavailableError, match="runner process has terminated"):
        await make_llm().get_answer("hi")


async def test_in_stream_error_after_content(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(lines=[delta_line("partial "), delta_line("answer"), {"error": "out of memory"}]))
    received = []
    with pytest.raises(StreamInterruptedError) as info:
        async for chunk in make_llm().stream_answer("hi"):
            received.append(chunk.text)
    error = info.value
    assert error.partial_text == "partial answer" == "".join(received)
    assert isinstance(error.cause, ServiceUnavailableError) and "out of memory" in str(error)


async def test_in_stream_error_before_content(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(lines=[{"error": "model failed to load"}]))
    with pytest.raises(ServiceUnavailableError, match="model failed to load"):
        [c async for c in make_llm().stream_answer("hi")]


async def test_truncated_stream(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(lines=[delta_line("The sky "), delta_line("is")]))
    with pytest.raises(StreamInterruptedError) as info:
        [c async for c in make_llm().stream_answer("hi")]
    assert info.value.partial_text == "The sky is"
    assert "final 'done' line" in f"{info.value} {info.value.cause}"


async def test_empty_stream_is_a_connection_failure(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    ollama.enqueue(Reply(lines=[]))
    with pytest.raises(APIConnectionError, match="ended before any data"):
        [c async for c in make_llm().stream_answer("hi")]


async def test_failover_to_a_backup_server(make_llm: MakeLLM) -> None:
    primary, backup = FakeOllama(), FakeOllama()
    await primary.start()
    await backup.start()
    try:
        primary.enqueue(Reply(status=503, json={"error": "busy"}))
        backup.enqueue(Reply(json=whole_answer("from the backup")))
        llm = make_llm(endpoint=primary.url, backups=[{"endpoint": backup.url}])
        response = await llm.get_answer("hi")
        assert response.text == "from the backup" and response.endpoint == backup.url
        backup.enqueue(Reply(status=503, json={"error": "busy too"}))
        primary.enqueue(Reply(status=503, json={"error": "still busy"}))
        with pytest.raises(AllEndpointsFailedError):
            await llm.get_answer("hi")
    finally:
        await primary.close()
        await backup.close()


async def test_bearer_key_from_argument_or_env(
    ollama: FakeOllama, make_llm: MakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_llm(api_key="proxy-key").get_answer("hi")
    assert ollama.requests[-1].headers["Authorization"] == "Bearer proxy-key"
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key")
    await make_llm().get_answer("hi")
    assert ollama.requests[-1].headers["Authorization"] == "Bearer env-key"


async def test_endpoint_from_env(ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", ollama.url)
    async with create_llm("ollama/mistral", registry=ollama_registry()) as llm:
        await llm.get_answer("hi")
    assert ollama.last["model"] == "mistral"


async def test_observer_plugins_see_each_call(ollama: FakeOllama, make_llm: MakeLLM) -> None:
    recorder = Recorder()
    llm = make_llm(registry=ollama_registry(("recorder", recorder)))
    ollama.enqueue(Reply(json=whole_answer("one")), Reply(lines=[delta_line("two"), done_line()]))
    await llm.get_answer("hi")
    [c async for c in llm.stream_answer("hi")]
    ollama.enqueue(Reply(status=404, json={"error": 'model "llama3.2" not found'}))
    with pytest.raises(NotFoundError):
        await llm.get_answer("hi")
    kinds = [kind for kind, _ in recorder.events]
    assert kinds == ["request", "response", "request", "response", "request", "error"]
    assert [e.text for k, e in recorder.events if k == "response"] == ["one", "two"]
