"""The simulator's Cohere v2 routes over raw HTTP (no core-llms client code): bodies, named SSE
events, auth, request checks, embed and rerank, and faults in Cohere's shapes."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from simulator_helpers import sse_blocks

from core.llms.simulator import Fault, Simulator

KEY = "co-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def post(
    session: aiohttp.ClientSession,
    sim: Simulator,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    async with session.post(
        f"{sim.url}{path}", json=body, headers=AUTH if headers is None else headers
    ) as resp:
        return resp.status, resp.headers, await resp.read()


def chat(text: str = "hello", model: str = "command-a-03-2025", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def events(raw: bytes) -> list[tuple[str | None, Any]]:
    """(event name, data) of every block; checks each named event's ``type`` matches its name."""
    out = []
    for block in sse_blocks(raw):
        data = block.data if block.data == "[DONE]" else json.loads(block.data or "null")
        if block.event is not None:
            assert data["type"] == block.event
        out.append((block.event, data))
    return out


async def test_chat_body(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, headers, raw = await post(session, sim, "/v2/chat", chat("hello there", max_tokens=50))
    assert status == 200 and headers["x-debug-trace-id"] == "cohere-sim-000001"
    body = json.loads(raw)
    assert body["finish_reason"] == "COMPLETE"
    assert body["message"] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Simulated answer to: hello there"}],
    }
    billed, tokens = body["usage"]["billed_units"], body["usage"]["tokens"]
    assert billed["output_tokens"] == tokens["output_tokens"] == 5
    assert tokens["input_tokens"] > billed["input_tokens"] > 0
    status, _, raw = await post(session, sim, "/v2/chat", chat("one two three four", max_tokens=2))
    assert json.loads(raw)["finish_reason"] == "MAX_TOKENS"


