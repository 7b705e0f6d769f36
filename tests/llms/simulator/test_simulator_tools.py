"""Tool calls: single, parallel, forced, none, after a tool result, and streamed argument fragments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from simulator_helpers import Api, user

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}
STOCK = {
    "type": "function",
    "function": {
        "name": "get_stock_price",
        "parameters": {
            "type": "object",
            "properties": {"ticker": {"type": "string"}, "exchange": {"type": "string", "const": "NASDAQ"}},
            "required": ["ticker", "exchange"],
        },
    },
}
NO_PARAMS = {"type": "function", "function": {"name": "ping"}}


def _calls(body: dict[str, Any]) -> list[dict[str, Any]]:
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    calls: list[dict[str, Any]] = choice["message"]["tool_calls"]
    for call in calls:
        assert call["type"] == "function"
        assert call["id"].startswith("call_sim_")
        json.loads(call["function"]["arguments"])
    return calls


async def test_single_tool_call_with_schema_arguments(api: Api) -> None:
    body = await api.chat(user("What's the weather?", tools=[WEATHER]))
    [call] = _calls(body)
    assert call["function"]["name"] == "get_weather"
    args = json.loads(call["function"]["arguments"])
    assert set(args) == {"city", "unit", "days"}
    assert isinstance(args["city"], str) and args["city"]
    assert args["unit"] in ("celsius", "fahrenheit")
    assert 1 <= args["days"] <= 7
    assert body["usage"]["completion_tokens"] > 0


async def test_first_tool_when_none_is_named(api: Api) -> None:
    [call] = _calls(await api.chat(user("hello", tools=[STOCK, WEATHER])))
    assert call["function"]["name"] == "get_stock_price"
    assert json.loads(call["function"]["arguments"])["exchange"] == "NASDAQ"


async def test_tool_without_parameters_gets_empty_object(api: Api) -> None:
    [call] = _calls(await api.chat(user("ping please", tools=[NO_PARAMS])))
    assert call["function"]["arguments"] == "{}"


async def test_parallel_calls_for_every_named_tool(api: Api) -> None:
    body = await api.chat(user("use get_weather and get_stock_price", tools=[WEATHER, STOCK, NO_PARAMS]))
    calls = _calls(body)
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_stock_price"]
    assert len({c["id"] for c in calls}) == 2


async def test_parallel_tool_calls_false_keeps_the_first(api: Api) -> None:
    body = await api.chat(
        user("use get_weather and get_stock_price", tools=[WEATHER, STOCK], parallel_tool_calls=False)
    )
    assert [c["function"]["name"] for c in _calls(body)] == ["get_weather"]


async def test_forced_tool_choice(api: Api) -> None:
    choice = {"type": "function", "function": {"name": "get_stock_price"}}
    body = await api.chat(user("use get_weather", tools=[WEATHER, STOCK], tool_choice=choice))
    assert [c["function"]["name"] for c in _calls(body)] == ["get_stock_price"]
    status, err = await api.error(
        user("x", tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}})
    )
    assert status == 400 and err["error"]["param"] == "tool_choice"


async def test_required_tool_choice_calls_a_tool(api: Api) -> None:
    assert _calls(await api.chat(user("hi", tools=[WEATHER], tool_choice="required")))


async def test_tool_choice_none_answers_with_text(api: Api) -> None:
    body = await api.chat(user("use get_weather", tools=[WEATHER], tool_choice="none"))
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["choices"][0]["message"]["content"].startswith("Simulated answer to:")
    assert "tool_calls" not in body["choices"][0]["message"]


async def test_answer_after_tool_result(api: Api) -> None:
    first = await api.chat(user("weather in Paris?", tools=[WEATHER]))
    [call] = _calls(first)
    follow_up = {
        "model": "gpt-4o",
        "tools": [WEATHER],
        "messages": [
            *user("weather in Paris?")["messages"],
            first["choices"][0]["message"],
            {"role": "tool", "tool_call_id": call["id"], "content": "Sunny, 21 C"},
        ],
    }
    body = await api.chat(follow_up)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == "Based on the tool result: Sunny, 21 C"
    events = await api.stream(follow_up)
    text = "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])
    assert text == "Based on the tool result: Sunny, 21 C"


async def test_answer_after_parallel_tool_results(api: Api) -> None:
    first = await api.chat(user("get_weather and get_stock_price", tools=[WEATHER, STOCK]))
    calls = _calls(first)
    messages = [*user("get_weather and get_stock_price")["messages"], first["choices"][0]["message"]]
    messages += [
        {"role": "tool", "tool_call_id": c["id"], "content": [{"type": "text", "text": f"result {i}"}]}
        for i, c in enumerate(calls)
    ]
    body = await api.chat({"model": "gpt-4o", "tools": [WEATHER, STOCK], "messages": messages})
    content = body["choices"][0]["message"]["content"]
    assert "result 0" in content and "result 1" in content


def _reassemble(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for event in events:
        for choice in event["choices"]:
            for delta in choice["delta"].get("tool_calls") or []:
                slot = calls.setdefault(delta["index"], {"arguments": ""})
                if "id" in delta:
                    assert "id" not in slot, "id sent once per call"
                    assert delta["type"] == "function"
                    assert delta["function"]["arguments"] == ""
                    slot["id"] = delta["id"]
                    slot["name"] = delta["function"]["name"]
                    continue
                assert set(delta) == {"index", "function"}
                fragment = delta["function"]["arguments"]
                assert 0 < len(fragment) <= 8
                slot["arguments"] += fragment
    return [calls[i] for i in sorted(calls)]


@pytest.mark.parametrize("route", ["openai", "azure"])
async def test_streamed_tool_calls_reassemble(api: Api, route: str) -> None:
    body = user("get_weather and get_stock_price", tools=[WEATHER, STOCK])
    plain = _calls(await api.chat(body, route))
    events = await api.stream({**body, "stream_options": {"include_usage": True}}, route)
    chunk_events = [e for e in events if e["choices"]]
    first = chunk_events[0]["choices"][0]["delta"]
    assert first == {"role": "assistant", "content": None}
    streamed = _reassemble(events)
    assert [c["name"] for c in streamed] == ["get_weather", "get_stock_price"]
    for s, p in zip(streamed, plain, strict=True):
        assert json.loads(s["arguments"]) == json.loads(p["function"]["arguments"])
        assert s["id"].startswith("call_sim_")
    # calls stream in index order: every delta of call 0 comes before call 1's header
    indexes = [d["index"] for e in events for c in e["choices"] for d in c["delta"].get("tool_calls") or []]
    assert indexes == sorted(indexes)
    finish = [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]]
    assert finish == ["tool_calls"]
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] > 0


async def test_tool_call_ids_are_unique_across_requests(api: Api) -> None:
    a = _calls(await api.chat(user("x", tools=[WEATHER])))
    b = _calls(await api.chat(user("x", tools=[WEATHER])))
    assert a[0]["id"] != b[0]["id"]
