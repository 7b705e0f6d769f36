"""Converse and ConverseStream: answers, event sequences shaped like the recordings, tools,
reasoning with signatures, structured output, prompt caching and Bedrock's validation errors."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from test_simulator_bedrock_support import (
    CLAUDE,
    NOVA,
    WEATHER_TOOL,
    WIRE,
    Bedrock,
    converse_body,
    events,
    model_path,
    recorded_frames,
    text_message,
)

from core.llms.simulator import Simulator

THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}


@pytest.fixture
def bedrock(sim: Simulator, session: aiohttp.ClientSession) -> Bedrock:
    return Bedrock(sim, session)


def _recorded_events(name: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for frame in recorded_frames(name):
        payload = json.loads(frame.payload)
        payload.pop("p", None)
        out.append((frame.headers[":event-type"], payload))
    return out


def _shape(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, tuple[str, ...]]]:
    """Event types with their delta / start kinds, runs of the same collapsed."""
    shape: list[tuple[str, tuple[str, ...]]] = []
    for kind, payload in items:
        inner = payload.get("delta") or payload.get("start") or {}
        keys = tuple(sorted(inner))
        if kind == "contentBlockDelta" and "reasoningContent" in inner:
            keys = ("reasoningContent", *sorted(inner["reasoningContent"]))
        entry = (kind, keys)
        if not shape or shape[-1] != entry:
            shape.append(entry)
    return shape


# ---------------------------------------------------------------------------- Converse


async def test_converse_answer_shaped_like_the_recording(bedrock: Bedrock) -> None:
    body = await bedrock.converse(converse_body("What is the capital of France?"))
    recorded = json.loads((WIRE / "converse-nonstream-nova.json").read_text())
    assert set(body) == set(recorded)
    assert body["output"]["message"] == {
        "role": "assistant",
        "content": [{"text": "Simulated answer to: What is the capital of France?"}],
    }
    assert body["stopReason"] == "end_turn"
    usage = body["usage"]
    assert set(usage) == {"inputTokens", "outputTokens", "totalTokens"}
    assert usage["outputTokens"] == 9
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert body["metrics"]["latencyMs"] >= 1


async def test_response_headers_and_recording(bedrock: Bedrock) -> None:
    reply = await bedrock.post(NOVA, "converse", converse_body())
    assert reply.status == 200
    assert reply.headers["x-amzn-RequestId"].count("-") == 4
    recorded = bedrock.sim.requests[-1]
    assert recorded.path == "/model/us.amazon.nova-micro-v1:0/converse"
    assert recorded.json == converse_body()
    assert recorded.redacted_headers()["authorization"] == "<redacted>"


@pytest.mark.parametrize(
    "model_id",
    [
        "amazon.nova-pro-v1:0",
        "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "apac.amazon.nova-lite-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
    ],
)
async def test_model_ids_profiles_and_arns(bedrock: Bedrock, model_id: str) -> None:
    body = await bedrock.converse(converse_body("hi"), model_id=model_id)
    assert body["output"]["message"]["content"] == [{"text": "Simulated answer to: hi"}]
    assert bedrock.sim.requests[-1].path == f"/model/{model_id}/converse"


async def test_an_unquoted_arn_slash_works_too(bedrock: Bedrock) -> None:
    model_id = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-micro-v1:0"
    reply = await bedrock.request("POST", f"/model/{model_id}/converse", converse_body())
    assert reply.status == 200, reply.raw


async def test_invalid_model_is_the_recorded_validation_error(bedrock: Bedrock) -> None:
    reply = await bedrock.post("us.does-not-exist-model-v1:0", "converse-stream", converse_body("hello"))
    assert reply.status == 400
    assert reply.json() == json.loads((WIRE / "converse-stream-400-invalid-model.json").read_text())
    assert reply.headers["x-amzn-ErrorType"] == (
        "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
    )
    assert reply.headers["Content-Type"].startswith("application/json")


async def test_retired_model_is_resource_not_found(bedrock: Bedrock) -> None:
    reply = await bedrock.post("anthropic.claude-v2:1", "converse", converse_body())
    assert reply.status == 404
    assert reply.error_type == "ResourceNotFoundException"
    assert "end of its life" in reply.json()["message"]


async def test_converse_refuses_an_embedding_model(bedrock: Bedrock) -> None:
    reply = await bedrock.post("amazon.titan-embed-text-v2:0", "converse", converse_body())
    assert reply.status == 400
    assert reply.json()["message"].startswith("This action doesn't support the model")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": []}, "A conversation must start with a user message"),
        ({"messages": [text_message("x", "assistant")]}, "A conversation must start with a user message"),
        ({"messages": [text_message("a"), text_message("b")]}, "must alternate between user and assistant"),
        (
            {"messages": [{"role": "user", "content": []}]},
            "The content field in the Message object at messages.0",
        ),
        ({"messages": [{"role": "user", "content": [{"text": " "}]}]}, "messages.0.content.0 is blank"),
        ({"messages": [{"role": "tool", "content": [{"text": "x"}]}]}, "at 'messages.0.member.role'"),
        (converse_body(inferenceConfig={"maxTokens": 0}), "'inferenceConfig.maxTokens'"),
        (converse_body(inferenceConfig={"temperature": 1.5}), "less than or equal to 1"),
        (converse_body(system=[{"text": ""}]), "SystemContentBlock object at system.0 is blank"),
        (
            converse_body(
                toolConfig={"tools": [{"toolSpec": {"name": "bad name", "inputSchema": {"json": {}}}}]}
            ),
            "regular expression pattern",
        ),
        (
            converse_body(toolConfig={"tools": [WEATHER_TOOL], "toolChoice": {"tool": {"name": "nope"}}}),
            "nope",
        ),
        (converse_body(additionalModelRequestFields=THINKING), "extraneous key [thinking] is not permitted"),
        (
            converse_body(
                outputConfig={
                    "textFormat": {
                        "type": "json_schema",
                        "structure": {"jsonSchema": {"schema": "{not json"}},
                    }
                }
            ),
            "not valid JSON",
        ),
    ],
)
async def test_validation_errors(bedrock: Bedrock, body: dict[str, Any], message: str) -> None:
    reply = await bedrock.post(NOVA, "converse", body)
    assert reply.status == 400, reply.raw
    assert reply.error_type == "ValidationException"
    assert message in reply.json()["message"]


async def test_not_json_is_a_validation_error(bedrock: Bedrock) -> None:
    reply = await bedrock.post(NOVA, "converse", None, raw=b"{nope")
    assert reply.status == 400
    assert reply.error_type == "ValidationException"


async def test_max_tokens_and_stop_sequences(bedrock: Bedrock) -> None:
    body = await bedrock.converse(converse_body("one two three four", inferenceConfig={"maxTokens": 3}))
    assert body["stopReason"] == "max_tokens"
    assert body["output"]["message"]["content"] == [{"text": "Simulated answer to:"}]
    assert body["usage"]["outputTokens"] == 3
    body = await bedrock.converse(
        converse_body("alpha STOP beta", inferenceConfig={"stopSequences": ["STOP"]})
    )
    assert body["stopReason"] == "stop_sequence"
    assert body["output"]["message"]["content"] == [{"text": "Simulated answer to: alpha "}]


async def test_content_filter_marker(bedrock: Bedrock) -> None:
    body = await bedrock.converse(converse_body("bad [[content_filter]]"))
    assert body["stopReason"] == "content_filtered"
    assert body["output"]["message"]["content"] == []


async def test_images_are_counted(bedrock: Bedrock) -> None:
    image = {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}
    body = await bedrock.converse({"messages": [{"role": "user", "content": [{"text": "look"}, image]}]})
    assert body["output"]["message"]["content"][0]["text"].endswith("I see 1 image.")
    reply = await bedrock.post(
        NOVA,
        "converse",
        {"messages": [{"role": "user", "content": [{"image": {"format": "bmp", "source": {}}}]}]},
    )
    assert reply.status == 400


# ---------------------------------------------------------------------------- tools


async def test_converse_with_tools_answers_a_tool_use_block(bedrock: Bedrock) -> None:
    body = await bedrock.converse(converse_body("weather in Paris?", toolConfig={"tools": [WEATHER_TOOL]}))
    assert body["stopReason"] == "tool_use"
    (block,) = body["output"]["message"]["content"]
    use = block["toolUse"]
    assert use["name"] == "get_weather"
    assert use["input"] == {"city": "sample city"}
    assert use["toolUseId"].startswith("tooluse_")


async def test_tool_choice_forces_a_tool(bedrock: Bedrock) -> None:
    other = {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object", "properties": {}}}}}
    config = {"tools": [WEATHER_TOOL, other], "toolChoice": {"tool": {"name": "get_time"}}}
    body = await bedrock.converse(converse_body("weather?", toolConfig=config))
    assert [b["toolUse"]["name"] for b in body["output"]["message"]["content"]] == ["get_time"]


async def test_tool_result_round_trip(bedrock: Bedrock) -> None:
    config = {"tools": [WEATHER_TOOL]}
    first = await bedrock.converse(converse_body("weather?", toolConfig=config))
    assistant = first["output"]["message"]
    use_id = assistant["content"][0]["toolUse"]["toolUseId"]
    result = {"toolResult": {"toolUseId": use_id, "content": [{"json": {"temp": 21}}], "status": "success"}}
    messages = [text_message("weather?"), assistant, {"role": "user", "content": [result]}]
    body = await bedrock.converse({"messages": messages, "toolConfig": config})
    assert body["stopReason"] == "end_turn"
    assert body["output"]["message"]["content"] == [{"text": 'Based on the tool result: {"temp":21}'}]
    # the result must answer the tool use, and tools need a toolConfig
    wrong = {"toolResult": {"toolUseId": "tooluse_other", "content": [{"text": "x"}]}}
    reply = await bedrock.post(
        NOVA,
        "converse",
        {"messages": [*messages[:2], {"role": "user", "content": [wrong]}], "toolConfig": config},
    )
    assert reply.status == 400
    assert (
        f"Expected toolResult blocks at messages.2.content for the following Ids: {use_id}"
        in reply.json()["message"]
    )
    reply = await bedrock.post(NOVA, "converse", {"messages": messages})
    assert reply.status == 400
    assert "toolConfig field must be defined" in reply.json()["message"]
    extra = {"role": "user", "content": [result, result]}
    reply = await bedrock.post(NOVA, "converse", {"messages": [*messages[:2], extra], "toolConfig": config})
    assert "exceeds the number of toolUse blocks" in reply.json()["message"]


async def test_structured_output(bedrock: Bedrock) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer", "minimum": 5}},
        "required": ["answer"],
    }
    output = {
        "textFormat": {
            "type": "json_schema",
            "structure": {"jsonSchema": {"schema": json.dumps(schema), "name": "r"}},
        }
    }
    body = await bedrock.converse(converse_body("give json", outputConfig=output))
    assert json.loads(body["output"]["message"]["content"][0]["text"]) == {"answer": 5}


# ---------------------------------------------------------------------------- ConverseStream


async def test_stream_text_shaped_like_the_recording(bedrock: Bedrock) -> None:
    reply = await bedrock.stream(converse_body("What is the capital of France?"))
    got = events(reply.raw)
    assert _shape(got) == _shape(_recorded_events("converse-stream-text-nova.bin"))
    assert got[0] == ("messageStart", {"role": "assistant"})
    text = "".join(p["delta"]["text"] for k, p in got if k == "contentBlockDelta")
    assert text == "Simulated answer to: What is the capital of France?"
    assert got[-2] == ("messageStop", {"stopReason": "end_turn"})
    kind, metadata = got[-1]
    assert kind == "metadata"
    assert set(metadata) == {"usage", "metrics"}
    assert metadata["usage"]["outputTokens"] == 9
    assert reply.headers["x-amzn-RequestId"]


async def test_every_frame_is_padded_like_bedrocks(bedrock: Bedrock) -> None:
    reply = await bedrock.stream(converse_body())
    from test_simulator_bedrock_support import decode_frames

    frames, _ = decode_frames(reply.raw)
    for frame in frames:
        payload = json.loads(frame.payload)
        assert payload["p"].isalnum()
        assert list(payload) == sorted(payload)


async def test_stream_tool_use_shaped_like_the_recording(bedrock: Bedrock) -> None:
    reply = await bedrock.stream(converse_body("weather in Paris?", toolConfig={"tools": [WEATHER_TOOL]}))
    got = events(reply.raw)
    starts = [p for k, p in got if k == "contentBlockStart"]
    assert len(starts) == 1
    start = starts[0]["start"]["toolUse"]
    assert start["name"] == "get_weather" and start["toolUseId"].startswith("tooluse_")
    fragments = [p["delta"]["toolUse"]["input"] for k, p in got if k == "contentBlockDelta"]
    assert json.loads("".join(fragments)) == {"city": "sample city"}
    assert len(fragments) > 1
    recorded = _shape(_recorded_events("converse-stream-tool-use.bin"))
    tool_part = recorded[recorded.index(("contentBlockStart", ("toolUse",))) :]
    assert _shape(got)[1:] == tool_part
    assert ("messageStop", {"stopReason": "tool_use"}) in got


async def test_claude_reasoning_stream_with_signature(bedrock: Bedrock) -> None:
    reply = await bedrock.stream(
        converse_body("Hello", additionalModelRequestFields=THINKING), model_id=CLAUDE
    )
    got = events(reply.raw)
    assert _shape(got) == _shape(_recorded_events("converse-stream-claude-reasoning.bin"))
    reasoning = "".join(
        p["delta"]["reasoningContent"].get("text", "")
        for k, p in got
        if k == "contentBlockDelta" and "reasoningContent" in p["delta"]
    )
    assert reasoning == "Simulated reasoning about: Hello"
    signature = next(
        p["delta"]["reasoningContent"]["signature"]
        for k, p in got
        if k == "contentBlockDelta" and "signature" in p["delta"].get("reasoningContent", {})
    )
    assert len(signature) > 40
    texts = [p for k, p in got if k == "contentBlockDelta" and "text" in p["delta"]]
    assert {p["contentBlockIndex"] for p in texts} == {1}


async def test_reasoning_round_trip_checks_the_signature(bedrock: Bedrock) -> None:
    first = await bedrock.converse(
        converse_body("Hello", additionalModelRequestFields=THINKING), model_id=CLAUDE
    )
    assistant = first["output"]["message"]
    reasoning = assistant["content"][0]["reasoningContent"]["reasoningText"]
    assert reasoning["text"] == "Simulated reasoning about: Hello"
    messages = [text_message("Hello"), assistant, text_message("again")]
    body = await bedrock.converse(
        {"messages": messages, "additionalModelRequestFields": THINKING}, model_id=CLAUDE
    )
    assert body["stopReason"] == "end_turn"
    forged = json.loads(json.dumps(assistant))
    forged["content"][0]["reasoningContent"]["reasoningText"]["text"] = "something else"
    reply = await bedrock.post(
        CLAUDE,
        "converse",
        {"messages": [messages[0], forged, messages[2]], "additionalModelRequestFields": THINKING},
    )
    assert reply.status == 400
    assert reply.json()["message"] == "messages.1.content.0: Invalid `signature` in `thinking` block"


async def test_thinking_rules(bedrock: Bedrock) -> None:
    cases = [
        ({"thinking": {"type": "enabled", "budget_tokens": 100}}, {}, "greater than or equal to 1024"),
        (THINKING, {"maxTokens": 1000}, "`max_tokens` must be greater than `thinking.budget_tokens`"),
        (THINKING, {"temperature": 0.5}, "`temperature` may only be set to 1"),
    ]
    for fields, inference, message in cases:
        reply = await bedrock.post(
            CLAUDE, "converse", converse_body(additionalModelRequestFields=fields, inferenceConfig=inference)
        )
        assert reply.status == 400 and message in reply.json()["message"], reply.raw
    config = {"tools": [WEATHER_TOOL], "toolChoice": {"any": {}}}
    reply = await bedrock.post(
        CLAUDE, "converse", converse_body(additionalModelRequestFields=THINKING, toolConfig=config)
    )
    assert "Thinking may not be enabled when tool_choice forces tool use" in reply.json()["message"]


async def test_thinking_tool_loop_needs_the_thinking_block_back(bedrock: Bedrock) -> None:
    config = {"tools": [WEATHER_TOOL]}
    fields = {"additionalModelRequestFields": THINKING, "toolConfig": config}
    first = await bedrock.converse(converse_body("weather?", **fields), model_id=CLAUDE)
    assistant = first["output"]["message"]
    kinds = [next(iter(b)) for b in assistant["content"]]
    assert kinds == ["reasoningContent", "toolUse"]
    use_id = assistant["content"][1]["toolUse"]["toolUseId"]
    result = {
        "role": "user",
        "content": [{"toolResult": {"toolUseId": use_id, "content": [{"text": "sunny"}]}}],
    }
    ok = await bedrock.converse(
        {"messages": [text_message("weather?"), assistant, result], **fields}, model_id=CLAUDE
    )
    assert ok["output"]["message"]["content"][-1] == {"text": "Based on the tool result: sunny"}
    stripped = {"role": "assistant", "content": assistant["content"][1:]}
    reply = await bedrock.post(
        CLAUDE, "converse", {"messages": [text_message("weather?"), stripped, result], **fields}
    )
    assert reply.status == 400
    assert "Expected `thinking` or `redacted_thinking`, but found `tool_use`" in reply.json()["message"]


async def test_prompt_caching_writes_then_reads(bedrock: Bedrock) -> None:
    system = [
        {"text": "You are a very helpful assistant with a long system prompt"},
        {"cachePoint": {"type": "default"}},
    ]
    first = await bedrock.converse(converse_body("hi", system=system), model_id=CLAUDE)
    second = await bedrock.converse(converse_body("hello", system=system), model_id=CLAUDE)
    assert first["usage"]["cacheWriteInputTokens"] == 11 and first["usage"]["cacheReadInputTokens"] == 0
    assert second["usage"]["cacheReadInputTokens"] == 11 and second["usage"]["cacheWriteInputTokens"] == 0
    usage = second["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] + 11
    plain = await bedrock.converse(converse_body("hi"), model_id=CLAUDE)
    assert "cacheReadInputTokens" not in plain["usage"]


async def test_stream_route_path_and_quoting(bedrock: Bedrock) -> None:
    reply = await bedrock.request("POST", model_path(NOVA, "converse-stream"), converse_body())
    assert reply.status == 200
    assert bedrock.sim.requests[-1].path.endswith("/converse-stream")
