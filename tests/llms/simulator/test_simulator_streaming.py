"""SSE framing of streamed answers: role chunk, word deltas, finish chunk, usage chunk, [DONE]."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
from simulator_helpers import Api, sse_payloads, user

from core.llms.simulator import Simulator


async def test_stream_framing_and_chunks(api: Api) -> None:
    status, headers, raw = await api.post(user("tell me a story", stream=True))
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    payloads = sse_payloads(raw)
    assert payloads[-1] == "[DONE]"
    events = [json.loads(p) for p in payloads[:-1]]
    ids = {e["id"] for e in events}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    assert all(e["object"] == "chat.completion.chunk" and e["model"] == "gpt-4o" for e in events)
    first, *content, finish = events
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert first["choices"][0]["delta"]["content"] == ""
    assert first["choices"][0]["finish_reason"] is None
    words = [e["choices"][0]["delta"]["content"] for e in content]
    assert words == ["Simulated", " answer", " to:", " tell", " me", " a", " story"]
    assert all(e["choices"][0]["finish_reason"] is None for e in content)
    assert finish["choices"][0]["delta"] == {}
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert "usage" not in finish  # no usage chunk unless asked for


async def test_stream_matches_non_stream(api: Api) -> None:
    body = await api.chat(user("compare both ways"))
    events = await api.stream(user("compare both ways"))
    text = "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])
    assert text == body["choices"][0]["message"]["content"]


async def test_usage_chunk_when_include_usage(api: Api) -> None:
    body = await api.chat(user("count my tokens"))
    events = await api.stream(user("count my tokens", stream_options={"include_usage": True}))
    last = events[-1]
    assert last["choices"] == []
    assert last["usage"] == body["usage"]
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in e for e in events[:-1])


async def test_include_usage_false_sends_no_usage(api: Api) -> None:
    events = await api.stream(user("x", stream_options={"include_usage": False}))
    assert all(e["choices"] for e in events)


async def test_reasoning_model_stream_usage(api: Api) -> None:
    events = await api.stream(user("think", model="o4-mini", stream_options={"include_usage": True}))
    assert events[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


@pytest.mark.parametrize("route", ["azure", "azure_v1"])
async def test_azure_stream_starts_with_prompt_filter_chunk(api: Api, route: str) -> None:
    events = await api.stream(user("hello azure", stream_options={"include_usage": True}), route)
    head = events[0]
    assert head["choices"] == []
    assert head["id"] == "" and head["model"] == "" and head["created"] == 0
    assert head["prompt_filter_results"][0]["prompt_index"] == 0
    assert head["prompt_filter_results"][0]["content_filter_results"]["jailbreak"]["detected"] is False
    role = events[1]["choices"][0]
    assert role["delta"]["role"] == "assistant"
    assert role["content_filter_results"] == {}
    for event in events[2:-2]:
        results = event["choices"][0]["content_filter_results"]
        assert results["violence"] == {"filtered": False, "severity": "safe"}
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["choices"][0]["content_filter_results"] == {}
    assert events[-1]["choices"] == [] and "usage" in events[-1]
    text = "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])
    assert text == "Simulated answer to: hello azure"


async def test_stream_n_choices(api: Api) -> None:
    events = await api.stream(user("two ways", n=2))
    for index in (0, 1):
        text = "".join(
            c["delta"].get("content") or "" for e in events for c in e["choices"] if c["index"] == index
        )
        assert text == "Simulated answer to: two ways"
    finishes = sorted(c["index"] for e in events for c in e["choices"] if c["finish_reason"] == "stop")
    assert finishes == [0, 1]


async def test_unicode_survives_streaming(api: Api) -> None:
    events = await api.stream(user("héllo 世界 🙂"))
    text = "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])
    assert text == "Simulated answer to: héllo 世界 🙂"


async def test_chunk_delay_spreads_events(session: aiohttp.ClientSession) -> None:
    async with Simulator(chunk_delay=0.02) as sim:
        api = Api(sim, session)
        start = time.monotonic()
        events = await api.stream(user("a b c"))
        elapsed = time.monotonic() - start
    assert len(events) >= 8
    assert elapsed >= 0.02 * len(events)
