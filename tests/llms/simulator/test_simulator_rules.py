"""Parameter rules, payload validation, context length, content filter, max tokens and images."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from simulator_helpers import Api, user

from core.llms.simulator import Simulator

# tests/llms/wire/azure/azure-chat-400-content-filter.json, as recorded
AZURE_CONTENT_FILTER_400 = json.loads(
    '{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content '
    "management policy. Please modify your prompt and retry. To learn more about our content filtering "
    'policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766","type":null,'
    '"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation",'
    '"content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,'
    '"detected":false},"self_harm":{"filtered":true,"severity":"medium"},"sexual":{"filtered":false,'
    '"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}}}'
)


def _keys(err: dict[str, Any]) -> None:
    assert set(err["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    "model", ["o1", "o1-mini", "o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.1"]
)
async def test_reasoning_models_refuse_temperature(api: Api, model: str) -> None:
    status, err = await api.error(user("x", model=model, temperature=0.2))
    assert status == 400
    _keys(err)
    assert err["error"]["code"] == "unsupported_value"
    assert err["error"]["param"] == "temperature"
    assert err["error"]["type"] == "invalid_request_error"
    assert err["error"]["message"] == (
        "Unsupported value: 'temperature' does not support 0.2 with this model. "
        "Only the default (1) value is supported."
    )


async def test_reasoning_models_accept_temperature_one(api: Api) -> None:
    body = await api.chat(user("x", model="o3-mini", temperature=1))
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


@pytest.mark.parametrize("model", ["o4-mini", "gpt-5-nano"])
async def test_reasoning_models_refuse_max_tokens(api: Api, model: str) -> None:
    status, err = await api.error(user("x", model=model, max_tokens=10))
    assert status == 400
    assert err["error"]["code"] == "unsupported_parameter"
    assert err["error"]["param"] == "max_tokens"
    assert "max_completion_tokens" in err["error"]["message"]
    body = await api.chat(user("one two three four five", model=model, max_completion_tokens=2))
    assert body["choices"][0]["finish_reason"] == "length"


async def test_reasoning_rules_apply_to_azure_deployment_names(api: Api) -> None:
    status, err = await api.error(
        {"messages": user("x")["messages"], "temperature": 0}, "azure", deployment="o3"
    )
    assert status == 400
    assert err["error"]["code"] == "unsupported_value"
    assert "does not support 0 with" in err["error"]["message"]


async def test_reasoning_effort_changes_reasoning_tokens(api: Api) -> None:
    low = await api.chat(user("x", model="o3", reasoning_effort="low"))
    high = await api.chat(user("x", model="o3", reasoning_effort="high"))
    low_r = low["usage"]["completion_tokens_details"]["reasoning_tokens"]
    high_r = high["usage"]["completion_tokens_details"]["reasoning_tokens"]
    assert 0 < low_r < high_r
    assert high["usage"]["completion_tokens"] == high_r + len(
        high["choices"][0]["message"]["content"].split()
    )
    _status, err = await api.error(user("x", reasoning_effort="low"))  # gpt-4o
    assert err["error"]["code"] == "unsupported_parameter"


async def test_non_reasoning_models_accept_temperature_and_max_tokens(api: Api) -> None:
    body = await api.chat(user("x", temperature=0.3, max_tokens=100))
    assert body["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "gpt-4o"}, "messages", "missing_required_parameter"),
        ({"model": "gpt-4o", "messages": []}, "messages", "empty_array"),
        ({"model": "gpt-4o", "messages": "hi"}, "messages", "invalid_type"),
        (
            {"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]},
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"content": "x"}]},
            "messages[0].role",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user"}]},
            "messages[0].content",
            "missing_required_parameter",
        ),
        ({"model": "gpt-4o", "messages": ["hi"]}, "messages[0]", "invalid_type"),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "video", "video": "x"}]}]},
            "messages[0].content[0].type",
            "invalid_value",
        ),
        (user("x", temperature=3), "temperature", "decimal_above_max_value"),
        (user("x", temperature="hot"), "temperature", "invalid_type"),
        (user("x", n=0), "n", "integer_below_min_value"),
        (user("x", max_tokens=0), "max_tokens", "integer_below_min_value"),
        (user("x", stream="yes"), "stream", "invalid_type"),
        (user("x", response_format={"type": "xml"}), "response_format.type", "invalid_value"),
        (user("x", tools=[]), "tools", "empty_array"),
        (
            user("x", tools=[{"type": "function", "function": {"name": "bad name!"}}]),
            "tools[0].function.name",
            "invalid_value",
        ),
        (user("x", tool_choice="auto"), "tool_choice", None),
        (user("x", stream_options={"include_usage": True}), "stream_options", None),
        (user("x", response_format={"type": "json_object"}), "messages", None),
    ],
)
async def test_malformed_payloads_are_400(
    api: Api, body: dict[str, Any], param: str, code: str | None
) -> None:
    status, err = await api.error(body)
    assert status == 400
    _keys(err)
    assert err["error"]["type"] == "invalid_request_error"
    assert err["error"]["param"] == param
    assert err["error"]["code"] == code


async def test_missing_model_is_400(api: Api) -> None:
    status, err = await api.error({"messages": user("x")["messages"]})
    assert status == 400
    assert err["error"]["message"] == "you must provide a model parameter"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
async def test_non_object_body_is_400(api: Api, raw: bytes) -> None:
    headers = {**api.auth("openai"), "Content-Type": "application/json"}
    async with api.session.post(api.url("openai"), data=raw, headers=headers) as resp:
        assert resp.status == 400
        err = await resp.json()
    _keys(err)
    assert "could not parse the JSON body" in err["error"]["message"]


async def test_tool_messages_must_follow_tool_calls(api: Api) -> None:
    orphan = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "x"},
            {"role": "tool", "tool_call_id": "c1", "content": "r"},
        ],
    }
    status, err = await api.error(orphan)
    assert status == 400
    assert "must be a response to a preceeding message with 'tool_calls'" in err["error"]["message"]
    unanswered = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "x"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "user", "content": "next"},
        ],
    }
    status, err = await api.error(unanswered)
    assert status == 400
    assert "did not have response messages: c1" in err["error"]["message"]
    assert err["error"]["param"] == "messages.[1].role"
    wrong_id = {
        "model": "gpt-4o",
        "messages": [*unanswered["messages"][:2], {"role": "tool", "tool_call_id": "c2", "content": "r"}],
    }
    status, err = await api.error(wrong_id)
    assert status == 400
    assert err["error"]["param"] == "messages.[2].tool_call_id"


async def test_context_length_exceeded(session: aiohttp.ClientSession) -> None:
    async with Simulator(context_chars=1000) as sim:
        api = Api(sim, session)
        assert (await api.post(user("a" * 1000)))[0] == 200
        status, err = await api.error(user("a" * 1001))
    assert status == 400
    _keys(err)
    assert err["error"]["code"] == "context_length_exceeded"
    assert err["error"]["param"] == "messages"
    assert err["error"]["message"].startswith("This model's maximum context length is 250 tokens.")


async def test_default_context_limit_is_400k_chars(api: Api) -> None:
    status, err = await api.error(user("word " * 80_001))
    assert status == 400
    assert err["error"]["code"] == "context_length_exceeded"


async def test_content_filter_on_openai_is_a_filtered_choice(api: Api) -> None:
    body = await api.chat(user("please [[content_filter]] this"))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "content_filter"
    assert choice["message"]["content"] == ""
    events = await api.stream(user("[[content_filter]]", stream_options={"include_usage": True}))
    finishes = [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]]
    assert finishes == ["content_filter"]
    assert "".join(c["delta"].get("content") or "" for e in events for c in e["choices"]) == ""


@pytest.mark.parametrize("stream", [False, True])
async def test_content_filter_on_azure_is_the_recorded_400(api: Api, stream: bool) -> None:
    status, headers, raw = await api.post(
        {"messages": user("[[content_filter]] bad")["messages"], "stream": stream}, "azure"
    )
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(raw) == AZURE_CONTENT_FILTER_400
    status, _, raw = await api.post(user("[[content_filter]]"), "azure_v1")
    assert status == 400
    assert json.loads(raw)["error"]["code"] == "content_filter"


async def test_max_tokens_cuts_the_answer(api: Api) -> None:
    body = await api.chat(user("one two three four five six", max_tokens=3))
    choice = body["choices"][0]
    assert choice["message"]["content"] == "Simulated answer to:"
    assert choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3
    events = await api.stream(user("one two three four five six", max_completion_tokens=2))
    text = "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])
    assert text == "Simulated answer"
    assert [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]] == ["length"]


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        (["https://example.com/cat.png"], "I see 1 image."),
        (["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="], "I see 2 images."),
    ],
)
async def test_images_are_counted(api: Api, urls: list[str], expected: str) -> None:
    parts: list[dict[str, Any]] = [{"type": "text", "text": "What is in these?"}]
    parts += [{"type": "image_url", "image_url": {"url": u, "detail": "low"}} for u in urls]
    body = await api.chat({"model": "gpt-4o", "messages": [{"role": "user", "content": parts}]})
    content = body["choices"][0]["message"]["content"]
    assert content == f"Simulated answer to: What is in these? {expected}"
    assert body["usage"]["prompt_tokens"] > 85 * len(urls)


async def test_n_choices(api: Api) -> None:
    body = await api.chat(user("hello", n=3))
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in body["choices"]}) == 1
    one = await api.chat(user("hello"))
    assert body["usage"]["completion_tokens"] == 3 * one["usage"]["completion_tokens"]
