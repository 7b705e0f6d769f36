"""The blocking twins (call, parse, stream): from plain code and from inside a running event loop.
The simulator runs on its own thread here (see conftest.thread_sim)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from core.llms import ConfigurationError, InvalidInputError, LLMClient
from core.llms.client import ChunkEvent, UsageEvent
from core.llms.prompt import Prompt, _runner, set_default_client
from core.llms.simulator import Simulator

from .conftest import make_client, make_model

SUMMARY = Prompt("Summarize {topic} in {n} words.", inputs={"topic": str, "n": int})


class Movie(BaseModel):
    title: str
    year: int


@pytest.fixture
def sync_client(thread_sim: Simulator) -> Iterator[LLMClient]:
    client = make_client(thread_sim)
    yield client
    client.sync.close()


def test_call_parse_and_stream_with_a_client(thread_sim: Simulator, sync_client: LLMClient) -> None:
    response = SUMMARY.call(sync_client, topic="rivers", n=3, options={"temperature": 0})
    assert response.text == "Simulated answer to: Summarize rivers in 3 words."
    assert thread_sim.requests[-1].json["temperature"] == 0
    movie = Prompt("A movie about {theme}", response_format=Movie).parse(sync_client, theme="cats")
    assert isinstance(movie, Movie)
    events = list(SUMMARY.stream(sync_client, topic="rivers", n=3))
    assert "".join(e.delta for e in events if isinstance(e, ChunkEvent)) == response.text
    assert isinstance(events[-1], UsageEvent)


def test_breaking_out_of_a_blocking_stream(thread_sim: Simulator, sync_client: LLMClient) -> None:
    for event in SUMMARY.stream(sync_client, topic="rivers", n=3):
        assert event.type == "chunk"
        break
    assert SUMMARY.call(sync_client, topic="after", n=1).text.endswith("after in 1 words.")


def test_call_and_stream_with_a_model_object(thread_sim: Simulator) -> None:
    model = make_model(thread_sim)
    try:
        assert SUMMARY.call(model, topic="x", n=1).text.endswith("Summarize x in 1 words.")
        events = list(SUMMARY.stream(model, topic="x", n=1))
        assert isinstance(events[-1], UsageEvent) and events[-1].response.text.endswith("x in 1 words.")
        structured = Prompt("A movie about {theme}", response_format=Movie, client=model)
        assert isinstance(structured.parse(theme="dogs"), Movie)
    finally:
        _runner().run(model.aclose())  # (its connections live on the prompts' worker loop)


def test_the_default_client_blocking(thread_sim: Simulator) -> None:
    client = make_client(thread_sim)
    set_default_client(client)
    try:
        assert SUMMARY.call(topic="lakes", n=2).text.endswith("lakes in 2 words.")
    finally:
        set_default_client(None)
        client.sync.close()


async def test_call_inside_a_running_event_loop(thread_sim: Simulator, sync_client: LLMClient) -> None:
    # (a Jupyter cell, an async handler: the call blocks this loop's thread, never deadlocks)
    asyncio.get_running_loop()
    assert SUMMARY.call(sync_client, topic="jupyter", n=4).text.endswith("jupyter in 4 words.")
    assert len(list(SUMMARY.stream(sync_client, topic="jupyter", n=4))) > 1
    model = make_model(thread_sim)
    try:
        assert SUMMARY.call(model, topic="loop", n=1).text.endswith("loop in 1 words.")
    finally:
        _runner().run(model.aclose())


def test_blocking_input_errors_come_before_any_request(thread_sim: Simulator, sync_client: LLMClient) -> None:
    with pytest.raises(InvalidInputError, match="missing 'n'"):
        SUMMARY.call(sync_client, topic="x")
    with pytest.raises(InvalidInputError, match="unexpected 'temperature'"):
        SUMMARY.stream(sync_client, topic="x", n=1, temperature=0)
    with pytest.raises(ConfigurationError, match="response_format"):
        SUMMARY.parse(sync_client, topic="x", n=1)
    assert thread_sim.request_count == 0
