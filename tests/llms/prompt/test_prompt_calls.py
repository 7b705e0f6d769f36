"""Prompt calls through the simulator: a model object, an LLMClient, a model name, the default
client; streams; structured output; every input error before any request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from core.llms import (
    ConfigurationError,
    InvalidInputError,
    LLMClient,
    LLMResponse,
    LLMStreamChunk,
    RequestContext,
    ResponseParsingError,
)
from core.llms.client import ChunkEvent, UsageEvent
from core.llms.prompt import Prompt, set_default_client
from core.llms.providers.base.implementation import BaseLLM
from core.llms.simulator import Simulator

from .conftest import KEY, make_client

SUMMARY = Prompt("Summarize {topic} in {n} words.", inputs={"topic": str, "n": int}, system="Be brief.")


class Movie(BaseModel):
    title: str
    year: int


MOVIE = Prompt("Invent a movie about {theme}.", response_format=Movie)


def sent_messages(sim: Simulator, i: int = -1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sim.requests[i].json["messages"]
    return messages


class ScriptedModel:
    """A model object of our own (any ILLM works): answers ``text`` (or refuses)."""

    def __init__(self, text: str, refusal: str | None = None) -> None:
        self.text, self.refusal, self.calls = text, refusal, 0

    async def get_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        self.calls += 1
        return LLMResponse(self.text, "scripted", "test", refusal=self.refusal)

    async def stream_answer(
        self, messages: Any, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        self.calls += 1
        for word in self.text.split(" "):
            yield LLMStreamChunk(text=word + " ")
        yield LLMStreamChunk(finish_reason="stop")


# -- calls --------------------------------------------------------------------------------------


async def test_acall_with_a_model_object(sim: Simulator, model: BaseLLM) -> None:
    response = await SUMMARY.acall(model, topic="rivers", n=3)
    assert response.text == "Simulated answer to: Summarize rivers in 3 words."
    assert sent_messages(sim) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Summarize rivers in 3 words."},
    ]


async def test_acall_with_a_client_options_and_an_input_named_model(
    sim: Simulator, client: LLMClient
) -> None:
    prompt = Prompt("Compare {model} and {other}.", model="gpt-4o-mini", params={"temperature": 0.5})
    response = await prompt.acall(client, model="llama", other="mistral", options={"max_tokens": 20})
    assert response.text == "Simulated answer to: Compare llama and mistral."
    body = sim.requests[-1].json
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0.5
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 20
    await prompt.acall(client, model="x", other="y", options={"model": "gpt-4.1-nano", "temperature": 0})
    assert sim.requests[-1].json["model"] == "gpt-4.1-nano" and sim.requests[-1].json["temperature"] == 0


async def test_a_model_name_as_target_goes_through_the_prompts_client(
    sim: Simulator, client: LLMClient
) -> None:
    prompt = Prompt("Hi {name}", client=client)
    await prompt.acall("gpt-4.1-nano", name="Ada")
    assert sim.requests[-1].json["model"] == "gpt-4.1-nano"
    await prompt.acall(name="Ada")  # the prompt's client and the client's default model
    assert sim.requests[-1].json["model"] == "gpt-4.1-mini"
    with pytest.raises(InvalidInputError, match="given twice"):
        await prompt.acall("gpt-4.1-nano", name="Ada", options={"model": "gpt-4o"})


async def test_the_default_client(sim: Simulator) -> None:
    async with make_client(sim) as client:
        set_default_client(client)
        try:
            response = await SUMMARY.acall(topic="lakes", n=2)
        finally:
            set_default_client(None)
    assert response.text.endswith("Summarize lakes in 2 words.")


async def test_the_default_client_comes_from_the_environment(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{sim.url}/v1")
    prompt = Prompt("Hello {name}", model="gpt-4.1-mini")
    try:
        assert (await prompt.acall(name="env")).text == "Simulated answer to: Hello env"
    finally:
        made = set_default_client(None)
        assert isinstance(made, LLMClient)
        await made.aclose()


async def test_a_wrong_target_or_options_is_refused(sim: Simulator) -> None:
    with pytest.raises(InvalidInputError, match="LLMClient, a model object"):
        await SUMMARY.acall(42, topic="x", n=1)
    with pytest.raises(InvalidInputError, match="options must be a mapping"):
        await SUMMARY.acall(ScriptedModel("hi"), topic="x", n=1, options=["temperature"])  # type: ignore[arg-type]


async def test_every_input_error_comes_before_any_request(sim: Simulator, client: LLMClient) -> None:
    bad: list[dict[str, Any]] = [
        {"topic": "x"},
        {"topic": "x", "n": 1, "temperature": 0},
        {"topic": 1, "n": "1"},
    ]
    for inputs in bad:
        with pytest.raises(InvalidInputError):
            await SUMMARY.acall(client, **inputs)
        with pytest.raises(InvalidInputError):
            SUMMARY.astream(client, **inputs)  # raised by the call itself, before iterating
        with pytest.raises(InvalidInputError):
            await MOVIE.aparse(client, **inputs)
    with pytest.raises(ConfigurationError, match="response_format"):
        await SUMMARY.aparse(client, topic="x", n=1)
    assert sim.request_count == 0


# -- streams ------------------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["model", "client"])
async def test_astream_yields_the_clients_events(
    sim: Simulator, model: BaseLLM, client: LLMClient, through: str
) -> None:
    target = model if through == "model" else client
    events = [e async for e in SUMMARY.astream(target, topic="rivers", n=3)]
    chunks = [e for e in events if isinstance(e, ChunkEvent)]
    assert "".join(e.delta for e in chunks) == "Simulated answer to: Summarize rivers in 3 words."
    last = events[-1]
    assert isinstance(last, UsageEvent) and last.finish_reason == "stop"
    assert last.response.text == "Simulated answer to: Summarize rivers in 3 words."
    assert last.response.usage is not None
    assert sim.requests[-1].json["stream"] is True


async def test_breaking_out_of_astream_closes_it(sim: Simulator, client: LLMClient) -> None:
    stream = SUMMARY.astream(client, topic="rivers", n=3)
    async for event in stream:
        assert event.type == "chunk"
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert (await SUMMARY.acall(client, topic="again", n=1)).text.endswith("again in 1 words.")


# -- structured output --------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["model", "client"])
async def test_structured_output(sim: Simulator, model: BaseLLM, client: LLMClient, through: str) -> None:
    target = model if through == "model" else client
    movie = await MOVIE.aparse(target, theme="cats")
    assert isinstance(movie, Movie)
    sent = sim.requests[-1].json["response_format"]
    assert sent["type"] == "json_schema" and set(sent["json_schema"]["schema"]["required"]) == {
        "title",
        "year",
    }
    response = await MOVIE.acall(target, theme="cats")
    assert response.parsed == movie
    events = [e async for e in MOVIE.astream(target, theme="cats")]
    last = events[-1]
    assert isinstance(last, UsageEvent) and last.response.parsed == movie


async def test_a_response_format_per_call(sim: Simulator, model: BaseLLM) -> None:
    prompt = Prompt("Invent a movie about {theme}.")
    movie = await prompt.aparse(model, theme="dogs", options={"response_format": Movie})
    assert isinstance(movie, Movie)


async def test_an_answer_that_does_not_fit_is_a_parsing_error() -> None:
    bad = ScriptedModel('{"title": "x"}')
    with pytest.raises(ResponseParsingError, match="does not match Movie") as err:
        await MOVIE.aparse(bad, theme="cats")
    assert err.value.model == "scripted"
    with pytest.raises(ResponseParsingError, match=r"does not match Movie: .*Invalid JSON"):
        await MOVIE.aparse(ScriptedModel("no json here"), theme="cats")
    with pytest.raises(ResponseParsingError, match="refused"):
        await MOVIE.aparse(ScriptedModel("", refusal="I cannot"), theme="cats")
    with pytest.raises(ResponseParsingError, match=r"does not match Movie: .*Invalid JSON"):
        [e async for e in MOVIE.astream(ScriptedModel("no json here"), theme="cats")]
    good = ScriptedModel('{"title": "Paws", "year": 2001}')
    assert await MOVIE.aparse(good, theme="cats") == Movie(title="Paws", year=2001)