async def test_chat_stream_events(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, headers, raw = await post(session, sim, "/v2/chat", chat("stream me", stream=True))
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    seen = events(raw)
    kinds = [name for name, _ in seen]
    assert kinds[:2] == ["message-start", "content-start"] and kinds[-3:] == [
        "content-end",
        "message-end",
        None,
    ]
    assert set(kinds[2:-3]) == {"content-delta"}
    assert seen[-1][1] == "[DONE]"
    text = "".join(d["delta"]["message"]["content"]["text"] for n, d in seen if n == "content-delta")
    assert text == "Simulated answer to: stream me"
    end = seen[-2][1]["delta"]
    assert end["finish_reason"] == "COMPLETE" and set(end["usage"]) == {"billed_units", "tokens"}


async def test_tool_call_stream(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, _, raw = await post(
        session, sim, "/v2/chat", chat("weather?", tools=[TOOL], tool_choice="REQUIRED", stream=True)
    )
    seen = events(raw)
    kinds = [n for n, _ in seen]
    first_call = kinds.index("tool-call-start")
    assert set(kinds[1:first_call]) == {"tool-plan-delta"}
    assert kinds[-3:] == ["tool-call-end", "message-end", None]
    start = seen[first_call][1]["delta"]["message"]["tool_calls"]
    assert start["function"] == {"name": "get_weather", "arguments": ""} and start["id"]
    arguments = "".join(
        d["delta"]["message"]["tool_calls"]["function"]["arguments"]
        for n, d in seen
        if n == "tool-call-delta"
    )
    assert json.loads(arguments) == {"city": "sample city"}
    assert seen[-2][1]["delta"]["finish_reason"] == "TOOL_CALL"


async def test_reasoning_and_citations(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, _, raw = await post(
        session, sim, "/v2/chat", chat("think", model="command-a-reasoning-08-2025", stream=True)
    )
    seen = events(raw)
    assert seen[1][1]["delta"]["message"]["content"]["type"] == "thinking"
    kinds = [n for n, _ in seen]
    assert kinds.count("content-start") == 2 and kinds.count("content-end") == 2
    body = {**chat("summarize"), "documents": [{"data": {"text": "Whales sing long songs"}, "id": "w"}]}
    _, _, raw = await post(session, sim, "/v2/chat", body)
    message = json.loads(raw)["message"]
    (citation,) = message["citations"]
    text = message["content"][0]["text"]
    assert text[citation["start"] : citation["end"]] == citation["text"] == "Whales sing long songs"
    assert citation["sources"] == [
        {"type": "document", "id": "w", "document": {"id": "w", "text": "Whales sing long songs"}}
    ]


async def test_auth(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, _, raw = await post(session, sim, "/v2/chat", chat(), headers={})
    assert (status, json.loads(raw)["message"]) == (401, "no api key supplied")
    status, _, raw = await post(session, sim, "/v2/embed", {}, headers={"Authorization": "Bearer nope"})
    assert (status, json.loads(raw)["message"]) == (401, "invalid api token")
    assert sim.requests[0].redacted_headers().get("authorization") is None
    assert "co-test-key" not in repr(sim.requests)
    async with Simulator(auth_header=None) as keyless:
        status, _, _ = await post(
            session, keyless, "/v2/rerank", {"model": "m", "query": "q", "documents": ["d"]}, {}
        )
    assert status == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (chat(top_p=0.5), "unknown field: 'top_p'"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model must be provided"),
        (chat() | {"messages": []}, "messages must be a non-empty list"),
        (chat() | {"messages": [{"role": "developer", "content": "x"}]}, "role must be one of"),
        (
            chat() | {"messages": [{"role": "tool", "tool_call_id": "x", "content": "1"}]},
            "does not match a tool call",
        ),
        (chat(tools=[TOOL], tool_choice="required"), "tool_choice must be REQUIRED or NONE"),
        (chat(tool_choice="REQUIRED"), "needs tools"),
        (chat(tools=[TOOL], response_format={"type": "json_object"}), "not supported with RAG or tools"),
        (chat(thinking={"type": "enabled"}), "thinking is not supported"),
        (chat(p=1.0), "p must be a number between 0.01 and 0.99"),
        (chat(stop_sequences=["a"] * 6), "at most 5"),
        (chat(documents=[]), "list of documents must not be empty"),
        (
            chat(tools=[{"type": "function", "function": {"name": "f", "parameters": {}, "strict": True}}]),
            "tools[0]",
        ),
        (chat("x" * 500_000), "too many tokens"),
    ],
)
async def test_chat_requests_are_checked(
    sim: Simulator, session: aiohttp.ClientSession, body: dict[str, Any], fragment: str
) -> None:
    status, _, raw = await post(session, sim, "/v2/chat", body)
    error = json.loads(raw)
    assert status == 400 and fragment in error["message"], error
    assert set(error) == {"id", "message"}


async def test_embed(sim: Simulator, session: aiohttp.ClientSession) -> None:
    body = {
        "model": "embed-v4.0",
        "input_type": "search_query",
        "texts": ["a", "bb"],
        "embedding_types": ["float", "int8", "base64", "ubinary"],
    }
    status, _, raw = await post(session, sim, "/v2/embed", body)
    assert status == 200
    answer = json.loads(raw)
    floats = answer["embeddings"]["float"]
    assert len(floats) == 2 and len(floats[0]) == 1536 and floats[0] != floats[1]
    assert math.isclose(math.hypot(*floats[0]), 1.0, rel_tol=1e-6)
    assert len(answer["embeddings"]["int8"][0]) == 1536 and len(answer["embeddings"]["ubinary"][0]) == 192
    assert isinstance(answer["embeddings"]["base64"][0], str)
    assert answer["meta"]["billed_units"] == {"input_tokens": 2}
    _, _, again = await post(session, sim, "/v2/embed", {**body, "texts": ["bb"], "output_dimension": 256})
    assert len(json.loads(again)["embeddings"]["float"][0]) == 256


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"model": "embed-v4.0", "texts": ["a"]}, "valid input_type must be provided"),
        ({"model": "embed-v4.0", "input_type": "search_query", "texts": ["a"] * 97}, "at most 96"),
        (
            {
                "model": "embed-english-v3.0",
                "input_type": "search_query",
                "texts": ["a"],
                "output_dimension": 512,
            },
            "output_dimension",
        ),
        (
            {
                "model": "embed-english-v3.0",
                "input_type": "image",
                "images": ["data:image/png;base64,AA=="] * 2,
            },
            "one image",
        ),
        ({"model": "embed-v4.0", "input_type": "image", "images": ["https://x/cat.png"]}, "data URIs"),
        (
            {"model": "embed-v4.0", "input_type": "search_query", "texts": ["a"], "encoding_format": "float"},
            "unknown field",
        ),
        (
            {
                "model": "embed-v4.0",
                "input_type": "search_query",
                "texts": ["a"],
                "images": ["data:image/png;base64,AA=="],
            },
            "one of",
        ),
    ],
)
async def test_embed_requests_are_checked(
    sim: Simulator, session: aiohttp.ClientSession, body: dict[str, Any], fragment: str
) -> None:
    status, _, raw = await post(session, sim, "/v2/embed", body)
    assert status == 400 and fragment in json.loads(raw)["message"]


