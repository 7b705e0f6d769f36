"""Host flavors (reasoning fields, keep-alive comments, usage placement, error shapes) and the
stream faults written from the OpenAI-compatible hosts' recorded traffic (raw aiohttp)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from simulator_helpers import AZURE_VERSION, SseBlock, sse_blocks, user

from core.llms.simulator import FLAVORS, REASONING_TRIGGER, Fault, HostFlavor, Simulator

BEARER = {"Authorization": "Bearer sk-host"}
ASK = f"why is the sky blue {REASONING_TRIGGER}"
REASONING = f"Simulated reasoning about: why is the sky blue {REASONING_TRIGGER}"
ANSWER = f"Simulated answer to: why is the sky blue {REASONING_TRIGGER}"


class Host:
    """A simulator playing one flavor, and raw requests to its ``/api/v1`` host route."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        self.url = f"{sim.url}/api/v1/chat/completions"

    async def raw(self, body: dict[str, Any], url: str | None = None, **headers: str) -> tuple[int, bytes]:
        async with self.session.post(url or self.url, json=body, headers=headers or BEARER) as resp:
            return resp.status, await resp.read()

    async def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        status, raw = await self.raw(body)
        assert status == 200, raw
        result: dict[str, Any] = json.loads(raw)
        return result

    async def stream(self, body: dict[str, Any]) -> list[SseBlock]:
        status, raw = await self.raw({**body, "stream": True})
        assert status == 200, raw
        return sse_blocks(raw)


@contextlib.asynccontextmanager
async def _host(session: aiohttp.ClientSession, flavor: str | HostFlavor) -> AsyncIterator[Host]:
    async with Simulator(flavor=flavor) as sim:
        yield Host(sim, session)


@pytest.fixture
async def deepseek(session: aiohttp.ClientSession) -> AsyncIterator[Host]:
    async with _host(session, "deepseek") as host:
        yield host


@pytest.fixture
async def openrouter(session: aiohttp.ClientSession) -> AsyncIterator[Host]:
    async with _host(session, "openrouter") as host:
        yield host


@pytest.fixture
async def groq(session: aiohttp.ClientSession) -> AsyncIterator[Host]:
    async with _host(session, "groq") as host:
        yield host


@pytest.fixture
async def mistral(session: aiohttp.ClientSession) -> AsyncIterator[Host]:
    async with _host(session, "mistral") as host:
        yield host


@pytest.fixture
async def plain(session: aiohttp.ClientSession) -> AsyncIterator[Host]:
    async with _host(session, "openai") as host:
        yield host


def _data(blocks: list[SseBlock]) -> list[Any]:
    """The data payloads, JSON-decoded, ``[DONE]`` kept as the string."""
    return [b.data if b.data == "[DONE]" else json.loads(b.data) for b in blocks if b.data is not None]


def _deltas(events: list[Any], key: str) -> list[Any]:
    return [
        e["choices"][0]["delta"][key]
        for e in events
        if isinstance(e, dict) and e.get("choices") and key in e["choices"][0]["delta"]
    ]


# ---------------------------------------------------------------------------- reasoning text


@pytest.mark.parametrize(
    ("flavor", "field"),
    [
        ("deepseek", "reasoning_content"),
        ("xai", "reasoning_content"),
        ("groq", "reasoning"),
        ("openrouter", "reasoning"),
    ],
)
async def test_reasoning_field_in_streams_and_answers(
    session: aiohttp.ClientSession, flavor: str, field: str
) -> None:
    other = "reasoning" if field == "reasoning_content" else "reasoning_content"
    async with _host(session, flavor) as host:
        events = _data(await host.stream(user(ASK, model="r1", stream_options={"include_usage": True})))
        pieces = _deltas(events, field)
        assert pieces[:3] == ["Simulated", " reasoning", " about:"]
        assert "".join(pieces) == REASONING
        assert _deltas(events, other) == []
        # the reasoning comes before the answer, in events of their own
        first_text = next(i for i, e in enumerate(events) if _deltas([e], "content") not in ([], [""]))
        last_reasoning = max(i for i, e in enumerate(events) if _deltas([e], field))
        assert last_reasoning < first_text
        assert "".join(c for c in _deltas(events, "content") if c) == ANSWER
        usage = events[-2]["usage"]
        assert usage["completion_tokens_details"]["reasoning_tokens"] == len(REASONING.split())
        assert usage["completion_tokens"] == len(REASONING.split()) + len(ANSWER.split())
        message = (await host.chat(user(ASK, model="r1")))["choices"][0]["message"]
        assert message[field] == REASONING
        assert message["content"] == ANSWER
        assert other not in message


