"""Replay of every recorded Cohere v2 file in ``tests/llms/wire/cohere``.

Streams are replayed twice: straight into :class:`CohereStreamParser` through the real SSE
decoder, cut at seeded random byte offsets; and end to end, served by a loopback replay server
and read by a Cohere model through the real ``FailoverConnector``. The non-streamed citations
body is parsed directly and end to end. Expectations are literal facts of the recordings plus an
oracle that reads them with nothing but ``json``.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from model_classes import model_class
from openai_testkit import (
    ReplayServer,
    ScriptedConnector,
    accumulate,
    decode_events,
    reframe_chunks_txt,
    run_parser,
    sidecar,
    wire_bytes,
    wire_response,
)
from wire_corpus import WIRE

from core.llms.interfaces import LLMStreamChunk, StreamAccumulator, StreamInterruptedError, Usage
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.cohere import CohereAdapter
from core.llms.providers.dialects.cohere_v2 import CohereStreamParser, citations_of, tool_plan_of

CommandA = model_class("cohere/command-a-03-2025")
CommandR = model_class("cohere/command-r-08-2024")
Reasoning = model_class("cohere/command-a-reasoning-08-2025")

TEXT = "cohere/cohere-v2-stream-text.sse"
TOOLS = "cohere/cohere-v2-stream-tool-call.sse"
REASONING = "cohere/cohere-v2-stream-reasoning.txt"
CITATIONS = "cohere/cohere-v2-citations.json"
STREAMS = (TEXT, TOOLS, REASONING)
#: every file of the directory and the test that reads it (a new recording fails until it is listed)
COVERED = {
    TEXT: "streams",
    TOOLS: "streams",
    REASONING: "streams",
    CITATIONS: "test_citations_body",
    "cohere/cohere-v2-stream-text.http.json": "test_end_to_end_stream_replay (status, headers, request)",
    "cohere/cohere-v2-stream-tool-call.http.json": "test_end_to_end_stream_replay (status, headers, request)",
}
SEEDS = (0, 1, 2, 3, 4)
TOOL_PLAN = (
    "I will use the Person tool to create a person with the name Erick and age 27, and then relay this "
    "information to the user."
)


def recording(name: str) -> bytes:
    raw = wire_bytes(name)
    return reframe_chunks_txt(raw) if name.endswith(".txt") else raw


def replay(raw: bytes, seed: int = 0, endpoint: str = "replay") -> list[LLMStreamChunk]:
    parser = CohereStreamParser(endpoint, cost=lambda usage: None if usage is None else 0.5)
    return run_parser(parser, decode_events(raw, random.Random(seed)))


def oracle(raw: bytes) -> dict[str, Any]:
    """What a stream says, read with ``json`` only: text, thinking, tool plan, tool calls, finish."""
    out: dict[str, Any] = {"text": "", "thinking": "", "plan": "", "calls": {}, "end": None}
    for line in raw.decode().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        message = (event.get("delta") or {}).get("message") or {}
        match event["type"]:
            case "content-delta":
                out["text"] += message["content"].get("text", "")
                out["thinking"] += message["content"].get("thinking", "")
            case "tool-plan-delta":
                out["plan"] += message["tool_plan"]
            case "tool-call-start":
                call = message["tool_calls"]
                out["calls"][event["index"]] = [call["id"], call["function"]["name"], ""]
            case "tool-call-delta":
                out["calls"][event["index"]][2] += message["tool_calls"]["function"]["arguments"]
            case "message-end":
                out["end"] = event["delta"]
    return out


def summary(acc: StreamAccumulator) -> tuple[Any, ...]:
    response = acc.to_response(model="m", provider="cohere")
    calls = [(c.id, c.name, c.arguments) for c in acc.tool_calls]
    return (acc.text, response.reasoning, calls, acc.finish_reason, acc.usage, acc.cost, acc.raw)


def test_every_recording_is_replayed() -> None:
    files = {f"cohere/{p.name}" for p in (WIRE / "cohere").iterdir()}
    assert files == set(COVERED), f"unlisted recordings: {sorted(files - set(COVERED))}"


# -- straight into the parser ----------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAMS)
def test_random_splits_give_the_same_answer(name: str) -> None:
    raw = recording(name)
    whole = summary(accumulate(replay(raw, seed=0)))
    for seed in SEEDS[1:]:
        assert summary(accumulate(replay(raw, seed=seed))) == whole
    said = oracle(raw)
    acc = accumulate(replay(raw))
    assert acc.text == said["text"]
    reasoning = acc.to_response(model="m", provider="cohere").reasoning or ""
    assert reasoning == "\n\n".join(p for p in (said["thinking"], said["plan"]) if p)
    assert [[c.id, c.name, c.arguments] for c in acc.tool_calls] == [
        said["calls"][i] for i in sorted(said["calls"])
    ]
    billed = said["end"]["usage"]["billed_units"]
    assert acc.usage == Usage(billed["input_tokens"], billed["output_tokens"])
    assert acc.raw["usage"] == said["end"]["usage"]  # the unbilled token counts are kept


def test_text_stream() -> None:
    chunks = replay(recording(TEXT))
    acc = accumulate(chunks)
    assert acc.text.startswith("Hi there! You're Pickle Rick? That's a fun nickname!")
    assert acc.text.endswith("Maybe some Rick and Morty fan theories or episode recommendations?")
    assert (acc.finish_reason, acc.usage) == ("stop", Usage(input_tokens=4, output_tokens=69))
    assert acc.raw["usage"]["tokens"] == {"input_tokens": 70, "output_tokens": 69}
    assert acc.raw["id"] == "3ec845ed-ebb1-4223-9648-4e5632d5c6b5"
    assert acc.raw["message"]["content"] == [{"type": "text", "text": acc.text}]
    assert chunks[0].endpoint == "replay" and chunks[0].text == "Hi"
    assert chunks[-1].finish_reason == "stop" and chunks[-1].cost == 0.5
    assert all(c.reasoning is None and c.tool_calls is None for c in chunks)


def test_tool_call_stream_keeps_plan_and_reassembles_arguments() -> None:
    acc = accumulate(replay(recording(TOOLS), seed=7))
    (call,) = acc.tool_calls
    assert (call.id, call.name) == ("Person_2fnrphbsnr66", "Person")
    assert json.loads(call.arguments) == {"name": "Erick", "age": 27}
    assert acc.text == ""
    assert acc.to_response(model="m", provider="cohere").reasoning == TOOL_PLAN
    assert tool_plan_of(acc.raw) == TOOL_PLAN
    assert acc.raw["message"]["tool_calls"] == [call.to_dict()]
    assert (acc.finish_reason, acc.usage) == ("tool_calls", Usage(input_tokens=23, output_tokens=41))


def test_reasoning_stream() -> None:
    chunks = replay(recording(REASONING), seed=3)
    acc = accumulate(chunks)
    response = acc.to_response(model="m", provider="cohere")
    assert response.reasoning is not None
    assert response.reasoning.startswith("The user is asking for the sum of 2 and 2.")
    assert response.reasoning.endswith("I can calculate the answer directly.")
    assert acc.text == "The answer to 2 + 2 is 4."
    first_text = next(i for i, c in enumerate(chunks) if c.text)
    assert all(c.reasoning for c in chunks[:first_text])  # thinking streams first
    assert (acc.finish_reason, acc.usage) == ("stop", Usage(input_tokens=8, output_tokens=50))
    assert [p["type"] for p in acc.raw["message"]["content"]] == ["thinking", "text"]
    assert acc.raw["usage"]["cached_tokens"] == 1360


@pytest.mark.parametrize("name", STREAMS)
def test_cut_before_message_end_is_interrupted(name: str) -> None:
    raw = recording(name)
    cut = raw[: raw.index(b'"message-end"')]
    cut = cut[: cut.rindex(b"\n\n") + 2]
    with pytest.raises(StreamInterruptedError):
        replay(cut + b"data: [DONE]\n\n")  # [DONE] does not make up for the missing message-end


def test_citations_body() -> None:
    data = json.loads(wire_bytes(CITATIONS))
    model = CommandA(ScriptedConnector())
    response = model._parse_response(wire_response(data))
    assert response.text.startswith("The key benefits mentioned in this document are:")
    assert (response.finish_reason, response.usage) == ("stop", Usage(input_tokens=39, output_tokens=27))
    assert response.cost == pytest.approx(model.cost(response.usage))
    cites = citations_of(response.raw)
    assert [c["text"] for c in cites] == ["Automation of tasks", "Better decision-making", "Cost reduction"]
    for cite in cites:
        assert response.text[cite["start"] : cite["end"]] == cite["text"]
        assert cite["sources"][0]["document"]["title"] == "benefits.txt"
    assert response.raw["usage"]["cached_tokens"] == 992


# -- end to end through the transport -------------------------------------------------------------


def connector_for(url: str) -> FailoverConnector:
    return FailoverConnector.from_endpoints(
        CohereAdapter(), EndpointConfig(endpoint=url, api_key="co-replay")
    )


def headers_of(name: str, default_type: str) -> dict[str, str]:
    try:
        recorded = {k.lower(): v for k, v in sidecar(name)["response"]["headers"].items()}
    except FileNotFoundError:
        recorded = {}
    out = {"Content-Type": recorded.get("content-type", default_type)}
    if "x-debug-trace-id" in recorded:
        out["x-debug-trace-id"] = recorded["x-debug-trace-id"]
    return out


@pytest.mark.parametrize("name", STREAMS)
async def test_end_to_end_stream_replay(name: str) -> None:
    raw = recording(name)
    model_cls = Reasoning if name == REASONING else CommandR
    headers = headers_of(name, "text/event-stream")
    async with (
        ReplayServer(raw, headers=headers, seed=len(name)) as server,
        model_cls(connector_for(server.url)) as model,
    ):
        chunks = [c async for c in model.stream_answer("replay please")]
    acc = accumulate(chunks)
    expected = accumulate(replay(raw))
    assert summary(acc)[:5] == summary(expected)[:5]
    assert acc.raw == expected.raw
    assert acc.endpoint == server.url
    if model.metadata.pricing.known:
        assert acc.cost == pytest.approx(model.cost(acc.usage)) and acc.cost > 0
    else:
        assert acc.cost is None  # (Command A Reasoning has no public price)
    (request,) = server.requests
    assert request["path"] == "/v2/chat"
    assert request["headers"]["Authorization"] == "Bearer co-replay"
    assert request["json"]["stream"] is True
    assert request["json"]["messages"] == [{"role": "user", "content": "replay please"}]
    if name.endswith(".sse"):
        side = sidecar(name)
        assert side["request"]["uri"].endswith(request["path"])  # the recorded call went there too
        assert acc.request_id == side["response"]["headers"]["x-debug-trace-id"]
        recorded_body = json.loads(side["request"]["body"])
        assert set(request["json"]) <= set(recorded_body) | {"model"}


async def test_end_to_end_citations() -> None:
    async with (
        ReplayServer(wire_bytes(CITATIONS), headers={"Content-Type": "application/json"}) as server,
        CommandA(connector_for(server.url)) as model,
    ):
        response = await model.get_answer("What are the benefits?", documents=["AI provides: ..."])
    assert len(citations_of(response.raw)) == 3
    assert response.usage == Usage(39, 27)
    (request,) = server.requests
    assert request["json"]["documents"] == ["AI provides: ..."]