async def test_rerank(sim: Simulator, session: aiohttp.ClientSession) -> None:
    docs = ["red apples", "green pears", "apples and pears", *[f"filler {i}" for i in range(120)]]
    body = {"model": "rerank-v3.5", "query": "pears apples", "documents": docs, "top_n": 3}
    status, _, raw = await post(session, sim, "/v2/rerank", body)
    answer = json.loads(raw)
    assert status == 200 and answer["results"][0]["index"] == 2
    scores = [r["relevance_score"] for r in answer["results"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert answer["meta"]["billed_units"] == {"search_units": 2}
    for bad, fragment in (
        ({**body, "documents": []}, "must not be empty"),
        ({**body, "query": "  "}, "query must not be empty"),
        ({**body, "return_documents": True}, "unknown field"),
        ({**body, "documents": [{"text": "x"}]}, "list of strings"),
    ):
        status, _, raw = await post(session, sim, "/v2/rerank", bad)
        assert status == 400 and fragment in json.loads(raw)["message"]


async def test_faults_in_cohere_shapes(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.enqueue(
        Fault(status=429, retry_after=2),
        Fault(status=503, message="down for a bit"),
        Fault(status=500, body={"detail": "x"}),
    )
    status, headers, raw = await post(session, sim, "/v2/embed", {})
    assert (status, headers["Retry-After"]) == (429, "2") and "Trial key" in json.loads(raw)["message"]
    status, _, raw = await post(session, sim, "/v2/chat", chat())
    assert (status, json.loads(raw)) == (
        503,
        {"id": "00000000-0000-4000-8000-000000000000", "message": "down for a bit"},
    )
    status, _, raw = await post(session, sim, "/v2/rerank", {})
    assert (status, json.loads(raw)) == (500, {"detail": "x"})


async def test_stream_faults(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.enqueue(Fault(error_event=True, message="boom"), Fault(truncate_stream=True), Fault(omit_done=True))
    _, _, raw = await post(session, sim, "/v2/chat", chat("one two three four", stream=True))
    last = events(raw)[-1]
    assert last[0] == "message-end" and last[1]["delta"] == {"finish_reason": "ERROR", "error": "boom"}
    _, _, raw = await post(session, sim, "/v2/chat", chat("one two three four", stream=True))
    assert "message-end" not in [n for n, _ in events(raw)]
    _, _, raw = await post(session, sim, "/v2/chat", chat("one two three four", stream=True))
    assert events(raw)[-1][0] == "message-end"


async def test_error_in_a_200_body(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.enqueue(Fault(error_event=True))
    status, _, raw = await post(session, sim, "/v2/chat", chat())
    assert status == 200 and json.loads(raw)["finish_reason"] == "ERROR"
