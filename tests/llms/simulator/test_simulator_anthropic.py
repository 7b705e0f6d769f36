"""The simulator's Anthropic Messages API route, over raw HTTP (no client code): auth and version
headers, Anthropic's error bodies and ``request-id``, request validation as the real service does
it, the ``message`` body, SSE events with ``event:`` names, thinking signatures, tool calls,
prompt-cache counts and scripted faults (529 overloaded, in-stream errors, truncation)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from simulator_helpers import sse_blocks

from core.llms.simulator import Fault, Simulator
from core.llms.simulator.anthropic_request import REFUSAL_TRIGGER, sign_thinking

KEY = "sk-ant-sim"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
TOOL = {
    "name": "get_weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def request(**fields: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
        **fields,
    }


async def post(
    http: aiohttp.ClientSession, sim: Simulator, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    async with http.post(
        f"{sim.url}/v1/messages", json=body, headers=HEADERS if headers is None else headers
    ) as r:
        raw = await r.read()
        return r.status, r.headers, raw


def events(raw: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    out = []
    for block in sse_blocks(raw):
        assert block.data is not None
        data = json.loads(block.data)
        assert block.event == data["type"], "each event is named after its type"
        out.append((block.event, data))
    return out


async def test_message_body(sim: Simulator, http: aiohttp.ClientSession) -> None:
    status, headers, raw = await post(http, sim, request(system="Be brief.", temperature=0.2))
    assert status == 200 and headers["request-id"] == "req_sim_000001"
    body = json.loads(raw)
    assert body == {
        "id": "msg_sim_000001",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Simulated answer to: hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": body["usage"]["input_tokens"],
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 4,
            "service_tier": "standard",
        },
    }
    assert body["usage"]["input_tokens"] > 3


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"anthropic-version": "2023-06-01"}, "x-api-key header is required"),
        ({"x-api-key": "sk-ant-wrong", "anthropic-version": "2023-06-01"}, "invalid x-api-key"),
    ],
)
async def test_auth(
    sim: Simulator, http: aiohttp.ClientSession, headers: dict[str, str], message: str
) -> None:
    status, response_headers, raw = await post(http, sim, request(), headers)
    assert status == 401
    assert json.loads(raw) == {
        "type": "error",
        "error": {"type": "authentication_error", "message": message},
        "request_id": response_headers["request-id"],
    }


async def test_bearer_auth_keyless_server_and_redacted_records(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=KEY) as sim:
        bearer = {"Authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
        assert (await post(http, sim, request(), bearer))[0] == 200
        async with http.get(f"{sim.url}/_sim/requests") as r:
            recorded = json.dumps(await r.json())
        assert KEY not in recorded and KEY not in repr(sim.requests)
    async with Simulator(auth_header=None) as keyless:
        assert (await post(http, keyless, request(), {"anthropic-version": "2023-06-01"}))[0] == 200


async def test_version_header_is_required(sim: Simulator, http: aiohttp.ClientSession) -> None:
    status, _, raw = await post(http, sim, request(), {"x-api-key": KEY})
    assert status == 400 and json.loads(raw)["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"max_tokens": None}, 400, "max_tokens: Field required"),
        ({"seed": 1}, 400, "seed: Extra inputs are not permitted"),
        ({"model": "gpt-4o"}, 404, "model: gpt-4o"),
        ({"temperature": 1.5}, 400, "temperature: Input should be less than or equal to 1"),
        ({"tools": [{"name": "bad name!", "input_schema": {"type": "object"}}]}, 400, "tools.0.custom.name"),
        ({"tool_choice": {"type": "tool", "name": "nope"}, "tools": [TOOL]}, 400, "Tool 'nope' not found"),
        ({"thinking": {"type": "enabled", "budget_tokens": 500}}, 400, "greater than or equal to 1024"),
        ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, 400, "`max_tokens` must be greater"),
        (
            {"max_tokens": 4000, "thinking": {"type": "enabled", "budget_tokens": 2000}, "temperature": 0.5},
            400,
            "`temperature` may only be set to 1",
        ),
        (
            {
                "max_tokens": 4000,
                "thinking": {"type": "enabled", "budget_tokens": 2000},
                "tools": [TOOL],
                "tool_choice": {"type": "any"},
            },
            400,
            "Thinking may not be enabled when tool_choice forces tool use.",
        ),
        ({"messages": [{"role": "system", "content": "x"}]}, 400, "messages.0.role"),
        ({"messages": [{"role": "user", "content": ""}]}, 400, "non-empty content"),
        ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, 400, "Input tag 'audio'"),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x"}]}]},
            400,
            "unexpected `tool_use_id`",
        ),
        (
            {"system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}] * 5},
            400,
            "A maximum of 4 blocks with cache_control",
        ),
    ],
)
async def test_validation(
    sim: Simulator, http: aiohttp.ClientSession, fields: dict[str, Any], status: int, says: str
) -> None:
    body = {k: v for k, v in request(**fields).items() if v is not None}
    got, _, raw = await post(http, sim, body)
    error = json.loads(raw)
    assert got == status and error["type"] == "error" and says in error["error"]["message"]
    assert error["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")


async def test_tool_calls_must_be_answered(sim: Simulator, http: aiohttp.ClientSession) -> None:
    use = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "x"}}
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [use]},
        {"role": "user", "content": "and?"},
    ]
    status, _, raw = await post(http, sim, request(messages=messages, tools=[TOOL]))
    assert (
        status == 400
        and "`tool_use` ids were found without `tool_result` blocks" in json.loads(raw)["error"]["message"]
    )


async def test_stream_events(sim: Simulator, http: aiohttp.ClientSession) -> None:
    body = request(stream=True, max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000})
    status, headers, raw = await post(http, sim, body)
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    seen = events(raw)
    kinds = [k for k, _ in seen]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == ["message_delta", "message_stop"]
    thinking = "".join(
        d["delta"]["thinking"]
        for k, d in seen
        if k == "content_block_delta" and d["delta"]["type"] == "thinking_delta"
    )
    signature = "".join(
        d["delta"]["signature"]
        for k, d in seen
        if k == "content_block_delta" and d["delta"]["type"] == "signature_delta"
    )
    text = "".join(
        d["delta"]["text"]
        for k, d in seen
        if k == "content_block_delta" and d["delta"]["type"] == "text_delta"
    )
    assert thinking == "Simulated reasoning about: hi" and signature == sign_thinking(thinking)
    assert text == "Simulated answer to: hi"
    starts = [d["content_block"] for k, d in seen if k == "content_block_start"]
    assert starts == [{"type": "thinking", "thinking": "", "signature": ""}, {"type": "text", "text": ""}]
    assert kinds.count("content_block_stop") == 2
    final = seen[-2][1]
    assert final["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert final["usage"]["output_tokens"] == 4 + 4  # the answer's and the reasoning's words
    assert seen[0][1]["message"]["usage"]["output_tokens"] == 1


async def test_tool_use_stream_and_body_agree(sim: Simulator, http: aiohttp.ClientSession) -> None:
    _, _, raw = await post(http, sim, request(tools=[TOOL], tool_choice={"type": "any"}))
    body = json.loads(raw)
    (use,) = body["content"]
    assert (
        use["type"] == "tool_use"
        and use["input"] == {"city": "sample city"}
        and body["stop_reason"] == "tool_use"
    )
    _, _, raw = await post(http, sim, request(tools=[TOOL], tool_choice={"type": "any"}, stream=True))
    seen = events(raw)
    partial = [d["delta"]["partial_json"] for k, d in seen if k == "content_block_delta"]
    assert partial[0] == "" and json.loads("".join(partial)) == use["input"]


async def test_refusal_and_truncated_tool_call(sim: Simulator, http: aiohttp.ClientSession) -> None:
    _, _, raw = await post(http, sim, request(messages=[{"role": "user", "content": f"x {REFUSAL_TRIGGER}"}]))
    assert json.loads(raw)["stop_reason"] == "refusal"
    _, _, raw = await post(http, sim, request(tools=[TOOL], max_tokens=2))
    body = json.loads(raw)
    assert body["stop_reason"] == "max_tokens" and body["content"][0]["input"] == {}
    _, _, raw = await post(http, sim, request(tools=[TOOL], max_tokens=2, stream=True))
    partial = "".join(d["delta"]["partial_json"] for k, d in events(raw) if k == "content_block_delta")
    with pytest.raises(ValueError):
        json.loads(partial)


async def test_thinking_signature_is_checked(sim: Simulator, http: aiohttp.ClientSession) -> None:
    thinking = {
        "type": "thinking",
        "thinking": "Simulated reasoning about: q",
        "signature": sign_thinking("other"),
    }
    use = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "x"}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "1 C"}
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [thinking, use]},
        {"role": "user", "content": [result]},
    ]
    body = request(
        messages=messages, tools=[TOOL], max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000}
    )
    status, _, raw = await post(http, sim, body)
    assert status == 400 and "Invalid `signature`" in json.loads(raw)["error"]["message"]
    thinking["signature"] = sign_thinking(thinking["thinking"])
    status, _, raw = await post(http, sim, body)
    assert status == 200 and json.loads(raw)["content"][-1]["text"] == "Based on the tool result: 1 C"


async def test_prompt_cache_counts(sim: Simulator, http: aiohttp.ClientSession) -> None:
    system = [{"type": "text", "text": "rules " * 500, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    first = json.loads((await post(http, sim, request(system=system)))[2])["usage"]
    second = json.loads((await post(http, sim, request(system=system)))[2])["usage"]
    assert first["cache_creation_input_tokens"] > 500 and first["cache_read_input_tokens"] == 0
    assert first["cache_creation"]["ephemeral_1h_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0 and second["input_tokens"] == first["input_tokens"]


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        (Fault(status=529), 529, "overloaded_error"),
        (Fault(status=429, retry_after=2), 429, "rate_limit_error"),
        (Fault(status=500, message="boom"), 500, "api_error"),
        (Fault(status=503, error_code="overloaded_error"), 503, "overloaded_error"),
    ],
)
async def test_error_faults(
    sim: Simulator, http: aiohttp.ClientSession, fault: Fault, status: int, kind: str
) -> None:
    sim.enqueue(fault)
    got, headers, raw = await post(http, sim, request())
    body = json.loads(raw)
    assert got == status and body["error"]["type"] == kind and body["request_id"] == headers["request-id"]
    if fault.retry_after:
        assert headers["Retry-After"] == "2"
    if fault.message:
        assert body["error"]["message"] == "boom"


async def test_stream_faults(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.enqueue(Fault(error_event=True, status=529))
    seen = events((await post(http, sim, request(stream=True)))[2])
    assert seen[-1] == (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    assert [k for k, _ in seen][:2] == ["message_start", "ping"] and "message_stop" not in [
        k for k, _ in seen
    ]
    sim.enqueue(Fault(truncate_stream=True))
    truncated = [
        k
        for k, _ in events(
            (
                await post(
                    http, sim, request(stream=True, messages=[{"role": "user", "content": "a b c d e f g h"}])
                )
            )[2]
        )
    ]
    assert "message_stop" not in truncated and "content_block_delta" in truncated
    sim.enqueue(Fault(error_event=True))
    status, _, raw = await post(http, sim, request())
    assert status == 200 and json.loads(raw) == {
        "type": "error",
        "error": {"type": "api_error", "message": "Internal server error"},
    }