async def test_no_reasoning_without_the_trigger(deepseek: Host) -> None:
    body = await deepseek.chat(user("plain question", model="deepseek-chat"))
    assert "reasoning_content" not in body["choices"][0]["message"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    events = _data(await deepseek.stream(user("plain question")))
    assert _deltas(events, "reasoning_content") == []


async def test_openai_flavor_never_sends_reasoning_text(plain: Host) -> None:
    message = (await plain.chat(user(ASK)))["choices"][0]["message"]
    assert set(message) == {"role", "content", "refusal", "annotations"}
    events = _data(await plain.stream(user(ASK)))
    assert _deltas(events, "reasoning") == [] and _deltas(events, "reasoning_content") == []


async def test_always_reason_flavor(session: aiohttp.ClientSession) -> None:
    flavor = HostFlavor("thinker", reasoning="reasoning_content", always_reason=True)
    async with _host(session, flavor) as host:
        message = (await host.chat(user("no trigger here")))["choices"][0]["message"]
        assert message["reasoning_content"] == "Simulated reasoning about: no trigger here"


async def test_reasoning_before_tool_calls_and_after_tool_results(session: aiohttp.ClientSession) -> None:
    tool = {
        "type": "function",
        "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}},
    }
    async with _host(session, "xai") as host:
        events = _data(await host.stream(user(ASK, model="grok-3-mini", tools=[tool])))
        assert "".join(_deltas(events, "reasoning_content")) == REASONING
        calls = _deltas(events, "tool_calls")
        assert calls[0][0]["function"]["name"] == "weather"
        assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"
        followup = {
            "model": "grok-3-mini",
            "messages": [
                {"role": "user", "content": ASK},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
        }
        message = (await host.chat(followup))["choices"][0]["message"]
        assert message["reasoning_content"] == "Simulated reasoning about: the tool result."
        assert message["content"] == "Based on the tool result: sunny"


async def test_flavors_do_not_touch_azure_routes(deepseek: Host) -> None:
    url = f"{deepseek.sim.url}/openai/deployments/d/chat/completions?api-version={AZURE_VERSION}"
    status, raw = await deepseek.raw(user(ASK), url, **{"api-key": "k"})
    assert status == 200
    body = json.loads(raw)
    assert "prompt_filter_results" in body
    assert "reasoning_content" not in body["choices"][0]["message"]


# ---------------------------------------------------------------------------- Mistral


async def test_mistral_thinking_chunks_and_usage_on_the_finish_chunk(mistral: Host) -> None:
    blocks = await mistral.stream(user(ASK, model="magistral-medium-latest"))  # no stream_options
    events = _data(blocks)
    assert events[-1] == "[DONE]"
    contents = _deltas(events, "content")
    thinking = [c for c in contents if isinstance(c, list)]
    assert thinking[0] == [{"type": "thinking", "thinking": [{"type": "text", "text": "Simulated"}]}]
    assert "".join(c[0]["thinking"][0]["text"] for c in thinking) == REASONING
    assert "".join(c for c in contents if isinstance(c, str)) == ANSWER
    finish = events[-2]
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert finish["usage"]["completion_tokens"] == len(REASONING.split()) + len(ANSWER.split())
    assert all(e["choices"] for e in events[:-1])  # no separate usage chunk
    events = _data(await mistral.stream(user("x", stream_options={"include_usage": True})))
    assert [e for e in events[:-1] if "usage" in e] == [events[-2]]
    message = (await mistral.chat(user(ASK)))["choices"][0]["message"]
    assert message["content"] == [
        {"type": "thinking", "thinking": [{"type": "text", "text": REASONING}]},
        {"type": "text", "text": ANSWER},
    ]
    assert (await mistral.chat(user("plain")))["choices"][0]["message"]["content"] == (
        "Simulated answer to: plain"
    )


# ---------------------------------------------------------------------------- OpenRouter


async def test_openrouter_keepalive_comments(openrouter: Host) -> None:
    blocks = await openrouter.stream(user("one two three four five", stream_options={"include_usage": True}))
    assert blocks[0] == SseBlock(("OPENROUTER PROCESSING",), None, None)
    comment_at = [i for i, b in enumerate(blocks) if b.comments]
    data_at = [i for i, b in enumerate(blocks) if b.data is not None]
    assert all(not blocks[i].data for i in comment_at)  # comments come in blocks of their own
    # one before the first event, then one before every 4th event
    assert comment_at == [data_at[k] - 1 for k in range(0, len(data_at), 4)]
    assert len(comment_at) >= 3 and comment_at[-1] > data_at[0]
    events = _data(blocks)
    assert events[-1] == "[DONE]"
    assert (
        "".join(c for c in _deltas(events, "content") if c) == "Simulated answer to: one two three four five"
    )


async def test_openrouter_error_bodies_have_integer_codes(openrouter: Host) -> None:
    openrouter.sim.enqueue(Fault(status=429))
    status, raw = await openrouter.raw(user("x"))
    assert status == 429
    body = json.loads(raw)
    assert set(body["error"]) == {"code", "message"} and body["error"]["code"] == 429
    assert body["error"]["message"].startswith("Rate limit reached")
    status, raw = await openrouter.raw(user("x"), **{"x-other": "1"})
    assert status == 401
    assert json.loads(raw) == {"error": {"code": 401, "message": json.loads(raw)["error"]["message"]}}
    status, raw = await openrouter.raw({"model": "m", "messages": []})
    assert status == 400 and json.loads(raw)["error"]["code"] == 400


async def test_openrouter_in_stream_error_is_a_chunk_with_finish_reason_error(openrouter: Host) -> None:
    openrouter.sim.enqueue(
        Fault(error_event=True, after_chunks=1, error_code=502, message="Provider disconnected")
    )
    status, raw = await openrouter.raw(user("a b c", stream=True))
    assert status == 200
    blocks = sse_blocks(raw)
    events = _data(blocks)
    assert "[DONE]" not in events
    last = events[-1]
    assert last["error"] == {"code": 502, "message": "Provider disconnected"}
    assert last["choices"] == [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]
    assert last["object"] == "chat.completion.chunk" and last["id"] == events[0]["id"]
    assert blocks[-1].event is None


# ---------------------------------------------------------------------------- Groq


async def test_groq_error_event_is_named_and_carries_status_code(groq: Host) -> None:
    groq.sim.enqueue(
        Fault(
            error_event=True,
            after_chunks=2,
            status=400,
            error_code="tool_use_failed",
            message="Tool call failed",
        )
    )
    status, raw = await groq.raw(user(ASK, stream=True))
    assert status == 200
    blocks = sse_blocks(raw)
    assert blocks[-1].event == "error"
    assert json.loads(blocks[-1].data or "") == {
        "error": {
            "message": "Tool call failed",
            "type": "invalid_request_error",
            "param": None,
            "code": "tool_use_failed",
            "status_code": 400,
        }
    }
    events = _data(blocks[:-1])
    assert [e["choices"][0]["delta"] for e in events[1:]] == [
        {"reasoning": "Simulated"},
        {"reasoning": " reasoning"},
    ]
    assert all(b.event is None for b in blocks[:-1])
    assert not raw.endswith(b"data: [DONE]\n\n")


async def test_groq_normal_streams_end_with_done(groq: Host) -> None:
    events = _data(await groq.stream(user("x")))
    assert events[-1] == "[DONE]"


# ---------------------------------------------------------------------------- stream faults


async def test_error_event_after_n_chunks_with_an_integer_code(plain: Host) -> None:
    plain.sim.enqueue(Fault(error_event=True, after_chunks=3, error_code=400, message="bad things"))
    status, raw = await plain.raw(user("one two three four five", stream=True))
    assert status == 200
    events = _data(sse_blocks(raw))
    assert [e["choices"][0]["delta"].get("content") for e in events[:-1]] == [
        "",
        "Simulated",
        " answer",
        " to:",
    ]
    assert events[-1] == {
        "error": {"message": "bad things", "type": "invalid_request_error", "param": None, "code": 400}
    }


async def test_after_chunks_zero_and_past_the_end(plain: Host) -> None:
    plain.sim.enqueue(Fault(error_event=True, after_chunks=0), Fault(error_event=True, after_chunks=99))
    events = _data(sse_blocks((await plain.raw(user("a b", stream=True)))[1]))
    assert len(events) == 2 and events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[1]["error"]["type"] == "server_error"
    events = _data(sse_blocks((await plain.raw(user("a b", stream=True)))[1]))
    assert (
        "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])
        == "Simulated answer to: a b"
    )
    assert all(e["choices"][0]["finish_reason"] is None for e in events[:-1])  # before the finish chunk
    assert "error" in events[-1]


async def test_truncate_after_n_chunks(plain: Host) -> None:
    plain.sim.enqueue(Fault(truncate_stream=True, after_chunks=2))
    events = _data(sse_blocks((await plain.raw(user("one two three four", stream=True)))[1]))
    assert [e["choices"][0]["delta"].get("content") for e in events] == ["", "Simulated", " answer"]


async def test_omit_done(plain: Host) -> None:
    plain.sim.enqueue(Fault(omit_done=True), Fault(omit_done=True))
    status, raw = await plain.raw(user("x y", stream=True, stream_options={"include_usage": True}))
    assert status == 200
    events = _data(sse_blocks(raw))
    assert "[DONE]" not in events
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-1]["choices"] == [] and events[-1]["usage"]["total_tokens"] > 0
    assert (
        "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-2])
        == "Simulated answer to: x y"
    )
    body = await plain.chat(user("x"))  # a whole body has no [DONE] to omit
    assert body["choices"][0]["message"]["content"] == "Simulated answer to: x"


async def test_flavor_without_done_sentinel(session: aiohttp.ClientSession) -> None:
    async with _host(session, HostFlavor("no-done", done_sentinel=False)) as host:
        events = _data(await host.stream(user("x", stream_options={"include_usage": True})))
        assert "[DONE]" not in events
        assert events[-1]["choices"] == [] and "usage" in events[-1]


async def test_status_fault_with_message_and_code(plain: Host) -> None:
    plain.sim.enqueue(Fault(status=429, message="slow down", error_code="tokens_exceeded"))
    status, raw = await plain.raw(user("x"))
    assert status == 429
    assert json.loads(raw) == {
        "error": {"message": "slow down", "type": "requests", "param": None, "code": "tokens_exceeded"}
    }


async def test_error_event_status_from_an_integer_code(groq: Host) -> None:
    groq.sim.enqueue(Fault(error_event=True, error_code=429))
    blocks = sse_blocks((await groq.raw(user("a b", stream=True)))[1])
    error = json.loads(blocks[-1].data or "")["error"]
    assert (error["code"], error["status_code"], error["type"]) == (429, 429, "requests")


async def test_new_fault_fields_over_the_control_api(plain: Host) -> None:
    fault = {
        "error_event": True,
        "after_chunks": 1,
        "error_code": 400,
        "message": "via http",
        "omit_done": False,
    }
    async with plain.session.post(f"{plain.sim.url}/_sim/faults", json=[fault]) as resp:
        assert resp.status == 200
    events = _data(sse_blocks((await plain.raw(user("a b", stream=True)))[1]))
    assert events[-1]["error"]["message"] == "via http" and events[-1]["error"]["code"] == 400
    assert len(events) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"after_chunks": -1, "error_event": True}, "after_chunks"),
        ({"after_chunks": True, "error_event": True}, "after_chunks"),
        ({"after_chunks": 2, "at": "before_first_chunk", "error_event": True}, "replaces at"),
        ({"error_code": True, "error_event": True}, "error_code"),
        ({"error_code": 1.5, "error_event": True}, "error_code"),
        ({"message": 3, "error_event": True}, "message"),
        ({"message": "m"}, "need error_event"),
        ({"error_code": 400, "status": 200, "body": "x"}, "need error_event"),
        ({"omit_done": "yes"}, "omit_done"),
    ],
)
def test_new_fault_field_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Fault(**kwargs)


def test_new_fault_fields_round_trip() -> None:
    fault = Fault(error_event=True, after_chunks=4, error_code=400, message="m", omit_done=True)
    assert Fault.from_dict(fault.to_dict()) == fault
    assert Fault(status=503).error_status == 503
    assert Fault(error_event=True, error_code=402).error_status == 402
    assert Fault(error_event=True, error_code="x").error_status == 500


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": ""}, "name"),
        ({"reasoning": "thoughts"}, "reasoning"),
        ({"error_style": "anthropic"}, "error_style"),
        ({"keepalive": "two\nlines"}, "keepalive"),
        ({"keepalive_every": 0}, "keepalive_every"),
        ({"error_event_name": "a:b"}, "error_event_name"),
        ({"done_sentinel": 1}, "done_sentinel"),
    ],
)
def test_host_flavor_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        HostFlavor(**kwargs)


def test_flavor_presets() -> None:
    assert set(FLAVORS) == {"openai", "deepseek", "xai", "groq", "openrouter", "mistral"}
    assert FLAVORS["openai"] == HostFlavor("openai")
    assert FLAVORS["openrouter"].keepalive == "OPENROUTER PROCESSING"
    assert FLAVORS["groq"].error_event_name == "error"
